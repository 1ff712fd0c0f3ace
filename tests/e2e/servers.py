"""Real local servers for tests: started on 127.0.0.1, awaited with a deadline, always stopped."""

from __future__ import annotations

import selectors
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def await_line(proc: subprocess.Popen[bytes], marker: bytes, deadline_s: float = 30.0) -> None:
    """Block on the process's output until a line contains ``marker`` (no sleeping)."""
    assert proc.stdout is not None
    end = time.monotonic() + deadline_s
    seen = b""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < end:
            if not sel.select(timeout=end - time.monotonic()):
                break
            line = proc.stdout.readline()
            if not line:
                break
            seen += line
            if marker in line:
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
