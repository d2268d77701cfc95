"""What screen readers need from the pages (issue 18, item 3), read from the HTML the server sends: the page
language, announced outcomes and refusals, errors tied to their fields, tables with captions and headers, the
inbox tabs as navigation, the flow diagram in words, and where to report a problem.

axe-core checks the rendered pages in the browser tests (tests/browser/axe_audit.py); these tests pin the
markup those checks and assistive technology rely on, without a browser.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from driver import advance
from webhelpers import PASSWORD, make_app, open_case, user_id

from workflow.models import Case
from workflow.pipeline.catalog import get_pipeline


class Element:
    """A parsed element: its tag, attributes, children and text (enough to ask about structure)."""

    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Element | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element] = []
        self.parts: list[str] = []

    def text(self) -> str:
        """All the text inside, children included, whitespace collapsed."""
        return " ".join("".join(self._texts()).split())

    def _texts(self):
        yield from self.parts
        for child in self.children:
            yield from child._texts()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Descendants with this tag (any when None) and these exact attribute values."""
        found = []
        for child in self.children:
            if (tag is None or child.tag == tag) and all(child.attrs.get(k.replace("_", "-")) == v
                                                         for k, v in attrs.items()):
                found.append(child)
            found.extend(child.find_all(tag, **attrs))
        return found


class _Tree(HTMLParser):
    """Builds the :class:`Element` tree; void elements (input, img, …) never hold children."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                      "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs), self.current)
        self.current.children.append(element)
        if tag not in self.VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Element(tag, dict(attrs), self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.parts.append(data)


def parse(html: str) -> Element:
    """The page as a tree of :class:`Element`."""
    tree = _Tree()
    tree.feed(html)
    return tree.root


def page(client, url: str) -> Element:
    """GET ``url`` (200 expected) and parse it."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return parse(response.get_data(as_text=True))


def assert_tables_are_described(doc: Element, where: str) -> int:
    """Every table has a caption with text, and every header cell has text (visually hidden or not);
    returns how many tables there were."""
    tables = doc.find_all("table")
    for table in tables:
        captions = [c for c in table.children if c.tag == "caption"]
        assert len(captions) == 1 and captions[0].text(), (where, "a table without a caption")
        for th in table.find_all("th"):
            assert th.text(), (where, "an empty table header", captions[0].text())
    return len(tables)


def test_the_page_language_is_zh_cn_by_default_and_en_after_switching(browser):
    visitor = browser()
    assert page(visitor.client, "/").find_all("html")[0].attrs["lang"] == "zh-CN"
    visitor.get("/lang/en?next=/")
    assert page(visitor.client, "/").find_all("html")[0].attrs["lang"] == "en"
    assert page(visitor.client, "/login").find_all("html")[0].attrs["lang"] == "en"
    visitor.get("/lang/zh_CN?next=/")
    assert page(visitor.client, "/verify").find_all("html")[0].attrs["lang"] == "zh-CN"


def test_outcomes_are_announced_politely_and_refusals_at_once(cast, cast_db, browser):
    admin = browser("admin")
    target = user_id(cast_db, "li")
    # a refusal (no new password given) comes back as an alert, outside the polite region
    refused = admin.post(f"/admin/users/{target}/password", {"password": ""}, follow_redirects=True)
    doc = parse(refused.get_data(as_text=True))
    alerts = [a for a in doc.find_all(role="alert") if "请填写新密码" in a.text()]
    assert len(alerts) == 1
    region = doc.find_all(id="flash-messages")[0]
    assert region.attrs["role"] == "status" and region.attrs["aria-live"] == "polite"
    assert "请填写新密码" not in region.text()
    # an outcome goes into the live region the page always has
    done = admin.post(f"/admin/users/{target}/password", {"password": "a-new-pass-2026"}, follow_redirects=True)
    region = parse(done.get_data(as_text=True)).find_all(id="flash-messages")[0]
    assert "密码已重置" in region.text()
    # the region is there before anything is said in it (screen readers watch it from the page's start)
    assert page(admin.client, "/admin/users").find_all(id="flash-messages")[0].text() == ""


def test_a_refused_field_is_marked_and_points_at_its_error(browser):
    zhang = browser("zhang")
    response = zhang.post("/account", {"current": PASSWORD, "new": "a-new-pass-2026", "confirm": "different-2026"})
    doc = parse(response.get_data(as_text=True))
    confirm = doc.find_all("input", id="confirm")[0]
    assert confirm.attrs["aria-invalid"] == "true" and confirm.attrs["aria-describedby"] == "confirm-error"
    error = doc.find_all(id="confirm-error")[0]
    assert error.attrs["role"] == "alert" and "两次输入的新密码不一致" in error.text()
    # a field with help but no error points at its help only, and is not marked invalid
    new = doc.find_all("input", id="new")[0]
    assert new.attrs["aria-describedby"] == "new-help" and "aria-invalid" not in new.attrs
    assert "至少8位" in doc.find_all(id="new-help")[0].text()
    # every visible control of the form has a label
    for control in doc.find_all("main")[0].find_all("input"):
        if control.attrs.get("type") != "hidden":
            assert doc.find_all("label", **{"for": control.attrs["id"]}), control.attrs


def test_a_refused_case_action_is_read_with_its_form(cast, browser):
    case_id = open_case(cast)
    advance(cast, case_id, "unit_review")
    unit = browser("unit_hr")
    with cast.db.read() as conn:
        version = conn.execute(Case.__table__.select().where(Case.__table__.c.id == case_id)).mappings().one()[
            "version"]
    response = unit.post(f"/cases/{case_id}/actions/return_for_correction",
                         {"version": str(version), "comment": "说明", "corrections": ""})
    assert response.status_code == 422
    doc = parse(response.get_data(as_text=True))
    assert doc.find_all(id="action-error")[0].attrs["role"] == "alert"
    form = doc.find_all("form", id="action-return_for_correction")[0]
    assert form.find_all("fieldset")[0].attrs["aria-describedby"] == "action-error"
    assert form.find_all("textarea", id="corr-return_for_correction")[0].attrs["aria-describedby"] == "action-error"
    # the other actions' forms were not the ones refused
    other = doc.find_all("form", id="action-start_unit_notice")[0]
    assert "aria-describedby" not in other.find_all("fieldset")[0].attrs


def test_tables_have_captions_and_headers_on_the_main_lists(cast, cast_db, browser):
    case_id = open_case(cast)
    advance(cast, case_id, "result_notice")
    counted = 0
    for username, url in ((None, "/notices"), ("zhang", "/applicant/"), ("zhang", f"/cases/{case_id}"),
                          ("officer", "/authority/"), ("officer", "/authority/certificates"),
                          ("admin", "/admin/users"), ("admin", "/admin/orgs"), ("admin", "/admin/calendar"),
                          ("unit_hr", "/unit/?tab=all"), ("chair", "/panel/")):
        client = browser(username).client
        counted += assert_tables_are_described(page(client, url), url)
    assert counted >= 10  # the pages above do have tables: the check did look at them


def test_the_staff_pages_tables_have_captions_and_headers_too(cast, cast_db, browser):
    case_id = open_case(cast)
    advance(cast, case_id, "committee_vote")
    session = f"/panel/sessions/{cast.session_id}"
    counted = 0
    for username, url in (("admin", "/admin/"), ("admin", "/reports/"), ("admin", "/admin/standards/"),
                          ("admin", "/reports/process/"), ("chair", session), ("chair", f"{session}/agenda"),
                          ("chair", "/todo"), ("officer", "/todo"), (None, "/audit-checkpoints")):
        client = browser(username).client
        counted += assert_tables_are_described(page(client, url), url)
    assert counted >= 8


def test_every_table_in_the_templates_opens_with_a_caption():
    """A new page cannot add a table without one: every ``<table>`` tag in the templates is followed by its
    ``<caption>`` (a table built by a macro takes the caption as an argument)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "web" / "templates"
    missing = []
    for template in sorted(root.rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for match in re.finditer(r"<table\b[^>]*>", text):
            if not text[match.end():].lstrip().startswith("<caption"):
                missing.append(f"{template.relative_to(root)}:{text[:match.start()].count(chr(10)) + 1}")
    assert not missing, missing


def test_the_inbox_tabs_are_navigation_with_the_current_tab_marked(cast, browser):
    doc = page(browser("officer").client, "/authority/")
    assert not doc.find_all(role="tablist")
    nav = [n for n in doc.find_all("nav") if n.find_all("ul", **{"class": "nav nav-tabs inbox-tabs mb-3"})]
    assert len(nav) == 1 and nav[0].attrs["aria-label"] == "收件箱分类"
    current = nav[0].find_all("a", aria_current="page")
    assert len(current) == 1
    assert all(li.tag == "li" for li in nav[0].find_all("ul")[0].children)


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_flow_diagram_is_also_a_list_of_steps_with_the_current_one_marked(cast, browser, lang):
    case_id = open_case(cast)
    advance(cast, case_id, "formal_check")
    zhang = browser("zhang")
    zhang.get(f"/lang/{lang}?next=/")
    doc = page(zhang.client, f"/cases/{case_id}")
    steps = doc.find_all("ol", id="diagram-states")[0].find_all("li")
    with cast.db.read() as conn:
        row = conn.execute(Case.__table__.select().where(Case.__table__.c.id == case_id)).mappings().one()
    pipeline = get_pipeline(cast.db, row["pipeline_id"], row["pipeline_version"])
    assert sorted(li.attrs["data-state"] for li in steps) == sorted(s.name for s in pipeline.states)
    current = [li for li in steps if li.attrs.get("aria-current") == "step"]
    assert [li.attrs["data-state"] for li in current] == ["formal_check"]
    label = pipeline.state_map["formal_check"].label
    assert (label.en if lang == "en" else label.zh) in current[0].text()


def test_the_footer_says_where_to_report_a_problem(cast_db, tmp_path):
    default = make_app(cast_db, tmp_path).test_client()
    line = page(default, "/").find_all(id="support-contact")[0].text()
    assert "无障碍" in line and "人力资源社会保障部门" in line
    configured = make_app(cast_db, tmp_path, SUPPORT_CONTACT="zgb@hrss.hunan.gov.cn").test_client()
    line = page(configured, "/").find_all(id="support-contact")[0].text()
    assert line.endswith("zgb@hrss.hunan.gov.cn") and "无障碍" in line
