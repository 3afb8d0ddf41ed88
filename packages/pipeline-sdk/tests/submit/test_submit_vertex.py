"""submit_to_vertex against the loopback fake Google APIs: what is sent, what is printed, and how each
failure reads. Credentials are real google.oauth2 service-account credentials from a generated key
file (ADC via GOOGLE_APPLICATION_CREDENTIALS) whose token endpoint is the fake."""

import json

import pytest

from pipeline_sdk.config import load_config
from pipeline_sdk.submit import (
    BackendApiError,
    CredentialsError,
    DeadlineExceeded,
    PreflightError,
    RunFailed,
    VertexOptions,
    submit_to_vertex,
)

PROJECT = "demo-project"
REGION = "us-central1"
BUCKET = "demo-pipelines"
CREATE_PATH = rf"/v1/projects/{PROJECT}/locations/{REGION}/pipelineJobs"


def config(fake, *extra):
    return load_config(
        [
            f"gcp.project={PROJECT}",
            f"gcp.region={REGION}",
            f"gcp.pipeline_root=gs://{BUCKET}/runs",
            f"gcp.api_endpoint={fake.url}",
            *extra,
        ]
    )


@pytest.fixture
def compiled(compiled_test_pipeline):
    return compiled_test_pipeline


@pytest.fixture
def compiled_with_local_registry(tmp_path, fake_google, compile_test_pipeline):
    """Images in the fake's registry (a loopback registry speaks plain HTTP)."""
    return compile_test_pipeline(
        tmp_path / "pipeline.yaml", registry=f"127.0.0.1:{fake_google.httpd.server_port}/ml"
    )


@pytest.fixture
def bucket(fake_google):
    fake_google.buckets[BUCKET] = fake_google.reply(
        200, {"kind": "storage#bucket", "name": BUCKET, "location": "US-CENTRAL1"}
    )


class Output:
    def __init__(self):
        self.out, self.err = [], []

    def options(self, **kw):
        return VertexOptions(
            **{
                "echo": self.out.append,
                "note": self.err.append,
                "poll_interval": 0.01,
                "timeout": 10,
                "check_images": False,  # the image tests below turn it on
                **kw,
            }
        )


def test_sends_the_compiled_spec_with_runtime_config_labels_identity_and_caching(
    fake_google, adc, compiled, bucket, cached_tasks
):
    cfg = config(
        fake_google,
        "gcp.service_account=runner@demo-project.iam.gserviceaccount.com",
        "gcp.network=projects/123/global/networks/vpc",
        "+gcp.labels.team=vision",
        "gcp.encryption_spec_key_name=projects/p/locations/us-central1/keyRings/r/cryptoKeys/k",
    )
    out = Output()
    submit_to_vertex(cfg, compiled, out.options(job_id="run-1"))

    (create,) = fake_google.sent("POST", CREATE_PATH)
    assert create.query["pipelineJobId"] == ["run-1"]
    body = create.body
    train = body["pipelineSpec"]["deploymentSpec"]["executors"]["exec-train"]["container"]
    assert train["resources"]["accelerator"]["resourceType"] == "NVIDIA_L4"
    assert train["image"] == compiled.images["hydra-vertex-trainer"]
    runtime = body["runtimeConfig"]
    assert runtime["gcsOutputDirectory"] == f"gs://{BUCKET}/runs"
    assert runtime["parameterValues"] == {"dataset": "fashion_mnist", "epochs": 2, "learning_rate": 0.01}
    assert body["labels"] == {
        "team": "vision",
        "hydra-vertex-pipeline-sdk": "0-1-0",
        "hydra-vertex-data-prepare": "0-1-0",
        "hydra-vertex-trainer": "0-1-0",
    }
    assert body["serviceAccount"] == "runner@demo-project.iam.gserviceaccount.com"
    assert body["network"] == "projects/123/global/networks/vpc"
    assert body["encryptionSpec"] == {
        "kmsKeyName": "projects/p/locations/us-central1/keyRings/r/cryptoKeys/k"
    }
    # each task's caching as compiled (test_submit_caching.py covers per-step settings)
    assert cached_tasks(body["pipelineSpec"]) == {"root/data-prepare": True, "root/train": True}
    assert body["displayName"] == "hydra-fashion-mnist-training"
    # Read-only bucket check, no bucket creation or IAM edit; the token came from the fake's endpoint.
    assert [r.method for r in fake_google.sent(r"\w+", r"/storage/.*")] == ["GET"]
    assert fake_google.sent("POST", "/token")
    name = f"projects/{PROJECT}/locations/{REGION}/pipelineJobs/run-1"
    assert out.out == [
        f"submitted {name}",
        f"console   https://console.cloud.google.com/vertex-ai/locations/{REGION}/pipelines/runs/run-1"
        f"?project={PROJECT}",
    ]


def test_caching_on_by_default_and_no_optional_fields(fake_google, adc, compiled, bucket):
    submit_to_vertex(config(fake_google), compiled, Output().options())
    (create,) = fake_google.sent("POST", CREATE_PATH)
    assert create.query["pipelineJobId"][0].startswith("hydra-fashion-mnist-training-")
    tasks = create.body["pipelineSpec"]["root"]["dag"]["tasks"]
    assert all(t["cachingOptions"]["enableCache"] for t in tasks.values())
    assert not {"serviceAccount", "network", "encryptionSpec"} & create.body.keys()


def test_dry_run_prints_exactly_the_body_that_submit_sends_and_contacts_nothing(
    fake_google, compiled, tmp_path
):
    cfg = config(fake_google, "gcp.service_account=runner@x.iam.gserviceaccount.com")
    out = Output()
    submit_to_vertex(cfg, compiled, out.options(dry_run=True, job_id="run-dry"))  # no credentials needed
    assert fake_google.requests == []
    (printed,) = out.out
    request = json.loads(printed)
    assert request["method"] == "POST"
    assert (
        request["url"]
        == f"{fake_google.url}/v1/projects/{PROJECT}/locations/{REGION}/pipelineJobs?pipelineJobId=run-dry"
    )
    assert request["body"]["serviceAccount"] == "runner@x.iam.gserviceaccount.com"
    assert request["body"]["runtimeConfig"]["gcsOutputDirectory"] == f"gs://{BUCKET}/runs"


def test_dry_run_body_equals_the_sent_body(fake_google, adc, compiled, bucket):
    cfg = config(fake_google, "gcp.service_account=runner@x.iam.gserviceaccount.com")
    out = Output()
    submit_to_vertex(cfg, compiled, out.options(dry_run=True, job_id="same"))
    submit_to_vertex(cfg, compiled, Output().options(job_id="same"))
    (create,) = fake_google.sent("POST", CREATE_PATH)
    assert create.body == json.loads(out.out[0])["body"]


def test_wait_prints_each_state_change_until_succeeded(fake_google, adc, compiled, bucket):
    fake_google.states = [
        "PIPELINE_STATE_PENDING",
        "PIPELINE_STATE_PENDING",
        "PIPELINE_STATE_RUNNING",
        "PIPELINE_STATE_RUNNING",
        "PIPELINE_STATE_SUCCEEDED",
    ]
    out = Output()
    submit_to_vertex(config(fake_google), compiled, out.options(wait=True, job_id="w1"))
    assert out.out[2:] == [
        "pipeline job w1: PENDING",
        "pipeline job w1: RUNNING",
        "pipeline job w1: SUCCEEDED",
    ]
    assert len(fake_google.sent("GET", CREATE_PATH + "/w1")) == 5


@pytest.mark.parametrize("final", ["FAILED", "CANCELLED"])
def test_wait_reports_a_failed_or_cancelled_run_with_its_error(fake_google, adc, compiled, bucket, final):
    fake_google.states = ["PIPELINE_STATE_RUNNING", f"PIPELINE_STATE_{final}"]
    fake_google.job_error = {
        "code": 9,
        "message": "The DAG failed because some tasks failed.\nThe failed tasks are: [train].",
    }
    out = Output()
    with pytest.raises(RunFailed) as e:
        submit_to_vertex(config(fake_google), compiled, out.options(wait=True, job_id="w2"))
    assert str(e.value) == (
        f"pipeline job w2 ended {final}: The DAG failed because some tasks failed. The failed tasks are: [train]."
    )
    assert out.out[-1] == f"pipeline job w2: {final}"


def test_wait_polls_through_transient_errors(fake_google, adc, compiled, bucket):
    fake_google.states = ["PIPELINE_STATE_RUNNING", "PIPELINE_STATE_SUCCEEDED"]
    fake_google.poll_failures = [
        fake_google.error(503, "UNAVAILABLE", "The service is currently unavailable."),
        fake_google.reply(200, {}, delay=6),  # a poll that times out
    ]
    out = Output()
    submit_to_vertex(config(fake_google), compiled, out.options(wait=True, job_id="t1", timeout=2))
    assert out.out[2:] == ["pipeline job t1: RUNNING", "pipeline job t1: SUCCEEDED"]
    assert [line.split(" (")[0] for line in out.err] == ["pipeline job t1: poll failed"] * 2
    assert "503 UNAVAILABLE" in out.err[0]


def test_wait_gives_up_after_repeated_poll_failures(fake_google, adc, compiled, bucket):
    fake_google.poll_failures = [fake_google.error(503, "UNAVAILABLE", "unavailable")] * 5
    with pytest.raises(BackendApiError, match=r"\(503 UNAVAILABLE\): unavailable"):
        submit_to_vertex(config(fake_google), compiled, Output().options(wait=True))
    assert len(fake_google.sent("GET", CREATE_PATH + "/.*")) == 5


def test_wait_stops_at_a_permanent_poll_error(fake_google, adc, compiled, bucket):
    fake_google.poll_failures = [
        fake_google.error(403, "PERMISSION_DENIED", "no aiplatform.pipelineJobs.get")
    ]
    with pytest.raises(BackendApiError, match=r"\(403 PERMISSION_DENIED\)"):
        submit_to_vertex(config(fake_google), compiled, Output().options(wait=True))
    assert len(fake_google.sent("GET", CREATE_PATH + "/.*")) == 1


def test_wait_timeout_stops_waiting_with_a_message(fake_google, adc, compiled, bucket):
    fake_google.states = ["PIPELINE_STATE_RUNNING"]
    with pytest.raises(DeadlineExceeded, match=r"still RUNNING after 0.2 s \(--wait-timeout\)"):
        submit_to_vertex(config(fake_google), compiled, Output().options(wait=True, wait_timeout=0.2))


QUOTA_DETAILS = [
    {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "RATE_LIMIT_EXCEEDED",
        "domain": "aiplatform.googleapis.com",
        "metadata": {
            "quota_metric": "aiplatform.googleapis.com/custom_model_training_nvidia_l4_gpus",
            "quota_location": "us-central1",
        },
    }
]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            (
                403,
                "PERMISSION_DENIED",
                "Permission 'aiplatform.pipelineJobs.create' denied on resource "
                "'//aiplatform.googleapis.com/projects/demo-project/locations/us-central1' (or it may not exist).",
            ),
            "Vertex AI refused the request (403 PERMISSION_DENIED): Permission 'aiplatform.pipelineJobs.create' denied",
        ),
        (
            (404, "NOT_FOUND", "Project demo-project not found."),
            "Vertex AI refused the request (404 NOT_FOUND): Project demo-project not found. -> check gcp.project",
        ),
        (
            (429, "RESOURCE_EXHAUSTED", "Quota exceeded.", QUOTA_DETAILS),
            "quota custom_model_training_nvidia_l4_gpus is exhausted in project demo-project, region us-central1: "
            "request more at https://console.cloud.google.com/iam-admin/quotas?project=demo-project",
        ),
        (
            (
                400,
                "INVALID_ARGUMENT",
                'Accelerator "NVIDIA_H100_80GB" is not supported for machine type "n1-standard-8".',
            ),
            '(400 INVALID_ARGUMENT): Accelerator "NVIDIA_H100_80GB" is not supported for machine type "n1-standard-8". '
            "-> this accelerator is not offered with this machine shape here",
        ),
    ],
)
def test_api_errors_read_as_one_line(fake_google, adc, compiled, bucket, reply, expected):
    fake_google.create_reply = fake_google.error(*reply)
    with pytest.raises(BackendApiError) as e:
        submit_to_vertex(config(fake_google), compiled, Output().options())
    assert expected in str(e.value)
    assert "\n" not in str(e.value)


def test_quota_metric_is_found_in_the_message_too(fake_google, adc, compiled, bucket):
    fake_google.create_reply = fake_google.error(
        429,
        "RESOURCE_EXHAUSTED",
        "The following quota metrics exceed quota limits: aiplatform.googleapis.com/custom_model_training_nvidia_l4_gpus",
    )
    with pytest.raises(BackendApiError, match="quota custom_model_training_nvidia_l4_gpus is exhausted"):
        submit_to_vertex(config(fake_google), compiled, Output().options())


def test_missing_bucket_stops_before_creating_anything(fake_google, adc, compiled):
    with pytest.raises(PreflightError) as e:
        submit_to_vertex(config(fake_google), compiled, Output().options())
    assert str(e.value) == (
        f"pipeline_root bucket gs://{BUCKET} does not exist; create it with `gcloud storage buckets create "
        f"gs://{BUCKET} --project={PROJECT} --location={REGION}` (pipeline-sdk never creates buckets or changes "
        "their IAM)"
    )
    assert not fake_google.sent("POST", CREATE_PATH)
    assert not fake_google.sent("POST", r"/storage/.*")


def test_skip_bucket_check(fake_google, adc, compiled):
    submit_to_vertex(config(fake_google), compiled, Output().options(skip_bucket_check=True))
    assert fake_google.sent("POST", CREATE_PATH)
    assert not fake_google.sent("GET", r"/storage/.*")


def test_unreadable_bucket(fake_google, adc, compiled):
    fake_google.buckets[BUCKET] = fake_google.error(
        403, "PERMISSION_DENIED", "caller does not have storage.buckets.get"
    )
    with pytest.raises(PreflightError, match=r"cannot read pipeline_root bucket gs://demo-pipelines \(403"):
        submit_to_vertex(config(fake_google), compiled, Output().options())


def test_every_network_wait_is_bounded(fake_google, adc, compiled, bucket):
    fake_google.create_reply = fake_google.reply(200, {}, delay=3)
    options = VertexOptions(echo=print, note=print, timeout=0.5, check_images=False)
    with pytest.raises(
        DeadlineExceeded, match=r"creating the pipeline job: Vertex AI at .* did not answer within 0.5 s"
    ):
        submit_to_vertex(config(fake_google), compiled, options)


def test_missing_credentials_say_how_to_fix_it(fake_google, compiled, bucket):
    with pytest.raises(CredentialsError) as e:
        submit_to_vertex(config(fake_google), compiled, Output().options())
    assert str(e.value).startswith("no usable Google Cloud credentials (")
    assert str(e.value).endswith(
        "run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a "
        "service-account key file"
    )
    assert fake_google.requests == []


def test_rejected_credentials_say_how_to_fix_it(fake_google, adc, compiled, bucket):
    fake_google.token_reply = fake_google.reply(
        400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
    )
    with pytest.raises(
        CredentialsError,
        match=r"^Google Cloud credentials were rejected \(invalid_grant: "
        r"Invalid JWT Signature.\); run `gcloud auth",
    ):
        submit_to_vertex(config(fake_google), compiled, Output().options())
    assert not fake_google.sent("POST", CREATE_PATH)


def test_unreadable_key_file(fake_google, adc, compiled):
    adc.path.write_text("{not json")
    with pytest.raises(CredentialsError, match="no usable Google Cloud credentials"):
        submit_to_vertex(config(fake_google), compiled, Output().options())


@pytest.mark.parametrize(
    ("overrides", "accelerator", "message"),
    [
        (
            ["gcp.region=us-centrall1"],
            "NVIDIA_L4",
            "gcp.region=us-centrall1 is not a Vertex AI region; did you mean us-central1",
        ),
        (
            ["gcp.pipeline_root=/tmp/root"],
            "NVIDIA_L4",
            "gcp.pipeline_root=/tmp/root is not a Cloud Storage URI",
        ),
        (["gcp.pipeline_root=null"], "NVIDIA_L4", "gcp.pipeline_root is not set"),
        (
            [],
            "NVIDIA_L5",
            "exec-train: 'NVIDIA_L5' is not a Vertex AI accelerator type (did you mean NVIDIA_L4",
        ),
        (["+gcp.labels.Team=x"], "NVIDIA_L4", "gcp.labels: Team='x' is not a valid GCP label"),
    ],
)
def test_preflight_errors_contact_nothing(
    fake_google, adc, tmp_path, compile_test_pipeline, overrides, accelerator, message
):
    compiled = compile_test_pipeline(tmp_path / "p.yaml", "127.0.0.1:1/ml", accelerator=accelerator)
    with pytest.raises(PreflightError) as e:
        submit_to_vertex(config(fake_google, *overrides), compiled, Output().options())
    assert message in str(e.value)
    assert fake_google.requests == []


def test_check_images_asks_the_registry_with_the_credentials(
    fake_google, adc, compiled_with_local_registry, bucket
):
    fake_google.manifests = {"ml/hydra-vertex-data-prepare:0.1.0", "ml/hydra-vertex-trainer:0.1.0"}
    out = Output()
    submit_to_vertex(config(fake_google), compiled_with_local_registry, out.options(check_images=True))
    heads = fake_google.sent("HEAD", r"/v2/.*")
    assert sorted(r.path for r in heads) == [
        "/v2/ml/hydra-vertex-data-prepare/manifests/0.1.0",
        "/v2/ml/hydra-vertex-trainer/manifests/0.1.0",
    ]
    assert all("manifest" in r.headers["accept"] for r in heads)
    assert fake_google.sent("POST", CREATE_PATH)


def test_check_images_names_every_missing_image(fake_google, adc, compiled_with_local_registry, bucket):
    fake_google.manifests = {"ml/hydra-vertex-data-prepare:0.1.0"}
    with pytest.raises(PreflightError) as e:
        submit_to_vertex(
            config(fake_google), compiled_with_local_registry, Output().options(check_images=True)
        )
    assert str(e.value).startswith(
        f"not in the registry: hydra-vertex-trainer ({compiled_with_local_registry.images['hydra-vertex-trainer']});"
    )
    assert not fake_google.sent("POST", CREATE_PATH)


def test_check_images_notes_a_registry_it_cannot_ask_and_submits(
    fake_google, adc, tmp_path, compile_test_pipeline, bucket
):
    compiled = compile_test_pipeline(tmp_path / "p.yaml", "127.0.0.1:1/ml")  # nothing listens on port 1
    out = Output()
    submit_to_vertex(config(fake_google), compiled, out.options(check_images=True))
    assert [
        n for n in out.err if "not checked: cannot reach registry 127.0.0.1:1" in n and "(moving on)" in n
    ]
    assert fake_google.sent("POST", CREATE_PATH)


STORE = f"projects/{PROJECT}/locations/{REGION}/metadataStores/default"


def test_experiment_is_created_and_the_run_added_to_it(fake_google, adc, compiled, bucket):
    out = Output()
    submit_to_vertex(config(fake_google, "gcp.experiment=fmnist-cnn"), compiled, out.options(job_id="e1"))
    (created,) = fake_google.sent("POST", rf"/v1/{STORE}/contexts")
    assert created.query["contextId"] == ["fmnist-cnn"]
    assert created.body["schemaTitle"] == "system.Experiment"
    assert created.body["metadata"] == {"experiment_deleted": False}
    # The experiment exists before the job is created; the run is linked once Vertex made its context.
    order = [r.path for r in fake_google.requests if r.method == "POST" and r.path != "/token"]
    assert order[:2] == [f"/v1/{STORE}/contexts", CREATE_PATH]
    assert fake_google.context_children == {f"{STORE}/contexts/fmnist-cnn": [f"{STORE}/contexts/e1"]}
    assert out.out[-1] == (
        "experiment https://console.cloud.google.com/vertex-ai/experiments/locations/us-central1/experiments/"
        "fmnist-cnn?project=demo-project"
    )
    assert out.err == ["waiting for Vertex AI to start the job, to add it to experiment fmnist-cnn"]


def test_existing_experiment_is_reused(fake_google, adc, compiled, bucket):
    fake_google.contexts[f"{STORE}/contexts/fmnist-cnn"] = {"name": f"{STORE}/contexts/fmnist-cnn"}
    submit_to_vertex(
        config(fake_google, "gcp.experiment=fmnist-cnn"), compiled, Output().options(job_id="e2")
    )
    assert not fake_google.sent("POST", rf"/v1/{STORE}/contexts")
    assert fake_google.context_children[f"{STORE}/contexts/fmnist-cnn"] == [f"{STORE}/contexts/e2"]


def test_experiment_link_wait_is_bounded(fake_google, adc, compiled, bucket):
    fake_google.states = ["PIPELINE_STATE_PENDING"]
    with pytest.raises(DeadlineExceeded, match=r"^the job has no run context after 0.2 s \(PENDING\)"):
        submit_to_vertex(
            config(fake_google, "gcp.experiment=fmnist-cnn"), compiled, Output().options(wait_timeout=0.2)
        )


def test_experiment_name_is_checked_before_anything_is_sent(fake_google, adc, compiled):
    with pytest.raises(
        PreflightError, match=r"gcp\.experiment=Fashion_MNIST is not a Vertex AI experiment name"
    ):
        submit_to_vertex(config(fake_google, "gcp.experiment=Fashion_MNIST"), compiled, Output().options())
    assert fake_google.requests == []


def test_bad_job_id_is_refused_before_anything_is_sent(fake_google, adc, compiled, bucket):
    with pytest.raises(
        PreflightError, match=r"Generated job ID: Run_1 is illegal as a Vertex pipelines job ID"
    ):
        submit_to_vertex(config(fake_google), compiled, Output().options(job_id="Run_1"))
    assert not fake_google.sent("POST", CREATE_PATH)


def test_package_labels_are_named_after_the_distributions_as_valid_gcp_keys():
    """One label per package, keyed by its distribution name (what its image and pip call it), made a
    valid GCP label key whatever the name; a user's own label of the same name wins."""
    from pipeline_sdk.submit.preflight import build_labels

    labels = build_labels(
        {"hydra-vertex-trainer": "pinned"},
        {"hydra-vertex-trainer": "0.1.0", "My.Component": "2.0.0rc1+local", "3d-tools": "1.0"},
    )
    assert labels == {"hydra-vertex-trainer": "pinned", "my-component": "2-0-0rc1-local", "p-3d-tools": "1-0"}
