"""Real local servers for tests: started on 127.0.0.1, awaited with a deadline, always stopped."""

from __future__ import annotations

import json
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def await_line(proc: subprocess.Popen[bytes], marker: bytes, deadline_s: float = 30.0) -> None:
    """Block on the process's output until it contains ``marker`` (no sleeping). Reads the pipe
    itself (``os.read``): a buffered ``readline`` would keep lines that arrived together in its
    buffer, where ``select`` does not see them."""
    import os

    assert proc.stdout is not None
    end = time.monotonic() + deadline_s
    fd = proc.stdout.fileno()
    seen = b""
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while time.monotonic() < end:
            if not sel.select(timeout=end - time.monotonic()):
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            seen += chunk
            if marker in seen:
                return
    raise TimeoutError(f"server did not report {marker!r} within {deadline_s}s: {seen[-500:]!r}")


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's standalone S3-compatible server; yields its endpoint URL."""
    port = free_port()
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(exe), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        await_line(proc, b"development server")  # werkzeug logs it once the socket is bound
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


PG_BIN = Path("/usr/lib/postgresql/15/bin")


@contextmanager
def postgres_server(password: str = "floe-test-pw") -> Iterator[str]:
    """A private PostgreSQL 15 instance (initdb into a temp dir, its own port); yields a
    SQLAlchemy URI with password authentication over TCP (the password URL-quoted)."""
    import os
    import shutil
    import tempfile

    port = free_port()
    base = Path(tempfile.mkdtemp(prefix="floe-pg-"))
    data = base / "data"
    (base / "pw").write_text(password)
    shutil.chown(base, "postgres")
    shutil.chown(base / "pw", "postgres")
    os.chmod(base, 0o700)

    def as_postgres(*cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", *cmd],
            capture_output=True, text=True, check=True,
            env={**os.environ, "PGPASSWORD": password},
        )  # fmt: skip

    as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "floe", "--auth=scram-sha-256",
                f"--pwfile={base / 'pw'}", "-E", "UTF8")  # fmt: skip
    as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-t", "30", "-l",
                str(base / "log"), "-o", f"-p {port} -k {base} -h 127.0.0.1", "start")  # fmt: skip
    try:
        as_postgres(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "floe",
                    "catalog")  # fmt: skip
        from urllib.parse import quote

        yield f"postgresql+psycopg://floe:{quote(password, safe='')}@127.0.0.1:{port}/catalog"
    finally:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(data), "-m",
             "immediate", "stop"], capture_output=True, check=False,
        )  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def webhook_receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Collect JSON bodies POSTed to http://127.0.0.1:<port>/hook."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()
