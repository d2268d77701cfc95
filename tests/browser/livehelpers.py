"""What the browser tests share: Chromium's flags, the password, a signed-in person, the live cast as a World."""

from __future__ import annotations

from driver import _SHARES, remember_shares
from sqlalchemy import select

from seed.cast import World, read_world
from workflow.models import Case
from workflow.panel.ballot_keys import BallotShares

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
"""Flags for Debian's Chromium as root in a container, without background traffic (there is no internet)."""

PASSWORD = "pw-browser-2026"
"""The password of every account in the browser tests' database."""


class Person:
    """A person with their own browser context, signed in as ``username`` unless None.

    Any console error (a CSP violation, a broken asset, a script error) fails the test at the next check.
    Screenshots go to ``shots`` as ``<prefix><name>.png``.
    """

    def __init__(self, chromium, base: str, username: str | None, shots, prefix: str = "") -> None:
        self.context = chromium.new_context(locale="zh-CN", viewport={"width": 1360, "height": 900})
        self.page = self.context.new_page()
        self.base, self.username, self.shots, self.prefix = base, username, shots, prefix
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        if username:
            self.go("/login")
            self.page.fill("#username", username)
            self.page.fill("#password", PASSWORD)
            self.page.click("main form button[type=submit]")
            assert "/login" not in self.page.url, f"{username} could not sign in"

    def go(self, path: str):
        """Open a page of the site and check it rendered (200) without errors; returns the response."""
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        self.check()
        return response

    def click(self, selector: str) -> None:
        """Click and wait for the next page."""
        self.page.click(selector)
        self.page.wait_for_load_state()
        self.check()

    def act(self, case_id: int, trigger: str, **fields: str) -> None:
        """Open the case, fill the action's form and press its button (danger actions are folded)."""
        self.go(f"/cases/{case_id}")
        form = self.page.locator(f"#action-{trigger}")
        folded = self.page.locator(f"details:has(#action-{trigger}) > summary")
        if folded.count():
            folded.click()
        for name, value in fields.items():
            field = form.locator(f"[name={name}]")
            if field.first.get_attribute("type") == "radio":
                form.locator(f"[name={name}][value='{value}']").check()
            else:
                field.fill(value)
        form.locator("button[type=submit]").click()
        self.page.wait_for_load_state()
        assert self.page.locator("#action-error").count() == 0, self.page.locator("#action-error").inner_text()
        self.check()

    def upload_required(self, db, case_id: int, folder, content: bytes) -> list[str]:
        """As the applicant: upload ``content`` (a PDF) once for every material the case's pipeline requires, through
        the case page's upload form, the way a person would before submitting; return the file names."""
        from workflow.pipeline.catalog import get_pipeline

        with db.read() as conn:
            case = conn.execute(select(Case.__table__).where(Case.__table__.c.id == case_id)).mappings().one()
        names = []
        for material in get_pipeline(db, case["pipeline_id"], case["pipeline_version"]).required_materials:
            path = folder / f"{material.label.zh}.pdf"
            path.write_bytes(content)
            self.go(f"/cases/{case_id}")
            self.page.select_option("#category", material.code)
            self.page.set_input_files("#file", str(path))
            self.click("#upload-form button[type=submit]")
            assert path.name in self.page.content(), f"{path.name} was not uploaded"
            names.append(path.name)
        return names

    def give_opinion(self, case_id: int, text: str = "业绩突出，同意推荐。") -> None:
        """As an assigned reviewer: open the case and submit a favourable pre-review opinion."""
        self.go(f"/cases/{case_id}")
        form = self.page.locator("#opinion-form")
        form.locator("#score-achievement").fill("90")
        form.locator("#rec-yes").check()
        form.locator("#opinion-text").fill(text)
        form.locator("button[type=submit]").click()
        self.page.wait_for_load_state()
        self.check()

    def check(self) -> None:
        """No console errors so far."""
        assert not self.errors, self.errors

    def shot(self, name: str) -> None:
        """Save a full-page screenshot."""
        self.page.screenshot(path=str(self.shots / f"{self.prefix}{name}.png"), full_page=True)

    def close(self) -> None:
        """Close the context."""
        self.context.close()


def read_key_shares(person: Person, db, session_id: int) -> BallotShares:
    """Both key shares off the page shown once when the sitting opened, kept as their holders would keep them
    (:func:`driver.remember_shares`) for the closes later in the run."""
    shares = BallotShares(person.page.locator("#share-chair pre").text_content().strip(),
                          person.page.locator("#share-officer pre").text_content().strip())
    assert shares.chair.startswith("TRBK1-A-") and shares.officer.startswith("TRBK1-B-")
    remember_shares(db, session_id, shares)
    return shares


def close_ballot_confirmed(person: Person, db, session_id: int, case_id: int, *,
                           officer_file: str | None = None) -> str:
    """From the sitting page (shown), close the case's ballot as the chair does: its close button leads to the
    confirmation page, which shows "已投 n / 出席 m"; there both key shares go in (the officer's typed, or as
    ``officer_file``), the confirmation is ticked and the close is pressed. Returns the progress text read."""
    page = person.page
    page.click(f"form[action='/panel/sessions/{session_id}/ballots/close']:has(input[name=case][value='{case_id}'])"
               " button")
    page.wait_for_load_state()
    person.check()
    progress = page.locator(f"#close-{case_id} .progress-count").inner_text()
    assert "已投" in progress and "出席" in progress, progress
    shares = _SHARES[(str(db.url), session_id)]
    page.fill("#batch-chair-share", shares.chair)
    if officer_file:
        page.set_input_files("#batch-officer-file", officer_file)
    else:
        page.fill("#batch-officer-share", shares.officer)
    page.check("#close-confirm")
    page.click("#close-form button[type=submit]")
    page.wait_for_load_state()
    person.check()
    assert page.locator("#close-error").count() == 0, page.locator("#close-error").inner_text()
    assert page.locator(f"#tally-{case_id}").count() == 1, page.content()[-2000:]
    return progress


def live_world(db) -> World:
    """The test cast in the live database as a :class:`World` (for the driver that prepares cases)."""
    return read_world(db)


def case_state(db, case_id: int) -> str:
    """The case's state as stored."""
    with db.read() as conn:
        return conn.execute(select(Case.__table__.c.state).where(Case.__table__.c.id == case_id)).scalar_one()
