"""What the NLP pipeline hands to the rest of the system (DESIGN.md section 3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# "phrase": an open phrase (words no lexicon entry covered; no candidates, see nlp/phrases.py)
Kind = Literal["condition", "symptom", "finding", "procedure", "medication", "lab", "phrase"]
Assertion = Literal["present", "negated", "historical", "family", "hypothetical", "uncertain"]
ASSERTIONS: tuple[str, ...] = ("present", "negated", "historical", "family", "hypothetical", "uncertain")

# Normalised section names every component agrees on.
SECTIONS: tuple[str, ...] = (
    "chief_complaint", "hpi", "ros", "pmh", "psh", "family_history", "social_history", "medications",
    "allergies", "vitals", "exam", "labs", "imaging", "assessment", "plan", "assessment_plan",
    "procedure", "orders", "follow_up", "subjective", "objective", "telehealth", "immunizations", "unknown",
)


@dataclass(slots=True)
class CodeCandidate:
    system: Literal["icd10cm", "cpt", "hcpcs"]
    code: str  # contract form: dotted ICD-10-CM, plain CPT/HCPCS
    score: float  # lexical match quality in [0, 1]
    term: str  # the lexicon term that matched


@dataclass(slots=True)
class Mention:
    start: int  # character offsets into the note text: text[start:end] == mention.text
    end: int
    text: str
    kind: Kind
    section: str  # one of SECTIONS
    assertion: Assertion
    attributes: dict[str, str] = field(default_factory=dict)
    # laterality: left|right|bilateral; acuity: acute|chronic|acute_on_chronic; severity; stage;
    # type: "1"|"2"|...; episode: initial|subsequent|sequela; trimester: "1"|"2"|"3"; body_site; units
    concept: str = ""  # normalised lexicon concept
    candidates: list[CodeCandidate] = field(default_factory=list)
    sentence: int = 0  # index of the sentence that holds the mention


@dataclass(slots=True)
class Section:
    name: str
    start: int
    end: int
    header: str = ""


@dataclass(slots=True)
class EncounterFacts:
    total_minutes: int | None = None
    new_patient: bool | None = None  # None: not documented
    preventive: bool = False
    telehealth: Literal["video", "audio"] | None = None
    mdm_problems: str | None = None  # minimal|low|moderate|high
    mdm_data: str | None = None
    mdm_risk: str | None = None
    mdm_level: Literal["straightforward", "low", "moderate", "high"] | None = None
    prescription_drug_management: bool = False
    procedures_today: bool = False
    psychotherapy_minutes: int | None = None  # documented psychotherapy time (CPT time rules)
    tobacco_counseling_minutes: int | None = None  # documented smoking/tobacco cessation counseling time


@dataclass(slots=True)
class NoteAnalysis:
    text: str
    mentions: list[Mention] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    facts: EncounterFacts = field(default_factory=EncounterFacts)
    phrases: list[Mention] = field(default_factory=list)  # open phrases (kind "phrase"), in text order
