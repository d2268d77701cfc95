"""The direct (破格) routes of the Hunan SME standard: education + years of technical work in the industry
(counted after the junior title where the text says so), or years as 主要负责人 of a national "小巨人"
(and 单项冠军), each with 2 distinct achievement items (rules.md §7.3)."""

from __future__ import annotations

from workflow.eligibility.profiles import FirmRecognitionEntry, FirmRole, Text
from workflow.eligibility.standards import DirectRoute, DirectRule

from .achievements import AchievementTally
from .context import Context, Finding, Part, RouteResult, met, not_met, use
from .dates import Span, count_years, span_of
from .education import education_part
from .report import Evidence, Layer, Route, RouteFamily


def direct_routes_open(ctx: Context) -> tuple[bool, str, str]:
    """Whether the direct routes are open here, and if not, why (zh, en)."""
    if not ctx.relax.allow_direct_senior:
        return False, "本评审通道未开放直接申报高级职称。", "This pipeline does not open direct senior application."
    if ctx.route == Route.EXCEPTIONAL:
        return True, "", ""
    if ctx.relax.waive_ladder:
        return True, "", ""
    return False, "直接申报路径仅在破格申报通道，或破除台阶并允许直接申报的专场开放；本场未破除台阶。", \
        "Direct routes open on the exceptional pipeline or in a session that waives the ladder; this one does not."


class DirectRoutes:
    """Each direct route of the standard, judged with the direct number of achievement items."""

    def routes(self, ctx: Context, rule: DirectRule, tally: AchievementTally) -> list[RouteResult]:
        """One result per direct route; closed ones still show how the applicant would fare."""
        is_open, why_zh, why_en = direct_routes_open(ctx)
        # The same note on every direct route: one part (and so one criterion) for all of them.
        ladder = ctx.standard.ladder
        ladder_note = None if ladder is None else met(
            f"直接申报路径不要求取得{ladder.title}（破除台阶不免除年限要求）。",
            f"Direct routes do not require the {ladder.title} title (the years still count).")
        results = []
        for index, route in enumerate(rule.routes):
            path = f"direct.routes[{index}]"
            findings: list[Finding] = []
            if route.leader_years is not None:
                findings.append(Finding("enterprise_leader", Layer.EDUCATION, self.leader_part(ctx, route, path)))
                family = RouteFamily.LEADER
            else:
                assert route.min_education is not None and route.industry_years is not None
                findings.append(Finding("education", Layer.EDUCATION, education_part(ctx, route.min_education)))
                findings.append(Finding("industry_years", Layer.EDUCATION, self.industry_part(ctx, route, path)))
                family = RouteFamily.DIRECT
            if ladder_note is not None:
                findings.append(Finding("ladder", Layer.LADDER, ladder_note, applies=False))
            findings.append(tally.finding(rule.achievements_k, "direct.achievements_k",
                                          route_zh="直接申报", route_en="Direct route: "))
            results.append(RouteResult(id=route.id, family=family, label=route.label, open=is_open,
                                       findings=findings,
                                       closed=None if is_open else Text(zh=why_zh, en=why_en)))
        return results

    @staticmethod
    def industry_part(ctx: Context, route: DirectRoute, path: str) -> Part:
        """Years of technical work in the industry, after the first junior-grade title where asked."""
        need = route.industry_years
        assert need is not None
        uses = [use(f"{path}.industry_years", need)]
        since = None
        lead_zh = lead_en = ""
        ev_title: list[Evidence] = []
        if route.after_junior_title:
            junior = ctx.first_junior_title
            if junior is None:
                return not_met(f"本路径自取得初级职称后起算本行业技术工作年限（须满 {need.value} 年），"
                               "申报人未填报初级及以上职称。",
                               f"Counts {need.value} years in the industry after the junior title; none is declared.",
                               [], uses)
            i, t = junior
            since = t.obtained_on
            ev_title = [Evidence(path=f"titles[{i}]", summary=ctx.summary(t))]
            lead_zh = f"自取得{t.name}（{since.isoformat()}）起，"
            lead_en = f"Since {t.name} ({since.isoformat()}), "
        spans, ev = ctx.work_spans(industry=True, not_before=since)
        tally = count_years(spans, need.value, ctx.as_of)
        have_zh, have_en = tally.text()
        head_zh = f"{lead_zh}在本行业从事技术工作累计 {have_zh}（至 {ctx.day}），"
        head_en = f"{lead_en}{have_en} of technical work in the industry by {ctx.day}, "
        if tally.met:
            return met(f"{head_zh}满 {need.value} 年。", f"{head_en}at least {need.value} years.", ev_title + ev, uses)
        due = f"，将于 {tally.due.isoformat()} 满 {need.value} 年" if tally.due else ""
        return not_met(f"{head_zh}不满 {need.value} 年{due}。", f"{head_en}less than {need.value} years.",
                       ev_title + ev, uses)

    @staticmethod
    def leader_part(ctx: Context, route: DirectRoute, path: str) -> Part:
        """Years as 主要负责人 of firms holding every recognition the route names (by the reference date),
        added up over such firms (overlapping terms counted once).

        A deputy leader, a provincial 专精特新 firm, or a 单项冠军 without 小巨人 status does not count. The text
        asks for years as the leader of such a firm; it does not ask that the firm held the status throughout.
        """
        need = route.leader_years
        assert need is not None
        uses = [use(f"{path}.leader_years", need)]
        wanted = route.firm_recognitions
        wanted_zh = "且为".join(k.zh for k in wanted)
        wanted_en = " and ".join(k.en for k in wanted)
        recognised: dict[str, list[tuple[int, FirmRecognitionEntry]]] = {}
        for i, r in enumerate(ctx.profile.firm_recognitions):
            if r.year <= ctx.as_of.year:
                recognised.setdefault(_firm(r.employer), []).append((i, r))
        qualifying = sorted(firm for firm, recs in recognised.items() if set(wanted) <= {r.kind for _, r in recs})
        if not qualifying:
            held = "、".join(sorted({ctx.summary(r).zh for recs in recognised.values() for _, r in recs}))
            have = f"（已填报：{held}）" if held else "（未填报企业资质）"
            return not_met(f"本路径须任{wanted_zh}的主要负责人满 {need.value} 年，所填企业不具备该资质{have}。",
                           f"Needs {need.value} years as principal leader of a firm that is {wanted_en}; "
                           "no declared firm holds that.", [], uses)
        ev = [Evidence(path=f"firm_recognitions[{i}]", summary=ctx.summary(r))
              for firm in qualifying for i, r in recognised[firm] if r.kind in wanted]
        spans: list[Span] = []
        for i, role in enumerate(ctx.profile.firm_roles):
            if _firm(role.employer) in qualifying and role.role == FirmRole.PRINCIPAL:
                span = span_of(role.start, role.end, ctx.as_of)
                if span is not None:
                    spans.append(span)
                    ev.append(Evidence(path=f"firm_roles[{i}]", summary=ctx.summary(role)))
        tally = count_years(spans, need.value, ctx.as_of)
        have_zh, have_en = tally.text()
        firms = "、".join(qualifying)
        head_zh = f"任{firms}（{wanted_zh}）主要负责人累计 {have_zh}（至 {ctx.day}），"
        head_en = f"{have_en} as principal leader of {firms} by {ctx.day}, "
        if tally.met:
            return met(f"{head_zh}满 {need.value} 年。", f"{head_en}at least {need.value} years.", ev, uses)
        due = f"，将于 {tally.due.isoformat()} 满 {need.value} 年" if tally.due else ""
        return not_met(f"{head_zh}不满 {need.value} 年{due}（副职负责人不计入）。",
                       f"{head_en}less than {need.value} years (deputy roles do not count).", ev, uses)


def _firm(name: str) -> str:
    """A firm's name compared without spaces or bracket style, so 长沙某某（集团） matches 长沙某某(集团)."""
    return "".join(name.split()).replace("（", "(").replace("）", ")")
