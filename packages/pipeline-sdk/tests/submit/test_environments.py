"""Environments (`env=NAME`, configs/env/NAME.yaml): what they change in the request submit sends to the
loopback fake Vertex AI, how they rank against pipeline.yaml and the command line, and their errors."""

import json
import shutil
from pathlib import Path

import pytest

from pipeline_sdk.commands.submit import main as submit
from pipeline_sdk.config import load_config
from pipeline_sdk.errors import ConfigError

REPO_CONFIGS = Path(__file__).resolve().parents[4] / "configs"

ENV = """# @package _global_
gcp:
  project: {project}
  region: {region}
  pipeline_root: gs://{project}-pipelines/runs
  service_account: runner@{project}.iam.gserviceaccount.com
  api_endpoint: {endpoint}
  labels:
    env: {name}
images:
  registry: europe-docker.pkg.dev/{project}/ml
"""


@pytest.fixture
def configs(tmp_path, fake_google):
    """A copy of configs/ with environments dev and prod, each a project of its own on the fake."""
    directory = tmp_path / "configs"
    shutil.copytree(REPO_CONFIGS, directory)
    for name, project, region in (("dev", "acme-dev", "us-central1"), ("prod", "acme-prod", "europe-west4")):
        (directory / "env" / f"{name}.yaml").write_text(
            ENV.format(name=name, project=project, region=region, endpoint=fake_google.url)
        )
        fake_google.buckets[f"{project}-pipelines"] = fake_google.reply(200, {"name": f"{project}-pipelines"})
    return directory


def submitted(fake_google, capsys, configs, *args):
    code = submit(["--config-dir", str(configs), "--no-check-images", "--job-id", "env-run", *args])
    assert code == 0, capsys.readouterr().err
    (create,) = fake_google.sent("POST", r"/v1/projects/[^/]+/locations/[^/]+/pipelineJobs")
    fake_google.requests.clear()
    return create


def test_switching_env_changes_the_submitted_request(fake_google, adc, capsys, configs):
    bodies = {}
    for name in ("dev", "prod"):
        bodies[name] = create = submitted(fake_google, capsys, configs, f"env={name}")
        project, region = {"dev": ("acme-dev", "us-central1"), "prod": ("acme-prod", "europe-west4")}[name]
        assert create.path == f"/v1/projects/{project}/locations/{region}/pipelineJobs"
        body = create.body
        assert body["serviceAccount"] == f"runner@{project}.iam.gserviceaccount.com"
        assert body["runtimeConfig"]["gcsOutputDirectory"] == f"gs://{project}-pipelines/runs"
        assert body["labels"]["env"] == name
        images = [
            e["container"]["image"] for e in body["pipelineSpec"]["deploymentSpec"]["executors"].values()
        ]
        assert all(image.startswith(f"europe-docker.pkg.dev/{project}/ml/") for image in images), images
    # the pipeline itself is the same in both places
    specs = [bodies[name].body["pipelineSpec"]["root"] for name in ("dev", "prod")]
    assert specs[0] == specs[1]


def test_a_command_line_override_beats_the_env_file(fake_google, adc, capsys, configs):
    create = submitted(
        fake_google,
        capsys,
        configs,
        "env=prod",
        "gcp.service_account=other@acme-prod.iam.gserviceaccount.com",
    )
    assert create.body["serviceAccount"] == "other@acme-prod.iam.gserviceaccount.com"
    assert create.path.startswith("/v1/projects/acme-prod/locations/europe-west4/")


def test_the_env_file_beats_pipeline_yaml_and_the_default_env_changes_nothing(configs):
    pipeline = configs / "pipeline.yaml"
    pipeline.write_text(pipeline.read_text().replace("  region: us-central1\n", "  region: asia-east1\n", 1))
    assert load_config(["env=prod"], configs).gcp.region == "europe-west4"
    default = load_config([], configs)
    assert default.env == "local" and default.gcp.region == "asia-east1"
    # local.yaml is the default and writes nothing over pipeline.yaml
    assert load_config([], REPO_CONFIGS) == load_config(["env=local"], REPO_CONFIGS)


def test_dry_run_names_the_env_beside_the_request(fake_google, capsys, configs):
    assert submit(["--config-dir", str(configs), "--dry-run", "env=dev"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["env"] == "dev" and "env" not in printed["body"]  # described, never sent
    assert (
        submit(
            [
                "--config-dir",
                str(configs),
                "--dry-run",
                "backend=kfp",
                "kfp.host=http://127.0.0.1:9",
                "env=dev",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["env"] == "dev"


def test_the_example_environment_is_valid(tmp_path):
    cfg = load_config(["env=example-prod"], REPO_CONFIGS)
    assert cfg.env == "example-prod"
    assert cfg.gcp.pipeline_root.startswith("gs://") and cfg.gcp.labels.env == "prod"
    assert not cfg.images.registry.startswith("localhost/")


def test_a_misspelt_env_is_one_line_naming_those_that_exist(configs):
    with pytest.raises(ConfigError) as raised:
        load_config(["env=prd"], configs)
    assert str(raised.value) == "env=prd: no such environment; choose from dev, example-prod, local, prod"
    assert raised.value.exit_code == 2


def test_an_unknown_key_in_an_env_file_names_the_file(configs):
    (configs / "env" / "typo.yaml").write_text("# @package _global_\ngcp:\n  project: p\n  projcet: q\n")
    with pytest.raises(ConfigError, match=r"env/typo\.yaml:4:3: unknown config key 'gcp\.projcet'"):
        load_config(["env=typo"], configs)
    (configs / "env" / "typo.yaml").write_text("# @package _global_\nimages:\n  registry: r\n  lock: x\n")
    with pytest.raises(ConfigError, match=r"env/typo\.yaml:4:3: unknown config key 'images\.lock'"):
        load_config(["env=typo"], configs)


def test_runs_list_uses_the_envs_project_and_region(fake_google, adc, capsys, configs):
    from pipeline_sdk.commands.runs import main as runs

    fake_google.add_job("acme-prod", "europe-west4", "prod-1")
    assert runs(["list", "--config-dir", str(configs), "env=prod"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[0] == "prod-1"
    (request,) = fake_google.sent("GET", r"/v1/projects/acme-prod/locations/europe-west4/pipelineJobs")
    assert request.query["filter"] == ['pipeline_name="hydra-fashion-mnist-training"']


def test_a_config_directory_without_environments_still_loads(tmp_path):
    alone = tmp_path / "conf"
    alone.mkdir()
    shutil.copy(REPO_CONFIGS / "pipeline.yaml", alone / "pipeline.yaml")
    assert load_config([], alone).env is None  # the defaults list's `optional env: local`
    with pytest.raises(ConfigError, match=r"^env=prod: no such environment; .*/conf/env holds none"):
        load_config(["env=prod"], alone)
