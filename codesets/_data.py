"""Reading the packaged code-set files (importlib.resources) and user-imported releases."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

PACKAGE_DATA = "codesets.data"


def _open_text(name: str) -> io.TextIOBase:
    ref = resources.files(PACKAGE_DATA).joinpath(name)
    raw = ref.read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return io.StringIO(raw.decode("utf-8"))


def read_rows(name: str) -> Iterator[dict[str, str]]:
    """Rows of a packaged CSV (optionally .gz) as dicts."""
    with _open_text(name) as fh:
        yield from csv.DictReader(fh)


def read_tuples(name: str) -> Iterator[list[str]]:
    """Rows of a packaged CSV as plain lists, header first (faster than dicts for big tables)."""
    with _open_text(name) as fh:
        yield from csv.reader(fh)


def has_resource(name: str) -> bool:
    return resources.files(PACKAGE_DATA).joinpath(name).is_file()


def resource_digest(*names: str) -> str:
    """Short content hash of packaged files: part of the code-set version string."""
    h = hashlib.sha256()
    for name in names:
        ref = resources.files(PACKAGE_DATA).joinpath(name)
        if ref.is_file():
            h.update(ref.read_bytes())
    return h.hexdigest()[:8]


def user_codesets_dir() -> Path:
    """Where `medcode codesets import` writes new fiscal years (MEDCODE_CODESETS_DIR)."""
    return Path(os.environ.get("MEDCODE_CODESETS_DIR", str(Path.home() / ".medcode" / "codesets")))


def read_user_rows(path: Path) -> Iterator[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        yield from csv.DictReader(fh)
