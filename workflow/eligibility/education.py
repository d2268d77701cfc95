"""Layers 2 and 3: the standard's education routes — education (with the 技工院校 and 学位 equivalences),
years in the specialty, and the 台阶 (the lower title held N years)."""

from __future__ import annotations

from workflow.eligibility.profiles import EducationLevel, Text, TitleHeld
from workflow.eligibility.standards import EducationRoute, Threshold

from .achievements import AchievementTally
from .context import Context, Finding, Part, RouteResult, met, not_met, use
from .dates import anniversary, count_years, full_years
from .report import Evidence, Layer, RouteFamily


def education_part(ctx: Context, minimum: EducationLevel, related_major: bool = False) -> Part:
    """Whether a completed education counts as ``minimum`` or above (in a related major when asked)."""
    # Every route of a standard asks this, mostly with the same level: one part per question per evaluation.
    return ctx.remember(("education", minimum, related_major), lambda: _education_part(ctx, minimum, related_major))


def _education_part(ctx: Context, minimum: EducationLevel, related_major: bool) -> Part:
    fits = [(i, e) for i, e in ctx.educations if e.equivalent_level().at_least(minimum)]
    fitting = [(i, e) for i, e in fits if e.major_related or not related_major]
    need_zh, need_en = f"{minimum.zh}及以上学历（学位）", f"{minimum.en} or higher"
    if related_major:
        need_zh += "，且所学专业与申报专业相关"
        need_en += " in a related major"
    if fitting:
        i, e = max(fitting, key=lambda ie: (ie[1].equivalent_level().rank, -ie[0]))
        return met(f"要求{need_zh}：{ctx.summary(e).zh}。", f"Needs {need_en}: {ctx.summary(e).en}.",
                   [Evidence(path=f"education[{i}]", summary=ctx.summary(e))])
    if fits:
        i, e = fits[0]
        return not_met(f"所学专业（{e.major}）未申明与申报专业相关，要求{need_zh}。",
                       f"The major ({e.major}) is not declared related; {need_en} is needed.",
                       [Evidence(path=f"education[{i}]", summary=ctx.summary(e))])
    best = ctx.best_education()
    if best is None:
        return not_met(f"未填报学历，要求{need_zh}。", f"No education declared; {need_en} is needed.")
    i, e = best
    return not_met(f"最高学历为{ctx.summary(e).zh}，要求{need_zh}。",
                   f"Highest education is {ctx.summary(e).en}; {need_en} is needed.",
                   [Evidence(path=f"education[{i}]", summary=ctx.summary(e))])


def specialty_years_part(ctx: Context, need: Threshold, path: str) -> Part:
    """Years of technical work in the specialty (overlapping jobs counted once)."""
    spans, ev = ctx.work_spans(industry=False)
    tally = count_years(spans, need.value, ctx.as_of)
    have_zh, have_en = tally.text()
    head_zh = f"从事本专业技术工作累计 {have_zh}（至 {ctx.day}），"
    head_en = f"{have_en} of work in the specialty by {ctx.day}, "
    if tally.met:
        return met(f"{head_zh}满 {need.value} 年。", f"{head_en}at least {need.value} years.", ev, [use(path, need)])
    due = f"，将于 {tally.due.isoformat()} 满 {need.value} 年" if tally.due else ""
    return not_met(f"{head_zh}不满 {need.value} 年{due}。", f"{head_en}less than {need.value} years.", ev,
                   [use(path, need)])


class StandardRoutes:
    """The standard's education routes, each with its 台阶 and years, plus the normal number of items."""

    def routes(self, ctx: Context, tally: AchievementTally | None, *, open_: bool,
               closed_zh: str = "", closed_en: str = "") -> list[RouteResult]:
        """One result per education route of the standard."""
        s = ctx.standard
        results = []
        for index, route in enumerate(s.education_routes):
            findings = [Finding("education", Layer.EDUCATION,
                                education_part(ctx, route.min_education, route.related_major))]
            findings.append(Finding("ladder", Layer.LADDER, self.ladder_part(ctx, route, index)))
            if route.specialty_years is not None:
                findings.append(Finding("specialty_years", Layer.EDUCATION, specialty_years_part(
                    ctx, route.specialty_years, f"education_routes[{index}].specialty_years")))
            if tally is not None and s.achievements is not None:
                findings.append(tally.finding(s.achievements.k, "achievements.k"))
            results.append(RouteResult(id=route.id, family=RouteFamily.STANDARD, label=route.label, open=open_,
                                       findings=findings,
                                       closed=None if open_ else Text(zh=closed_zh, en=closed_en)))
        return results

    @staticmethod
    def ladder_titles(ctx: Context) -> list[tuple[int, TitleHeld]]:
        """Titles held that count as the 台阶: its level or above, below the target, in an accepted series."""
        ladder = ctx.standard.ladder
        assert ladder is not None
        series = ladder.accepted_series or [ctx.standard.series]
        return [(i, t) for i, t in ctx.titles
                if t.level.at_least(ladder.level) and t.level.rank < ctx.standard.level.rank and t.series in series]

    def ladder_part(self, ctx: Context, route: EducationRoute, index: int) -> Part:
        """The lower title held for the route's years. Waiving the 台阶 never drops the years (§7.3)."""
        s = ctx.standard
        ladder = s.ladder
        if route.ladder_years is None:
            if ladder is None:
                return met("本标准无台阶要求。", "The standard has no ladder requirement.")
            return met(f"本路径无须先取得{ladder.title}。", f"This route does not require the {ladder.title} title.")
        assert ladder is not None  # guaranteed by the standard's coherence check
        need = route.ladder_years.value
        uses = [use(f"education_routes[{index}].ladder_years", route.ladder_years), use("ladder", ladder)]
        held = self.ladder_titles(ctx)
        if not held:
            series = "、".join(ladder.accepted_series or [s.series])
            waived = ""
            waived_en = ""
            if ctx.relax.waive_ladder:
                waived = ("；本场虽破除台阶，但年限不能免除：未取得下一级职称的，按直接申报路径"
                          "（学历+本行业技术工作年限）核对")
                waived_en = "; the ladder waiver removes the title, not the years: see the direct routes"
            return not_met(f"未取得{series}系列{ladder.level.zh}职称（{ladder.title}），本路径要求取得后满 {need} 年"
                           f"{waived}。",
                           f"No {ladder.level.en} title ({ladder.title}); the route asks for {need} years with it"
                           f"{waived_en}.", [], uses)
        i, t = min(held, key=lambda it: (it[1].obtained_on, it[0]))
        years, on = full_years(t.obtained_on, ctx.as_of), t.obtained_on.isoformat()
        ev = [Evidence(path=f"titles[{i}]", summary=ctx.summary(t))]
        if years >= need:
            return met(f"取得{t.name}已满 {need} 年（{on} 取得，至 {ctx.day} 满 {years} 年）。",
                       f"{t.name} held at least {need} years (obtained {on}, {years} full years on {ctx.day}).",
                       ev, uses)
        due = anniversary(t.obtained_on, need).isoformat()
        return not_met(f"取得{t.name}未满 {need} 年（{on} 取得，至 {ctx.day} 满 {years} 年，"
                       f"将于 {due} 满 {need} 年）。",
                       f"{t.name} held {years} full years on {ctx.day} (obtained {on}); {need} years are complete "
                       f"on {due}.", ev, uses)
