"""What an applicant declares about themselves (申报人信息), and the vocabulary it is written in.

The profile is stored as JSON (``applicant_profile.body``) and edited through web forms, so every field has a
clear validation message and every enumeration has Chinese and English labels for the UI. Two conventions:

* graded classifications that are themselves official Chinese terms (education level, title level, skill
  level) use the **Chinese term as the stored value** — the same strings the pipelines, cases and standards
  use (``副高``, ``高级工``), so the data reads the same everywhere;
* open vocabularies of kinds (achievements, representative works, sanctions) use **English snake_case codes**
  with Chinese labels, because their wording varies between documents while the code must not.

Every enumeration is a :class:`Vocabulary`: ``member.zh``, ``member.en``, ``Cls.label_map()`` and
``Cls.choices(locale)`` give the labels.

The profile only records facts. Whether they satisfy a standard is :mod:`workflow.eligibility`'s job.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from workflow.access.identity import birth_date_mismatch, id_number_problem, normalise_id_number
from workflow.errors import WorkflowError

# ------------------------------------------------------------------------------------------------------------
# Bilingual text and labelled vocabularies
# ------------------------------------------------------------------------------------------------------------


class Text(BaseModel):
    """A user-facing text in Chinese (shown by default) and English."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _english_defaults_to_chinese(cls, data: Any) -> Any:
        # A Hunan-only standard or label may have no English wording: the English pages then show the Chinese
        # rather than refusing the whole text (an empty English name was a validation error before).
        if isinstance(data, dict) and isinstance(data.get("zh"), str) and data["zh"].strip() \
                and not (isinstance(data.get("en"), str) and data["en"].strip()):
            return {**data, "en": data["zh"]}
        return data

    def get(self, locale: str = "zh") -> str:
        """The text in ``locale`` (anything starting with ``en`` is English, everything else Chinese)."""
        return self.en if locale.startswith("en") else self.zh


_LABELS: dict[type, dict[str, tuple[str, str]]] = {}
_RANKS: dict[type, dict[Vocabulary, int]] = {}


class Vocabulary(StrEnum):
    """A closed vocabulary whose members carry Chinese and English labels (see :func:`register_labels`).

    Members compare equal to their stored string value, so ``TitleLevel("副高") == "副高"``.
    """

    @property
    def zh(self) -> str:
        """The Chinese label."""
        return _LABELS[type(self)][self._value_][0]  # _value_: Enum's .value is a (slow) descriptor

    @property
    def en(self) -> str:
        """The English label."""
        return _LABELS[type(self)][self._value_][1]

    @property
    def text(self) -> Text:
        """Both labels as a :class:`Text`."""
        return Text(zh=self.zh, en=self.en)

    @classmethod
    def label_map(cls) -> dict[str, dict[str, str]]:
        """``{value: {"zh": ..., "en": ...}}`` in definition order, for templates and JSON APIs."""
        return {m.value: {"zh": m.zh, "en": m.en} for m in cls}

    @classmethod
    def choices(cls, locale: str = "zh") -> list[tuple[str, str]]:
        """``[(value, label)]`` in definition order, the shape select widgets take."""
        return [(m.value, m.en if locale.startswith("en") else m.zh) for m in cls]


class OrderedVocabulary(Vocabulary):
    """A vocabulary whose members are declared from lowest to highest, so they can be compared by rank."""

    @property
    def rank(self) -> int:
        """Position from the lowest member (0)."""
        # The evaluator asks ~40 times per check; listing the enum and searching it each time cost ~5 µs.
        ranks = _RANKS.get(type(self))
        if ranks is None:
            ranks = _RANKS[type(self)] = {m: i for i, m in enumerate(type(self))}
        return ranks[self]

    def at_least(self, other: OrderedVocabulary) -> bool:
        """True when this member ranks at or above ``other`` (which must be of the same vocabulary)."""
        if type(other) is not type(self):
            raise TypeError(f"cannot compare {type(self).__name__} with {type(other).__name__}")
        return self.rank >= other.rank


def register_labels(cls: type[Vocabulary], labels: dict[str, tuple[str, str]]) -> None:
    """Register the (zh, en) labels of a vocabulary; every member needs exactly one, checked at import time.

    Call it right after the class body (the labels cannot live inside an Enum body without becoming members).
    """
    values = {m.value for m in cls}
    if set(labels) != values:
        raise RuntimeError(f"labels of {cls.__name__} do not match its members: {set(labels) ^ values}")
    _LABELS[cls] = labels


class EducationLevel(OrderedVocabulary):
    """Highest education (学历/学位), lowest first."""

    HIGH_SCHOOL = "高中"
    SECONDARY_VOCATIONAL = "中专"
    COLLEGE = "大专"
    BACHELOR = "本科"
    MASTER = "硕士"
    DOCTORATE = "博士"


register_labels(EducationLevel, {
    "高中": ("高中", "High school"),
    "中专": ("中专（中职）", "Secondary vocational school"),
    "大专": ("大学专科", "Junior college"),
    "本科": ("大学本科", "Bachelor's degree"),
    "硕士": ("硕士研究生", "Master's degree"),
    "博士": ("博士研究生", "Doctorate"),
})


class Degree(OrderedVocabulary):
    """Academic degree (学位), declared apart from the 学历: an in-service master's sits on a 本科 学历."""

    BACHELOR = "学士"
    MASTER = "硕士"
    DOCTORATE = "博士"


register_labels(Degree, {
    "学士": ("学士学位", "Bachelor's degree"),
    "硕士": ("硕士学位", "Master's degree"),
    "博士": ("博士学位", "Doctoral degree"),
})

DEGREE_EQUIVALENT: dict[Degree, EducationLevel] = {
    Degree.BACHELOR: EducationLevel.BACHELOR, Degree.MASTER: EducationLevel.MASTER,
    Degree.DOCTORATE: EducationLevel.DOCTORATE,
}
"""The education level a degree counts as where a standard asks for "硕士学位或本科学历"."""


class SchoolType(Vocabulary):
    """The kind of school an education was completed at."""

    GENERAL = "general"
    TECHNICAL = "technical_school"


register_labels(SchoolType, {
    "general": ("普通高等学校/中等职业学校", "University, college or vocational school"),
    "technical_school": ("技工院校", "Technical school (技工院校)"),
})


class TechnicalClass(OrderedVocabulary):
    """The class of a 技工院校 graduate, lowest first; each is treated as an education level (rules.md §7.1)."""

    INTERMEDIATE = "中级工班"
    SENIOR = "高级工班"
    PREPARATORY_TECHNICIAN = "预备技师班"


register_labels(TechnicalClass, {
    "中级工班": ("中级工班", "Intermediate-worker class"),
    "高级工班": ("高级工班", "Senior-worker class"),
    "预备技师班": ("预备技师（技师）班", "Preparatory-technician class"),
})

TECHNICAL_CLASS_EQUIVALENT: dict[TechnicalClass, EducationLevel] = {
    TechnicalClass.INTERMEDIATE: EducationLevel.SECONDARY_VOCATIONAL,
    TechnicalClass.SENIOR: EducationLevel.COLLEGE,
    TechnicalClass.PREPARATORY_TECHNICIAN: EducationLevel.BACHELOR,
}
"""技工院校 graduates apply as 中专 / 大专 / 本科 equivalents (中级工班 / 高级工班 / 预备技师班) [S]."""


class TitleLevel(OrderedVocabulary):
    """Level of a professional title (职称级别), lowest first. 初级 has two grades: 员级 and 助理级."""

    JUNIOR = "初级"
    ASSISTANT = "助理"
    INTERMEDIATE = "中级"
    DEPUTY_SENIOR = "副高"
    SENIOR = "正高"


register_labels(TitleLevel, {
    "初级": ("初级（员级）", "Junior (technician grade)"),
    "助理": ("初级（助理级）", "Junior (assistant grade)"),
    "中级": ("中级", "Intermediate"),
    "副高": ("副高级", "Associate senior"),
    "正高": ("正高级", "Full senior"),
})


class SkillLevel(OrderedVocabulary):
    """Vocational skill level (职业技能等级), lowest first; 特级技师 and 首席技师 top the 新八级工."""

    GRADE_5 = "初级工"
    GRADE_4 = "中级工"
    GRADE_3 = "高级工"
    GRADE_2 = "技师"
    GRADE_1 = "高级技师"
    MASTER_TECHNICIAN = "特级技师"
    CHIEF_TECHNICIAN = "首席技师"


register_labels(SkillLevel, {
    "初级工": ("五级/初级工", "Grade 5 (junior worker)"),
    "中级工": ("四级/中级工", "Grade 4 (intermediate worker)"),
    "高级工": ("三级/高级工", "Grade 3 (senior worker)"),
    "技师": ("二级/技师", "Grade 2 (technician)"),
    "高级技师": ("一级/高级技师", "Grade 1 (senior technician)"),
    "特级技师": ("特级技师", "Master technician"),
    "首席技师": ("首席技师", "Chief technician"),
})


class AchievementKind(Vocabulary):
    """Kinds of achievement items (业绩成果) a standard can count."""

    PATENT_INVENTION = "patent_invention"
    PATENT_UTILITY = "patent_utility"
    SOFTWARE_COPYRIGHT = "software_copyright"
    STANDARD_DRAFTED = "standard_drafted"
    FIRST_OF_KIND_EQUIPMENT = "first_of_kind_equipment"
    KEY_PROJECT = "key_project"
    TECHNICAL_BREAKTHROUGH = "technical_breakthrough"
    NEW_PRODUCT = "new_product"
    MANAGEMENT_INNOVATION = "management_innovation"
    AWARD_NATIONAL = "award_national"
    AWARD_PROVINCIAL = "award_provincial"
    AWARD_MUNICIPAL = "award_municipal"
    ECONOMIC_BENEFIT = "economic_benefit"
    SOCIAL_BENEFIT = "social_benefit"
    FRONTLINE_SERVICE = "frontline_service"


register_labels(AchievementKind, {
    "patent_invention": ("授权发明专利", "Granted invention patent"),
    "patent_utility": ("授权实用新型专利", "Granted utility-model patent"),
    "software_copyright": ("软件著作权", "Software copyright"),
    "standard_drafted": ("主持或参与制定标准", "Standard drafted"),
    "first_of_kind_equipment": ("首台（套）重大技术装备/首批次/首版次", "First-of-kind equipment (首台套)"),
    "key_project": ("重点工程/重大项目", "Key project"),
    "technical_breakthrough": ("解决关键技术难题", "Key technical problem solved"),
    "new_product": ("新产品/新工艺开发", "New product or process"),
    "management_innovation": ("管理创新成果", "Management innovation"),
    "award_national": ("国家级奖励", "National award"),
    "award_provincial": ("省部级奖励", "Provincial or ministerial award"),
    "award_municipal": ("市厅级奖励", "Municipal award"),
    "economic_benefit": ("经济效益", "Economic benefit"),
    "social_benefit": ("社会效益", "Social benefit"),
    "frontline_service": ("长期扎根生产一线或艰苦边远地区，推动当地技术进步", "Long front-line or remote-area service"),
})


class WorkKind(Vocabulary):
    """Kinds of representative works (代表作). Papers are one kind among many, never the only way."""

    PAPER = "paper"
    MONOGRAPH = "monograph"
    PATENT = "patent"
    PROJECT_REPORT = "project_report"
    DESIGN_DOCUMENT = "design_document"
    STANDARD = "standard"
    TECHNICAL_DOCUMENT = "technical_document"
    RESEARCH_REPORT = "research_report"
    CASE_STUDY = "case_study"
    MANAGEMENT_PLAN = "management_plan"


register_labels(WorkKind, {
    "paper": ("论文", "Paper"),
    "monograph": ("专著", "Monograph"),
    "patent": ("专利", "Patent"),
    "project_report": ("项目报告", "Project report"),
    "design_document": ("设计文件", "Design document"),
    "standard": ("标准", "Standard"),
    "technical_document": ("技术文档（经单位认定）", "Technical document (unit-verified)"),
    "research_report": ("研究/调研报告", "Research report"),
    "case_study": ("管理案例", "Case study"),
    "management_plan": ("管理方案/制度", "Management plan or policy"),
})


class RecognitionLevel(OrderedVocabulary):
    """At what level an achievement was granted, appraised or accepted, lowest first."""

    ENTERPRISE = "enterprise"
    MUNICIPAL = "municipal"
    PROVINCIAL = "provincial"
    NATIONAL = "national"


register_labels(RecognitionLevel, {
    "enterprise": ("企业/单位级", "Enterprise"),
    "municipal": ("市（州）级", "Municipal"),
    "provincial": ("省部级", "Provincial or ministerial"),
    "national": ("国家级", "National"),
})


class FirmRole(Vocabulary):
    """The applicant's role in running a firm; only 主要负责人 opens the enterprise-leader routes."""

    PRINCIPAL = "principal"
    DEPUTY = "deputy"
    OTHER = "other"


register_labels(FirmRole, {
    "principal": ("主要负责人（董事长、总经理）", "Principal leader (chair, general manager)"),
    "deputy": ("副职负责人", "Deputy leader"),
    "other": ("其他管理岗位", "Other management post"),
})


class FirmRecognition(Vocabulary):
    """Recognitions of a firm the Hunan SME standard names (rules.md §7.3)."""

    NATIONAL_LITTLE_GIANT = "national_little_giant"
    SINGLE_CHAMPION = "manufacturing_single_champion"
    PROVINCIAL_SPECIALISED = "provincial_specialised"


register_labels(FirmRecognition, {
    "national_little_giant": ("国家级专精特新“小巨人”企业", "National specialised 'little giant'"),
    "manufacturing_single_champion": ("国家级制造业单项冠军企业", "National manufacturing single champion"),
    "provincial_specialised": ("省级专精特新中小企业", "Provincial specialised SME"),
})


class SanctionKind(Vocabulary):
    """Kinds of disciplinary sanction (处分) that block an application while in force."""

    WARNING = "warning"
    DEMERIT = "demerit"
    MAJOR_DEMERIT = "major_demerit"
    DEMOTION = "demotion"
    REMOVAL_FROM_POST = "removal_from_post"
    PARTY_DISCIPLINE = "party_discipline"
    CRIMINAL = "criminal"
    OTHER = "other"


register_labels(SanctionKind, {
    "warning": ("警告", "Warning"),
    "demerit": ("记过", "Demerit"),
    "major_demerit": ("记大过", "Major demerit"),
    "demotion": ("降级", "Demotion"),
    "removal_from_post": ("撤职", "Removal from post"),
    "party_discipline": ("党纪处分", "Party discipline"),
    "criminal": ("刑事处罚", "Criminal penalty"),
    "other": ("其他处分", "Other sanction"),
})


# ------------------------------------------------------------------------------------------------------------
# Field types with validation messages users can act on
# ------------------------------------------------------------------------------------------------------------

EARLIEST_YEAR = 1950
"""No professional record predates this; earlier years are typing mistakes."""


def _reference_today(info: ValidationInfo) -> date | None:
    """The date "the future" starts after, or None to skip the check.

    Validation context ``{"today": date}`` sets it (tests, re-validation of old data as of a past day);
    ``{"today": None}`` switches the check off (the evaluator, which judges entries against its own
    ``as_of``). Without a context, forms are checked against the real current date.
    """
    context = info.context if isinstance(info.context, dict) else {}
    if "today" in context:
        return context["today"]
    return date.today()


def _not_in_future(value: date, info: ValidationInfo) -> date:
    today = _reference_today(info)
    if today is not None and value > today:
        raise ValueError(f"日期 {value.isoformat()} 晚于今天（{today.isoformat()}），不能填写将来的日期 / "
                         f"date {value.isoformat()} is in the future (today is {today.isoformat()})")
    return value


def _year_not_in_future(value: int, info: ValidationInfo) -> int:
    today = _reference_today(info)
    if today is not None and value > today.year:
        raise ValueError(f"年份 {value} 晚于今年（{today.year}） / year {value} is in the future")
    return value


def _stripped(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("不能为空 / must not be blank")
    return value


def _valid_id_number(value: str) -> str:
    number = normalise_id_number(value)
    problem = id_number_problem(number)
    if problem is not None:
        raise ValueError(" / ".join(problem))
    return number


IdNumber = Annotated[str, AfterValidator(_valid_id_number)]
"""A 居民身份证号码 with a valid GB 11643-1999 check character, stored as entered with an upper-case X."""

PastDate = Annotated[date, AfterValidator(_not_in_future)]
"""A date that may not lie after today (see :func:`_reference_today`)."""

PastYear = Annotated[int, Field(ge=EARLIEST_YEAR, le=2200), AfterValidator(_year_not_in_future)]
"""A calendar year from 1950 up to the current year."""

Name = Annotated[str, Field(max_length=200), AfterValidator(_stripped)]
"""A required, non-blank short text (leading and trailing spaces removed)."""

Reference = Annotated[str, Field(max_length=500)]
"""An optional evidence reference: an uploaded file's id, a certificate or document number, a URL."""


class _Entry(BaseModel):
    """Base of every profile entry: unknown fields are errors (a typo must not silently lose data)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ------------------------------------------------------------------------------------------------------------
# Profile entries
# ------------------------------------------------------------------------------------------------------------


class Education(_Entry):
    """One completed education, declared as it is: the school type, the 学历 (or the 技工院校 class) and the
    学位 separately, the graduation date, the major and whether it is related to the specialty applied for.

    The evaluator applies the equivalences (:meth:`equivalent_level`) and says so in its explanation.
    """

    school_type: SchoolType = SchoolType.GENERAL
    level: EducationLevel | None = None
    technical_class: TechnicalClass | None = None
    degree: Degree | None = None
    graduated_on: PastDate
    major: Name
    major_related: StrictBool = False
    school: Annotated[str, Field(max_length=200)] = ""

    @model_validator(mode="after")
    def _declared_consistently(self) -> Self:
        if self.school_type == SchoolType.TECHNICAL:
            if self.technical_class is None:
                raise ValueError("技工院校毕业请选择班级（中级工班、高级工班或预备技师班） / "
                                 "choose the class of the technical school")
            if self.level is not None or self.degree is not None:
                raise ValueError("技工院校毕业只填班级，学历由系统按同等学历认定 / "
                                 "for a technical school give the class only; the equivalent level is applied")
        else:
            if self.level is None:
                raise ValueError("请选择学历 / choose the education level")
            if self.technical_class is not None:
                raise ValueError("只有技工院校毕业才填班级 / a class is only for technical schools")
        return self

    def equivalent_level(self) -> EducationLevel:
        """The level this education counts as: the 学历, raised by the 学位, or the 技工院校 equivalence."""
        if self.technical_class is not None:
            return TECHNICAL_CLASS_EQUIVALENT[self.technical_class]
        assert self.level is not None  # checked by the validator above
        level = self.level
        if self.degree is not None and DEGREE_EQUIVALENT[self.degree].rank > level.rank:
            level = DEGREE_EQUIVALENT[self.degree]
        return level

    def declared(self) -> Text:
        """The education as declared, before any equivalence."""
        if self.technical_class is not None:
            return Text(zh=f"技工院校{self.technical_class.zh}", en=f"technical school, {self.technical_class.en}")
        assert self.level is not None
        zh, en = self.level.zh, self.level.en
        if self.degree is not None:
            zh, en = f"{zh}、{self.degree.zh}", f"{en} with a {self.degree.en.lower()}"
        return Text(zh=zh, en=en)

    def summary(self) -> Text:
        """A one-line description for explanations, naming the equivalence where one applies."""
        related = "，相关专业" if self.major_related else ""
        declared = self.declared()
        level = self.equivalent_level()
        zh, en = declared.zh, declared.en
        if self.technical_class is not None or (self.level is not None and level != self.level):
            zh += f"，按{level.zh}认定"
            en += f", counted as {level.en}"
        on = self.graduated_on.isoformat()
        return Text(zh=f"{zh}（{self.major}，{on} 毕业{related}）", en=f"{en} ({self.major}, graduated {on})")


class TitleHeld(_Entry):
    """A professional title already held (已取得职称): series, specialty, level, title name, date obtained."""

    series: Name
    specialty: Name
    level: TitleLevel
    name: Name
    obtained_on: PastDate
    certificate_no: Annotated[str, Field(max_length=100)] = ""

    def summary(self) -> Text:
        """A one-line description for explanations."""
        on = self.obtained_on.isoformat()
        return Text(zh=f"{self.name}（{self.series}系列{self.level.zh}，{on} 取得）",
                    en=f"{self.name} ({self.series} series, {self.level.en}, obtained {on})")


class SkillCertificate(_Entry):
    """A vocational skill level certificate (职业技能等级证书)."""

    occupation: Name
    level: SkillLevel
    certificate_no: Annotated[str, Field(max_length=100), AfterValidator(_stripped)]
    obtained_on: PastDate
    issuer: Annotated[str, Field(max_length=200)] = ""

    def summary(self) -> Text:
        """A one-line description for explanations."""
        return Text(zh=f"{self.level.value}（{self.occupation}，证书编号 {self.certificate_no}，"
                       f"{self.obtained_on.isoformat()} 取得）",
                    en=f"{self.level.en} ({self.occupation}, certificate {self.certificate_no}, "
                       f"obtained {self.obtained_on.isoformat()})")


class WorkPeriod(_Entry):
    """One job (工作经历); ``end`` is its last day, empty for the current job.

    ``in_specialty``: technical work in the specialty applied for; ``in_industry``: technical work in the
    industry applied for in another specialty (the Hunan direct routes count years in the industry).
    """

    employer: Name
    start: PastDate
    end: PastDate | None = None
    post: Annotated[str, Field(max_length=200)] = ""
    in_specialty: StrictBool = True
    in_industry: StrictBool = False

    @property
    def industry_technical(self) -> bool:
        """Technical work in the industry applied for (work in the specialty always is)."""
        return self.in_industry or self.in_specialty

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"结束日期 {self.end.isoformat()} 早于开始日期 {self.start.isoformat()} / "
                             "end date is before start date")
        return self

    def summary(self) -> Text:
        """A one-line description for explanations."""
        until = self.end.isoformat() if self.end else "至今"
        until_en = self.end.isoformat() if self.end else "present"
        post = f"，{self.post}" if self.post else ""
        return Text(zh=f"{self.employer}（{self.start.isoformat()}—{until}{post}）",
                    en=f"{self.employer} ({self.start.isoformat()} to {until_en})")


class ContinuingEducationYear(_Entry):
    """Continuing-education hours (继续教育学时) completed in one calendar year."""

    year: PastYear
    hours: float = Field(ge=0, le=2000)


class Sanction(_Entry):
    """A disciplinary sanction (处分). It is in force from ``start`` until ``end``, the day its effect period
    is over (open-ended when empty)."""

    kind: SanctionKind
    start: PastDate
    end: date | None = None
    description: Annotated[str, Field(max_length=500)] = ""

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"影响期结束日期 {self.end.isoformat()} 早于开始日期 {self.start.isoformat()} / "
                             "end date is before start date")
        return self

    def in_force(self, on: date) -> bool:
        """True while the effect period runs: from ``start`` up to the day before ``end``, the day it is over
        (like every block of N months or years, rules.md §7.5); open-ended without ``end``."""
        return self.start <= on and (self.end is None or on < self.end)


class Achievement(_Entry):
    """An achievement (业绩成果) typed to a numbered item of the standard, with the facts the item asks for.

    ``item`` names the standard's item (e.g. ``"6"``); left empty, the first item accepting ``kind`` is
    assumed. ``level``: at which level it was granted; ``rank``: the applicant's place among the named
    inventors, holders or contributors; ``count``: how many patents or copyrights the entry covers;
    ``appraised_by`` / ``appraisal_level``: who appraised or accepted it. ``verified`` (with who and when) is
    set by the unit's verification step (:mod:`workflow.eligibility.verification`), never by the applicant's form.
    """

    kind: AchievementKind
    item: Annotated[str, Field(max_length=20)] = ""
    description: Annotated[str, Field(max_length=1000), AfterValidator(_stripped)]
    year: PastYear
    level: RecognitionLevel | None = None
    rank: int | None = Field(default=None, ge=1, le=1000)
    count: int = Field(default=1, ge=1, le=1000)
    appraised_by: Annotated[str, Field(max_length=200)] = ""
    appraisal_level: RecognitionLevel | None = None
    evidence: Reference = ""
    verified: StrictBool = False
    verified_by: Annotated[str, Field(max_length=200)] = ""
    verified_on: date | None = None

    def summary(self) -> Text:
        """A one-line description for explanations."""
        item = f"第{self.item}项 " if self.item else ""
        count = f" ×{self.count}" if self.count > 1 else ""
        level = f"，{self.level.zh}" if self.level else ""
        rank = f"，排名第{self.rank}" if self.rank else ""
        return Text(zh=f"{item}{self.kind.zh}{count}「{self.description}」（{self.year}{level}{rank}）",
                    en=f"{self.kind.en}{count} '{self.description}' ({self.year})")


class FirmRolePeriod(_Entry):
    """A period in which the applicant led a firm (任职), e.g. as its 主要负责人; ``end`` empty if current."""

    employer: Name
    role: FirmRole
    start: PastDate
    end: PastDate | None = None
    evidence: Reference = ""

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"结束日期 {self.end.isoformat()} 早于开始日期 {self.start.isoformat()} / "
                             "end date is before start date")
        return self

    def summary(self) -> Text:
        """A one-line description for explanations."""
        until = self.end.isoformat() if self.end else "至今"
        return Text(zh=f"{self.employer}{self.role.zh}（{self.start.isoformat()}—{until}）",
                    en=f"{self.role.en} of {self.employer} (from {self.start.isoformat()})")


class FirmRecognitionEntry(_Entry):
    """A recognition the applicant's firm holds (e.g. national 专精特新"小巨人"), with the year and evidence."""

    employer: Name
    kind: FirmRecognition
    year: PastYear
    evidence: Reference = ""

    def summary(self) -> Text:
        """A one-line description for explanations."""
        return Text(zh=f"{self.employer}：{self.kind.zh}（{self.year} 年认定）",
                    en=f"{self.employer}: {self.kind.en} ({self.year})")


class ExperienceClaim(_Entry):
    """A declared work experience (工作经历, 第七条) with its evidence, typed to the standard's item id."""

    item: Annotated[str, Field(max_length=40)] = ""
    description: Annotated[str, Field(max_length=1000), AfterValidator(_stripped)]
    evidence: Reference = ""

    def summary(self) -> Text:
        """A one-line description for explanations."""
        return Text(zh=f"「{self.description}」", en=f"'{self.description}'")


class RepresentativeWork(_Entry):
    """A representative work (代表作). Technical documents count by length, once the unit verified them."""

    kind: WorkKind
    title: Annotated[str, Field(max_length=500), AfterValidator(_stripped)]
    year: PastYear
    character_count: int | None = Field(default=None, ge=0)
    unit_verified: StrictBool = False
    verified_by: Annotated[str, Field(max_length=200)] = ""
    verified_on: date | None = None
    evidence: Reference = ""

    def summary(self) -> Text:
        """A one-line description for explanations."""
        return Text(zh=f"{self.kind.zh}「{self.title}」（{self.year}）",
                    en=f"{self.kind.en} '{self.title}' ({self.year})")


class Recommendation(_Entry):
    """A written recommendation (推荐信) by an expert, counted by the 破格 rule when the expert is 正高."""

    expert_name: Name
    expert_title: Name
    expert_level: TitleLevel
    series: Name
    specialty: Name
    employer: Annotated[str, Field(max_length=200)] = ""
    letter: Reference = ""

    def summary(self) -> Text:
        """A one-line description for explanations."""
        return Text(zh=f"{self.expert_name}（{self.expert_title}，{self.series}系列{self.specialty}专业）",
                    en=f"{self.expert_name} ({self.expert_title}, {self.series} series, {self.specialty})")


class LanguageCertificate(_Entry):
    """A foreign-language qualification (职称外语等), needed only where a standard still asks for one."""

    language: Name
    name: Name
    passed_on: PastDate


# ------------------------------------------------------------------------------------------------------------
# The profile
# ------------------------------------------------------------------------------------------------------------

PROFILE_SCHEMA_VERSION = 2
"""The stored body's shape. 2 added the 技工院校 class and 学位, industry work, firm roles and recognitions,
achievement items with level/rank/count/appraisal, and work-experience claims (:func:`upgrade_profile_body`)."""


def upgrade_profile_body(body: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored profile body to :data:`PROFILE_SCHEMA_VERSION` (a new dict; the input is untouched).

    Version 1 → 2: work in the specialty was the only kind of work, so it is also work in the industry
    (unless a body without a version already says otherwise); every other new field starts empty. Bodies
    already current come back unchanged.
    """
    version = body.get("schema_version", 1)
    if not isinstance(version, int) or version >= PROFILE_SCHEMA_VERSION:
        return dict(body)
    out = dict(body)
    out["work_history"] = [
        {**w, "in_industry": w.get("in_industry", bool(w.get("in_specialty", True)))} if isinstance(w, dict) else w
        for w in body.get("work_history") or []]
    out["schema_version"] = PROFILE_SCHEMA_VERSION
    return out



class ApplicantProfile(_Entry):
    """Everything an applicant declares, as validated JSON (``applicant_profile.body``).

    Lists are unordered facts; the evaluator picks what serves the applicant best (e.g. the earliest title of
    the required level). ``schema_version`` lets stored bodies be migrated when the shape changes.
    """

    schema_version: int = Field(default=PROFILE_SCHEMA_VERSION, ge=PROFILE_SCHEMA_VERSION,
                                le=PROFILE_SCHEMA_VERSION)
    birth_date: PastDate
    # Optional in the model: profiles stored before it existed still load; the form asks for it on every save.
    id_number: IdNumber | None = None
    retired: StrictBool = False
    education: list[Education] = []
    titles: list[TitleHeld] = []
    skill_certificates: list[SkillCertificate] = []
    work_history: list[WorkPeriod] = []
    continuing_education: list[ContinuingEducationYear] = []
    sanctions: list[Sanction] = []
    integrity_record_until: date | None = None
    achievements: list[Achievement] = []
    experience_claims: list[ExperienceClaim] = []
    firm_roles: list[FirmRolePeriod] = []
    firm_recognitions: list[FirmRecognitionEntry] = []
    works: list[RepresentativeWork] = []
    recommendations: list[Recommendation] = []
    foreign_language: list[LanguageCertificate] = []

    # Dated entries checked against the birth date: (field, attribute holding the date).
    _DATED: ClassVar[tuple[tuple[str, str], ...]] = (
        ("education", "graduated_on"), ("titles", "obtained_on"), ("skill_certificates", "obtained_on"),
        ("work_history", "start"), ("foreign_language", "passed_on"), ("firm_roles", "start"),
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        # Collect every inconsistency so that a form shows them all at once (一次性告知), not one per submit.
        problems: list[str] = []
        mismatch = birth_date_mismatch(self.id_number, self.birth_date) if self.id_number else None
        if mismatch is not None:
            problems.append("id_number: " + " / ".join(mismatch))
        for field_name, attr in self._DATED:
            for i, entry in enumerate(getattr(self, field_name)):
                when = getattr(entry, attr)
                if when <= self.birth_date:
                    problems.append(f"{field_name}[{i}].{attr}: 日期 {when.isoformat()} 不晚于出生日期 "
                                    f"{self.birth_date.isoformat()} / date is not after the birth date")
        seen: set[int] = set()
        for i, item in enumerate(self.continuing_education):
            if item.year in seen:
                problems.append(f"continuing_education[{i}].year: {item.year} 年重复填报 / "
                                f"year {item.year} is listed twice")
            seen.add(item.year)
            if item.year < self.birth_date.year:
                problems.append(f"continuing_education[{i}].year: {item.year} 年早于出生年份 / "
                                "year is before the birth year")
        if problems:
            raise ValueError("；".join(problems))
        return self

    def highest_education(self) -> Education | None:
        """The entry counting as the highest level (equivalences applied; the latest among equals), or None."""
        if not self.education:
            return None
        return max(self.education, key=lambda e: (e.equivalent_level().rank, e.graduated_on))


# ------------------------------------------------------------------------------------------------------------
# Parsing stored or submitted data
# ------------------------------------------------------------------------------------------------------------


class ProfileInvalid(WorkflowError):
    """Submitted profile data is malformed; ``problems`` lists ``(field path, message)`` pairs."""

    status = 422

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        lines = [f"{path or '申报信息'}: {msg}" for path, msg in problems]
        lines_en = [f"{path or 'profile'}: {msg}" for path, msg in problems]
        super().__init__("申报信息有误：" + "；".join(lines),
                         "The profile is invalid: " + "; ".join(lines_en))


def error_path(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as ``titles[0].obtained_on`` (the names form fields use)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def parse_profile(data: Any, *, today: date | None = None, check_future: bool = True) -> ApplicantProfile:
    """Validate ``data`` (a dict from JSON or a form) into an :class:`ApplicantProfile`.

    ``today`` is the reference for "no dates in the future" (default: the real current date);
    ``check_future=False`` skips that check (for re-reading historic data). Raises :class:`ProfileInvalid`.
    """
    if isinstance(data, ApplicantProfile):
        return data
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise ProfileInvalid([("", f"申报信息须为键值结构，实际为 {kind} / "
                                   f"the profile must be a mapping, got {kind}")])
    context: dict[str, Any] = {"today": None} if not check_future else ({"today": today} if today else {})
    try:
        return ApplicantProfile.model_validate(upgrade_profile_body(data), context=context)
    except ValidationError as err:
        problems = [(error_path(tuple(e["loc"])), _plain(e["msg"])) for e in err.errors()]
        raise ProfileInvalid(problems) from None


def _plain(message: str) -> str:
    """Drop pydantic's "Value error, " prefix from our own messages."""
    return message.removeprefix("Value error, ")
