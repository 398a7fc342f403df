"""X-ray codes follow the documented number of views."""

from __future__ import annotations

import pytest

from codesets import load_codesets
from models.imaging import code_for_views, documented_views, view_ranges


@pytest.fixture(scope="module")
def ranges() -> dict:
    return view_ranges(load_codesets().procedures.catalog)


def test_view_ranges_come_from_the_catalog_descriptions(ranges: dict) -> None:
    assert ranges["71046"] == ("chest x-ray", 2, 2)
    assert ranges["71048"][1:] == (4, float("inf"))
    assert ranges["72040"][1:] == (2, 3)  # "two or three views"


@pytest.mark.parametrize(("text", "views"), [("chest x-ray 2 views", 2), ("CXR PA/lat", 2), ("PA and lateral chest", 2),
                                             ("single view chest film", 1), ("wrist x-ray, three views", 3),
                                             ("chest x-ray", None), ("x-ray of 2 fingers", None)])
def test_documented_views(text: str, views: int | None) -> None:
    assert documented_views(text) == views


@pytest.mark.parametrize(("code", "views", "expected"), [("71045", 2, "71046"), ("71046", 1, "71045"), ("71046", 6, "71048"),
                                                         ("71046", None, "71046"), ("72040", 3, "72040"),
                                                         ("72040", 5, "72050"), ("93000", 2, "93000")])
def test_code_for_views(ranges: dict, code: str, views: int | None, expected: str) -> None:
    assert code_for_views(code, views, ranges) == expected
