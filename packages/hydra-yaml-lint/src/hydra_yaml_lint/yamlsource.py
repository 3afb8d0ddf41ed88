"""YAML text with node positions: parse with libyaml, map offsets to lines, render replacement scalars.

PyYAML's C loader (libyaml) composes nodes with marks whose ``index`` is a character offset into the
decoded text, which is what fixes edit. Only if libyaml is missing does the pure-Python loader run.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from functools import cached_property

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from hydra_yaml_lint.errors import YamlParseError

try:
    from yaml.cyaml import CParser as _Parser
except ImportError:  # pragma: no cover - libyaml is in every PyYAML wheel
    from yaml.composer import Composer as _Composer
    from yaml.parser import Parser as _PyParser
    from yaml.reader import Reader as _Reader
    from yaml.scanner import Scanner as _Scanner

    class _Parser(_Reader, _Scanner, _PyParser, _Composer):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            _Reader.__init__(self, stream)
            _Scanner.__init__(self)
            _PyParser.__init__(self)
            _Composer.__init__(self)


__all__ = [
    "MappingNode",
    "Node",
    "ScalarNode",
    "SequenceNode",
    "SourceText",
    "get_key",
    "is_null",
    "node_position",
    "plain_type",
    "render_scalar",
]

# libyaml (YAML 1.1) breaks lines on these; positions must count lines the same way.
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_NON_PRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


_TAGS = {
    ScalarNode: "tag:yaml.org,2002:str",
    SequenceNode: "tag:yaml.org,2002:seq",
    MappingNode: "tag:yaml.org,2002:map",
}


class _NodeComposer(_Parser):  # type: ignore[misc,valid-type]
    """libyaml's composer without implicit tag resolution: rules read the raw scalar text, and resolving
    every scalar's type with Python regexes would cost a third of the parse."""

    def resolve(self, kind: type, value: object, implicit: object) -> str:
        return _TAGS[kind]

    def descend_resolver(self, current_node: object, current_index: object) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


@dataclass
class SourceText:
    """Decoded file text plus its composed YAML documents."""

    text: str
    documents: list[Node] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> SourceText:
        try:
            documents = [doc for doc in yaml.compose_all(text, Loader=_NodeComposer) if doc is not None]
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            problem = " ".join(str(part) for part in (error.context, error.problem) if part)
            line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            raise YamlParseError(f"invalid YAML: {problem or error}", line, column) from None
        except yaml.YAMLError as error:
            raise YamlParseError(f"invalid YAML: {error}") from None
        except RecursionError:
            raise YamlParseError("invalid YAML: nested too deeply to parse") from None
        return cls(text, documents)

    @cached_property
    def _line_starts(self) -> list[int]:
        return [0, *(match.end() for match in _LINE_BREAK.finditer(self.text))]

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        starts = self._line_starts
        line = bisect.bisect_right(starts, offset) - 1
        return line + 1, offset - starts[line] + 1

    def line_start(self, offset: int) -> int:
        starts = self._line_starts
        return starts[bisect.bisect_right(starts, offset) - 1]

    def line_end(self, offset: int) -> int:
        """Offset just past the line break of the line holding ``offset`` (or the end of the text)."""
        starts = self._line_starts
        index = bisect.bisect_right(starts, offset)
        return starts[index] if index < len(starts) else len(self.text)

    def span(self, node: Node) -> tuple[int, int]:
        return node.start_mark.index, node.end_mark.index


def node_position(node: Node | None) -> tuple[int, int]:
    """1-based (line, column) where ``node`` starts; (1, 1) without a node."""
    mark = node.start_mark if node is not None else None
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def get_key(node: Node | None, key: str) -> tuple[ScalarNode, Node] | None:
    """The (key node, value node) pair of ``key`` in a mapping node, else None."""
    if not isinstance(node, MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


_resolver = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"


def plain_type(node: Node) -> str | None:
    """For a plain (unquoted) scalar that YAML reads as another type, that type's name (``int``,
    ``float``, ``bool``, ``null``, ...); None for a string."""
    if not isinstance(node, ScalarNode) or node.style or node.tag != _STR_TAG:
        return None  # libyaml gives plain scalars the style "", PyYAML's own parser None
    tag = _resolver.resolve(ScalarNode, node.value, (True, False))
    return None if tag == _STR_TAG else tag.rsplit(":", 1)[-1]


def is_null(node: Node | None) -> bool:
    """Whether ``node`` is absent or YAML null (``key:`` with nothing after it, ``~``, ``null``)."""
    return node is None or plain_type(node) == "null"


_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW_PLAIN = re.compile(r"[\w./=+~$()-]+")


def _plain_safe(value: str, flow: bool) -> bool:
    """Whether ``value`` can be written as a plain scalar and read back as this same string.

    Conservative: anything doubtful is quoted instead."""
    if not value or value != value.strip() or value[0] in _INDICATORS or _NON_PRINTABLE.search(value):
        return False
    if any(c in value for c in "\n\r\t") or ": " in value or " #" in value or value.endswith(":"):
        return False
    if flow and not _FLOW_PLAIN.fullmatch(value):
        return False  # libyaml ends flow plain scalars at more characters than the spec says
    return _resolver.resolve(ScalarNode, value, (True, False)) == _STR_TAG


def _double_quoted(value: str) -> str:
    dumped = json.dumps(value, ensure_ascii=False)
    return _NON_PRINTABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", dumped)


def render_scalar(value: str, style: str | None, flow: bool) -> str:
    """YAML source for a string scalar, keeping ``style`` (None = plain, ``'`` or ``"``) when it can."""
    if style is None and _plain_safe(value, flow):
        return value
    if style == "'" and not _NON_PRINTABLE.search(value) and "\n" not in value and "\r" not in value:
        return "'" + value.replace("'", "''") + "'"
    return _double_quoted(value)
