"""Image-folder preparation: ``data-prepare dataset=image_folder`` throughput and memory.

Image folders are written from the OS copy of Fashion-MNIST (seeded noise without it) into a temporary
directory and read once before timing, so every run finds them in the page cache. Two datasets: 28x28 grey
PNGs published as they are (Fashion-MNIST as files), and 96x96 RGB JPEGs cropped to 64x64 RGB.

- **Throughput**, ``--reps`` alternating repetitions, images/s (median and spread) and CPU time per image:
  a plain single-process Pillow loop over the files (``Image.open``, ``convert``, ``resize``, ``np.asarray``)
  in this process; the same loop split over two forked processes (the control: the parallelism the machine
  offers during the run, when other processes share its cores); and :func:`data_prepare.prepare_image_folder`
  with 2 workers (the default ``compress_level=0`` and ``1``) and with ``workers=1``, each one call in a fresh
  process as the CLI makes it (one thread, so workers are forked), timed from the call to its return: listing,
  decoding, chunk files, assembly with SHA-256 and the atomic publish, into a new output each time. Goal:
  2 workers >= 1.8x the plain loop on 2 cores. From the CPU times, ``2 x plain / prepare`` is the ratio two
  idle cores would give.
- **Memory**: each size of a dataset of 96x96 JPEGs (output 64x64 RGB, ``chunk_size`` 500) is prepared with 2
  workers by a fresh process: its ``VmHWM`` is the caller's peak RSS and ``getrusage(RUSAGE_CHILDREN)``
  the largest peak of any worker (the process is a child subreaper, so workers
  of a fork server would be waited for by it too). Goal: flat as the dataset grows (its decoded pixels grow
  12 KB an image).

    python benchmarks/prepare_images.py [--reps 5] [--png 20000] [--jpeg 8000] [--rss-sizes 1000,4000,16000,32000]

Writes benchmarks/results/prepare_images.json and .md, with the arguments it ran with.
"""

from __future__ import annotations

import argparse
import ctypes
import gzip
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from cpu import cpu_model  # this directory, on sys.path when run as a script

RESULTS = Path(__file__).resolve().parent / "results"
FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
GOAL_SPEEDUP = 1.8
RSS_CHUNK = 500
LABELS = {"png28": "28x28 grey PNG -> 28x28x1", "jpeg96": "96x96 RGB JPEG -> crop 64x64x3"}
VARIANTS = {
    "plain_loop": "plain Pillow loop, 1 process",
    "plain_loop_2_processes": "plain loop split over 2 processes (control)",
    "prepare_2_workers": "prepare, 2 workers (default compress_level=0)",
    "prepare_2_workers_deflate": "prepare, 2 workers, compress_level=1",
    "prepare_1_worker": "prepare, workers=1",
}
#: the prepare variants: name, workers, compress_level
PREPARED = [("prepare_2_workers", 2, 0), ("prepare_2_workers_deflate", 2, 1), ("prepare_1_worker", 1, 0)]


def fashion(count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` training images and labels (repeated past 60,000), or seeded noise without the OS copy."""
    path = FASHION_MNIST / "train-images-idx3-ubyte.gz"
    if not path.exists():
        rng = np.random.default_rng(0)
        return rng.integers(0, 256, (count, 28, 28), dtype=np.uint8), (np.arange(count) % 10).astype(np.uint8)
    with gzip.open(path) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(FASHION_MNIST / "train-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    index = np.arange(count) % len(images)
    return images[index], labels[index]


def write_folder(root: Path, count: int, kind: str) -> list[Path]:
    """An ImageFolder of ``count`` images (4/5 train, 1/5 test): ``png28`` grey PNGs or ``jpeg96`` RGB JPEGs."""
    from PIL import Image

    images, labels = fashion(count)
    paths = []
    for i, (pixels, label) in enumerate(zip(images, labels, strict=True)):
        folder = root / ("test" if i % 5 == 4 else "train") / f"class{label}"
        folder.mkdir(parents=True, exist_ok=True)
        im = Image.fromarray(pixels)
        if kind == "png28":
            path = folder / f"{i:06d}.png"
            im.save(path)
        else:
            tint = (1.0, 0.8 + 0.02 * (i % 10), 0.6)  # colour, so RGB matters
            rgb = Image.merge("RGB", [im.point(lambda v, t=t: int(v * t)) for t in tint])
            path = folder / f"{i:06d}.jpg"
            rgb.resize((96, 96), Image.Resampling.BICUBIC).save(path, quality=90)
        paths.append(path)
    return paths


def plain_loop(paths: list[Path], size: int, mode: str) -> int:
    """The baseline: a single-process Pillow loop that keeps every image as an array."""
    from PIL import Image

    arrays = [
        np.asarray(Image.open(p).convert(mode).resize((size, size), Image.Resampling.BILINEAR)) for p in paths
    ]
    return len(arrays)


# One prepare_image_folder() call in a fresh process. As a child subreaper it also waits for a fork server's
# workers (grandchildren) once the server is stopped, so RUSAGE_CHILDREN holds every worker's CPU time and
# the largest peak RSS among them, however the workers started.
PROBE = """
import ctypes, json, resource, sys, time
ctypes.CDLL(None, use_errno=True).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER
from multiprocessing import forkserver
from data_prepare import ImageFolderSpec, prepare_image_folder
source, out, size, channels, workers, chunk, level = sys.argv[1:]
spec = ImageFolderSpec(
    image_size=int(size), channels=int(channels), workers=int(workers), chunk_size=int(chunk),
    compress_level=int(level),
)
def cpu(usage):
    return usage.ru_utime + usage.ru_stime
before = cpu(resource.getrusage(resource.RUSAGE_SELF))
started = time.perf_counter()
assert not prepare_image_folder(spec, out, source=source).reused
wall = time.perf_counter() - started
if getattr(forkserver._forkserver, "_forkserver_pid", None):
    forkserver._forkserver._stop()
children = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({
    "wall_s": wall,
    "cpu_s": cpu(resource.getrusage(resource.RUSAGE_SELF)) - before + cpu(children),
    # VmHWM, not RUSAGE_SELF: ru_maxrss keeps the high-water mark of the process this one was exec'd from
    "parent_kb": int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]),
    "largest_child_kb": children.ru_maxrss,
}))
"""


def probe(root: Path, out: Path, size: int, channels: int, workers: int, chunk: int, level: int) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    args = [str(root), str(out), str(size), str(channels), str(workers), str(chunk), str(level)]
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True)
    shutil.rmtree(out, ignore_errors=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _spread(values: list[float]) -> dict[str, Any]:
    return {
        "median": round(statistics.median(values), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
        "runs": [round(v, 1) for v in values],
    }


def throughput(work: Path, kind: str, count: int, reps: int) -> dict[str, Any]:
    root = work / kind
    paths = write_folder(root, count, kind)
    for path in paths:  # into the page cache
        path.read_bytes()
    size, channels = (28, 1) if kind == "png28" else (64, 3)
    mode = "L" if channels == 1 else "RGB"
    rates: dict[str, list[float]] = {name: [] for name in VARIANTS}
    cpu: dict[str, list[float]] = {name: [] for name in VARIANTS if name != "plain_loop_2_processes"}
    for _ in range(reps):
        started, cpu_started = time.perf_counter(), time.process_time()
        plain_loop(paths, size, mode)
        rates["plain_loop"].append(count / (time.perf_counter() - started))
        cpu["plain_loop"].append((time.process_time() - cpu_started) / count * 1e6)
        with multiprocessing.get_context("fork").Pool(2) as pool:
            pool.map(abs, [0, 0])  # both started
            started = time.perf_counter()
            pool.starmap(plain_loop, [(paths[0::2], size, mode), (paths[1::2], size, mode)])
            rates["plain_loop_2_processes"].append(count / (time.perf_counter() - started))
        for name, workers, level in PREPARED:
            found = probe(root, work / "out", size, channels, workers, 1000, level)
            rates[name].append(count / found["wall_s"])
            cpu[name].append(found["cpu_s"] / count * 1e6)
    shutil.rmtree(root)
    rate = {name: statistics.median(values) for name, values in rates.items()}
    per_image = {name: statistics.median(values) for name, values in cpu.items()}
    return {
        "images": count,
        "output": f"{size}x{size}x{channels}",
        "images_per_s": {name: _spread(values) for name, values in rates.items()},
        "cpu_us_per_image": {name: _spread(values) for name, values in cpu.items()},
        "wall_ratio": {name: round(rate[name] / rate["plain_loop"], 2) for name in VARIANTS},
        # the wall-clock ratio two idle cores would give: each image's CPU time spread over two processes
        "cpu_bound_ratio_2_cores": {
            name: round(2 * per_image["plain_loop"] / per_image[name], 2)
            for name in ("prepare_2_workers", "prepare_2_workers_deflate")
        },
    }


def memory(work: Path, sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    for count in sizes:
        root = work / f"rss{count}"
        write_folder(root, count, "jpeg96")
        peaks = probe(root, work / f"rss-out{count}", 64, 3, 2, RSS_CHUNK, 0)
        train, test = count - count // 5, count // 5
        rows.append(
            {
                "images": count,
                "chunks": -(-train // RSS_CHUNK) + -(-test // RSS_CHUNK),
                "decoded_mb": round(count * 64 * 64 * 3 / 1e6, 1),
                "parent_mb": round(peaks["parent_kb"] / 1024, 1),
                "largest_worker_mb": round(peaks["largest_child_kb"] / 1024, 1),
            }
        )
        shutil.rmtree(root)
    return rows


def machine() -> dict[str, Any]:
    import PIL

    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "pillow": PIL.__version__,
    }
    if hasattr(os, "sched_getaffinity"):
        info["usable_cores"] = len(os.sched_getaffinity(0))
    return info


def write_results(result: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "prepare_images.json").write_text(json.dumps(result, indent=2) + "\n")
    m = result["machine"]
    lines = [
        "# data-prepare: image folder throughput and memory",
        "",
        f"Command: `{result['command']}`. Images written from Fashion-MNIST, read from the page cache.",
        "",
        f"Machine: {m['cpu']}, {m.get('usable_cores')} usable cores, Python {m['python']}, Pillow {m['pillow']}; "
        f"load average {result['load_average_before']} before, {result['load_average_after']} after (other "
        "processes share these cores).",
    ]
    for kind, row in result["throughput"].items():
        lines += [
            "",
            f"## {LABELS[kind]}: {row['images']:,} images, {result['args']['reps']} alternating repetitions",
            "",
            "| | images/s, median (min-max) | / plain loop | CPU µs per image (median), all processes |",
            "|---|---:|---:|---:|",
        ]
        for name, label in VARIANTS.items():
            rate, cpu = row["images_per_s"][name], row["cpu_us_per_image"].get(name)
            lines.append(
                f"| {label} | {rate['median']:,.0f} ({rate['min']:,.0f}-{rate['max']:,.0f}) | "
                f"{row['wall_ratio'][name]}x | {format(cpu['median'], ',.0f') if cpu else ''} |"
            )
    lines += [
        "",
        "prepare: one `prepare_image_folder()` call in a fresh process, timed from the call to its return "
        "(listing, decoding, chunk files, assembly with SHA-256, atomic publish). The control splits the plain "
        "loop over two forked processes: the parallelism the machine offered during the run.",
        "",
        f"## Peak memory (96x96 JPEG -> 64x64x3, chunk_size {RSS_CHUNK}, 2 workers; MB of RSS)",
        "",
        "| images | chunks | decoded pixels | caller (parent) | largest worker |",
        "|---:|---:|---:|---:|---:|",
    ]
    for row in result["memory"]:
        lines.append(
            f"| {row['images']:,} | {row['chunks']} | {row['decoded_mb']} | {row['parent_mb']} | "
            f"{row['largest_worker_mb']} |"
        )
    lines += [
        "",
        f"Goals: 2 workers >= {GOAL_SPEEDUP}x the plain loop on 2 cores; memory flat in the dataset size.",
        "",
    ]
    lines += [f"- {verdict}" for verdict in verdicts(result)]
    (out_dir / "prepare_images.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def verdicts(result: dict[str, Any]) -> list[str]:
    found = []
    for kind, row in result["throughput"].items():
        control = row["wall_ratio"]["plain_loop_2_processes"]
        for name, bound in row["cpu_bound_ratio_2_cores"].items():
            ratio = row["wall_ratio"][name]
            met = "met" if ratio >= GOAL_SPEEDUP else "NOT met"
            found.append(
                f"{kind}, {VARIANTS[name]}: {ratio}x the plain loop: {met} (goal {GOAL_SPEEDUP}x; the control "
                f"got {control}x); from CPU time, on 2 idle cores: {bound}x"
            )
    rows = result["memory"]
    if len(rows) >= 2:
        parent = max(r["parent_mb"] for r in rows) - min(r["parent_mb"] for r in rows)
        worker = max(r["largest_worker_mb"] for r in rows) - min(r["largest_worker_mb"] for r in rows)
        found.append(
            f"memory: from {rows[0]['images']:,} to {rows[-1]['images']:,} images the caller's peak varies by "
            f"{parent:.1f} MB and the largest worker's by {worker:.1f} MB, while the decoded pixels grow by "
            f"{rows[-1]['decoded_mb'] - rows[0]['decoded_mb']:.0f} MB"
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--png", type=int, default=20000, help="28x28 grey PNGs for the throughput run")
    parser.add_argument("--jpeg", type=int, default=8000, help="96x96 RGB JPEGs for the throughput run")
    parser.add_argument("--rss-sizes", default="1000,4000,16000,32000")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    ctypes.CDLL(None)  # fail early where ctypes cannot load libc (the probe needs prctl)
    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="prepare-images-") as tmp:
        work = Path(tmp)
        result: dict[str, Any] = {
            "command": "python benchmarks/prepare_images.py " + " ".join(sys.argv[1:]),
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "machine": machine(),
            "throughput": {
                "png28": throughput(work, "png28", args.png, args.reps),
                "jpeg96": throughput(work, "jpeg96", args.jpeg, args.reps),
            },
            "memory": memory(work, [int(n) for n in args.rss_sizes.split(",")]),
        }
    result["load_average_before"] = load_before
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    write_results(result, args.out)


if __name__ == "__main__":
    main()
