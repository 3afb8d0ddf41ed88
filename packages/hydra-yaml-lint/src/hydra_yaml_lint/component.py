"""The linter's data model: a container component, its declared inputs and outputs, its arguments and the
placeholders in them, each node with its position so rules can point at it and fixes can edit it.

This module is the bottom of the linter's own imports: readers (:mod:`~hydra_yaml_lint.component_reader`,
:mod:`~hydra_yaml_lint.arguments`) build these values, analyses and rules read them, and nothing computed
about a component is stored on it (the lint context keeps those results, see
:mod:`~hydra_yaml_lint.context`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from hydra_yaml_lint.kinds import Kind
from hydra_yaml_lint.placeholders import (
    STRUCT_PLACEHOLDERS,
    BraceProblem,
    Placeholder,
    struct_direction,
    struct_placeholder,
)
from hydra_yaml_lint.program import Program
from hydra_yaml_lint.yamlsource import MappingNode, Node, ScalarNode, SequenceNode, SourceText

__all__ = ["Arg", "Component", "Port", "Reference", "StructRef"]


@dataclass
class StructRef:
    """A v1 ``{inputValue: name}``-style structure."""

    key: str
    name: str | None
    node: MappingNode
    name_node: Node | None


@dataclass
class Arg:
    """One element of a container's command or args, as the container will receive it."""

    node: Node
    seq: SequenceNode
    index: int
    flow: bool
    value: str | None = None  # the string the container receives (structures rendered as v2 placeholders)
    struct: StructRef | None = None  # a lone v1 structure
    composite: bool = False  # {concat: ...} or a v2 JSON Concat: no 1:1 source positions
    conditional: bool = False  # inside an {if: ...} branch
    problem: str | None = None  # an unknown or broken structure
    placeholders: tuple[Placeholder, ...] = ()
    brace_problems: tuple[BraceProblem, ...] = ()

    @property
    def style(self) -> str | None:
        return self.node.style if isinstance(self.node, ScalarNode) else None

    def source_offset(self, source: SourceText, offset: int) -> int:
        """Source offset of ``value[offset]``, or of the argument itself when they don't map 1:1."""
        start, end = source.span(self.node)
        if self.composite or self.value is None or not isinstance(self.node, ScalarNode):
            return start
        quote = 1 if self.style in ("'", '"') else 0
        if source.text[start + quote : end - quote] == self.value:
            return start + quote + offset
        return start


@dataclass
class Port:
    """A declared input or output."""

    name: str
    direction: Literal["inputs", "outputs"]
    kind: Kind
    type_name: str
    node: Node  # the name
    default: str | None = None
    optional: bool = False
    declaration: MappingNode | None = None  # the v1 `- {name: ..., type: ...}` mapping
    typed: bool = True  # False for a v1 input or output without `type:` (kfp makes it an artifact)
    is_list: bool = False  # a list of artifacts (v2 `isArtifactList`)


@dataclass
class Reference:
    """A use of a declared name: a placeholder inside a string or a lone v1 structure."""

    arg: Arg
    direction: str
    section: str | None  # None: a v1 structure that accepts either kind
    name: str
    placeholder: Placeholder | None = None
    struct: StructRef | None = None


@dataclass(eq=False)  # compared by identity: the lint context keys what it computes on the object
class Component:
    """One container with its declared inputs and outputs.

    ``argv`` is ``command`` followed by ``args``; ``program`` says what it runs, and ``args`` are that
    program's own arguments (what a Hydra app reads as overrides).
    """

    source: SourceText
    path: str
    format: Literal["v1", "v2"]
    name: str
    node: Node
    inputs: dict[str, Port]
    outputs: dict[str, Port]
    argv: list[Arg] = field(default_factory=list)
    program: Program = field(default_factory=lambda: Program("none"))
    used_names: set[str] = field(default_factory=set)  # names used by {if: {cond: {isPresent: ...}}}

    @property
    def args(self) -> list[Arg]:
        return self.argv[self.program.start :]

    def port(self, name: str) -> Port | None:
        return self.inputs.get(name) or self.outputs.get(name)

    def placeholder_for(self, struct: StructRef) -> str:
        """The v2 placeholder text a v1 structure compiles to."""
        ports = self.inputs if struct_direction(struct.key) == "inputs" else self.outputs
        port = ports.get(struct.name or "")
        return struct_placeholder(struct.key, struct.name or "", port.kind if port is not None else None)

    @cached_property
    def references(self) -> list[Reference]:
        refs: list[Reference] = []
        for arg in self.argv:
            if (
                arg.struct is not None
                and arg.struct.key in STRUCT_PLACEHOLDERS
                and arg.struct.name is not None
            ):
                direction, section = STRUCT_PLACEHOLDERS[arg.struct.key]
                refs.append(Reference(arg, direction, section, arg.struct.name, struct=arg.struct))
            for placeholder in arg.placeholders:
                if placeholder.is_io and placeholder.name is not None:
                    refs.append(
                        Reference(
                            arg,
                            placeholder.direction or "",
                            placeholder.section,
                            placeholder.name,
                            placeholder=placeholder,
                        )
                    )
        return refs

    @cached_property
    def passes_executor_input(self) -> bool:
        """Whether the container gets the whole executor input (``{{$}}``), every input included."""
        return any(
            (arg.struct is not None and arg.struct.key == "executorInput")
            or any(p.is_executor_input for p in arg.placeholders)
            for arg in self.argv
        )
