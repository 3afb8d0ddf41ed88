"""A local sweep with ``gcp.experiment``: the real select-best records each trial as a Vertex AI Experiment run
at the Google fake (over real HTTP, with a service-account key whose token endpoint is the fake), named after
the run, as it would record a Vertex AI pipeline job's trials (docs/vertex-behaviour.md X1-X3)."""

from __future__ import annotations

from pathlib import Path

STORE = "projects/demo-project/locations/us-central1/metadataStores/default"


def test_a_local_sweeps_trials_become_runs_of_the_experiment(
    cli, fake_google, tiny_data_prepare: Path, probe_train: Path, runs: Path
) -> None:
    process = cli.start(
        "run",
        f"steps.data-prepare.component={tiny_data_prepare}",
        f"steps.train.component={probe_train}",
        f"local.root={runs}",
        "gcp.experiment=fashion-sweeps",
        "gcp.project=demo-project",
        f"gcp.api_endpoint={fake_google.url}",
        "-m",
        "params.learning_rate=0.1,0.2",  # the probe's val_accuracy is its learning rate: trial 2 wins
        "--run-name",
        "Sweep_7",
        fake=fake_google,
        with_adc=True,
    )
    result = cli.result(process, timeout=300)
    assert result.code == 0, result.stderr
    created = {
        r.query["contextId"][0]: r.body
        for r in fake_google.sent("POST", rf"/v1/{STORE}/contexts")
        if r.body["schemaTitle"] == "system.ExperimentRun"
    }
    # the run's name, made a metadata ID, names the trials' runs
    assert list(created) == ["fashion-sweeps-sweep-7-trial-1", "fashion-sweeps-sweep-7-trial-2"]
    first, second = created.values()
    assert first["displayName"] == "sweep-7-trial-1"
    assert first["metadata"]["_params"] == {"learning_rate": 0.1, "trial": 1}
    assert second["metadata"]["_metrics"]["val_accuracy"] == 0.2
    assert [run["metadata"]["_metrics"]["selected"] for run in (first, second)] == [0, 1]
    assert {run["metadata"]["_state"] for run in (first, second)} == {"COMPLETE"}
    (children,) = fake_google.sent("POST", rf"/v1/{STORE}/contexts/fashion-sweeps:addContextChildren")
    assert children.body["childContexts"] == [
        f"{STORE}/contexts/fashion-sweeps-sweep-7-trial-{n}" for n in (1, 2)
    ]
    log = (runs / "Sweep_7" / "select-best" / "log.txt").read_text()
    assert "recorded 2 trials as runs of Vertex AI experiment fashion-sweeps" in log
