"""What the runner tells observability: phases, dbt results, published tables.

Kept free of OpenTelemetry/OpenLineage imports so the runner depends only on this protocol;
:class:`NullObserver` is used when nothing observes the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from floe.runtime.runner import NodeOutcome


class Observer(Protocol):
    """Receives the facts of a run as they happen."""

    def phase(self, name: str, **attributes: str) -> AbstractContextManager[None]:
        """A span around one step of the run (``seed``, ``build``, ``test``, ``publish`` …)."""

    def dbt_results(
        self,
        results: list[dict[str, Any]],
        manifest: dict[str, Any],
        outcomes: list[NodeOutcome],
    ) -> None:
        """dbt's run results of the last invocation, after audit and publish."""

    def published(self, outcome: NodeOutcome, columns: list[tuple[str, str]]) -> None:
        """A table was published (its Arrow columns as ``(name, type)``)."""


class NullObserver:
    """Observes nothing."""

    @contextmanager
    def phase(self, name: str, **attributes: str) -> Iterator[None]:
        """No span."""
        yield

    def dbt_results(
        self,
        results: list[dict[str, Any]],
        manifest: dict[str, Any],
        outcomes: list[NodeOutcome],
    ) -> None:
        """Ignored."""

    def published(self, outcome: NodeOutcome, columns: list[tuple[str, str]]) -> None:
        """Ignored."""
