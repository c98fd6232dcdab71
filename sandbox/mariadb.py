"""A throwaway MariaDB server for tests and the sandbox, from Debian's `mariadb-server`.

It runs as the current user with its own data folder, socket and loopback port, so it never
touches a system database. A `genius` user with a password is created, so credentials are
checked the way the real Genius database checks them.

    python -m sandbox.mariadb start|stop      (data in .warehouse/mariadb)
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pymysql
import sqlalchemy as sa

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = PROJECT_ROOT / ".warehouse" / "mariadb"
USER = "genius"
PASSWORD = "sandbox-genius-password"  # noqa: S105 - the throwaway server's own credential
DATABASE = "genius"


class UnavailableError(RuntimeError):
    """No MariaDB server can be run on this machine."""


@dataclass
class MariaDB:
    """A running server: where it listens and how to reach the `genius` database."""

    data_dir: Path
    port: int
    process: subprocess.Popen | None
    host: str = "127.0.0.1"
    user: str = USER
    password: str = PASSWORD
    database: str = DATABASE

    @property
    def socket(self) -> Path:
        return self.data_dir / "mariadb.sock"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the `genius` database over TCP."""
        return sa.URL.create(
            "mysql+pymysql",
            username=self.user,
            password=self.password,
            host=self.host,
            port=self.port,
            database=self.database,
        ).render_as_string(hide_password=False)

    def settings(self) -> dict[str, object]:
        """tap-genius connection settings."""
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "database": self.database,
        }

    def stop(self) -> None:
        """Shut the server down and wait for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def external(url: str) -> MariaDB:
    """A server someone else runs (GENIUS_TEST_URL), e.g. MySQL 8 in a container."""
    parsed = sa.make_url(url)
    return MariaDB(
        Path(),
        parsed.port or 3306,
        None,
        host=parsed.host or "127.0.0.1",
        user=parsed.username or USER,
        password=parsed.password or "",
        database=parsed.database or DATABASE,
    )


def _binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if not found:
        raise UnavailableError(
            f"{name} not found: install Debian's mariadb-server (.ci/run does it for CI)"
        )
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def running(data_dir: Path) -> MariaDB | None:
    """The server already running on `data_dir` (started by another process), if any."""
    pid_file, port_file = data_dir / "mariadb.pid", data_dir / "port"
    if not pid_file.exists() or not port_file.exists():
        return None
    try:
        os.kill(int(pid_file.read_text().strip()), 0)
    except (ValueError, ProcessLookupError, PermissionError):
        return None
    return MariaDB(data_dir, int(port_file.read_text()), None)


def start(data_dir: Path = DEFAULT_DATA, port: int | None = None) -> MariaDB:
    """Initialise (first time) and start a server, or reuse the one running on `data_dir`;
    returns once it accepts connections."""
    already = running(data_dir)
    if already is not None:
        _wait_until_ready(already)
        return already
    fresh = not (data_dir / "mysql").exists()
    data_dir.mkdir(parents=True, exist_ok=True)
    if fresh:
        subprocess.run(
            [
                _binary("mariadb-install-db"),
                "--no-defaults",
                f"--datadir={data_dir}",
                "--user=root",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )
    server = MariaDB(data_dir, port or _free_port(), None)
    server.process = subprocess.Popen(
        [
            _binary("mariadbd"),
            "--no-defaults",
            f"--datadir={data_dir}",
            f"--socket={server.socket}",
            f"--port={server.port}",
            "--bind-address=127.0.0.1",
            "--user=root",
            f"--pid-file={data_dir / 'mariadb.pid'}",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=128M",
            f"--log-error={data_dir / 'error.log'}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_until_ready(server)
    (data_dir / "port").write_text(str(server.port))
    _create_user_and_database(server)
    return server


def _wait_until_ready(server: MariaDB, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            log = (server.data_dir / "error.log").read_text(errors="replace")[-2000:]
            raise UnavailableError(f"mariadbd exited during start-up:\n{log}")
        try:
            pymysql.connect(unix_socket=str(server.socket), user="root").close()
            return
        except pymysql.err.OperationalError:
            time.sleep(0.2)
    raise UnavailableError("mariadbd did not accept connections within a minute")


def _create_user_and_database(server: MariaDB) -> None:
    connection = pymysql.connect(unix_socket=str(server.socket), user="root", autocommit=True)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS {DATABASE} CHARACTER SET utf8mb4")
        cursor.execute(f"CREATE USER IF NOT EXISTS '{USER}'@'%' IDENTIFIED BY '{PASSWORD}'")
        cursor.execute(f"GRANT ALL ON {DATABASE}.* TO '{USER}'@'%'")
    connection.close()


def stop(data_dir: Path = DEFAULT_DATA) -> None:
    """Stop a server started by another process (by its pid file)."""
    pid_file = data_dir / "mariadb.pid"
    if pid_file.exists():
        subprocess.run(["kill", pid_file.read_text().strip()], check=False)


if __name__ == "__main__":
    if sys.argv[1:] == ["stop"]:
        stop()
    else:
        print(start().url)
