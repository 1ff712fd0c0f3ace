"""The plugin compliance kit: what any floe plugin must satisfy, usable from pytest.

A plugin package runs it against its plugin by subclassing :class:`PluginCompliance` in its
tests (pytest collects the subclass; the kit itself needs no pytest)::

    from floe.plugins.testing import PluginCompliance

    class TestMyAlertChannel(PluginCompliance):
        plugin_class = MyAlertChannel
        config = {"path": "/tmp/alerts.jsonl"}   # a valid sample config

Every check is also a plain function returning its findings (an empty list is compliant);
:func:`compliance_findings` runs them all. The checks:

* ``abc`` — the class derives from its category's ABC, implements every abstract method
  and accepts the parameters floe passes (the ABC's signature);
* ``metadata`` — a type name users can write in the manifest, a version, a description;
* ``api`` — the ABC API version it was built for shares this floe's major;
* ``entry_point`` — the installed entry point ``floe.<category>`` of that name loads this
  class (skipped with ``installed = False`` for a class not installed yet);
* ``config_schema`` — the config model exports a JSON Schema of an object that refuses
  unknown keys (a typo in the manifest is a compile error, not silently ignored);
* ``round_trip`` — the sample config written into a manifest, read back and validated the
  way compile does gives the same config, and so does its dump;
* ``health`` — the health check answers a :class:`HealthStatus` within a deadline (an
  unhealthy answer is an answer; an exception or a hang is not).
"""

from __future__ import annotations

import inspect
import json
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from floe.plugins.abcs import ABC_BY_TYPE
from floe.plugins.base import HealthState, HealthStatus, Plugin, PluginType
from floe.plugins.registry import PluginRegistry, api_mismatch, default_registry

TYPE_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
VERSION = re.compile(r"^\d+(\.\d+){1,2}([.+-]?[0-9A-Za-z.]+)?$")
HEALTH_DEADLINE_S = 10.0


@dataclass(frozen=True)
class Finding:
    """One way a plugin falls short: which check, and what is wrong."""

    check: str
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.message}"


def _category(cls: type[Plugin]) -> PluginType | None:
    ptype = getattr(cls, "plugin_type", None)
    return ptype if isinstance(ptype, PluginType) else None


def check_abc(cls: type[Plugin]) -> list[Finding]:
    """Derives from its category's ABC, implements every abstract method with a signature
    that accepts what floe passes."""
    ptype = _category(cls)
    if ptype is None:
        return [Finding("abc", f"{cls.__name__} has no plugin_type: derive from a floe ABC")]
    abc = ABC_BY_TYPE[ptype]
    if not issubclass(cls, abc):
        return [Finding("abc", f"{cls.__name__} is not a subclass of {abc.__name__}")]
    found: list[Finding] = []
    missing = sorted(getattr(cls, "__abstractmethods__", ()))
    if missing:
        found.append(Finding("abc", f"does not implement: {', '.join(missing)}"))
    for method in sorted(getattr(abc, "__abstractmethods__", ())):
        if method in missing:
            continue
        problem = _signature_problem(getattr(abc, method), getattr(cls, method))
        if problem:
            found.append(Finding("abc", f"{method}{problem}"))
    return found


def _signature_problem(contract: Callable[..., Any], impl: Callable[..., Any]) -> str:
    """Why ``impl`` cannot be called the way floe calls ``contract`` ('' when it can)."""
    want = inspect.signature(contract)
    have = inspect.signature(impl)
    params = list(have.parameters.values())
    var_pos = any(p.kind is p.VAR_POSITIONAL for p in params)
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    by_name = {p.name: p for p in params}
    used: set[str] = set()
    for i, param in enumerate(want.parameters.values()):
        if param.kind is param.POSITIONAL_OR_KEYWORD or param.kind is param.POSITIONAL_ONLY:
            if i < len(positional):
                used.add(positional[i].name)
                continue
            if not var_pos:
                return f"{have}: takes no positional '{param.name}' ({want} expected)"
        elif param.kind is param.KEYWORD_ONLY:
            mine = by_name.get(param.name)
            if mine is not None and mine.kind is not mine.POSITIONAL_ONLY:
                used.add(param.name)
            elif not var_kw:
                return f"{have}: takes no keyword '{param.name}' ({want} expected)"
    for param in params:
        required = param.default is param.empty and param.kind not in (
            param.VAR_POSITIONAL,
            param.VAR_KEYWORD,
        )
        if required and param.name not in used:
            return f"{have}: requires '{param.name}', which floe does not pass ({want} expected)"
    return ""


def check_metadata(cls: type[Plugin]) -> list[Finding]:
    """A type name users can write in the manifest, a version and a description."""
    found: list[Finding] = []
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not TYPE_NAME.match(name):
        found.append(Finding("metadata", f"name {name!r} is not a type name like 'my-plugin'"))
    if not VERSION.match(str(cls.version)):
        found.append(Finding("metadata", f"version {cls.version!r} is not a version like 1.2.0"))
    if not str(cls.description).strip():
        found.append(Finding("metadata", "description is empty ('floe plugins list' shows it)"))
    return found


def check_api(cls: type[Plugin]) -> list[Finding]:
    """Built for the same major of its category's API as this floe provides."""
    ptype = _category(cls)
    if ptype is None:
        return []
    problem = api_mismatch(ptype, str(getattr(cls, "name", cls.__name__)), cls)
    return [Finding("api", problem)] if problem else []


def check_entry_point(cls: type[Plugin], registry: PluginRegistry | None = None) -> list[Finding]:
    """The installed entry point ``floe.<category>`` named like the plugin loads this class."""
    ptype = _category(cls)
    if ptype is None:
        return []
    reg = registry or default_registry()
    if not reg.has(ptype, cls.name):
        return [
            Finding(
                "entry_point",
                f"no entry point '{cls.name}' in group '{ptype.entry_point_group}' is installed",
            )
        ]
    try:
        loaded = reg.load(ptype, cls.name)
    except Exception as exc:  # the registry's own diagnostic is the finding
        return [Finding("entry_point", str(exc))]
    if loaded is not cls:
        where = f"{loaded.__module__}.{loaded.__qualname__}"
        return [Finding("entry_point", f"'{ptype.entry_point_group}' '{cls.name}' is {where}")]
    return []


def check_config_schema(cls: type[Plugin]) -> list[Finding]:
    """The config model's JSON Schema: an object that refuses unknown keys."""
    try:
        schema = cls.config_schema()
        json.dumps(schema)
    except Exception as exc:  # any failure to export is the finding
        return [Finding("config_schema", f"no JSON Schema: {type(exc).__name__}: {exc}")]
    found: list[Finding] = []
    if schema.get("type") != "object":
        found.append(Finding("config_schema", f"schema type is {schema.get('type')!r}, not object"))
    if schema.get("additionalProperties") is not False:
        found.append(
            Finding(
                "config_schema",
                f"{cls.config_model.__name__} accepts unknown keys: set "
                "model_config = ConfigDict(extra='forbid')",
            )
        )
    return found


MANIFEST = """\
apiVersion: floe.dev/v1
kind: Manifest
metadata:
  name: compliance
  version: 1.0.0
  owner: plugin-author@example.com
"""


def check_round_trip(cls: type[Plugin], config: dict[str, Any]) -> list[Finding]:
    """``config`` in a manifest's ``plugins.<category>``, read and validated as compile does,
    builds a plugin with the same config; the dump of that config does too."""
    ptype = _category(cls)
    if ptype is None:
        return []
    try:
        first = cls.from_config(config).config
    except Exception as exc:  # an invalid sample is the plugin author's finding
        return [Finding("round_trip", f"the sample config is refused: {exc}")]
    dumped = first.model_dump(mode="json", exclude_unset=True)
    for label, raw in (("config", config), ("its dump", dumped)):
        try:
            again = cls.from_config(_through_manifest(ptype, cls.name, raw)).config
        except Exception as exc:  # the round trip itself failed
            return [Finding("round_trip", f"{label} through manifest.yaml: {exc}")]
        if again != first:
            gives = f"{label} through manifest.yaml gives {again!r}, not {first!r}"
            return [Finding("round_trip", gives)]
    return []


def _through_manifest(ptype: PluginType, name: str, config: dict[str, Any]) -> dict[str, Any]:
    """Write ``plugins.<category>: {type, config}`` into a manifest file and read it back."""
    import yaml

    from floe.spec.base import validate_document
    from floe.spec.manifest import Manifest
    from floe.spec.yamlload import load_yaml

    block = {"plugins": {ptype.value: {"type": name, "config": config}}}
    with tempfile.TemporaryDirectory(prefix="floe-compliance-") as tmp:
        path = Path(tmp) / "manifest.yaml"
        path.write_text(MANIFEST + yaml.safe_dump(block, sort_keys=False), encoding="utf-8")
        manifest = validate_document(Manifest, load_yaml(path, what="manifest.yaml"), "Manifest")
    ref = getattr(manifest.plugins, ptype.value)
    return dict(ref.config)


def check_health(
    cls: type[Plugin], config: dict[str, Any], deadline_s: float = HEALTH_DEADLINE_S
) -> list[Finding]:
    """The health check answers a HealthStatus within ``deadline_s`` without raising."""
    try:
        plugin = cls.from_config(config)
    except Exception as exc:  # reported by round_trip too; health cannot run without it
        return [Finding("health", f"cannot build the plugin from the sample config: {exc}")]
    answer: list[Any] = []

    def ask() -> None:
        try:
            answer.append(plugin.health_check())
        except Exception as exc:  # the finding below
            answer.append(exc)

    worker = threading.Thread(target=ask, daemon=True, name=f"health-{cls.name}")
    worker.start()
    worker.join(deadline_s)
    if not answer:
        return [Finding("health", f"health_check() did not answer within {deadline_s:g} s")]
    status = answer[0]
    if isinstance(status, Exception):
        return [Finding("health", f"health_check() raised {type(status).__name__}: {status}")]
    if not isinstance(status, HealthStatus) or not isinstance(status.state, HealthState):
        return [Finding("health", f"health_check() returned {status!r}, not a HealthStatus")]
    if not isinstance(status.message, str):
        return [Finding("health", f"health_check() message {status.message!r} is not text")]
    return []


def compliance_findings(
    cls: type[Plugin],
    config: dict[str, Any] | None = None,
    *,
    installed: bool = True,
    registry: PluginRegistry | None = None,
) -> list[Finding]:
    """Every check of the kit against ``cls`` built from ``config`` (empty: compliant)."""
    sample = dict(config or {})
    found = [*check_abc(cls), *check_metadata(cls), *check_api(cls)]
    if installed:
        found += check_entry_point(cls, registry)
    found += check_config_schema(cls)
    found += check_round_trip(cls, sample)
    found += check_health(cls, sample)
    return found


def _fail(found: list[Finding]) -> None:
    if found:
        raise AssertionError("\n".join(str(f) for f in found))


class PluginCompliance:
    """The kit as a pytest suite: subclass it as ``Test…`` with ``plugin_class`` and a valid
    sample ``config``; set ``installed = False`` while the package is not installed."""

    plugin_class: ClassVar[type[Plugin]]
    config: ClassVar[dict[str, Any]] = {}
    installed: ClassVar[bool] = True

    def test_implements_its_abc(self) -> None:
        """Derives from its category's ABC and implements it with floe's signatures."""
        _fail(check_abc(self.plugin_class))

    def test_declares_its_metadata(self) -> None:
        """Type name, version and description."""
        _fail(check_metadata(self.plugin_class))

    def test_is_built_for_this_api(self) -> None:
        """Its floe_api_version shares the major of its category's ABC."""
        _fail(check_api(self.plugin_class))

    def test_is_registered_as_an_entry_point(self) -> None:
        """floe discovers it where it is installed."""
        if self.installed:
            _fail(check_entry_point(self.plugin_class))

    def test_exports_its_config_schema(self) -> None:
        """A JSON Schema of an object refusing unknown keys."""
        _fail(check_config_schema(self.plugin_class))

    def test_config_round_trips_through_the_manifest(self) -> None:
        """The sample config through manifest.yaml gives the same config."""
        _fail(check_round_trip(self.plugin_class, dict(self.config)))

    def test_health_check_answers(self) -> None:
        """health_check() returns a HealthStatus in time."""
        _fail(check_health(self.plugin_class, dict(self.config)))
