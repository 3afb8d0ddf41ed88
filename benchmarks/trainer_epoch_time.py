"""Trainer speed: per-epoch training time against lightning-hydra-template's data path, and time to 91 %.

Baseline (the template's MNISTDataModule path): torchvision ``FashionMNIST`` train and test sets joined and
split 55,000/5,000/10,000 with seed 42 as the template does, per-sample ``ToTensor() + Normalize((0.1307,),
(0.3081,))``, ``DataLoader(batch_size=128, num_workers=0, shuffle=True)``, trained by the trainer's
LightningModule around SimpleDenseNet (784-64-128-64-10, the template's plain Adam 1e-3) in a bare Lightning
Trainer (no logger, checkpoint, progress or validation: every saving goes to the baseline).
Ours: the trainer itself, ``train()`` of ``model=mlp data.batch_size=128`` with every other setting at its
default (55,000 training images resident on the device, validation each epoch, CSV logger, last.ckpt,
progress lines, NaN guard; ``model=mlp`` uses Adam with ``fused: true``, the same update in one kernel).
Epoch time is the training loop only (``RunHistory``, validation excluded) on both sides. Repetitions
alternate baseline and ours; the ratio is of the medians, and each repetition's own ratio is recorded.

Floor: the same step in a bare PyTorch loop (``bare_loop.py``: same network, fused Adam, ``index_select``
batches, on-device running loss/accuracy sums), run after ours in every repetition for as many epochs. The
trainer's per-step overhead is the ratio of the best epoch of each (the least disturbed by other processes).

Then the default configuration (``experiment=fashion_mnist_cnn logger=none progress=none``) trains on
Fashion-MNIST and we report its test accuracy and summed training-loop seconds. With ``--tune-lr`` the preset
is first trained with each learning rate (and each of ``--tune-seeds``), only validation accuracy is read, and
the test accuracy is measured once, for the rate with the best mean validation accuracy.

    python benchmarks/trainer_epoch_time.py [--data-dir DIR] [--reps 3] [--baseline-epochs 1] [--ours-epochs 3]
        [--threads N] [--skip-accuracy] [--tune-lr 0.002,0.004,0.008 --tune-seeds 42,1,2]

Writes benchmarks/results/trainer_epoch_time.json and .md, with the arguments it ran with.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from bare_loop import floor_epochs  # this directory, on sys.path when run as a script
from cpu import cpu_model
from torch.utils.data import ConcatDataset, DataLoader, random_split
from torchvision import datasets, transforms

from trainer import compose_config, train
from trainer.callbacks import RunHistory
from trainer.gpu_probe import use_cheap_cuda_check
from trainer.models import SimpleDenseNet
from trainer.module import ClassifierModule

RESULTS = Path(__file__).resolve().parent / "results"
RAW_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def _baseline_module() -> ClassifierModule:
    """The template's network and optimiser (plain Adam) in the trainer's LightningModule."""
    return ClassifierModule(
        net=SimpleDenseNet(), optimizer=partial(torch.optim.Adam, lr=1e-3), num_classes=10
    )


def baseline_epochs(root: Path, epochs: int) -> list[float]:
    """lightning-hydra-template's input pipeline: torchvision dataset, per-sample transforms, DataLoader."""
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    full = ConcatDataset(
        [datasets.FashionMNIST(str(root), train=train, transform=transform) for train in (True, False)]
    )
    train_set, _, _ = random_split(full, [55_000, 5_000, 10_000], generator=torch.Generator().manual_seed(42))
    loader = DataLoader(train_set, batch_size=128, num_workers=0, shuffle=True, pin_memory=False)
    history = RunHistory()
    trainer = pl.Trainer(
        max_epochs=epochs,
        accelerator="auto",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        callbacks=[history],
    )
    trainer.fit(_baseline_module(), train_dataloaders=loader)
    return history.epoch_times_s


def ours_epochs(data_dir: Path, tmp: Path, epochs: int) -> tuple[list[float], str]:
    """``trainer model=mlp data.batch_size=128 trainer.max_epochs=N``, everything else at its default."""
    output_dir = tmp / "mlp"
    shutil.rmtree(output_dir, ignore_errors=True)  # no resume: every repetition trains from scratch
    cfg = compose_config(
        [
            "model=mlp",
            "data.batch_size=128",
            f"trainer.max_epochs={epochs}",
            f"data.data_dir={data_dir}",
            f"paths.output_dir={output_dir}",
        ]
    )
    metrics = train(cfg)
    return metrics["epoch_times_s"], metrics["precision"]


def torchvision_root(data_dir: Path, tmp: Path) -> Path:
    """A torchvision root whose FashionMNIST/raw holds the files as its download step leaves them."""
    raw = tmp / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in RAW_FILES:
        (raw / name).symlink_to((data_dir / name).resolve())
        # torchvision looks for the extracted files
        with gzip.open(data_dir / name) as src, open(raw / name.removesuffix(".gz"), "wb") as dst:
            shutil.copyfileobj(src, dst)
    return tmp


PRESET = ["experiment=fashion_mnist_cnn", "logger=none", "progress=none"]


def _preset_run(data_dir: Path, output_dir: Path, *overrides: str) -> dict[str, Any]:
    shutil.rmtree(output_dir, ignore_errors=True)
    cfg = compose_config([*PRESET, f"data.data_dir={data_dir}", f"paths.output_dir={output_dir}", *overrides])
    return train(cfg)


def _accuracy_record(metrics: dict[str, Any], lr: float) -> dict[str, Any]:
    return {
        "config": " ".join(PRESET),
        "lr": lr,
        "epochs": metrics["epochs"],
        "test_accuracy": round(metrics["test_accuracy"], 4),
        "train_time_s": metrics["train_time_s"],
        "epoch_times_s": metrics["epoch_times_s"],
        "val_accuracy": round(metrics["val_accuracy"], 4),
        "saved_epoch": metrics["saved_epoch"],
    }


def preset_runs(
    data_dir: Path, tmp: Path, rates: list[float], seeds: list[int], accuracy: bool
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Choose the preset's learning rate by validation accuracy, then measure test accuracy once, for it.

    Each rate in ``rates`` is trained with each seed in ``seeds``; only validation accuracy is read and the
    rate with the best mean wins. The winner's run with the preset's seed supplies the test figure. Without
    ``rates`` the preset is run as it is.
    """
    preset = compose_config(PRESET)
    preset_lr, preset_seed = float(preset.model.optimizer.lr), int(preset.seed)
    seeds = seeds or [preset_seed]
    runs, kept = [], {}
    for lr in rates:
        val = []
        for seed in seeds:
            metrics = _preset_run(
                data_dir, tmp / f"tune-{lr}-{seed}", f"model.optimizer.lr={lr}", f"seed={seed}"
            )
            val.append(round(metrics["val_accuracy"], 4))
            print(f"lr {lr} seed {seed}: val_accuracy {metrics['val_accuracy']:.4f}", flush=True)
            if seed == preset_seed:
                kept[lr] = metrics
        runs.append({"lr": lr, "val_accuracy": val, "mean_val_accuracy": round(statistics.mean(val), 4)})
    tuning = None
    chosen_lr = preset_lr
    if runs:
        chosen_lr = max(runs, key=lambda r: r["mean_val_accuracy"])["lr"]
        tuning = {"config": " ".join(PRESET), "seeds": seeds, "runs": runs, "best_lr": chosen_lr}
        tuning["preset_lr"] = preset_lr
    if not accuracy:
        return tuning, None
    metrics = kept.get(chosen_lr) or _preset_run(
        data_dir, tmp / "cnn", f"model.optimizer.lr={chosen_lr}", f"seed={preset_seed}"
    )
    return tuning, _accuracy_record(metrics, chosen_lr)


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "lightning": pl.__version__,
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
    }
    if hasattr(os, "sched_getaffinity"):
        info["usable_cores"] = len(os.sched_getaffinity(0))
    return info


def write_results(result: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "trainer_epoch_time.json").write_text(json.dumps(result, indent=2) + "\n")
    ep = result["epoch_time"]
    lines = [
        "# trainer: per-epoch training time and time to accuracy",
        "",
        f"Command: `{result['command']}` ({result['arguments']['reps']} alternating repetitions: "
        f"{result['arguments']['baseline_epochs']} baseline and {result['arguments']['ours_epochs']} trainer "
        "epochs each).",
        "",
        f"Machine: {result['machine']['device']} ({result['machine'].get('cpu', 'CPU not recorded')}), "
        f"{result['machine'].get('usable_cores')} usable cores, "
        f"torch {result['machine']['torch']} ({result['machine']['torch_threads']} threads), "
        f"lightning {result['machine']['lightning']}; load average {result['load_average_before']} before, "
        f"{result['load_average_after']} after.",
        "",
        "SimpleDenseNet (784-64-128-64-10, Adam 1e-3: the template's plain Adam, the trainer config's fused "
        "Adam), batch 128, 55,000 Fashion-MNIST training images per epoch, the trainer's LightningModule in a "
        "Lightning loop on both sides; seconds of the training loop per epoch (median):",
        "",
        "| data path | epochs timed | median s/epoch |",
        "|---|---|---|",
        f"| lightning-hydra-template (torchvision + ToTensor/Normalize + DataLoader) | "
        f"{len(ep['baseline_s'])} | {ep['baseline_median_s']:.3f} |",
        f"| `trainer model=mlp data.batch_size=128` ({ep['ours_precision']}, fused Adam) | {len(ep['ours_s'])} | "
        f"{ep['ours_median_s']:.3f} |",
        "",
        f"**Speed-up: {ep['speedup']:.1f}x** per epoch (ratio of the medians; each repetition on its own: "
        f"{', '.join(f'{r:.1f}x' for r in ep['speedup_per_repetition'])}).",
        "",
    ]
    floor = result["overhead"]
    lines += [
        f"Per-step overhead: best trainer epoch {floor['ours_best_s']:.3f} s against the same step in a bare "
        f"PyTorch loop (`bare_loop.py`, best of {len(floor['floor_s'])} epochs) {floor['floor_best_s']:.3f} s: "
        f"**trainer/floor {floor['ratio_of_best']:.2f}x**.",
        "",
    ]
    tuning = result.get("lr_tuning")
    if tuning:
        lines += [
            f"Learning rate of `{tuning['config']}` chosen by validation accuracy (the saved model's, mean over "
            f"seeds {', '.join(map(str, tuning['seeds']))}; test accuracy not read): "
            + ", ".join(
                f"{r['lr']}: {r['mean_val_accuracy'] * 100:.2f} % ({' / '.join(f'{v * 100:.2f}' for v in r['val_accuracy'])})"
                for r in tuning["runs"]
            )
            + f"; chosen {tuning['best_lr']} (the preset has {tuning['preset_lr']}).",
            "",
        ]
    acc = result.get("accuracy")
    if acc:
        lines += [
            f"`{acc['config']} model.optimizer.lr={acc['lr']}` (small CNN): **{acc['test_accuracy'] * 100:.2f} % "
            f"test accuracy after {acc['train_time_s']:.1f} s** of training ({acc['epochs']} epochs: "
            f"{', '.join(f'{t:.1f}' for t in acc['epoch_times_s'])} s; validation {acc['val_accuracy'] * 100:.2f} %, "
            f"epoch {acc['saved_epoch']} saved).",
            "",
        ]
    (out_dir / "trainer_epoch_time.md").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/usr/share/datasets/fashion-mnist"))
    parser.add_argument("--reps", type=int, default=3, help="alternating repetitions of baseline and ours")
    parser.add_argument("--baseline-epochs", type=int, default=1, help="baseline epochs per repetition")
    parser.add_argument("--ours-epochs", type=int, default=3, help="in-memory epochs per repetition")
    parser.add_argument("--skip-accuracy", action="store_true", help="skip the default-config accuracy run")
    parser.add_argument(
        "--tune-lr",
        type=lambda text: [float(v) for v in text.split(",")],
        default=None,
        help="comma-separated learning rates: the preset's validation accuracy for each; the best is tested",
    )
    parser.add_argument(
        "--tune-seeds",
        type=lambda text: [int(v) for v in text.split(",")],
        default=None,
        help="comma-separated seeds for each --tune-lr rate (default: the preset's seed)",
    )
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch intra-op threads for both sides (default: torch's choice, one per core); 1 avoids "
        "OpenMP thrashing when other processes compete for the cores",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    import warnings

    warnings.filterwarnings("ignore")  # Lightning's num_workers advice is the point of the baseline
    use_cheap_cuda_check()  # what train() does; done here so every baseline repetition gets it too
    pl.seed_everything(0, verbose=False)
    load_before = [round(x, 2) for x in os.getloadavg()]
    started = time.perf_counter()
    baseline: list[float] = []
    ours: list[float] = []
    per_rep: list[float] = []  # each repetition's own ratio, to show the spread
    floor: list[float] = []
    floor_accuracy: list[float] = []
    precision = ""
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        root = torchvision_root(args.data_dir, tmp)
        for rep in range(args.reps):
            rep_baseline = baseline_epochs(root, args.baseline_epochs)
            baseline += rep_baseline
            times, precision = ours_epochs(args.data_dir, tmp, args.ours_epochs)
            ours += times
            per_rep.append(round(statistics.median(rep_baseline) / statistics.median(times), 2))
            floor_times, accuracy = floor_epochs(args.data_dir, args.ours_epochs)
            floor += floor_times
            floor_accuracy += accuracy
            print(
                f"rep {rep + 1}: baseline {rep_baseline} s, ours {times} s, floor {floor_times} s", flush=True
            )
        tuning, accuracy = preset_runs(
            args.data_dir, tmp, args.tune_lr or [], args.tune_seeds or [], not args.skip_accuracy
        )
    base_median, ours_median = statistics.median(baseline), statistics.median(ours)
    result = {
        "command": " ".join(["python", "benchmarks/trainer_epoch_time.py", *sys.argv[1:]]),
        "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": machine(),
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "epoch_time": {
            "model": "SimpleDenseNet 784-64-128-64-10, Adam lr 1e-3, batch 128",
            "baseline_s": baseline,
            "ours_s": ours,
            "ours_precision": precision,
            "baseline_median_s": round(base_median, 4),
            "ours_median_s": round(ours_median, 4),
            "speedup": round(base_median / ours_median, 2),
            "speedup_per_repetition": per_rep,
        },
        "overhead": {
            "floor": "bare_loop.py: the same step without Lightning",
            "floor_s": floor,
            "floor_train_accuracy": floor_accuracy,
            "ours_best_s": min(ours),
            "floor_best_s": min(floor),
            "ratio_of_best": round(min(ours) / min(floor), 2),
        },
        "lr_tuning": tuning,
        "accuracy": accuracy,
        "benchmark_wall_s": round(time.perf_counter() - started, 1),
    }
    write_results(result, args.out_dir)
    summary = {
        "speedup": result["epoch_time"]["speedup"],
        "trainer/floor": result["overhead"]["ratio_of_best"],
    }
    print(json.dumps({**summary, "accuracy": accuracy}, indent=2))


if __name__ == "__main__":
    main()
