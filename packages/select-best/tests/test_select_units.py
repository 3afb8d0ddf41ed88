"""The small pieces: URI mapping, the executor input's Hydra form, config flattening, chart ticks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from select_best import SelectError
from select_best.locations import hydra_inert, local_path
from select_best.report import _axis
from select_best.trials import flatten


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("gs://bucket/root/train-1/model", "/gcs/bucket/root/train-1/model"),
        ("minio://mlpipeline/v2/artifacts/x", "/minio/mlpipeline/v2/artifacts/x"),
        ("s3://b/k", "/s3/b/k"),
        ("/tmp/run/train/model", "/tmp/run/train/model"),
    ],
)
def test_uris_map_to_the_mounts_kfp_uses(uri: str, path: str) -> None:
    assert local_path(uri) == Path(path)
    kfp_dsl = pytest.importorskip("kfp.dsl")
    assert kfp_dsl.Model(uri=uri).path == path  # the same mapping as kfp's own Artifact.path


def test_an_empty_uri_is_refused() -> None:
    with pytest.raises(SelectError, match="empty URI"):
        local_path("")


@pytest.mark.parametrize(
    "value",
    ["it's", "${oc.env:HOME}", "\\", "\\'", "trailing\\", '"quoted"', "é ü", "a=b,c", "[1]", "\\${x}"],
)
def test_hydra_gives_the_rewritten_executor_input_back_verbatim(value: str) -> None:
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    original = json.dumps({"inputs": {"artifacts": {"trials": {"artifacts": [{"uri": f"/tmp/{value}"}]}}}})
    override = OverridesParser.create().parse_override(f"kfp.executor_input='{hydra_inert(original)}'")
    cfg = OmegaConf.create({"kfp": {"executor_input": None}})
    OmegaConf.update(cfg, override.key_or_group, override.value())
    assert json.loads(cfg.kfp.executor_input) == json.loads(original)


def test_flatten_keeps_lists_and_empty_mappings_as_values() -> None:
    assert flatten({"model": {"net": {"channels": [24, 48]}, "lr": 0.1}, "logger": {}}) == {
        "model.net.channels": [24, 48],
        "model.lr": 0.1,
        "logger": {},
    }


@pytest.mark.parametrize(
    ("lo", "hi", "ticks"),
    [
        (0.7402, 0.8286, [0.74, 0.76, 0.78, 0.8, 0.82, 0.84]),
        (0.726, 0.8286, [0.7, 0.75, 0.8, 0.85]),
        (0.8, 0.8, [0.795, 0.8, 0.805]),
        (1.0, 1.0, [0.995, 1.0]),
        (0.0, 0.0, [0.0, 0.005]),
        (0.1, 0.95, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    ],
)
def test_chart_ticks_are_round_and_cover_the_values(lo: float, hi: float, ticks: list[float]) -> None:
    assert _axis(lo, hi) == ticks


def test_no_trials_at_all_is_an_error() -> None:
    from select_best import select

    with pytest.raises(
        SelectError,
        match=r"no trials to choose from \(the trials input is empty: no trial produced a model\)",
    ):
        select([])


def test_select_by_a_minimized_metric_as_a_library(tmp_path: Path, trial) -> None:
    from select_best import Criterion, from_paths, load_trials, select

    dirs = [
        trial(tmp_path / "a", metrics={"val_loss": 0.4}),
        trial(tmp_path / "b", metrics={"val_loss": 0.2}),
    ]
    where = from_paths([str(d) for d in dirs], str(tmp_path / "out"))
    loss = Criterion("val_loss", "minimize")
    selection = select(load_trials(where.trials, "val_loss"), loss, [{"lr": 1}, {"lr": 2}])
    assert selection.best.number == 2
    assert selection.parameters == ["lr"]
    assert selection.rule.startswith("lowest val_loss")
    with pytest.raises(ValueError, match="loaded for another metric"):
        select(load_trials(where.trials), Criterion("f1_score"))  # judged on val_accuracy, no f1_score


@pytest.mark.parametrize(
    ("value", "trials", "expected"),
    [("", 3, None), (None, 3, None), ("[]", 0, []), ('[{"a": 1}, {}]', 2, [{"a": 1}, {}])],
)
def test_trial_parameters_parse(value: object, trials: int, expected: object) -> None:
    from select_best import parse_trial_parameters

    assert parse_trial_parameters(value, trials) == expected


def test_trial_parameters_over_the_cap_are_refused() -> None:
    from select_best import parse_trial_parameters
    from select_best.inputs import MAX_TRIAL_PARAMETERS_BYTES

    with pytest.raises(
        SelectError, match=f"trial_parameters is larger than {MAX_TRIAL_PARAMETERS_BYTES} bytes"
    ):
        parse_trial_parameters("[" + " " * MAX_TRIAL_PARAMETERS_BYTES + "]", 0)


@pytest.mark.parametrize("item", [{1: "a"}, {"": 1}])
def test_trial_parameter_names_are_non_empty_strings(item: dict) -> None:
    from select_best import parse_trial_parameters

    with pytest.raises(SelectError, match="item 1 has a parameter name that is not a non-empty string"):
        parse_trial_parameters([item], 1)


def test_an_output_rewritten_keeps_its_mode(tmp_path: Path) -> None:
    from select_best.atomic import write_text

    table = tmp_path / "table.md"
    table.write_text("old")
    table.chmod(0o640)
    write_text(table, "new")
    assert (table.read_text(), table.stat().st_mode & 0o777) == ("new", 0o640)
