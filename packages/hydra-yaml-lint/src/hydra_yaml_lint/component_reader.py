"""Read container components out of composed YAML: KFP v1 component files and KFP v2 IR (compiled
components and pipelines, YAML or JSON). A field of a shape kfp refuses to load raises
:class:`~hydra_yaml_lint.errors.ComponentError` (HY901); shapes kfp accepts (an empty ``outputs:``, a single
item as an ``if`` branch) are read the way kfp reads them."""

from __future__ import annotations

import os
from typing import Any, Literal

from hydra_yaml_lint.arguments import ArgReader
from hydra_yaml_lint.component import Component, Port
from hydra_yaml_lint.errors import ComponentError
from hydra_yaml_lint.kinds import V2_PARAMETER_TYPES, Kind, kind_of
from hydra_yaml_lint.program import read_program
from hydra_yaml_lint.yamlsource import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    SourceText,
    get_key,
    is_null,
    node_position,
    plain_type,
)

__all__ = ["read_components"]


def _str(node: Node | None) -> str | None:
    return node.value if isinstance(node, ScalarNode) else None


def _expect(node: Node | None, kind: type, what: str) -> Any:
    if node is not None and not isinstance(node, kind):
        expected = {MappingNode: "a mapping", SequenceNode: "a list", ScalarNode: "a string"}[kind]
        raise ComponentError(f"{what} must be {expected}", *node_position(node))
    return node


def _value(node: Node | None, key: str) -> Node | None:
    pair = get_key(node, key)
    return pair[1] if pair else None


def _read_container(component: Component, container: MappingNode) -> None:
    reader = ArgReader(component.format, component.inputs, component.outputs)
    command_length = 0
    for key in ("command", "args"):
        node = _value(container, key)
        if is_null(node):
            continue
        _expect(node, SequenceNode, f"container {key}")
        component.argv.extend(reader.read(node, flow=False))
        if key == "command":
            command_length = len(component.argv)
    component.used_names = reader.used_names
    values = [arg.value if arg.struct is None else None for arg in component.argv]
    component.program = read_program(values, command_length)


# ---------------------------------------------------------------- v1


def _v1_ports(node: Node | None, direction: Literal["inputs", "outputs"]) -> dict[str, Port]:
    ports: dict[str, Port] = {}
    if is_null(node):
        return ports
    _expect(node, SequenceNode, direction)
    for item in node.value:  # type: ignore[union-attr]  # checked just above
        _expect(item, MappingNode, f"each entry of {direction}")
        fields = {key.value: value for key, value in item.value if isinstance(key, ScalarNode)}
        name = _expect(fields.get("name"), ScalarNode, f"{direction} name")
        if name is None:
            raise ComponentError(f"an entry of {direction} has no name", *node_position(item))
        if plain_type(name) is not None:
            raise ComponentError(f"{direction} name {name.value!r} must be a string", *node_position(name))
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
            declaration=item,
            typed=type_node is not None and not is_null(type_node),
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
    )
    _read_container(component, container)
    return [component]


# ---------------------------------------------------------------- v2


def _v2_ports(definitions: Node | None, direction: Literal["inputs", "outputs"]) -> dict[str, Port]:
    ports: dict[str, Port] = {}
    if is_null(definitions):
        return ports
    _expect(definitions, MappingNode, f"{direction[:-1]}Definitions")
    for section in ("parameters", "artifacts"):
        entries = _expect(_value(definitions, section), MappingNode, f"{direction[:-1]}Definitions.{section}")
        for key_node, spec in entries.value if entries is not None else []:
            if not isinstance(key_node, ScalarNode):
                raise ComponentError(f"{section} names must be strings", *node_position(key_node))
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
                is_list=_str(_value(spec, "isArtifactList")) == "true",
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
        )
        _read_container(component, container)
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
