"""A real OCI registry for tests: Debian's docker-registry (CNCF distribution 2.8) on
127.0.0.1 with filesystem storage in a temp folder, optionally behind htpasswd basic auth
(bcrypt). Installed by `make setup` (Makefile target .venv/.registry)."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.servers import free_port

REGISTRY_BIN = "docker-registry"


@dataclass(frozen=True)
class Registry:
    """A running registry: ``host:port`` and the basic-auth user, if any."""

    host: str
    root: Path
    user: tuple[str, str] | None = None

    def url(self, path: str = "floe") -> str:
        """``host:port/path``: the value of ``artifacts.registry.url``."""
        return f"{self.host}/{path}"


def _config(root: Path, port: int, htpasswd: Path | None) -> str:
    auth = f"auth:\n  htpasswd:\n    realm: floe-test\n    path: {htpasswd}\n" if htpasswd else ""
    return (
        "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n  delete:\n"
        f"    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: floe-test-secret\n{auth}"
    )


def _await_listening(proc: subprocess.Popen[bytes], deadline_s: float = 30.0) -> None:
    """Wait (with a deadline) for the server's 'listening on' line; a thread keeps reading
    its log afterwards so that a full pipe never blocks it."""
    ready = threading.Event()
    seen: list[bytes] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in iter(proc.stdout.readline, b""):
            if len(seen) < 50:
                seen.append(line)
            if b"listening on" in line:
                ready.set()
        ready.set()  # the process ended

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(deadline_s) or proc.poll() is not None:
        raise TimeoutError(f"docker-registry did not start: {b''.join(seen)[-800:]!r}")


@contextmanager
def oci_registry(root: Path, user: tuple[str, str] | None = None) -> Iterator[Registry]:
    """Start the registry (awaiting its 'listening on' line with a deadline); always stopped."""
    import bcrypt

    exe = shutil.which(REGISTRY_BIN)
    assert exe is not None, "docker-registry is not installed: run `make setup`"
    root.mkdir(parents=True, exist_ok=True)
    htpasswd = None
    if user is not None:
        htpasswd = root / "htpasswd"
        hashed = bcrypt.hashpw(user[1].encode(), bcrypt.gensalt(rounds=4)).decode()
        htpasswd.write_text(f"{user[0]}:{hashed}\n")
    port = free_port()
    (root / "config.yml").write_text(_config(root, port, htpasswd))
    proc = subprocess.Popen([exe, "serve", str(root / "config.yml")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        _await_listening(proc)
        yield Registry(f"127.0.0.1:{port}", root, user)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
