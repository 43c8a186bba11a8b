"""JSON from outside, read so that no document makes the server fail: nesting deeper than
Python's parser goes is an error the caller sees (400, a form error), never a 500."""

from __future__ import annotations

import json

from django import forms
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

TOO_DEEP = "The JSON nests deeper than this server reads."


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, answering 400 for a document nested too deep (`[[[[...`)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None


class BoundedJSONFormField(forms.JSONField):
    """A form's JSON field that reports a too-deep document under its own name."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except RecursionError:
            raise forms.ValidationError(TOO_DEEP, code="invalid") from None

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return forms.fields.InvalidJSONInput(data)


def json_loads_bounded(text: str | bytes):
    """`json.loads`, raising ValueError (like any malformed document) when it nests too deep."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(TOO_DEEP) from None
