"""The dbt packages a project declares (``packages.yml`` / ``dependencies.yml``) — no network.

Hub (``package:``), ``git:``, ``tarball:`` and ``private:`` packages need a download floe
cannot do here: they must already be installed in the project's ``packages-install-path``
(default ``dbt_packages/``). ``local:`` packages are installed by ``dbt deps`` without network
(see :func:`floe.runtime.dbt_check.ensure_deps`).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from floe.errors import Diagnostic, Location
from floe.spec.yamlload import YamlDocument, load_yaml

E_PACKAGE = "E134"
PACKAGE_FILES = ("packages.yml", "dependencies.yml")
REMOTE_KINDS = ("package", "git", "tarball", "private")


class DbtPackage(NamedTuple):
    """One entry of the packages list."""

    kind: str  # package | git | tarball | private | local
    spec: str  # 'dbt-labs/dbt_utils', a git URL, a tarball URL or a local path
    location: Location

    @property
    def dir_candidates(self) -> tuple[str, ...]:
        """Directory names dbt may install it under (its project name usually ends the spec)."""
        last = self.spec.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
        last = last.removesuffix(".tar.gz").removesuffix(".tgz")
        return tuple(dict.fromkeys((last, last.replace("-", "_"))))


def install_dir(root: Path) -> Path:
    """``packages-install-path`` of dbt_project.yml (default ``dbt_packages``)."""
    project = root / "dbt_project.yml"
    if project.is_file():
        value = load_yaml(project, what="dbt project file").data.get("packages-install-path")
        if isinstance(value, str) and value.strip():
            return root / value.strip()
    return root / "dbt_packages"


def read_packages(root: Path) -> list[DbtPackage]:
    """Every package entry of packages.yml and dependencies.yml, in file order."""
    out: list[DbtPackage] = []
    for name in PACKAGE_FILES:
        path = root / name
        if not path.is_file():
            continue
        doc = load_yaml(path, what="dbt packages file")
        out += _entries(doc)
    return out


def _entries(doc: YamlDocument) -> list[DbtPackage]:
    entries = doc.data.get("packages")
    out: list[DbtPackage] = []
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict):
            continue
        for kind in (*REMOTE_KINDS, "local"):
            if kind in entry:
                out.append(DbtPackage(kind, str(entry[kind]), doc.location(("packages", i, kind))))
                break
    return out


def is_installed(package: DbtPackage, root: Path) -> bool:
    """Whether the package's directory with its dbt_project.yml is in the install path."""
    base = install_dir(root)
    return any((base / name / "dbt_project.yml").is_file() for name in package.dir_candidates)


def package_problems(root: Path) -> list[Diagnostic]:
    """E134 for every package that needs a download and is not installed."""
    return [
        Diagnostic(
            E_PACKAGE,
            f"dbt {p.kind} package '{p.spec}' is not installed under "
            f"{install_dir(root).name}/ and floe cannot download it (no network here)",
            p.location,
            "packages",
            "run 'dbt deps' where the network is reachable and keep dbt_packages/ beside the "
            "project, or vendor the package and use 'local: <path>'",
        )
        for p in read_packages(root)
        if p.kind in REMOTE_KINDS and not is_installed(p, root)
    ]
