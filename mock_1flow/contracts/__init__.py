"""Pact contracts: list them, and verify them against any 1Flow-compatible server."""
