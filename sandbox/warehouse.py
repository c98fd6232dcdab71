"""The embedded warehouse: a real Postgres 16 from the `pgserver` wheel, in the project folder.

Tests and the demo need a Postgres without any manual step. pgserver ships the server
binaries in a wheel and starts them on a Unix socket inside the data folder, so nothing is
installed system-wide and nothing listens on the network. `WAREHOUSE_TEST_URL` (tests) or
the target's own settings point everything at an existing server instead.

    python -m sandbox.warehouse start|stop|url
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_DATA = PROJECT_ROOT / ".warehouse" / "pgdata"


def start(data_dir: Path = DEMO_DATA, *, stop_at_exit: bool = False) -> str:
    """Start (or reuse) the server in `data_dir`; returns its libpq URL."""
    import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode="stop" if stop_at_exit else None)
    return server.get_uri()


def stop(data_dir: Path = DEMO_DATA) -> None:
    """Stop the server in `data_dir` if it runs."""
    if not (data_dir / "postmaster.pid").exists():
        return
    import pgserver

    # Attach to the running server, then let pgserver stop it as the user it runs as.
    pgserver.get_server(data_dir, cleanup_mode="stop").cleanup()


def target_config(url: str) -> dict[str, object]:
    """target-warehouse settings for a libpq URL (socket URLs included)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or "localhost"])[0]
    config: dict[str, object] = {
        "host": host,
        "user": parts.username or "postgres",
        "database": parts.path.lstrip("/") or "postgres",
    }
    if parts.port:
        config["port"] = parts.port
    if parts.password:
        config["password"] = parts.password
    return config


def main(argv: list[str]) -> int:
    """Command line: start, stop or url."""
    command = argv[0] if argv else "url"
    if command == "start" or command == "url":
        print(start())
    elif command == "stop":
        stop()
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
