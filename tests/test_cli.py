"""The command line: init-db, pipelines (text and JSON), tick; and the migrations match the models."""

from __future__ import annotations

import json
from datetime import timedelta, timezone

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from driver import advance, case_row
from sqlalchemy import select

from seed.cast import build_world
from web.cli import main
from workflow import migrate
from workflow.db import Database
from workflow.eligibility.standards import DEFINITIONS_DIR
from workflow.models import metadata
from workflow.pipeline.schema import load_pipeline_dir


def test_pipelines_json_lists_the_four_pipelines():
    result = CliRunner().invoke(main, ["pipelines", "--json"])
    assert result.exit_code == 0, result.output
    listing = json.loads(result.output)
    assert {p["id"] for p in listing} == {"industry-session", "skill-bridging", "exceptional-senior",
                                          "fallback-filing"}
    for p in listing:
        assert set(p) >= {"id", "version", "initial", "finals", "states", "transitions"}
        assert p["initial"] == "draft" and "certified" in p["finals"]
        for t in p["transitions"]:
            assert set(t) >= {"trigger", "source", "dest", "roles"} and t["roles"]
        triggers = {t["trigger"] for t in p["transitions"]}
        assert {"withdraw", "file_objection", "appeal", "revoke"} <= triggers


def test_pipelines_show_prints_parameters_with_sources():
    result = CliRunner().invoke(main, ["pipelines", "show", "skill-bridging"])
    assert result.exit_code == 0, result.output
    assert "waiting_years" in result.output and "[S]" in result.output
    assert "recommend" in result.output and "requires=assessment,comment" in result.output
    missing = CliRunner().invoke(main, ["pipelines", "show", "nope"])
    assert missing.exit_code == 1 and "no pipeline 'nope'" in missing.output


def test_init_db_is_idempotent_and_tick_fires_due_timers(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    first = runner.invoke(main, ["--database-url", url, "init-db"])
    current = load_pipeline_dir(DEFINITIONS_DIR / "pipelines")["industry-session"][0].version
    assert first.exit_code == 0 and f"stored pipeline industry-session v{current}" in first.output
    again = runner.invoke(main, ["--database-url", url, "init-db"])
    assert again.exit_code == 0 and "stored pipeline" not in again.output
    db = Database(url)
    world = build_world(db)
    case_id = world.open("industry-session")
    advance(world, case_id, "unit_notice")
    bad = runner.invoke(main, ["--database-url", url, "tick", "--now", "next tuesday"])
    assert bad.exit_code == 2 and "ISO 8601" in bad.output
    result = runner.invoke(main, ["--database-url", url, "tick", "--now", "2030-01-01T09:00:00"])  # Beijing time
    assert result.exit_code == 0 and "fired 1" in result.output, result.output
    assert case_row(db, case_id).state == "unit_recommendation"
    repeat = runner.invoke(main, ["--database-url", url, "tick", "--now", "2030-01-01T09:00:00+08:00"])
    assert "fired 0" in repeat.output


def test_tick_converts_local_times_before_comparing(tmp_path):
    """A deadline ending at 00:00 China time is due at 16:00 UTC the day before, however --now is written."""
    url = f"sqlite:///{tmp_path / 'tz.db'}"
    runner = CliRunner()
    runner.invoke(main, ["--database-url", url, "init-db"])
    db = Database(url)
    world = build_world(db)
    case_id = world.open("industry-session")
    advance(world, case_id, "formal_check")
    from workflow.engine import core as engine
    from workflow.models import Timer, as_utc

    engine.fire(db, case_id, "return_for_correction", world.officer, data={"corrections": ["补充证明"]})
    with db.session() as s:
        pending = select(Timer.due_at).where(Timer.case_id == case_id, Timer.status == "pending")
        due = as_utc(s.exec(pending).scalar_one())
    before_local = (due - timedelta(minutes=1)).astimezone(timezone(timedelta(hours=8))).isoformat()
    after_local = (due + timedelta(minutes=1)).astimezone(timezone(timedelta(hours=8))).isoformat()
    assert "fired 0" in runner.invoke(main, ["--database-url", url, "tick", "--now", before_local]).output
    assert "fired 1" in runner.invoke(main, ["--database-url", url, "tick", "--now", after_local]).output
    assert case_row(db, case_id).state == "withdrawn"


def test_migrations_match_the_models(db):
    assert migrate.current_revision(db) == migrate.head_revision(db)
    with db.read() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []


def test_migrations_on_postgres(pg_db):
    assert migrate.current_revision(pg_db) == migrate.head_revision(pg_db)
    with pg_db.read() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []


def test_served_responses_name_no_server_software(tmp_path):
    """``titlereview serve`` (gunicorn, as deployed) on a free loopback port: no ``Server: gunicorn`` banner."""
    for path, (status, headers) in served_headers(f"sqlite:///{tmp_path / 'serve.db'}", tmp_path).items():
        assert status == 200, path
        assert not headers.get("Server"), headers.get("Server")
        assert all("gunicorn" not in value.lower() for _name, value in headers.items())
        assert headers.get("X-Content-Type-Options") == "nosniff"


def served_headers(database_url: str, instance, paths=("/static/favicon.svg", "/api/v1/openapi.json")) -> dict:
    """GET each of ``paths`` from ``titlereview serve`` (gunicorn, as deployed, one worker) on a free loopback
    port over ``database_url``: path → (status, headers as ``http.client`` read them).

    The server runs under coreutils' ``timeout``, so it ends by itself even if the caller dies half-way; this
    waits for gunicorn's own "Listening at" line, not for a length of time.
    """
    import http.client
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "TITLEREVIEW_INSTANCE_PATH": str(instance), "PYTHONPATH": str(root)}
    command = ["timeout", "120", sys.executable, "-c", "from web.cli import main; main()",
               "--database-url", database_url, "serve", "--bind", "127.0.0.1:0", "--workers", "1", "--threads", "1"]
    proc = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    found = {}
    try:
        port = None
        for line in proc.stderr:  # ends when the server does (at the latest when `timeout` stops it)
            if m := re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line):
                port = int(m.group(1))
                break
        assert port, "gunicorn did not start"
        for path in paths:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            conn.close()
            found[path] = (response.status, response.msg)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    return found


def test_the_benchmarks_are_not_installed_with_the_package():
    """bench/ runs from a checkout (``titlereview bench``); a server installing the wheel gets no bench package."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    found = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert not any(pattern.startswith("bench") for pattern in found["include"])
    assert (root / "bench" / "run.py").is_file()  # still runnable from here


def test_tick_lets_a_notice_period_pass_in_working_days(tmp_path):
    """``--advance 5wd`` is what a newcomer needs to see a five-working-day notice end: not a day earlier."""
    url = f"sqlite:///{tmp_path / 'advance.db'}"
    runner = CliRunner()
    runner.invoke(main, ["--database-url", url, "init-db"])
    db = Database(url)
    world = build_world(db)
    case_id = world.open("industry-session")
    advance(world, case_id, "unit_notice")  # a 5-working-day notice from when it started
    from workflow.models import as_utc

    started = as_utc(case_row(db, case_id).state_entered_at).isoformat()  # fixed: no race with the clock
    early = runner.invoke(main, ["--database-url", url, "tick", "--now", started, "--advance", "4wd"])
    assert early.exit_code == 0 and "fired 0" in early.output, early.output
    assert "pretending it is" in early.output and "(Beijing time)" in early.output
    done = runner.invoke(main, ["--database-url", url, "tick", "--now", started, "--advance", "5wd"])
    assert "fired 1" in done.output and case_row(db, case_id).state == "unit_recommendation"
    for bad in ("5", "5w", "-1d", "99999d", "wd"):
        refused = runner.invoke(main, ["--database-url", url, "tick", "--advance", bad])
        assert refused.exit_code == 2 and "5wd" in refused.output, bad
    assert "fired 0" in runner.invoke(main, ["--database-url", url, "tick", "--now", started, "--advance",
                                             "30d"]).output
