"""Serving latency: the `serve` container's HTTP path against the same predictor in-process.

One trained model (by default the trainer's default CNN, one epoch on Fashion-MNIST; ``--model-dir`` reuses an
artifact) is served by the real console script, ``serve model_uri=DIR port=0 device=cpu``, on loopback.

- **One image**: ``--requests`` single-image predict requests (nested lists, bodies encoded beforehand), each
  timed from send to the parsed JSON response; p50 and p99 per repetition, over one keep-alive connection and
  with a new connection per request. Goal: p99 <= 20 ms.
- **A batch of 256**: the same 256 test images through HTTP (as nested lists and as base64 PNGs) against
  :meth:`trainer.Predictor.classify` in this process (the loaded predictor: ``trainer.predict``'s inference
  path without re-loading the artifact), alternating, ``--batch-reps`` times; median and spread. Goal: HTTP
  <= 1.5x in-process. ``trainer.predict`` itself (which loads the artifact on every call) and the server's
  request decoding alone (:func:`serve.decode_batch`, in this process) are timed too, to show where the
  HTTP time goes. Both processes run OpenMP with ``OMP_WAIT_POLICY=PASSIVE`` (the server's setting), so
  neither side's idle workers spin on the cores the other needs.

    python benchmarks/serve_latency.py [--model-dir DIR] [--model cnn|mlp] [--requests 1000] [--reps 3]
        [--batch 256] [--batch-reps 30]

Writes benchmarks/results/serve_latency.json and .md, with the arguments it ran with.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import platform
import re
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
SERVE = shutil.which("serve", path=str(Path(sys.executable).parent)) or "serve"
GOAL_P99_MS, GOAL_RATIO = 20.0, 1.5


def train_model(data_dir: Path, model: str, out: Path) -> Path:
    """One epoch of ``model`` (the trainer's default config otherwise) into ``out``."""
    from trainer import compose_config, train

    overrides = [
        f"data.data_dir={data_dir}",
        f"paths.output_dir={out}",
        f"model={model}",
        "trainer.max_epochs=1",
    ]
    train(compose_config([*overrides, "logger=none", "callbacks=none", "progress=none"]))
    return out


def start_server(model_dir: Path) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [SERVE, f"model_uri={model_dir}", "port=0", "device=cpu"], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    port = 0
    for line in process.stdout:
        if match := re.match(r"serve: listening on http://[^:]+:(\d+) ", line):
            port = int(match.group(1))
        if line.startswith("serve: ready: "):
            return process, port
    raise SystemExit(f"serve exited with {process.wait()} before it was ready")


def _post(connection: http.client.HTTPConnection, body: bytes) -> list[dict[str, Any]]:
    connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    payload = json.loads(response.read())
    if response.status != 200:
        raise SystemExit(f"predict answered {response.status}: {payload}")
    return payload["predictions"]


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def one_image_latency(port: int, bodies: list[bytes], requests: int, keep_alive: bool) -> dict[str, float]:
    """Milliseconds per single-image request: p50, p99, max."""
    times = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for i in range(requests):
        if not keep_alive:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start = time.perf_counter()
        _post(connection, bodies[i % len(bodies)])
        times.append((time.perf_counter() - start) * 1000)
        if not keep_alive:
            connection.close()
    connection.close()
    return {"p50_ms": _percentile(times, 50), "p99_ms": _percentile(times, 99), "max_ms": max(times)}


def _png_b64(image: np.ndarray) -> dict[str, str]:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return {"b64": base64.b64encode(buffer.getvalue()).decode()}


def _spread(values: list[float]) -> dict[str, Any]:
    return {
        "median_ms": statistics.median(values),
        "min_ms": min(values),
        "max_ms": max(values),
        "values_ms": [round(v, 3) for v in values],
    }


def _timed(function: Any) -> float:
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1000


def batch_comparison(port: int, model_dir: Path, images: np.ndarray, reps: int) -> dict[str, Any]:
    """HTTP (nested lists, PNG) against the loaded predictor in this process, alternating."""
    from serve import InputShape, Limits, decode_batch
    from trainer import load_predictor, predict

    predictor = load_predictor(model_dir, "cpu")
    bodies = {
        "http_lists": json.dumps({"instances": images.tolist()}).encode(),
        "http_png": json.dumps({"instances": [_png_b64(image) for image in images]}).encode(),
    }
    expected = predictor.classify(images).classes.tolist()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for body in bodies.values():  # warm-up, and the served classes are the in-process ones
        assert [p["class"] for p in _post(connection, body)] == expected
    times: dict[str, list[float]] = {"in_process": [], "http_lists": [], "http_png": []}
    for _ in range(reps):
        times["in_process"].append(_timed(lambda: predictor.classify(images)))
        for name, body in bodies.items():
            times[name].append(_timed(lambda body=body: _post(connection, body)))
    connection.close()
    shape = InputShape(int(predictor.image_size), predictor.channels)
    decode = {
        f"decode_{name[5:]}": _spread(
            [_timed(lambda b=body: decode_batch(b, shape, Limits())) for _ in range(reps)]
        )
        for name, body in bodies.items()
    }
    reload = _spread([_timed(lambda: predict(model_dir, images)) for _ in range(max(3, reps // 6))])
    result: dict[str, Any] = {name: _spread(values) for name, values in times.items()}
    result.update(decode)
    result["trainer_predict_with_load"] = reload
    result["body_bytes"] = {name: len(body) for name, body in bodies.items()}
    base = result["in_process"]["median_ms"]
    result["ratio"] = {name: result[name]["median_ms"] / base for name in bodies}
    return result


def machine() -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
    }
    if hasattr(os, "sched_getaffinity"):
        info["usable_cores"] = len(os.sched_getaffinity(0))
    return info


def write_results(result: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "serve_latency.json").write_text(json.dumps(result, indent=2) + "\n")
    one, batch, m = result["one_image"], result["batch"], result["machine"]
    n = result["arguments"]["batch"]
    lines = [
        "# serve: prediction latency over HTTP against in-process",
        "",
        f"Command: `{result['command']}`. Model: `{result['model']}` ({result['model_dir_source']}).",
        "",
        f"Machine: {m['cpu']}, {m.get('usable_cores')} usable cores, torch {m['torch']} "
        f"({m['torch_threads']} threads), Python {m['python']}; load average {result['load_average_before']} "
        f"before, {result['load_average_after']} after (other processes share these cores).",
        "",
        f"## One image ({result['arguments']['requests']} requests per repetition, "
        f"{result['arguments']['reps']} repetitions; ms from send to parsed response)",
        "",
        "| connection | p50 (median of reps) | p99 (median of reps) | worst p99 | goal p99 |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, label in (
        ("keep_alive", "one keep-alive connection"),
        ("new_connection", "a new connection each"),
    ):
        reps = one[name]
        lines.append(
            f"| {label} | {statistics.median(r['p50_ms'] for r in reps):.2f} | "
            f"{statistics.median(r['p99_ms'] for r in reps):.2f} | {max(r['p99_ms'] for r in reps):.2f} | "
            f"<= {GOAL_P99_MS:.0f} |"
        )
    lines += [
        "",
        f"## A batch of {n} images ({result['arguments']['batch_reps']} alternating repetitions; ms)",
        "",
        "| path | median | min | max | / in-process |",
        "|---|---:|---:|---:|---:|",
    ]
    rows = (
        ("in_process", "`Predictor.classify` in-process (the loaded predictor)"),
        ("http_lists", f"HTTP, nested lists ({batch['body_bytes']['http_lists'] / 1e6:.2f} MB body)"),
        ("http_png", f"HTTP, base64 PNG ({batch['body_bytes']['http_png'] / 1e6:.2f} MB body)"),
        ("decode_lists", "of which: server-side decoding of the nested lists (`decode_batch`)"),
        ("decode_png", "of which: server-side decoding of the PNGs (`decode_batch`)"),
        ("trainer_predict_with_load", "`trainer.predict` (loads the artifact on every call)"),
    )
    base = batch["in_process"]["median_ms"]
    for key, label in rows:
        row = batch[key]
        lines.append(
            f"| {label} | {row['median_ms']:.2f} | {row['min_ms']:.2f} | {row['max_ms']:.2f} | "
            f"{row['median_ms'] / base:.1f}x |"
        )
    lines += [
        "",
        f"Goals: p99 <= {GOAL_P99_MS:.0f} ms for one image; HTTP <= {GOAL_RATIO}x in-process for the batch.",
        "",
    ]
    lines += [f"- {verdict}" for verdict in result["verdicts"]]
    (out_dir / "serve_latency.md").write_text("\n".join(lines) + "\n")


def verdicts(result: dict[str, Any]) -> list[str]:
    worst = max(r["p99_ms"] for name in ("keep_alive", "new_connection") for r in result["one_image"][name])
    lines = [
        f"one image: worst p99 {worst:.2f} ms: {'met' if worst <= GOAL_P99_MS else 'NOT met'} (goal {GOAL_P99_MS:.0f} ms)"
    ]
    for name, label in (("http_lists", "nested lists"), ("http_png", "base64 PNG")):
        ratio = result["batch"]["ratio"][name]
        met = "met" if ratio <= GOAL_RATIO else "NOT met"
        lines.append(f"batch over HTTP, {label}: {ratio:.1f}x in-process: {met} (goal {GOAL_RATIO}x)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, help="a trainer output directory (default: train one)")
    parser.add_argument("--model", default="cnn", help="model config to train when no --model-dir (cnn, mlp)")
    parser.add_argument("--data-dir", type=Path, default=FASHION_MNIST)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--batch-reps", type=int, default=30)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads OpenMP; see the docstring

    from trainer import load_idx_dataset

    images = load_idx_dataset(args.data_dir).test_images
    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        model_dir = args.model_dir or train_model(args.data_dir, args.model, Path(tmp) / "model")
        process, port = start_server(model_dir)
        try:
            bodies = [json.dumps({"instances": [image.tolist()]}).encode() for image in images[:100]]
            one_image = {
                "keep_alive": [
                    one_image_latency(port, bodies, args.requests, True) for _ in range(args.reps)
                ],
                "new_connection": [
                    one_image_latency(port, bodies, args.requests, False) for _ in range(args.reps)
                ],
            }
            batch = batch_comparison(port, model_dir, images[: args.batch], args.batch_reps)
            config = (model_dir / "config.yaml").read_text()
        finally:
            process.terminate()
            process.wait(timeout=30)
    target = re.search(r"_target_: (trainer\.models\.\S+)", config)
    result: dict[str, Any] = {
        "command": "python benchmarks/serve_latency.py" + "".join(f" {a}" for a in sys.argv[1:]),
        "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "model": target.group(1) if target else "unknown",
        "model_dir_source": "given" if args.model_dir else f"trained here: model={args.model}, 1 epoch",
        "machine": machine(),
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "one_image": one_image,
        "batch": batch,
    }
    result["verdicts"] = verdicts(result)
    write_results(result, args.out)
    print((args.out / "serve_latency.md").read_text())


if __name__ == "__main__":
    main()
