"""The benchmark's scenarios run end to end at a tiny size (their numbers are not checked here, only that
they measure what they say: same transition counts on both sides, memory traced while cases are held)."""

from __future__ import annotations

from bench import machines, transitions
from workflow.pipeline.catalog import get_pipeline, latest_versions


def test_transitions_scenario_runs_both_sides_equally(any_db):
    result = transitions.run(any_db, cases=1, rounds=1)
    assert result.transitions == len(transitions.HAPPY_PATH)
    assert result.engine_tps > 0 and result.raw_tps > 0 and result.ratio > 0
    assert set(result.per_trigger_us) == set(transitions.HAPPY_PATH)


def test_machine_scenario_measures_both_ways(db):
    p = get_pipeline(db, transitions.PIPELINE, latest_versions(db)[transitions.PIPELINE])
    result = machines.run(p, 50)
    assert result.per_case_kib_per_10k > result.shared_kib_per_10k > 0
    assert result.speedup > 1


# --------------------------------------------------------------------------------------------- scale and HTTP


def test_scale_generator_fills_every_table_it_promises(any_db):
    from sqlalchemy import text

    from bench import scale

    g = scale.generate(any_db, 400)
    assert g.cases == 400 and g.events >= g.cases and 0 < g.timers < g.cases
    assert len(g.officers) == scale.authorities_for(400) * scale.OFFICERS_PER_AUTHORITY
    with any_db.read() as conn:
        states = dict(conn.execute(text("SELECT state, count(*) FROM case_file GROUP BY state")).all())
        chained = conn.execute(text("SELECT count(*) FROM case_event e JOIN case_file c ON c.id = e.case_id "
                                    "WHERE e.seq = c.version AND e.to_state = c.state")).scalar()
        pending = conn.execute(text("SELECT count(*) FROM case_timer WHERE status = 'pending'")).scalar()
        timed = conn.execute(text("SELECT sum(pending_timers) FROM case_file")).scalar()
    assert sum(states.values()) == 400 and len(states) > 8  # spread over the states, mostly closed
    assert sum(n for s, n in states.items() if s in scale.FINAL) > 200
    assert chained == 400  # every case's last event leads to its state
    assert pending == timed


def test_scale_measures_real_pages_on_both_sizes(db, tmp_path):
    from bench import run, scale

    with run.sqlite_db() as other:
        small = (db, scale.generate(db, 300))
        large = (other, scale.generate(other, 1200))
        result = scale.measure(small, large, samples=10, database="sqlite")
    assert result.samples == 10
    assert set(result.ms) == set(scale.PAGES)
    for ms in result.ms.values():
        assert set(ms) == {"small", "large"}
        assert all(0 < p50 <= p95 for p50, p95 in ms.values())
    assert result.ratio == max(result.ratio_of(p) for p in scale.PAGES) > 0


def test_authority_inbox_caps_the_closed_history_count(db, monkeypatch):
    import web.authority
    from bench import scale

    g = scale.generate(db, 600)
    site = scale._Site(db, g, str(db.engine.url.database).rsplit("/", 1)[0], seed=1)
    monkeypatch.setattr(web.authority, "CLOSED_COUNT_CAP", 3)
    html = site._client(g.officers[0]).get("/authority/?tab=done").get_data(as_text=True)
    assert '3+</span>' in html  # far more than three closed cases per authority
    monkeypatch.setattr(web.authority, "CLOSED_COUNT_CAP", 10_000)
    html = site._client(g.officers[0]).get("/authority/?tab=done").get_data(as_text=True)
    assert '+</span>' not in html


def test_scale_and_http_scenarios_report_their_keys():
    from dataclasses import replace

    from bench import run

    sizes = replace(run.QUICK, scale_small=300, scale_large=900, scale_samples=10, http_rounds=1,
                    http_seconds=0.5)
    report = run.Report(quick=True)
    run.scenario_scale(report, sizes)
    run.scenario_http(report, sizes)
    for key in ("status_p95_ratio_1m_vs_10k", "scale_case_p95_ratio", "scale_inbox_p95_ratio",
                "scale_history_p95_ratio", "scale_generate_s",
                "http_status_vs_floor", "http_rps_case_page", "http_rps_floor"):
        assert isinstance(report.out[key], float) and report.out[key] > 0, key
    assert any(name.startswith("http") for name, _, _ in report.rows)
    assert not any("not measured" in result for _, _, result in report.rows)


def test_floor_app_reads_one_case(db):
    from bench import http, scale

    scale.generate(db, 20)
    app = http.floor_app(db.engine.url.render_as_string(hide_password=False))
    client = app.test_client()
    with db.read() as conn:
        from sqlalchemy import text

        case_id, reference = conn.execute(text("SELECT id, reference FROM case_file LIMIT 1")).one()
    response = client.get(f"/floor/{case_id}")
    assert response.status_code == 200 and reference in response.get_data(as_text=True)
    assert client.get("/floor/999999").status_code == 404
