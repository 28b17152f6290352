"""The append-only activity log: who changed what, from which state to which, when, and why."""
