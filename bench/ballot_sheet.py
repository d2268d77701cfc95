"""Scenario "ballot sheet": a member's sheet of 100 open cases — the page, and the submission of all 100
choices — against the floor page.

The cast's sitting is opened (with a committee key of the configured size: 2048 bits unless
``TITLEREVIEW_BALLOT_KEY_BITS`` says otherwise), every member recorded present, ``cases`` cases brought to the
vote through the engine and their ballots opened by the chair in one batch (untimed set-up). Then, through the
real Flask views in this process (the app's test client, signed in through the real form):

* **page**: ``GET /panel/sessions/<id>/sheet`` — the sheet with every case, its pre-review opinions and its
  three choices — timed ``samples`` times, each interleaved with a request for the floor page
  (:func:`bench.http.floor_app`, one SELECT of a case row, served in-process the same way);
* **submit**: each of the seated members in turn posts the whole sheet (every case marked), which encrypts
  100 ballots (three Paillier ciphertexts each) and casts them in one transaction; each is interleaved with a
  floor request. A submission can only happen once per member, so the samples are the members.

Ratios are the floor's median time over the page's (as ``http_status_vs_floor`` is the page's throughput
over the floor's): 1.0 would be as cheap as the floor, smaller is slower. In-process on both sides, so the
server, the network and the load generator are left out of both.
"""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass

from sqlalchemy import update

from workflow.access.passwords import hash_password
from workflow.db import Database
from workflow.models import User
from workflow.panel import agenda as sitting_agenda
from workflow.panel import ballot_sheet

from .http import floor_app
from .transitions import HAPPY_PATH, EngineSide, _prepare_world

PASSWORD = "bench-sheet-2026"


@dataclass
class SheetResult:
    """Median milliseconds of the sheet page, a whole submission and the floor page, and their ratios."""

    cases: int
    page_samples: int
    submissions: int
    page_ms: float
    submit_ms: float
    floor_ms: float
    page_bytes: int
    database: str

    @property
    def page_ratio(self) -> float:
        """Floor time over the sheet page's time."""
        return self.floor_ms / self.page_ms

    @property
    def submit_ratio(self) -> float:
        """Floor time over a whole sheet submission's time."""
        return self.floor_ms / self.submit_ms


def _sitting_at_vote(db: Database, cases: int):
    """The cast with its sitting open, everyone present, ``cases`` cases at the vote with open ballots."""
    world = _prepare_world(db)
    side = EngineSide(db, world)
    ids = side.open(cases)
    for trigger in HAPPY_PATH[:HAPPY_PATH.index("open_ballot")]:
        for case_id in ids:
            side.step(case_id, trigger)
    opened = sitting_agenda.open_ballots(db, world.session_id, world.chair)
    if len(opened.done) != cases:
        raise RuntimeError(f"opened {len(opened.done)} of {cases} ballots: {opened.refused[:3]}")
    with db.write() as conn:
        conn.execute(update(User.__table__).values(password_hash=hash_password(PASSWORD)))
    return world, ids


def _signed_in(app, username: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    if response.status_code != 303:
        raise RuntimeError(f"sign-in as {username} answered {response.status_code}")
    return client


def _usernames(db: Database, ids: list[int]) -> dict[int, str]:
    from sqlalchemy import select

    table = User.__table__
    with db.read() as conn:
        return dict(conn.execute(select(table.c.id, table.c.username).where(table.c.id.in_(ids))).all())


def run(db: Database, cases: int = 100, samples: int = 20, submissions: int | None = None) -> SheetResult:
    """Measure the sheet page and whole-sheet submissions of ``cases`` cases against the floor page."""
    import tempfile

    from web import create_app

    world, ids = _sitting_at_vote(db, cases)
    voters = [world.chair, *world.members][:submissions]
    names = _usernames(db, [v.user_id for v in voters])
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"DATABASE": db, "DATABASE_URL": db.url, "INSTANCE_PATH": instance,
                          "SECRET_KEY": "bench-sheet", "TESTING": True, "WTF_CSRF_ENABLED": False})
        floor = floor_app(db.engine.url.render_as_string(hide_password=False)).test_client()
        floor_path = f"/floor/{ids[0]}"
        sheet_path = f"/panel/sessions/{world.session_id}/sheet"
        clients = {v.user_id: _signed_in(app, names[v.user_id]) for v in voters}
        reader = clients[voters[-1].user_id]
        floor.get(floor_path)
        html = reader.get(sheet_path).get_data(as_text=True)  # warm-up: templates compiled, caches filled
        shown = [int(x) for x in re.findall(r'name="case" value="(\d+)"', html)]
        if sorted(shown) != sorted(ids):
            raise RuntimeError(f"the sheet shows {len(shown)} of {cases} cases")
        page, floor_times = [], []
        for _ in range(samples):
            page.append(_timed(lambda: reader.get(sheet_path), 200))
            floor_times.append(_timed(lambda: floor.get(floor_path), 200))
        submit = []
        for i, voter in enumerate(voters):
            form = {"case": [str(c) for c in ids],
                    **{f"choice-{c}": ("yes", "no", "abstain")[(c + i) % 3] for c in ids}}
            client = clients[voter.user_id]
            submit.append(_timed(lambda client=client, form=form: client.post(sheet_path, data=form), 303))
            floor_times.append(_timed(lambda: floor.get(floor_path), 200))
        left = ballot_sheet.ballot_sheet(db, world.session_id, voters[0])
        if left.entries or len(left.voted) != cases:
            raise RuntimeError("a submitted sheet did not cast every ballot")
    return SheetResult(cases=cases, page_samples=samples, submissions=len(voters),
                       page_ms=statistics.median(page), submit_ms=statistics.median(submit),
                       floor_ms=statistics.median(floor_times), page_bytes=len(html.encode()),
                       database=db.engine.dialect.name)


def _timed(request, status: int) -> float:
    """Milliseconds one request took; any other status than ``status`` stops the benchmark."""
    t0 = time.perf_counter()
    response = request()
    elapsed = (time.perf_counter() - t0) * 1000
    if response.status_code != status:
        raise RuntimeError(f"answered {response.status_code}, expected {status}")
    return elapsed
