"""Property-based tests: garbage in gives diagnostics (never an exception), fixes keep YAML valid and
leave everything else alone, and the override fast path agrees with Hydra's parser."""

from __future__ import annotations

import string
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hydra_yaml_lint import Settings, fix_text, lint_text
from hydra_yaml_lint.errors import YamlParseError
from hydra_yaml_lint.linter import lint_files
from hydra_yaml_lint.overrides import _DICT_KEY, _ELEMENT, SIMPLE_OVERRIDE, _parse_with_hydra
from hydra_yaml_lint.rules import ALL_RULES
from hydra_yaml_lint.yamlsource import SourceText, render_scalar

CODES = frozenset(ALL_RULES)
OFFLINE = Settings(discover_configs=False)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _lint(text: str) -> list:
    diagnostics = lint_text(text, "x.yaml", settings=OFFLINE, codes=CODES)
    lines = max(1, text.count("\n") + 1)
    for diagnostic in diagnostics:
        assert diagnostic.code in ALL_RULES and diagnostic.severity in ("error", "warning")
        assert diagnostic.line >= 1 and diagnostic.column >= 1
        assert diagnostic.line <= lines + text.count("\r") + text.count("\x85") + text.count("\u2028") + 1
    return diagnostics


@FAST
@given(st.text(max_size=400))
def test_any_text_gives_diagnostics_not_exceptions(text: str) -> None:
    _lint(text)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_on_disk(tmp_path_factory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("bytes") / "f.yaml"
    path.write_bytes(data)
    lint_files([path], config=OFFLINE)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.text(alphabet=string.printable, max_size=12),
    st.sampled_from(
        ["--lr", "{{$.inputs.parameters['x']}}", "a=1,2", "{{$}}", "{$.x", "x={{$.outputs.output_file}}"]
    ),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "name",
                    "type",
                    "inputValue",
                    "inputPath",
                    "outputPath",
                    "concat",
                    "if",
                    "cond",
                    "then",
                    "else",
                    "isPresent",
                    "container",
                    "args",
                    "command",
                    "x",
                ]
            ),
            children,
            max_size=3,
        ),
    ),
    max_leaves=20,
)


@FAST
@given(
    inputs=values,
    outputs=values,
    implementation=values,
    container=values,
    args=values,
    command=values,
    flow=st.booleans(),
)
def test_wrong_types_everywhere(inputs, outputs, implementation, container, args, command, flow) -> None:
    component = {
        "name": "t",
        "inputs": inputs,
        "outputs": outputs,
        "implementation": {"container": {"image": "i", "command": command, "args": args}},
    }
    for document in (
        component,
        {**component, "implementation": implementation},
        {"implementation": {"container": container}},
    ):
        text = yaml.safe_dump(document, default_flow_style=flow)
        _lint(text)
        fixed, _ = fix_text(text, "x.yaml", settings=OFFLINE, codes=CODES, unsafe=True)
        SourceText.parse(fixed)


HEADER = """\
# header comment: must never change
name: train
inputs:
- {name: lr, type: Float}
- {name: learning_rate, type: Float}
- {name: dataset, type: Dataset}
- {name: experiment, type: String}
outputs:
- {name: model, type: Model}
- {name: score, type: Float}
implementation:
  container:
    image: trainer:0.1.0
    command: [trainer]
"""
ARG_PIECES = [
    "--lr",
    "--learning-rate",
    "-v",
    "--epochs=3",
    "--config-name",
    "train",
    "{inputValue: lr}",
    "{inputPath: dataset}",
    "{outputPath: model}",
    "{inputValue: model}",
    "{inputValue: nope}",
    "\"{{$.inputs.parameters['lr']}}\"",
    "'x={{$.inputs.parameters[\"lr\"]}}'",
    "y={{$.inputs.artifacts['model'].path}}",
    "z={{$.inputs.parameters['dataset']}}",
    "w={{$.inputs.artifacts[experiment].uri}}",
    "s={{$.outputs.parameters['score'].output_file}}",
    "a=1,2",
    "b=1",
    "b=2",
    "fit",
    "'with: colon'",
    "{concat: [c=, {inputValue: lr}]}",
    "e='{{$.inputs.parameters['experiment']}}'",
    "--x  # comment",
    "q={{$.inputs.parameters['learning_rat']}}",
]


@FAST
@given(pieces=st.lists(st.sampled_from(ARG_PIECES), max_size=10), flow=st.booleans(), unsafe=st.booleans())
def test_fixes_keep_yaml_valid_and_the_rest_byte_identical(
    pieces: list[str], flow: bool, unsafe: bool
) -> None:
    if flow:
        items = [piece.split("  #")[0] for piece in pieces]
        body = "    args: [" + ", ".join(items) + "]\n"
    else:
        body = "    args:\n" + "".join(f"    - {piece}\n" for piece in pieces) if pieces else "    args: []\n"
    text = HEADER + body + "# trailing comment\n"
    try:
        SourceText.parse(text)
    except YamlParseError:
        return
    fixed, remaining = fix_text(text, "x.yaml", settings=OFFLINE, codes=CODES, unsafe=unsafe)
    SourceText.parse(fixed)
    assert fixed.startswith(HEADER) and fixed.endswith("# trailing comment\n")
    assert not [d for d in remaining if d.fix is not None and (d.fix.safe or unsafe)]
    assert fix_text(fixed, "x.yaml", settings=OFFLINE, codes=CODES, unsafe=unsafe)[0] == fixed
    before = yaml.safe_load(text)["implementation"]["container"]["args"] or []
    after = yaml.safe_load(fixed)["implementation"]["container"]["args"] or []
    assert len(after) <= len(before)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(SIMPLE_OVERRIDE, fullmatch=True))
def test_fast_path_agrees_with_hydras_parser(text: str) -> None:
    match = SIMPLE_OVERRIDE.fullmatch(text)
    assert match is not None
    key, operation, is_sweep, error = _parse_with_hydra(text)
    assert error is None
    assert key == match["key"]
    assert not is_sweep
    assert operation == {"": "change", "+": "add", "++": "force-add"}[match["prefix"]]


def test_deep_nesting_and_huge_files(tmp_path: Path) -> None:
    deep = "implementation:\n  container:\n    args:\n    - " + "{concat: [" * 200 + "a" + "]}" * 200 + "\n"
    assert [d.code for d in _lint(deep)] == ["HY102"]
    assert [d.code for d in _lint("[" * 50000 + "]" * 50000)] == ["HY900"]
    huge = tmp_path / "huge.yaml"
    huge.write_bytes(b"a: b\n" * (4 * 1024 * 1024))
    [result] = lint_files([huge], config=OFFLINE)
    assert [d.code for d in result.diagnostics] == ["HY900"]
    assert "larger than" in result.diagnostics[0].message


_elements = st.from_regex(f"\\A{_ELEMENT}\\Z")
_keys = st.from_regex(f"\\A{_DICT_KEY}\\Z")


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.lists(_elements, max_size=4).map(lambda items: "k=[" + ",".join(items) + "]"),
        st.lists(st.tuples(_keys, _elements), max_size=4).map(
            lambda pairs: "k={" + ",".join(f"{key}:{value}" for key, value in pairs) + "}"
        ),
    )
)
def test_fast_path_lists_and_dicts_agree_with_hydras_parser(text: str) -> None:
    assert SIMPLE_OVERRIDE.fullmatch(text)
    assert _parse_with_hydra(text) == ("k", "change", False, None)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.sampled_from([None, "'", '"']), st.booleans())
def test_rendered_scalars_read_back_as_the_same_string(value: str, style: str | None, flow: bool) -> None:
    rendered = render_scalar(value, style, flow)
    probe = f"[{rendered}, end]" if flow else f"- {rendered}\n- end\n"
    assert yaml.safe_load(probe) == [value, "end"]
