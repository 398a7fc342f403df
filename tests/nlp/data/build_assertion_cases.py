"""Writes assertion_cases.jsonl: labelled sentences for the assertion (ConText) evaluation.

Run: .venv/bin/python tests/nlp/data/build_assertion_cases.py
Each case: text, target (the phrase whose assertion is judged), start (offset of the target in
text), expected (present|negated|historical|family|hypothetical|uncertain), group (what it covers).
Templates x conditions are expanded deterministically; hand-written cases cover scope
boundaries, double negation, "no" inside other words and pseudo-negations.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

CONDITIONS = [
    "fever", "chest pain", "cough", "shortness of breath", "nausea", "headache", "pneumonia",
    "diabetes", "hypertension", "asthma", "COPD", "UTI", "rash", "dizziness", "abdominal pain",
    "edema", "palpitations", "syncope", "DVT", "pulmonary embolism", "stroke", "migraine",
    "depression", "anxiety", "GERD", "CHF", "atrial fibrillation", "sinusitis", "strep throat",
    "influenza", "COVID-19", "breast cancer", "colon cancer", "CAD", "hematuria", "dysuria",
    "wheezing", "cellulitis", "kidney stones", "hypothyroidism", "anemia", "osteoarthritis",
    "back pain", "knee pain", "vomiting", "diarrhea", "fatigue", "insomnia", "gout", "seizures",
]

# (template, expected, group); {c} target, {d} a second condition (not judged unless noted)
TEMPLATES: list[tuple[str, str, str]] = [
    # negation cues
    ("Patient denies {c}.", "negated", "denies"),
    ("He denied any {c} or {d}.", "negated", "denies"),
    ("No {c}.", "negated", "no"),
    ("There is no {c} today.", "negated", "no"),
    ("Negative for {c}.", "negated", "negative for"),
    ("Review of systems is negative for {c}.", "negated", "is negative for"),
    ("She presents without {c}.", "negated", "without"),
    ("Has been free of {c} for six months.", "negated", "free of"),
    ("{C} was ruled out.", "negated", "ruled out"),
    ("No evidence of {c} on today's evaluation.", "negated", "no evidence of"),
    ("Denies {d}, {c}, or vomiting.", "negated", "denies list"),
    ("He does not have {c}.", "negated", "not"),
    ("No signs of {c}.", "negated", "no signs of"),
    # historical cues
    ("History of {c}.", "historical", "history of"),
    ("She has a history of {c}, treated years ago.", "historical", "history of"),
    ("Hx of {c}.", "historical", "hx of"),
    ("s/p {c} in 2019.", "historical", "s/p"),
    ("Status post {c} last year.", "historical", "s/p"),
    ("{C} resolved last month.", "historical", "resolved"),
    ("Her {c} has resolved.", "historical", "resolved"),
    ("Previous {c}, no recurrence.", "historical", "previous"),
    # family cues
    ("Mother had {c}.", "family", "mother had"),
    ("Father had {c} in his fifties.", "family", "father had"),
    ("Sibling had {c}.", "family", "sibling had"),
    ("His brother has {c}.", "family", "brother has"),
    ("Family history of {c}.", "family", "family history of"),
    ("Maternal grandmother with {c}.", "family", "grandmother with"),
    # hypothetical cues
    ("Return if {c} develops.", "hypothetical", "return if"),
    ("Return to clinic if {c} worsens.", "hypothetical", "return if"),
    ("Call the office if {c} occurs.", "hypothetical", "call if"),
    ("Go to the ED if {c} develops.", "hypothetical", "go to ed if"),
    ("Watch for {c}.", "hypothetical", "watch for"),
    ("If {c} develops, start the rescue plan.", "hypothetical", "if"),
    # uncertainty cues
    ("Possible {c}.", "uncertain", "possible"),
    ("Probable {c}, will treat empirically.", "uncertain", "probable"),
    ("{C} vs {d}.", "uncertain", "vs"),
    ("{D} vs {c}.", "uncertain", "vs (backward)"),
    ("Cannot exclude {c}.", "uncertain", "cannot exclude"),
    ("r/o {c}", "uncertain", "r/o"),
    ("Rule out {c}.", "uncertain", "rule out"),
    ("Suspected {c}.", "uncertain", "suspected"),
    ("Concern for {c}.", "uncertain", "concern for"),
    ("Likely {c}.", "uncertain", "likely"),
    # double negation
    ("{C} not ruled out.", "uncertain", "double negation"),
    ("Cannot rule out {c}.", "uncertain", "double negation"),
    ("{C} has not been ruled out yet.", "uncertain", "double negation"),
    # present
    ("Reports {c} for three days.", "present", "present"),
    ("Complains of {c}.", "present", "present"),
    ("Presents with {c}.", "present", "present"),
    ("Assessment: {c}, stable.", "present", "present"),
    ("Positive for {c}.", "present", "present"),
    # scope boundaries
    ("Denies {d} but reports {c}.", "present", "scope: but"),
    ("No {d}; has {c}.", "present", "scope: semicolon"),
    ("No {d}. {C} for two days.", "present", "scope: sentence end"),
    ("Denies {d}, however endorses {c}.", "present", "scope: however"),
    ("History of {d}, now presents with {c}.", "present", "scope: presents with"),
    ("Mother had {d}; patient has {c}.", "present", "scope: family then patient"),
    ("Family History: mother had {d}.\nAssessment and Plan: {c}, start treatment.", "present", "scope: section change"),
    ("FHx: {d} in father.\n\nA/P: {c}.", "present", "scope: section change"),
    ("PMH: {d}.\nHPI: Presents with {c}.", "present", "scope: section change"),
    # sections as assertion sources
    ("Family history: {c}.", "family", "section: family history"),
    ("PMH: {c}.", "historical", "section: pmh"),
    # "no" inside other words / pseudo-negation
    ("Known {c}, on treatment.", "present", "no inside word: known"),
    ("Notable for {c}.", "present", "no inside word: notable"),
    ("Nonetheless {c} persists.", "present", "no inside word: nonetheless"),
    ("Noted {c} on exam.", "present", "no inside word: noted"),
    ("No increase in {c} since last visit.", "present", "pseudo: no increase in"),
    ("No change in {c} since the last visit.", "present", "pseudo: no change in"),
    ("Not only {c} but also {d}.", "present", "pseudo: not only"),
]

HANDWRITTEN: list[tuple[str, str, str, str]] = [
    # text, target, expected, group
    ("Patient is negative for fever and chills.", "chills", "negated", "is negative for"),
    ("Urine culture grew gram negative rods consistent with UTI.", "UTI", "uncertain", "pseudo: gram negative + consistent with"),
    ("Gram negative bacteremia with UTI.", "UTI", "present", "pseudo: gram negative"),
    ("Not only fatigue but also insomnia.", "insomnia", "present", "pseudo: not only"),
    ("Chest x-ray shows no pneumonia.", "pneumonia", "negated", "no"),
    ("Chest x-ray: no evidence of pneumonia, possible bronchitis.", "bronchitis", "uncertain", "scope: cue change"),
    ("Chest x-ray: no evidence of pneumonia, possible bronchitis.", "pneumonia", "negated", "no evidence of"),
    ("Pneumonia was ruled out by chest x-ray.", "Pneumonia", "negated", "ruled out"),
    ("Pulmonary embolism ruled out with CT angiography.", "Pulmonary embolism", "negated", "ruled out"),
    ("Pulmonary embolism is not ruled out.", "Pulmonary embolism", "uncertain", "double negation"),
    ("Pulmonary embolism cannot be excluded.", "Pulmonary embolism", "uncertain", "cannot exclude"),
    ("Strep throat vs viral pharyngitis.", "Strep throat", "uncertain", "vs"),
    ("Denies chest pain. Reports palpitations.", "palpitations", "present", "scope: sentence end"),
    ("Denies chest pain.\nReports palpitations.", "palpitations", "present", "scope: newline"),
    ("No fever, chills, or night sweats.", "night sweats", "negated", "no list"),
    ("Fever: no", "Fever", "negated", "ros colon"),
    ("Cough: negative", "Cough", "negated", "ros colon"),
    ("Headache: denies", "Headache", "negated", "ros colon"),
    ("Father with CAD.", "CAD", "family", "father with"),
    ("Her sister was diagnosed with breast cancer.", "breast cancer", "family", "sister diagnosed with"),
    ("Diabetes runs in the family.", "Diabetes", "family", "runs in family"),
    ("Mother had no history of diabetes.", "diabetes", "negated", "family + negation"),
    ("No family history of colon cancer.", "colon cancer", "negated", "negated family history"),
    ("Denies history of asthma.", "asthma", "negated", "denies history of"),
    ("Possible history of asthma as a child.", "asthma", "uncertain", "possible history of"),
    ("Return precautions for fever reviewed.", "fever", "hypothetical", "return precautions"),
    ("Seek care if shortness of breath develops.", "shortness of breath", "hypothetical", "seek care if"),
    ("Discussed the risk of stroke.", "stroke", "hypothetical", "risk of"),
    ("Screening for diabetes is due.", "diabetes", "hypothetical", "screening for"),
    ("Monitor for fever at home.", "fever", "hypothetical", "monitor for"),
    ("Will return if the rash spreads.", "rash", "hypothetical", "return if"),
    ("Appears to have cellulitis, questionable abscess.", "abscess", "uncertain", "questionable"),
    ("Syncope?", "Syncope", "uncertain", "question mark"),
    ("Differential includes migraine.", "migraine", "uncertain", "differential"),
    ("Working diagnosis of sinusitis.", "sinusitis", "uncertain", "working diagnosis"),
    ("Previously had DVT in 2018, on apixaban since.", "DVT", "historical", "previously"),
    ("Remote history of kidney stones.", "kidney stones", "historical", "remote history of"),
    ("Anxiety, resolved.", "Anxiety", "historical", "resolved backward"),
    ("Depression in remission.", "Depression", "historical", "in remission"),
    ("s/p MI with stent placement.", "MI", "historical", "s/p"),
    ("HPI: 60 year old with cough and fever.", "cough", "present", "present"),
    ("She has had diarrhea since Monday.", "diarrhea", "present", "present"),
    ("Nausea without vomiting.", "Nausea", "present", "without: before cue"),
    ("Abdominal pain without vomiting.", "vomiting", "negated", "without"),
    ("Abdominal pain without fever.", "fever", "negated", "without"),
    ("Cough, improving, no wheezing.", "Cough", "present", "no after target"),
    ("Cough, improving, no wheezing.", "wheezing", "negated", "no"),
    ("Denies dysuria or hematuria but has urinary frequency.", "urinary frequency", "present", "scope: but"),
    ("Patient reports no nausea.", "nausea", "negated", "reports no"),
    ("Negative rapid strep; strep throat ruled out.", "strep throat", "negated", "ruled out"),
    ("Anemia is absent.", "Anemia", "negated", "absent backward"),
    ("Edema not present.", "Edema", "negated", "not present backward"),
    ("Edema is not seen on exam.", "Edema", "negated", "not seen backward"),
    ("The patient has no known history of seizures.", "seizures", "negated", "no known history"),
    ("Economic stress contributes to her insomnia.", "insomnia", "present", "no inside word: economic"),
    ("Snoring and fatigue reported by spouse.", "fatigue", "present", "no inside word: snoring"),
    ("Nocturnal cough for two weeks.", "cough", "present", "no inside word: nocturnal"),
    ("Nontender abdomen, abdominal pain resolved.", "abdominal pain", "historical", "resolved"),
    ("A/P:\n1. Hypertension - continue lisinopril.\n2. Possible GERD - trial of omeprazole.", "Hypertension", "present", "list item scope"),
    ("A/P:\n1. Hypertension - continue lisinopril.\n2. Possible GERD - trial of omeprazole.", "GERD", "uncertain", "list item scope"),
    ("A/P:\n1. No evidence of DVT.\n2. Cellulitis of left leg - start cephalexin.", "Cellulitis", "present", "list item scope"),
    ("Family History:\nMother - breast cancer\nFather - CAD\n\nAssessment:\nHypertension, uncontrolled.", "Hypertension", "present", "section change after FHx"),
    ("Family History:\nMother - breast cancer\nFather - CAD", "CAD", "family", "family section"),
    ("Social history: no tobacco use.", "tobacco use", "negated", "no"),
    ("Former smoker.", "Former smoker", "present", "concept carries history"),
    ("Free of seizures since the dose change.", "seizures", "negated", "free of"),
    ("He is free from migraine on the new regimen.", "migraine", "negated", "free from"),
    ("Influenza test negative.", "Influenza", "negated", "negative backward"),
    ("COVID-19 test was negative.", "COVID-19", "negated", "negative backward"),
    ("Not experiencing dizziness today.", "dizziness", "negated", "not"),
    ("Never had seizures.", "seizures", "negated", "never had"),
    ("Probable viral gastroenteritis.", "gastroenteritis", "uncertain", "probable"),
    ("Mother and father both had hypertension.", "hypertension", "family", "father had"),
    ("Paternal uncle had colon cancer.", "colon cancer", "family", "paternal uncle had"),
    ("If headache persists, return to clinic.", "headache", "hypothetical", "if"),
    ("Return if fever, vomiting, or rash.", "rash", "hypothetical", "return if list"),
    ("Will treat for possible UTI.", "UTI", "uncertain", "possible"),
    ("Concerning for cellulitis vs abscess.", "cellulitis", "uncertain", "concerning for"),
    ("Asthma exacerbation, no signs of pneumonia.", "Asthma exacerbation", "present", "cue after target"),
    ("Type 2 diabetes without complications.", "Type 2 diabetes", "present", "without after target"),
]


def build() -> list[dict]:
    rng = random.Random(20261127)
    cases: list[dict] = []
    for template, expected, group in TEMPLATES:
        conds = rng.sample(CONDITIONS, 4)
        for c, d in ((conds[0], conds[1]), (conds[2], conds[3]), (conds[1], conds[2]), (conds[3], conds[0])):
            text = template.format(c=c, C=c[0].upper() + c[1:], d=d, D=d[0].upper() + d[1:])
            target = c if "{c}" in template else c[0].upper() + c[1:]
            marker = "{c}" if "{c}" in template else "{C}"
            # offset of the target: where the template's marker lands
            prefix = template.split(marker)[0].format(d=d, D=d[0].upper() + d[1:])
            start = len(prefix)
            assert text[start : start + len(target)] == target, (template, c)
            cases.append({"text": text, "target": target, "start": start, "expected": expected, "group": group})
    for text, target, expected, group in HANDWRITTEN:
        start = text.index(target)
        cases.append({"text": text, "target": target, "start": start, "expected": expected, "group": group})
    return cases


if __name__ == "__main__":
    out = Path(__file__).with_name("assertion_cases.jsonl")
    rows = build()
    with out.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
    print(f"wrote {len(rows)} cases to {out}")
