"""The 破格 route by evidence instead of education and years: written recommendations by 正高 experts of the
same specialty (national baseline, §7.4) and/or more achievement items, as the standard combines them."""

from __future__ import annotations

from dataclasses import dataclass

from workflow.eligibility.profiles import Text, TitleLevel
from workflow.eligibility.standards import ExceptionalRule, Threshold

from .achievements import AchievementTally
from .context import Context, Finding, Part, RouteResult, use
from .report import CRITERION_LABELS, Evidence, ExceptionalOutlook, Layer, RouteFamily, ThresholdUse, Verdict


@dataclass
class Option:
    """One way of evidencing the 破格 route, with what is still missing."""

    verdict: Verdict
    zh: str
    en: str
    missing: Text | None
    evidence: list[Evidence]
    threshold: ThresholdUse


class ExceptionalRoute:
    """The standard's 破格 rule as one route (open on the exceptional pipeline)."""

    def route(self, ctx: Context, rule: ExceptionalRule, tally: AchievementTally | None, *, open_: bool,
              closed: Text | None = None) -> tuple[RouteResult, list[Option]]:
        """The route and its options (the options also feed the normal route's outlook)."""
        options = self.options(ctx, rule, tally)
        verdict = self.combined(rule, options)
        any_one = rule.combine == "any"
        details_zh = "；".join(f"{o.zh}（{o.verdict.zh}）" for o in options)
        details_en = "; ".join(f"{o.en} ({o.verdict.en})" for o in options)
        part = Part(verdict, f"破格条件（{'满足其一' if any_one else '须全部满足'}）：{details_zh}。",
                    f"Exceptional route ({'any one' if any_one else 'all'}): {details_en}.",
                    [e for o in options for e in o.evidence], [o.threshold for o in options], "allow_direct_senior")
        findings = [Finding("exceptional", Layer.EXCEPTIONAL, part)]
        s = ctx.standard
        if tally is not None and s.achievements is not None:
            findings.append(tally.finding(s.achievements.k, "achievements.k"))
        label = Text(zh="破格申报（专家推荐或突出业绩）", en="Exceptional route (recommendations or achievements)")
        return RouteResult(id="exceptional", family=RouteFamily.EXCEPTIONAL, label=label, open=open_,
                           findings=findings, closed=closed), options

    def options(self, ctx: Context, rule: ExceptionalRule, tally: AchievementTally | None) -> list[Option]:
        """The ways the standard offers."""
        found = []
        if rule.achievements_k is not None and tally is not None:
            found.append(self.achievement_option(tally, rule.achievements_k))
        if rule.recommendations_by_senior_experts is not None:
            found.append(self.recommendation_option(ctx, rule, rule.recommendations_by_senior_experts))
        return found

    @staticmethod
    def combined(rule: ExceptionalRule, options: list[Option]) -> Verdict:
        """Any one option, or all of them, as the standard says."""
        verdicts = [o.verdict for o in options]
        if rule.combine == "any":
            if Verdict.MET in verdicts:
                return Verdict.MET
            return Verdict.NEEDS_JUDGEMENT if Verdict.NEEDS_JUDGEMENT in verdicts else Verdict.NOT_MET
        if Verdict.NOT_MET in verdicts or not verdicts:
            return Verdict.NOT_MET
        return Verdict.NEEDS_JUDGEMENT if Verdict.NEEDS_JUDGEMENT in verdicts else Verdict.MET

    @staticmethod
    def achievement_option(tally: AchievementTally, k_rule: Threshold) -> Option:
        """k distinct achievement items instead of the normal number."""
        k = k_rule.value
        done, maybe = tally.counts()
        total = len(done) + len(maybe)
        ev = [e for st in done + maybe for e in st.evidence]
        if len(done) >= k:
            verdict, missing = Verdict.MET, None
        elif total >= k:
            verdict = Verdict.NEEDS_JUDGEMENT
            missing = Text(zh=f"{len(maybe)} 项业绩待单位核实或专家评议", en=f"{len(maybe)} items await verification")
        else:
            verdict = Verdict.NOT_MET
            missing = Text(zh=f"还需 {k - total} 项符合条件的业绩成果（破格须 {k} 项，现有 {total} 项）",
                           en=f"{k - total} more qualifying achievement items ({k} needed, {total} declared)")
        return Option(verdict, f"业绩成果 {k} 项，现有 {total} 项（已核实 {len(done)} 项）",
                      f"{k} achievement items, {total} declared ({len(done)} verified)", missing, ev,
                      use("exceptional.achievements_k", k_rule))

    @staticmethod
    def recommendation_option(ctx: Context, rule: ExceptionalRule, k_rule: Threshold) -> Option:
        """k written recommendations by 正高 experts of the series — of the same specialty where the standard
        says so; an expert of another specialty is left to the experts' judgement (§7.4)."""
        s, k = ctx.standard, k_rule.value
        listed = rule.recommender_specialties
        senior = [(i, r) for i, r in enumerate(ctx.profile.recommendations)
                  if r.expert_level == TitleLevel.SENIOR and r.series == s.series
                  and (not listed or r.specialty in listed)]
        if rule.recommenders_same_specialty:
            same = [(i, r) for i, r in senior if r.specialty == ctx.specialty]
            related = [(i, r) for i, r in senior if r.specialty != ctx.specialty]
        else:
            same, related = senior, []
        ev = [Evidence(path=f"recommendations[{i}]", summary=ctx.summary(r)) for i, r in same + related]
        scope = f"{s.series}系列" + (f"{ctx.specialty}专业" if rule.recommenders_same_specialty else "") + \
            (f"（{'、'.join(listed)}专业）" if listed else "")
        if len(same) >= k:
            verdict, missing = Verdict.MET, None
        elif len(same) + len(related) >= k:
            verdict = Verdict.NEEDS_JUDGEMENT
            missing = Text(zh=f"{len(related)} 名推荐专家非本专业，是否相关由专家评议",
                           en=f"{len(related)} recommenders are of another specialty; the experts judge relevance")
        else:
            verdict = Verdict.NOT_MET
            missing = Text(zh=f"还需 {k - len(same) - len(related)} 名{scope}正高级专家书面推荐（须 {k} 名）",
                           en=f"{k - len(same) - len(related)} more recommendations by full-senior experts "
                              f"({k} needed)")
        extra = f"，其他专业 {len(related)} 名" if related else ""
        return Option(verdict, f"{scope}正高级专家书面推荐 {k} 名，现有本专业 {len(same)} 名{extra}",
                      f"{k} recommendations by full-senior experts, {len(same)} of the specialty given", missing, ev,
                      use("exceptional.recommendations_by_senior_experts", k_rule))

    def outlook(self, ctx: Context, rule: ExceptionalRule, tally: AchievementTally | None,
                blocking: list[str]) -> ExceptionalOutlook | None:
        """For a failed normal-route evaluation: could the 破格 route overcome it, and what is missing?"""
        if not ctx.relax.allow_direct_senior or not set(blocking) <= set(rule.bypasses):
            return None
        route, options = self.route(ctx, rule, tally, open_=True)
        ready = route.verdict == Verdict.MET
        missing = [] if ready else [o.missing for o in options if o.missing is not None]
        names = "、".join(CRITERION_LABELS[c].zh for c in blocking)
        if ready:
            zh = f"未满足的{names}可通过破格申报突破，破格条件已具备。"
            en = "The exceptional route can overcome the unmet conditions, and its evidence is present."
        else:
            either = "（满足其一即可）" if rule.combine == "any" else ""
            zh = f"未满足的{names}可通过破格申报突破，尚缺{either}：{'；'.join(m.zh for m in missing)}。"
            en = "The exceptional route can overcome the unmet conditions; missing: " + "; ".join(m.en for m in missing)
        return ExceptionalOutlook(overcomes=blocking, ready=ready, missing=missing, explanation=Text(zh=zh, en=en))
