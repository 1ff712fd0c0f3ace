"""The live platform: Dagster's webserver and daemon over a workspace, as one managed child.

``dagster dev`` starts the webserver, the daemon (schedules, sensors, run queue) and one code
server per product. It runs in its own session with SIGINT/SIGTERM at their defaults (a child
of a script would otherwise inherit them ignored), so ``stop`` can end the whole tree.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from floe.errors import FloeError, Location
from floe.runtime.home import PlatformHome

E_UI_START = "E560"


@dataclass
class DagsterServer:
    """A running ``dagster dev``."""

    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST one GraphQL query; the ``data`` of the answer."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        req = urllib.request.Request(  # noqa: S310  (http URL built by start())
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310  # nosec B310
            answer: dict[str, Any] = json.loads(resp.read())
        if answer.get("errors"):
            raise RuntimeError(f"GraphQL errors: {answer['errors']}")
        data: dict[str, Any] = answer["data"]
        return data

    def stop(self, timeout: float = 30.0) -> int:
        """SIGINT to the server's process group, then SIGTERM/SIGKILL to every process it
        started (code servers may sit in sessions of their own); the server's exit code."""
        family = descendants(self.proc.pid)
        _signal_group(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal_group(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            alive = [pid for pid in family if _alive(pid)]
            for pid in alive:
                _kill(pid, sig)
            if alive:
                _wait_gone(alive, 10.0)
        return self.proc.returncode


def descendants(root: int) -> list[int]:
    """Every live process below ``root`` (Linux /proc; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return


def _kill(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        return


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait_gone(pids: list[int], deadline_s: float) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end and any(_alive(p) for p in pids):
        time.sleep(0.2)


def _die_with_parent() -> None:
    """In the child: SIGTERM when floe dies, even by SIGKILL (Linux prctl PR_SET_PDEATHSIG),
    so a killed demo never leaves Dagster behind."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


LOCATIONS_QUERY = """
{ workspaceOrError { __typename ... on Workspace {
    locationEntries { name loadStatus
      locationOrLoadError { __typename ... on PythonError { message } } } } } }
"""


def start(
    workspace: Path, home: PlatformHome, *, host: str = "127.0.0.1", port: int = 3000
) -> DagsterServer:
    """Start ``dagster dev`` on the workspace with the platform's Dagster instance."""
    home.ensure()
    log = home.root / "logs" / "dagster-dev.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    dagster = Path(sys.executable).with_name("dagster")
    cmd = ["env", "--default-signal=INT,TERM", str(dagster), "dev", "-w", str(workspace),
           "-h", host, "-p", str(port)]  # fmt: skip
    env = {**os.environ, "DAGSTER_HOME": str(home.dagster), "PYTHONUNBUFFERED": "1"}
    env["PATH"] = f"{dagster.parent}{os.pathsep}{env.get('PATH', '')}"
    with log.open("ab") as handle:
        proc = subprocess.Popen(  # nosec B603
            cmd, cwd=workspace.parent, env=env, stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_die_with_parent,
        )  # fmt: skip
    return DagsterServer(proc, f"http://{host}:{port}", log)


def wait_loaded(server: DagsterServer, expected: int, deadline_s: float = 240.0) -> list[str]:
    """Poll until the webserver answers and ``expected`` code locations are loaded.

    Raises E560 naming the location that failed to load, or on timeout, with the log path.
    """
    deadline = time.monotonic() + deadline_s
    last = "webserver not answering yet"
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            break
        try:
            entries = server.graphql(LOCATIONS_QUERY)["workspaceOrError"]["locationEntries"]
        except OSError as exc:
            last = str(exc)
            time.sleep(0.5)
            continue
        errors = [e for e in entries
                  if e["locationOrLoadError"] and e["locationOrLoadError"]["__typename"]
                  == "PythonError"]  # fmt: skip
        if errors:
            first = errors[0]
            _fail(server, f"code location '{first['name']}' failed to load: "
                  f"{first['locationOrLoadError']['message'].strip()[:400]}")  # fmt: skip
        loaded = [e["name"] for e in entries if e["loadStatus"] == "LOADED"]
        if len(loaded) >= expected:
            return sorted(loaded)
        last = f"{len(loaded)} of {expected} code locations loaded"
        time.sleep(0.5)
    _fail(server, f"Dagster did not come up: {last}")


def _fail(server: DagsterServer, message: str) -> NoReturn:
    server.stop()
    raise FloeError.single(
        E_UI_START, message, Location(str(server.log)),
        hint="read the log named above; check the port is free (--port)",
    )  # fmt: skip
