"""`python -m sandbox up|status|mutate|down` on a fresh folder, as a newcomer runs it."""

import os
import socket
import subprocess
import sys
import time

import requests


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
