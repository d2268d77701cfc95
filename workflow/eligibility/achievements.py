"""Layer 5, achievements (业绩成果): each entry is matched to one numbered item of the standard and the
items met are counted as distinct items — two patents are still one item 6 (rules.md §7.3, 第八条)."""

from __future__ import annotations

from dataclasses import dataclass, field

from workflow.eligibility.profiles import Achievement, RecognitionLevel
from workflow.eligibility.standards import AchievementItem, AchievementRule, Threshold

from .context import Context, Finding, Part, derived, met, not_met, pending, use
from .report import Evidence, Layer, Verdict


def item_name(item: AchievementItem) -> tuple[str, str]:
    """How an item is named in explanations: "第6项" for a numbered item, else its text."""
    if item.id.isdigit():
        return f"第{item.id}项", f"item {item.id}"
    return item.text.zh, item.text.en


@dataclass
class ItemStatus:
    """How far the applicant's entries meet one item: met (verified), pending, or not met, and why."""

    item: AchievementItem
    verdict: Verdict
    zh: str
    en: str
    evidence: list[Evidence] = field(default_factory=list)
    verified_evidence: list[Evidence] = field(default_factory=list)


class AchievementTally:
    """Every entry matched to an item and every item judged, once per evaluation."""

    def __init__(self, ctx: Context, rule: AchievementRule) -> None:
        self.ctx = ctx
        self.rule = rule
        # A standard listing only kinds builds one item model per kind on every call: build them once.
        self.items = list(derived(rule, "effective_items", lambda: tuple(rule.effective_items())))
        self.skipped: list[str] = []
        self._parts: dict[tuple[int, str, str, str], Part] = {}
        self.assigned: dict[str, list[tuple[int, Achievement]]] = {item.id: [] for item in self.items}
        for i, entry in enumerate(ctx.profile.achievements):
            self._assign(i, entry)
        self.status = {item.id: self._judge(item) for item in self.items}

    # ------------------------------------------------------------------ matching entries to items

    def _why_not(self, entry: Achievement, item: AchievementItem) -> str | None:
        """Why ``entry`` cannot count for ``item`` (None when it can, verification aside)."""
        name = item_name(item)[0]
        if entry.kind not in item.kinds:
            return f"类型“{entry.kind.zh}”不属于{name}"
        if entry.year > self.ctx.as_of.year:
            return "晚于评价年度"
        if self.rule.require_evidence and not entry.evidence:
            return "未提供证明材料"
        if item.min_level is not None and not _at_least(entry.level, item.min_level):
            have = entry.level.zh if entry.level else "未注明级别"
            return f"{name}须为{item.min_level.zh}及以上（本项为{have}）"
        if item.needs_appraisal and not (entry.appraised_by or entry.appraisal_level):
            return f"{name}须经鉴定或验收（未注明鉴定/验收单位）"
        if item.min_appraisal_level is not None and not _at_least(entry.appraisal_level, item.min_appraisal_level):
            have = entry.appraisal_level.zh if entry.appraisal_level else "未注明"
            return f"{name}须通过{item.min_appraisal_level.zh}及以上鉴定或验收（本项为{have}）"
        if item.max_rank is not None and (entry.rank is None or entry.rank > item.max_rank.value):
            have = f"第{entry.rank}名" if entry.rank else "未注明排名"
            return f"{name}须为前{item.max_rank.value}名完成人（本项{have}）"
        return None

    def _assign(self, index: int, entry: Achievement) -> None:
        """Count the entry for its declared item, or else for the first item it qualifies for."""
        label = self.ctx.summary(entry).zh
        # An item number names an item of the standard it was declared for; a standard without that item
        # (another standard judging the same profile) matches the entry by its kind instead.
        item = next((it for it in self.items if it.id == entry.item), None) if entry.item else None
        if item is not None:
            why = self._why_not(entry, item)
            if why:
                self.skipped.append(f"{label}：{why}")
            else:
                self.assigned[item.id].append((index, entry))
            return
        candidates = [it for it in self.items if entry.kind in it.kinds]
        for item in candidates:
            if self._why_not(entry, item) is None:
                self.assigned[item.id].append((index, entry))
                return
        if candidates:
            self.skipped.append(f"{label}：{self._why_not(entry, candidates[0])}")
        else:
            self.skipped.append(f"{label}：不属于本标准可认定的业绩类型")

    # ------------------------------------------------------------------ judging items

    def _judge(self, item: AchievementItem) -> ItemStatus:
        entries = self.assigned[item.id]
        verified = [(i, a) for i, a in entries if a.verified]
        ev = [Evidence(path=f"achievements[{i}]", summary=self.ctx.summary(a)) for i, a in entries]
        ev_done = [Evidence(path=f"achievements[{i}]", summary=self.ctx.summary(a)) for i, a in verified]
        name_zh, name_en = item_name(item)
        if not entries:
            return ItemStatus(item, Verdict.NOT_MET, f"{name_zh}：无符合条件的业绩", f"{name_en}: nothing qualifying")
        if item.expert_judgement:
            return ItemStatus(item, Verdict.NEEDS_JUDGEMENT, f"{name_zh}：已填报，由评审专家评议认定",
                              f"{name_en}: declared; the experts judge it", ev, [])
        if item.branches:
            done = any(_branch_total(b.kinds, verified) >= b.min_count.value for b in item.branches)
            maybe = any(_branch_total(b.kinds, entries) >= b.min_count.value for b in item.branches)
            counts = "；".join(f"{'或'.join(k.zh for k in b.kinds)} {_branch_total(b.kinds, entries)} 项"
                              f"（须 {b.min_count.value} 项）" for b in item.branches)
            if done:
                return ItemStatus(item, Verdict.MET, f"{name_zh}：已核实（{counts}）", f"{name_en}: verified", ev,
                                  ev_done)
            if maybe:
                return ItemStatus(item, Verdict.NEEDS_JUDGEMENT, f"{name_zh}：待单位核实（{counts}）",
                                  f"{name_en}: awaits verification", ev, ev_done)
            return ItemStatus(item, Verdict.NOT_MET, f"{name_zh}：数量不足（{counts}）",
                              f"{name_en}: not enough ({counts})", ev, ev_done)
        if verified:
            return ItemStatus(item, Verdict.MET, f"{name_zh}：已核实", f"{name_en}: verified", ev, ev_done)
        return ItemStatus(item, Verdict.NEEDS_JUDGEMENT, f"{name_zh}：待单位核实", f"{name_en}: awaits verification",
                          ev, [])

    # ------------------------------------------------------------------ counting

    def counts(self) -> tuple[list[ItemStatus], list[ItemStatus]]:
        """(items met, items pending verification or judgement), in the standard's order."""
        done = [self.status[it.id] for it in self.items if self.status[it.id].verdict == Verdict.MET]
        maybe = [self.status[it.id] for it in self.items if self.status[it.id].verdict == Verdict.NEEDS_JUDGEMENT]
        return done, maybe

    def part(self, k_rule: Threshold, path: str, *, route_zh: str = "", route_en: str = "") -> Part:
        """The achievements criterion for a route needing ``k_rule`` distinct items."""
        k = k_rule.value
        uses = [use(path, k_rule)]
        done, maybe = self.counts()
        shown = done + maybe
        ev = [e for st in shown for e in st.evidence]
        listing = "；".join(st.zh for st in shown)
        tail = f"（不计入：{'；'.join(self.skipped)}）" if self.skipped else ""
        head_zh = f"{route_zh}须具备业绩成果 {k} 项（按不同条目计），"
        head_en = f"{route_en}{k} distinct achievement items are needed; "
        if len(done) >= k:
            return met(f"{head_zh}已核实 {len(done)} 项：{listing}。{tail}",
                       head_en + f"{len(done)} verified.", ev, uses)
        if len(done) + len(maybe) >= k:
            return pending(f"{head_zh}符合条件 {len(shown)} 项，其中 {len(maybe)} 项待单位核实或专家评议："
                           f"{listing}。{tail}",
                           head_en + f"{len(shown)} qualify, {len(maybe)} await verification or judgement.",
                           ev, uses)
        have = f"现有 {len(shown)} 项：{listing}。" if shown else "现无符合条件的条目。"
        return not_met(f"{head_zh}{have}{tail}", head_en + f"{len(shown)} qualify.", ev, uses)

    def finding(self, k_rule: Threshold, path: str, *, route_zh: str = "", route_en: str = "") -> Finding:
        """The achievements finding for a route (hard unless the standard says otherwise)."""
        # Routes ask the same question (the same k at the same path): one part, and so one criterion.
        key = (id(k_rule), path, route_zh, route_en)  # k_rule is part of the standard: alive as long as we are
        part = self._parts.get(key)
        if part is None:
            part = self._parts[key] = self.part(k_rule, path, route_zh=route_zh, route_en=route_en)
        return Finding("achievements", Layer.ACHIEVEMENTS, part, hard=self.rule.hard)

    def verified_for(self, item_ids: list[str]) -> list[Evidence]:
        """Verified entries counting for any of ``item_ids`` (work experience accepts them as proof)."""
        return [e for iid in item_ids if iid in self.status for e in self.status[iid].verified_evidence]


def _at_least(level: RecognitionLevel | None, minimum: RecognitionLevel) -> bool:
    return level is not None and level.at_least(minimum)


def _branch_total(kinds: list, entries: list[tuple[int, Achievement]]) -> int:
    return sum(a.count for _, a in entries if a.kind in kinds)
