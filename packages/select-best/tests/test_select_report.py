"""report.html: self-contained, escaped, one curve per trial, the confusion matrix; rendered by Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest


@pytest.fixture
def report(tmp_path: Path, cli, trial) -> Path:
    trials = [
        trial(tmp_path / "t1", config={"task_name": "<script>alert('x')</script>"}),
        trial(tmp_path / "t2", "lr0.008", config={"task_name": "a & b"}),
        trial(tmp_path / "t3", files=("model.pt",)),
    ]
    out = tmp_path / "out"
    result = cli(f"trials=[{','.join(map(str, trials))}]", f"paths.output_dir={out}")
    assert result.returncode == 0, result.stderr
    return out / "report.html"


def test_report_is_self_contained(report: Path) -> None:
    html = report.read_text()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert "<script" not in html.lower() and "<link" not in html.lower() and "@import" not in html
    assert "url(" not in html


def test_report_has_the_table_a_curve_per_trial_and_the_confusion_matrix(report: Path) -> None:
    html = report.read_text()
    rows = re.findall(r"<tr(?: class=\"(\w+)\")?><td class=\"num\">(\d+)</td>", html)
    assert rows == [("", "1"), ("best", "2"), ("failed", "3")]
    assert re.findall(r'<polyline class="curve" data-trial="(\d+)"', html) == [
        "1",
        "2",
    ]  # the failed one has none
    points = re.search(r'data-trial="2" points="([^"]+)"', html).group(1).split()
    assert len(points) == 3  # one per epoch
    assert "highest validation accuracy" in html
    confusion = html[html.index('<table class="confusion">') :]
    assert "<th>Ankle boot</th>" in confusion and '<th class="true">T-shirt/top</th>' in confusion
    assert len(re.findall(r"<td style=", confusion)) == 100


def test_report_escapes_text(report: Path) -> None:
    html = report.read_text()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "a &amp; b" in html


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-headless-shell")
    if not found:
        pytest.skip("chromium is not installed (Debian package chromium)")
    return found


def test_chromium_renders_the_report(report: Path, tmp_path: Path) -> None:
    chromium = _chromium()
    Image = pytest.importorskip("PIL.Image", reason="Pillow reads the screenshot")
    common = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    shot = tmp_path / "report.png"
    subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=1200,1600", report.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 1600)
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 20  # text, table shading, curves, heat map: far from a blank page
    background = image.getpixel((0, 0))
    drawn = sum(count for count, colour in colours if colour != background)
    assert drawn > 0.05 * 1200 * 1600

    dom = subprocess.run(
        [*common, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert '<table class="trials">' in dom
    assert dom.count('<polyline class="curve"') == 2
    assert "best" in re.search(r'<tr class="best">.*?</tr>', dom).group(0)
