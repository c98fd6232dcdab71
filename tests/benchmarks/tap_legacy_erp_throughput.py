"""Benchmark tap-legacy-erp against the 4D stand-in (a separate process, real HTTP).

Every table is read: N sales documents (Belege), their 3N lines (Belege_Pos, asked for by
document number in OR-groups) and the small product, customer and stock tables. Printed:
records/s (every RECORD the tap emits), the tap's CPU time and peak memory, at two sizes so
flat memory shows, and the same run's baseline: a bare requests + json reader making the
same requests (documents by pages, their lines by OR-groups), nothing else.

    python tests/benchmarks/tap_legacy_erp_throughput.py --documents 100000
"""

from __future__ import annotations

import argparse
import decimal
import json
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stand_in_process

PAGE = 1000
GROUP = 100


def bare_client(url: str) -> float:
    """Documents and lines per second of the simplest reader of the same requests."""
    session = requests.Session()
    session.get(f"{url}/rest/$info", timeout=30)
    started, count, skip = time.perf_counter(), 0, 0

    def read(table: str, **params: object) -> list[dict]:
        query = urlencode(params, quote_via=quote)  # 4D reads %20, not +
        response = session.get(f"{url}/rest/{table}?{query}", timeout=60)
        body = json.loads(response.content, parse_float=decimal.Decimal)
        return body["__ENTITIES"]

    while True:
        documents = read("Belege", **{"$top": PAGE, "$skip": skip})
        count += len(documents)
        for first in range(0, len(documents), GROUP):
            group = documents[first : first + GROUP]
            wanted = " or ".join(f"'AbsNr = \"{d['AbsNr']}\"'" for d in group)
            count += len(read("Belege_Pos", **{"$top": PAGE, "$skip": 0, "$filter": f"({wanted})"}))
        if len(documents) < PAGE:
            return count / (time.perf_counter() - started)
        skip += PAGE


def measure(documents: int) -> tuple[stand_in_process.TapFigures, float]:
    process, url = stand_in_process.start("legacy-erp", "--documents", str(documents))
    try:
        baseline = bare_client(url)
        config = {"base_url": url, "page_size": PAGE, "child_chunk_size": GROUP}
        return stand_in_process.run_tap("tap-legacy-erp", config), baseline
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=100_000)
    args = parser.parse_args()
    small = max(args.documents // 10, 1000)
    print(
        f"{'documents':>10}{'records':>9}{'seconds':>9}{'records/s':>11}{'tap CPU s':>10}"
        f"{'peak MB':>9}{'bare rec/s':>12}{'tap/bare':>9}"
    )
    for documents in (small, args.documents):
        run, baseline = measure(documents)
        rate = run.total / run.seconds
        print(
            f"{documents:>10}{run.total:>9}{run.seconds:>9.1f}{rate:>11,.0f}"
            f"{run.cpu_seconds:>10.1f}{run.peak_mb:>9}{baseline:>12,.0f}{rate / baseline:>9.2f}"
        )


if __name__ == "__main__":
    main()
