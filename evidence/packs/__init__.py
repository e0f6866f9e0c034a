"""Auditor evidence packs: scope, content, PDF, data files, manifest and signature, verification."""
