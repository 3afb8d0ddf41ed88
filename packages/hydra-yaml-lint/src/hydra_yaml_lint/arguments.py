"""Read a container's ``command`` and ``args`` items into :class:`~hydra_yaml_lint.component.Arg` values:
plain strings, KFP v1 structures (``{inputValue: x}``, ``{concat: [...]}``, ``{if: ...}``) rendered as the
v2 placeholders they compile to, and v2 ``{"Concat": ...}`` / ``{"IfPresent": ...}`` JSON strings expanded
the same way."""

from __future__ import annotations

import json
from typing import Any

from hydra_yaml_lint.component import Arg, Port, StructRef
from hydra_yaml_lint.errors import ComponentError
from hydra_yaml_lint.placeholders import STRUCT_PLACEHOLDERS, scan, struct_direction, struct_placeholder
from hydra_yaml_lint.yamlsource import MappingNode, Node, ScalarNode, SequenceNode, node_position, plain_type

MAX_STRUCT_DEPTH = 32


def _str(node: Node | None) -> str | None:
    return node.value if isinstance(node, ScalarNode) else None


def _value(node: Node | None, key: str) -> Node | None:
    if not isinstance(node, MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return value_node
    return None


class ArgReader:
    """Reads argument lists; ``used_names`` collects the inputs named by ``{if: {cond: {isPresent: x}}}``."""

    def __init__(self, fmt: str, inputs: dict[str, Port], outputs: dict[str, Port]) -> None:
        self.fmt = fmt
        self.ports = {"inputs": inputs, "outputs": outputs}
        self.used_names: set[str] = set()

    def placeholder_for(self, key: str, name: str) -> str:
        port = self.ports[struct_direction(key)].get(name)
        return struct_placeholder(key, name, port.kind if port is not None else None)

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
            kind = plain_type(item)
            if kind is not None:
                raise ComponentError(
                    f"argument {item.value!r} is a YAML {kind}, not a string; quote it", *node_position(item)
                )
            arg.value = item.value
            if self.fmt == "v2" and item.value.startswith(('{"Concat"', '{"IfPresent"')):
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
                arg.value = self.placeholder_for(key, name or "") if arg.problem is None else None
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
            key, name = _str(key_node), _str(value_node)
            if key in STRUCT_PLACEHOLDERS and name is not None:
                parts.append(self.placeholder_for(key, name))
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
            raise ComponentError("'if' needs a mapping with 'cond' and 'then'", *node_position(node))
        cond = _value(node, "cond")
        if cond is None:
            raise ComponentError("'if' needs 'cond'", *node_position(node))
        condition = _value(cond, "isPresent")
        if isinstance(condition, ScalarNode):
            self.used_names.add(condition.value)
        args: list[Arg] = []
        for branch in ("then", "else"):
            branch_node = _value(node, branch)
            if branch_node is None:
                continue
            if isinstance(branch_node, SequenceNode):
                args.extend(self.read(branch_node, flow, conditional=True, depth=depth + 1))
            else:  # kfp takes a single item as a one-item list
                alone = SequenceNode("tag:yaml.org,2002:seq", [branch_node])
                for arg in self._item(alone, 0, branch_node, flow, True, depth + 1):
                    arg.composite = True  # not an item of a sequence in the file: no fix edits it
                    args.append(arg)
        return args

    def _v2_struct(self, arg: Arg) -> list[Arg]:
        try:
            struct = json.loads(arg.value or "")
        except (ValueError, RecursionError):
            arg.problem = "unreadable Concat/IfPresent placeholder (invalid JSON)"
            return [arg]
        value = self._v2_concat(struct, 0)
        if value is None and isinstance(struct, dict) and "IfPresent" in struct:
            branches = self._v2_if_present(struct["IfPresent"])
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

    def _v2_if_present(self, struct: Any) -> list[str] | None:
        if not isinstance(struct, dict) or not isinstance(struct.get("InputName"), str):
            return None
        self.used_names.add(struct["InputName"])
        texts: list[str] = []
        for branch in ("Then", "Else"):
            items = struct.get(branch)
            if items is None:
                continue
            for item in items if isinstance(items, list) else [items]:
                text = self._v2_concat(item, 0)
                if text is None:
                    return None
                texts.append(text)
        return texts

    def _v2_concat(self, struct: Any, depth: int) -> str | None:
        """The text of a v2 ``Concat``; an ``IfPresent`` inside it contributes its ``Then`` text."""
        if isinstance(struct, str):
            return struct
        if depth > MAX_STRUCT_DEPTH or not isinstance(struct, dict):
            return None
        if isinstance(struct.get("IfPresent"), dict) and depth > 0:
            inner = struct["IfPresent"]
            if not isinstance(inner.get("InputName"), str) or isinstance(inner.get("Then"), list):
                return None
            self.used_names.add(inner["InputName"])
            return self._v2_concat(inner.get("Then", ""), depth + 1)
        if not isinstance(struct.get("Concat"), list):
            return None
        parts = [self._v2_concat(part, depth + 1) for part in struct["Concat"]]
        return None if any(part is None for part in parts) else "".join(parts)  # type: ignore[arg-type]
