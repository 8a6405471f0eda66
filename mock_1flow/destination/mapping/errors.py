"""Errors of the mapping engine, with the class and wording Segment's code gives them."""

from __future__ import annotations


class MappingError(ValueError):
    """A mapping or trigger that cannot be used, or a directive that failed on an event.

    ``js_class`` is the class of the error Segment's code throws for the same input
    (``Error``, ``TypeError``, ``ValidationError``, ``AggregateError``, a liquid error);
    ``messages`` are the messages of an ``AggregateError``'s errors (validation problems, all at
    once), else the one message."""

    def __init__(self, message: str, js_class: str = "Error", messages: list[str] | None = None) -> None:
        super().__init__(message)
        self.js_class = js_class
        self.messages = messages if messages is not None else [message]
