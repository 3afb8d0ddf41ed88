"""What the console script prints: a log that captures stdout and stderr together (``pipeline-sdk run``'s
``log.txt``, Vertex AI's job log) holds each line once."""

from __future__ import annotations

import re
from collections import Counter


def test_every_line_is_printed_once(run_cli, fast_overrides: list[str]) -> None:
    result = run_cli(*fast_overrides, "trainer.max_epochs=2", "progress=plain")
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    # the same record printed by two handlers may differ only by a level prefix; lines without a letter are
    # the model summary's rules
    lines = [re.sub(r"^(DEBUG|INFO|WARNING|ERROR): ", "", line).strip() for line in output.splitlines()]
    counts = Counter(line for line in lines if re.search("[A-Za-z]", line))
    assert [line for line, n in counts.items() if n > 1] == [], output
    # Lightning's own lines, the trainer's and the progress lines are all there
    for line in ("GPU available: False, used: False", "`Trainer.fit` stopped: `max_epochs=2` reached."):
        assert counts[line] == 1, output
    assert any(line.startswith("epoch 2/2 done in") for line in counts), output
    assert any(line.startswith("test accuracy ") for line in counts), output
