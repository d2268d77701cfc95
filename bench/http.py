"""HTTP: the case page under gunicorn against a one-query Flask page served the same way.

Two gunicorn servers run on free loopback ports with the same workers, threads and settings as
``titlereview serve``: the project's app (started through the ``serve`` command itself) and a floor app with
one route that reads one case row and renders a tiny template. A load generator in another process signs in
once (a real ``POST /login`` with its CSRF token; one session cookie serves every client, so the sign-in
throttle never counts anything) and then drives both servers with N concurrent keep-alive ``http.client``
connections, alternating floor and case page in rounds bounded by requests and time. The result is the case
page's requests per second over the floor's.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import queue
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class LoadResult:
    """One side's totals over all rounds: requests, seconds, and latency percentiles (ms)."""

    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds


@dataclass
class HttpResult:
    """Both servers' figures and the ratio of their throughputs."""

    database: str
    workers: int
    threads: int
    clients: int
    page: LoadResult
    floor: LoadResult
    case_id: int

    @property
    def ratio(self) -> float:
        """Case page requests/s over the floor page's."""
        return self.page.rps / self.floor.rps


# --------------------------------------------------------------------------------------------- the floor app


FLOOR_TEMPLATE = """<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>{{ c.reference }}</title></head>
<body><h1>{{ c.reference }}</h1><p>{{ c.state }} · v{{ c.version }} · {{ c.updated_at }}</p></body></html>"""


def floor_app(url: str | None = None):
    """The floor: a Flask app whose one page issues one SELECT of a case row and renders a tiny template."""
    from flask import Flask, abort
    from sqlalchemy import select

    from workflow.db import Database
    from workflow.models import Case

    app = Flask(__name__)
    db = Database(url or os.environ["TITLEREVIEW_DATABASE_URL"])
    case = Case.__table__
    # Compiled once, as Flask does for template files: render_template_string would compile on every request
    # (~0.7 ms), which would make the floor slower than any real page and flatter the ratio.
    template = app.jinja_env.from_string(FLOOR_TEMPLATE)

    @app.get("/floor/<int:case_id>")
    def page(case_id: int):
        """One case row, rendered."""
        with db.read() as conn:
            row = conn.execute(select(case.c.reference, case.c.state, case.c.version, case.c.updated_at)
                               .where(case.c.id == case_id)).mappings().first()
        if row is None:
            abort(404)
        return template.render(c=row)

    return app


def serve_floor(url: str, bind: str, workers: int, threads: int) -> None:
    """Serve :func:`floor_app` under gunicorn with the settings ``titlereview serve`` uses."""
    from gunicorn.app.base import BaseApplication

    class _App(BaseApplication):
        def load_config(self) -> None:
            for key, value in {"bind": bind, "workers": workers, "threads": threads,
                               "worker_class": "gthread", "accesslog": "-", "timeout": 60}.items():
                self.cfg.set(key, value)

        def load(self):
            return floor_app(url)

    _App().run()


# --------------------------------------------------------------------------------------------- servers


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(port: int, path: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
        finally:
            conn.close()
    raise RuntimeError(f"server on port {port} did not answer within {timeout:.0f} s")


@contextmanager
def _servers(commands: list[tuple[list[str], int, str]], env: dict[str, str]) -> Iterator[None]:
    """Start every (args, port, ready path) server at once, wait until each answers, stop them all after."""
    procs = [subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True) for args, _, _ in commands]
    try:
        for proc, (_, port, ready_path) in zip(procs, commands, strict=True):
            _wait_ready(port, ready_path, proc)
        yield
    finally:
        for proc in procs:
            proc.terminate()  # gunicorn's arbiter stops its workers on SIGTERM
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --------------------------------------------------------------------------------------------- load generator


def _cookies(response: http.client.HTTPResponse, jar: dict[str, str]) -> None:
    for header in response.headers.get_all("Set-Cookie") or []:
        for name, morsel in SimpleCookie(header).items():
            jar[name] = morsel.value


def sign_in(port: int, username: str, password: str) -> str:
    """Sign in through the real form; returns the ``Cookie`` header of the signed-in session."""
    jar: dict[str, str] = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login")
    response = conn.getresponse()
    body = response.read().decode()
    _cookies(response, jar)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', body)
    if match is None:
        raise RuntimeError("the sign-in page has no CSRF token")
    form = urlencode({"csrf_token": match.group(1), "username": username, "password": password})
    conn.request("POST", "/login", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
    response = conn.getresponse()
    response.read()
    if response.status != 303:
        raise RuntimeError(f"sign-in as {username} answered {response.status}")
    _cookies(response, jar)
    conn.close()
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def drive(port: int, path: str, cookie: str, clients: int, max_requests: int, max_seconds: float
          ) -> tuple[int, float, list[float]]:
    """``clients`` keep-alive connections request ``path`` until ``max_requests`` or ``max_seconds``.

    Returns (requests completed, elapsed seconds, latencies in ms). Any answer but 200 is an error.
    """
    lock = threading.Lock()
    issued = [0]
    latencies: list[float] = []
    errors: list[str] = []
    headers = {"Cookie": cookie} if cookie else {}
    start = time.perf_counter()
    deadline = start + max_seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        try:
            while time.perf_counter() < deadline:
                with lock:
                    if issued[0] >= max_requests:
                        break
                    issued[0] += 1
                t0 = time.perf_counter()
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                mine.append((time.perf_counter() - t0) * 1000)
                if response.status != 200:
                    errors.append(f"GET {path} answered {response.status}")
                    break
        except OSError as err:
            errors.append(f"GET {path}: {err}")
        finally:
            conn.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(errors[0])
    return len(latencies), elapsed, latencies


def _generator(targets: dict[str, tuple[int, str, tuple[str, str] | None]], clients: int, rounds: int,
               max_requests: int, max_seconds: float, out: Any) -> None:
    """The load generator process: sign in, warm up, then alternate the targets round by round."""
    try:
        cookies = {name: sign_in(port, *login) if login else "" for name, (port, _, login) in targets.items()}
        totals: dict[str, list[Any]] = {name: [0, 0.0, []] for name in targets}
        for name, (port, path, _) in targets.items():
            drive(port, path, cookies[name], clients, clients * 5, max_seconds)
        for _ in range(rounds):
            for name, (port, path, _) in targets.items():
                n, s, lat = drive(port, path, cookies[name], clients, max_requests, max_seconds)
                totals[name][0] += n
                totals[name][1] += s
                totals[name][2].extend(lat)
        out.put(("ok", totals))
    except Exception as err:  # reported to the parent, which raises it
        out.put(("error", f"{type(err).__name__}: {err}"))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_load(targets: dict[str, tuple[int, str, tuple[str, str] | None]], clients: int, rounds: int,
             max_requests: int, max_seconds: float) -> dict[str, LoadResult]:
    """Run :func:`_generator` in a separate process and collect its totals per target."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_generator, args=(targets, clients, rounds, max_requests, max_seconds, out))
    proc.start()
    deadline = time.monotonic() + (rounds + 1) * len(targets) * (max_seconds + 30) + 60
    try:
        while True:
            try:
                status, payload = out.get(timeout=1)
                break
            except queue.Empty:
                if not proc.is_alive():
                    raise RuntimeError(f"load generator exited with {proc.exitcode} and no result") from None
                if time.monotonic() > deadline:
                    raise RuntimeError("load generator did not finish in time") from None
    finally:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.terminate()
    if status != "ok":
        raise RuntimeError(f"load generator failed: {payload}")
    return {name: LoadResult(n, s, _percentile(lat, 0.5), _percentile(lat, 0.95))
            for name, (n, s, lat) in payload.items()}


# --------------------------------------------------------------------------------------------- scenario


def pick_case(db) -> tuple[int, str]:
    """The demo case with the longest timeline whose applicant can sign in: (case id, username)."""
    from sqlalchemy import func, select

    from workflow.models import Case, CaseEvent, User

    case, event, user = Case.__table__, CaseEvent.__table__, User.__table__
    with db.read() as conn:
        row = conn.execute(select(case.c.id, user.c.username)
                           .join(user, user.c.id == case.c.applicant_id)
                           .join(event, event.c.case_id == case.c.id)
                           .group_by(case.c.id, user.c.username)
                           .order_by(func.count().desc(), case.c.id).limit(1)).first()
    if row is None:
        raise RuntimeError("the prepared database has no cases")
    return row[0], row[1]


def run(db, password: str, *, workers: int = 2, threads: int = 4, clients: int = 8, rounds: int = 3,
        max_requests: int = 2000, max_seconds: float = 4.0) -> HttpResult:
    """Serve the prepared database twice (app and floor) and drive both; ``db`` holds the demo data."""
    url = db.engine.url.render_as_string(hide_password=False)
    case_id, username = pick_case(db)
    app_port, floor_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as instance:
        env = {**os.environ, "TITLEREVIEW_DATABASE_URL": url, "TITLEREVIEW_COOKIE_SECURE": "0",
               "TITLEREVIEW_SECRET_KEY": "bench-http-" + os.urandom(8).hex(), "TITLEREVIEW_INSTANCE_PATH": instance,
               "PYTHONPATH": str(ROOT)}
        app_args = ["-c", "from web.cli import main; main()", "serve", "--bind", f"127.0.0.1:{app_port}",
                    "--workers", str(workers), "--threads", str(threads)]
        floor_args = ["-m", "bench.http", url, f"127.0.0.1:{floor_port}", str(workers), str(threads)]
        with _servers([(app_args, app_port, "/login"), (floor_args, floor_port, f"/floor/{case_id}")], env):
            results = run_load({"floor": (floor_port, f"/floor/{case_id}", None),
                                "page": (app_port, f"/cases/{case_id}", (username, password))},
                               clients, rounds, max_requests, max_seconds)
    return HttpResult(database=db.engine.dialect.name, workers=workers, threads=threads, clients=clients,
                      page=results["page"], floor=results["floor"], case_id=case_id)


if __name__ == "__main__":  # the floor server: python -m bench.http URL BIND WORKERS THREADS
    serve_floor(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
