"""`python -m sandbox up|status|mutate|drift|down`: the local stand-ins for a fresh checkout.

up      starts the embedded warehouse (Postgres), a MariaDB with the Genius tables (when
        Debian's mariadb-server is installed; the SQLite copy is always written), and the
        CallRail, Arrivy and legacy ERP stand-ins in a background process; then writes their
        connection settings into `.env`, where Meltano reads them. A port that something
        else holds (another checkout's sandbox, say) is replaced by a free one, and said so;
        this checkout's own running stand-ins are reused.
status  says what runs and where.
mutate  creates, updates and deletes records in every source, for a delta sync to pick up.
drift   changes a delta cannot see, for a reconciliation pass to repair: Genius rows
        deleted or changed behind their stamps, ERP customers and documents deleted.
down    stops everything `up` started.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
import sqlalchemy as sa

from sandbox import genius, mariadb, warehouse

ROOT = warehouse.PROJECT_ROOT
# Where the sandbox keeps its servers' data, and the .env it writes (tests move both).
STATE = Path(os.environ.get("SANDBOX_HOME") or ROOT / ".warehouse")
ENV_FILE = Path(os.environ.get("SANDBOX_ENV_FILE") or ROOT / ".env")
PID_FILE = STATE / "sandbox.pid"
SETTINGS_FILE = STATE / "sandbox.json"
SQLITE_GENIUS = STATE / "genius.sqlite"
PGDATA = STATE / "pgdata"
MARIADB_DATA = STATE / "mariadb"
PORTS = {"callrail": 8781, "arrivy": 8782, "legacy_erp": 8783}


def _servers(calls: int, tasks: int, documents: int, ports: dict[str, int]) -> list:
    from sandbox.arrivy import ArrivyStandIn
    from sandbox.callrail import CallRailStandIn
    from sandbox.legacy_erp import LegacyErpStandIn

    return [
        CallRailStandIn(calls_per_account=calls, port=ports["callrail"]),
        ArrivyStandIn(tasks=tasks, port=ports["arrivy"]),
        LegacyErpStandIn(documents=documents, port=ports["legacy_erp"]),
    ]


def serve(args: argparse.Namespace) -> int:
    """Run the three HTTP stand-ins in this process until SIGTERM."""
    servers = _servers(args.calls, args.tasks, args.documents, _ports(args))
    for server in servers:
        server.start()
    stop = False

    def finish(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    while not stop:
        time.sleep(0.2)
    for server in servers:
        server.stop()
    return 0


def _ports(args: argparse.Namespace) -> dict[str, int]:
    return {name: getattr(args, f"{name}_port") for name in PORTS}


def _health(url: str) -> bool:
    try:
        return requests.get(f"{url}/_sandbox/health", timeout=1).ok
    except requests.RequestException:
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _own_running_ports() -> dict[str, int] | None:
    """The ports of this checkout's stand-ins when they still run, else None."""
    settings = _settings()
    if not PID_FILE.exists() or not all(name in settings for name in PORTS):
        return None
    try:
        os.kill(int(PID_FILE.read_text()), 0)
    except (ProcessLookupError, ValueError):
        return None
    if not all(_health(str(settings[name])) for name in PORTS):
        return None
    return {name: int(str(settings[name]).rsplit(":", 1)[1]) for name in PORTS}


def _ports_to_use(args: argparse.Namespace) -> dict[str, int]:
    """The ports asked for, except those something else holds: a free port instead."""
    ports = {}
    for name, port in _ports(args).items():
        if not _port_free(port):
            replacement = _free_port()
            print(f"{name:<11} port {port} is taken (another sandbox?): using {replacement}")
            port = replacement
        ports[name] = port
    return ports


def _start_stand_ins(args: argparse.Namespace, ports: dict[str, int]) -> None:
    command = [sys.executable, "-m", "sandbox", "serve"]
    command += ["--calls", str(args.calls), "--tasks", str(args.tasks)]
    command += ["--documents", str(args.documents)]
    command += [f"--{name.replace('_', '-')}-port={port}" for name, port in ports.items()]
    process = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    PID_FILE.write_text(str(process.pid))


def up(args: argparse.Namespace) -> int:
    """Start everything, seed Genius, write `.env`."""
    STATE.mkdir(parents=True, exist_ok=True)
    running = _own_running_ports()
    ports = running or _ports_to_use(args)
    settings: dict[str, object] = {"warehouse_url": warehouse.start(PGDATA)}
    print(f"warehouse   {settings['warehouse_url']}")
    genius.seed(sa.create_engine(f"sqlite:///{SQLITE_GENIUS}"), appointments=args.appointments)
    settings["genius_sqlite"] = str(SQLITE_GENIUS)
    try:
        database = mariadb.start(MARIADB_DATA, port=args.mariadb_port)
        genius.seed(sa.create_engine(database.url), appointments=args.appointments)
        settings["genius"] = database.settings()
        settings["genius_url"] = database.url
        print(f"genius      MariaDB on 127.0.0.1:{database.port} (also SQLite: {SQLITE_GENIUS})")
    except (RuntimeError, sa.exc.SQLAlchemyError) as problem:
        reason = str(problem).splitlines()[0]
        print(f"genius      SQLite only ({SQLITE_GENIUS}): {reason}")
    if running is None:
        _start_stand_ins(args, ports)
    for name, port in ports.items():
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while not _health(url) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _health(url):
            print(f"{name:<11} did not start on port {port}: run `python -m sandbox up` again")
            return 1
        settings[name] = url
        print(f"{name:<11} {url}")
    SETTINGS_FILE.write_text(json.dumps(settings, indent=2))
    _write_env(settings)
    print(f"Settings written to {ENV_FILE}")
    return 0


def env_settings(settings: dict) -> dict[str, str]:
    """The variables of Meltano's `sandbox` environment (meltano.yml)."""
    target = warehouse.target_config(str(settings["warehouse_url"]))
    genius_url = settings.get("genius_url") or f"sqlite:///{settings['genius_sqlite']}"
    return {
        "SANDBOX_WAREHOUSE_HOST": str(target["host"]),
        "SANDBOX_WAREHOUSE_USER": str(target["user"]),
        "SANDBOX_WAREHOUSE_DATABASE": str(target["database"]),
        "SANDBOX_CALLRAIL_URL": str(settings["callrail"]),
        "SANDBOX_CALLRAIL_API_KEY": "sandbox-callrail-key",
        "SANDBOX_ARRIVY_URL": str(settings["arrivy"]),
        "SANDBOX_ARRIVY_AUTH_KEY": "sandbox-arrivy-key",
        "SANDBOX_ARRIVY_AUTH_TOKEN": "sandbox-arrivy-token",
        "SANDBOX_LEGACY_ERP_URL": str(settings["legacy_erp"]),
        "SANDBOX_GENIUS_URL": genius_url,
    }


def _write_env(settings: dict) -> None:
    """Replace the sandbox's variables in `.env`, keeping every other line."""
    values = env_settings(settings)
    kept = []
    if ENV_FILE.exists():
        for line in ENV_FILE.read_text().splitlines():
            name = line.split("=", 1)[0].strip()
            if name not in values and line.strip() != "# Written by `python -m sandbox up`":
                kept.append(line)
    lines = [*kept, "# Written by `python -m sandbox up`", *(f"{k}={v}" for k, v in values.items())]
    ENV_FILE.write_text("\n".join(lines) + "\n")


def _settings() -> dict:
    if not SETTINGS_FILE.exists():
        return {}
    return json.loads(SETTINGS_FILE.read_text())


def status(args: argparse.Namespace) -> int:
    """What runs, and where."""
    settings = _settings()
    if not settings:
        print("The sandbox is not up: run `python -m sandbox up`.")
        return 1
    for name in PORTS:
        url = str(settings.get(name))
        print(f"{name:<11} {url} {'up' if _health(url) else 'DOWN'}")
    print(f"warehouse   {settings['warehouse_url']}")
    database = settings.get("genius")
    print(f"genius      {'MariaDB ' + str(database) if database else 'SQLite only'}")
    return 0


def mutate(args: argparse.Namespace) -> int:
    """Change every source once."""
    settings = _settings()
    for name in PORTS:
        response = requests.post(f"{settings[name]}/_sandbox/mutate", json={}, timeout=30)
        print(f"{name:<11} mutated: {response.status_code}")
    round_number = int(time.time())
    for engine in _genius_engines(settings):
        genius.mutate(engine, round_number=round_number)
    print("genius      mutated")
    return 0


def drift(args: argparse.Namespace) -> int:
    """Change Genius and the ERP behind a delta's back (see sandbox.genius.drift)."""
    settings = _settings()
    deletes = {"delete": {"Kunden": 3, "Belege": 2}}
    response = requests.post(f"{settings['legacy_erp']}/_sandbox/mutate", json=deletes, timeout=30)
    print(f"legacy_erp  deleted: {response.json().get('deleted', {})}")
    for engine in _genius_engines(settings):
        planted = genius.drift(engine, round_number=int(time.time()))
    found = {table: (len(d.deleted), len(d.changed)) for table, d in planted.items()}
    print(f"genius      (deleted, changed behind the stamp) per table: {found}")
    return 0


def _genius_engines(settings: dict) -> list[sa.Engine]:
    """The SQLite copy, and the MariaDB where it runs."""
    engines = [sa.create_engine(f"sqlite:///{settings['genius_sqlite']}")]
    if settings.get("genius_url"):
        engines.append(sa.create_engine(str(settings["genius_url"])))
    return engines


def down(args: argparse.Namespace) -> int:
    """Stop the stand-ins, MariaDB and the warehouse."""
    if PID_FILE.exists():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(PID_FILE.read_text()), signal.SIGTERM)
        PID_FILE.unlink()
    mariadb.stop(MARIADB_DATA)
    warehouse.stop(PGDATA)
    SETTINGS_FILE.unlink(missing_ok=True)
    print("The sandbox is down.")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, handler in (
        ("up", up),
        ("status", status),
        ("mutate", mutate),
        ("drift", drift),
        ("down", down),
        ("serve", serve),
    ):
        command = commands.add_parser(name)
        command.set_defaults(handler=handler)
        if name in ("up", "serve"):
            command.add_argument(
                "--calls", type=int, default=300, help="calls per CallRail account"
            )
            command.add_argument("--tasks", type=int, default=300, help="Arrivy scheduled tasks")
            command.add_argument("--documents", type=int, default=300, help="ERP sales documents")
            command.add_argument(
                "--appointments", type=int, default=300, help="Genius appointments"
            )
            command.add_argument("--mariadb-port", type=int, default=None)
            for server, port in PORTS.items():
                command.add_argument(f"--{server.replace('_', '-')}-port", type=int, default=port)
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
