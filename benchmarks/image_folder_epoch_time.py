"""The trainer's epoch time on an image_folder artifact against the IDX files of the same images.

Fashion-MNIST's OS copy is written as a folder of 28x28 grey PNGs (one folder per class), published with
``data-prepare dataset=image_folder``, and the trainer's default preset is trained on that artifact and on the
OS copy's IDX files, alternating, ``--reps`` times each: median and spread of the epoch times (the training
loop only, from ``metrics.json``) and of the whole ``train()`` call (which includes reading the files), with
their ratio. The artifact holds the same pixels, so the goal is a ratio of 1.0 within the noise.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from cpu import cpu_model  # this directory, on sys.path when run as a script

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
RESULTS = Path(__file__).parent / "results" / "image_folder_epoch_time.json"
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def _idx(path: Path) -> np.ndarray:
    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def write_folder(root: Path) -> None:
    from PIL import Image

    for split, (images, labels) in FILES.items():
        pixels, classes = _idx(FASHION_MNIST / images), _idx(FASHION_MNIST / labels)
        for label in range(10):
            (root / split / f"class-{label}").mkdir(parents=True)
        for i, (image, label) in enumerate(zip(pixels, classes, strict=True)):
            Image.fromarray(image, mode="L").save(root / split / f"class-{label}" / f"{i:05d}.png")


def train_once(data_dir: Path, out: Path, epochs: int) -> tuple[list[float], float]:
    started = time.perf_counter()
    command = [
        str(Path(sys.executable).parent / "trainer"),
        f"data.data_dir={data_dir}",
        f"paths.output_dir={out}",
        f"trainer.max_epochs={epochs}",
        "logger=none",
        "progress=none",
        "trainer.accelerator=cpu",
    ]
    subprocess.run(command, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - started
    return json.loads((out / "metrics.json").read_text())["epoch_times_s"], wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not (FASHION_MNIST / FILES["train"][0]).is_file():
        sys.exit("needs the OS copy of Fashion-MNIST (apt-get install dataset-fashion-mnist)")
    with tempfile.TemporaryDirectory() as tmp:
        folder, artifact = Path(tmp) / "folder", Path(tmp) / "artifact"
        write_folder(folder)
        started = time.perf_counter()
        subprocess.run(
            [
                str(Path(sys.executable).parent / "data-prepare"),
                "dataset=image_folder",
                f"source={folder}",
                f"paths.output_dir={artifact}",
            ],
            check=True,
            capture_output=True,
        )
        prepare_s = time.perf_counter() - started
        epochs: dict[str, list[float]] = {"image_folder": [], "idx": []}
        walls: dict[str, list[float]] = {"image_folder": [], "idx": []}
        for rep in range(args.reps):
            for name, data in (("image_folder", artifact), ("idx", FASHION_MNIST)):
                times, wall = train_once(data, Path(tmp) / f"{name}-{rep}", args.epochs)
                epochs[name] += times
                walls[name].append(wall)
                print(f"{name} rep {rep}: epochs {[round(t, 2) for t in times]} s, train() {wall:.1f} s")

    def summary(values: list[float]) -> dict[str, float]:
        return {"median": statistics.median(values), "min": min(values), "max": max(values)}

    result = {
        "cpu": cpu_model(),
        "cores": len(os.sched_getaffinity(0)),
        "prepare_s": round(prepare_s, 2),
        "epoch_s": {name: summary(values) for name, values in epochs.items()},
        "train_wall_s": {name: summary(values) for name, values in walls.items()},
        "epoch_ratio": statistics.median(epochs["image_folder"]) / statistics.median(epochs["idx"]),
        "wall_ratio": statistics.median(walls["image_folder"]) / statistics.median(walls["idx"]),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
