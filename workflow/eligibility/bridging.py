"""Skilled-worker bridging (技能 → 工程, rules.md §7.2): the skill certificate, the wait after it (national, or
the local channel's), and the unit's assessment — pending at submission, required from the recommendation."""

from __future__ import annotations

from workflow.eligibility.profiles import SkillCertificate, Text
from workflow.eligibility.standards import BridgingEntry, Threshold

from .achievements import AchievementTally
from .context import Context, Finding, Part, RouteResult, met, not_met, pending, use
from .dates import anniversary, full_years, reached
from .report import Evidence, Layer, RelaxationName, RouteFamily, Stage


class BridgingRoute:
    """The bridging route to the standard's own title."""

    def route(self, ctx: Context, tally: AchievementTally | None) -> RouteResult:
        """The route's findings; closed when the standard has no bridging entry for its title."""
        s = ctx.standard
        label = Text(zh=f"技能人才贯通申报{s.title}", en=f"Skill bridging to {s.title}")
        entries = s.bridging_entries()
        if s.bridging is None or not entries:
            return RouteResult(id="bridging", family=RouteFamily.BRIDGING, label=label, open=False, findings=[],
                               closed=Text(zh=f"本标准未规定技能人才贯通申报{s.title}的条件。",
                                           en=f"The standard defines no skill bridging to {s.title}."))
        findings = self.certificate_findings(ctx, entries)
        findings.append(Finding("unit_assessment", Layer.BRIDGING, self.assessment_part(ctx)))
        if tally is not None and s.achievements is not None:
            findings.append(tally.finding(s.achievements.k, "achievements.k"))
        return RouteResult(id="bridging", family=RouteFamily.BRIDGING, label=label, open=True, findings=findings)

    def certificate_findings(self, ctx: Context, entries: list[BridgingEntry]) -> list[Finding]:
        """The certificate held and the years since it, for the entry that serves the applicant best."""
        s = ctx.standard
        assert s.bridging is not None
        legacy = s.bridging.relaxed_waiting_years

        def wait(entry: BridgingEntry) -> tuple[int, Threshold | None]:
            local = entry.relaxed_waiting_years or legacy
            if ctx.relax.local_bridging_channel and local is not None:
                return local.value, local
            return entry.waiting_years.value, None

        pairs = [(e, i, c) for e in entries for i, c in enumerate(ctx.profile.skill_certificates)
                 if c.level.at_least(e.skill_level) and c.obtained_on <= ctx.as_of]
        if not pairs:
            lowest = min(entries, key=lambda e: e.skill_level.rank)
            held = "、".join(c.level.value for c in ctx.profile.skill_certificates) or "无"
            where = f"bridging.map[{s.bridging.map.index(lowest)}].waiting_years"
            return [Finding("skill_certificate", Layer.BRIDGING, not_met(
                f"贯通申报{s.title}须持有{lowest.skill_level.value}及以上职业技能等级证书，申报人持有：{held}。",
                f"Bridging to {s.title} needs a {lowest.skill_level.en} certificate or higher; none is declared.",
                [], [use(where, lowest.waiting_years)]))]

        def rank(pair: tuple[BridgingEntry, int, SkillCertificate]) -> tuple[bool, int, int]:
            # Prefer a certificate that already meets its wait, then the longest-held, then the first entry.
            entry, i, c = pair
            return reached(c.obtained_on, wait(entry)[0], ctx.as_of), -c.obtained_on.toordinal(), -i

        entry, i, cert = max(pairs, key=rank)
        ev = [Evidence(path=f"skill_certificates[{i}]", summary=ctx.summary(cert))]
        found = [Finding("skill_certificate", Layer.BRIDGING, met(
            f"持有{ctx.summary(cert).zh}，可贯通申报{s.title}（须{entry.skill_level.value}及以上）。",
            f"Holds {ctx.summary(cert).en}; may bridge to {s.title}.", ev))]
        need, local = wait(entry)
        found.append(Finding("bridging_waiting_years", Layer.BRIDGING,
                             self.waiting_part(ctx, entry, cert, ev, need, local)))
        return found

    @staticmethod
    def waiting_part(ctx: Context, entry: BridgingEntry, cert: SkillCertificate, ev: list[Evidence], need: int,
                     local: Threshold | None) -> Part:
        """Years since the certificate against the national wait, or the local channel's."""
        s = ctx.standard
        assert s.bridging is not None
        national = entry.waiting_years.value
        index = s.bridging.map.index(entry)
        uses = [use(f"bridging.map[{index}].waiting_years", entry.waiting_years, need)]
        on, level = cert.obtained_on.isoformat(), cert.level.value
        years = full_years(cert.obtained_on, ctx.as_of)
        lead_zh = lead_en = ""
        relaxation: RelaxationName | None = None
        if local is not None:
            uses.append(use(f"bridging.map[{index}].relaxed_waiting_years", local))
            relaxation = "local_bridging_channel"
            # The entry's own source: the session's citation is for its waivers, not for this channel.
            cite_zh, cite_en = f"（依据：{local.source}）", f" (per {local.source})"
            if need == 0:
                return met(f"按本地政策经单位考核推荐可直接申报，不受取得技能等级后年限限制{cite_zh}（国家规定为 "
                           f"{national} 年）。{level}证书于 {on} 取得。",
                           f"Direct application after the unit's assessment{cite_en} (nationally {national} years).",
                           ev, uses, relaxation)
            lead_zh = f"按本地政策，取得技能等级后年限为 {need} 年{cite_zh}（国家规定为 {national} 年）；"
            lead_en = f"Waiting years set to {need}{cite_en} (nationally {national}); "
        elif ctx.relax.local_bridging_channel:
            lead_zh = f"本地直接申报政策不适用于{entry.skill_level.value}贯通{entry.title}，仍按国家规定；"
            lead_en = f"The local direct channel does not cover {entry.skill_level.en}; the national wait applies; "
        if reached(cert.obtained_on, need, ctx.as_of):
            return met(f"{lead_zh}取得{level}已满 {need} 年（{on} 取得，至 {ctx.day} 满 {years} 年）。",
                       f"{lead_en}{level} held at least {need} years ({years} full years on {ctx.day}).",
                       ev, uses, relaxation)
        due = anniversary(cert.obtained_on, need).isoformat()
        return not_met(f"{lead_zh}取得{level}未满 {need} 年（{on} 取得，至 {ctx.day} 满 {years} 年，"
                       f"将于 {due} 满 {need} 年）。",
                       f"{lead_en}{level} held {years} full years on {ctx.day}; {need} years are complete on {due}.",
                       ev, uses, relaxation)

    @staticmethod
    def assessment_part(ctx: Context) -> Part:
        """The unit's assessment: pending at submission, required at the recommendation and the re-check."""
        s = ctx.standard
        assert s.bridging is not None
        uses = [use("bridging.unit_assessment", s.bridging.unit_assessment)] if s.bridging.unit_assessment else []
        a = ctx.assessment
        if a is not None and a.on <= ctx.as_of:
            by = f"，考核人：{a.by}" if a.by else ""
            ev = [Evidence(path="assessment", summary=Text(zh=f"单位考核{a.result}（{a.on.isoformat()}{by}）",
                                                           en=f"unit assessment {a.result} ({a.on.isoformat()})"))]
            if a.passed:
                return met(f"用人单位于 {a.on.isoformat()} 考核{a.result}并推荐{by}。",
                           f"The unit assessed the applicant as {a.result} on {a.on.isoformat()}.", ev, uses)
            return not_met(f"用人单位于 {a.on.isoformat()} 考核结果为{a.result}，贯通申报须考核合格。",
                           f"The unit's assessment on {a.on.isoformat()} was {a.result}; a pass is required.",
                           ev, uses)
        if ctx.stage == Stage.SUBMISSION:
            return pending("待单位考核：由用人单位在“单位考核推荐”环节记录考核结果（结果、日期、考核人），"
                           "提交时不影响申报。",
                           "Awaits the unit's assessment, recorded at the unit's recommendation step; "
                           "it does not block submission.", [], uses)
        return not_met(f"{ctx.stage.zh}时尚无单位考核记录，贯通申报须经用人单位考核合格并推荐。",
                       f"No unit assessment is recorded at the {ctx.stage.en.lower()}; bridging requires a pass.",
                       [], uses)
