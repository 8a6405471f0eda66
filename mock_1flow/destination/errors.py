"""Errors of the destination: what Segment's runtime never retries, and what 1Flow refused."""

from __future__ import annotations


class PayloadValidationError(ValueError):
    """The action's payload is invalid (Segment's wording); never retried."""

    retryable = False


class DeliveryError(Exception):
    """1Flow did not take the request: ``status`` (None for transport errors), 1Flow's
    ``error`` code unchanged, and how many attempts were made."""

    def __init__(self, status: int | None, error: str | None, message: str, attempts: int) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.attempts = status, error, message, attempts
