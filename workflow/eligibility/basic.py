"""Layer 1, the basic conditions every applicant must meet (rules.md §5.1)."""

from __future__ import annotations

from workflow.eligibility.profiles import Text
from workflow.eligibility.standards import Sourced, Threshold

from .context import Context, Finding, Part, met, not_met, pending, use
from .dates import block_in_force, full_years
from .report import Evidence, Layer, Stage


class BasicConditions:
    """Standard in force, not retired, no sanction or integrity record in force, continuing education, and
    the age and foreign-language limits a standard may still keep (sessions may waive those two)."""

    def check(self, ctx: Context) -> list[Finding]:
        """One finding per condition the standard asks for."""
        b = ctx.standard.basic
        found = [Finding("standard_in_force", Layer.BASIC, self.standard_in_force(ctx))]
        if b.not_retired is not None:
            found.append(Finding("not_retired", Layer.BASIC, self.not_retired(ctx, b.not_retired)))
        if b.no_sanction is not None:
            found.append(Finding("no_sanction", Layer.BASIC, self.no_sanction(ctx, b.no_sanction)))
        if b.no_integrity_record is not None:
            found.append(Finding("no_integrity_record", Layer.BASIC,
                                 self.no_integrity_record(ctx, b.no_integrity_record)))
        if b.continuing_education is not None:
            found.append(Finding("continuing_education", Layer.BASIC, self.continuing_education(ctx)))
        if b.max_age is not None:
            found.append(Finding("age", Layer.BASIC, self.age(ctx, b.max_age)))
        if b.foreign_language is not None:
            found.append(Finding("foreign_language", Layer.BASIC, self.foreign_language(ctx, b.foreign_language)))
        return found

    @staticmethod
    def standard_in_force(ctx: Context) -> Part:
        """The standard's version covers the reference date."""
        s = ctx.standard
        start = s.effective_from.isoformat()
        end = s.effective_until.isoformat() if s.effective_until else None
        period = f"{start} 至 {end}" if end else f"{start} 起长期有效"
        head_zh = f"《{s.name.zh}》第 {s.version} 版有效期为 {period}，"
        head_en = f"Version {s.version} is in force from {start} to {end or 'no end date'}"
        if s.in_force(ctx.as_of):
            return met(f"{head_zh}{ctx.day} 在有效期内。", f"{head_en}.")
        return not_met(f"{head_zh}{ctx.day} 不在有效期内，须按当时有效的标准版本申报。",
                       f"{head_en}, which does not cover {ctx.day}.")

    @staticmethod
    def not_retired(ctx: Context, rule: Sourced) -> Part:
        """Retired people may not apply."""
        retired = ctx.profile.retired
        ev = [Evidence(path="retired", summary=Text(zh="已退休" if retired else "未退休",
                                                     en="retired" if retired else "not retired"))]
        uses = [use("basic.not_retired", rule)]
        if retired:
            return not_met("申报人已退休，退休人员不得申报职称评审。",
                           "The applicant is retired; retired people may not apply.", ev, uses)
        return met("申报人未退休。", "The applicant is not retired.", ev, uses)

    @staticmethod
    def no_sanction(ctx: Context, rule: Sourced) -> Part:
        """No sanction's effect period covers the reference date."""
        uses = [use("basic.no_sanction", rule)]
        active = [(i, x) for i, x in enumerate(ctx.profile.sanctions) if x.in_force(ctx.as_of)]
        if not active:
            past = len(ctx.profile.sanctions)
            extra = f"（已过影响期的处分 {past} 项不影响申报）" if past else ""
            return met(f"无影响期内的处分{extra}。", "No sanction is in force.", [], uses)
        x = min((x for _, x in active), key=lambda y: (y.start, y.kind.value))
        end_zh = x.end.isoformat() if x.end else "未定"
        end_en = x.end.isoformat() if x.end else "open-ended"
        ev = [Evidence(path=f"sanctions[{i}]", summary=y.kind.text) for i, y in active]
        return not_met(f"{ctx.day} 处于处分影响期内：{x.kind.zh}（{x.start.isoformat()} 至 {end_zh}），"
                       "影响期内不得申报。",
                       f"A sanction is in force on {ctx.day}: {x.kind.en} ({x.start.isoformat()} to {end_en}).",
                       ev, uses)

    @staticmethod
    def no_integrity_record(ctx: Context, rule: Sourced) -> Part:
        """An integrity record blocks up to the day before it ends (its Nth anniversary, §7.5)."""
        uses = [use("basic.no_integrity_record", rule)]
        ends = ctx.profile.integrity_record_until
        if ends is None:
            return met("无诚信记录。", "No integrity record.", [], uses)
        end = ends.isoformat()
        if not block_in_force(None, ends, ctx.as_of):
            return met(f"诚信记录已于 {end} 期满，不影响申报。", f"The integrity record ended on {end}.", [], uses)
        ev = [Evidence(path="integrity_record_until", summary=Text(zh=f"诚信记录至 {end} 期满",
                                                                    en=f"record ends on {end}"))]
        return not_met(f"存在诚信记录，{end} 期满，期满前不得申报（{end} 起可申报）。",
                       f"An integrity record is in force until it ends on {end}; no application before then.",
                       ev, uses)

    @staticmethod
    def continuing_education(ctx: Context) -> Part:
        """At least N hours in each of the last full calendar years since the applicant started working."""
        rule = ctx.standard.basic.continuing_education
        assert rule is not None
        need, span = rule.hours_per_year.value, rule.years_checked.value
        uses = [use("basic.continuing_education.hours_per_year", rule.hours_per_year),
                use("basic.continuing_education.years_checked", rule.years_checked)]
        years = list(range(ctx.as_of.year - span, ctx.as_of.year))
        starts = [w.start for w in ctx.profile.work_history if w.start <= ctx.as_of]
        if starts:  # only years since the applicant started working can be asked for
            years = [y for y in years if y >= min(starts).year]
        if not years:
            return met("参加工作不足一个完整年度，无须核查继续教育学时。",
                       "Less than one full calendar year of work: nothing to check.", [], uses)
        hours: dict[int, tuple[int, float]] = {}
        for i, c in enumerate(ctx.profile.continuing_education):
            hours.setdefault(c.year, (i, c.hours))
        ev = [Evidence(path=f"continuing_education[{hours[y][0]}]",
                       summary=Text(zh=f"{y} 年 {hours[y][1]:g} 学时", en=f"{y}: {hours[y][1]:g} hours"))
              for y in years if y in hours]
        below = [y for y in years if y in hours and hours[y][1] < need]
        missing = [y for y in years if y not in hours]
        span_zh = f"{years[0]}—{years[-1]} 年" if len(years) > 1 else f"{years[0]} 年"
        if not below and not missing:
            listed = "，".join(f"{y} 年 {hours[y][1]:g} 学时" for y in years)
            return met(f"{span_zh}继续教育学时均达到每年 {need} 学时（{listed}）。",
                       f"At least {need} hours in each year {years[0]}–{years[-1]}.", ev, uses)
        if below:
            gaps = "，".join(f"{y} 年 {hours[y][1]:g} 学时" for y in below)
            gaps_en = ", ".join(f"{y}: {hours[y][1]:g} hours" for y in below)
            return not_met(f"继续教育学时未达到每年 {need} 学时：{gaps}（核查 {span_zh}）。",
                           f"Continuing education below {need} hours a year: {gaps_en}.", ev, uses)
        unreported = "、".join(f"{y} 年" for y in missing)
        if ctx.stage == Stage.SUBMISSION:
            # A year not filled in is not a year below the hours: the unit checks the records (often kept in
            # the provincial continuing-education register) in its review; from then on it must be shown.
            return pending(f"{unreported}未填报继续教育学时（每年须 {need} 学时，核查 {span_zh}），请补充填报，"
                           "或由用人单位初审时核实；单位考核推荐及资格复核时须已核实。",
                           f"No hours reported for {', '.join(map(str, missing))}; the unit checks them in its "
                           "review.", ev, uses)
        return not_met(f"{unreported}未填报继续教育学时（每年须 {need} 学时，核查 {span_zh}）。",
                       f"No continuing-education hours reported for {', '.join(map(str, missing))}.", ev, uses)

    @staticmethod
    def age(ctx: Context, limit: Threshold) -> Part:
        """The standard's age limit, unless the session waives it."""
        age, cap = full_years(ctx.profile.birth_date, ctx.as_of), limit.value
        uses = [use("basic.max_age", limit)]
        born = ctx.profile.birth_date.isoformat()
        ev = [Evidence(path="birth_date", summary=Text(zh=f"出生日期 {born}", en=f"born {born}"))]
        if age <= cap:
            return met(f"至 {ctx.day} 年满 {age} 周岁，不超过 {cap} 周岁。",
                       f"Aged {age} on {ctx.day}, within the limit of {cap}.", ev, uses)
        if ctx.relax.waive_age:
            cite_zh, cite_en = ctx.policy()
            return met(f"已按本场政策放宽年龄限制{cite_zh}：至 {ctx.day} 年满 {age} 周岁（标准上限 {cap} 周岁）。",
                       f"Age limit of {cap} waived by the session{cite_en}; the applicant is {age}.",
                       ev, uses, "waive_age")
        return not_met(f"至 {ctx.day} 年满 {age} 周岁，超过 {cap} 周岁的年龄上限。",
                       f"Aged {age} on {ctx.day}, above the limit of {cap}.", ev, uses)

    @staticmethod
    def foreign_language(ctx: Context, rule: Sourced) -> Part:
        """A foreign-language qualification where a standard still asks for one (sessions may waive it)."""
        uses = [use("basic.foreign_language", rule)]
        passed = [(i, c) for i, c in enumerate(ctx.profile.foreign_language) if c.passed_on <= ctx.as_of]
        if passed:
            ev = [Evidence(path=f"foreign_language[{i}]", summary=Text(zh=f"{c.language} {c.name}",
                                                                        en=f"{c.language} {c.name}"))
                  for i, c in passed]
            c = min((c for _, c in passed), key=lambda x: (x.passed_on, x.name))
            return met(f"已取得外语合格证明：{c.language} {c.name}（{c.passed_on.isoformat()}）。",
                       f"Foreign-language qualification: {c.language} {c.name}.", ev, uses)
        if ctx.relax.waive_foreign_language:
            cite_zh, cite_en = ctx.policy()
            return met(f"本场评审不作外语要求{cite_zh}。", f"No foreign-language requirement here{cite_en}.",
                       [], uses, "waive_foreign_language")
        return not_met("本标准要求外语合格证明，申报人未填报。",
                       "The standard asks for a foreign-language qualification; none is declared.", [], uses)
