"""`pipeline-sdk publish` against a loopback fake of Artifact Registry's KFP template endpoint, through
kfp's RegistryClient with real service-account credentials."""

import hashlib

import yaml

from pipeline_sdk.commands.publish import main


def test_publish_uploads_the_compiled_template_tagged_with_the_version(fake_google, adc, capsys):
    host = f"{fake_google.url}/kfp/demo-project/pipelines"
    assert main(["--host", host, "params.epochs=2"]) == 0
    out = capsys.readouterr().out.splitlines()
    ((key, template),) = fake_google.templates.items()
    name, version = key.split("/")
    assert name == "hydra-fashion-mnist-training"
    assert version == "sha256:" + hashlib.sha256(template["content"]).hexdigest()
    assert template["tags"] == ["v0.1.0", "latest"]
    spec = yaml.safe_load(template["content"])
    assert spec["root"]["inputDefinitions"]["parameters"]["epochs"]["defaultValue"] == 2
    assert out == [f"published {name} {version} tags v0.1.0, latest", f"template  {host}/{name}/v0.1.0"]


def test_publish_with_explicit_tags(fake_google, adc, capsys):
    assert main(["--host", f"{fake_google.url}/kfp/p/r", "--tag", "nightly", "--tag", "rc"]) == 0
    (template,) = fake_google.templates.values()
    assert template["tags"] == ["nightly", "rc"]


def test_refused_upload_is_one_line(fake_google, adc, capsys):
    fake_google.upload_reply = fake_google.reply(
        403, "Permission 'artifactregistry.repositories.uploadArtifacts' denied"
    )
    assert main(["--host", f"{fake_google.url}/kfp/p/r"]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"pipeline-sdk publish: error: {fake_google.url}/kfp/p/r refused the upload (403): Permission "
        "'artifactregistry.repositories.uploadArtifacts' denied -> the credentials need "
        "roles/artifactregistry.writer on the repository\n"
    )


def test_host_must_be_a_url(capsys):
    assert main(["--host", "us-central1-kfp.pkg.dev/p/r"]) == 1
    assert "is not a template registry URL" in capsys.readouterr().err


def test_host_is_required(capsys):
    assert main([]) == 2
    assert capsys.readouterr().err.startswith(
        "pipeline-sdk publish: error: the following arguments are required: --host"
    )


def test_publish_takes_a_sweep_as_compile_does(fake_google, adc, capsys):
    host = f"{fake_google.url}/kfp/demo-project/pipelines"
    assert main(["--host", host, "-m", "params.learning_rate=0.002,0.004"]) == 0, capsys.readouterr().err
    ((_, template),) = fake_google.templates.items()
    tasks = yaml.safe_load(template["content"])["root"]["dag"]["tasks"]
    loop = next(task for task in tasks.values() if "parameterIterator" in task)
    assert yaml.safe_load(loop["parameterIterator"]["items"]["raw"]) == [
        '{"learning_rate": 0.002}',
        '{"learning_rate": 0.004}',
    ]
    assert "select-best" in tasks
