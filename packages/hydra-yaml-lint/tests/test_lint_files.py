"""What the linter reads and writes: regular files only, a byte cap that does not trust ``st_size``, one
message per path that cannot be read (the run goes on and exits 2), KFP specs in JSON recognised by
content, atomic ``--fix`` writes with the mode ``open()`` would give, Ctrl-C as exit 130."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hydra_yaml_lint import LintError, Settings, lint_paths
from hydra_yaml_lint.atomic import write_text
from hydra_yaml_lint.sources import read_bytes

CORPUS = Path(__file__).parent / "corpus"
HYDRA = Settings(discover_configs=False, hydra_programs=["trainer"])
BAD = (
    "name: t\ninputs:\n- {name: lr, type: Float}\nimplementation:\n  container:\n    image: i\n"
    "    command: [trainer]\n    args: [--lr, {inputValue: lr}]\n"
)
BAD_LINE = "bad.yaml:8:12: HY001 argparse-style flag '--lr' is not a Hydra override; use 'lr=...'"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.hydra-yaml-lint]\ndiscover-configs = false\nhydra-programs = ["trainer"]\n'
    )
    (tmp_path / "bad.yaml").write_text(BAD)
    return tmp_path


def _errors(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("hydra-yaml-lint: ")]


def test_devices_fifos_and_sockets_get_one_message_each(cli, project: Path) -> None:
    os.mkfifo(project / "fifo.yaml")
    (project / "zero.yaml").symlink_to("/dev/zero")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(project / "socket.yaml"))
    try:
        result = cli(".", "/dev/null", cwd=project)  # would block on the FIFO or grow without bound
    finally:
        server.close()
    assert result.returncode == 2
    assert result.stdout.splitlines() == [BAD_LINE]
    assert sorted(_errors(result)) == [
        "hydra-yaml-lint: /dev/null: not a regular file (a character device); skipped",
        "hydra-yaml-lint: fifo.yaml: not a regular file (a FIFO); skipped",
        "hydra-yaml-lint: socket.yaml: not a regular file (a socket); skipped",
        "hydra-yaml-lint: zero.yaml: not a regular file (a character device); skipped",
    ]
    assert "Traceback" not in result.stderr


def test_the_byte_cap_does_not_trust_st_size(tmp_path: Path) -> None:
    status = Path("/proc/self/status")
    assert status.stat().st_size == 0 and len(status.read_bytes()) > 100
    assert len(read_bytes(status, limit=100)) == 101  # one byte past the cap, never more
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)  # sparse: reading it all would cost time and memory
    [diagnostic] = lint_paths([huge], config=HYDRA)
    assert (diagnostic.code, diagnostic.message) == ("HY900", "larger than 16777216 bytes; not linted")


def test_missing_paths_symlink_loops_and_read_errors_continue_and_exit_2(cli, project: Path) -> None:
    (project / "loop.yaml").symlink_to("loop.yaml")
    (project / "mem.yaml").symlink_to("/proc/self/mem")  # a regular file whose read fails (EIO)
    result = cli(".", "missing.yaml", "loop.yaml", cwd=project)
    assert result.returncode == 2
    assert result.stdout.splitlines() == [BAD_LINE]
    assert sorted(_errors(result)) == [
        "hydra-yaml-lint: loop.yaml: cannot read: Too many levels of symbolic links",
        "hydra-yaml-lint: mem.yaml: cannot read: Input/output error",
        "hydra-yaml-lint: missing.yaml: no such file or directory",
    ]
    with pytest.raises(LintError, match="no such file or directory"):
        lint_paths([project / "bad.yaml", project / "missing.yaml"], config=HYDRA)


def _without_permission_override(command: list[str]) -> list[str]:
    """Run as root without CAP_DAC_OVERRIDE over files of an unmapped owner (a user namespace)."""
    if os.geteuid() != 0:
        return command
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-r", "true"]).returncode != 0:
        pytest.skip("running as root and cannot create a user namespace")
    return ["unshare", "-r", *command]


def test_an_unreadable_directory_is_reported_not_skipped(project: Path) -> None:
    locked = project / "locked"
    locked.mkdir()
    (locked / "hidden.yaml").write_text(BAD)
    locked.chmod(0)
    if os.geteuid() == 0:
        os.chown(locked, 12345, 12345)  # an owner outside the namespace: root's override does not apply
    try:
        command = _without_permission_override([str(Path(sys.executable).with_name("hydra-yaml-lint")), "."])
        result = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=120)
    finally:
        locked.chmod(0o755)
    assert result.returncode == 2, result.stderr
    assert result.stdout.splitlines() == [BAD_LINE]
    assert _errors(result) == ["hydra-yaml-lint: locked: cannot read directory: Permission denied"]


def _limited_file_size(limit: int):  # type: ignore[no-untyped-def]
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_fix_that_cannot_be_written_is_reported_and_the_rest_is_fixed(project: Path) -> None:
    big = project / "big.yaml"
    big.write_text(BAD.replace("name: t\n", "name: t\n" + "# padding\n" * 200))
    executable = str(Path(sys.executable).with_name("hydra-yaml-lint"))
    result = subprocess.run(
        [executable, "--fix", "big.yaml", "bad.yaml"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limited_file_size(1000),
    )
    assert result.returncode == 2
    assert _errors(result) == ["hydra-yaml-lint: big.yaml: cannot write the fixed file: File too large"]
    assert "lr={{$.inputs.parameters['lr']}}" in (project / "bad.yaml").read_text()
    assert "--lr" in big.read_text()
    assert sorted(path.name for path in project.iterdir()) == ["bad.yaml", "big.yaml", "pyproject.toml"]


def test_atomic_write_creates_files_with_the_mode_open_gives(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        write_text(tmp_path / "new.yaml", "a: 1\n")
        assert (tmp_path / "new.yaml").stat().st_mode & 0o777 == 0o644
        kept = tmp_path / "private.yaml"
        kept.write_text("a: 0\n")
        kept.chmod(0o600)
        write_text(kept, "a: 1\n")
        assert kept.stat().st_mode & 0o777 == 0o600 and kept.read_text() == "a: 1\n"
    finally:
        os.umask(previous)


def test_atomic_write_removes_its_temporary_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / "occupied").write_text("")  # replacing a non-empty directory fails
    with pytest.raises(OSError):
        write_text(target, "a: 1\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["target"]


def test_kfp_json_specs_are_recognised_by_content(cli, tmp_path: Path) -> None:
    spec = CORPUS / "kubeflow/pipelines/sdk/python/kfp/v2/compiler_cli_tests/test_data/two_step_pipeline.json"
    shutil.copy(spec, tmp_path / "pipeline.json")
    (tmp_path / "tsconfig.json").write_text("{\n  // comments: not JSON, and not a KFP spec\n}\n")
    (tmp_path / "package.json").write_text('{"name": "x", "version": "1.0.0"}\n')
    broken = json.loads(spec.read_text())
    command = broken["deploymentSpec"]["executors"]["exec-write-to-gcs"]["container"]["command"]
    command.append('{{$.inputs.parameters["text"]}}')  # the double quotes KFP's backend does not resolve
    command.append("{{$.inputs.parameters['nope']}}")
    (tmp_path / "broken.json").write_text(json.dumps(broken, indent=2))
    found = lint_paths([tmp_path], config=Settings(discover_configs=False))
    assert {Path(d.path).name for d in found} == {"broken.json"}
    assert {d.code for d in found} >= {"HY101", "HY103"}
    fixed = cli("--fix", "broken.json", cwd=tmp_path)
    assert fixed.returncode == 1  # the undeclared name has no safe fix
    fixed_text = (tmp_path / "broken.json").read_text()
    json.loads(fixed_text)  # the fixed file is still JSON
    assert '[\\"text\\"]' not in fixed_text and fixed_text.count("parameters['text']") == 2


def test_ctrl_c_exits_130_without_a_traceback(many_args, tmp_path: Path) -> None:
    for index in range(400):
        (tmp_path / f"c{index}.yaml").write_text(many_args(2000))
    (tmp_path / "pyproject.toml").write_text('[tool.hydra-yaml-lint]\nhydra-programs = ["trainer"]\n')
    executable = str(Path(sys.executable).with_name("hydra-yaml-lint"))
    for jobs in ("1", "2"):
        child = subprocess.Popen(
            [executable, ".", "--jobs", jobs],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group, as a terminal's foreground job
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        time.sleep(2.0)
        os.killpg(child.pid, signal.SIGINT)  # Ctrl-C reaches the whole group, workers included
        _, stderr = child.communicate(timeout=120)
        assert (child.returncode, stderr) == (130, "hydra-yaml-lint: interrupted\n"), jobs
