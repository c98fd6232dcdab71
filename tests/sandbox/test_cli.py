"""`python -m sandbox up|status|mutate|down` on a fresh folder, as a newcomer runs it."""

import os
import socket
import subprocess
import sys
import time

import pytest
import requests

pytestmark = pytest.mark.stand_in


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sandbox(command, env, *extra):
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", command, *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return done.returncode, done.stdout + done.stderr


def test_up_status_mutate_down(tmp_path):
    env = {
        **os.environ,
        "SANDBOX_HOME": str(tmp_path / "home"),
        "SANDBOX_ENV_FILE": str(tmp_path / ".env"),
    }
    (tmp_path / ".env").write_text("MY_OWN_SETTING=kept\n")
    ports = {name: free_port() for name in ("callrail", "arrivy", "legacy-erp")}
    flags = [f"--{name}-port={port}" for name, port in ports.items()] + ["--calls", "50"]
    code, output = sandbox("up", env, *flags)
    try:
        assert code == 0, output
        written = dict(
            line.split("=", 1)
            for line in (tmp_path / ".env").read_text().splitlines()
            if "=" in line and not line.startswith("#")
        )
        assert written["MY_OWN_SETTING"] == "kept"
        assert written["SANDBOX_CALLRAIL_URL"] == f"http://127.0.0.1:{ports['callrail']}"
        assert written["SANDBOX_GENIUS_URL"].startswith(("mysql+pymysql://", "sqlite:///"))
        assert written["SANDBOX_WAREHOUSE_HOST"]
        key = {"Authorization": f"Token token={written['SANDBOX_CALLRAIL_API_KEY']}"}
        assert requests.get(f"{written['SANDBOX_CALLRAIL_URL']}/v3/a.json", headers=key).ok
        code, output = sandbox("status", env)
        assert code == 0 and output.count(" up") == 3, output
        code, output = sandbox("mutate", env)
        assert code == 0 and "genius      mutated" in output, output
    finally:
        code, output = sandbox("down", env)
    assert code == 0, output
    code, output = sandbox("status", env)
    assert code == 1 and "not up" in output
    deadline = time.monotonic() + 10
    while _listening(ports["callrail"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _listening(ports["callrail"]), "down stops the stand-ins"


def _listening(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_taken_port_is_replaced_and_a_second_up_reuses_its_own(tmp_path):
    """Another checkout's sandbox holds the CallRail port: this one takes a free port and
    says so, instead of attaching to the other's stand-ins without a word."""
    env = {
        **os.environ,
        "SANDBOX_HOME": str(tmp_path / "home"),
        "SANDBOX_ENV_FILE": str(tmp_path / ".env"),
    }
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        taken = other.getsockname()[1]
        flags = [f"--callrail-port={taken}", f"--arrivy-port={free_port()}"]
        flags += [f"--legacy-erp-port={free_port()}", "--calls", "20"]
        code, output = sandbox("up", env, *flags)
        try:
            assert code == 0, output
            assert f"port {taken} is taken" in output
            written = (tmp_path / ".env").read_text()
            url = next(
                line.split("=", 1)[1]
                for line in written.splitlines()
                if line.startswith("SANDBOX_CALLRAIL_URL=")
            )
            assert not url.endswith(f":{taken}")
            assert requests.get(f"{url}/_sandbox/health", timeout=5).ok
            code, again = sandbox("up", env, *flags)
            assert code == 0 and f"callrail    {url}" in again and "is taken" not in again
        finally:
            sandbox("down", env)
