"""Input of the Developer API, checked by DRF serializers: strict JSON types (a number is not a
string, "yes" is not true), every text field bounded, and one message naming the field."""

from __future__ import annotations

import uuid

from rest_framework import serializers

MAX_FIELD_LENGTH = 64 * 1024  # any one text field (a command, a URL); model fields have their own maximum


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


REQUIRED = {"required": "is required."}


class Text(serializers.Field):
    """A JSON string, kept as sent (no trimming: passwords and commands mean their spaces)."""

    default_error_messages = {
        **REQUIRED,
        "invalid": "must be a string.",
        "too_long": f"is longer than {MAX_FIELD_LENGTH} characters.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if len(data) > MAX_FIELD_LENGTH:
            self.fail("too_long")
        return data


class Flag(serializers.Field):
    default_error_messages = {**REQUIRED, "invalid": "must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class WholeNumber(serializers.Field):
    default_error_messages = {**REQUIRED, "invalid": "must be a whole number."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return data


class JsonObject(serializers.Field):
    """A JSON object, passed on as it is (the service that takes it checks its entries)."""

    default_error_messages = {**REQUIRED, "invalid": "must be a JSON object."}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("invalid")
        return data


class PublicId(serializers.Field):
    """32 hex digits (dashes allowed): a kasm_id, user_id, image_id, ... as a UUID."""

    default_error_messages = {**REQUIRED, "invalid": "must be 32 hex characters (a UUID)."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            return uuid.UUID(data)
        except ValueError:
            self.fail("invalid")


class Input(serializers.Serializer):
    """Fields not declared are ignored (Kasm's clients send more than some calls read); a nested
    Input is a JSON object."""

    default_error_messages = {**REQUIRED, "invalid": "must be a JSON object."}


def validated(serializer: type[Input], data: object) -> dict:
    """The checked input, or ApiError 400 naming the first bad field."""
    checked = serializer(data=data)
    if checked.is_valid():
        return checked.validated_data
    raise ApiError(400, _first_problem(checked.errors))


def _first_problem(errors, path: tuple[str, ...] = ()) -> str:
    if isinstance(errors, dict):
        name, problem = next(iter(errors.items()))
        if name == "non_field_errors":
            return _first_problem(problem, path)
        return _first_problem(problem, (*path, name))
    if isinstance(errors, list):
        return _first_problem(errors[0], path)
    where = f"Field '{'.'.join(path)}' " if path else "The body "
    return where + str(errors)


class Credentials(Input):
    api_key = Text()
    api_key_secret = Text()
