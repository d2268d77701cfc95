"""Guards declare the data they read (issue 16, item 4): each reads facts it named in ``needs=``, the engine
loads each fact at most once per firing — and once per case for all the actions a page offers — and a guard
that reads a fact it did not declare is stopped."""

from __future__ import annotations

import ast
import inspect
import textwrap

import pytest
from driver import advance

from workflow.engine import available_actions, fire
from workflow.engine.context import UndeclaredFact
from workflow.engine.registry import FACTS, GUARDS, Fact, Hook, load_builtin_hooks, undeclared_needs
from workflow.panel import ballots, prereview

load_builtin_hooks()


def _counting(monkeypatch, name: str) -> list[int]:
    """Replace fact ``name``'s loader by one that counts its loads (returning what the real one returns)."""
    real = FACTS[name]
    loads: list[int] = []

    def load(ctx):
        loads.append(ctx.case["id"])
        return real.func(ctx)

    monkeypatch.setitem(FACTS, name, Fact(name, load, real.per_case, real.doc))
    return loads


def test_every_declared_need_is_a_registered_fact():
    assert undeclared_needs() == {}
    assert {"opinion_count", "tally", "sitting_count", "eligibility", "uploaded_categories"} <= FACTS.keys()


@pytest.mark.parametrize("name", sorted(GUARDS))
def test_a_guard_reads_only_the_facts_it_declares(name):
    """Read from the guard's own source: every ``ctx.fact("…")`` it spells is in its ``needs``."""
    hook = GUARDS[name]
    tree = ast.parse(textwrap.dedent(inspect.getsource(hook.func)))
    read = {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "fact"
            and node.args and isinstance(node.args[0], ast.Constant)}
    assert read <= hook.needs, (name, read - hook.needs)


def test_an_undeclared_read_is_refused(world, monkeypatch):
    case_id = world.open("industry-session")
    advance(world, case_id, "pre_review")

    def sneaky(ctx):
        """Reads the opinions without saying so."""
        return None if ctx.fact("opinion_count") >= 0 else "never"

    real = GUARDS["pre_review_complete"]
    monkeypatch.setitem(GUARDS, "pre_review_complete", Hook(real.name, sneaky, real.params, real.doc))
    with pytest.raises(UndeclaredFact):
        available_actions(world.db, case_id, world.chair)


def test_a_fact_two_branches_need_is_loaded_once_per_firing(world, monkeypatch):
    """complete_pre_review's two branches both check the opinions: one count for the firing, and one for every
    action the chair's page offers."""
    case_id = world.open("industry-session")
    advance(world, case_id, "pre_review")
    seated = {a.user_id: a for a in [world.chair, *world.members]}
    for uid in prereview.assign_reviewers(world.db, case_id, world.chair):
        ballots.submit_opinion(world.db, case_id, seated[uid], "yes")
    loads = _counting(monkeypatch, "opinion_count")
    offered = available_actions(world.db, case_id, world.chair)
    assert any(o.allowed for o in offered) and loads == [case_id]
    loads.clear()
    assert fire(world.db, case_id, "complete_pre_review", world.chair).to_state == "committee_vote"
    assert loads == [case_id]


def test_the_actions_of_one_page_share_the_facts_about_the_case(world, monkeypatch):
    """Every guard of every action offered on the page reads a fact about the case from one load; a fact that
    depends on the firing (the tally: its key shares) is loaded per action."""
    case_id = world.open("industry-session")
    advance(world, case_id, "committee_vote")
    sitting, tallies = _counting(monkeypatch, "sitting_count"), _counting(monkeypatch, "tally")
    both = frozenset({"sitting_count", "tally"})
    for name in ("ballot_not_open", "ballot_closable", "ballot_passed"):  # every vote guard reads both
        real = GUARDS[name]

        def reads_both(ctx, real=real):
            ctx.fact("sitting_count")
            return real.func(ctx)

        monkeypatch.setitem(GUARDS, name, Hook(real.name, reads_both, real.params, real.doc, real.needs | both))
    offered = {o.trigger for o in available_actions(world.db, case_id, world.chair)}
    assert {"open_ballot", "close_ballot"} <= offered
    assert sitting == [case_id]  # open_ballot's two guards and close_ballot's two branches: one read
    assert len(tallies) == 1  # close_ballot's branches share its firing's tally; open_ballot reads none
