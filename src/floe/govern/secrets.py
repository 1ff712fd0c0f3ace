"""Find plaintext secrets in configuration and replace them by references.

A value is a plaintext secret when it sits in a secret-like field (``password``,
``client_secret``, ``token``…) and is not a ``{secret: NAME}`` reference, or when it looks like
a known credential format anywhere (AWS keys, GitHub/Slack tokens, private keys, JWTs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from floe.spec.common import is_secret_ref
from floe.spec.yamlload import PathKey

_SECRET_FIELD = re.compile(
    r"(^|_)(password|passwd|pwd|secret|token|api_?key|access_?key|secret_?key|private_?key|"
    r"credentials?|client_secret|auth)($|_)",
    re.IGNORECASE,
)
_NOT_SECRET_FIELD = re.compile(
    r"(token_url|_url|_uri|_endpoint|_path|_file|_name|_id|_type|_method|_mode|_kind|_scope|"
    r"_ttl|_expiry|_seconds|_enabled|_header)$",
    re.I,
)
_TOKEN_FORMATS = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "JSON web token": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "GitLab token": re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"),
    "Stripe secret key": re.compile(r"\b[rs]k_live_[0-9A-Za-z]{20,}\b"),
    "OpenAI/Anthropic API key": re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{32,}\b"),
    "Slack webhook URL": re.compile(r"hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/\w+"),
    "Azure storage key": re.compile(r"AccountKey=[A-Za-z0-9+/=]{40,}"),
    "URL with an embedded password": re.compile(
        r"\b[a-z][a-z0-9+.-]*://[^/\s:@{}]+:[^/\s@{}]+@", re.IGNORECASE
    ),
}


def is_secret_field(name: str) -> bool:
    """Whether a config key names a credential."""
    return bool(_SECRET_FIELD.search(name)) and not _NOT_SECRET_FIELD.search(name)


def token_format(value: str) -> str | None:
    """The credential format ``value`` matches, if any."""
    for label, pattern in _TOKEN_FORMATS.items():
        if pattern.search(value):
            return label
    return None


def find_plaintext(data: Any, path: PathKey = ()) -> Iterator[tuple[PathKey, str]]:
    """Yield ``(path, reason)`` for every plaintext secret in ``data``."""
    if is_secret_ref(data):
        return
    if isinstance(data, dict):
        for key, value in data.items():
            child = (*path, key)
            if (
                is_secret_field(str(key))
                and isinstance(value, str | int | float)
                and not isinstance(value, bool)
                and str(value) != ""
            ):
                yield child, f"'{key}' holds a plaintext value"
            else:
                yield from find_plaintext(value, child)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from find_plaintext(value, (*path, i))
    elif isinstance(data, str):
        label = token_format(data)
        if label:
            yield path, f"value looks like a {label}"


def reference_name(path: PathKey) -> str:
    """The secret name floe suggests for a value at ``path`` (e.g. FLOE_CATALOG_CLIENT_SECRET)."""
    parts = [str(p) for p in path if p not in ("plugins", "config")]
    return "FLOE_" + re.sub(r"[^A-Za-z0-9]+", "_", "_".join(parts)).strip("_").upper()


def scrub(data: Any, path: PathKey = ()) -> Any:
    """A copy of ``data`` with every plaintext secret replaced by ``{secret: NAME}``."""
    found = {p for p, _ in find_plaintext(data, path)}
    return _replace(data, path, found)


def _replace(data: Any, path: PathKey, found: set[PathKey]) -> Any:
    if path in found:
        return {"secret": reference_name(path)}
    if isinstance(data, dict):
        return {k: _replace(v, (*path, k), found) for k, v in data.items()}
    if isinstance(data, list):
        return [_replace(v, (*path, i), found) for i, v in enumerate(data)]
    return data
