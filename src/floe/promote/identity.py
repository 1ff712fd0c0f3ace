"""Who is acting: the identity the platform knows (``FLOE_USER``, else the login name)."""

from __future__ import annotations

import getpass
import os

USER_ENV = "FLOE_USER"


def current_user() -> str:
    """``$FLOE_USER`` when set (a CI job, a service account), else the OS login name."""
    named = os.environ.get(USER_ENV, "").strip()
    if named:
        return named
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
