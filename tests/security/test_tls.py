"""TLS: every REST tap verifies certificates by default and trusts a private CA only through
`ca_bundle`; the target honours Postgres `sslmode`."""

from __future__ import annotations

import socket
import ssl
import struct
import subprocess
import threading
from pathlib import Path

import pytest

from sandbox.arrivy import ArrivyStandIn
from sandbox.callrail import CallRailStandIn
from sandbox.legacy_erp import LegacyErpStandIn
from tests.support.singer_run import run_tap
from tests.target_warehouse.singer import record, run_target, schema

pytestmark = pytest.mark.stand_in


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (it is its own CA), and its key."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def over_tls(server, certificate: tuple[Path, Path]) -> str:
    """Serve `server` over HTTPS; its https:// URL."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, certificate))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.start()
    return server.url.replace("http://", "https://")


TAPS = {
    "tap-legacy-erp": (
        lambda: LegacyErpStandIn(documents=5),
        lambda url: {"base_url": url, "session_file": ""},
        "belege",
    ),
    "tap-callrail": (
        lambda: CallRailStandIn(calls_per_account=5),
        lambda url: {"api_key": "sandbox-callrail-key", "api_url": f"{url}/v3"},
        "accounts",
    ),
    "tap-arrivy": (
        lambda: ArrivyStandIn(tasks=5),
        lambda url: {
            "auth_key": "sandbox-arrivy-key",
            "auth_token": "sandbox-arrivy-token",
            "api_url": f"{url}/api",
            "requests_per_minute": 100_000,
        },
        "groups",
    ),
}


@pytest.mark.parametrize("tap", list(TAPS))
def test_certificates_are_verified_and_a_private_ca_is_trusted_through_ca_bundle(tap, certificate):
    make_server, make_config, stream = TAPS[tap]
    server = make_server()
    try:
        url = over_tls(server, certificate)
        config = {**make_config(url), "backoff_base_seconds": 0.01, "max_retries": 2}
        refused = run_tap(tap, config, select=[stream])
        assert refused.returncode == 1
        (line,) = refused.error_lines(tap)
        assert "cannot verify the TLS certificate of 127.0.0.1" in line
        assert "Fix: set ca_bundle" in line and "Traceback" not in refused.stderr
        trusted = run_tap(tap, {**config, "ca_bundle": str(certificate[0])}, select=[stream])
        assert trusted.returncode == 0, trusted.stderr[-2000:]
        assert trusted.records(stream)
    finally:
        server.stop()


class PostgresDoor:
    """A TCP listener that answers Postgres' SSLRequest with 'N' (no TLS here) and records
    which first message each client sent: enough to see what libpq does with sslmode."""

    SSL_REQUEST = 80877103

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.first_messages: list[int] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with client:
                header = client.recv(8)
                if len(header) == 8:
                    code = struct.unpack("!I", header[4:8])[0]
                    self.first_messages.append(code)
                    if code == self.SSL_REQUEST:
                        client.sendall(b"N")
                        client.recv(1024)

    def close(self) -> None:
        self.listener.close()


def test_the_target_honours_sslmode(target_config):
    door = PostgresDoor()
    try:
        config = {**target_config, "host": "127.0.0.1", "port": door.port}
        messages = [schema("s", {"id": {"type": "integer"}}), record("s", {"id": 1})]
        run = run_target({**config, "sslmode": "require"}, messages)
        assert run.returncode == 1
        assert "server does not support SSL, but SSL was required" in run.stderr
        assert "check host, port, user, password, database and sslmode" in run.stderr
        asked = len(door.first_messages)
        assert asked and set(door.first_messages) == {PostgresDoor.SSL_REQUEST}
        run_target({**config, "sslmode": "disable"}, messages)
        later = door.first_messages[asked:]
        assert later and PostgresDoor.SSL_REQUEST not in later, "disable asks for no TLS"
    finally:
        door.close()
