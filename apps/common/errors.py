from django.core.exceptions import ValidationError


class ApplicationError(Exception):
    """An error whose message is written for the user: what happened and what to do."""

    def __init__(self, message: str, *, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class InvalidInput(ApplicationError):
    """The caller sent a value the platform refuses (an API answers 400); the message names the field."""


def validation_problems(error: ValidationError) -> str:
    """A model's `full_clean` errors as one line: "field: message; field: message"."""
    return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
