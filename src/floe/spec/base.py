"""Shared pieces of the file-format models and the mapping of validation errors to diagnostics."""

from __future__ import annotations

import difflib
from typing import Any, Literal, TypeVar, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError

from floe.errors import Diagnostic, InputError
from floe.spec.yamlload import PathKey, YamlDocument, dotted

E_SCHEMA = "E110"
E_API_VERSION = "E105"
E_KIND = "E106"

API_VERSION = "floe.dev/v1"

M = TypeVar("M", bound=BaseModel)


def new_list() -> list[Any]:
    """``default_factory`` of a list field. Pydantic reads every factory's signature when it
    builds a model; a builtin's (``list``) is parsed from text, a function's is not."""
    return []


def new_dict() -> dict[Any, Any]:
    """``default_factory`` of a dict field (see :func:`new_list`)."""
    return {}


class FloeModel(BaseModel):
    """Base of every file-format model: unknown keys are errors, values are immutable.

    Validators are built on first use (``defer_build``). A section left out of a file gets
    ``Section.model_construct`` as its default factory: the declared defaults, which pydantic
    never validates anyway, without building the section's own validator a second time (its
    schema is already part of the enclosing model's)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False, defer_build=True)


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that validates the mapping at ``loc`` (for did-you-mean); a
    tagged union's member is the one whose ``type`` literal is the tag pydantic put in ``loc``."""
    models: list[type[BaseModel]] = [root]
    for part in loc:
        if isinstance(part, int):
            continue
        tagged = [m for m in models if _tag(m) == part]
        if tagged:
            models = tagged
            continue
        found: list[type[BaseModel]] = []
        for model in models:
            fields = {f.alias or n: f for n, f in model.model_fields.items()}
            field = fields.get(str(part))
            if field is not None:
                found += _inner_models(field.annotation)
        if not found:
            return None
        models = found
    return models[0] if models else None


def _tag(model: type[BaseModel]) -> Any:
    """The value of a member of a tagged union: its ``type: Literal[<one value>]``."""
    field = model.model_fields.get("type")
    if field is None or get_origin(field.annotation) is not Literal:
        return None
    args: tuple[Any, ...] = getattr(field.annotation, "__args__", ())
    return args[0] if len(args) == 1 else None


def _inner_models(annotation: Any) -> list[type[BaseModel]]:
    """Every model class in ``annotation`` (a model, a list or union of models …)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) or () for m in _inner_models(arg)]


def unknown_field(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[str, str | None]:
    """The message for an unknown key at ``loc`` of ``model`` (the fields allowed there) and
    the closest allowed name, if any (for did-you-mean)."""
    parent = _model_at(model, loc[:-1])
    allowed = _field_names(parent) if parent else []
    if not allowed:
        return "unknown field", None
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
    return f"unknown field (expected one of: {', '.join(sorted(allowed))})", (
        close[0] if close else None
    )


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def diagnostics_from(
    exc: ValidationError, doc: YamlDocument, model: type[BaseModel]
) -> list[Diagnostic]:
    """Turn every pydantic error into a located, readable diagnostic."""
    out: list[Diagnostic] = []
    for err in exc.errors(include_url=False):
        raw: PathKey = tuple(p for p in err["loc"] if isinstance(p, str | int))
        # pydantic adds union/tag members to loc; keep only real document keys
        loc = _document_path(doc, raw)
        kind = err["type"]
        field_path = dotted(loc)
        hint = ""
        if kind == "missing":
            location = doc.location(loc[:-1])
            message = "required field is missing"
        elif kind == "extra_forbidden":
            location = doc.location(loc, key=True)
            tagged = _model_at(model, raw[:-1]) is not None  # a tag picks the union member
            message, close = unknown_field(model, raw if tagged else loc)
            hint = f"did you mean '{close}'?" if close else ""
        else:
            location = doc.location(loc)
            message = f"{_clean(err['msg'])} (got {_describe(err.get('input'))})"
            if kind == "string_type" and isinstance(err.get("input"), int | float):
                hint = 'quote the value so YAML reads it as text, e.g. "1.0"'
        out.append(Diagnostic(E_SCHEMA, message, location, field_path, hint))
    return sorted(out, key=lambda d: (d.location.line, d.location.col) if d.location else (0, 0))


def _clean(msg: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg


def _document_path(doc: YamlDocument, loc: PathKey) -> PathKey:
    """Drop pydantic-internal loc parts (union member names) that are not document keys."""
    path: list[str | int] = []
    node: Any = doc.data
    for part in loc:
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_dict or in_list:
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and node.get("type") == part:
            continue  # the tag of a tagged union (``type: sql_database``): not a key
        elif isinstance(node, dict) and isinstance(part, str):
            path.append(part)  # a missing or extra key: keep it, stop descending
            node = None
        # anything else is pydantic bookkeeping (e.g. 'function-after[...]')
    return tuple(path)


def check_header(doc: YamlDocument, kind: str) -> list[Diagnostic]:
    """apiVersion and kind come first: a wrong one makes every other error noise."""
    problems: list[Diagnostic] = []
    api = doc.data.get("apiVersion")
    if api != API_VERSION:
        problems.append(
            Diagnostic(
                E_API_VERSION,
                f"unsupported apiVersion (expected '{API_VERSION}', got {_describe(api)})",
                doc.location(("apiVersion",)),
                "apiVersion",
                f"set 'apiVersion: {API_VERSION}'",
            )
        )
    got = doc.data.get("kind")
    if got != kind:
        other = {"FloeSpec": "floe.yaml", "Manifest": "manifest.yaml"}.get(str(got))
        hint = f"this looks like a {other}; " if other else ""
        problems.append(
            Diagnostic(
                E_KIND,
                f"wrong kind (expected '{kind}', got {_describe(got)})",
                doc.location(("kind",)),
                "kind",
                hint + f"set 'kind: {kind}'",
            )
        )
    return problems


def validate_document(model: type[M], doc: YamlDocument, kind: str) -> M:
    """Validate ``doc`` as ``model``; every problem of the file is reported at once."""
    header = check_header(doc, kind)
    if header:
        raise InputError(header)
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise InputError(diagnostics_from(exc, doc, model)) from None
