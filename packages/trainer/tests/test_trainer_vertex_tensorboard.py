"""AIP_TENSORBOARD_LOG_DIR: the trainer writes TensorBoard event files there (a gs:// URI through the job's
/gcs/ mount), beside the configured loggers; a URI it cannot write is one line before anything trains."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainer import TrainerError
from trainer.vertex_tensorboard import ENV, log_dir_from_env


def _scalars(log_dir: Path) -> dict[str, int]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(log_dir))
    events.Reload()
    return {tag: len(events.Scalars(tag)) for tag in events.Tags()["scalars"]}


def test_the_trainer_writes_its_metrics_where_vertex_says(
    run_cli, fast_overrides: list[str], tmp_path
) -> None:
    pytest.importorskip("tensorboard")
    log_dir = tmp_path / "vertex-tb"
    result = run_cli(*fast_overrides, "trainer.max_epochs=2", env={ENV: str(log_dir)})
    assert result.returncode == 0, result.stderr
    scalars = _scalars(log_dir)  # event files straight in the directory: one run for Vertex AI TensorBoard
    assert scalars["val/acc"] == 2 and scalars["val/loss"] == 2, scalars
    assert "test/acc" in scalars
    assert not (log_dir / "version_0").exists()


def test_gs_uris_are_written_through_the_gcs_mount(tmp_path: Path) -> None:
    (tmp_path / "my-bucket").mkdir()
    uri = "gs://my-bucket/jobs/123/logs/"
    assert log_dir_from_env({ENV: uri}, gcs_mount=tmp_path) == tmp_path / "my-bucket" / "jobs/123/logs/"
    assert log_dir_from_env({ENV: ""}, gcs_mount=tmp_path) is None
    assert log_dir_from_env({}, gcs_mount=tmp_path) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("gs://elsewhere/logs", "the bucket is not mounted at"),
        ("gs:///logs", "no bucket in the gs:// URI"),
        ("s3://bucket/logs", "expected a gs:// URI or a local directory"),
    ],
)
def test_a_log_dir_it_cannot_write_is_one_line(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(TrainerError, match=message):
        log_dir_from_env({ENV: value}, gcs_mount=tmp_path)


def test_an_unmounted_bucket_stops_the_cli_before_training(run_cli, fast_overrides: list[str]) -> None:
    result = run_cli(*fast_overrides, env={ENV: "gs://no-such-bucket-mounted/logs"})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("trainer: error: AIP_TENSORBOARD_LOG_DIR=")
    assert "Traceback" not in result.stderr
