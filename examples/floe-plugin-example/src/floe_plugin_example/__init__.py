"""An example third-party floe plugin (an alert channel), installed with pip or uv."""
