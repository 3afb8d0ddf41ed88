"""docs/vertex.md stays true: its commands are read from the page and run through the real CLIs.

The rule is the one the guide states at its top:
- ```bash blocks: offline commands (``pipeline-sdk …`` / ``hatch run …``), each run as written;
- ```bash slow blocks: offline but training, run by the slow test;
- ```bash cloud blocks: not run, but every ``pipeline-sdk`` option in them must exist in that command's
  ``--help`` and their config overrides must compile.
``export NAME=value`` lines of the guide (without command substitution) define the variables the commands
use. Commands run against a sandbox copy of ``configs/`` (so nothing is written into the repository) and
with Application Default Credentials made of a freshly generated service-account key whose token endpoint
is a loopback fake server, which also serves Cloud Storage: a command that needs credentials gets them
from the fake, and one that tried to submit would be seen there.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

REPO_ROOT = Path(__file__).resolve().parents[1]
GUIDE = REPO_ROOT / "docs" / "vertex.md"
BIN = Path(sys.executable).parent
#: the guide must keep at least this many commands the test runs, so it cannot pass on nothing
MIN_OFFLINE_COMMANDS = 6
_FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_EXPORT = re.compile(r"^export [A-Za-z_]\w*=\S")
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


@dataclass(frozen=True)
class Command:
    kind: str  # "bash", "bash slow" or "bash cloud"
    line: int  # line of the guide where the command starts
    text: str

    def __str__(self) -> str:
        return f"docs/vertex.md:{self.line}: {self.text}"


def guide_commands() -> list[Command]:
    """Every command of the guide's bash blocks: continuation lines joined, comments and blanks dropped."""
    text = GUIDE.read_text()
    found = []
    for block in _FENCE.finditer(text):
        kind = " ".join(block["info"].split())
        if not kind.startswith("bash"):
            continue
        first_line = text.count("\n", 0, block.start("body")) + 1
        pending, start = "", 0
        for offset, raw in enumerate(block["body"].splitlines()):
            line = raw.strip()
            if not pending and (not line or line.startswith("#")):
                continue
            start = start if pending else first_line + offset
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            found.append(Command(kind, start, pending + line))
            pending = ""
    return found


def exports(commands: list[Command]) -> str:
    """The guide's plain ``export NAME=value`` lines, as a shell prelude."""
    return "\n".join(c.text for c in commands if _EXPORT.match(c.text) and "$(" not in c.text)


def hatch_scripts() -> dict[str, list[str]]:
    """The default environment's scripts in hatch.toml, each as its list of commands."""
    with (REPO_ROOT / "hatch.toml").open("rb") as handle:
        scripts = tomllib.load(handle)["envs"]["default"].get("scripts", {})
    return {name: [body] if isinstance(body, str) else list(body) for name, body in scripts.items()}


def without_hatch(command: str) -> str:
    """``hatch run NAME ARGS`` as the shell lines hatch would run in the workspace environment."""
    if not command.startswith("hatch run "):
        return command
    name, _, rest = command.removeprefix("hatch run ").partition(" ")
    script = hatch_scripts().get(name)
    if script is None:
        assert shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"), (
            f"`hatch run {name}`: {name} is neither a script in hatch.toml nor a command of the environment"
        )
        return command.removeprefix("hatch run ")
    return "\n".join(
        line.replace("{args}", rest).strip() if "{args}" in line else f"{line} {rest}".strip()
        for line in script
    )


# --- loopback fakes -------------------------------------------------------------------------------------


class FakeGoogle:
    """OAuth2 token endpoint and Cloud Storage bucket metadata on 127.0.0.1; records every request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                fake.requests.append((self.command, self.path))
                status, body = fake.reply(self.command, self.path)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_HEAD = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    @staticmethod
    def reply(method: str, path: str) -> tuple[int, dict[str, object]]:
        if method == "POST" and path == "/token":
            return 200, {"access_token": "ya29.fake", "expires_in": 3600, "token_type": "Bearer"}
        if method == "GET" and path.startswith("/storage/v1/b/"):
            return 200, {"name": path.split("/")[4].split("?")[0], "kind": "storage#bucket"}
        return 404, {"error": {"code": 404, "message": f"not faked: {method} {path}", "status": "NOT_FOUND"}}

    def __enter__(self) -> "FakeGoogle":
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def beyond_token(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r != ("POST", "/token")]


def service_account_key(path: Path, token_uri: str) -> Path:
    """A service-account JSON key as the IAM console issues it, with a fresh RSA key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "my-vertex-project",
                "private_key_id": "guide-test",
                "private_key": pem.decode(),
                "client_email": "submitter@my-vertex-project.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": token_uri,
            }
        )
    )
    return path


@dataclass
class Sandbox:
    root: Path
    env: dict[str, str]
    prelude: str

    def run(self, command: Command, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        cwd = self.root / f"line-{command.line}"
        cwd.mkdir(exist_ok=True)
        script = f"set -eu\n{self.prelude}\n{without_hatch(command.text)}"
        return subprocess.run(
            ["bash", "-c", script], cwd=cwd, env=self.env, capture_output=True, text=True, timeout=timeout
        )

    def variables(self) -> dict[str, str]:
        """The values the guide's exports give its variables."""
        out = subprocess.run(
            ["bash", "-c", f"set -eu\n{self.prelude}\nenv -0"], env=self.env, capture_output=True, check=True
        ).stdout.decode()
        return dict(item.split("=", 1) for item in out.split("\0") if "=" in item)


@pytest.fixture(scope="module")
def commands() -> list[Command]:
    return guide_commands()


@pytest.fixture(scope="module")
def fake_google() -> Iterator[FakeGoogle]:
    with FakeGoogle() as fake:
        yield fake


@pytest.fixture(scope="module")
def sandbox(
    tmp_path_factory: pytest.TempPathFactory, fake_google: FakeGoogle, commands: list[Command]
) -> Sandbox:
    """A repository stand-in (copied configs/, linked packages/) and a hermetic environment."""
    root = tmp_path_factory.mktemp("guide")
    repo = root / "repo"
    shutil.copytree(REPO_ROOT / "configs", repo / "configs")
    (repo / "packages").symlink_to(REPO_ROOT / "packages", target_is_directory=True)
    for name in ("pyproject.toml", "images.lock.json"):
        if (REPO_ROOT / name).is_file():
            shutil.copy(REPO_ROOT / name, repo / name)
    key = service_account_key(root / "sa-key.json", f"{fake_google.url}/token")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GOOGLE_", "CLOUDSDK_", "STORAGE_EMULATOR", "HYDRA_", "PIPELINE_SDK_", "KF_"))
    }
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        HOME=str(root / "home"),
        CLOUDSDK_CONFIG=str(root / "gcloud"),
        NO_GCE_CHECK="True",
        GOOGLE_APPLICATION_CREDENTIALS=str(key),
        STORAGE_EMULATOR_HOST=fake_google.url,
        PIPELINE_SDK_CONFIG_DIR=str(repo / "configs"),
    )
    # The harness itself: Application Default Credentials in this environment come from the fake.
    probe = (
        "import google.auth, google.auth.transport.requests as transport\n"
        "credentials, _ = google.auth.default()\n"
        "credentials.refresh(transport.Request())"
    )
    subprocess.run([sys.executable, "-c", probe], env=env, check=True, timeout=60)
    assert ("POST", "/token") in fake_google.requests
    return Sandbox(root, env, exports(commands))


def _by_kind(commands: list[Command], kind: str) -> list[Command]:
    return [c for c in commands if c.kind == kind]


def _run_all(
    sandbox: Sandbox, commands: list[Command]
) -> list[tuple[Command, subprocess.CompletedProcess[str]]]:
    with ThreadPoolExecutor(max_workers=3) as pool:  # each CLI start imports kfp/aiplatform: overlap them
        return list(zip(commands, pool.map(sandbox.run, commands), strict=True))


# --- tests ----------------------------------------------------------------------------------------------


def test_guide_blocks_follow_the_stated_rule(commands: list[Command]) -> None:
    kinds = {c.kind for c in commands}
    assert kinds <= {"bash", "bash slow", "bash cloud"}, f"unknown block kinds in docs/vertex.md: {kinds}"
    offline = _by_kind(commands, "bash") + _by_kind(commands, "bash slow")
    wrong = [str(c) for c in offline if not c.text.startswith(("pipeline-sdk ", "hatch run "))]
    assert not wrong, "offline blocks may only hold pipeline-sdk / hatch run commands:\n" + "\n".join(wrong)
    assert len(_by_kind(commands, "bash")) >= MIN_OFFLINE_COMMANDS
    assert exports(commands), "the guide defines its variables with export lines"


def test_offline_commands_run_as_written(
    sandbox: Sandbox, fake_google: FakeGoogle, commands: list[Command]
) -> None:
    offline = _by_kind(commands, "bash")
    failures = []
    for command, result in _run_all(sandbox, offline):
        problem = None
        if result.returncode != 0:
            problem = f"exit {result.returncode}"
        elif "Traceback" in result.stderr:
            problem = "traceback"
        elif " submit " in f" {command.text} " and "--dry-run" in command.text:
            try:
                json.loads(result.stdout)
            except ValueError:
                problem = "--dry-run printed no JSON request"
        if problem:
            failures.append(f"{command}\n  {problem}\n  stderr: {result.stderr.strip()[-1500:]}")
    assert not failures, "\n\n".join(failures)
    assert not fake_google.beyond_token(), f"an offline command reached a service: {fake_google.requests}"


def _value_options(help_text: str) -> set[str]:
    """Options that take a value, read from the usage lines (``[--registry R]``, ``--host HOST``)."""
    usage = help_text.split("\n\n", 1)[0]
    value = r"(?:[A-Z][A-Z_=]*|\{[^}]*\})"
    return {m[1] for m in re.finditer(rf"(?<![\w-])(-{{1,2}}[\w-]+) {value}(?=[\]\s]|$)", usage)}


def _problems(sandbox: Sandbox, variables: dict[str, str], command: Command, line: str) -> list[str]:
    """What is wrong with one ``pipeline-sdk`` line that is not run: unknown options, overrides that do
    not compile."""
    tokens = [
        _VARIABLE.sub(lambda m: variables.get(m[1] or m[2], m[0]), token)
        for token in shlex.split(line, comments=True)
    ]
    subcommand, args = tokens[1], tokens[2:]
    help_text = subprocess.run(
        ["pipeline-sdk", subcommand, "--help"], env=sandbox.env, capture_output=True, text=True
    ).stdout
    takes_value, overrides, problems, skip = _value_options(help_text), [], [], False
    for token in args:
        if skip:
            skip = False
        elif token.startswith("-"):
            name = token.split("=", 1)[0]
            if not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", help_text):
                problems.append(f"{command}\n  `pipeline-sdk {subcommand}` has no option {name}")
            skip = name in takes_value and "=" not in token
        elif "=" in token:
            overrides.append(token)
    if overrides:
        out = sandbox.root / f"cloud-{command.line}.yaml"
        sweep = ["-m"] if {"-m", "--multirun"} & set(args) else []  # a sweep compiles as a sweep
        result = subprocess.run(
            ["pipeline-sdk", "compile", "-o", str(out), *sweep, *overrides],
            env=sandbox.env,
            capture_output=True,
            text=True,
            cwd=sandbox.root,
        )
        if result.returncode != 0:
            problems.append(f"{command}\n  its overrides do not compile: {result.stderr.strip()[-800:]}")
    return problems


def test_cloud_commands_use_real_options_and_keys(sandbox: Sandbox, commands: list[Command]) -> None:
    """Commands that need the cloud are not run, but their pipeline-sdk options and overrides are checked."""
    variables = sandbox.variables()
    lines = [
        (command, line)
        for command in _by_kind(commands, "bash cloud")
        for line in without_hatch(command.text).splitlines()
        if line.startswith("pipeline-sdk ")
    ]
    with ThreadPoolExecutor(max_workers=3) as pool:  # each check starts pipeline-sdk twice
        found = list(pool.map(lambda pair: _problems(sandbox, variables, *pair), lines))
    failures = [problem for problems in found for problem in problems]
    assert not failures, "\n\n".join(failures)
    assert len(lines) >= 4, "the guide's cloud blocks should hold its submit / build-images commands"


def _anchors(markdown: str) -> set[str]:
    """GitHub's anchors for the headings of ``markdown``."""
    headings = re.findall(r"^#{1,6} (.+)$", _FENCE.sub("", markdown), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_permission_hints_match_the_iam_section() -> None:
    """Every role pipeline-sdk's error messages tell a user to grant is explained in the guide's IAM
    section, and every link from the code into the guide lands on a heading."""
    guide = GUIDE.read_text()
    iam = guide.split("\n## 2. IAM\n", 1)[1].split("\n## ", 1)[0]
    sources = "\n".join(
        p.read_text() for p in (REPO_ROOT / "packages" / "pipeline-sdk" / "src").rglob("*.py")
    )
    roles = set(re.findall(r"roles/[A-Za-z.]+[A-Za-z]", sources))
    assert roles, "pipeline-sdk's messages name the roles to grant"
    missing = sorted(r for r in roles if r not in iam)
    assert not missing, f"roles pipeline-sdk's messages name but the guide's IAM section does not: {missing}"
    links = set(re.findall(r"docs/vertex\.md#([\w-]+)", sources))
    assert links <= _anchors(guide), f"links into docs/vertex.md without a heading: {links - _anchors(guide)}"


def _has_key(node: object, path: list[str]) -> bool:
    """Whether ``path`` names a key of the config tree ``node``; ``STEP`` and ``*`` match any key."""
    if not path:
        return True
    if not isinstance(node, dict):
        return False
    if path[0] in ("STEP", "*"):
        return any(_has_key(child, path[1:]) for child in node.values())
    return path[0] in node and _has_key(node[path[0]], path[1:])


def test_config_keys_in_the_prose_exist() -> None:
    """Dotted config keys quoted in the guide's text (`steps.train.retries`, `gcp.*`) are keys of
    pipeline-sdk's configuration (configs/pipeline.yaml with the schema's optional step settings), so the
    prose cannot drift from the config the commands are checked against."""
    from omegaconf import OmegaConf

    from pipeline_sdk.config import load_config

    config = OmegaConf.to_container(load_config([], str(REPO_ROOT / "configs")), resolve=False)
    prose = _FENCE.sub("", GUIDE.read_text())
    quoted = [
        key
        for span in re.findall(r"`([^`\n]+)`", prose)
        for key, assigned in re.findall(r"(?<![\w./@-])([a-z_]+(?:\.(?:[\w-]+|\*))+)(\s*[=:])?", span)
        # a bare dotted name is a key if it starts with a top-level key; `a.b=...` / `a.b: ...` always is
        if (assigned or key.split(".", 1)[0] in config) and not key.endswith((".json", ".yaml", ".py"))
    ]
    assert len(quoted) >= 10, "the guide names the config keys it relies on"
    unknown = sorted({key for key in quoted if not _has_key(config, key.split("."))})
    assert not unknown, (
        f"config keys named in docs/vertex.md that pipeline-sdk's configuration lacks: {unknown}"
    )


def test_guide_links_land_on_headings() -> None:
    guide = GUIDE.read_text()
    broken = set(re.findall(r"\]\(#([\w-]+)\)", guide)) - _anchors(guide)
    assert not broken, f"links to missing headings in docs/vertex.md: {sorted(broken)}"


@pytest.mark.slow
def test_slow_commands_run_as_written(sandbox: Sandbox, commands: list[Command]) -> None:
    slow = _by_kind(commands, "bash slow")
    assert slow
    for command in slow:
        result = sandbox.run(command, timeout=900)
        assert result.returncode == 0, f"{command}\n{result.stderr[-3000:]}"
        assert "Traceback" not in result.stderr
