"""The pieces in-process: settings from the Hydra config, gs:// URIs, instance decoding, the inference thread."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from omegaconf import OmegaConf

from serve import (
    InputShape,
    Limits,
    RequestError,
    Routes,
    ServeError,
    decode_batch,
    settings_from_config,
    split_gcs_uri,
)
from serve.model import InferenceThread

GREY = InputShape(28, 1)


def _config(monkeypatch: pytest.MonkeyPatch, *overrides: str, **env: str):
    from hydra import compose, initialize_config_module

    for name in ("AIP_STORAGE_URI", "AIP_HTTP_PORT", "AIP_HEALTH_ROUTE", "AIP_PREDICT_ROUTE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with initialize_config_module("serve.conf", version_base="1.3"):
        cfg = compose("serve", list(overrides))
    OmegaConf.resolve(cfg)  # the environment is read now, inside the monkeypatch
    return cfg


def test_settings_default_from_vertex_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _config(
        monkeypatch,
        AIP_STORAGE_URI="gs://b/m",
        AIP_HTTP_PORT="7080",
        AIP_HEALTH_ROUTE="/v1/endpoints/1/deployedModels/2",
        AIP_PREDICT_ROUTE="/v1/endpoints/1/deployedModels/2:predict",
    )
    settings = settings_from_config(cfg)
    assert (settings.model_uri, settings.host, settings.port) == ("gs://b/m", "0.0.0.0", 7080)
    assert settings.routes == Routes(
        "/v1/endpoints/1/deployedModels/2", "/v1/endpoints/1/deployedModels/2:predict"
    )
    assert settings.limits == Limits(1_572_864, 1024)
    assert settings.device == "auto" and settings.access_log is False


def test_settings_without_vertex_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from_config(
        _config(monkeypatch, "model_uri=/models/m", "limits.max_request_bytes=10485760")
    )
    assert (settings.port, settings.routes) == (8080, Routes("/health", "/predict"))
    assert settings.limits.max_request_bytes == 10_485_760
    with pytest.raises(ServeError, match="no model"):
        settings_from_config(_config(monkeypatch))
    with pytest.raises(ServeError, match="both /x"):
        settings_from_config(_config(monkeypatch, "model_uri=m", "health_route=/x", "predict_route=/x"))


@pytest.mark.parametrize(
    ("uri", "parts"),
    [
        ("gs://bucket/a/b/", ("bucket", "a/b")),
        ("gs://bucket", ("bucket", "")),
        ("gs://bucket/m", ("bucket", "m")),
    ],
)
def test_split_gcs_uri(uri: str, parts: tuple[str, str]) -> None:
    assert split_gcs_uri(uri) == parts


def _request(instances: object) -> bytes:
    return json.dumps({"instances": instances, "parameters": {"confidence": 0.5}}).encode()


def test_decode_batch_stacks_grey_images(to_png) -> None:
    import base64

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)
    instances = [
        images[0].tolist(),
        images[1][:, :, None].tolist(),
        {"b64": base64.b64encode(to_png(images[2])).decode()},
    ]
    batch = decode_batch(_request(instances), GREY, Limits())
    assert batch.dtype == np.uint8 and batch.shape == (3, 28, 28)
    np.testing.assert_array_equal(batch, images)


def test_decode_batch_for_a_colour_model() -> None:
    image = np.arange(28 * 28 * 3, dtype=np.int64).reshape(28, 28, 3) % 256
    batch = decode_batch(_request([image.tolist()]), InputShape(28, 3), Limits())
    assert batch.shape == (1, 3, 28, 28)
    np.testing.assert_array_equal(batch[0], image.transpose(2, 0, 1))
    with pytest.raises(RequestError, match="takes 28x28x3 pixel arrays, got 28x28"):
        decode_batch(_request([[[0] * 28] * 28]), InputShape(28, 3), Limits())


def test_limits_are_configurable() -> None:
    body = _request([[[0] * 28] * 28] * 3)
    assert len(decode_batch(body, GREY, Limits(max_instances=3))) == 3
    with pytest.raises(RequestError, match="3 instances in one request; the limit is 2") as caught:
        decode_batch(body, GREY, Limits(max_instances=2))
    assert caught.value.status == 400


def test_inference_thread_runs_everything_on_one_thread() -> None:
    runner = InferenceThread()
    names = {runner.run(lambda _: threading.current_thread().name, None) for _ in range(5)}
    assert names == {"inference"}
    with pytest.raises(ZeroDivisionError):
        runner.run(lambda x: 1 / x, 0)
    assert runner.run(lambda x: x + 1, 1) == 2  # still working after an exception
