"""``mock-1flow fuzz``: schemathesis against a running mock (or any 1Flow-compatible URL)."""
