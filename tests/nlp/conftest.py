from __future__ import annotations

import pytest

from pipelines.nlp import NlpPipeline


@pytest.fixture(scope="session")
def nlp() -> NlpPipeline:
    # the default pipeline: lexicon built from the packaged code sets once, then cached
    return NlpPipeline.load()
