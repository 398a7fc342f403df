"""NLP extraction pipeline: sections, sentences, mentions, assertions, attributes, E/M facts.

    from pipelines.nlp import NlpPipeline
    nlp = NlpPipeline.load()
    analysis = nlp.analyze("A/P: T2DM, uncontrolled (A1c 9.1). Denies chest pain.")
"""

from pipelines.nlp.pipeline import PIPELINE_VERSION, NlpPipeline
from pipelines.nlp.types import (
    ASSERTIONS,
    SECTIONS,
    CodeCandidate,
    EncounterFacts,
    Mention,
    NoteAnalysis,
    Section,
)

__all__ = [
    "ASSERTIONS",
    "PIPELINE_VERSION",
    "SECTIONS",
    "CodeCandidate",
    "EncounterFacts",
    "Mention",
    "NlpPipeline",
    "NoteAnalysis",
    "Section",
]
