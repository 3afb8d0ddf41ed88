"""The linter agrees with kfp 2 itself, checked by loading components with
``kfp.components.load_component_from_text``: HY901 only where kfp refuses a component, and the
parameter/artifact classification of declared types (what HY105 relies on) as kfp makes it."""

from __future__ import annotations

import textwrap
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hydra_yaml_lint import Settings, lint_text
from hydra_yaml_lint.kinds import kind_of

components = pytest.importorskip("kfp.components")

OFFLINE = Settings(discover_configs=False)


def _kfp_loads(text: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            components.load_component_from_text(text)
        except Exception:
            return False
    return True


def _component(
    inputs: str = "- {name: x, type: String, optional: true}", args: str = "[]", extra: str = ""
) -> str:
    return textwrap.dedent(
        """\
        name: t
        inputs:
        {inputs}
        {extra}implementation:
          container:
            image: i
            args: {args}
        """
    ).format(inputs=inputs, args=args, extra=extra)


IF_SCALAR_ELSE = "\n    - if: {cond: {isPresent: x}, then: [--x, {inputValue: x}], else: --none}"
IF_SCALAR_THEN = "\n    - if: {cond: {isPresent: x}, then: --x}"

# (case, text): kfp loads each, so the linter must not call it invalid
ACCEPTED = [
    ("empty outputs", _component(extra="outputs:\n")),
    ("empty inputs", _component(inputs="").replace("inputs:\n\n", "inputs:\n")),
    ("scalar else branch", _component(args=IF_SCALAR_ELSE)),
    ("scalar then branch", _component(args=IF_SCALAR_THEN)),
    (
        "structured type",
        _component(inputs="- {name: x, type: {GCSPath: {data_type: CSV}}}", args="[{inputPath: x}]"),
    ),
    ("no name", _component().replace("name: t\n", "")),
]
# (case, text): kfp refuses each, and so does the linter (HY901)
REFUSED = [
    ("args as a mapping", _component(args="{a: b}")),
    ("inputs as a mapping", _component(inputs="  {x: 1}").replace("inputs:\n  {x: 1}", "inputs: {x: 1}")),
    ("input without a name", _component(inputs="- {type: String}")),
    ("input entry not a mapping", _component(inputs="- x")),
    ("integer argument", _component(args="[1]")),
    ("null argument", _component(args="[~]")),
    ("boolean argument", _component(args="[true]")),
    ("name as a list", _component().replace("name: t", "name: [a]")),
    ("container as a list", "name: t\nimplementation:\n  container: [a]\n"),
    ("if as a scalar", _component(args="\n    - if: x")),
    ("if without cond", _component(args="\n    - if: {then: [a]}")),
    ("integer input name", _component(inputs="- {name: 5, type: String}")),
]


@pytest.mark.parametrize(("case", "text"), ACCEPTED, ids=[case for case, _ in ACCEPTED])
def test_what_kfp_loads_is_not_invalid(case: str, text: str) -> None:
    assert _kfp_loads(text), f"kfp no longer loads the {case} case"
    codes = {d.code for d in lint_text(text, "c.yaml", settings=OFFLINE)}
    assert "HY901" not in codes


@pytest.mark.parametrize(("case", "text"), REFUSED, ids=[case for case, _ in REFUSED])
def test_what_kfp_refuses_is_invalid(case: str, text: str) -> None:
    assert not _kfp_loads(text), f"kfp now loads the {case} case"
    assert [d.code for d in lint_text(text, "c.yaml", settings=OFFLINE)] == ["HY901"]


def _kfp_kind(type_name: str) -> str:
    """How kfp classifies an input of this type when it loads a v1 component."""
    text = _component(inputs=f"- {{name: x, type: {type_name!r}}}")
    spec = components.load_component_from_text(text).component_spec
    type_ = spec.inputs["x"].type
    return "artifact" if type_.startswith(("system.", "google.")) or "@" in type_ else "parameter"


TYPE_NAMES = [
    "String", "Integer", "Float", "Boolean", "JsonObject", "JsonArray", "Dict", "List", "typing.List[int]",
    "List[str]", "Dict[str, int]", "Listing", "str", "Text", "PipelineTaskFinalStatus", "TaskConfig",
    "Dataset", "Model", "Metrics", "ClassificationMetrics", "HTML", "Artifact", "system.Dataset@0.0.1",
    "google.VertexModel", "GCSPath", "GCPProjectID", "URI", "CustomThing", "Float[32]",
]  # fmt: skip


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_kind_of_agrees_with_kfp_loading(type_name: str) -> None:
    assert kind_of(type_name) == _kfp_kind(type_name)


@settings(max_examples=60, deadline=None)
@given(st.from_regex(r"\A(typing\.)?[A-Za-z][A-Za-z0-9_.]{0,12}(\[[a-z, ]{0,8}\])?\Z"))
def test_kind_of_agrees_with_kfp_on_any_name(type_name: str) -> None:
    try:
        expected = _kfp_kind(type_name)
    except Exception:
        return  # a name kfp cannot load at all
    assert kind_of(type_name) == expected
