"""NLP extraction pipeline: sections, sentences, mentions, assertions, attributes, E/M facts.

    from pipelines.nlp import NlpPipeline
    nlp = NlpPipeline.load()
    analysis = nlp.analyze("A/P: T2DM, uncontrolled (A1c 9.1). Denies chest pain.")
"""

import importlib.abc
import os
import sys
from typing import Any


class _NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is not needed by the rule-based spaCy pipeline")
        return None


def _import_spacy_without_torch() -> None:
    """spaCy's thinc imports torch when it is installed (~1 s and ~250 MB per process) although
    this pipeline has no neural component. Import spaCy with torch hidden, then unhide it: code
    that needs torch later (MiniLM distillation at training) imports it as usual.
    MEDCODE_SPACY_TORCH=1 keeps thinc's torch support."""
    if "spacy" in sys.modules or "torch" in sys.modules or os.environ.get("MEDCODE_SPACY_TORCH") == "1":
        return
    blocker = _NoTorch()
    sys.meta_path.insert(0, blocker)
    try:
        import spacy  # noqa: F401
    finally:
        sys.meta_path.remove(blocker)


_import_spacy_without_torch()

from pipelines.nlp.pipeline import PIPELINE_VERSION, NlpPipeline  # noqa: E402
from pipelines.nlp.types import (  # noqa: E402
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
