"""The ``floe`` command: thin typer commands over the domain packages."""
