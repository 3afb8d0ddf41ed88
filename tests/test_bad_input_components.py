"""Bad input through the real component and linter console scripts (`trainer`, `data-prepare`,
`select-best`, `serve`, `hydra-yaml-lint`): exit code, one message, no traceback, and nothing left where the command
would have written. Each row is one case a hostile or careless user tried (issue 11), Ctrl-C while the command
starts among them; pipeline-sdk's rows live in packages/pipeline-sdk/tests/test_sdk_bad_input.py."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

BIN = Path(sys.executable).parent
FASHION = Path("/usr/share/datasets/fashion-mnist")


def script(name: str) -> str:
    return shutil.which(name, path=str(BIN)) or name


def stray_label_dataset(directory: Path) -> Path:
    """Four tiny IDX files without a manifest whose labels are 0-9 plus one stray 200."""
    directory.mkdir()
    rng = np.random.default_rng(0)
    for split, count in (("train", 120), ("t10k", 40)):
        labels = np.arange(count, dtype=np.uint8) % 10
        if split == "train":
            labels[7] = 200
        images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
        header = np.array([0x803, count, 28, 28], dtype=">i4").tobytes()
        (directory / f"{split}-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + images.tobytes()))
        header = np.array([0x801, count], dtype=">i4").tobytes()
        (directory / f"{split}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(header + labels.tobytes()))
    return directory


@dataclass(frozen=True)
class Case:
    name: str
    #: the command line; ``{tmp}`` is the test's temporary directory
    argv: tuple[str, ...]
    code: int
    #: what the one message line must contain
    message: str
    #: the line that carries the message starts with this
    prefix: str
    needs_fashion: bool = False
    setup: Callable[[Path], object] | None = None
    env: dict[str, str] | None = None


TRAIN = ("trainer", f"data.data_dir={FASHION}", "paths.output_dir={tmp}/model")
# a run that stops before it reads data (Ctrl-C while starting)
STARTING = ("trainer", "data.data_dir={tmp}/none", "paths.output_dir={tmp}/model")


def ctrl_c_on_import(module: str) -> dict[str, str]:
    """The environment of a command that sends itself Ctrl-C as ``module`` is first imported."""
    hook = Path(__file__).parent / "probes" / "ctrl_c_on_import"
    return {"PYTHONPATH": str(hook), "CTRL_C_ON_IMPORT": module}


CASES = [
    Case("trainer-epochs-not-a-number", (*TRAIN, "trainer.max_epochs=abc"), 1,
         "trainer.max_epochs=abc is not valid", "trainer: error: ", needs_fashion=True),
    Case("trainer-lr-nan", (*TRAIN, "model.optimizer.lr=nan"), 1,
         "model.optimizer.lr=nan is not valid", "trainer: error: ", needs_fashion=True),
    Case("trainer-lr-negative", (*TRAIN, "model.optimizer.lr=-1"), 1,
         "model.optimizer.lr=-1 is not valid", "trainer: error: ", needs_fashion=True),
    Case("trainer-stray-label", ("trainer", "data.data_dir={tmp}/stray", "paths.output_dir={tmp}/model"), 1,
         "labels run up to 200", "trainer: error: ", setup=lambda tmp: stray_label_dataset(tmp / "stray")),
    # a replica of a Vertex AI CustomJob with a broken cluster description (issue 14)
    Case("trainer-cluster-spec-not-json", TRAIN, 1, "CLUSTER_SPEC is not valid JSON", "trainer: error: ",
         needs_fashion=True, env={"CLUSTER_SPEC": "{not json"}),
    Case("trainer-cluster-spec-index-out-of-range", TRAIN, 1, "CLUSTER_SPEC task.index 3 is out of range",
         "trainer: error: ", needs_fashion=True,
         env={"CLUSTER_SPEC": '{"cluster": {"workerpool0": ["h0:2222"], "workerpool1": ["h1:2222"]}, '
                              '"task": {"type": "workerpool1", "index": 3}}'}),
    Case("trainer-cluster-spec-nested-deep", TRAIN, 1, "CLUSTER_SPEC is nested too deeply", "trainer: error: ",
         needs_fashion=True, env={"CLUSTER_SPEC": "[" * 100_000}),
    Case("trainer-cluster-spec-superscript-port", TRAIN, 1, 'is "h0:\\u00b2", not "host:port"', "trainer: error: ",
         needs_fashion=True,
         env={"CLUSTER_SPEC": '{"cluster": {"workerpool0": ["h0:\u00b2"], "workerpool1": ["h1:2222"]}, '
                              '"task": {"type": "workerpool1", "index": 0}}'}),
    Case("select-best-executor-input-not-json", ("select-best", "kfp.executor_input='{not json'"), 1,
         "kfp.executor_input", "select-best: error: "),
    Case("select-best-executor-input-not-substituted", ("select-best", "kfp.executor_input='{{$}}'"), 1,
         "the pipeline backend did not substitute the placeholder", "select-best: error: "),
    Case("trainer-unknown-experiment", ("trainer", "experiment=nope"), 1,
         "experiment=nope: config group 'experiment' has no option 'nope' (options: fashion_mnist_cnn", "trainer: error: "),
    Case("trainer-executor-input-not-json", (*TRAIN, "kfp.executor_input='{not json'"), 1,
         "kfp.executor_input is not JSON", "trainer: error: "),
    Case("data-prepare-missing-source", ("data-prepare", "source={tmp}/nowhere", "paths.output_dir={tmp}/model"),
         1, "no such directory", "data-prepare: error: "),
    # torch's C extension imports numpy as it initialises and discards what that import raises: unheld, this
    # interrupt was lost and the run went on training
    Case("trainer-ctrl-c-as-torch-imports-numpy", STARTING, 130, "interrupted", "trainer: ",
         env=ctrl_c_on_import("numpy")),
    Case("trainer-ctrl-c-as-lightning-imports", STARTING, 130, "interrupted", "trainer: ",
         env=ctrl_c_on_import("lightning")),
    # the package's eager imports ran before the console script's guard: a traceback
    Case("serve-ctrl-c-as-numpy-imports", ("serve", "model_uri={tmp}/model", "port=0"), 130, "interrupted",
         "serve: ", env=ctrl_c_on_import("numpy")),
    Case("lint-device", ("hydra-yaml-lint", "/dev/zero"), 2, "not a regular file (a character device)",
         "hydra-yaml-lint: "),
    Case("lint-fifo", ("hydra-yaml-lint", "{tmp}/x.yaml"), 2, "not a regular file (a FIFO)", "hydra-yaml-lint: ",
         setup=lambda tmp: os.mkfifo(tmp / "x.yaml")),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_one_message_and_leaves_nothing(tmp_path: Path, case: Case) -> None:
    if case.needs_fashion and not (FASHION / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("Fashion-MNIST not installed (Debian package dataset-fashion-mnist)")
    if case.setup:
        case.setup(tmp_path)
    program, *args = (part.replace("{tmp}", str(tmp_path)) for part in case.argv)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYDRA_")} | (case.env or {})
    result = subprocess.run(
        [script(program), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == case.code, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith(case.prefix)]
    assert len(lines) == 1, result.stderr
    assert case.message in lines[0], lines[0]
    assert not (tmp_path / "model").exists()  # nothing written where the artifact would go
