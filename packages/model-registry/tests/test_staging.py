"""A model at a local path (``pipeline-sdk run``) is staged in Cloud Storage, content-addressed, then registered;
over real HTTP against the fake's Cloud Storage object routes (submit_fakes/storage_objects.py)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from submit_fakes.server import FakeServer, Reply

from model_registry.errors import RegistryError
from model_registry.staging import model_files, stage

IMAGE = "europe-docker.pkg.dev/demo-project/ml/hydra-vertex-serve:0.1.0"
MODEL_ID = "hydra-image-classifier"
STAGING = "gs://pipeline-root/runs"
FILES = ("config.yaml", "metrics.json", "model.pt")


def _digest(directory: Path, names: tuple[str, ...] = FILES) -> str:
    """The content address, computed here independently: SHA-256 over "<sha256>  <name>\\n" lines by name."""
    lines = "".join(
        f"{hashlib.sha256((directory / n).read_bytes()).hexdigest()}  {n}\n" for n in sorted(names)
    )
    return hashlib.sha256(lines.encode()).hexdigest()[:16]


def _parameters(fake, **more: str) -> dict[str, str]:
    return {"project": "demo-project", "api_endpoint": fake.url, "serving_image": IMAGE, **more}


def test_a_local_model_is_staged_once_and_registered_from_cloud_storage(fake, run_component, trained) -> None:
    model = trained("model")
    prefix = f"runs/registered-models/{MODEL_ID}/{_digest(model)}"
    staged = f"gs://pipeline-root/{prefix}"
    first = run_component(
        "register_model", {"model": str(model)}, _parameters(fake, staging_uri=STAGING), fake=fake
    )
    assert first.result.returncode == 0, first.result.stderr
    assert first.result.stdout.splitlines()[0] == (
        f"register-model: note: staged the local model at {staged} (3 files uploaded, 0 already there)"
    )
    assert first.result.stdout.splitlines()[1].startswith("register-model: registered ")
    assert {key: data for key, data in fake.objects.items()} == {
        f"pipeline-root/{prefix}/{name}": (model / name).read_bytes() for name in FILES
    }
    assert len(fake.object_uploads()) == 3
    assert all(r.query["ifGenerationMatch"] == ["0"] for r in fake.object_uploads())
    (upload,) = fake.uploads()
    assert upload.body["model"]["artifactUri"] == staged
    assert first.executor_input and (first.output("registered_model") / "registration.json").exists()

    again = run_component(
        "register_model", {"model": str(model)}, _parameters(fake, staging_uri=STAGING), fake=fake
    )
    assert again.result.returncode == 0, again.result.stderr
    assert f"at {staged} (0 files uploaded, 3 already there)" in again.result.stdout
    assert len(fake.object_uploads()) == 3  # nothing sent again
    assert [u.body["model"]["artifactUri"] for u in fake.uploads()] == [staged, staged]


def test_without_a_staging_place_or_when_an_upload_fails_nothing_is_registered(
    tmp_path: Path, new_fake, cli, gcp, trained, error_line, listing
) -> None:
    model = trained("model")
    plain, refusing = new_fake(), new_fake()
    refusing.object_upload_reply = FakeServer.error(
        403, "PERMISSION_DENIED", "pipeline@demo-project.iam.gserviceaccount.com does not have "
        "storage.objects.create access to the Google Cloud Storage object."
    )  # fmt: skip
    common = [f"model.path={model}", f"registry.serving_image={IMAGE}"]
    runs = {
        "unstaged": cli.start("register-model", *gcp(plain), *common, f"paths.output_dir={tmp_path / 'a'}", fake=plain),
        "refused": cli.start(
            "register-model", *gcp(refusing), *common, f"gcp.staging_uri={STAGING}",
            f"paths.output_dir={tmp_path / 'b'}", fake=refusing,
        ),
    }  # fmt: skip
    line = error_line(cli.wait(runs["unstaged"]), "register-model")
    assert (
        f"the model is at a local path ({model}) and Vertex AI reads model files from Cloud Storage" in line
    )
    assert "set gcp.pipeline_root" in line and "pipeline-sdk submit" in line
    assert plain.requests == [] and listing(tmp_path / "a") == []

    line = error_line(cli.wait(runs["refused"]), "register-model")
    assert f"uploading {model}/config.yaml to gs://pipeline-root/runs/registered-models/" in line
    assert "403 Forbidden" in line and "storage.objects.create" in line
    assert refusing.objects == {} and listing(tmp_path / "b") == []
    assert not [r for r in refusing.requests if r.path.startswith("/v1/")]  # no registration request


@pytest.fixture
def storage_env(fake, cli, monkeypatch: pytest.MonkeyPatch):
    """This process reaches the fake's Cloud Storage with the test service account's key."""
    for key in ("GOOGLE_APPLICATION_CREDENTIALS", "STORAGE_EMULATOR_HOST", "NO_GCE_CHECK"):
        monkeypatch.setenv(key, cli.env(fake)[key])
    return fake


def test_a_changed_object_is_sent_again_and_every_upload_is_verified(storage_env, trained) -> None:
    fake, model = storage_env, trained("model")
    (model / "sub").mkdir()
    (model / "sub" / "extra.txt").write_text("nested\n")
    os.symlink("model.pt", model / "weights.pt")
    names = (*FILES, "sub/extra.txt", "weights.pt")
    staged = stage(model, STAGING, MODEL_ID, "demo-project")
    assert (staged.uri, staged.uploaded, staged.reused) == (
        f"{STAGING}/registered-models/{MODEL_ID}/{_digest(model, names)}",
        5,
        0,
    )
    bucket_key = staged.uri.removeprefix("gs://")
    assert fake.objects[f"{bucket_key}/weights.pt"] == (model / "model.pt").read_bytes()

    fake.objects[f"{bucket_key}/config.yaml"] = b"tampered"
    generation = fake.object_generations[f"{bucket_key}/config.yaml"]
    again = stage(model, STAGING, MODEL_ID, "demo-project")
    assert (again.uri, again.uploaded, again.reused) == (staged.uri, 1, 4)
    assert fake.object_uploads()[-1].query["ifGenerationMatch"] == [str(generation)]
    assert fake.objects[f"{bucket_key}/config.yaml"] == (model / "config.yaml").read_bytes()

    other = trained("other", val_accuracy=0.5)
    fake.objects["pipeline-root/x"] = b"something else"
    fake.object_upload_reply = Reply(200, fake.object_resource("pipeline-root", "x"))
    with pytest.raises(RegistryError, match=r"but Cloud Storage holds 14 bytes, MD5 .* instead of \d+ bytes"):
        stage(other, STAGING, MODEL_ID, "demo-project")


def test_only_files_inside_the_model_directory_are_staged(tmp_path: Path, trained) -> None:
    model = trained("model")
    (tmp_path / "secret.txt").write_text("outside\n")
    os.symlink(tmp_path / "secret.txt", model / "notes.txt")
    with pytest.raises(RegistryError, match=r"notes.txt is a symbolic link out of the model directory"):
        model_files(model)
    (model / "notes.txt").unlink()
    os.symlink(tmp_path, model / "up")
    with pytest.raises(RegistryError, match=r"up is a symbolic link out of the model directory"):
        model_files(model)
    (model / "up").unlink()
    os.symlink(model, model / "loop")  # inside: not followed, its files are staged where they are
    assert [f.name for f in model_files(model)] == list(FILES)


def test_the_fake_refuses_a_model_whose_files_are_not_in_cloud_storage(fake, rsa_key) -> None:
    import requests

    token = "ya29.test"
    fake.issued_tokens.add(token)
    model = {"displayName": "clf", "artifactUri": "/tmp/model", "containerSpec": {"imageUri": IMAGE}}
    reply = requests.post(
        f"{fake.url}/v1/projects/demo-project/locations/us-central1/models:upload",
        json={"modelId": "clf", "model": model},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert reply.status_code == 400 and reply.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert "gs://" in reply.json()["error"]["message"] and fake.models == {}
