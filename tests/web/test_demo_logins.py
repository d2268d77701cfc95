"""The demo's logins: the printed table names everyone a case needs, and the login page's switch list exists in
demo mode only (issue 17, item 6)."""

from __future__ import annotations

import re

from click.testing import CliRunner
from sqlalchemy import select
from webhelpers import Browser, make_app

from seed.demo import (
    DEMO_PASSWORD,
    LOGIN_TABLE_SEPARATOR,
    demo_login_table,
    demo_logins,
    display_width,
    format_login_table,
)
from workflow.models import Attendance, CommitteeSeat, User


def _seated(db) -> dict[str, bool]:
    """Every seated committee member's username → registered present at the sitting."""
    seat, user, att = CommitteeSeat.__table__, User.__table__, Attendance.__table__
    with db.read() as conn:
        rows = conn.execute(select(user.c.username, seat.c.session_id, seat.c.user_id)
                            .join(user, user.c.id == seat.c.user_id)).all()
        present = {tuple(row) for row in conn.execute(select(att.c.session_id, att.c.user_id))}
    return {username: (session_id, user_id) in present for username, session_id, user_id in rows}


def test_the_table_names_every_committee_member_and_who_is_absent(demo_db):
    rows = demo_login_table()
    listed = {username: row for row in rows for username, _ in row.accounts}
    seated = _seated(demo_db)
    assert len(seated) == 15 and set(seated) <= set(listed)
    for username, present in seated.items():
        assert ("已登记缺席" in listed[username].description) is not present, username
    # everyone with a story of their own is there too, once
    assert {login.username for login in demo_logins()} <= set(listed)
    assert len(listed) == sum(len(row.accounts) for row in rows)
    with demo_db.read() as conn:
        names = dict(conn.execute(select(User.__table__.c.username, User.__table__.c.display_name)).all())
    assert all(names[username] == name for row in rows for username, name in row.accounts)


def test_the_printed_table_is_aligned_and_says_the_password_once():
    lines = format_login_table(demo_login_table())
    assert lines[0].count(DEMO_PASSWORD) == 2 and all(DEMO_PASSWORD not in line for line in lines[1:])
    table = [line.split(LOGIN_TABLE_SEPARATOR) for line in lines[3:]]
    assert all(len(cells) >= 2 for cells in table)
    assert len({display_width(cells[0]) for cells in table}) == 1  # the columns start at the same place
    assert len({display_width(cells[1]) for cells in table if len(cells) == 3}) == 1
    # a role is said once per group: the second applicant's row leaves it empty
    roles = [cells[0].strip() for cells in table]
    assert roles.count("申报人") == 1 and roles[1] == ""
    # the six present members of a committee wrap over two lines, three accounts each
    experts = [cells[1] for cells in table if "expert_li（李卫东）" in cells[1] or "expert_liu（刘建平）" in cells[1]]
    assert [len(re.findall(r"（", cells)) for cells in experts] == [3, 3]


def _switch_forms(page: str) -> dict[str, dict[str, str]]:
    """The switch list's forms: username → the fields it posts."""
    section = re.search(r'<section[^>]*id="demo-switch".*?</section>', page, re.S)
    if section is None:
        return {}
    forms = {}
    for form in re.findall(r"<form.*?</form>", section.group(0), re.S):
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
        forms[fields["username"]] = fields
    return forms


def _signed_in_as(browser: Browser) -> str:
    return browser.get("/account").get_data(as_text=True)


def test_outside_demo_mode_the_login_page_lists_no_accounts(demo_db, tmp_path):
    app = make_app(demo_db, tmp_path)  # what `titlereview serve` builds on the very same data
    browser = Browser(app.test_client(), DEMO_PASSWORD)
    page = browser.get("/login").get_data(as_text=True)
    assert _switch_forms(page) == {} and 'id="demo-switch"' not in page and DEMO_PASSWORD not in page
    browser.login("expert_li")
    response = browser.get("/login")
    assert response.status_code == 302  # a signed-in person is sent home, as always
    assert "切换演示账号" not in browser.get("/account").get_data(as_text=True)


def test_demo_mode_on_other_data_lists_no_accounts(cast_db, tmp_path):
    app = make_app(cast_db, tmp_path, DEMO_MODE=True)
    page = app.test_client().get("/login").get_data(as_text=True)
    assert _switch_forms(page) == {} and DEMO_PASSWORD not in page


def test_in_demo_mode_one_click_signs_in_as_any_member(demo_db, tmp_path):
    app = make_app(demo_db, tmp_path, DEMO_MODE=True)
    browser = Browser(app.test_client(), DEMO_PASSWORD)
    forms = _switch_forms(browser.get("/login").get_data(as_text=True))
    assert set(_seated(demo_db)) <= set(forms)
    assert all(fields["password"] == DEMO_PASSWORD for fields in forms.values())

    response = browser.post("/login", data=forms["expert_he"])
    assert response.status_code == 303
    account = _signed_in_as(browser)
    assert "何静" in account and "切换演示账号" in account

    # signed in, the login page still lists the accounts, and the next click switches
    again = browser.get("/login")
    assert again.status_code == 200
    response = browser.post("/login", data=_switch_forms(again.get_data(as_text=True))["chair_zhou"])
    assert response.status_code == 303 and "周建国" in _signed_in_as(browser)


def test_only_the_demo_command_serves_in_demo_mode(monkeypatch, tmp_path):
    from gunicorn.app.base import BaseApplication

    from web import cli

    served = []
    monkeypatch.setattr(BaseApplication, "run", lambda self: served.append(self.load().config.get("DEMO_MODE")))
    monkeypatch.setenv("TITLEREVIEW_INSTANCE_PATH", str(tmp_path / "instance"))
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    result = CliRunner().invoke(cli.main, ["--database-url", url, "serve", "--bind", "127.0.0.1:0"])
    assert result.exit_code == 0, result.output
    cli._serve(url, "127.0.0.1:0", workers=1, threads=1, demo=True)  # what `titlereview demo` calls
    assert served == [None, True]
