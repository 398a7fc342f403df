"""Open phrases: words no lexicon entry covered, cut into short runs the dense index can code."""

from __future__ import annotations

import pytest

from pipelines.nlp import NlpPipeline
from pipelines.nlp.lexicon import read_rule_file
from pipelines.nlp.phrases import HEADER, MENTION, OPEN, PhraseRules, open_runs, phrase_rules


def _phrases(nlp: NlpPipeline, text: str) -> list[tuple[str, str, str]]:
    a = nlp.analyze(text)
    for p in a.phrases:
        assert text[p.start:p.end] == p.text
        assert p.kind == "phrase" and not p.candidates
    return [(p.text, p.concept, p.assertion) for p in a.phrases]


def test_unknown_wording_becomes_a_phrase_and_known_wording_stays_a_mention(nlp: NlpPipeline) -> None:
    text = "Assessment: 1. Essential hypertension, stable.\n2. Grumbly tummy after meals."
    a = nlp.analyze(text)
    assert any(m.text == "Essential hypertension" for m in a.mentions)
    got = _phrases(nlp, text)
    assert ("Grumbly tummy", "grumbly tummy", "present") in got
    assert not any("hypertension" in t.lower() for t, _, _ in got)  # a mention alone is never a phrase
    # open words next to a mention: the more specific name the lexicon does not spell
    got = _phrases(nlp, "Assessment: comorbid generalized anxiety disorder.")
    assert any(c == "comorbid generalized anxiety disorder" for _, c, _ in got), got
    # the phrase is not a mention: E/M problem counting and mention evidence do not see it
    assert all(m.kind != "phrase" for m in a.mentions)


@pytest.mark.parametrize("text, phrase, assertion", [
    ("HPI: Denies grumbly tummy.", "grumbly tummy", "negated"),
    ("HPI: No grumbly tummy.", "grumbly tummy", "negated"),
    ("Family history: mother with grumbly tummy.", "grumbly tummy", "family"),
    ("Assessment: possible grumbly tummy.", "grumbly tummy", "uncertain"),
])
def test_phrases_get_assertions_like_mentions(nlp: NlpPipeline, text: str, phrase: str, assertion: str) -> None:
    got = {c: a for _, c, a in _phrases(nlp, text)}
    assert got.get(phrase) == assertion, got


def test_filler_numbers_and_skipped_sections_make_no_phrase(nlp: NlpPipeline) -> None:
    text = ("Medications: zorbafen 10 mg daily.\nVitals: BP 120/80.\n"
            "Plan: continue current regimen, follow up in 3 months.")
    assert _phrases(nlp, text) == []


def test_phrase_words_are_normalised_for_the_dense_index(nlp: NlpPipeline) -> None:
    # the concept carries normalised words (plural folded): what the encoder reads
    got = _phrases(nlp, "Assessment: grumbly tummies.")
    assert ("grumbly tummies", "grumbly tummy", "present") in got


def test_open_runs_cut_at_boundaries_and_cap_length() -> None:
    rules = phrase_rules()
    text = "zorp quib, flarn wibble and snorkel"
    spans = [("zorp", 0, 4), ("quib", 5, 9), ("flarn", 11, 16), ("wibble", 17, 23), ("snorkel", 28, 35)]
    assert [w for _, _, w in open_runs(text, spans, [OPEN] * 5, rules)] == ["zorp quib", "flarn wibble", "snorkel"]
    # a mention splits a run; the open word and the mention next to it are also one phrase (the
    # mention may be the generic head of a longer name); a header word ends everything
    assert [w for _, _, w in open_runs(text, spans, [OPEN, MENTION, OPEN, OPEN, OPEN], rules)] == \
        ["zorp", "zorp quib", "flarn wibble", "snorkel"]
    assert [w for _, _, w in open_runs(text, spans, [HEADER, MENTION, OPEN, OPEN, OPEN], rules)] == \
        ["flarn wibble", "snorkel"]
    # a run longer than max_words is narrative, not a name
    long_text = " ".join(f"word{chr(97 + i)}x" for i in range(rules.max_words + 1)).replace("0", "")
    toks = long_text.split()
    pos, long_spans = 0, []
    for t in toks:
        long_spans.append((t, pos, pos + len(t)))
        pos += len(t) + 1
    assert open_runs(long_text, long_spans, [OPEN] * len(toks), rules) == []


def test_phrase_rules_are_validated() -> None:
    data = read_rule_file("phrases.yaml")
    assert PhraseRules.from_data(data).max_words >= 3
    with pytest.raises(ValueError, match="unknown keys"):
        PhraseRules.from_data({**data, "colour": "red"})
    with pytest.raises(ValueError, match="quote"):
        PhraseRules.from_data({**data, "filler": [*data["filler"], False]})  # an unquoted `no` in YAML


def test_phrases_can_be_switched_off_and_the_suggester_does_so_when_it_does_not_read_them() -> None:
    from pipelines.suggest import SuggestConfig, Suggester

    nlp = NlpPipeline.load()
    text = "Assessment: grumbly tummy."
    assert nlp.open_phrases and nlp.analyze(text).phrases
    Suggester(nlp, SuggestConfig())  # the default does not read phrases
    assert not nlp.open_phrases and nlp.analyze(text).phrases == []
    Suggester(nlp, SuggestConfig(open_phrases=True))
    assert nlp.analyze(text).phrases


def test_one_note_can_ask_for_its_open_phrases_whatever_the_pipeline_switch() -> None:
    """A case report routed to a corpus with its own ranker is read with its phrases while the
    clinic notes around it are not (SuggestConfig.corpus_phrases); the mentions do not change."""
    nlp = NlpPipeline.load()
    nlp.open_phrases = False
    text = "Assessment: grumbly tummy and hypertension."
    plain, with_phrases = nlp.analyze(text), nlp.analyze(text, phrases=True)
    assert plain.phrases == [] and [p.text for p in with_phrases.phrases] == ["grumbly tummy"]
    assert [m.text for m in plain.mentions] == [m.text for m in with_phrases.mentions]
    batch = nlp.analyze_batch([text, text, text], phrases=[True, None, False])
    assert [bool(a.phrases) for a in batch] == [True, False, False]
    nlp.open_phrases = True
    assert [bool(a.phrases) for a in nlp.analyze_batch([text, text], phrases=[None, False])] == [True, False]
    assert nlp.analyze(text, phrases=False).phrases == []
    with pytest.raises(ValueError, match="phrase switches"):
        nlp.analyze_batch([text, text], phrases=[True])
