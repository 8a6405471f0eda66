"""1Flow's error envelope, so every failure of the mock has one shape and one code."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error the mock answers on purpose: HTTP status, machine code, human message.

    ``extra`` fields are added to the body (e.g. the JSON pointer of a validation error);
    ``headers`` to the response (e.g. ``Retry-After``).
    """

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return envelope(self.status, self.message, None, error=self.error, **self.extra)


def envelope(status: int, message: str, result: Any, **extra: Any) -> dict[str, Any]:
    """1Flow's envelope: ``success`` is the HTTP status as an integer in the body."""
    body: dict[str, Any] = {"success": status, "message": message}
    body.update(extra)
    body["result"] = result
    return body
