"""The coarse stages of a review as data (``definitions/stages.yaml``): their order, badge colour, diagram fill
and the big stage of the reports that counts them.

Every pipeline state names its stage; screens and reports read what they draw from here, so a stage's colour
or the report column it counts in changes without a code change.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from workflow.pipeline.yamlsource import DefinitionError, Problem, describe_loc, load_yaml, locate

STAGES_FILE = Path(__file__).resolve().parents[2] / "definitions" / "stages.yaml"

_KEY = r"^[a-z][a-z0-9_]*$"
_COLOUR = r"^#[0-9a-fA-F]{6}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StageLabel(_Strict):
    """A stage's name in Chinese and English."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class StageDef(_Strict):
    """One coarse stage: how its states are drawn and which big stage of the reports counts them."""

    key: str = Field(pattern=_KEY)
    label: StageLabel
    badge: str = Field(pattern=r"^(primary|secondary|success|danger|warning|info|light|dark)$")
    fill: str = Field(pattern=_COLOUR)
    report: str = Field(pattern=_KEY)


class ReportStageDef(_Strict):
    """One big stage of the reports page."""

    key: str = Field(pattern=_KEY)
    label: StageLabel


class StageCatalogue(_Strict):
    """Every stage, in review order, and the big stages the reports group them into."""

    stages: list[StageDef] = Field(min_length=1)
    report_stages: list[ReportStageDef] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> StageCatalogue:
        keys = [s.key for s in self.stages]
        if len(set(keys)) != len(keys):
            raise ValueError("each stage key may appear only once")
        big = [r.key for r in self.report_stages]
        if len(set(big)) != len(big):
            raise ValueError("each report stage key may appear only once")
        unknown = sorted({s.report for s in self.stages} - set(big))
        if unknown:
            raise ValueError(f"stages name report stages that are not listed: {', '.join(unknown)}")
        return self

    def stage(self, key: str) -> StageDef | None:
        """The stage ``key`` (None when there is none)."""
        return next((s for s in self.stages if s.key == key), None)

    @property
    def keys(self) -> tuple[str, ...]:
        """The stage keys in review order."""
        return tuple(s.key for s in self.stages)

    @property
    def report_keys(self) -> tuple[str, ...]:
        """The big stages of the reports in order (the last holds finished cases)."""
        return tuple(r.key for r in self.report_stages)

    @property
    def report_of(self) -> dict[str, str]:
        """Stage key → the big stage of the reports that counts it."""
        return {s.key: s.report for s in self.stages}


def parse_stages(text: str, source: str = "stages.yaml") -> StageCatalogue:
    """Parse the stage catalogue; DefinitionError names the line of each problem."""
    raw = load_yaml(text, source)
    try:
        return StageCatalogue.model_validate(raw)
    except ValidationError as err:
        problems = [Problem(f"{describe_loc(e['loc'])}: {e['msg']}", locate(raw, e["loc"])) for e in err.errors()]
        raise DefinitionError(source=source, problems=problems) from None


@cache
def stage_catalogue() -> StageCatalogue:
    """The shipped stage catalogue (read once per process; it changes only with a release)."""
    return parse_stages(STAGES_FILE.read_text(encoding="utf-8"), str(STAGES_FILE))
