"""Pydantic's plugin loader (``pydantic.plugin._loader``), private: floe's one use of it.

Pydantic looks for its plugins by scanning every installed distribution's metadata, and its
loader module imports ``importlib.metadata`` (and through it ``email``, ``csv``, ``zipfile``)
when the first model is built, even when ``PYDANTIC_DISABLE_PLUGINS`` turns the scan off — a
tenth of a short command's start-up. floe uses no pydantic plugin: its console script turns
them off and, while they are off, puts this stand-in in the loader's place before pydantic is
imported. Setting the variable to an empty value restores pydantic's own loader (and plugins).

``tests/unit/test_adapters.py`` fails when an upgrade of pydantic changes what is replaced.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Iterable

#: pydantic's switch: a value of ``OFF`` (or a comma list of plugin names) disables plugins
PLUGINS_ENV = "PYDANTIC_DISABLE_PLUGINS"
#: the values for which pydantic's ``get_plugins()`` returns no plugin without a scan
OFF = ("__all__", "1", "true")
LOADER = "pydantic.plugin._loader"


def _no_plugins() -> Iterable[object]:
    """What pydantic's ``get_plugins()`` returns while plugins are off."""
    return ()


def disable_plugins() -> bool:
    """Turn pydantic's plugins off unless the environment says otherwise, and stand in for
    the loader while they are off (True when the stand-in is in place)."""
    os.environ.setdefault(PLUGINS_ENV, "__all__")
    if os.environ[PLUGINS_ENV] not in OFF or LOADER in sys.modules:
        return False
    loader = types.ModuleType(LOADER, "floe's stand-in: pydantic plugins are disabled")
    loader.__dict__.update(get_plugins=_no_plugins, PYDANTIC_ENTRY_POINT_GROUP="pydantic")
    sys.modules[LOADER] = loader
    return True
