"""Layers 4 and 6 and the benefits: work experience (第七条), representative works (第六条) and economic or
social benefits — what the applicant shows beyond education and years."""

from __future__ import annotations

from workflow.eligibility.profiles import Achievement, Text, WorkKind
from workflow.eligibility.standards import AchievementKind

from .achievements import AchievementTally
from .context import Context, Finding, Part, kinds_en, kinds_zh, met, not_met, pending, use
from .report import Evidence, Layer, RelaxationName, Stage


class WorkExperience:
    """Work experience: proven by a verified achievement of the kinds or items an experience names,
    otherwise declared with evidence and left to the experts' judgement."""

    def check(self, ctx: Context, tally: AchievementTally | None) -> list[Finding]:
        """At most one finding (none when the standard has no work-experience layer)."""
        rule = ctx.standard.work_experience
        if rule is None:
            return []
        need = rule.min_items.value
        uses = [use("work_experience.min_items", rule.min_items)]
        listing_zh = "；".join(f"{n}. {item.text.zh}" for n, item in enumerate(rule.items, 1))
        listing_en = "; ".join(f"{n}. {item.text.en}" for n, item in enumerate(rule.items, 1))
        proven: list[tuple[Text, Evidence]] = []
        for item in rule.items:
            proof = self.proof(ctx, tally, item.evidence_kinds, item.evidence_items)
            if proof is not None:
                proven.append((item.text, proof))
        if len(proven) >= need:
            shown = proven[:need]
            proofs = "；".join(f"「{t.zh}」由{e.summary.zh}佐证" for t, e in shown)
            part = met(f"已核实的业绩可证明工作经历：{proofs}。",
                       "Verified achievements prove the work experience: "
                       + "; ".join(f"'{t.en}' by {e.summary.en}" for t, e in shown) + ".", [e for _, e in shown], uses)
            return [Finding("work_experience", Layer.EXPERIENCE, part, hard=rule.hard)]
        ids = {item.id for item in rule.items}
        claims = [(i, c) for i, c in enumerate(ctx.profile.experience_claims) if not c.item or c.item in ids]
        claim_ev = [Evidence(path=f"experience_claims[{i}]", summary=ctx.summary(c)) for i, c in claims]
        _, work_ev = ctx.work_spans(industry=True)
        if not claims and not work_ev:
            part = not_met(f"未填报本专业/本行业工作经历；本标准要求具备下列工作经历中的 {need} 项：{listing_zh}",
                           f"No work is declared; {need} of these are required: {listing_en}", [], uses)
            return [Finding("work_experience", Layer.EXPERIENCE, part, hard=rule.hard)]
        evidenced = [c for _, c in claims if c.evidence]
        declared = f"申报人填报工作经历 {len(claims)} 项（有佐证材料 {len(evidenced)} 项）；" if claims else ""
        part = pending(f"{declared}须由评审专家对照下列工作经历（具备其中 {need} 项）作出评议：{listing_zh}",
                       f"Experts judge whether {need} of these apply: {listing_en}", claim_ev + work_ev, uses)
        return [Finding("work_experience", Layer.EXPERIENCE, part, hard=rule.hard)]

    @staticmethod
    def proof(ctx: Context, tally: AchievementTally | None, kinds: list[AchievementKind],
              items: list[str]) -> Evidence | None:
        """A verified achievement that proves an experience, or None."""
        if tally is not None and items:
            found = tally.verified_for(items)
            if found:
                return found[0]
        for i, a in enumerate(ctx.profile.achievements):
            if a.kind in kinds and a.verified and a.year <= ctx.as_of.year:
                return Evidence(path=f"achievements[{i}]", summary=ctx.summary(a))
        return None


class RepresentativeWorks:
    """代表作 instead of papers; a technical document counts once the unit verified it and it is long enough."""

    def check(self, ctx: Context) -> list[Finding]:
        """At most one finding."""
        rule = ctx.standard.representative_works
        if rule is None:
            return []
        need = rule.min_count.value
        uses = [use("representative_works.min_count", rule.min_count)]
        min_chars = 0
        if rule.technical_document_min_chars is not None:
            min_chars = rule.technical_document_min_chars.value
            uses.append(use("representative_works.technical_document_min_chars", rule.technical_document_min_chars))
        counted, skipped, unverified = [], [], []
        for i, w in enumerate(ctx.profile.works):
            is_document = w.kind in rule.document_kinds
            if w.kind not in rule.kinds:
                skipped.append(f"{ctx.summary(w).zh}不属于可认定的代表作类型")
            elif w.year > ctx.as_of.year:
                skipped.append(f"{ctx.summary(w).zh}晚于评价年度")
            elif is_document and (w.character_count or 0) < min_chars:
                skipped.append(f"{ctx.summary(w).zh}共 {w.character_count or 0} 字，不足 {min_chars} 字")
            elif is_document and not w.unit_verified:
                skipped.append(f"{ctx.summary(w).zh}尚未经单位认定，暂不计入")
                unverified.append((i, w))
            else:
                counted.append((i, w))
        ev = [Evidence(path=f"works[{i}]", summary=ctx.summary(w)) for i, w in counted]
        tail = f"（不计入：{'；'.join(skipped)}）" if skipped else ""
        relaxation: RelaxationName | None = None
        if rule.min_papers is not None and rule.min_papers.value > 0:
            uses.append(use("representative_works.min_papers", rule.min_papers))
            need_papers = rule.min_papers.value
            papers = sum(1 for _, w in counted if w.kind == WorkKind.PAPER)
            if ctx.relax.waive_papers:
                tail = f"本场评审不作论文硬性要求{ctx.policy()[0]}（标准原要求论文 {need_papers} 篇）。{tail}"
                relaxation = "waive_papers"
            elif papers < need_papers:
                too_few_papers = not_met(f"本标准要求代表作中至少有论文 {need_papers} 篇，现有 {papers} 篇。{tail}",
                                         f"At least {need_papers} papers are required among the works; "
                                         f"{papers} declared.", ev, uses)
                return [Finding("representative_works", Layer.WORKS, too_few_papers, hard=rule.hard)]
        if len(counted) >= need:
            listed = "；".join(ctx.summary(w).zh for _, w in counted)
            part: Part = met(f"代表作 {len(counted)} 件，须 {need} 件：{listed}。{tail}",
                             f"{len(counted)} representative works, {need} required.", ev, uses, relaxation)
        else:
            length = f"（技术文档须经单位认定且不少于 {min_chars} 字）" if min_chars else ""
            part = not_met(f"可计入的代表作 {len(counted)} 件，须至少 {need} 件。论文不是唯一途径，"
                           f"可认定的代表作：{kinds_zh(rule.kinds)}{length}。{tail}",
                           f"{len(counted)} representative works count, at least {need} required (accepted: "
                           f"{kinds_en(rule.kinds)}; a technical document counts once the unit verified it).",
                           ev, uses, relaxation)
            if ctx.stage == Stage.SUBMISSION and len(counted) + len(unverified) >= need:
                # The unit 认定s documents in its review, after submission: until then they do not count, but
                # they do not stop the applicant from handing them to the unit either. From the unit's
                # recommendation on, an unverified document simply does not count.
                part.zh += "提交后由用人单位在初审中认定；单位考核推荐及资格复核时，未经认定的技术文档不计入。"
                part.en += " The unit verifies documents in its review; unverified ones never count later."
                return [Finding("representative_works", Layer.WORKS, part, hard=False)]
        return [Finding("representative_works", Layer.WORKS, part, hard=rule.hard)]


class Benefits:
    """Economic or social benefit items with evidence (no numeric threshold: evidence and judgement)."""

    def check(self, ctx: Context) -> list[Finding]:
        """At most one finding."""
        rule = ctx.standard.benefits
        if rule is None:
            return []
        need = rule.min_items.value
        uses = [use("benefits.min_items", rule.min_items)]
        verified: list[tuple[int, Achievement]] = []
        unverified: list[tuple[int, Achievement]] = []
        skipped: list[str] = []
        for i, a in enumerate(ctx.profile.achievements):
            if a.kind not in rule.kinds:
                continue
            if a.year > ctx.as_of.year:
                skipped.append(f"{ctx.summary(a).zh}晚于评价年度")
            elif not a.evidence:
                skipped.append(f"{ctx.summary(a).zh}未提供证明材料")
            else:
                (verified if a.verified else unverified).append((i, a))
        total, done = len(verified) + len(unverified), len(verified)
        ev = [Evidence(path=f"achievements[{i}]", summary=ctx.summary(a)) for i, a in verified + unverified]
        head = f"有证明材料的{kinds_zh(rule.kinds)} {total} 项"
        tail = f"（不计入：{'；'.join(skipped)}）" if skipped else ""
        if done >= need:
            part = met(f"{head}（已核实 {done} 项），须 {need} 项。{tail}",
                       f"{total} evidenced benefit items ({done} verified), {need} required.", ev, uses)
        elif total >= need:
            part = pending(f"{head}，须 {need} 项，其中 {total - done} 项待单位核实。{tail}",
                           f"{total} evidenced benefit items, {need} required; {total - done} await verification.",
                           ev, uses)
        else:
            part = not_met(f"{head}，须至少 {need} 项。{tail}",
                           f"{total} evidenced benefit items, at least {need} required.", ev, uses)
        return [Finding("benefits", Layer.BENEFITS, part, hard=rule.hard)]
