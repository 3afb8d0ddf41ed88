"""Parameter values are data: escaping for Hydra quoted strings, checked with Hydra's own parser."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline_sdk.errors import ParameterError
from pipeline_sdk.params import (
    ParameterUse,
    hydra_quoted_text,
    input_placeholder,
    read_override_value,
    wire_values,
)

NASTY = [
    "a,b",
    "x y",
    "k=v",
    "[1,2]",
    "{a: 1}",
    "${oc.env:SOME_SECRET}",
    "${oc.env:SOME_SECRET,default}",
    "it's",
    '"double"',
    "back\\slash",
    "trailing\\",
    "\\${escaped}",
    "\\\\${x}",
    "\\'",
    "",
    "null",
    "42",
    "true",
    "~x",
    "+x=1",
    "a=b,c=d",
    "line\nbreak",
    "ünïcödé ✓",
]


def quoted(value: str) -> str:
    return "experiment='" + hydra_quoted_text(value) + "'"


@pytest.mark.parametrize("value", NASTY)
def test_quoted_values_read_back_verbatim(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_SECRET", "hunter2")
    assert read_override_value(quoted(value)) == value


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab ,=[]{}()'\"\\$:~+*?%#@!")), max_size=24))
def test_any_text_round_trips_through_hydra(value: str) -> None:
    if value == "???":  # OmegaConf's "missing" marker: rejected by wire_values, covered below
        return
    assert read_override_value(quoted(value)) == value


def uses(
    arg: str, name: str = "experiment", task: str = "train", input_name: str | None = None
) -> dict[str, list[ParameterUse]]:
    return {name: [ParameterUse(task, arg, input_placeholder(input_name or name))]}


def test_wire_values_escape_quoted_uses_only() -> None:
    placeholder = input_placeholder("experiment")
    wired = wire_values({"experiment": "${oc.env:X} it's", "epochs": 3}, uses(f"experiment='{placeholder}'"))
    assert wired == {"experiment": "\\${oc.env:X} it\\'s", "epochs": 3}
    assert wire_values({"experiment": "plain"}, uses(f"experiment={placeholder}")) == {"experiment": "plain"}


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("a,b", "Hydra reads it as a sweep"),
        ("[1,2]", "the app would receive [1, 2]"),
        ("k=v", "Hydra cannot parse it"),
        ("${oc.env:HOME}", "the app would resolve the ${...} in it"),  # never what it resolves to
        ("42", "the app would receive 42"),
    ],
)
def test_unquoted_uses_reject_values_hydra_would_change(value: str, why: str) -> None:
    placeholder = input_placeholder("dataset_name")
    with pytest.raises(ParameterError) as caught:
        wire_values(
            {"dataset": value}, uses(f"dataset={placeholder}", "dataset", "data-prepare", "dataset_name")
        )
    message = str(caught.value)
    assert message.startswith(
        f"params.dataset: the value {value!r} cannot reach task 'data-prepare' verbatim"
    )
    assert why in message


def test_missing_marker_is_rejected_even_when_quoted() -> None:
    placeholder = input_placeholder("experiment")
    with pytest.raises(ParameterError, match="Missing mandatory value"):
        wire_values({"experiment": "???"}, uses(f"experiment='{placeholder}'"))


def test_a_parameter_inside_a_larger_value_is_refused() -> None:
    placeholder = input_placeholder("experiment")
    with pytest.raises(ParameterError, match="inside the larger value"):
        wire_values({"experiment": "x"}, uses(f"name=run-{placeholder}"))


def test_mixed_quoted_and_unquoted_uses_refuse_values_that_need_escaping() -> None:
    placeholder = input_placeholder("experiment")
    both = {
        "experiment": [
            ParameterUse("train", f"experiment='{placeholder}'", placeholder),
            ParameterUse("eval", f"name={placeholder}", placeholder),
        ]
    }
    assert wire_values({"experiment": "plain"}, both) == {"experiment": "plain"}
    with pytest.raises(ParameterError, match="task 'eval' uses it unquoted"):
        wire_values({"experiment": "it's"}, both)


def test_a_value_escaped_for_a_custom_job_and_sent_to_a_plain_task_too_is_refused() -> None:
    placeholder = input_placeholder("experiment")
    both = {
        "experiment": [
            ParameterUse("train", f"experiment='{placeholder}'", placeholder, in_payload=True),
            ParameterUse("eval", f"experiment='{placeholder}'", placeholder),
        ]
    }
    assert wire_values({"experiment": "plain, a=b"}, both) == {"experiment": "plain, a=b"}
    with pytest.raises(ParameterError, match="CustomJob step 'train' but task 'eval' would receive"):
        wire_values({"experiment": 'a"b'}, both)
