"""Inbox tabs: which states each reviewing role sees under which heading.

The four pipelines share their state names, so tabs name states directly; a state a future pipeline adds
that no tab names still appears under "all in progress" (``ALL``), never disappears.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from workflow.catalog import latest_pipelines

FINAL = ("certified", "closed_not_passed", "rejected", "withdrawn", "revoked")


@dataclass(frozen=True)
class Tab:
    """One inbox tab: key (URL), label, the states it lists, and whether they wait for this role."""

    key: str
    label: object
    states: tuple[str, ...] | None
    actionable: bool = False


ALL = "all"

UNIT_TABS = (
    Tab("review", _l("待初审"), ("unit_review",), True),
    Tab("notice", _l("公示中"), ("unit_notice", "unit_notice_objection"), True),
    Tab("recommend", _l("待考核推荐"), ("unit_recommendation",), True),
    Tab("correction", _l("待申报人补正"), ("correction", "authority_correction")),
    Tab("progress", _l("已推荐在审"), ("superior_review", "formal_check", "eligibility_recheck", "pre_review",
                                   "defence", "committee_vote", "result_notice", "result_notice_objection",
                                   "filing", "certification", "not_passed", "appeal_review")),
    Tab("done", _l("已办结"), FINAL),
    Tab(ALL, _l("全部"), None),
)
"""The employer HR's / agency's inbox."""

AUTHORITY_TABS = (
    Tab("formal_check", _l("形式审查"), ("formal_check",), True),
    Tab("recheck", _l("资格复核"), ("eligibility_recheck",), True),
    Tab("notice", _l("结果公示"), ("result_notice", "result_notice_objection"), True),
    Tab("filing", _l("确认备案"), ("filing",), True),
    Tab("certification", _l("待发证书"), ("certification",), True),
    Tab("appeal", _l("复查"), ("appeal_review", "not_passed"), True),
    Tab("correction", _l("待补正"), ("authority_correction",)),
    Tab("panel", _l("评审中"), ("pre_review", "defence", "committee_vote")),
    Tab("upstream", _l("单位及主管部门在办"), ("unit_review", "correction", "unit_notice", "unit_notice_objection",
                                        "unit_recommendation", "superior_review")),
    Tab("done", _l("已办结"), FINAL),
    Tab(ALL, _l("全部"), None),
)
"""The authority officer's inboxes by stage."""


def pick_tab(tabs: tuple[Tab, ...], key: str | None, counts: dict[str, int]) -> Tab:
    """The requested tab, else the first actionable tab with cases in it, else the first tab."""
    for tab in tabs:
        if tab.key == key:
            return tab
    for tab in tabs:
        if tab.actionable and tab_count(tab, counts):
            return tab
    return tabs[0]


def tab_count(tab: Tab, counts: dict[str, int]) -> int:
    """Cases in the tab (all submitted cases for ``ALL``)."""
    if tab.states is None:
        return sum(counts.values())
    return sum(counts.get(s, 0) for s in tab.states)


def open_states(db) -> list[str]:
    """Every state of the current pipelines that is not final: these are counted exactly."""
    return sorted({s for p in latest_pipelines(db) for s in p.state_map} - set(FINAL))


def capped_badges(tabs: tuple[Tab, ...], counts: dict[str, int], closed: int,
                  cap: int) -> list[tuple[Tab, int | str]]:
    """Each tab with its badge: exact for open queues; closed history and "all" read "999+" past ``cap``.

    ``counts`` holds the open states only, ``closed`` the closed count as counted up to ``cap + 1``.
    """
    over = closed > cap
    closed_badge: int | str = f"{cap:,}+" if over else closed
    open_total = sum(counts.values())
    everything: int | str = f"{open_total + cap:,}+" if over else open_total + closed
    badges: list[tuple[Tab, int | str]] = []
    for t in tabs:
        if t.states is None:
            badges.append((t, everything))
        elif set(t.states) <= set(FINAL):
            badges.append((t, closed_badge))
        else:
            badges.append((t, tab_count(t, counts)))
    return badges
