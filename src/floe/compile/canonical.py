"""Canonical JSON and the source hash: the same inputs give the same bytes, anywhere."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def canonical_json(data: Any) -> str:
    """Sorted keys, two-space indent, UTF-8 text, trailing newline."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def source_hash(labelled_files: Iterable[tuple[str, Path]], extra: dict[str, str]) -> str:
    """sha256 over (label, content) of every input file plus ``extra`` settings.

    Labels are portable (relative paths), so the hash does not depend on where the product
    lives or on the working directory.
    """
    digest = hashlib.sha256()
    for label, path in sorted(labelled_files, key=lambda item: item[0]):
        digest.update(label.encode() + b"\0")
        digest.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    for key in sorted(extra):
        digest.update(f"{key}={extra[key]}\0".encode())
    return "sha256:" + digest.hexdigest()


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
