"""Governance: policies, plaintext-secret detection, (later) the breaking-change gate."""
