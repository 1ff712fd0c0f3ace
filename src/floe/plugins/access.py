"""Catalog access as data: the items an rbac plugin manages and the plan that reconciles them.

An rbac plugin reads the catalog's live state and derives the wanted state from the
manifest's ``access:`` rules, both as sets of :class:`AccessItem`; :func:`plan` compares them.
What is wanted but absent is ``missing`` (apply creates it), what is present but not wanted is
``extra`` — drift (apply removes it). Items sort so that what others depend on comes first:
roles before the grants and assignments that name them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Kinds in dependency order: a role exists before grants on it or assignments of it.
Kind = Literal["principal_role", "catalog_role", "grant", "catalog_role_of", "principal_role_of"]
ORDER: dict[str, int] = {
    "principal_role": 0,
    "catalog_role": 1,
    "grant": 2,
    "catalog_role_of": 3,
    "principal_role_of": 4,
}


@dataclass(frozen=True)
class AccessItem:
    """One fact of the catalog's access state.

    * ``principal_role`` (role): a principal role (a team);
    * ``catalog_role`` (role): a catalog role of the catalog;
    * ``grant`` (role, target, privilege): a privilege of a catalog role on a namespace;
    * ``catalog_role_of`` (role, target): catalog role ``target`` assigned to principal role;
    * ``principal_role_of`` (role, target): principal role ``role`` assigned to principal.
    """

    kind: Kind
    role: str
    target: str = ""
    privilege: str = ""

    @property
    def sort_key(self) -> tuple[int, str, str, str]:
        """Dependency order, then names."""
        return (ORDER[self.kind], self.role, self.target, self.privilege)

    def describe(self) -> str:
        """One line a person reads."""
        if self.kind == "grant":
            return f"grant {self.privilege} on namespace {self.target} to catalog role {self.role}"
        if self.kind == "catalog_role_of":
            return f"catalog role {self.target} assigned to principal role {self.role}"
        if self.kind == "principal_role_of":
            return f"principal role {self.role} assigned to principal {self.target}"
        return f"{self.kind.replace('_', ' ')} {self.role}"


@dataclass(frozen=True)
class AccessPlan:
    """What applying the access rules changes: ``missing`` is created, ``extra`` (drift: in
    the catalog, not in the manifest) is removed; both empty means nothing to do."""

    missing: tuple[AccessItem, ...] = ()
    extra: tuple[AccessItem, ...] = ()

    @property
    def in_sync(self) -> bool:
        """The catalog matches the manifest."""
        return not self.missing and not self.extra


def plan(wanted: set[AccessItem], live: set[AccessItem]) -> AccessPlan:
    """The plan turning ``live`` into ``wanted``: creations in dependency order, removals in
    reverse dependency order (assignments and grants before the roles they name)."""
    missing = sorted(wanted - live, key=lambda i: i.sort_key)
    extra = sorted(live - wanted, key=lambda i: i.sort_key, reverse=True)
    return AccessPlan(tuple(missing), tuple(extra))
