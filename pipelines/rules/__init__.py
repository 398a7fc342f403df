"""Coding rules as data files (loaded with importlib.resources).

Each file's records have closed keys: `rule_records` reads a file and fails on a key it does not
know, before any rule is used.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml


def read_rule_file(name: str) -> dict[str, Any]:
    """The parsed YAML rule file `name` of this package."""
    return yaml.safe_load(resources.files(__name__).joinpath(name).read_text(encoding="utf-8"))


def check_keys(record: dict[str, Any], keys: frozenset[str], what: str) -> dict[str, Any]:
    """`record` itself, or a ValueError naming `what` and the keys it has beyond `keys`."""
    unknown = set(record) - keys
    if unknown:
        raise ValueError(f"{what}: unknown keys {sorted(unknown)}")
    return record


def rule_records(name: str, keys: frozenset[str], what: str) -> list[dict[str, Any]]:
    """The `rules` list of file `name`, each record checked against `keys`."""
    return [check_keys(r, keys, f"{what} {r.get('id')!r}") for r in read_rule_file(name)["rules"]]
