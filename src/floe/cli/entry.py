"""The ``floe`` console script: the command line's first word decides, before typer and the
rest of floe are imported, whether the process runs without the cyclic garbage collector."""

from __future__ import annotations

import atexit
import gc
import sys

from floe.cli.adapters.pydantic_plugins import disable_plugins
from floe.cli.argv import without_debug

#: Commands that allocate little and end at once: the cyclic garbage collector only costs them
#: (its passes over everything the imports create, and one more over every object at exit).
SHORT_COMMANDS = frozenset({"compile"})


def main() -> None:
    """Entry point of the ``floe`` script: :func:`floe.cli.main.main` with pydantic's plugins
    off (and their loader not imported), a short command without collection passes (memory
    is still freed by reference counting) and with its objects frozen at exit."""
    disable_plugins()
    args, _ = without_debug(sys.argv[1:])
    if args[:1] and args[0] in SHORT_COMMANDS:
        gc.disable()
        atexit.register(gc.freeze)
    from floe.cli.main import main as run

    run()
