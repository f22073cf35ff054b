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
            raise BadJson(f"the key '{key}' appears twice")
        seen[key] = value
    return seen


def _number(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise BadJson(f"{text} is out of range")
    return value


def _constant(name: str):
    raise BadJson(f"{name} is not a number JSON allows")


def clean_text(value: str) -> str | None:
    """What is wrong with a string from a request, or None."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (a lone surrogate)"
    return None


def check_value(value, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise BadJson(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        problem = clean_text(value)
        if problem:
            raise BadJson(f"a text {problem}")
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
            raise UnsupportedMediaType(
                f"send JSON with 'Content-Type: application/json', not "
                f"'{request.content_type or 'nothing'}'"
            )
        data = json.loads(
            request.body,
            object_pairs_hook=_pairs,
            parse_float=_number,
            parse_constant=_constant,
        )
        check_value(data)
        return data
