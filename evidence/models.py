"""Evidence records (policies, attestations, findings, checks, packs) arrive with later issues."""
