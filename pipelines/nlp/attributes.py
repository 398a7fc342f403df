"""Mention attributes (laterality, acuity, severity, stage, type, episode, trimester, body site,
control) and encounter-level E/M facts (time, new/established, telehealth, MDM cues)."""

from __future__ import annotations

import bisect
import re

from pipelines.nlp.normalize import lower_same_length
from pipelines.nlp.types import EncounterFacts, Mention

# patterns are written in lower case and run on lower-cased text (much faster than IGNORECASE)
_I = 0
_LATERALITY = [
    ("bilateral", re.compile(r"\b(?:bilateral(?:ly)?|b/l|both (?:sides|knees|hips|ears|eyes|feet|hands|legs|arms|shoulders|ankles|wrists|elbows|breasts|lungs))\b", _I)),
    ("left", re.compile(r"\b(?:left|lt|l)\b(?![-/]?(?:sided )?(?:shift|ventric|atri|main|ankle-brachial))|\bleft-sided\b", _I)),
    ("right", re.compile(r"\b(?:right|rt|r)\b(?![-/]?(?:sided )?(?:shift|ventric|atri|bundle|away))|\bright-sided\b", _I)),
]
_ACUITY = [
    ("acute_on_chronic", re.compile(r"\bacute[- ]on[- ]chronic\b", _I)),
    ("chronic", re.compile(r"\bchronic(?:ally)?\b|\blong[- ]standing\b", _I)),
    ("acute", re.compile(r"\b(?:acute(?:ly)?|sub-?acute|new[- ]onset|sudden(?:[- ]onset)?)\b", _I)),
]
_SEVERITY = re.compile(
    r"\b(mild intermittent|mild persistent|moderate persistent|severe persistent|moderate(?:ly)?[- ]severe|"
    r"mild(?:ly)?|moderate(?:ly)?|severe(?:ly)?|intractable|life[- ]threatening)\b",
    _I,
)
_STAGE = re.compile(r"\b(?:stage|grade|class|ckd|gold)\s*(?:g(?=[0-5]))?([0-5]|i{1,3}|iv|v)([ab])?\b", _I)  # KDIGO "G3a"
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5"}
_TYPE = re.compile(r"\btype\s*(1|2|i{1,2}|one|two)\b|\bt([12])\s?dm\b|\bdm\s?([12]|i{1,2})\b|\b(niddm|iddm)\b", _I)
_EPISODE = [
    ("sequela", re.compile(r"\b(?:sequela[e]?|late effect|residual (?:from|of))\b", _I)),
    ("subsequent", re.compile(r"\b(?:subsequent (?:encounter|visit|care)|follow[- ]up (?:for|of) (?:the )?(?:fracture|injury)|routine healing|healing well|cast check|recheck of (?:the )?(?:fracture|injury|wound))\b", _I)),
    ("initial", re.compile(r"\b(?:initial (?:encounter|visit|evaluation)|active treatment|new injury|injured (?:today|yesterday|on)|acute injury|presents (?:after|following) (?:a )?(?:fall|injury|accident))\b", _I)),
]
_TRIMESTER = re.compile(r"\b(first|second|third|1st|2nd|3rd)\s+trimester\b", _I)
_WEEKS = re.compile(r"\b(\d{1,2})(?:\s*(?:\+|and)\s*\d/7)?\s*(?:weeks?|wks?)(?:'|\s)*(?:gestation|pregnant|ga\b|of gestation|iup)", _I)
_GA = re.compile(r"\b(?:ga|gestational age)\s*(?:of\s*)?(\d{1,2})\s*(?:w|wk|weeks?)", _I)
_TRI_MAP = {"first": "1", "1st": "1", "second": "2", "2nd": "2", "third": "3", "3rd": "3"}
_CONTROL = re.compile(r"\b(uncontrolled|poorly controlled|not well controlled|not at goal|well[- ]controlled|controlled|at goal|stable|worsening|improving|exacerbation|flare)\b", _I)
# an exacerbation documented with the condition ("asthma, mild intermittent, exacerbated", "with
# flare"); "without exacerbation", "no flares" are not
_EXACERBATION = re.compile(
    r"(?<!without )(?<!no )(?<!non-)(?<!non )\b(?:exacerbat(?:ion|ions|ed|ing)|flares?|flared|flaring|flare-ups?)\b", _I)
BODY_SITES = ["knee", "hip", "shoulder", "ankle", "wrist", "elbow", "foot", "feet", "hand", "finger", "toe", "thumb", "neck", "back", "chest", "abdomen", "head", "ear", "eye", "throat", "nose", "lung", "lungs", "heart", "kidney", "liver", "breast", "arm", "leg", "thigh", "calf", "forearm", "scalp", "face", "lip", "jaw", "spine", "lumbar", "cervical", "thoracic", "sacral", "pelvis", "groin", "buttock", "heel", "skin", "bladder", "prostate", "colon", "tongue", "gum", "mouth", "axilla", "nail", "trunk"]
_BODY = re.compile(r"\b(" + "|".join(BODY_SITES) + r")s?\b", _I)
_WINDOW = 48


def _norm_severity(raw: str) -> str:
    return raw.lower().replace("ly", "").replace("-", " ")


def _norm_stage(m: re.Match[str]) -> str:
    return _ROMAN.get(m.group(1).lower(), m.group(1)) + (m.group(2) or "").lower()


def _norm_type(m: re.Match[str]) -> str:
    raw = next(g for g in m.groups() if g).lower()
    return {"i": "1", "ii": "2", "one": "1", "two": "2", "niddm": "2", "iddm": "1"}.get(raw, raw)


_SCANS: list[tuple[str, re.Pattern[str], object]] = [
    *((f"laterality:{v}", p, v) for v, p in _LATERALITY),
    *((f"acuity:{v}", p, v) for v, p in _ACUITY),
    *((f"episode:{v}", p, v) for v, p in _EPISODE),
    ("severity", _SEVERITY, lambda m: _norm_severity(m.group(1))),
    ("stage", _STAGE, _norm_stage),
    ("type", _TYPE, _norm_type),
    ("trimester", _TRIMESTER, lambda m: _TRI_MAP[m.group(1).lower()]),
    ("weeks", _WEEKS, lambda m: m.group(1)),
    ("ga", _GA, lambda m: m.group(1)),
    ("body_site", _BODY, lambda m: m.group(1).lower()),
    ("control", _CONTROL, lambda m: m.group(1).lower().replace(" ", "_").replace("-", "_")),
    ("exacerbation", _EXACERBATION, "with"),
]
# literal substrings at least one of which every match of the pattern contains
_NEEDLES: dict[str, tuple[str, ...]] = {
    "acuity:acute_on_chronic": ("on chronic", "on-chronic"),
    "episode:sequela": ("sequela", "late effect", "residual"),
    "episode:subsequent": ("subsequent", "follow", "healing", "cast check", "recheck"),
    "episode:initial": ("initial", "active treatment", "new injury", "injured", "acute injury", "presents"),
    "stage": ("stage", "grade", "class", "ckd", "gold"),
    "type": ("type", "dm"),
    "exacerbation": ("exacerbat", "flar"),
    "trimester": ("trimester",),
    "weeks": ("week", "wk"),
    "ga": ("ga", "gestational"),
    "laterality:bilateral": ("bilat", "b/l", "both"),
}
_GROUPS = tuple(
    (group, tuple((f"{group}:{v}", v) for v in values))
    for group, values in (
        ("laterality", ("bilateral", "left", "right")),
        ("acuity", ("acute_on_chronic", "chronic", "acute")),
        ("episode", ("sequela", "subsequent", "initial")),
    )
)


class AttributeScanner:
    """Runs every attribute pattern once over the note; mentions then query their window."""

    def __init__(self, text: str) -> None:
        self.text = text
        low = lower_same_length(text)
        hits: dict[str, list[tuple[int, int, str]]] = {}
        for key, pat, value in _SCANS:
            needles = _NEEDLES.get(key)
            if needles is not None and not any(n in low for n in needles):
                hits[key] = []  # a substring test is far cheaper than a regex scan
                continue
            hits[key] = [(m.start(), m.end(), value(m) if callable(value) else str(value)) for m in pat.finditer(low)]
        self.hits = hits
        self.starts = {k: [h[0] for h in v] for k, v in hits.items()}

    def first(self, name: str, lo: int, hi: int) -> str | None:
        hits = self.hits[name]
        if not hits:
            return None
        i = bisect.bisect_left(self.starts[name], lo)
        while i < len(hits) and hits[i][0] < hi:
            if hits[i][1] <= hi:
                return hits[i][2]
            i += 1
        return None

    def mention(
        self, m: Mention, sent_start: int, sent_end: int, prev_end: int = 0, next_start: int = 1 << 30
    ) -> dict[str, str]:
        """Attributes read from the mention and a window of its sentence around it, bounded by the
        neighbouring mentions and list separators so one problem's attributes don't leak."""
        text = self.text
        lo = max(sent_start, m.start - _WINDOW, prev_end)
        hi = min(sent_end, m.end + _WINDOW, next_start)
        for sep in (";", ". ", "\n"):
            k = text.rfind(sep, lo, m.start)
            if k >= 0:
                lo = k + len(sep)
            k = text.find(sep, m.end, hi)
            if k >= 0:
                hi = k
        attrs: dict[str, str] = {}
        hits = self.hits
        for group, keys in _GROUPS:
            for key, v in keys:
                if hits[key] and self.first(key, lo, hi) is not None:
                    attrs[group] = v
                    break
        for name in ("severity", "stage", "control", "exacerbation"):
            if hits[name]:
                found = self.first(name, lo, hi)
                if found is not None:
                    attrs[name] = found
        ty = self.first("type", max(lo, m.start - 12), min(hi, m.end + 12))
        if ty is not None:
            attrs["type"] = ty
        tri = self.first("trimester", sent_start, sent_end)
        if tri is not None:
            attrs["trimester"] = tri
        else:
            wk = self.first("weeks", sent_start, sent_end) or self.first("ga", sent_start, sent_end)
            if wk is not None:
                w = int(wk)
                attrs["trimester"] = "1" if w < 14 else "2" if w < 28 else "3"
        body = self.first("body_site", m.start, m.end) or self.first("body_site", lo, hi)
        if body is not None:
            attrs["body_site"] = body
        return attrs


def mention_attributes(
    text: str, m: Mention, sent_start: int, sent_end: int, prev_end: int = 0, next_start: int = 1 << 30
) -> dict[str, str]:
    """Attributes of one mention (convenience wrapper; components reuse one AttributeScanner)."""
    return AttributeScanner(text).mention(m, sent_start, sent_end, prev_end, next_start)


# ---------------------------------------------------------------------------- E/M facts
_TIME = [
    re.compile(r"\btotal (?:time|visit time|encounter time)[^.\n\d]{0,60}?(\d{1,3})\s*(?:-|\s)?\s*(?:minutes?|mins?)\b", _I),
    re.compile(r"\b(?:i |we |provider |physician )?spent (?:a total of |approximately |about |over |more than |greater than )?(\d{1,3})\s*(?:minutes?|mins?)\b", _I),
    re.compile(r"\b(\d{1,3})\s*(?:minutes?|mins?) (?:of )?(?:total )?(?:time )?(?:was |were )?(?:spent|in total|total time|face[- ]to[- ]face)", _I),
    re.compile(r"\btime(?: spent)?\s*[:=]\s*(\d{1,3})\s*(?:minutes?|mins?)\b", _I),
    # audio-only visits: minutes of medical discussion by phone
    re.compile(r"\b(?:by (?:tele)?phone|over the (?:tele)?phone|telephone (?:call|visit|encounter|discussion)|phone (?:call|visit))\b[^.\n\d]{0,40}?(\d{1,3})\s*(?:minutes?|mins?)\b", _I),
    # generic fallbacks: any statement of time with a minute count in the same sentence
    # (2021 office E/M guidelines: total time on the date of the encounter, however phrased)
    re.compile(r"\btime\b[^.\n]{0,80}?\b(\d{1,3})\s*(?:-|\s)?\s*(?:minutes?|mins?)\b", _I),
    re.compile(r"\b(\d{1,3})\s*(?:-|\s)?\s*(?:minutes?|mins?)\b[^.\n]{0,60}?\b(?:time|counsel\w*|coordinat\w*)\b", _I),
]
# psychotherapy time ("Psychotherapy time: 45 minutes", "individual psychotherapy for 53 min")
_PSYCHOTHERAPY_TIME = re.compile(
    r"\b(?:psychotherapy|(?:individual |supportive )?therapy (?:session|time|visit))\b[^.\n\d]{0,60}?(\d{1,3})\s*(?:-|\s)?\s*(?:minutes?|mins?)\b"
    r"|\b(\d{1,3})\s*(?:-|\s)?\s*(?:minutes?|mins?)\b[^.\n\d]{0,30}?\b(?:of )?(?:individual |supportive |cognitive[- ]behavio\w* )?psychotherapy\b", _I)
# smoking/tobacco cessation counseling time ("smoking cessation counseling, 8 minutes", "counseled
# on quitting tobacco for over 10 minutes", "12 minutes of tobacco cessation counseling"); a range
# counts by its upper end, "over/more than N" as N + 1
_TOBACCO_TIME = re.compile(
    r"(?:\b(?:smok\w*|tobacco|nicotine|cigarettes?|vap\w*)\b[^.\n\d]{0,50}?\b(?:cessation|quit\w*|stop\w*|counsel\w*)\b"
    r"|\b(?:counsel\w*|advised)\b[^.\n\d]{0,30}?\b(?:quit\w*|stop\w*) (?:smoking|tobacco|vaping|cigarettes)\b)"
    r"[^.\n\d]{0,40}?(?P<over>over |more than |greater than |> ?)?(?:\d{1,2}\s*(?:-|to)\s*)?(?P<a>\d{1,2})\s*(?:minutes?|mins?)\b"
    r"|(?P<over2>over |more than |greater than |> ?)?(?:\d{1,2}\s*(?:-|to)\s*)?(?P<b>\d{1,2})\s*(?:minutes?|mins?)\b[^.\n\d]{0,30}?"
    r"\b(?:of |on |spent )?(?:smoking|tobacco|nicotine)(?: use)? cessation\b", _I)
_NEW = re.compile(r"\bnew (?:patient|pt)\b|\bnew to (?:the |this |our )?(?:practice|clinic|office)\b|\bestablish(?:ing|es)? (?:primary )?care\b|\binitial (?:visit|consultation|appointment)\b|\bfirst (?:visit|appointment|encounter)\b|\bfirst time (?:seeing|seen|visiting)\b|\bfirst time (?:at|in|to) (?:this|our|the) (?:clinic|practice|office)\b|\btransfer(?:ring|red)? (?:of )?care\b|\bnever (?:been )?seen (?:here|in (?:this|our|the) (?:clinic|practice|office))\b|\bnot previously seen (?:here|in (?:this|our) (?:clinic|practice|office))\b|\bnew consult(?:ation)?\b|\binitial office (?:visit|consultation)\b|\bnew to me\b|\bestablishing (?:care )?(?:with|at) (?:our|this|the) (?:office|clinic|practice)\b|\bnot (?:been )?seen (?:here |in (?:this|our) (?:practice|clinic|office) )?(?:in|within) (?:the (?:past|last) )?(?:3|three) years\b", _I)
_EST = re.compile(r"\bestablished (?:patient|pt)\b|\breturn(?:ing)? (?:patient|visit)\b|\bfollow[- ]?up (?:visit|appointment)\b|\bhere for (?:a |her |his |their )?(?:routine )?follow[- ]?up\b|\bseen (?:here )?(?:last|previously)\b|\blast seen\b|\bknown to (?:this|our|the) (?:clinic|practice)\b|\b(?:last|previous|prior) (?:office )?visit\b|\bpresents for (?:a )?(?:routine )?follow[- ]?up\b|\breturns (?:today )?(?:for|to clinic|to the clinic)\b|\bcomes back (?:today )?(?:for|with)\b|\bknown (?:patient|pt) (?:of|to)\b|\bregular patient\b|\bhere for (?:a |her |his )?recheck\b|\bseen by me (?:in|on|last)\b|\bseen in (?:the )?(?:clinic|office) (?:last|on|in)\b|\b(?:\d{1,2}|three|six|one)[- ]month (?:check|follow[- ]?up|visit|recheck)\b|\binterval (?:history|visit)\b|\bsince (?:the |her |his )?last (?:visit|appointment)\b", _I)
_PREVENTIVE = re.compile(r"\b(?:annual (?:wellness|physical|exam|preventive|check[- ]?up|health)|preventive (?:visit|exam|medicine|care visit|health)|wellness (?:visit|exam|check)|well[- ](?:child|woman|visit|baby|adolescent)(?: (?:check|exam|visit))?|routine (?:physical|health maintenance|check[- ]?up|annual)|health maintenance (?:exam|visit)|complete physical|(?:yearly|periodic) (?:physical|health (?:exam|assessment))|medicare (?:annual )?wellness)\b", _I)
_AUDIO = re.compile(r"\b(?:audio[- ]only|telephone (?:visit|encounter|call)|by (?:tele)?phone|via (?:tele)?phone|phone visit)\b", _I)
_VIDEO = re.compile(r"\b(?:video (?:visit|call|encounter)|telehealth|telemedicine|virtual visit|synchronous audio[- ]?(?:and|/)[- ]?video|via video|doxy\.me|zoom)\b", _I)
_RX_MGMT = re.compile(
    r"\b(?:prescription drug management|start(?:ed|ing)?|initiat(?:e|ed|ing)|increase[d]?|decrease[d]?|titrat(?:e|ed|ing)|"
    r"adjust(?:ed)?(?: the)? dose|refill(?:ed|s)?|continue[d]?|discontinue[d]?|stop(?:ped)?|switch(?:ed)? to|change[d]? to|"
    r"prescribed|rx(?:'d)?|e-?prescribed|sent (?:to|a prescription)|new prescription)\b",
    _I,
)
_OTC = re.compile(r"\b(?:over[- ]the[- ]counter|otc|tylenol|acetaminophen|ibuprofen|rest,? ice|supportive care|fluids)\b", _I)
_HIGH_RISK = re.compile(r"\b(?:decision (?:regarding|about|for) hospitali[sz]ation|admit(?:ted)? to (?:the )?hospital|sent to (?:the )?(?:ed|er|emergency)|transfer(?:red)? to (?:the )?(?:ed|er|hospital)|escalation of care|dnr|do not resuscitate|drug therapy requiring intensive monitoring|major surgery|emergency surgery)\b", _I)
_MOD_RISK = re.compile(r"\b(?:minor surgery|decision (?:regarding|for|about) (?:minor )?surgery|social determinants|limited by (?:social|financial)|unable to afford|housing insecurity|food insecurity)\b", _I)
_WORSE = re.compile(r"\b(?:worsening|worse|uncontrolled|poorly controlled|not (?:well )?controlled|not at goal|exacerbation|flare|progressi(?:on|ng)|side effects?|deteriorat\w*)\b", _I)
_SEVERE = re.compile(r"\b(?:severe exacerbation|threat to (?:life|bodily function)|life[- ]threatening|acute mi|sepsis|stroke symptoms|respiratory distress|unstable)\b", _I)
_STABLE = re.compile(r"\b(?:stable|controlled|at goal|well[- ]controlled|doing well|unchanged)\b", _I)
_SYSTEMIC = re.compile(r"\b(?:systemic symptoms|pyelonephritis|pneumonia|new problem with uncertain prognosis|uncertain prognosis|further workup)\b", _I)
_DATA_CUES = {
    "external": re.compile(r"\b(?:reviewed (?:outside|external|prior|old) (?:records|notes)|review of (?:external|outside) (?:records|notes)|records from)\b", _I),
    "historian": re.compile(r"\b(?:independent historian|history (?:obtained|provided) (?:from|by) (?:the )?(?:mother|father|parent|spouse|wife|husband|caregiver|daughter|son))\b", _I),
    "interpretation": re.compile(r"\b(?:independent(?:ly)? interpret(?:ed|ation)|personally (?:reviewed|interpreted) (?:the )?(?:images|films|x-?ray|ecg|ekg|tracing)|my (?:own )?(?:read|interpretation))\b", _I),
    "discussion": re.compile(r"\b(?:discussed (?:with|the case with) (?:dr\.?|the (?:cardiologist|specialist|radiologist|surgeon|consultant))|discussion of management with)\b", _I),
}
# a documented overall MDM level ("MDM: moderate", "medical decision making of high complexity",
# "decision-making complexity assessed as low") is the clinician's own attestation: it wins over
# the level derived from the problems / data / risk cues below
_MDM_DOCUMENTED = re.compile(
    r"\b(?:medical decision[- ]making|decision[- ]making|mdm)\b[^.\n]{0,40}?\b(straightforward|minimal|low|moderate|high)\b", _I)
_RESULTS_REVIEWED = re.compile(r"\b(?:reviewed|results? (?:of|from)|were reviewed|review of) \b", _I)
_LEVELS = ("minimal", "low", "moderate", "high")
_MDM_NAMES = {"minimal": "straightforward", "low": "low", "moderate": "moderate", "high": "high"}
_ASSESS_SECTIONS = frozenset({"assessment", "plan", "assessment_plan", "unknown"})
_DATA_SECTIONS = frozenset({"labs", "imaging", "orders", "plan", "assessment_plan", "procedure", "objective", "unknown"})


def encounter_facts(text: str, mentions: list[Mention], sections: list[str]) -> EncounterFacts:
    f = EncounterFacts()
    text = lower_same_length(text)
    pt = _PSYCHOTHERAPY_TIME.search(text)
    if pt:
        minutes = int(pt.group(1) or pt.group(2))
        if 1 <= minutes <= 600:
            f.psychotherapy_minutes = minutes
    tc = _TOBACCO_TIME.search(text)
    if tc:
        minutes = int(tc.group("a") or tc.group("b")) + (1 if tc.group("over") or tc.group("over2") else 0)
        f.tobacco_counseling_minutes = minutes
    for pat in _TIME:
        for m in pat.finditer(text):
            if any(x and x.start() <= m.start(1) < x.end() for x in (pt, tc)):
                continue  # psychotherapy and tobacco counseling time are not the visit's E/M time
            minutes = int(m.group(1))
            if 1 <= minutes <= 600:
                f.total_minutes = minutes
                break
        if f.total_minutes is not None:
            break
    if _NEW.search(text):
        f.new_patient = True
    elif _EST.search(text):
        f.new_patient = False
    f.preventive = bool(_PREVENTIVE.search(text))
    if _AUDIO.search(text):
        f.telehealth = "audio"
    elif _VIDEO.search(text) or "telehealth" in sections:
        f.telehealth = "video"
    present = [m for m in mentions if m.assertion in ("present", "uncertain")]
    # ---- problems addressed
    problems = [m for m in present if m.kind in ("condition", "symptom", "finding") and m.section in _ASSESS_SECTIONS]
    if not problems:
        problems = [m for m in present if m.kind in ("condition", "symptom")]
    concepts = {m.concept for m in problems}
    n = len(concepts)
    chronic_worse = sum(1 for m in problems if _WORSE.search(m.attributes.get("control", "") or "") or m.attributes.get("acuity") == "acute_on_chronic")
    windows = " ".join(text[max(0, m.start - 60) : m.end + 80] for m in problems)
    stable = bool(_STABLE.search(windows))
    if _SEVERE.search(windows):
        prob = "high"
    elif chronic_worse or _WORSE.search(windows) or _SYSTEMIC.search(windows) or n >= 3 or (n >= 2 and stable):
        prob = "moderate"
    elif n >= 2 or (n == 1 and (stable or any(m.attributes.get("acuity") for m in problems))):
        prob = "low"
    else:
        prob = "minimal"
    f.mdm_problems = prob
    # ---- data reviewed / ordered
    tests = {m.concept for m in mentions if m.kind in ("lab", "procedure") and m.assertion != "negated" and m.section in _DATA_SECTIONS}
    cues = {k for k, pat in _DATA_CUES.items() if pat.search(text)}
    cat1 = len(tests) + (1 if "external" in cues else 0) + (1 if "historian" in cues else 0)
    categories = int(cat1 >= 3) + int("interpretation" in cues) + int("discussion" in cues)
    if categories >= 2:
        data = "high"
    elif categories >= 1:
        data = "moderate"
    elif cat1 >= 2 or "historian" in cues:
        data = "low"
    else:
        data = "minimal"
    f.mdm_data = data
    # ---- risk
    meds = [m for m in mentions if m.kind == "medication" and m.assertion in ("present", "uncertain", "historical")]
    rx = False
    for med in meds:
        window = text[max(0, med.start - 50) : med.end + 50]
        if _RX_MGMT.search(window) and not _OTC.search(med.text.lower()):
            rx = True
            break
    if re.search(r"\bprescription drug management\b", text, _I):
        rx = True
    f.prescription_drug_management = rx
    if _HIGH_RISK.search(text):
        risk = "high"
    elif rx or _MOD_RISK.search(text):
        risk = "moderate"
    elif _OTC.search(text) or any(m.kind == "procedure" for m in present):
        risk = "low"
    else:
        risk = "minimal"
    f.mdm_risk = risk
    f.procedures_today = any(
        m.kind == "procedure" and m.assertion == "present" and m.section in ("procedure", "plan", "assessment_plan", "unknown")
        and re.search(r"\b(?:performed|done|completed|administered|given|placed|removed|injected|drained|repaired|obtained today|in office|today)\b", text[m.start : m.end + 80], _I)
        for m in mentions
    ) or "procedure" in sections
    # MDM level: two of three elements
    ranks = sorted((_LEVELS.index(prob), _LEVELS.index(data), _LEVELS.index(risk)), reverse=True)
    f.mdm_level = _MDM_NAMES[_LEVELS[ranks[1]]]  # type: ignore[assignment]
    documented = _MDM_DOCUMENTED.search(text)
    if documented:
        f.mdm_level = _MDM_NAMES.get(documented.group(1), documented.group(1))  # type: ignore[assignment]
    return f
