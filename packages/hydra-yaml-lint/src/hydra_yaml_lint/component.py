"""Read container components out of composed YAML: KFP v1 component files and KFP v2 IR (compiled
components and pipelines). Every node keeps its position so rules can point at it and fixes can edit it."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from hydra_yaml_lint.kinds import V2_PARAMETER_TYPES, Kind, kind_of
from hydra_yaml_lint.placeholders import BraceProblem, Placeholder, io_placeholder, scan
from hydra_yaml_lint.yamlsource import MappingNode, Node, ScalarNode, SequenceNode, SourceText, get_key

# v1 structures that stand for one placeholder: key -> (direction, section or None for "by declared kind")
STRUCT_PLACEHOLDERS: dict[str, tuple[str, str | None]] = {
    "inputValue": ("inputs", "parameters"),
    "inputPath": ("inputs", None),
    "inputUri": ("inputs", "artifacts"),
    "outputPath": ("outputs", None),
    "outputUri": ("outputs", "artifacts"),
    "inputMetadata": ("inputs", "artifacts"),
    "outputMetadata": ("outputs", "artifacts"),
}
_STRUCT_ATTRIBUTE = {
    "inputPath": ".path",
    "inputUri": ".uri",
    "outputPath": ".path",
    "outputUri": ".uri",
    "inputMetadata": ".metadata",
    "outputMetadata": ".metadata",
}
_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
_SHELLS = frozenset({"sh", "bash", "/bin/sh", "/bin/bash", "zsh", "dash"})
MAX_STRUCT_DEPTH = 32


class ComponentError(Exception):
    """The file is a component but a field has the wrong shape."""

    def __init__(self, message: str, node: Node | None) -> None:
        super().__init__(message)
        self.message = message
        self.node = node


@dataclass
class Port:
    """A declared input or output."""

    name: str
    direction: Literal["inputs", "outputs"]
    kind: Kind
    type_name: str
    node: Node
    default: str | None = None
    optional: bool = False


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
class Reference:
    """A use of a declared name: a placeholder inside a string or a lone v1 structure."""

    arg: Arg
    direction: str
    section: str | None  # None: a v1 structure that accepts either kind
    name: str
    placeholder: Placeholder | None = None
    struct: StructRef | None = None


@dataclass
class Component:
    """One container with its declared inputs and outputs."""

    source: SourceText
    path: str
    format: Literal["v1", "v2"]
    name: str
    node: Node
    inputs: dict[str, Port]
    outputs: dict[str, Port]
    args: list[Arg]
    command_name: str | None  # the console script that runs the container
    entry_module: str | None = None  # or the module of `python -m module`
    used_names: set[str] = field(default_factory=set)  # names used by {if: {cond: {isPresent: ...}}}
    analysis: dict[str, Any] = field(default_factory=dict)  # per-component cache shared by rules

    def port(self, name: str) -> Port | None:
        return self.inputs.get(name) or self.outputs.get(name)

    def placeholder_for(self, struct: StructRef) -> str:
        """The v2 placeholder text a v1 structure compiles to."""
        if struct.key == "executorInput":
            return "{{$}}"
        direction, section = STRUCT_PLACEHOLDERS[struct.key]
        name = struct.name or ""
        port = (self.inputs if direction == "inputs" else self.outputs).get(name)
        kind = port.kind if port else ("parameter" if section == "parameters" else "artifact")
        if section is None:
            section = "parameters" if kind == "parameter" else "artifacts"
        if section == "parameters":
            return io_placeholder(direction, section, name, ".output_file" if direction == "outputs" else "")
        return io_placeholder(direction, section, name, _STRUCT_ATTRIBUTE.get(struct.key, ".path"))

    @property
    def references(self) -> list[Reference]:
        cached = self.analysis.get("references")
        if cached is None:
            cached = self.analysis["references"] = list(_references(self))
        return cached


def _references(component: Component) -> list[Reference]:
    refs: list[Reference] = []
    for arg in component.args:
        if arg.struct is not None and arg.struct.key in STRUCT_PLACEHOLDERS and arg.struct.name is not None:
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


def _str(node: Node | None) -> str | None:
    return node.value if isinstance(node, ScalarNode) else None


def _expect(node: Node | None, kind: type, what: str) -> Any:
    if node is not None and not isinstance(node, kind):
        expected = {MappingNode: "a mapping", SequenceNode: "a list", ScalarNode: "a string"}[kind]
        raise ComponentError(f"{what} must be {expected}", node)
    return node


def _value(node: Node | None, key: str) -> Node | None:
    pair = get_key(node, key)
    return pair[1] if pair else None


# ---------------------------------------------------------------- arguments


class _ArgReader:
    def __init__(self, component: Component) -> None:
        self.component = component

    def read(self, seq: SequenceNode, flow: bool, conditional: bool = False, depth: int = 0) -> list[Arg]:
        flow = flow or bool(seq.flow_style)
        args: list[Arg] = []
        for index, item in enumerate(seq.value):
            args.extend(self._item(seq, index, item, flow, conditional, depth))
        return args

    def _item(
        self, seq: SequenceNode, index: int, item: Node, flow: bool, conditional: bool, depth: int
    ) -> list[Arg]:
        arg = Arg(item, seq, index, flow, conditional=conditional)
        if depth > MAX_STRUCT_DEPTH:
            arg.problem = "placeholder structures nested too deeply"
            return [arg]
        if isinstance(item, ScalarNode):
            arg.value = item.value
            if self.component.format == "v2" and item.value.startswith(('{"Concat"', '{"IfPresent"')):
                return self._v2_struct(arg)
        elif (
            isinstance(item, MappingNode)
            and len(item.value) == 1
            and isinstance(item.value[0][0], ScalarNode)
        ):
            key_node, value_node = item.value[0]
            key = key_node.value
            if key in STRUCT_PLACEHOLDERS or key == "executorInput":
                name = _str(value_node)
                if key != "executorInput" and name is None:
                    arg.problem = f"'{key}' needs an input or output name"
                arg.struct = StructRef(key, name, item, value_node)
                arg.value = self.component.placeholder_for(arg.struct) if arg.problem is None else None
            elif key == "concat":
                arg.composite = True
                arg.value = self._concat(value_node, depth)
                if arg.value is None:
                    arg.problem = "'concat' needs a list of strings and placeholders"
            elif key == "if":
                return self._if(value_node, flow, depth)
            elif "=" in key or key.startswith("-"):
                arg.problem = "YAML reads this argument as a mapping (a ': ' inside a plain string); quote it"
            else:
                arg.problem = f"unknown placeholder structure {{{key}: ...}}"
        else:
            arg.problem = "an argument must be a string or a placeholder structure"
        if arg.value is not None:
            arg.placeholders, arg.brace_problems = scan(arg.value)
        return [arg]

    def _concat(self, node: Node, depth: int) -> str | None:
        if not isinstance(node, SequenceNode):
            return None
        parts: list[str] = []
        for part in node.value:
            if isinstance(part, ScalarNode):
                parts.append(part.value)
                continue
            if not (isinstance(part, MappingNode) and len(part.value) == 1):
                return None
            key_node, value_node = part.value[0]
            key = _str(key_node)
            if key in STRUCT_PLACEHOLDERS and _str(value_node) is not None:
                parts.append(
                    self.component.placeholder_for(StructRef(key, _str(value_node), part, value_node))
                )
            elif key == "executorInput":
                parts.append("{{$}}")
            elif key == "concat" and depth < MAX_STRUCT_DEPTH:
                inner = self._concat(value_node, depth + 1)
                if inner is None:
                    return None
                parts.append(inner)
            else:
                return None
        return "".join(parts)

    def _if(self, node: Node, flow: bool, depth: int) -> list[Arg]:
        if not isinstance(node, MappingNode):
            raise ComponentError("'if' needs a mapping with 'cond' and 'then'", node)
        condition = _value(_value(node, "cond"), "isPresent")
        if isinstance(condition, ScalarNode):
            self.component.used_names.add(condition.value)
        args: list[Arg] = []
        for branch in ("then", "else"):
            branch_node = _value(node, branch)
            if branch_node is None:
                continue
            if not isinstance(branch_node, SequenceNode):
                raise ComponentError(f"'if' {branch} must be a list", branch_node)
            args.extend(self.read(branch_node, flow, conditional=True, depth=depth + 1))
        return args

    def _v2_struct(self, arg: Arg) -> list[Arg]:
        try:
            struct = json.loads(arg.value or "")
        except (ValueError, RecursionError):
            arg.problem = "unreadable Concat/IfPresent placeholder (invalid JSON)"
            return [arg]
        value = _v2_concat(struct, 0)
        if value is None and isinstance(struct, dict) and "IfPresent" in struct:
            branches = _v2_if_present(struct["IfPresent"], self.component)
            if branches is None:
                arg.problem = "malformed IfPresent placeholder"
                return [arg]
            out = []
            for text in branches:
                branch_arg = Arg(arg.node, arg.seq, arg.index, arg.flow, value=text, composite=True)
                branch_arg.conditional = True
                branch_arg.placeholders, branch_arg.brace_problems = scan(text)
                out.append(branch_arg)
            return out
        if value is None:
            arg.problem = "malformed Concat placeholder"
            return [arg]
        arg.value, arg.composite = value, True
        arg.placeholders, arg.brace_problems = scan(value)
        return [arg]


def _v2_concat(struct: Any, depth: int) -> str | None:
    if isinstance(struct, str):
        return struct
    if depth > MAX_STRUCT_DEPTH or not isinstance(struct, dict) or not isinstance(struct.get("Concat"), list):
        return None
    parts = [_v2_concat(part, depth + 1) for part in struct["Concat"]]
    return None if any(part is None for part in parts) else "".join(parts)  # type: ignore[arg-type]


def _v2_if_present(struct: Any, component: Component) -> list[str] | None:
    if not isinstance(struct, dict) or not isinstance(struct.get("InputName"), str):
        return None
    component.used_names.add(struct["InputName"])
    texts: list[str] = []
    for branch in ("Then", "Else"):
        items = struct.get(branch)
        if items is None:
            continue
        for item in items if isinstance(items, list) else [items]:
            text = _v2_concat(item, 0)
            if text is None:
                return None
            texts.append(text)
    return texts


def _command_tail(command: list[Arg]) -> tuple[list[Arg], str | None, str | None]:
    """The part of ``command`` that carries Hydra arguments, the console script and the `-m` module."""
    if not command or command[0].value is None:
        return command, None, None
    program = command[0].value
    executable = os.path.basename(program)
    if executable in _SHELLS:
        return [], None, None
    if _PYTHON.match(executable):
        for position in range(1, len(command)):
            value = command[position].value or ""
            if value == "-m" and position + 1 < len(command):
                return command[position + 2 :], None, command[position + 1].value
            if value == "-c":
                return [], None, None
            if not value.startswith("-"):
                return command[position + 1 :], None, None
        return [], None, None
    return command[1:], executable, None


def _is_kfp_python_component(command: list[Arg], args: list[Arg]) -> bool:
    return any("kfp.dsl.executor_main" in (arg.value or "") for arg in command) or any(
        arg.value == "--executor_input" for arg in args
    )


def _container_args(component: Component, container: MappingNode) -> bool:
    """Fill in the component's arguments; False for a KFP lightweight Python component (not Hydra)."""
    reader = _ArgReader(component)
    lists: dict[str, list[Arg]] = {}
    for key in ("command", "args"):
        node = _expect(_value(container, key), SequenceNode, f"container {key}")
        lists[key] = reader.read(node, flow=False) if node is not None else []
    command, args = lists["command"], lists["args"]
    if _is_kfp_python_component(command, args):
        return False
    tail, component.command_name, component.entry_module = _command_tail(command)
    component.args = tail + args
    for arg in command[: len(command) - len(tail)]:  # e.g. a `sh -c` script may use inputs too
        component.used_names.update(p.name for p in arg.placeholders if p.name)
    return True


# ---------------------------------------------------------------- v1


def _v1_ports(node: Node | None, direction: Literal["inputs", "outputs"]) -> dict[str, Port]:
    ports: dict[str, Port] = {}
    if node is None:
        return ports
    _expect(node, SequenceNode, direction)
    for item in node.value:
        _expect(item, MappingNode, f"each entry of {direction}")
        fields = {key.value: value for key, value in item.value if isinstance(key, ScalarNode)}
        name = _expect(fields.get("name"), ScalarNode, f"{direction} name")
        if name is None:
            raise ComponentError(f"an entry of {direction} has no name", item)
        type_node = fields.get("type")
        type_spec: Any = type_node.value if isinstance(type_node, ScalarNode) else None
        if isinstance(type_node, MappingNode) and type_node.value:
            type_spec = {_str(type_node.value[0][0]): None}
        default = fields.get("default")
        optional = _str(fields.get("optional"))
        ports[name.value] = Port(
            name.value,
            direction,
            kind_of(type_spec),
            type_spec
            if isinstance(type_spec, str)
            else ("Artifact" if type_spec is None else str(type_spec)),
            name,
            default=_str(default),
            optional=(optional or "").lower() == "true" or default is not None,
        )
    return ports


def _v1_component(source: SourceText, path: str, root: MappingNode) -> list[Component]:
    implementation = _value(root, "implementation")
    _expect(implementation, MappingNode, "implementation")
    container = _value(implementation, "container")
    if container is None:
        return []  # a graph component: nothing runs in a container
    _expect(container, MappingNode, "implementation.container")
    name = _expect(_value(root, "name"), ScalarNode, "name")
    component = Component(
        source,
        path,
        "v1",
        name.value if name is not None else os.path.basename(path),
        container,
        inputs=_v1_ports(_value(root, "inputs"), "inputs"),
        outputs=_v1_ports(_value(root, "outputs"), "outputs"),
        args=[],
        command_name=None,
    )
    return [component] if _container_args(component, container) else []


# ---------------------------------------------------------------- v2


def _v2_ports(definitions: Node | None, direction: Literal["inputs", "outputs"]) -> dict[str, Port]:
    ports: dict[str, Port] = {}
    if definitions is None:
        return ports
    _expect(definitions, MappingNode, f"{direction[:-1]}Definitions")
    for section in ("parameters", "artifacts"):
        entries = _expect(_value(definitions, section), MappingNode, f"{direction[:-1]}Definitions.{section}")
        for key_node, spec in entries.value if entries is not None else []:
            if not isinstance(key_node, ScalarNode):
                raise ComponentError(f"{section} names must be strings", key_node)
            if section == "parameters":
                type_name = _str(_value(spec, "parameterType")) or "STRING"
                kind: Kind = "parameter" if type_name in V2_PARAMETER_TYPES else "artifact"
            else:
                type_name = _str(_value(_value(spec, "artifactType"), "schemaTitle")) or "system.Artifact"
                kind = "artifact"
            default = _value(spec, "defaultValue")
            ports[key_node.value] = Port(
                key_node.value,
                direction,
                kind,
                type_name,
                key_node,
                default=_str(default),
                optional=_str(_value(spec, "isOptional")) == "true" or default is not None,
            )
    return ports


def _v2_components(source: SourceText, path: str, root: MappingNode) -> list[Component]:
    executors = _expect(_value(_value(root, "deploymentSpec"), "executors"), MappingNode, "executors")
    if executors is None:
        return []
    definitions = _expect(_value(root, "components"), MappingNode, "components")
    by_executor: dict[str, tuple[str, Node]] = {}
    for key_node, spec in definitions.value if definitions is not None else []:
        label = _str(_value(spec, "executorLabel"))
        if label is not None and isinstance(key_node, ScalarNode):
            by_executor[label] = (key_node.value, spec)
    components: list[Component] = []
    for label_node, executor in executors.value:
        container = _value(executor, "container")
        if container is None or not isinstance(label_node, ScalarNode):
            continue  # importers and resolvers run no user container
        _expect(container, MappingNode, f"executor {label_node.value} container")
        name, spec = by_executor.get(label_node.value, (label_node.value, None))
        component = Component(
            source,
            path,
            "v2",
            name,
            container,
            inputs=_v2_ports(_value(spec, "inputDefinitions"), "inputs"),
            outputs=_v2_ports(_value(spec, "outputDefinitions"), "outputs"),
            args=[],
            command_name=None,
        )
        if _container_args(component, container):
            components.append(component)
    return components


def _looks_like_v1(document: MappingNode) -> bool:
    implementation = _value(document, "implementation")
    if implementation is None:
        return False
    if isinstance(implementation, MappingNode):
        return True
    return any(get_key(document, key) is not None for key in ("inputs", "outputs"))


def read_components(source: SourceText, path: str) -> list[Component]:
    """All container components in the file; empty when it is neither component nor pipeline YAML."""
    components: list[Component] = []
    for document in source.documents:
        if not isinstance(document, MappingNode):
            continue
        if get_key(document, "pipelineSpec") is not None and isinstance(
            _value(document, "pipelineSpec"), MappingNode
        ):
            document = _value(document, "pipelineSpec")  # a PipelineJob wrapping the IR
        if _looks_like_v1(document):
            components.extend(_v1_component(source, path, document))
        elif get_key(document, "deploymentSpec") is not None:
            components.extend(_v2_components(source, path, document))
    return components
