"""Shared fixtures: the packaged rule set, or (until the curated medical-necessity table is
committed) the packaged rules with a small test table."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from validator.ruleset import Ruleset, build_ruleset, load_ruleset

DATA = Path(__file__).parent / "data"


def _rule_bytes(name: str) -> bytes:
    return resources.files("validator.rules").joinpath(name).read_bytes()


@pytest.fixture(scope="session")
def fixture_ruleset() -> Ruleset:
    """Packaged rules.yaml/policy.yaml with the small test necessity table."""
    return build_ruleset(
        _rule_bytes("rules.yaml"), _rule_bytes("policy.yaml"), (DATA / "medical_necessity_fixture.csv").read_bytes()
    )


@pytest.fixture(scope="session")
def ruleset(fixture_ruleset: Ruleset) -> Ruleset:
    """The packaged rule set when it has a medical-necessity table, else the fixture one."""
    rs = load_ruleset()
    return rs if len(rs.necessity) else fixture_ruleset
