"""PyIceberg's REST catalog authenticated by the platform's identity.

PyIceberg lets a catalog take a custom ``AuthManager`` (``auth: {type: custom, impl: …}``); this
one answers each request's ``Authorization`` header from a floe
:class:`~floe.plugins.base.TokenSource` — the ``oidc`` identity's cached client-credentials
token, fetched again shortly before it expires — so one token serves every catalog call of a
run, and a long run never sends an expired one.
"""

from __future__ import annotations

from typing import Any

from pyiceberg.catalog.rest.auth import AuthManager

from floe.plugins.base import TokenSource

#: Catalog properties PyIceberg would otherwise authenticate with on its own.
OWN_AUTH = ("credential", "token", "oauth2-server-uri", "scope")


class TokenAuthManager(AuthManager):
    """``Bearer <token>`` from a floe token source, on every catalog request."""

    def __init__(self, tokens: TokenSource) -> None:
        self.tokens = tokens

    def auth_header(self) -> str:
        """The current token (cached; renewed before expiry by the source)."""
        return f"Bearer {self.tokens.token()}"


def with_token_auth(props: dict[str, str], tokens: TokenSource) -> dict[str, Any]:
    """``props`` with the catalog's own credentials replaced by ``tokens``."""
    out: dict[str, Any] = {k: v for k, v in props.items() if k not in OWN_AUTH}
    out["auth"] = {
        "type": "custom",
        "impl": f"{TokenAuthManager.__module__}.{TokenAuthManager.__qualname__}",
        "custom": {"tokens": tokens},
    }
    return out
