"""axe-core on every page the browser tests load (issue 18, item 1).

The ``chromium`` fixture hands out the browser wrapped in :class:`AuditedBrowser`: each context and page made
from it is audited. Whenever a test has waited for a page to load — ``goto``, ``reload``, ``go_back``,
``go_forward``, ``wait_for_load_state``, ``wait_for_url``, and so every ``Person.go``/``click``/``act`` — the
new document is checked once with the WCAG 2.1 A and AA rules of axe-core (bundled with
axe-playwright-python, so nothing is downloaded). The checks run in the test's own thread between its steps,
so what is checked does not depend on timing. Findings are collected and the test fails at teardown with a
list of rule, impact, element and page; ``axe_exceptions.py`` holds the rare excused finding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from axe_exceptions import excused

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
"""The axe-core rule sets checked: WCAG 2.0 and 2.1, levels A and AA."""

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}


def axe_script() -> str:
    """axe-core's source as axe-playwright-python ships it (imported late: without the package the browser
    tests skip, or fail under CI, with the reason, see conftest.py)."""
    from axe_playwright_python.base import AXE_SCRIPT

    return AXE_SCRIPT


@dataclass(frozen=True)
class Finding:
    """One element of one page breaking one axe rule."""

    rule: str
    impact: str
    target: str
    url: str
    help: str

    def line(self) -> str:
        """The finding on one line, as the failure report lists it."""
        return f"{self.rule} ({self.impact}) at {self.target} on {self.url}: {self.help}"


class AxeAudit:
    """Runs axe on loaded documents (each once) and keeps what it finds until :meth:`take`."""

    def __init__(self) -> None:
        self.findings: dict[tuple[str, str, str], Finding] = {}
        self.pages_checked = 0
        self._checked: set[tuple[float, str]] = set()

    def check(self, page) -> None:
        """Check the page's current document unless it was checked already."""
        if page.is_closed():
            return
        origin, url = page.evaluate("() => [performance.timeOrigin, location.href]")
        if (origin, url) in self._checked or not url.startswith("http"):
            return
        self._checked.add((origin, url))
        page.wait_for_load_state()
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(axe_script())
        result = page.evaluate(f"() => axe.run(document, {json.dumps(AXE_OPTIONS)})")
        self.pages_checked += 1
        path = urlsplit(url).path
        for violation in result["violations"]:
            for node in violation["nodes"]:
                target = " >> ".join(str(t) for t in node["target"])
                if excused(violation["id"], target, path):
                    continue
                key = (violation["id"], target, path)
                self.findings.setdefault(key, Finding(violation["id"], violation.get("impact") or "-", target, url,
                                                      violation["help"]))

    def take(self) -> list[Finding]:
        """The findings so far (then forgotten), in a stable order."""
        found = sorted(self.findings.values(), key=lambda f: (f.url, f.rule, f.target))
        self.findings.clear()
        return found


def report(findings: list[Finding]) -> str:
    """A readable failure message: how many, then one line per finding."""
    lines = [f"{len(findings)} accessibility violation(s) found by axe-core (WCAG 2.1 A/AA); fix them, or, if "
             "one is truly unavoidable, excuse it with its reason in tests/browser/axe_exceptions.py:"]
    lines += [f"  - {f.line()}" for f in findings]
    return "\n".join(lines)


class AuditedPage:
    """A Playwright page that is checked with axe after every wait for a load; everything else is the page's.

    It is a stand-in, not a ``Page``: Playwright's ``expect(...)`` wants the page itself, so write
    ``expect(person.page.unaudited)`` (locators made from it are ordinary locators and need nothing).
    """

    _WAITS = ("goto", "reload", "go_back", "go_forward", "wait_for_load_state", "wait_for_url")

    def __init__(self, page, audit: AxeAudit) -> None:
        self._page, self._audit = page, audit

    @property
    def unaudited(self):
        """The Playwright page itself (its waits run no check)."""
        return self._page

    def __getattr__(self, name: str):
        attribute = getattr(self._page, name)
        if name not in self._WAITS:
            return attribute

        def waited(*args, **kwargs):
            result = attribute(*args, **kwargs)
            self._audit.check(self._page)
            return result

        return waited


class AuditedContext:
    """A browser context whose new pages are :class:`AuditedPage` s."""

    def __init__(self, context, audit: AxeAudit) -> None:
        self._context, self._audit = context, audit

    def new_page(self, *args, **kwargs) -> AuditedPage:
        """A new audited page in this context."""
        return AuditedPage(self._context.new_page(*args, **kwargs), self._audit)

    def __getattr__(self, name: str):
        return getattr(self._context, name)


class AuditedBrowser:
    """The browser as the tests get it: its contexts and pages are audited (see the module's docstring)."""

    def __init__(self, browser, audit: AxeAudit) -> None:
        self._browser, self._audit = browser, audit

    def new_context(self, *args, **kwargs) -> AuditedContext:
        """A new context whose pages are audited."""
        return AuditedContext(self._browser.new_context(*args, **kwargs), self._audit)

    def new_page(self, *args, **kwargs) -> AuditedPage:
        """A new audited page in a context of its own."""
        return AuditedPage(self._browser.new_page(*args, **kwargs), self._audit)

    def __getattr__(self, name: str):
        return getattr(self._browser, name)
