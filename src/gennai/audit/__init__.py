"""The audit trail: what happened, by whom, append-only."""
