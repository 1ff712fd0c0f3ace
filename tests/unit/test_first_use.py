"""What a new user types first works: workspace anywhere, --debug anywhere, the platform home
remembers its manifest, and a plaintext catalog secret is explained in floe's words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import TINY_MANIFEST, run_floe, write_tiny

NO_MANIFEST_ENV = {"FLOE_MANIFEST": ""}


@pytest.mark.requirement("FLOE-005")
def test_workspace_written_to_another_directory_points_at_each_definitions_file(
    tmp_path: Path,
) -> None:
    """`floe workspace ROOT --out /elsewhere/workspace.yaml` writes paths relative to the
    workspace file that lead to each product's generated definitions.py."""
    root = tmp_path / "products"
    write_tiny(root / "tiny")
    out = tmp_path / "other" / "dir" / "workspace.yaml"
    out.parent.mkdir(parents=True)
    res = run_floe("workspace", root, "--out", out)
    assert res.code == 0, res.err
    entries = yaml.safe_load(out.read_text())["load_from"]
    assert [e["python_file"]["location_name"] for e in entries] == ["tiny"]
    relative = entries[0]["python_file"]["relative_path"]
    assert relative == "../../products/tiny/target/floe/definitions.py"
    assert (out.parent / relative).resolve() == root / "tiny" / "target" / "floe" / "definitions.py"


@pytest.mark.requirement("FLOE-005")
def test_debug_is_accepted_after_the_command(tmp_path: Path) -> None:
    """`--debug` typed after the command (as the error hint suggests) shows the traceback of
    the error instead of failing with 'No such option'; before the command it does the same."""
    empty = tmp_path / "empty"
    empty.mkdir()
    plain = run_floe("workspace", empty)
    after = run_floe("workspace", empty, "--debug")
    before = run_floe("--debug", "workspace", empty)
    assert plain.code == 2, plain.err
    assert "E550" in plain.err
    assert "Traceback" not in plain.err
    for res in (after, before):
        assert "No such option" not in res.err
        assert "E550" in res.err
        assert "Traceback (most recent call last)" in res.err
        assert "floe.errors.FloeError" in res.err


@pytest.mark.requirement("FLOE-005")
def test_platform_home_remembers_its_manifest(tmp_path: Path) -> None:
    """After `floe platform up` with FLOE_HOME, `floe tables list` run from a directory with
    no manifest finds the platform through the home instead of failing with E120."""
    product = write_tiny(tmp_path / "tiny")
    home = tmp_path / "home"
    env = {**NO_MANIFEST_ENV, "FLOE_HOME": str(home)}
    up = run_floe("platform", "up", "--manifest", product / "manifest.yaml", env=env)
    assert up.code == 0, up.out + up.err
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    listed = run_floe("tables", "list", "--json", cwd=elsewhere, env=env)
    assert listed.code == 0, listed.err
    assert json.loads(listed.out) == []
    status = run_floe("platform", "status", cwd=elsewhere, env=env)
    assert status.code == 0, status.err
    assert str((product / "manifest.yaml").resolve()) in " ".join(status.out.split())
    without_home = run_floe("tables", "list", cwd=elsewhere, env=NO_MANIFEST_ENV)
    assert without_home.code == 2
    assert "E120" in without_home.err


@pytest.mark.requirement("FLOE-005")
def test_plaintext_catalog_secret_is_explained_in_floe_words(tmp_path: Path) -> None:
    """A catalog token written in plaintext: the skipped breaking-change gate says which field
    must be a {secret: NAME} reference — no pydantic wording reaches the user."""
    manifest = TINY_MANIFEST.replace(
        "  catalog:\n    type: sql\n",
        "  catalog:\n    type: rest\n    config:\n"
        "      uri: http://127.0.0.1:9/api/catalog\n      token: s3cr3t-plain\n",
    )
    product = write_tiny(tmp_path / "tiny", manifest=manifest)
    res = run_floe("compile", product, env=dict.fromkeys(("FLOE_HOME", "FLOE_MANIFEST"), ""))
    assert res.code == 0, res.err
    assert "Input should be" not in res.err
    assert "s3cr3t-plain" not in res.err + res.out
    gate = [line for line in res.err.splitlines() if "W150" in line]
    assert len(gate) == 1
    assert "catalog config invalid: 'token' must be a secret reference" in gate[0]
    assert "write 'token: {secret: NAME}'" in res.err


@pytest.mark.requirement("FLOE-005")
def test_a_command_line_gets_the_same_command_from_the_one_command_app() -> None:
    """`floe <command> …` is parsed by an app holding only that command (start-up builds one
    command, not all): for every command and group its help is the same as the whole app's,
    and help, leading options and unknown names still go to the whole app."""
    from typer.testing import CliRunner

    from floe.cli.main import app, for_command

    runner = CliRunner()
    names = [str(c.name) for c in app.registered_commands]
    names += [str(g.name) for g in app.registered_groups]
    assert {"compile", "run", "tables", "promote"} <= set(names)
    for name in names:
        one = for_command([name, "--help"])
        assert one is not app
        assert len(one.registered_commands) + len(one.registered_groups) == 1
        alone = runner.invoke(one, [name, "--help"], prog_name="floe")
        whole = runner.invoke(app, [name, "--help"], prog_name="floe")
        assert (alone.exit_code, alone.output) == (whole.exit_code, whole.output), name
    for args in ([], ["--help"], ["--version"], ["compil", "x"]):
        assert for_command(args) is app
    assert len(app.registered_commands) + len(app.registered_groups) == len(names)
