"""Fixtures shared by the cross-package tests.

``docs_kit``: what the tests that run the documentation's commands share (``test_vertex_guide.py`` for
docs/vertex.md, ``test_docs_commands.py`` for the READMEs): the fenced blocks of a Markdown file with their
``<!-- docs-test: skip, REASON -->`` markers, each bash block's commands, ``hatch run NAME`` read from
hatch.toml, and a sandbox to run them in — a repository stand-in (a copy of ``configs/``, ``packages/``
linked) with Application Default Credentials made of a freshly generated service-account key whose token
endpoint is a loopback fake server, which also serves Cloud Storage: a command that needs credentials gets
them from the fake, and one that tried to reach a service would be seen there. Test files do not import each
other (``--import-mode=importlib``), so the helpers travel through this fixture.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
#: the line right before a fence that keeps the docs tests from running the block, and says why
SKIP_MARKER = re.compile(r"^<!-- docs-test: skip, (?P<reason>.*?) -->$")
_ANY_MARKER = re.compile(r"<!--\s*docs-test\b")
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


@dataclass(frozen=True)
class Command:
    source: str  # the Markdown file, relative to the repository root
    kind: str  # the block's info string: "bash", "bash slow", "bash cloud", "python"
    line: int  # line of the file where the command starts
    text: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.text}"

    @property
    def slug(self) -> str:
        """A directory name for this command's working directory."""
        return re.sub(r"[^\w.-]", "_", f"{self.source}-{self.line}")


@dataclass(frozen=True)
class Block:
    source: str
    kind: str  # the info string, blanks collapsed
    line: int  # the fence's line
    body: str
    skip: str | None  # the reason of a skip marker on the line before the fence

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: ```{self.kind}"

    def commands(self) -> list[Command]:
        """The block's shell commands: continuation lines joined, comments and blank lines dropped."""
        found, pending, start = [], "", 0
        for offset, raw in enumerate(self.body.splitlines()):
            line = raw.strip()
            if not pending and (not line or line.startswith("#")):
                continue
            start = start if pending else self.line + 1 + offset
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            found.append(Command(self.source, self.kind, start, pending + line))
            pending = ""
        return found


def fenced_blocks(path: Path) -> list[Block]:
    """Every fenced block of the Markdown file ``path``, with the skip marker right before it."""
    text = path.read_text()
    lines = text.splitlines()
    source = str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)
    blocks = []
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = lines[line - 2].strip() if line >= 2 else ""
        marker = SKIP_MARKER.match(before)
        blocks.append(
            Block(source, " ".join(match["info"].split()), line, match["body"], marker and marker["reason"])
        )
    return blocks


def stray_markers(path: Path) -> list[str]:
    """``docs-test`` comments that are not a well-formed skip marker right before a fence."""
    lines = path.read_text().splitlines()
    problems = []
    for number, line in enumerate(lines, 1):
        if not _ANY_MARKER.search(line):
            continue
        marker = SKIP_MARKER.match(line.strip())
        following = lines[number] if number < len(lines) else ""
        if not marker or not marker["reason"].strip() or not following.startswith("```"):
            problems.append(f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}")
    return problems


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

    def __enter__(self) -> FakeGoogle:
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


def _value_options(help_text: str) -> set[str]:
    """Options that take a value, read from the usage lines (``[--registry R]``, ``--host HOST``)."""
    usage = help_text.split("\n\n", 1)[0]
    value = r"(?:[A-Z][A-Z_=]*|\{[^}]*\})"
    return {m[1] for m in re.finditer(rf"(?<![\w-])(-{{1,2}}[\w-]+) {value}(?=[\]\s]|$)", usage)}


@dataclass
class Sandbox:
    root: Path
    env: dict[str, str]
    prelude: str

    def workdir(self, command: Command) -> Path:
        """The command's own working directory inside the sandbox."""
        cwd = self.root / command.slug
        cwd.mkdir(exist_ok=True)
        return cwd

    def run(
        self, command: Command, timeout: float = 300, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        script = f"set -eu\n{self.prelude}\n{without_hatch(command.text)}"
        return subprocess.run(
            ["bash", "-c", script],
            cwd=cwd or self.workdir(command),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def variables(self) -> dict[str, str]:
        """The values the prelude's exports give its variables."""
        out = subprocess.run(
            ["bash", "-c", f"set -eu\n{self.prelude}\nenv -0"], env=self.env, capture_output=True, check=True
        ).stdout.decode()
        return dict(item.split("=", 1) for item in out.split("\0") if "=" in item)

    def option_problems(self, variables: dict[str, str], command: Command, line: str) -> list[str]:
        """What is wrong with one ``pipeline-sdk`` line that is not run: unknown options, overrides that do
        not compile."""
        tokens = [
            _VARIABLE.sub(lambda m: variables.get(m[1] or m[2], m[0]), token)
            for token in shlex.split(line, comments=True)
        ]
        subcommand, args = tokens[1], tokens[2:]
        help_text = subprocess.run(
            ["pipeline-sdk", subcommand, "--help"], env=self.env, capture_output=True, text=True
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
        if overrides and subcommand == "serve":  # overrides of the serving program's own config
            result = subprocess.run(
                ["serve", "--cfg", "job", *overrides], env=self.env, capture_output=True, text=True
            )
            if result.returncode != 0:
                problems.append(f"{command}\n  `serve` refuses its overrides: {result.stderr.strip()[-800:]}")
        elif overrides:
            out = self.root / f"cloud-{command.slug}.yaml"
            sweep = ["-m"] if {"-m", "--multirun"} & set(args) else []  # a sweep compiles as a sweep
            result = subprocess.run(
                ["pipeline-sdk", "compile", "-o", str(out), *sweep, *overrides],
                env=self.env,
                capture_output=True,
                text=True,
                cwd=self.root,
            )
            if result.returncode != 0:
                problems.append(f"{command}\n  its overrides do not compile: {result.stderr.strip()[-800:]}")
        return problems


def command_problem(command: Command, result: subprocess.CompletedProcess[str]) -> str | None:
    """What is wrong with a documented command's run (non-zero exit, a traceback, a ``submit --dry-run``
    that printed no JSON request), as the failure line that quotes it; ``None`` when it ran as documented."""
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
    return None if problem is None else f"{command}\n  {problem}\n  stderr: {result.stderr.strip()[-1500:]}"


class DocsKit:
    """The helpers above, handed to test files as one fixture."""

    REPO_ROOT = REPO_ROOT
    Command = Command
    fenced_blocks = staticmethod(fenced_blocks)
    stray_markers = staticmethod(stray_markers)
    command_problem = staticmethod(command_problem)
    without_hatch = staticmethod(without_hatch)

    def __init__(self, tmp_path_factory: pytest.TempPathFactory, fake_google: FakeGoogle) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.fake_google = fake_google

    def sandbox(self, name: str, prelude: str = "") -> Sandbox:
        """A repository stand-in (copied configs/, linked packages/) and a hermetic environment."""
        root = self.tmp_path_factory.mktemp(name)
        repo = root / "repo"
        shutil.copytree(REPO_ROOT / "configs", repo / "configs")
        (repo / "packages").symlink_to(REPO_ROOT / "packages", target_is_directory=True)
        for file in ("pyproject.toml", "images.lock.json"):
            if (REPO_ROOT / file).is_file():
                shutil.copy(REPO_ROOT / file, repo / file)
        key = service_account_key(root / "sa-key.json", f"{self.fake_google.url}/token")
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(
                ("GOOGLE_", "CLOUDSDK_", "STORAGE_EMULATOR", "HYDRA_", "PIPELINE_SDK_", "KF_")
            )
        }
        env.update(
            PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            HOME=str(root / "home"),
            CLOUDSDK_CONFIG=str(root / "gcloud"),
            NO_GCE_CHECK="True",
            GOOGLE_APPLICATION_CREDENTIALS=str(key),
            STORAGE_EMULATOR_HOST=self.fake_google.url,
            PIPELINE_SDK_CONFIG_DIR=str(repo / "configs"),
        )
        # The harness itself: Application Default Credentials in this environment come from the fake.
        probe = (
            "import google.auth, google.auth.transport.requests as transport\n"
            "credentials, _ = google.auth.default()\n"
            "credentials.refresh(transport.Request())"
        )
        subprocess.run([sys.executable, "-c", probe], env=env, check=True, timeout=60)
        assert ("POST", "/token") in self.fake_google.requests
        return Sandbox(root, env, prelude)


@pytest.fixture(scope="module")
def docs_kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocsKit]:
    """Markdown blocks, ``hatch run`` expansion and sandboxes for the tests that run the docs' commands;
    one loopback fake Google per test module (``docs_kit.fake_google``)."""
    with FakeGoogle() as fake:
        yield DocsKit(tmp_path_factory, fake)
