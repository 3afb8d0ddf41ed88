"""Stands in for the trainer in the multi-replica tests: records the CLUSTER_SPEC it was started with.

Takes the trainer's ``key=value`` overrides. Every replica writes ``replica-<type>-<index>.json`` (its
CLUSTER_SPEC and pid) into the task directory; the primary replica also writes the output artifacts, as
the trainer's rank 0 does. ``PROBE_FAIL_REPLICA=workerpool1:0`` makes that replica exit 4; with
``PROBE_SLEEP=S`` the others sleep S seconds before finishing.
"""

import json
import os
import sys
import time
from pathlib import Path

args = dict(arg.split("=", 1) for arg in sys.argv[1:])
spec = json.loads(os.environ["CLUSTER_SPEC"])
me = f"{spec['task']['type']}:{spec['task']['index']}"
output = Path(args["paths.output_dir"])
record = output.parent / f"replica-{me.replace(':', '-')}.json"
record.write_text(json.dumps({"cluster_spec": spec, "pid": os.getpid()}))
print(f"probe replica {me}", flush=True)
if os.environ.get("PROBE_FAIL_REPLICA") == me:
    print(f"probe replica {me}: failing on purpose", flush=True)
    sys.exit(4)
time.sleep(float(os.environ.get("PROBE_SLEEP", "0")))
if me == "workerpool0:0":
    output.mkdir(parents=True)
    (output / "model.pt").write_text("weights")
    for key in ("kfp.metrics_path", "kfp.classification_metrics_path"):
        Path(args[key]).parent.mkdir(parents=True, exist_ok=True)
        Path(args[key]).write_text("{}")
