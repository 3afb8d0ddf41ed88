"""Served predictions are trainer.predict's: nested lists, PNG and JPEG instances, the whole test set, and
16 clients at once."""

from __future__ import annotations

import base64
import io
import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trainer import predict


def _b64(data: bytes) -> dict[str, str]:
    return {"b64": base64.b64encode(data).decode()}


def _classes(reply: Any) -> list[int]:
    assert reply.status == 200, reply.body
    return [p["class"] for p in reply.json()["predictions"]]


def test_nested_lists_predict_like_trainer_predict(
    server, model_dir: Path, fashion_test_set, predictor
) -> None:
    images = fashion_test_set[0][:64]
    reply = server.predict(images.tolist())
    assert reply.status == 200 and reply.headers["content-type"] == "application/json"
    predictions = reply.json()["predictions"]
    expected = predict(model_dir, images)
    assert [p["class"] for p in predictions] == expected.tolist()
    names = json.loads((model_dir / "metrics.json").read_text())["class_names"]
    assert [p["label"] for p in predictions] == [names[c] for c in expected]
    scores = np.array([p["scores"] for p in predictions])
    assert scores.shape == (64, 10)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, atol=1e-5)
    assert (scores.argmax(axis=1) == expected).all()
    np.testing.assert_allclose(scores, predictor.probabilities(images), rtol=0, atol=1e-6)
    # H x W x 1 is the same image
    assert server.predict(images[:, :, :, None].tolist()).json() == server.predict(images.tolist()).json()


def test_png_instances_equal_nested_lists(server, fashion_test_set, to_png) -> None:
    images = fashion_test_set[0][100:132]
    as_lists = server.predict(images.tolist()).json()
    as_png = server.predict([_b64(to_png(image)) for image in images]).json()
    assert as_png == as_lists
    # colour and alpha are converted to the model's grey; base64 with line breaks (as `base64` writes it)
    colour = [_b64(to_png(images[0], "RGB")), _b64(to_png(images[1], "RGBA"))]
    wrapped = base64.encodebytes(to_png(images[2])).decode()
    assert "\n" in wrapped
    mixed = server.predict([*colour, {"b64": wrapped}, images[3].tolist()]).json()["predictions"]
    assert [p["class"] for p in mixed] == [p["class"] for p in as_lists["predictions"][:4]]
    # another batch size may round the last bit differently
    np.testing.assert_allclose(
        [p["scores"] for p in mixed], [p["scores"] for p in as_lists["predictions"][:4]], rtol=0, atol=1e-6
    )


def test_jpeg_instances_predict_their_decoded_pixels(server, model_dir: Path, fashion_test_set) -> None:
    from PIL import Image

    images = fashion_test_set[0][200:216]
    jpegs, decoded = [], []
    for image in images:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=95)
        jpegs.append(buffer.getvalue())
        decoded.append(np.asarray(Image.open(io.BytesIO(jpegs[-1])).convert("L")))
    served = _classes(server.predict([_b64(data) for data in jpegs]))
    assert served == predict(model_dir, np.stack(decoded)).tolist()
    # lossy, yet nearly always the class of the original pixels
    assert np.mean(np.array(served) == predict(model_dir, images)) >= 0.8


def test_whole_test_set_over_http_reproduces_test_accuracy(
    server, model_dir: Path, fashion_test_set, http_send
) -> None:
    images, labels = fashion_test_set
    connection = server.connect()  # one keep-alive connection for the 20 requests
    predicted: list[int] = []
    for start in range(0, len(images), 500):
        body = json.dumps({"instances": images[start : start + 500].tolist()}).encode()
        assert len(body) < 1_572_864  # under Vertex AI's 1.5 MB request limit
        predicted += _classes(http_send(connection, "POST", "/predict", body))
    connection.close()
    accuracy = float(np.mean(np.array(predicted) == labels))
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert accuracy == pytest.approx(metrics["test_accuracy"], abs=1e-6)


def test_sixteen_concurrent_clients_get_their_own_answers(server, fashion_test_set, predictor) -> None:
    images = fashion_test_set[0]
    jobs = [images[300 + 40 * i : 300 + 40 * i + 1 + i] for i in range(16)]  # 1 to 16 images each
    expected = [predictor.classify(job).classes.tolist() for job in jobs]
    barrier = threading.Barrier(16)
    answers: list[Any] = [None] * 16

    def client(i: int) -> None:
        barrier.wait()
        answers[i] = [_classes(server.predict(jobs[i].tolist())) for _ in range(3)]

    threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert answers == [[e, e, e] for e in expected]
