"""The HTTP machinery every stand-in shares: routing, rate limits, faults, a request log.

A stand-in is a `StandIn` subclass that declares its routes and its authentication. The base
enforces configurable rate limits (429, with or without `Retry-After`), injects faults per
path (429 bursts, 5xx bursts, slow responses, dropped connections, truncated or invalid
JSON), and records every request so tests can check what a tap actually sent. Admin routes
under `/_sandbox/` let tests and `python -m sandbox` change faults and mutate data of a
running server; they need no credentials and exist only on loopback.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
import typing as t
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import msgspec

JSON = t.Any


@dataclass
class Request:
    """What a handler needs to know about one request."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    raw_query: str = ""
    """The query as sent, before decoding (how a value was encoded can matter)."""

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter `name`."""
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    """Status, JSON body and headers of a reply."""

    status: int
    body: JSON
    headers: dict[str, str] = field(default_factory=dict)


class HTTPError(Exception):
    """Raised by handlers to answer with an error the way the real service does."""

    def __init__(self, status: int, body: JSON, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.response = Response(status, body, headers or {})


@dataclass
class Fault:
    """One injected fault: `kind` on requests whose path contains `path`, `times` times.

    kinds: status codes ("429", "500", "502", "503"), "slow" (wait `delay` seconds, then
    answer), "drop" (close the connection without an answer), "truncate" (cut the body in
    half), "invalid_json" (a body that is not JSON), "empty" (the page without its records,
    totals and paging links unchanged), "duplicate" (every record of the page twice),
    "new_field" (every record of the page gains `field` with `value`, as an API does when it
    adds a field). `retry_after` adds that header to a 429. `after` lets that many matching
    requests through first.
    """

    kind: str
    path: str = ""
    times: int = 1
    after: int = 0
    delay: float = 0.0
    retry_after: str | None = None
    field: str = ""
    value: JSON = None


@dataclass
class RateLimit:
    """At most `requests` per `seconds` per credential; 429 beyond, Retry-After optional."""

    requests: int
    seconds: float
    send_retry_after: bool = True


class RateLimiter:
    """Sliding-window counters per credential and limit."""

    def __init__(self) -> None:
        self.limits: list[RateLimit] = []
        self._seen: dict[tuple[str, int], deque[float]] = {}
        self._lock = threading.Lock()
        self.refused = 0

    def check(self, who: str) -> float | None:
        """None when the request may pass; else seconds until it could."""
        now = time.monotonic()
        with self._lock:
            for number, limit in enumerate(self.limits):
                window = self._seen.setdefault((who, number), deque())
                while window and window[0] <= now - limit.seconds:
                    window.popleft()
                if len(window) >= limit.requests:
                    self.refused += 1
                    return window[0] + limit.seconds - now
            for number, _ in enumerate(self.limits):
                self._seen[(who, number)].append(now)
        return None


_ENCODER = msgspec.json.Encoder()
Handler = t.Callable[[Request, re.Match[str]], Response]


class StandIn(ThreadingHTTPServer):
    """A local stand-in for a web API. Subclasses add routes and authentication."""

    daemon_threads = True
    allow_reuse_address = True
    name = "stand-in"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _RequestHandler)
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.faults: list[Fault] = []
        self.rate_limiter = RateLimiter()
        self.requests: deque[Request] = deque(maxlen=20_000)
        self._fault_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # Declaring the API ---------------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Answer `method` requests whose path matches `pattern` (a full-match regex)."""
        self.routes.append((method, re.compile(pattern), handler))

    def authenticate(self, request: Request) -> str:
        """The credential's identity for rate limiting; raise HTTPError when refused."""
        return "anonymous"

    def not_found(self, request: Request) -> HTTPError:
        """The error the real service gives for an unknown path."""
        return HTTPError(404, {"error": "Not Found"})

    def mutate(self, options: dict[str, t.Any]) -> dict[str, t.Any]:
        """Create, update and delete records; subclasses implement."""
        return {}

    def encode(self, body: JSON) -> bytes:
        """A body as the service writes it. msgspec: a page of 250 records is encoded in a
        fraction of the standard library's time. A stand-in whose service writes NaN or
        Infinity (JSON has neither) overrides this with `json.dumps`."""
        return _ENCODER.encode(body)

    # Running -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StandIn:
        """Serve on a background thread (tests); returns self."""
        self._thread = threading.Thread(target=self.serve_forever, daemon=True, name=self.name)
        self._thread.start()
        return self

    def handle_error(self, request: t.Any, client_address: t.Any) -> None:
        """A client that went away mid-answer (a killed tap, a timeout) is not an error of
        the stand-in; anything else is printed as usual."""
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.shutdown()
        self.server_close()

    # Request handling ----------------------------------------------------------------------

    def take_fault(self, path: str) -> Fault | None:
        """The fault that applies to this request, if any (and count it down)."""
        with self._fault_lock:
            for fault in self.faults:
                if fault.times <= 0 or fault.path not in path:
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    return None
                fault.times -= 1
                return fault
        return None

    def dispatch(self, request: Request) -> Response:
        """Route one API request: authentication, rate limit, then the handler."""
        try:
            who = self.authenticate(request)
            wait = self.rate_limiter.check(who)
            if wait is not None:
                return self.rate_limited(wait)
            for method, pattern, handler in self.routes:
                match = pattern.fullmatch(request.path)
                if match and method == request.method:
                    return handler(request, match)
            raise self.not_found(request)
        except HTTPError as error:
            return error.response

    def rate_limited(self, wait: float) -> Response:
        """A 429 as the service sends it; Retry-After only when the limit says so."""
        limit = self.rate_limiter.limits[0] if self.rate_limiter.limits else None
        headers = {}
        if limit is None or limit.send_retry_after:
            headers["Retry-After"] = str(max(1, round(wait + 0.5)))
        return Response(429, {"error": "Too Many Requests"}, headers)

    def admin(self, request: Request) -> Response:
        """/_sandbox/ routes: faults, rate limits, mutate, the request log, health."""
        action = request.path.removeprefix("/_sandbox/")
        payload = json.loads(request.body or b"{}")
        if action == "health":
            return Response(
                200, {"name": self.name, "ok": True, "rate_limited": self.rate_limiter.refused}
            )
        if action == "faults" and request.method == "POST":
            with self._fault_lock:
                self.faults = [Fault(**spec) for spec in payload.get("faults", [])]
            return Response(200, {"faults": len(self.faults)})
        if action == "rate-limits" and request.method == "POST":
            self.rate_limiter.limits = [RateLimit(**spec) for spec in payload.get("limits", [])]
            return Response(200, {"limits": len(self.rate_limiter.limits)})
        if action == "mutate" and request.method == "POST":
            return Response(200, self.mutate(payload))
        if action == "requests":
            return Response(200, [{"path": r.path, "query": r.query} for r in self.requests])
        return Response(404, {"error": f"unknown sandbox action {action}"})


def _emptied(body: JSON) -> JSON:
    """The page with its records taken out (a list, or every list in an object)."""
    if isinstance(body, list):
        return []
    if isinstance(body, dict):
        return {key: [] if isinstance(value, list) else value for key, value in body.items()}
    return body


def _with_field(body: JSON, field: str, value: JSON) -> JSON:
    """The page with `field` added to every record (a list, or every list in an object)."""
    if isinstance(body, list):
        return [{**r, field: value} if isinstance(r, dict) else r for r in body]
    if isinstance(body, dict):
        return {
            key: _with_field(value_, field, value) if isinstance(value_, list) else value_
            for key, value_ in body.items()
        }
    return body


def _doubled(body: JSON) -> JSON:
    """The page with every record twice (what offset paging over moving data can give)."""
    if isinstance(body, list):
        return body + body
    if isinstance(body, dict):
        return {
            key: value + value if isinstance(value, list) else value for key, value in body.items()
        }
    return body


class _RequestHandler(BaseHTTPRequestHandler):
    server: StandIn
    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes; without TCP_NODELAY, Nagle's algorithm
    # and the client's delayed ACK stall every keep-alive response by about 40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: t.Any) -> None:
        """Quiet: the request log is kept in memory instead."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=method,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
            raw_query=parts.query,
        )
        if request.path.startswith("/_sandbox/"):
            self._send(self.server.admin(request))
            return
        self.server.requests.append(request)
        fault = self.server.take_fault(request.path)
        if fault is not None and self._apply_fault(fault):
            return
        response = self.server.dispatch(request)
        self._send(response, fault)

    def _apply_fault(self, fault: Fault) -> bool:
        """Answer with the fault; False when the normal answer should still follow."""
        if fault.kind == "slow":
            time.sleep(fault.delay)
            return False
        if fault.kind == "drop":
            self.close_connection = True
            self.connection.close()
            return True
        if fault.kind.isdigit():
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            self._send(Response(int(fault.kind), {"error": "injected fault"}, headers))
            return True
        return False

    def _send(self, response: Response, fault: Fault | None = None) -> None:
        if fault is not None and fault.kind in ("empty", "duplicate"):
            body = _emptied(response.body) if fault.kind == "empty" else _doubled(response.body)
            response = Response(response.status, body, response.headers)
        if fault is not None and fault.kind == "new_field":
            body = _with_field(response.body, fault.field, fault.value)
            response = Response(response.status, body, response.headers)
        body = self.server.encode(response.body)
        if fault is not None and fault.kind == "truncate":
            body = body[: len(body) // 2]
        elif fault is not None and fault.kind == "invalid_json":
            body = b"<html>Bad Gateway</html>{"
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
