"""Promotion of data products: OCI artifacts, signing, gates, approvals, audit trail, rollback
(docs/promotion.md)."""
