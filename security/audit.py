"""Audit the locked environment with pip-audit (``make security``).

``make security`` exports ``uv.lock`` (all groups, without the project itself) to a
requirements file; this script runs pip-audit over it with ``--strict``: a dependency the
vulnerability service cannot answer for fails the audit instead of passing silently. Every
vulnerability listed in ``security/accepted-vulnerabilities.toml`` (id, package, reason) is
ignored; anything else found fails. Needs network access to the vulnerability service (PyPI
by default).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACCEPTED = ROOT / "security" / "accepted-vulnerabilities.toml"
REQUIRED = ("id", "package", "reason")
UNREACHABLE_HINT = (
    "audit failed. A vulnerability table above lists real findings: fix them with a\n"
    "constraint-dependencies floor in pyproject.toml (then `uv lock`) or accept them with a\n"
    "reason in security/accepted-vulnerabilities.toml. 'Dependency not found on PyPI' or a\n"
    "connection error instead means the vulnerability service is not reachable from here:\n"
    "the pypi service needs https://pypi.org/pypi/<name>/<version>/json, the osv service\n"
    "https://api.osv.dev (make security AUDIT_SERVICE=osv).\n"
)


def accepted_ids(path: Path = ACCEPTED) -> list[str]:
    """The ids of the accepted vulnerabilities; ValueError when an entry lacks a field."""
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("vulnerability", [])
    ids = []
    for number, entry in enumerate(entries, start=1):
        missing = [key for key in REQUIRED if not str(entry.get(key, "")).strip()]
        if missing:
            raise ValueError(
                f"{path.name}: vulnerability #{number} lacks {', '.join(missing)} "
                "(every accepted vulnerability names its id, package and reason)"
            )
        ids.append(str(entry["id"]))
    return sorted(ids)


def pip_audit_command(
    requirements: Path, service: str, ids: list[str], osv_url: str | None = None
) -> list[str]:
    """The pip-audit call: strict, hash-free pinned requirements, accepted ids ignored."""
    command = [
        str(Path(sys.executable).parent / "pip-audit"),
        "--requirement", str(requirements),
        "--disable-pip", "--no-deps", "--strict",
        "--progress-spinner", "off",
        "--vulnerability-service", service,
    ]  # fmt: skip
    if osv_url:
        command += ["--osv-url", osv_url]
    for vuln_id in ids:
        command += ["--ignore-vuln", vuln_id]
    return command


def main(argv: list[str] | None = None) -> int:
    """Export, audit, return pip-audit's exit status (0: nothing unaccepted found)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("requirements", type=Path, help="Pinned requirements (uv export).")
    parser.add_argument("--service", default="pypi", choices=("pypi", "osv", "esms"))
    parser.add_argument("--osv-url", help="OSV API URL (with --service osv).")
    parser.add_argument("--accepted", type=Path, default=ACCEPTED)
    args = parser.parse_args(argv)
    ids = accepted_ids(args.accepted)
    requirements = args.requirements
    print(f"pip-audit: {requirements.name}, {args.service}, {len(ids)} accepted", flush=True)
    command = pip_audit_command(requirements, args.service, ids, args.osv_url)
    code = subprocess.run(command, check=False).returncode
    if code:
        sys.stderr.write(UNREACHABLE_HINT)
    return code


if __name__ == "__main__":
    sys.exit(main())
