"""Join a Vertex AI training cluster from the ``CLUSTER_SPEC`` environment variable.

Vertex AI sets ``CLUSTER_SPEC`` on every replica of a CustomJob, custom containers included
(https://cloud.google.com/vertex-ai/docs/training/distributed-training, "CLUSTER_SPEC")::

    {"cluster": {"workerpool0": ["host:port"], "workerpool1": ["host:port", ...], "workerpool2": [...], ...},
     "environment": "cloud",
     "task": {"type": "workerpool1", "index": 0, "trial": "..."},
     "job": {... the CustomJobSpec ...}}

``workerpool0`` is the primary replica (always one), ``workerpool1`` the other workers; ``workerpool2``
(parameter or reduction servers) and ``workerpool3`` (evaluators) hold no training processes. Vertex also sets
``MASTER_ADDR``, ``MASTER_PORT``, ``WORLD_SIZE`` and ``RANK`` with ``WORLD_SIZE`` counting *machines*, not
processes (Lightning issue #13374 and cellarium-ai/cellarium-ml#56 report it for custom containers), so those
are not read here: nodes and ranks come from ``CLUSTER_SPEC`` alone, and the same code runs under
``pipeline-sdk run``, which sets only ``CLUSTER_SPEC``.

Node 0 is ``workerpool0[0]`` and its ``host:port`` is where the other nodes rendezvous; ``workerpool1[i]`` is
node ``i + 1``. Each node runs as many processes as it has devices (Lightning starts the extra ones), and the
global rank of a process is ``node_rank * devices + local_rank``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

from lightning.fabric.plugins.environments import LightningEnvironment

from trainer.errors import TrainerError

CLUSTER_SPEC = "CLUSTER_SPEC"
#: a spec lists a few machines; anything larger is not one
MAX_SPEC_CHARS = 1 << 20
# a DNS name or an IPv4/IPv6 literal (with an IPv6 zone), in ASCII
_HOST = re.compile(r"^[A-Za-z0-9._:%-]{1,253}$")
PRIMARY_POOL = "workerpool0"
WORKER_POOL = "workerpool1"
TRAINING_POOLS = (PRIMARY_POOL, WORKER_POOL)


@dataclass(frozen=True)
class ClusterSpec:
    """The training nodes of a cluster and which of them this process runs on."""

    num_nodes: int
    node_rank: int
    main_address: str
    main_port: int


def cluster_from_env() -> ClusterSpec | None:
    """The cluster described by ``CLUSTER_SPEC``; ``None`` when it is unset or names a single training node."""
    text = os.environ.get(CLUSTER_SPEC)
    if text is None or not text.strip():
        return None
    spec = parse_cluster_spec(text)
    return spec if spec.num_nodes > 1 else None


def _fail(what: str) -> TrainerError:
    return TrainerError(f"{CLUSTER_SPEC} {what}")


def _address(entry: Any, where: str) -> tuple[str, int]:
    if not isinstance(entry, str):
        raise _fail(f'{where} is {json.dumps(entry)}, not a "host:port" string')
    host, sep, port = entry.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")  # an IPv6 literal, [::1]:2222
    # ASCII digits only: "²".isdigit() is true too
    if not sep or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise _fail(f'{where} is {json.dumps(entry)}, not "host:port" with a port from 1 to 65535')
    if not _HOST.match(host):
        raise _fail(f"{where} is {json.dumps(entry)}: {json.dumps(host)} is not a host name or address")
    return host, int(port)


def _pool(cluster: dict[str, Any], name: str) -> list[Any]:
    pool = cluster.get(name, [])
    if not isinstance(pool, list):
        raise _fail(f'cluster.{name} is not a list of "host:port" strings')
    return pool


def parse_cluster_spec(text: str) -> ClusterSpec:
    """Parse a ``CLUSTER_SPEC`` value; raise :class:`TrainerError` naming what is wrong with it."""
    if len(text) > MAX_SPEC_CHARS:
        raise _fail(f"is longer than {MAX_SPEC_CHARS} characters")
    try:
        spec = json.loads(text)
    except ValueError as exc:
        raise _fail(f"is not valid JSON ({exc})") from None
    except RecursionError:
        raise _fail("is nested too deeply") from None
    if not isinstance(spec, dict):
        raise _fail("is not a JSON object")
    cluster, task = spec.get("cluster"), spec.get("task")
    if not isinstance(cluster, dict):
        raise _fail('has no "cluster" object')
    if not isinstance(task, dict):
        raise _fail('has no "task" object')
    primary, workers = _pool(cluster, PRIMARY_POOL), _pool(cluster, WORKER_POOL)
    if len(primary) != 1:
        raise _fail(f"cluster.{PRIMARY_POOL} lists {len(primary)} replicas; the primary pool has exactly one")
    pools = {PRIMARY_POOL: primary, WORKER_POOL: workers}
    addresses = [
        _address(e, f"cluster.{name}[{i}]") for name, pool in pools.items() for i, e in enumerate(pool)
    ]
    kind, index = task.get("type"), task.get("index")
    if kind not in TRAINING_POOLS:
        raise _fail(f"task.type is {json.dumps(kind)}; the trainer runs on {' or '.join(TRAINING_POOLS)}")
    if not isinstance(index, int) or isinstance(index, bool):
        raise _fail(f"task.index is {json.dumps(index)}, not an integer")
    if not 0 <= index < len(pools[kind]):
        raise _fail(f"task.index {index} is out of range: cluster.{kind} lists {len(pools[kind])} replicas")
    host, port = addresses[0]
    node_rank = index if kind == PRIMARY_POOL else 1 + index
    return ClusterSpec(num_nodes=len(addresses), node_rank=node_rank, main_address=host, main_port=port)


class VertexEnvironment(LightningEnvironment):
    """Lightning's default environment with the nodes, node rank and rendezvous address of a ``CLUSTER_SPEC``.

    Like :class:`LightningEnvironment`, it lets Lightning start one process per local device (unless
    ``LOCAL_RANK`` says they were started externally) and learns ranks and world size from the strategy.
    """

    def __init__(self, spec: ClusterSpec) -> None:
        super().__init__()
        self.spec = spec

    @property
    def main_address(self) -> str:
        return self.spec.main_address

    @property
    def main_port(self) -> int:
        return self.spec.main_port

    @staticmethod
    def detect() -> bool:
        return CLUSTER_SPEC in os.environ

    def node_rank(self) -> int:
        return self.spec.node_rank
