"""Downloads over real HTTP from a loopback mirror, and gs:// through a loopback Cloud Storage server."""

import json


def test_downloads_from_first_working_mirror(tiny, cli, tmp_path, file_server):
    url, requests = file_server.url, file_server.requests
    overrides = tiny.overrides(with_source=False)
    out = tmp_path / "ds"
    result = cli(
        *overrides,
        "dataset.system_dirs=[]",
        f"download.mirrors=[http://127.0.0.1:9/,{url}/mirror/]",
        "download.progress=true",
        f"paths.output_dir={out}",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "manifest.json").read_text())["source"] == f"{url}/mirror/"
    assert sorted(requests) == sorted(
        f"/mirror/{n}" for n in json.loads((out / "manifest.json").read_text())["files"]
    )
    assert "train-images-idx3-ubyte.gz" in result.stderr  # the progress bar names the file


def test_https_base_url_source_404(tiny, cli, tmp_path, file_server):
    url = file_server.url
    overrides = tiny.overrides(with_source=False)
    result = cli(*overrides, f"source={url}/nowhere/", f"paths.output_dir={tmp_path / 'ds'}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "HTTP Error 404" in result.stderr or "Not Found" in result.stderr
    assert not (tmp_path / "ds").exists()


def test_gcs_source(tiny, cli, tmp_path, file_server, monkeypatch):
    url, requests = file_server.url, file_server.requests
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", url)
    overrides = tiny.overrides(with_source=False)
    out = tmp_path / "ds"
    result = cli(*overrides, "source=gs://bucket/fashion", f"paths.output_dir={out}")
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "manifest.json").read_text())["source"] == "gs://bucket/fashion"
    assert any("/b/bucket/o/fashion%2Ftrain-images-idx3-ubyte.gz" in r for r in requests), requests


def test_gcs_missing_object(tiny, cli, tmp_path, file_server, monkeypatch):
    url = file_server.url
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", url)
    overrides = tiny.overrides(with_source=False)
    result = cli(*overrides, "source=gs://bucket/other", f"paths.output_dir={tmp_path / 'ds'}")
    assert result.returncode == 1
    assert "cannot read gs://bucket/other/train-images-idx3-ubyte.gz" in result.stderr
    assert "Traceback" not in result.stderr
