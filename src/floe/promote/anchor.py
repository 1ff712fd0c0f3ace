"""The audit chain's head anchored in the OCI registry (docs/promotion.md#audit-trail).

The registry is the one place of the platform that a writer of the catalog and of the
platform home does not control with the same credentials: every append of the audit trail
puts an empty OCI artifact under the tag ``head`` of the repository ``floe.audit`` whose
annotations carry the newest record's ``seq`` and ``hash``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from floe.errors import FloeError
from floe.promote import oci
from floe.promote.audit import Head
from floe.promote.registry import RegistryClient

REPOSITORY = "floe.audit"
TAG = "head"
HEAD_TYPE = "application/vnd.floe.audit.head.v1"
SEQ, HASH = "dev.floe.audit.seq", "dev.floe.audit.hash"


@dataclass(frozen=True)
class RegistryAnchor:
    """``<registry>/floe.audit:head``."""

    client: RegistryClient

    @property
    def name(self) -> str:
        """The tag's reference."""
        return f"{self.client.repository(REPOSITORY)}:{TAG}"

    def write(self, head: Head) -> None:
        """Move the tag to a manifest naming ``head``. A registry that cannot be reached
        leaves the anchor behind (the record is kept; :func:`floe.promote.audit.check_head`
        accepts an older head whose record is unchanged)."""
        try:
            empty = self.client.put_blob(REPOSITORY, oci.EMPTY_JSON, oci.EMPTY_TYPE)
            notes = {SEQ: str(head.seq), HASH: head.hash}
            manifest = oci.image_manifest(HEAD_TYPE, empty, [empty], notes)
            self.client.put_manifest(REPOSITORY, TAG, manifest)
        except FloeError:
            return

    def read(self) -> Head | None:
        """The head the tag names (None: never written)."""
        found = self.client.get_manifest(REPOSITORY, TAG)
        if found is None:
            return None
        notes = json.loads(found[0]).get("annotations", {})
        return Head(int(notes[SEQ]), str(notes[HASH]))
