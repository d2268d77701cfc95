"""The README's "Walk a case through the demo", followed in a real browser from the demo's printed logins.

The demo is started as the README's Quick start starts it (``python3 dev.py demo`` runs ``titlereview demo``),
in a temporary directory, so its ``instance/`` — database, uploads, ballot-key share files — is a throw-away
one. The logins are read from what the command printed; every step below mirrors the README step of the same
number, taking from the README's text the login that acts, the buttons it names, the ``titlereview tick``
command that lets time pass (run as written, in the demo's directory) and the key-share files. A step that
the README describes wrongly, or a login the printed table lacks, fails the test.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from livehelpers import Person
from pdfs import make_pdf

README = Path(__file__).resolve().parents[2] / "README.md"
TITLEREVIEW = Path(sys.executable).with_name("titlereview")
"""The console script of the environment running the tests (what ``.venv/bin/titlereview`` is)."""

STARTUP_LIMIT_S = 600
"""How long the demo may take to build its database and start serving before the test gives up."""


# --------------------------------------------------------------------------------------------- the README


@dataclass(frozen=True)
class Walkthrough:
    """The README section's numbered steps (number → text, continuation lines joined)."""

    steps: dict[int, str]

    @classmethod
    def read(cls) -> Walkthrough:
        """Parse the section "Walk a case through the demo" out of README.md."""
        text = README.read_text(encoding="utf-8")
        match = re.search(r"^## Walk a case through the demo\n(.*?)(?=^## )", text, re.M | re.S)
        assert match, "README.md has no section 'Walk a case through the demo'"
        steps: dict[int, str] = {}
        current = None
        for line in match.group(1).splitlines():
            numbered = re.match(r"^(\d+)\. (.*)$", line)
            if numbered:
                current = int(numbered.group(1))
                steps[current] = numbered.group(2)
            elif current is not None and line.startswith("   "):
                steps[current] += " " + line.strip()
        assert list(steps) == list(range(1, len(steps) + 1)), f"README steps are not numbered 1..n: {list(steps)}"
        return cls(steps)

    def login(self, n: int) -> str:
        """The login step ``n`` starts with (its first `code` word)."""
        match = re.match(r"`([a-z0-9_]+)`", self.steps[n])
        assert match, f"README step {n} does not start with a login: {self.steps[n]!r}"
        return match.group(1)

    def says(self, n: int, words: str) -> str:
        """``words`` (a button, a field), checked to be what README step ``n`` tells the reader to use."""
        assert words in self.steps[n], f"README step {n} does not mention {words!r}: {self.steps[n]!r}"
        return words

    def tick_command(self, n: int) -> list[str]:
        """The ``titlereview tick`` command step ``n`` gives, as an argument list."""
        match = re.search(r"`(\.venv/bin/titlereview tick[^`]*)`", self.steps[n])
        assert match, f"README step {n} gives no `.venv/bin/titlereview tick ...` command"
        return shlex.split(match.group(1))

    def share_files(self, n: int) -> tuple[str, str]:
        """The chair's (A) and the officer's (B) key-share files step ``n`` names, relative to the checkout."""
        files = re.findall(r"`(instance/demo-ballot-shares/[^`]+)`", self.steps[n])
        chair = [f for f in files if "share-A" in f]
        officer = [f for f in files if "share-B" in f]
        assert len(chair) == 1 and len(officer) == 1, f"README step {n} should name share files A and B: {files}"
        return chair[0], officer[0]


# --------------------------------------------------------------------------------------------- the demo


@dataclass(frozen=True)
class PrintedRow:
    """One row of the printed login table, its continuation lines joined."""

    role: str
    accounts: list[tuple[str, str]]
    description: str


@dataclass
class Demo:
    """The running demo: its directory (the checkout it thinks it runs in), URL, and printed logins."""

    directory: Path
    url: str
    password: str
    rows: list[PrintedRow]

    @property
    def names(self) -> dict[str, str]:
        """username → the person's name, as the table prints them."""
        return {u: n for row in self.rows for u, n in row.accounts}

    def run(self, command: list[str]) -> str:
        """Run a README command in the demo's directory (``.venv/bin/titlereview`` is this environment's)."""
        assert command[0] == ".venv/bin/titlereview", command
        done = subprocess.run([str(TITLEREVIEW), *command[1:]], cwd=self.directory, env=_demo_env(),
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def username_of(self, name: str) -> str:
        """The login of the person the pages call ``name``, looked up in the printed table."""
        found = [u for u, n in self.names.items() if n == name]
        assert len(found) == 1, f"the login table has {len(found)} accounts named {name}"
        return found[0]

    def row_of(self, username: str) -> PrintedRow:
        """The table row listing ``username``."""
        return next(row for row in self.rows if username in dict(row.accounts))


def _demo_env() -> dict[str, str]:
    # The demo must use its own directory's instance/, whatever the person running the tests has configured.
    return {k: v for k, v in os.environ.items() if not k.startswith("TITLEREVIEW_")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_login_table(output: str) -> tuple[str, list[PrintedRow]]:
    """The password and the rows of the table ``titlereview demo`` printed (role │ accounts │ what for)."""
    from seed.demo import LOGIN_TABLE_SEPARATOR

    heading = re.search(r"演示账号（密码均为 (\S+)）", output)
    assert heading, f"no login table in the demo's output:\n{output}"
    rows: list[PrintedRow] = []
    role = ""
    lines = output[heading.start():].splitlines()
    for line in lines[3:]:  # after the heading, the column titles and the rule
        cells = [cell.strip() for cell in line.split(LOGIN_TABLE_SEPARATOR.strip())]
        if len(cells) != 3:
            break  # the table ends
        accounts = re.findall(r"([A-Za-z0-9_]+)（([^）]+)）", cells[1])
        if not cells[0] and not cells[2] and rows:  # more accounts of the row above
            rows[-1].accounts.extend(accounts)
            continue
        role = cells[0] or role  # a row of the same role as the one above leaves it empty
        rows.append(PrintedRow(role, accounts, cells[2]))
    assert rows, f"the login table has no rows:\n{output}"
    return heading.group(1), rows


@pytest.fixture(scope="module")
def demo(tmp_path_factory, chromium_path) -> Iterator[Demo]:
    """``titlereview demo --port N`` (what ``python3 dev.py demo`` runs) in a temporary directory, until the
    module ends; yields once it serves."""
    quick_start = re.search(r"^## Quick start\n+```\n(.*?)\n", README.read_text(encoding="utf-8"), re.M)
    assert quick_start and quick_start.group(1) == "python3 dev.py demo", "the README starts the demo differently"
    directory = tmp_path_factory.mktemp("demo-checkout")
    port = _free_port()
    log = directory / "demo-output.txt"
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen([str(TITLEREVIEW), "demo", "--port", str(port)], cwd=directory, env=_demo_env(),
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(process, url, log)
        password, rows = parse_login_table(log.read_text(encoding="utf-8"))
        yield Demo(directory, url, password, rows)
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # gunicorn's master and its worker, started above
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _wait_until_serving(process: subprocess.Popen, url: str, log: Path) -> None:
    """Block until the demo answers on ``url``; fail with its output when it exits or takes too long."""
    started = time.monotonic()
    while time.monotonic() - started < STARTUP_LIMIT_S:
        if process.poll() is not None:
            pytest.fail(f"titlereview demo exited with {process.returncode}:\n{log.read_text(encoding='utf-8')}")
        if "titlereview demo: http://" in log.read_text(encoding="utf-8"):
            try:
                with urllib.request.urlopen(url + "/", timeout=10) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass  # gunicorn is still binding
        with contextlib.suppress(subprocess.TimeoutExpired):  # a pause that ends early if the demo exits
            process.wait(timeout=0.5)
    pytest.fail(f"titlereview demo did not serve within {STARTUP_LIMIT_S} s:\n{log.read_text(encoding='utf-8')}")


# --------------------------------------------------------------------------------------------- people


class Visitor(Person):
    """A person in their own browser context, signed in with the demo's password (or anonymous)."""

    def __init__(self, chromium, demo: Demo, username: str | None, shots) -> None:
        super().__init__(chromium, demo.url, None, shots, prefix="demo-walk-")
        self.username = username
        if username:
            assert username in demo.names, f"{username} is not in the printed login table"
            self.go("/login")
            self.page.fill("#username", username)
            self.page.fill("#password", demo.password)
            self.page.locator("main form", has=self.page.locator("#username")).locator("button[type=submit]").click()
            self.page.wait_for_load_state()
            assert "/login" not in self.page.url, f"{username} could not sign in with the printed password"
            self.check()

    def press(self, label: str, **fields: str) -> None:
        """On the page shown, fill the fields of the form whose button says ``label`` and press it."""
        button = self.page.get_by_role("button", name=label, exact=True)
        assert button.count() == 1, f"{self.username}: {button.count()} buttons named {label!r} on {self.page.url}"
        form = self.page.locator("form", has=button)
        for name, value in fields.items():
            form.locator(f"[name={name}]").fill(value)
        button.click()
        self.page.wait_for_load_state()
        assert self.page.locator("#action-error").count() == 0, self.page.locator("#action-error").inner_text()
        self.check()


@pytest.fixture(scope="module")
def visitors(chromium, demo, screenshot_dir):
    """``visitors("zhigui_hr")``: that demo account signed in, one browser context each (None: anonymous)."""
    made: dict[str | None, Visitor] = {}

    def get(username: str | None) -> Visitor:
        if username not in made:
            made[username] = Visitor(chromium, demo, username, screenshot_dir)
        return made[username]

    yield get
    for visitor in made.values():
        visitor.close()


def _fired(tick_output: str) -> int:
    """How many deadlines ``titlereview tick`` says it fired."""
    match = re.search(r"\bfired (\d+)", tick_output)
    assert match, tick_output
    return int(match.group(1))


# --------------------------------------------------------------------------------------------- the vote


def committee_vote(readme: Walkthrough, demo: Demo, visitors, case_path: str) -> None:
    """README steps 9-11: the chair sends the case to the vote and opens the ballot, every present member
    votes, the chair counts with both key shares. One function, so that ballot sheets replacing the
    case-by-case vote change only this."""
    chair_login = readme.login(9)
    chair = visitors(chair_login)
    chair.go(case_path)
    chair.press(readme.says(9, "评议完成，提交表决"))
    chair.press(readme.says(9, "开始无记名投票"))

    # Step 10: the chair and the experts the table lists as present on the chair's committee (its row says
    # which committee); the member step 9 names as absent is on the table's absent row.
    committee = demo.row_of(chair_login).description.split("（")[0]
    present = [u for row in demo.rows if row.description.startswith(f"{committee}委员，已登记出席")
               for u, _ in row.accounts]
    for absent in re.findall(r"`([a-z0-9_]+)`", readme.steps[9])[1:]:
        assert "缺席" in demo.row_of(absent).description and absent not in present
    readme.says(10, f"`{chair_login}` and the six present experts")
    voters = [chair_login, *present]
    assert len(present) == 6, present
    for username in voters:
        member = visitors(username)
        member.go(case_path)
        member.page.locator("#vote-form").get_by_label(readme.says(10, "同意"), exact=True).check()
        member.press(readme.says(10, "投票"))
        assert "投票成功" in member.page.content(), username

    # Step 11: the close leads to a confirmation page with the counts; there both halves of the key, A pasted
    # as text, B chosen as a file, and the confirmation box.
    chair.go(case_path)
    chair.press(readme.says(11, "结束投票并计票…"))
    assert readme.says(11, "已投 7 / 出席 7") in chair.page.locator("#close-table").inner_text()
    close = readme.says(11, "结束以上 1 件的投票并计票")
    form = chair.page.locator("form", has=chair.page.get_by_role("button", name=close, exact=True))
    share_a, share_b = readme.share_files(11)
    form.get_by_label(readme.says(11, "主任委员的份额（A）"), exact=True).fill(
        (demo.directory / share_a).read_text(encoding="utf-8").strip())
    officer_label = readme.says(11, "经办人的份额（B）")
    form.locator("input[type=file]").and_(form.get_by_label(officer_label)).set_input_files(
        str(demo.directory / share_b))
    readme.says(11, "Tick the confirmation box")
    form.get_by_role("checkbox").check()
    chair.press(close)
    assert chair.page.locator("#close-error").count() == 0, chair.page.locator("#close-error").inner_text()
    assert "通过" in chair.page.locator("#tally-table").inner_text()


# --------------------------------------------------------------------------------------------- the walk


def test_the_readme_walkthrough_ends_in_a_verified_certificate(demo, visitors, tmp_path):
    readme = Walkthrough.read()
    assert len(readme.steps) == 14, list(readme.steps)
    # The demo's login page offers every printed account to switch to (demo mode, which the command sets).
    anonymous = visitors(None)
    anonymous.go("/login")
    offered = anonymous.page.locator("#demo-switch button[data-username]")
    assert {offered.nth(i).get_attribute("data-username") for i in range(offered.count())} == set(demo.names)

    # 1. The applicant opens the draft, uploads a PDF for every required material and submits.
    applicant = visitors(readme.login(1))
    applicant.go("/applicant/")
    assert readme.says(1, "我的申报") in applicant.page.locator("h1").inner_text()
    applicant.page.locator("tr", has_text=readme.says(1, "草稿")).get_by_role("link").first.click()
    applicant.page.wait_for_load_state()
    case_path = urlsplit(applicant.page.url).path
    assert re.fullmatch(r"/cases/\d+", case_path), applicant.page.url
    pdf = tmp_path / "申报材料.pdf"
    pdf.write_bytes(make_pdf())
    required = applicant.page.locator("#category option", has_text=readme.says(1, "必需"))
    for code in [required.nth(i).get_attribute("value") for i in range(required.count())]:
        applicant.page.select_option("#category", code)
        applicant.page.set_input_files("#file", str(pdf))
        applicant.press("上传")
    applicant.press(readme.says(1, "提交申报"))
    applicant.shot("1-submitted")

    # 2. The unit's HR starts the unit notice.
    unit = visitors(readme.login(2))
    unit.go(case_path)
    unit.press(readme.says(2, "审核通过，开始单位公示"))

    # 3. Five working days pass.
    assert _fired(demo.run(readme.tick_command(3))) >= 1  # the unit notice's end, at least

    # 4. The unit recommends, with a comment.
    assert readme.login(4) == unit.username
    unit.go(case_path)
    unit.press(readme.says(4, "考核推荐"), comment="经考核，该同志业绩突出，同意推荐。")

    # 5. The superior department approves.
    superior = visitors(readme.login(5))
    superior.go(case_path)
    superior.press(readme.says(5, "审核通过"))

    # 6. The authority's officer accepts and confirms eligibility.
    officer = visitors(readme.login(6))
    officer.go(case_path)
    officer.press(readme.says(6, "受理"))
    officer.press(readme.says(6, "资格复核通过"))

    # 7. The chair draws the review group; the page names it.
    chair = visitors(readme.login(7))
    chair.go(case_path)
    chair.press(readme.says(7, "随机抽取评议专家"))
    chair.go(case_path)
    heading = chair.page.locator("span", has_text=re.compile(rf"^{readme.says(7, '本轮评议组')}："))
    assert heading.count() == 1, "the case page does not name the review group"
    named = chair.page.locator("p", has=heading).inner_text().split("：", 1)[1]
    reviewers = [demo.username_of(name.strip()) for name in named.split("、")]
    assert len(reviewers) == 3, named

    # 8. Each reviewer gives a favourable opinion.
    for username in reviewers:
        reviewer = visitors(username)
        reviewer.go(case_path)
        form = reviewer.page.locator("#opinion-form")
        for score in form.locator("input[type=number]").all():
            score.fill("88")
        form.get_by_label(readme.says(8, "同意"), exact=True).check()
        form.locator("textarea").fill("业绩成果突出，代表作质量较高，同意推荐。")
        reviewer.press(readme.says(8, "提交评议意见"))

    # 9-11. The vote and the count.
    committee_vote(readme, demo, visitors, case_path)
    anonymous.go("/")
    anonymous.page.get_by_role("link", name=readme.says(11, "评审结果公示"), exact=True).click()
    anonymous.page.wait_for_load_state()
    assert demo.names[applicant.username] in anonymous.page.content()

    # 12. The result notice's five working days pass.
    assert _fired(demo.run(readme.tick_command(12))) >= 1  # the result notice's end, at least

    # 13. The officer files the result and issues the certificate; the case page shows its number.
    assert readme.login(13) == officer.username
    officer.go(case_path)
    officer.press(readme.says(13, "确认备案"))
    officer.press(readme.says(13, "发放电子证书"))
    number = officer.page.locator(f"dt:text-is('{readme.says(13, '证书编号')}') + dd").first.inner_text().strip()
    assert number

    # 14. An anonymous visitor verifies it.
    assert readme.steps[14].startswith("Anyone, signed out")
    anonymous.go("/")
    anonymous.page.get_by_role("link", name=readme.says(14, "证书查验"), exact=True).click()
    anonymous.page.wait_for_load_state()
    anonymous.page.fill("#number", number)
    anonymous.press("查验")
    assert readme.says(14, "证书有效") in anonymous.page.locator("[data-result=valid]").inner_text()
    anonymous.shot("14-verified")
