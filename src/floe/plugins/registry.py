"""The plugin registry: entry points ``floe.<category>`` discovered lazily, loaded on use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from pydantic import ValidationError

from floe.errors import Diagnostic, Location, PluginError
from floe.plugins.abcs import ABC_BY_TYPE, abc_api_version
from floe.plugins.base import Plugin, PluginType
from floe.plugins.entrypoints import EntryPoint, entry_points

E_UNKNOWN = "E206"
E_BROKEN = "E207"
E_API = "E208"
E_CONFIG = "E209"


class PluginInfo(NamedTuple):
    """What ``floe plugins list`` shows of one registered plugin."""

    category: str
    name: str
    entry_point: str
    version: str
    floe_api_version: str
    description: str
    abc_api_version: str = ""


class PluginRegistry:
    """Maps (category, type name) to plugin classes; nothing is imported until asked for."""

    def __init__(self, extra: dict[PluginType, dict[str, type[Plugin]]] | None = None) -> None:
        self._points: dict[PluginType, dict[str, EntryPoint]] | None = None
        self._classes: dict[tuple[PluginType, str], type[Plugin]] = {}
        for ptype, classes in (extra or {}).items():
            for name, cls in classes.items():
                self._classes[(ptype, name)] = cls

    def _entry_points(self) -> dict[PluginType, dict[str, EntryPoint]]:
        if self._points is None:
            found: dict[PluginType, dict[str, EntryPoint]] = {t: {} for t in PluginType}
            groups = {t.entry_point_group: t for t in PluginType}
            for ep in entry_points("floe."):
                ptype = groups.get(ep.group)
                if ptype is not None:
                    found[ptype].setdefault(ep.name, ep)
            self._points = found
        return self._points

    def names(self, ptype: PluginType) -> list[str]:
        """Registered type names of a category, sorted."""
        extra = {n for (t, n) in self._classes if t is ptype}
        return sorted(set(self._entry_points()[ptype]) | extra)

    def has(self, ptype: PluginType, name: str) -> bool:
        """Whether a plugin of that category and type name is installed."""
        return (ptype, name) in self._classes or name in self._entry_points()[ptype]

    def unknown(self, ptype: PluginType, name: str, location: Location | None) -> Diagnostic:
        """The diagnostic for a type name nothing provides."""
        installed = ", ".join(self.names(ptype)) or "none"
        return Diagnostic(
            E_UNKNOWN,
            f"unknown {ptype.value} plugin type '{name}' (installed: {installed})",
            location,
            field_path=f"plugins.{ptype.value}.type",
            hint=f"install a package that registers entry point group '{ptype.entry_point_group}'"
            f" name '{name}', or use one of: {installed}",
        )

    def load(self, ptype: PluginType, name: str, location: Location | None = None) -> type[Plugin]:
        """Import a plugin class and check it against its category's ABC and API version."""
        key = (ptype, name)
        if key not in self._classes:
            point = self._entry_points()[ptype].get(name)
            if point is None:
                raise PluginError([self.unknown(ptype, name, location)])
            try:
                loaded: Any = point.load()
            except Exception as exc:  # a broken third-party plugin must not crash floe
                raise PluginError.single(
                    E_BROKEN,
                    f"{ptype.value} plugin '{name}' failed to import: {type(exc).__name__}: {exc}",
                    location,
                    hint=f"reinstall the package providing '{point.value}'",
                ) from None
            self._classes[key] = self._check(ptype, name, loaded, location)
        return self._classes[key]

    @staticmethod
    def _check(ptype: PluginType, name: str, cls: Any, location: Location | None) -> type[Plugin]:
        abc = ABC_BY_TYPE[ptype]
        if not (isinstance(cls, type) and issubclass(cls, abc)):
            raise PluginError.single(
                E_BROKEN,
                f"{ptype.value} plugin '{name}' is not a subclass of {abc.__name__}",
                location,
            )
        missing = sorted(getattr(cls, "__abstractmethods__", ()))
        if missing:
            raise PluginError.single(
                E_BROKEN,
                f"{ptype.value} plugin '{name}' does not implement: {', '.join(missing)}",
                location,
            )
        problem = api_mismatch(ptype, name, cls)
        if problem is not None:
            raise PluginError.single(
                E_API,
                problem,
                location,
                hint=f"install a release of the plugin built for the {ptype.value} plugin API "
                f"{abc_api_version(ptype).split('.')[0]}.x",
            )
        return cls

    def create(
        self,
        ptype: PluginType,
        name: str,
        config: dict[str, Any],
        location: Location | None = None,
        locate: Callable[[tuple[str | int, ...]], Location] | None = None,
    ) -> Plugin:
        """Load a plugin and build it from a config validated against its config model."""
        cls = self.load(ptype, name, location)
        try:
            return cls.from_config(config)
        except ValidationError as exc:
            problems = [
                _config_problem(ptype, name, cls, e, location, locate)
                for e in exc.errors(include_url=False)
            ]
            raise PluginError(problems) from None

    def describe(self) -> list[PluginInfo]:
        """Every registered plugin with its metadata (imports each one)."""
        rows: list[PluginInfo] = []
        for ptype in PluginType:
            for name in self.names(ptype):
                point = self._entry_points()[ptype].get(name)
                target = point.value if point else "(registered in code)"
                try:
                    cls = self.load(ptype, name)
                    rows.append(
                        PluginInfo(
                            ptype.value,
                            name,
                            target,
                            cls.version,
                            cls.floe_api_version,
                            cls.description,
                            abc_api_version(ptype),
                        )
                    )
                except PluginError as exc:
                    rows.append(
                        PluginInfo(
                            ptype.value, name, target, "?", "?", str(exc), abc_api_version(ptype)
                        )
                    )
        return rows


def api_mismatch(ptype: PluginType, name: str, cls: type[Plugin]) -> str | None:
    """Why a plugin built for another major of its category's API cannot be used (None when
    the majors agree): names the plugin, the version it was built for and floe's."""
    ours = abc_api_version(ptype)
    theirs = str(cls.floe_api_version)
    if theirs.split(".")[0] == ours.split(".")[0]:
        return None
    abc = ABC_BY_TYPE[ptype].__name__
    return (
        f"{ptype.value} plugin '{name}' ({cls.__module__}.{cls.__qualname__}) was built for "
        f"the {ptype.value} plugin API {theirs} ({abc}), this floe provides {ours}"
    )


def _config_problem(
    ptype: PluginType,
    name: str,
    cls: type[Plugin],
    err: Any,
    location: Location | None,
    locate: Callable[[tuple[str | int, ...]], Location] | None,
) -> Diagnostic:
    """One pydantic error of a plugin config as a located diagnostic; an unknown field lists
    the fields there are and suggests the closest one; a plaintext credential says so in
    floe's words."""
    from floe.spec.base import unknown_field

    loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
    message = str(err["msg"]).removeprefix("Value error, ")
    hint = f"see 'floe plugins list' for the config of '{name}'"
    field = ".".join(str(p) for p in loc)
    if err["type"] == "model_type" and err.get("ctx", {}).get("class_name") == "SecretRef":
        message = f"'{field}' must be a secret reference, not a plaintext value"
        hint = (
            f"write '{field}: {{secret: NAME}}' and provide NAME at run time (an environment "
            "variable with the 'env' secrets plugin)"
        )
    elif err["type"] == "extra_forbidden":
        message, close = unknown_field(cls.config_model, loc)
        hint = f"did you mean '{close}'?" if close else hint
    return Diagnostic(
        E_CONFIG,
        message,
        locate(loc) if locate else location,
        field_path=".".join(["plugins", ptype.value, "config", *(str(p) for p in loc)]),
        hint=hint,
    )


_DEFAULT: PluginRegistry | None = None


def default_registry() -> PluginRegistry:
    """The process-wide registry over installed entry points."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = PluginRegistry()
    return _DEFAULT
