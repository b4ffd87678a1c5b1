"""What the Docker image relies on, checked without Docker (CI also builds and smoke-tests the image itself,
.ci/run): a clean stop on SIGTERM, a HEALTHCHECK that follows the configured port, a uid-1000 step that
works on bases that already have that user, and exact versions from constraints.txt."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
STOP_LIMIT_S = 10  # docker stop's grace period; the app must be gone well before it


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _instruction(keyword: str, containing: str) -> str:
    """The Dockerfile instruction (continuation lines joined) that starts with ``keyword`` and mentions ``containing``."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    lines = [line for line in joined.splitlines() if line.startswith(keyword + " ") and containing in line]
    assert len(lines) == 1, f"expected one {keyword} with {containing!r} in the Dockerfile"
    return lines[0]


def _with_stubs(tmp_path: Path, scripts: dict[str, str]) -> dict[str, str]:
    """An environment whose PATH finds the given shell scripts first."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in scripts.items():
        (bin_dir / name).write_text("#!/bin/sh\n" + body)
        (bin_dir / name).chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def _start_app(port: int) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "INSTRUCTOR_EXPLORER_PORT": str(port)}
    return subprocess.Popen([sys.executable, "app.py", "--hosted", "--model", "bundled", "--device", "cpu",
                             "--host", "127.0.0.1"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(app: subprocess.Popen) -> tuple[int, float]:
    """Send SIGTERM; the exit code and the seconds it took (the process is killed after STOP_LIMIT_S)."""
    start = time.monotonic()
    app.send_signal(signal.SIGTERM)
    try:
        code = app.wait(timeout=STOP_LIMIT_S)
    except subprocess.TimeoutExpired:
        app.kill()
        code = app.wait()
    return code, time.monotonic() - start


def test_app_stops_cleanly_on_sigterm_and_the_healthcheck_follows_its_port(tmp_path):
    port = _free_port()
    app = _start_app(port)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                assert app.poll() is None and time.monotonic() < deadline, "the app did not come up"
                time.sleep(0.5)
        probe = _instruction("HEALTHCHECK", "CMD").split(" CMD ", 1)[1]
        env = _with_stubs(tmp_path, {"python": f'exec "{sys.executable}" "$@"\n'})
        healthy, closed = (subprocess.run(["sh", "-c", probe], env={**env, "INSTRUCTOR_EXPLORER_PORT": str(p)},
                                          capture_output=True, timeout=30) for p in (port, _free_port()))
        assert healthy.returncode == 0, healthy.stderr.decode()
        assert closed.returncode != 0  # it probes the configured port, not a fixed one
    finally:
        code, seconds = _stop(app)
    assert code == 0 and seconds < STOP_LIMIT_S, f"exit {code} after {seconds:.1f} s"


def test_sigterm_while_starting_exits_cleanly():
    app = _start_app(_free_port())
    time.sleep(2)  # importing torch and gradio, long before the server is up
    code, seconds = _stop(app)
    assert code == 0 and seconds < STOP_LIMIT_S, f"exit {code} after {seconds:.1f} s"


@pytest.mark.parametrize("uid_1000_exists", [False, True])
def test_user_step_works_whether_or_not_the_base_has_uid_1000(tmp_path, uid_1000_exists):
    """CUDA's Ubuntu 24.04 base already has uid 1000 ('ubuntu'); useradd --uid 1000 fails there (exit 4)."""
    step = _instruction("RUN", "useradd").removeprefix("RUN ")
    calls = tmp_path / "calls"
    env = _with_stubs(tmp_path, {
        "getent": ('[ "$1 $2" = "passwd 1000" ] && echo "ubuntu:x:1000:1000::/home/ubuntu:/bin/bash" && exit 0\n'
                   if uid_1000_exists else "") + "exit 2\n",
        "useradd": f'echo "useradd $*" >> "{calls}"\n'
                   + ('echo "useradd: UID 1000 is not unique" >&2; exit 4\n' if uid_1000_exists else ""),
        "mkdir": f'echo "mkdir $*" >> "{calls}"\n',
        "chown": f'echo "chown $*" >> "{calls}"\n',
    })
    result = subprocess.run(["sh", "-c", step], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    log = calls.read_text()
    assert ("useradd" in log) is not uid_1000_exists
    assert "chown -R 1000:1000 /home/user" in log
    assert "USER 1000" in DOCKERFILE and "COPY --chown=1000:1000 . ." in DOCKERFILE  # no name that may not exist


def _requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def test_constraints_pin_every_requirement_and_match_the_tested_venv():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, pinned = line.partition("==")
            pins[name.lower().replace("_", "-")] = pinned
    required = set().union(*(_requirement_names(ROOT / f"requirements{part}.txt") for part in ("", "-dev", "-train", "-fast")))
    # training's libraries are the `train` extra, not the app's: CI gets them through requirements-dev.txt
    assert {"datasets", "accelerate"} <= _requirement_names(ROOT / "requirements-train.txt")
    assert not {"datasets", "accelerate"} & _requirement_names(ROOT / "requirements.txt")
    assert "-r requirements-train.txt" in (ROOT / "requirements-dev.txt").read_text()
    assert required - {"torch"} <= pins.keys(), f"not pinned: {sorted(required - {'torch'} - pins.keys())}"
    assert "torch" not in pins  # pinned in requirements.txt; its build (+cpu, +cu126) comes from the index
    assert {name: version(name) for name in pins} == pins  # the versions these tests run on
    assert "-r /tmp/requirements.txt -c /tmp/constraints.txt" in DOCKERFILE
    assert "-r requirements-dev.txt -c constraints.txt" in (ROOT / "tests" / "run.sh").read_text()
