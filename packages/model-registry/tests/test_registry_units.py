"""The pure parts, in-process: label encoding, the promotion rule, the traffic split, the settings checks."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from omegaconf import OmegaConf

from model_registry import (
    Champion,
    RegistryError,
    decide,
    decode_float,
    encode_float,
    recorded_figure,
    rule,
    split_traffic,
    version_labels,
)
from model_registry.executor_input import hydra_safe_args, output_file
from model_registry.naming import label_problem
from model_registry.settings import service

finite = st.floats(allow_nan=False, allow_infinity=False)


@given(finite)
def test_a_figure_survives_a_label_exactly(value: float) -> None:
    text = encode_float(value)
    assert label_problem("metric-val_accuracy", text) is None
    assert decode_float(text) == value and math.copysign(1, decode_float(text)) == math.copysign(1, value)


@pytest.mark.parametrize("text", ["", "0.8", "0_8_1", "1e+5", "nan", "inf", "0x1p-1", "1_", "_5"])
def test_label_text_register_model_did_not_write_reads_as_nothing(text: str) -> None:
    assert decode_float(text) is None


def test_a_version_records_its_metrics_packages_and_artifact() -> None:
    metrics = {
        "val_accuracy": 0.81201171875,
        "test_accuracy": 0.8115234375,
        "test_loss": float("nan"),
        "weights_sha256": "AB" * 32,
        "provenance": {"dataset": {"dataset": "fashion_mnist"}, "packages": {"torch": "2.14.1+cu121"}},
    }
    labels = version_labels(metrics, "val_accuracy", "gs://b/m", {"team": "vision"})
    assert labels["team"] == "vision"
    assert labels["metric-val_accuracy"] == "0_81201171875"
    assert "metric-test_loss" not in labels  # not finite: no label
    assert labels["pkg-torch"] == "2_14_1_cu121"
    assert labels["pkg-hydra-vertex-model-registry"] == "0_1_0"
    assert labels["dataset"] == "fashion_mnist"
    assert labels["weights-sha256"] == "ab" * 16
    assert recorded_figure(labels, "gs://b/m/", "val_accuracy") == (0.81201171875, "")


def test_labels_written_for_another_artifact_are_not_the_versions_figure() -> None:
    labels = version_labels({"val_accuracy": 0.9}, "val_accuracy", "gs://b/other", {})
    figure, why = recorded_figure(labels, "gs://b/m", "val_accuracy")
    assert figure is None and "artifact-uri-sha256" in why
    figure, why = recorded_figure(labels, "gs://b/other", "val_loss")
    assert figure is None and "metric-val_loss" in why


CHAMPION = Champion("4", 0.85)


@pytest.mark.parametrize(
    ("candidate", "margin", "promoted"),
    [(0.86, 0.0, True), (0.85, 0.0, False), (0.84, 0.0, False), (0.855, 0.01, False), (0.8601, 0.01, True)],
)
def test_the_new_version_must_beat_the_champion_by_more_than_the_margin(
    candidate: float, margin: float, promoted: bool
) -> None:
    decision = decide(candidate, CHAMPION, rule("champion", "val_accuracy", margin, "auto"))
    assert decision.promoted is promoted
    assert decision.candidate == candidate and decision.champion == CHAMPION
    assert repr(candidate) in decision.reason and "0.85" in decision.reason


def test_a_loss_is_lower_is_better() -> None:
    how = rule("champion", "val_loss", 0.0, "auto")
    assert how.goal == "minimize"
    assert decide(0.3, Champion("1", 0.4), how).promoted
    assert not decide(0.5, Champion("1", 0.4), how).promoted


def test_no_champion_promotes_and_an_unknown_one_keeps_the_alias_unless_told() -> None:
    assert decide(0.1, None, rule("champion", "val_accuracy", 0.0, "auto")).promoted
    unknown = Champion("2", None, "its labels were not written for its artifact")
    kept = decide(0.99, unknown, rule("champion", "val_accuracy", 0.0, "auto"))
    assert not kept.promoted and "unknown" in kept.reason
    assert decide(0.99, unknown, rule("champion", "val_accuracy", 0.0, "auto", "promote")).promoted


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("champion", "test_accuracy", 0.0, "auto"), "test-set metric"),
        (("champion", "TestAcc", 0.0, "auto"), "test-set metric"),
        (("champion", "val_accuracy", -0.1, "auto"), "negative"),
        (("champion", "val_accuracy", float("inf"), "auto"), "finite"),
        (("champion", "val_accuracy", 0.0, "up"), "goal"),
    ],
)
def test_a_bad_rule_is_refused(args: tuple, message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        rule(*args)


@pytest.mark.parametrize(
    ("current", "percentage", "expected"),
    [
        ({}, 100, {"0": 100}),
        ({}, 10, {"0": 100}),  # nothing to split with: the new model takes all
        ({"7": 0}, 30, {"0": 100}),
        ({"7": 100}, 100, {"0": 100}),  # the others drop out of the split, as aiplatform sends it
        ({"7": 100}, 30, {"7": 70, "0": 30}),
        ({"7": 70, "8": 30}, 20, {"7": 56, "8": 24, "0": 20}),
        ({"7": 50, "8": 50}, 33, {"7": 34, "8": 33, "0": 33}),
        ({"5": 0, "7": 33, "8": 67}, 50, {"7": 17, "8": 33, "0": 50}),  # no leftover point for the 0 % one
    ],
)
def test_the_rest_of_the_traffic_stays_split_in_proportion(current, percentage, expected) -> None:
    assert split_traffic(current, percentage) == expected


# deployed model IDs are numbers; "0" is the key of the model being deployed
@given(
    st.dictionaries(st.from_regex(r"[1-9][0-9]{0,3}", fullmatch=True), st.integers(0, 100)),
    st.integers(0, 100),
)
def test_a_split_always_adds_up_to_100(current: dict[str, int], percentage: int) -> None:
    split = split_traffic(current, percentage)
    assert sum(split.values()) == 100
    assert all(v >= 0 for v in split.values())
    assert set(split) - {"0"} <= {k for k, v in current.items() if v > 0}


@pytest.mark.parametrize(
    ("endpoint", "accepted"),
    [
        ("", None),
        ("europe-west4-aiplatform.googleapis.com", "europe-west4-aiplatform.googleapis.com"),
        ("https://vertex.example.com", "https://vertex.example.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:1", "http://localhost:1"),
        ("http://vertex.example.com", RegistryError),
        ("ftp://127.0.0.1", RegistryError),
    ],
)
def test_plain_http_reaches_only_a_loopback_server(endpoint: str, accepted) -> None:
    gcp = {"project": "p", "location": "us-central1", "api_endpoint": endpoint}
    if accepted is RegistryError:
        with pytest.raises(RegistryError, match="loopback"):
            service(gcp)
    else:
        assert service(gcp).api_endpoint == accepted


def test_the_executor_input_reaches_hydra_intact_and_names_the_output_file(tmp_path) -> None:
    given = {
        "outputs": {"outputFile": str(tmp_path / "out'$.json")},
        "inputs": {"parameterValues": {"x": "'${a}'"}},
    }
    args = hydra_safe_args(
        ["kfp.output_file={{$.outputs.output_file}}", f"kfp.executor_input='{json.dumps(given)}'"]
    )
    assert args[0] == "kfp.output_file=null"  # the KFP launcher leaves that placeholder as it is
    assert "'" not in args[1][len("kfp.executor_input='") : -1] and "${" not in args[1]
    text = args[1][len("kfp.executor_input='") : -1]
    assert json.loads(text) == given
    kfp = OmegaConf.create({"output_file": None, "executor_input": text})
    assert output_file(kfp) == tmp_path / "out'$.json"
    with pytest.raises(RegistryError, match="not a JSON object"):
        hydra_safe_args(["kfp.executor_input='[1]'"])
