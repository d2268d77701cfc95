"""Inbox tabs: which states each reviewing role sees under which heading, read from the definitions.

The tabs and their order are in ``definitions/inboxes.yaml``; each state of each current pipeline names the
tab that lists it (``inbox:`` in the pipeline), so a pipeline with states of its own appears in the work lists
without a change here. The final tab lists every pipeline's final states; the "all" tab every submitted case.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.pipeline.catalog import latest_pipelines
from workflow.pipeline.inboxes import inboxes

from .i18n import current_lang


@dataclass(frozen=True)
class Tab:
    """One inbox tab: key (URL), label, the states it lists (None: every case), whether they wait for this
    role, and whether it is the tab of closed cases."""

    key: str
    label: str
    states: tuple[str, ...] | None
    actionable: bool = False
    final: bool = False


def final_states(db) -> tuple[str, ...]:
    """Every final state of the current pipelines."""
    return tuple(sorted({s.name for p in latest_pipelines(db) for s in p.states if s.final}))


def tabs_for(db, inbox: str) -> tuple[Tab, ...]:
    """The tabs of ``inbox`` (``unit`` or ``authority``), each with the states of the current pipelines it lists,
    labelled in the page's language."""
    pipelines = latest_pipelines(db)
    english = current_lang() == "en"
    finals = final_states(db)
    tabs = []
    for tab in inboxes()[inbox].tabs:
        if tab.all:
            states: tuple[str, ...] | None = None
        elif tab.final:
            states = finals
        else:
            states = tuple(sorted({s.name for p in pipelines for s in p.states if s.inbox.get(inbox) == tab.key}))
        tabs.append(Tab(tab.key, tab.label.en if english else tab.label.zh, states, tab.actionable, tab.final))
    return tuple(tabs)


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
    """Cases in the tab (every submitted case for the tab that lists them all)."""
    if tab.states is None:
        return sum(counts.values())
    return sum(counts.get(s, 0) for s in tab.states)


def open_states(db) -> list[str]:
    """Every state of the current pipelines that is not final: these are counted exactly."""
    return sorted({s.name for p in latest_pipelines(db) for s in p.states if not s.final})


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
        elif t.final:
            badges.append((t, closed_badge))
        else:
            badges.append((t, tab_count(t, counts)))
    return badges
