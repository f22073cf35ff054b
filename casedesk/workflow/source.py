"""Read a workflow file into plain data, remembering the line of every key and item.

PyYAML's composer keeps the position of every node; we walk that node tree ourselves
so that later checks can point at the exact line of a mistake. The dialect is strict:
duplicate keys are errors, and only `true`/`false` are booleans (YAML 1.1 would turn a
status called `no` or `on` into a boolean).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

Path = tuple[str | int, ...]


class SourceError(Exception):
    def __init__(self, line: int, message: str, fix: str = ""):
        super().__init__(message)
        self.line = line
        self.message = message
        self.fix = fix


@dataclass
class LineMap:
    """Line numbers (1-based) of every mapping key and sequence item, by path."""

    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int:
        """The line of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$")


def _scalar(node: yaml.ScalarNode) -> object:
    value = node.value
    if node.style is not None:  # quoted or block scalar: always a string
        return value
    if value in ("true", "True"):
        return True
    if value in ("false", "False"):
        return False
    if value in ("null", "~", ""):
        return None
    if _INT.match(value):
        return int(value)
    if _FLOAT.match(value):
        return float(value)
    return value


def _walk(node: yaml.Node, path: Path, lines: LineMap) -> object:
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, child in enumerate(node.value):
            lines.lines[(*path, index)] = child.start_mark.line + 1
            items.append(_walk(child, (*path, index), lines))
        return items
    if isinstance(node, yaml.MappingNode):
        result: dict[str, object] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise SourceError(key_node.start_mark.line + 1, "a key must be a plain name")
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key == "<<":
                raise SourceError(line, "merge keys (<<) are not supported", "write the keys out")
            if key in result:
                first = lines.lines[(*path, key)]
                raise SourceError(
                    line,
                    f"'{key}' is given twice (first on line {first})",
                    "remove or rename one of them",
                )
            lines.lines[(*path, key)] = line
            result[key] = _walk(value_node, (*path, key), lines)
        return result
    raise SourceError(node.start_mark.line + 1, "unsupported YAML construct")


def read_yaml(text: str) -> tuple[object, LineMap]:
    """Parse YAML text into plain data plus a LineMap; raises SourceError on bad syntax."""
    lines = LineMap()
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise SourceError(
                    event.start_mark.line + 1 if event.start_mark else 1,
                    "anchors and aliases (&name, *name) are not supported",
                    "write the value out where it is used",
                )
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise SourceError(line, f"not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise SourceError(1, f"not valid YAML: {exc}") from None
    if node is None:
        return None, lines
    lines.lines[()] = node.start_mark.line + 1
    return _walk(node, (), lines), lines
