"""Pipelines that compose the parts: nlp, suggest, train, benchmark, batch, synthetic."""
