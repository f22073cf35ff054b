"""Strict input: JSON bodies only as JSON, and nothing a database or a person would choke
on (duplicate keys, NaN and infinities, NUL characters, lone surrogates, deep nesting)."""

from __future__ import annotations

import json
import math

from ninja.parser import Parser

from .errors import BadJson, UnsupportedMediaType

MAX_DEPTH = 20


def _pairs(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise BadJson("api.json.duplicate_key", key=str(key)[:80])
        seen[key] = value
    return seen


def _number(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise BadJson("api.json.out_of_range", value=text[:40])
    return value


def _constant(name: str):
    raise BadJson("api.json.not_a_number", value=name)


def clean_text(value: str) -> str | None:
    """The code of what is wrong with a string from a request, or None."""
    if "\x00" in value:
        return "input.nul"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "input.not_unicode"
    return None


def check_value(value, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise BadJson("api.json.too_deep", limit=MAX_DEPTH)
    if isinstance(value, str):
        problem = clean_text(value)
        if problem:
            raise BadJson("api.json.text")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_value(key, depth + 1)
            check_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_value(item, depth + 1)


class StrictJsonParser(Parser):
    def parse_body(self, request):
        if request.content_type != "application/json":
            raise UnsupportedMediaType(request.content_type or "-")
        data = json.loads(
            request.body,
            object_pairs_hook=_pairs,
            parse_float=_number,
            parse_constant=_constant,
        )
        check_value(data)
        return data
