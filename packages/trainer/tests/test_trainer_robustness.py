"""Bad input and interruptions: one message, the right exit code, no traceback, nothing half-written."""

from __future__ import annotations

import fcntl
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from trainer import TrainerError, load_idx_dataset
from trainer.atomic import atomic_write, write_text
from trainer.config_checks import check_config


def _one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr and len(lines) == 1, stderr
    assert lines[0].startswith("trainer: error: ")
    return lines[0].removeprefix("trainer: error: ")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("trainer.max_epochs=abc", "trainer.max_epochs=abc is not valid: expected an integer >= 1"),
        ("model.optimizer.lr=abc", "model.optimizer.lr=abc is not valid: expected a finite number > 0"),
        ("model.optimizer.lr=nan", "model.optimizer.lr=nan is not valid: expected a finite number > 0"),
        ("model.optimizer.lr=-1", "model.optimizer.lr=-1 is not valid: expected a finite number > 0"),
        ("data.batch_size=0", "data.batch_size=0 is not valid: expected an integer >= 1"),
        (
            "data.batches_per_iteration=0",
            "data.batches_per_iteration=0 is not valid: expected an integer >= 1",
        ),
    ],
)
def test_bad_config_values_are_refused_before_anything_is_written(
    run_cli, tiny_data: Path, tmp_path: Path, override: str, message: str
) -> None:
    out = tmp_path / "out"
    result = run_cli(f"data.data_dir={tiny_data}", f"paths.output_dir={out}", override)
    assert result.returncode == 1
    assert _one_error_line(result.stderr).startswith(message)
    assert not out.exists()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("seed", 1.5),
        ("trainer.max_epochs", 0),
        ("trainer.log_every_n_steps", 0),
        ("trainer.gradient_clip_val", float("inf")),
        ("data.val_size", -1),
        ("data.augment.enabled", "maybe"),
        ("model.label_smoothing", 1.0),
        ("model.optimizer.weight_decay", -0.1),
        ("model.compile", "yes"),
    ],
)
def test_config_checks_name_the_key_and_value(key: str, value: object) -> None:
    from trainer import compose_config

    cfg = compose_config()
    OmegaConf.update(cfg, key, value)
    with pytest.raises(TrainerError, match=rf"^{key.replace('.', '[.]')}=.* is not valid: expected "):
        check_config(cfg)


def test_config_checks_accept_the_defaults_and_documented_values() -> None:
    from trainer import compose_config

    for overrides in (
        [],
        ["seed=null", "trainer.max_epochs=-1", "trainer.gradient_clip_val=0.5"],
        ["model=mlp"],
    ):
        check_config(compose_config(overrides))


def test_an_unexpected_label_without_a_manifest_is_refused(
    run_cli, make_data, set_labels, tmp_path: Path
) -> None:
    data = make_data(manifest=False)
    labels = load_idx_dataset(data).train_labels.copy()
    labels[0] = 200
    set_labels(data, "train", labels)
    out = tmp_path / "out"
    result = run_cli(f"data.data_dir={data}", f"paths.output_dir={out}")
    assert result.returncode == 1
    assert "labels run up to 200 with no example of 3-199" in _one_error_line(result.stderr)
    assert not out.exists()


def test_a_second_run_into_a_busy_output_directory_is_refused(
    run_cli, tiny_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    fd = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # what a running trainer holds
        result = run_cli(f"data.data_dir={tiny_data}", f"paths.output_dir={out}", "logger=none")
    finally:
        os.close(fd)
    assert result.returncode == 1
    assert f"output directory {out} is in use by another trainer run" in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr
    assert list(out.iterdir()) == []


@pytest.mark.filterwarnings("ignore:Experiment logs directory")
def test_why_two_runs_may_not_share_a_directory(tmp_path: Path) -> None:
    """Two CSV loggers on one metrics.csv: the failure seen once under load (issue 11), reproduced."""
    from lightning.pytorch.loggers import CSVLogger

    first, second = (CSVLogger(save_dir=tmp_path, name="csv", version="") for _ in range(2))
    first.log_metrics({"train/loss": 1.0}, step=49)
    first.save()
    second.log_metrics({"train/loss": 0.9}, step=49)
    second.log_metrics({"train/acc": 0.8, "train/loss_epoch": 0.9}, step=60)
    second.save()  # the other run got further: its rows carry epoch-end columns
    first.log_metrics({"val/acc": 0.7}, step=60)
    fields = "'(train/acc|train/loss_epoch)'"
    with pytest.raises(ValueError, match=f"dict contains fields not in fieldnames: {fields}, {fields}"):
        first.save()  # rewrites the shared file under its own header, reading the other run's rows


def test_files_get_the_umask_mode(fast, tiny_data: Path, tmp_path: Path, trainer_command: str) -> None:
    out = tmp_path / "out"
    args = [
        f"data.data_dir={tiny_data}",
        f"paths.output_dir={out}",
        "trainer.max_epochs=1",
        *fast,
        "logger=csv",
    ]
    result = subprocess.run(
        [trainer_command, *args],
        cwd=tmp_path,
        preexec_fn=lambda: os.umask(0o022),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    files = [p for p in out.rglob("*") if p.is_file()]
    names = {p.relative_to(out).as_posix() for p in files}
    assert {
        "model.pt",
        "config.yaml",
        "metrics.json",
        "checkpoints/last.ckpt",
        "logs/csv/metrics.csv",
    } <= names
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: "0o644" for p in files}


def test_atomic_write_honours_the_umask_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    old = os.umask(0o077)
    try:
        write_text(target, "first")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    def fail(f: object) -> None:
        f.write(b"half")  # type: ignore[attr-defined]
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, fail)
    assert target.read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json"]


def test_a_failed_run_leaves_no_empty_directories(run_cli, fast, tiny_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(
        f"data.data_dir={tiny_data}", f"paths.output_dir={out}", "model.optimizer.lr=1e38", *fast
    )
    assert result.returncode == 1 and "training loss became nan" in result.stderr
    assert not out.exists()


def _start(trainer_command: str, args: list[str], cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.Popen(
        [trainer_command, *args],
        cwd=cwd,
        env=env,
        # a shell's background job ignores SIGINT; a user's terminal does not
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_ctrl_c_during_training(fast, tiny_data: Path, tmp_path: Path, trainer_command: str) -> None:
    out = tmp_path / "out"
    args = [f"data.data_dir={tiny_data}", f"paths.output_dir={out}", "trainer.max_epochs=500", *fast]
    proc = _start(trainer_command, [*args, "model.scheduler=null"], tmp_path)
    ckpt = out / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 120
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and stderr.strip().splitlines()[-1] == "trainer: interrupted"
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert not (out / "model.pt").exists() and not (out / "metrics.json").exists()
    import torch

    assert torch.load(ckpt, weights_only=True)["epoch"] >= 0  # complete: the next run resumes from it


def test_ctrl_c_while_starting(tiny_data: Path, tmp_path: Path, trainer_command: str) -> None:
    out = tmp_path / "out"
    proc = _start(trainer_command, [f"data.data_dir={tiny_data}", f"paths.output_dir={out}"], tmp_path)
    time.sleep(1.0)  # importing Hydra, torch, Lightning
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and stderr.strip().splitlines()[-1] == "trainer: interrupted"
    assert not out.exists()


def test_ctrl_c_while_publishing_waits_for_the_complete_set(tmp_path: Path) -> None:
    from trainer.interrupts import interrupts_deferred

    with pytest.raises(KeyboardInterrupt), interrupts_deferred():
        write_text(tmp_path / "a", "1")
        os.kill(os.getpid(), signal.SIGINT)
        write_text(tmp_path / "b", "2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_rewritten_file_keeps_its_mode_and_a_new_one_gets_opens(tmp_path: Path) -> None:
    kept = tmp_path / "metrics.json"
    kept.write_text("old")
    kept.chmod(0o600)
    write_text(kept, "new")
    assert (kept.read_text(), kept.stat().st_mode & 0o777) == ("new", 0o600)
    fresh = tmp_path / "config.yaml"
    write_text(fresh, "a: 1\n")
    umask = os.umask(0)
    os.umask(umask)
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~umask
