"""Fixtures for pipeline-sdk's tests: the repo's configs, component variants, tiny IDX data, the CLI."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
COMPONENTS = REPO / "configs" / "components"
PROBE_APP = Path(__file__).with_name("hydra_probe_app.py")
PROBE_SELECT = Path(__file__).with_name("probe_select.py")
IDX_FILES = {
    "train-images-idx3-ubyte.gz": ("train", 2051),
    "train-labels-idx1-ubyte.gz": ("train", 2049),
    "t10k-images-idx3-ubyte.gz": ("test", 2051),
    "t10k-labels-idx1-ubyte.gz": ("test", 2049),
}


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests find configs/pipeline.yaml through the repo, never through a developer's environment."""
    monkeypatch.delenv("PIPELINE_SDK_CONFIG_DIR", raising=False)
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


def write_component(path: Path, base: str, container: dict[str, Any] | None = None, **fields: Any) -> Path:
    """A copy of ``configs/components/<base>.yaml`` with container keys / top-level fields replaced."""
    spec = yaml.safe_load((COMPONENTS / f"{base}.yaml").read_text())
    spec.update(fields)
    spec["implementation"]["container"].update(container or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture
def component(tmp_path: Path) -> Callable[..., Path]:
    """``component(name, base, container={...})`` writes a variant of a repo component YAML."""

    def make(name: str, base: str, container: dict[str, Any] | None = None, **fields: Any) -> Path:
        return write_component(tmp_path / "components" / f"{name}.yaml", base, container, **fields)

    return make


@pytest.fixture
def probe_train(component: Callable[..., Path]) -> Path:
    """configs/components/train.yaml with its args, run by the Hydra probe app instead of the trainer."""
    return component(
        "probe_train", "train", {"image": "localhost/probe:1", "command": ["python", str(PROBE_APP)]}
    )


@pytest.fixture
def tiny_train(component: Callable[..., Path]) -> Path:
    """configs/components/train.yaml with a validation split the tiny dataset can hold: the real trainer."""
    # hatch's compat envs (newest/oldest Python) install the trainer without its torch stack
    pytest.importorskip("lightning", reason="the real trainer needs torch and lightning")
    args = yaml.safe_load((COMPONENTS / "train.yaml").read_text())["implementation"]["container"]["args"]
    return component("tiny_train", "train", {"args": [*args, "data.val_size=20"]})


@dataclass
class TinyDataset:
    """Four tiny IDX files plus the data-prepare overrides that accept them from a local directory."""

    directory: Path
    counts: dict[str, int]

    def data_prepare_args(self) -> list[str]:
        digests = {
            name: "sha256:" + hashlib.sha256((self.directory / name).read_bytes()).hexdigest()
            for name in IDX_FILES
        }
        checksums = ", ".join(f'{name}: "{digest}"' for name, digest in digests.items())
        return [
            f"source={self.directory}",
            f"dataset.counts.train={self.counts['train']}",
            f"dataset.counts.test={self.counts['test']}",
            f"dataset.checksums={{{checksums}}}",
        ]


def _idx(magic: int, array: np.ndarray) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> TinyDataset:
    """A learnable tiny dataset: each class is a bright band at its own rows, plus noise."""
    rng = np.random.default_rng(0)
    counts = {"train": 200, "test": 50}
    directory = tmp_path / "tiny-idx"
    directory.mkdir()
    for split, n in counts.items():
        labels = np.arange(n) % 10
        images = rng.integers(0, 60, (n, 28, 28))
        for i, label in enumerate(labels):
            images[i, 2 * label : 2 * label + 4, :] = 255
        prefix = "train" if split == "train" else "t10k"
        (directory / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx(2051, images), mtime=0))
        (directory / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx(2049, labels), mtime=0))
    return TinyDataset(directory, counts)


@pytest.fixture
def tiny_data_prepare(component: Callable[..., Path], tiny_dataset: TinyDataset) -> Path:
    """configs/components/data_prepare.yaml pointed at the tiny dataset."""
    spec = yaml.safe_load((COMPONENTS / "data_prepare.yaml").read_text())
    args = [a for a in spec["implementation"]["container"]["args"] if not a.startswith("source=")]
    return component("tiny_data_prepare", "data_prepare", {"args": args + tiny_dataset.data_prepare_args()})


@dataclass
class SdkResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def run_dir(self) -> Path:
        return Path(self.stdout.strip().splitlines()[-1])

    def run_json(self) -> dict[str, Any]:
        return json.loads((self.run_dir / "run.json").read_text())


def _sdk_executable() -> str:
    return shutil.which("pipeline-sdk", path=str(Path(sys.executable).parent)) or "pipeline-sdk"


@pytest.fixture
def sdk(tmp_path: Path) -> Callable[..., SdkResult]:
    """Run the ``pipeline-sdk`` console script from the repo root; returns exit code and output."""

    def run(
        *args: str,
        env: dict[str, str] | None = None,
        cwd: Path = REPO,
        timeout: float = 600,
        umask: int | None = None,
    ) -> SdkResult:
        full_env = {
            k: v for k, v in os.environ.items() if k not in ("PIPELINE_SDK_CONFIG_DIR", "HYDRA_FULL_ERROR")
        }
        full_env.update(env or {})
        done = subprocess.run(
            [_sdk_executable(), *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            umask=-1 if umask is None else umask,
        )
        return SdkResult(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    """A local pipeline root for ``pipeline-sdk run`` (``local.root``)."""
    return tmp_path / "runs"


def assert_clean_error(result: SdkResult, *fragments: str, code: int = 1) -> None:
    """One ``pipeline-sdk ...: error:`` message, the given exit code, no traceback."""
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert "error:" in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


@pytest.fixture
def clean_error() -> Callable[..., None]:
    return assert_clean_error


@pytest.fixture
def probe_select(tmp_path: Path) -> Path:
    """A KFP v2 component YAML with select-best's interface, run by tests/probe_select.py."""
    sys.path.insert(0, str(PROBE_SELECT.parent))
    try:
        import probe_select as module
    finally:
        sys.path.pop(0)
    return module.write_component(tmp_path / "components" / "probe_select.yaml")


@pytest.fixture
def probe_overrides(tiny_data_prepare: Path, probe_train: Path, probe_select: Path, runs: Path) -> list[str]:
    """Overrides that make a sweep's steps the probes (fast, no training), with runs under ``runs``."""
    return [
        f"steps.data-prepare.component={tiny_data_prepare}",
        f"steps.train.component={probe_train}",
        f"sweep.steps.select-best.component={probe_select}",
        f"local.root={runs}",
    ]
