"""The e2e suite as one command: which make targets run it, how its modules are handed out
(whole modules, the modules sharing a setup as one unit) and why no module sees another's
platform (each platform is a fresh copy of demo/ in a temporary directory, its home inside)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from floe.runtime.home import HOME_ENV, PlatformHome
from tests.e2e import conftest as e2e_conftest
from tests.e2e import schedule

ROOT = Path(__file__).resolve().parents[2]
E2E = ROOT / "tests" / "e2e"


def _recipes(makefile: str) -> dict[str, list[str]]:
    """Each target's recipe lines (tab-indented lines after ``target: …``)."""
    recipes: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in makefile.splitlines():
        if line.startswith("\t") and current is not None:
            current.append(line.strip())
            continue
        match = re.match(r"^([A-Za-z][\w.-]*):(?!=)", line)
        current = recipes.setdefault(match.group(1), []) if match else None
    return recipes


def _pytest_runs(recipe: list[str]) -> list[list[str]]:
    """The argument lists of the recipe's pytest calls."""
    return [line.split()[1:] for line in recipe if line.startswith("$(BIN)/pytest")]


@pytest.mark.requirement("FR-008")
@pytest.mark.requirement("NF-1")
def test_one_make_target_runs_every_e2e_module_each_as_a_unit() -> None:
    """``make e2e`` is one pytest call over tests/e2e, and ``make test`` runs the same
    directory once, with ``--dist loadfile`` (a module never split across workers, its
    module-scoped setup and teardown on one worker); pytest's configuration collects every
    ``test_*.py`` there (testpaths, default file pattern, nothing ignored), and the scheduler
    hands out each module alone except the modules of one SHARED setup, which exist and go
    together."""
    recipes = _recipes((ROOT / "Makefile").read_text())
    assert _pytest_runs(recipes["e2e"]) == [["tests/e2e", "$(ARGS)"]]
    e2e_runs = [r for r in _pytest_runs(recipes["test"]) if "tests/e2e" in r]
    assert e2e_runs == [["-n", "3", "--dist", "loadfile", "tests/e2e"]]
    phony = re.search(r"^\.PHONY:(.*)$", (ROOT / "Makefile").read_text(), re.M)
    assert phony is not None
    assert {"e2e", "test"} <= set(phony.group(1).split())

    ini = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert ini["testpaths"] == ["tests"]
    assert not {"python_files", "norecursedirs", "collect_ignore"} & set(ini)
    assert not {"--ignore", "--deselect"} & set(ini["addopts"].split())
    modules = sorted(f"tests/e2e/{p.name}" for p in E2E.glob("test_*.py"))
    assert len(modules) >= 40

    split = schedule.LongestFirstScheduling._split_scope  # uses no scheduler state
    units = {m: split(None, f"{m}::test_x") for m in modules}
    shared = {f"tests/e2e/{m}": u for u, ms in schedule.SHARED.items() for m in ms}
    assert set(shared) <= set(modules), "a SHARED module that does not exist"
    for module, unit in units.items():
        assert unit == shared.get(module, module), module
    assert len(set(units.values())) == len(modules) - len(shared) + len(schedule.SHARED)


@pytest.mark.requirement("FR-008")
def test_each_e2e_platform_is_a_fresh_copy_with_its_own_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The e2e platforms are copies of demo/ made by ``copy_demo`` into the module's or
    session's temporary directory: a copy carries none of the state a previous run left in
    the source (the platform home ``.floe``, dbt's ``target`` and ``logs``), and with
    ``FLOE_HOME`` unset each copy's platform home — catalog, warehouse, Dagster instance,
    run records — is inside the copy, so two modules' platforms share nothing."""
    source = tmp_path / "source"
    for path in ("manifest.yaml", "customer-360/floe.yaml", "customer-360/models/a.sql"):
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        (source / path).write_text(f"-- {path}\n")
    state = [".floe/catalog.db", "customer-360/target/manifest.json", "customer-360/logs/dbt.log"]
    for path in state:
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        (source / path).write_text("left by an earlier run\n")
    monkeypatch.setattr(e2e_conftest, "DEMO", source)
    monkeypatch.delenv(HOME_ENV, raising=False)

    copies = [e2e_conftest.copy_demo(tmp_path / m / "demo") for m in ("module_a", "module_b")]
    kept = sorted(str(p.relative_to(source)) for p in source.rglob("*") if p.is_file())
    for copy in copies:
        files = sorted(str(p.relative_to(copy)) for p in copy.rglob("*") if p.is_file())
        assert files == sorted(set(kept) - set(state))
    homes = [PlatformHome.for_manifest(c / "manifest.yaml").root for c in copies]
    assert homes == [c.resolve() / ".floe" for c in copies]
    assert homes[0] != homes[1]
