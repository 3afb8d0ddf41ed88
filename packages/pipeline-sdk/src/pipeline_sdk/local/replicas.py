"""Run a multi-replica CustomJob step on this machine: one process per replica, one training cluster.

Vertex AI starts every replica of a CustomJob with ``CLUSTER_SPEC`` describing the cluster
(https://cloud.google.com/vertex-ai/docs/training/distributed-training#cluster-variables): the primary
replica is ``workerpool0[0]``, the others ``workerpool1[i]``, each ``host:port``, and ``task`` says which one
a process is. Here every replica is a process on 127.0.0.1 with its own free port, started with the same
command line and a ``CLUSTER_SPEC`` built the same way, so the trainer joins a real (CPU, gloo) cluster.

Replica 0 logs to the task's ``log.txt``, replica i to ``log-replica-i.txt`` beside it. The first replica
to fail ends the others (SIGTERM, then SIGKILL after :data:`FAILURE_GRACE_S`) and the error names its log;
Ctrl-C stops them all as it stops a single step.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pipeline_sdk.errors import LocalRunError
from pipeline_sdk.local.task import (
    PreparedTask,
    cannot_start,
    log_tail,
    start_process,
    stop_processes,
)

PRIMARY_POOL, WORKER_POOL = "workerpool0", "workerpool1"
#: seconds the other replicas get after SIGTERM, once one has failed, before SIGKILL
FAILURE_GRACE_S = 10.0
_POLL_S = 0.1


def replica_log(log_path: Path, replica: int) -> Path:
    """Replica 0 writes ``log_path``; replica i writes ``log-replica-i.txt`` beside it."""
    return log_path if replica == 0 else log_path.with_name(f"log-replica-{replica}.txt")


def _pool_and_index(replica: int) -> tuple[str, int]:
    return (PRIMARY_POOL, 0) if replica == 0 else (WORKER_POOL, replica - 1)


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports free on 127.0.0.1 right now."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def cluster_specs(task_name: str, replicas: int, ports: list[int]) -> list[str]:
    """The ``CLUSTER_SPEC`` of each replica, as Vertex AI builds it for a two-pool CustomJob."""
    addresses = [f"127.0.0.1:{port}" for port in ports]
    cluster = {PRIMARY_POOL: addresses[:1], WORKER_POOL: addresses[1:]}
    job = {
        "display_name": task_name,
        "worker_pool_specs": [{"replica_count": 1}, {"replica_count": replicas - 1}],
    }
    specs = []
    for replica in range(replicas):
        pool, index = _pool_and_index(replica)
        body = {
            "cluster": cluster,
            "environment": "cloud",
            "task": {"type": pool, "index": index},
            "job": job,
        }
        specs.append(json.dumps(body))
    return specs


@dataclass
class _Replica:
    number: int
    log_path: Path
    process: subprocess.Popen[str]
    copier: threading.Thread

    @property
    def name(self) -> str:
        pool, index = _pool_and_index(self.number)
        return f"replica {self.number} ({pool}[{index}])"


def _copy(stream: IO[str], log: IO[str], echo: Callable[[str], None] | None) -> None:
    with log:
        for line in stream:
            log.write(line)
            if echo is not None:
                echo(line.rstrip("\n"))


def _start(
    task: PreparedTask, number: int, spec: str, log_path: Path, echo: Callable[[str], None] | None
) -> _Replica:
    log = open(log_path, "w", buffering=1)  # noqa: SIM115 - closed by the copier thread
    log.write(f"$ CLUSTER_SPEC='{spec}' {subprocess.list2cmdline(task.command)}\n")
    try:
        process = start_process(task.command, task.task_root, {**task.env, "CLUSTER_SPEC": spec})
    except OSError as e:
        log.write(f"cannot start: {e}\n")
        log.close()
        raise cannot_start(task, e) from None
    assert process.stdout is not None
    prefixed = (
        None if echo is None else (echo if number == 0 else lambda line: echo(f"[replica {number}] {line}"))
    )
    copier = threading.Thread(target=_copy, args=(process.stdout, log, prefixed), daemon=True)
    copier.start()
    return _Replica(number, log_path, process, copier)


def _first_failure(replicas: list[_Replica]) -> _Replica | None:
    """Wait until every replica exited 0 (``None``) or one exited otherwise (that one)."""
    while True:
        codes = [r.process.poll() for r in replicas]
        failed = [r for r, code in zip(replicas, codes, strict=True) if code not in (None, 0)]
        if failed:
            return failed[0]
        if all(code == 0 for code in codes):
            return None
        time.sleep(_POLL_S)


def run_replicas(task: PreparedTask, log_path: Path, echo: Callable[[str], None] | None = None) -> int:
    """Run ``task.replicas`` processes of ``task`` as one cluster; 0 when all succeed, else
    :class:`LocalRunError` naming the first replica that failed and the tail of its log."""
    specs = cluster_specs(task.name, task.replicas, free_ports(task.replicas))
    replicas: list[_Replica] = []
    try:
        for number, spec in enumerate(specs):
            replicas.append(_start(task, number, spec, replica_log(log_path, number), echo))
        failed = _first_failure(replicas)
        if failed is not None:
            stop_processes(
                [r.process for r in replicas], ((signal.SIGTERM, FAILURE_GRACE_S), (signal.SIGKILL, None))
            )
    except BaseException:
        stop_processes([r.process for r in replicas])
        raise
    finally:
        for replica in replicas:
            replica.copier.join(timeout=5)
    if failed is None:
        return 0
    code = failed.process.returncode
    raise LocalRunError(
        f"step {task.name!r} {failed.name} failed with exit code {code}; the other replicas were stopped; "
        f"last lines of {failed.log_path}:\n{log_tail(failed.log_path)}"
    )


__all__ = ["FAILURE_GRACE_S", "cluster_specs", "free_ports", "replica_log", "run_replicas"]
