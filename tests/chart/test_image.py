"""The container image's dependency set: the Dockerfile's own `uv sync` flags installed into a
fresh venv (uv's cache makes it quick), then the entrypoint's commands run from it — so the
image can never lack a runtime dependency that only the dev environment happens to have."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.chart.conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"


def _sync_flags() -> list[str]:
    """The flags of the Dockerfile's final `uv sync` (the one that installs floe)."""
    syncs = re.findall(r"uv sync ([^\n\\]+)", DOCKERFILE.read_text())
    assert len(syncs) == 2
    return syncs[-1].split()


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with exactly the image's packages: `uv sync` with the Dockerfile's flags."""
    venv = tmp_path_factory.mktemp("image") / "venv"
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv), "UV_LINK_MODE": "copy"}
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.run([sys.executable, "-m", "uv", "sync", "--quiet", *_sync_flags()],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=280,
                          check=False)  # fmt: skip
    if proc.returncode != 0 and "No module named uv" in proc.stderr:
        uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
        proc = subprocess.run([uv, "sync", "--quiet", *_sync_flags()], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=280, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return venv


def _run(venv: Path, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "FLOE_"))}
    path = f"{venv / 'bin'}:{clean['PATH']}"
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], cwd=cwd,
                          env={**clean, "PATH": path, "COLUMNS": "200", **env},
                          capture_output=True, text=True, timeout=180, check=False)  # fmt: skip


@pytest.mark.requirement("FLOE-010")
def test_dockerfile_builds_the_locked_runtime_set_non_root_read_only() -> None:
    """Multi-stage; both `uv sync` steps use the lock without the dev group (with the k8s
    extra); non-root user; floe as entrypoint; the writable paths are volumes, the same ones
    the chart mounts as emptyDir."""
    text = DOCKERFILE.read_text()
    assert len(re.findall(r"^FROM ", text, flags=re.M)) == 2
    assert _sync_flags() == ["--frozen", "--no-dev", "--extra", "k8s", "--no-editable"]
    assert re.search(r"^USER 10001:10001$", text, flags=re.M)
    assert re.search(r'^ENTRYPOINT \["floe"\]$', text, flags=re.M)
    assert '["/tmp", "/var/lib/floe", "/var/lib/dagster"]' in text


@pytest.mark.requirement("FLOE-010")
@pytest.mark.timeout(400)
def test_image_dependency_set_runs_floe_and_a_code_location(
    image_venv: Path, tmp_path: Path
) -> None:
    """From the image's venv: `floe --help` lists the commands; `floe compile` compiles a
    demo product; Dagster loads the code location the chart's code servers serve
    (`floe.app.k8s_location`) from those artifacts with dagster-k8s importable; dev-only
    packages (pytest) are absent, so nothing passes by the dev environment's grace."""
    help_ = _run(image_venv, "floe", "--help", cwd=tmp_path)
    assert help_.returncode == 0, help_.stderr
    for command in ("compile", "run", "platform", "k8s"):
        assert command in help_.stdout
    product = tmp_path / "customer-360"
    shutil.copytree(ROOT / "demo" / "customer-360", product,
                    ignore=shutil.ignore_patterns("target", "logs", ".floe"))  # fmt: skip
    shutil.copy(ROOT / "demo" / "manifest.yaml", tmp_path / "manifest.yaml")
    compiled = _run(image_venv, "floe", "compile", str(product), "--manifest",
                    str(tmp_path / "manifest.yaml"), cwd=tmp_path,
                    FLOE_HOME=str(tmp_path / "home"))  # fmt: skip
    assert compiled.returncode == 0, compiled.stderr
    artifacts = product / "target" / "floe" / "compiled_artifacts.json"
    assert '"product": "customer-360"' in artifacts.read_text()
    loaded = _run(image_venv, "dagster", "definitions", "validate", "-m", "floe.app.k8s_location",
                  cwd=tmp_path, FLOE_COMPILED_DIR=str(artifacts.parent),
                  FLOE_PRODUCT_DIR=str(product), FLOE_MANIFEST=str(tmp_path / "manifest.yaml"),
                  FLOE_HOME=str(tmp_path / "home"), DAGSTER_HOME=str(tmp_path))  # fmt: skip
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert "Validation successful" in loaded.stdout + loaded.stderr
    probe = (
        "import dagster_k8s, dagster_postgres, importlib.util as u; print(u.find_spec('pytest'))"
    )
    imports = _run(image_venv, "python", "-c", probe, cwd=tmp_path)
    assert imports.returncode == 0, imports.stderr
    assert imports.stdout.strip() == "None"
