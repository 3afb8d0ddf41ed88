"""What the service refuses or fails, for both programs: one error line, exit 1, no outputs.

The runs start together (each program imports aiplatform, ~3 s of CPU), each against its own fake.
"""

from __future__ import annotations

from pathlib import Path

IMAGE = "europe-docker.pkg.dev/demo-project/ml/hydra-vertex-serve:0.1.0"


def _register_cases(new_fake) -> dict:
    refused, failed_operation, merge_refused = new_fake(), new_fake(), new_fake()
    refused.model_upload_reply = refused.error(500, "INTERNAL", "Internal error encountered.")
    failed_operation.model_upload_error = {"code": 3, "message": "No model files found in gs://b/m."}
    merge_refused.merge_reply = merge_refused.error(
        403, "PERMISSION_DENIED", "Permission 'aiplatform.models.update' denied"
    )
    upload = "uploading gs://b/m as a version of model hydra-image-classifier: "
    return {
        "refused_upload": (refused, [], upload + "500 InternalServerError: Internal error encountered."),
        "failed_upload_operation": (
            failed_operation,
            [],
            upload + "400 InvalidArgument: No model files found",
        ),
        # the version exists, the alias did not move: the step fails and says so
        "refused_merge": (merge_refused, [], "registered version 1 of projects/123456789012/locations/"),
        "no_credentials": (None, [], "no Google credentials found (Application Default Credentials)"),
    }


def _deploy_cases(new_fake) -> dict:
    failing, twice, unknown = new_fake(), new_fake(), new_fake()
    failing.deploy_error = {"code": 8, "message": "The following quota metrics exceed quota limits: gpus"}
    twice.add_endpoint("demo-project", "us-central1", "fashion")
    twice.add_endpoint("demo-project", "us-central1", "fashion")
    accelerator = ["endpoint.accelerator_type=NVIDIA_NOPE", "endpoint.accelerator_count=1"]
    return {
        "failed_deploy_operation": (failing, [], "429 ResourceExhausted: The following quota metrics exceed"),
        "two_endpoints": (twice, [], "2 endpoints are named 'fashion'"),
        "unknown_accelerator": (unknown, accelerator, "Given accelerator_type `NVIDIA_NOPE` invalid"),
    }


def test_failures_are_one_line_and_write_nothing(
    tmp_path: Path, new_fake, cli, gcp, trained, registration, error_line, listing
) -> None:
    model = trained("model")
    register_cases, deploy_cases = _register_cases(new_fake), _deploy_cases(new_fake)
    runs = {}
    for name, (fake, extra, _) in register_cases.items():
        where = gcp(fake) if fake else ["gcp.project=demo-project", "gcp.api_endpoint=http://127.0.0.1:9"]
        runs[name] = ("register-model", cli.start(
            "register-model", *where, f"model.path={model}", "model.uri=gs://b/m", f"registry.serving_image={IMAGE}",
            f"paths.output_dir={tmp_path / name}", *extra, fake=fake,
        ))  # fmt: skip
    for name, (fake, extra, _) in deploy_cases.items():
        version = fake.add_version("demo-project", "us-central1", "clf", artifactUri="gs://b/m")
        registered = registration(tmp_path / f"registered-{name}", version)
        runs[name] = ("deploy-model", cli.start(
            "deploy-model", *gcp(fake), f"registered_model.path={registered}", "endpoint.name=fashion",
            f"paths.output_dir={tmp_path / name}", *extra, fake=fake,
        ))  # fmt: skip
    expected = {name: case[2] for name, case in {**register_cases, **deploy_cases}.items()}
    for name, (prog, process) in runs.items():
        line = error_line(cli.wait(process), prog)
        assert expected[name] in line, (name, line)
        assert listing(tmp_path / name) == [], name
