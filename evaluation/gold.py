"""Gold coding readers: the JSONL contract (DESIGN.md 4.1), a long CSV (`id, system, code`) and
CodiEsp's release layout (`articleID<TAB>code` files plus a folder of texts).

    from evaluation.gold import read_gold
    notes = read_gold("data/external/codiesp/dev.jsonl")     # or a .csv, or a CodiEsp folder

Codes are normalised on read: ICD-10-CM to dotted upper case (`e1165` -> `E11.65`), CPT/HCPCS
and ICD-10-PCS to upper case without spaces or dots. Unknown JSON keys are ignored. A broken
line raises `GoldFormatError` naming the file and line number (never the note text).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codesets.normalize import CodeFormatError, clean, normalize_icd, proc_key

SYSTEMS: tuple[str, ...] = ("icd10cm", "cpt", "icd10pcs")
# long-CSV system names accepted for each contract field
_SYSTEM_ALIASES = {
    "icd10cm": "icd10cm",
    "icd-10-cm": "icd10cm",
    "icd10": "icd10cm",
    "dx": "icd10cm",
    "d": "icd10cm",
    "cpt": "cpt",
    "hcpcs": "cpt",
    "cpt/hcpcs": "cpt",
    "icd10pcs": "icd10pcs",
    "icd-10-pcs": "icd10pcs",
    "pcs": "icd10pcs",
    "p": "icd10pcs",
}
_PCS_RE = re.compile(r"^[0-9A-HJ-NP-Z]{3,7}$")


class GoldFormatError(ValueError):
    """The gold file cannot be read; the message names the file and line, never note text."""


@dataclass(slots=True)
class CptLine:
    code: str
    modifiers: list[str] = field(default_factory=list)
    units: int = 1
    dx: list[str] = field(default_factory=list)  # dotted ICD-10-CM codes (pointers resolved)


@dataclass(slots=True)
class GoldNote:
    id: str
    text: str = ""
    icd10cm: list[str] = field(default_factory=list)
    cpt: list[str] = field(default_factory=list)
    icd10pcs: list[str] = field(default_factory=list)
    cpt_lines: list[CptLine] | None = None
    patient: dict[str, Any] | None = None
    date_of_service: str | None = None
    setting: str | None = None
    specialty: str | None = None
    split: str | None = None
    evidence: dict[str, Any] | None = None
    # which code systems this note is annotated for (a key that is present, even if empty)
    systems: set[str] = field(default_factory=set)

    def codes(self, system: str) -> list[str]:
        out: list[str] = getattr(self, system)
        return out

    def context(self) -> dict[str, Any]:
        """The request context of DESIGN.md 4.2 (everything but the text), None values dropped."""
        ctx: dict[str, Any] = {
            "patient": self.patient,
            "date_of_service": self.date_of_service,
            "setting": self.setting,
            "specialty": self.specialty,
        }
        return {k: v for k, v in ctx.items() if v is not None}


# ---- code normalisation ---------------------------------------------------------------------
def normalize_code(code: str, system: str) -> str:
    """Contract form of a gold code; raises CodeFormatError when it cannot be one."""
    if system == "icd10cm":
        return normalize_icd(code)
    if system == "cpt":
        return proc_key(code)
    if system == "icd10pcs":
        c = clean(code)
        if not _PCS_RE.match(c):
            raise CodeFormatError(f"{code!r} is not an ICD-10-PCS code (expected 3-7 characters, e.g. BW03ZZZ)")
        return c
    raise CodeFormatError(f"unknown code system {system!r}")


def normalize_pred_code(code: str, system: str) -> str:
    """Lenient normalisation for predicted codes: a malformed code is kept (upper case, no dots)
    and simply never matches gold."""
    try:
        return normalize_code(code, system)
    except CodeFormatError:
        return clean(code) if isinstance(code, str) else str(code)


def _dedup(codes: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for c in codes:
        if c not in seen:
            seen.add(c)
            out.append(c)
    return out


# ---- JSONL contract -------------------------------------------------------------------------
def _codes_field(value: Any, system: str, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise GoldFormatError(f"{where}: '{system}' must be a list of codes")
    out = []
    for item in value:
        code = item.get("code") if isinstance(item, dict) else item
        if not isinstance(code, str):
            raise GoldFormatError(f"{where}: '{system}' holds a non-string code")
        try:
            out.append(normalize_code(code, system))
        except CodeFormatError as exc:
            raise GoldFormatError(f"{where}: {exc}") from None
    return _dedup(out)


def _cpt_lines(value: Any, icd: list[str], where: str) -> list[CptLine]:
    if not isinstance(value, list):
        raise GoldFormatError(f"{where}: 'cpt_lines' must be a list")
    lines = []
    for ln in value:
        if not isinstance(ln, dict) or not isinstance(ln.get("code"), str):
            raise GoldFormatError(f"{where}: each cpt_lines item needs a string 'code'")
        try:
            code = proc_key(ln["code"])
        except CodeFormatError as exc:
            raise GoldFormatError(f"{where}: {exc}") from None
        dx: list[str] = []
        for p in ln.get("dx") or []:
            if isinstance(p, bool):
                raise GoldFormatError(f"{where}: bad dx pointer {p!r}")
            if isinstance(p, int) or (isinstance(p, str) and p.isdigit()):
                i = int(p)
                if not 1 <= i <= len(icd):
                    raise GoldFormatError(f"{where}: dx pointer {i} outside the {len(icd)} gold diagnoses")
                dx.append(icd[i - 1])
            elif isinstance(p, str):
                try:
                    dx.append(normalize_icd(p))
                except CodeFormatError as exc:
                    raise GoldFormatError(f"{where}: {exc}") from None
            else:
                raise GoldFormatError(f"{where}: bad dx pointer of type {type(p).__name__}")
        mods = [str(m).strip().upper() for m in ln.get("modifiers") or []]
        try:
            units = int(ln.get("units") or 1)
        except (TypeError, ValueError):
            raise GoldFormatError(f"{where}: 'units' must be an integer") from None
        lines.append(CptLine(code=code, modifiers=mods, units=units, dx=_dedup(dx)))
    return lines


def note_from_record(rec: dict[str, Any], where: str) -> GoldNote:
    """One JSONL record -> GoldNote (unknown keys ignored)."""
    if not isinstance(rec, dict):
        raise GoldFormatError(f"{where}: expected a JSON object")
    nid = rec.get("id")
    if not isinstance(nid, str | int) or isinstance(nid, bool) or str(nid) == "":
        raise GoldFormatError(f"{where}: missing or empty 'id'")
    text = rec.get("text", "")
    if not isinstance(text, str):
        raise GoldFormatError(f"{where}: 'text' must be a string")
    note = GoldNote(id=str(nid), text=text)
    for system in SYSTEMS:
        if system in rec and rec[system] is not None:
            setattr(note, system, _codes_field(rec[system], system, where))
            note.systems.add(system)
    if rec.get("cpt_lines") is not None:
        note.cpt_lines = _cpt_lines(rec["cpt_lines"], note.icd10cm, where)
        if "cpt" not in note.systems:  # the lines imply the CPT gold
            note.cpt = _dedup(ln.code for ln in note.cpt_lines)
            note.systems.add("cpt")
    patient = rec.get("patient")
    note.patient = patient if isinstance(patient, dict) else None
    for key in ("date_of_service", "setting", "specialty", "split"):
        v = rec.get(key)
        setattr(note, key, str(v) if v is not None else None)
    ev = rec.get("evidence")
    note.evidence = ev if isinstance(ev, dict) else None
    return note


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


def iter_jsonl(path: str | Path) -> Iterator[tuple[str, Any]]:
    """(where, record) for every non-blank line of a JSONL file (.gz too); GoldFormatError with
    the file name and line number on broken JSON (never the line's text)."""
    path = Path(path)
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path.name} line {lineno}"
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise GoldFormatError(f"{where}: broken JSON ({exc.msg} at column {exc.colno})") from None
            yield where, rec


def read_jsonl(path: str | Path) -> list[GoldNote]:
    path = Path(path)
    notes = [note_from_record(rec, where) for where, rec in iter_jsonl(path)]
    return _check_unique(notes, path)


# ---- long CSV ---------------------------------------------------------------------------------
def read_long_csv(path: str | Path) -> list[GoldNote]:
    """`id,system,code` rows (header required; other columns ignored). A row with an empty code
    declares a note annotated for that system with no codes."""
    path = Path(path)
    by_id: dict[str, GoldNote] = {}
    with _open_text(path) as fh:
        reader = csv.DictReader(fh)
        fields = [f.strip().lower() for f in reader.fieldnames or []]
        if not {"id", "system", "code"} <= set(fields):
            raise GoldFormatError(f"{path.name} line 1: CSV header must contain id, system, code")
        reader.fieldnames = fields
        for lineno, row in enumerate(reader, 2):
            where = f"{path.name} line {lineno}"
            nid = (row.get("id") or "").strip()
            if not nid:
                raise GoldFormatError(f"{where}: empty id")
            sys_raw = (row.get("system") or "").strip().lower()
            system = _SYSTEM_ALIASES.get(sys_raw)
            if system is None:
                raise GoldFormatError(f"{where}: unknown system {sys_raw!r} (expected icd10cm, cpt or icd10pcs)")
            note = by_id.setdefault(nid, GoldNote(id=nid))
            note.systems.add(system)
            code = (row.get("code") or "").strip()
            if not code:
                continue
            try:
                c = normalize_code(code, system)
            except CodeFormatError as exc:
                raise GoldFormatError(f"{where}: {exc}") from None
            lst = note.codes(system)
            if c not in lst:
                lst.append(c)
    return list(by_id.values())


# ---- CodiEsp layout -------------------------------------------------------------------------
def _read_codiesp_tsv(path: Path, system: str, by_id: dict[str, GoldNote]) -> None:
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            parts = line.rstrip("\n\r").split("\t")
            where = f"{path.name} line {lineno}"
            if len(parts) < 2:
                raise GoldFormatError(f"{where}: expected articleID<TAB>code")
            nid, code = parts[0].strip(), parts[1].strip()
            if lineno == 1 and nid.lower() in ("articleid", "id", "doc_id"):
                continue  # header
            try:
                c = normalize_code(code, system)
            except CodeFormatError as exc:
                raise GoldFormatError(f"{where}: {exc}") from None
            note = by_id.setdefault(nid, GoldNote(id=nid))
            note.systems.add(system)
            if c not in note.codes(system):
                note.codes(system).append(c)


def read_codiesp(
    folder: str | Path, text_dir: str | Path | None = None, split: str | None = None
) -> list[GoldNote]:
    """A CodiEsp split folder: `<split>D.tsv` (diagnoses, ICD-10-CM), `<split>P.tsv` (procedures,
    ICD-10-PCS), and texts in `text_files_en/` (preferred) or `text_files/` (`<articleID>.txt`).
    Every text file is a note, even one without codes; every note is annotated for the systems
    whose file exists."""
    folder = Path(folder)
    d_files = sorted(folder.glob("*D.tsv")) + sorted(folder.glob("*D.tsv.gz"))
    p_files = sorted(folder.glob("*P.tsv")) + sorted(folder.glob("*P.tsv.gz"))
    if not d_files and not p_files:
        raise GoldFormatError(f"{folder.name}: no CodiEsp *D.tsv or *P.tsv file in the folder")
    by_id: dict[str, GoldNote] = {}
    for f in d_files:
        _read_codiesp_tsv(f, "icd10cm", by_id)
    for f in p_files:
        _read_codiesp_tsv(f, "icd10pcs", by_id)
    tdir: Path | None = Path(text_dir) if text_dir else None
    if tdir is None:
        for name in ("text_files_en", "text_files"):
            if (folder / name).is_dir():
                tdir = folder / name
                break
    if tdir is not None:
        for tf in sorted(tdir.glob("*.txt")):
            note = by_id.setdefault(tf.stem, GoldNote(id=tf.stem))
            note.text = tf.read_text(encoding="utf-8")
    systems = {"icd10cm"} if d_files else set()
    if p_files:
        systems.add("icd10pcs")
    for note in by_id.values():
        note.systems |= systems
        note.split = split or folder.name
    return sorted(by_id.values(), key=lambda n: n.id)


# ---- dispatch -------------------------------------------------------------------------------
def detect_format(path: str | Path) -> str:
    """'codiesp' (a folder or a .tsv), 'csv' or 'jsonl'."""
    p = Path(path)
    if p.is_dir():
        return "codiesp"
    name = p.name.lower().removesuffix(".gz")
    if name.endswith(".tsv"):
        return "codiesp"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    with _open_text(p) as fh:
        head = fh.read(4096).lstrip()
    if head.startswith("{"):
        return "jsonl"
    first = head.splitlines()[0].lower() if head else ""
    if "id" in first and "system" in first and "code" in first:
        return "csv"
    return "jsonl"


def read_gold(path: str | Path, fmt: str | None = None) -> list[GoldNote]:
    """Read gold notes in any supported layout (auto-detected unless `fmt` is given)."""
    p = Path(path)
    if not p.exists():
        raise GoldFormatError(f"gold file not found: {p}")
    fmt = fmt or detect_format(p)
    if fmt == "jsonl":
        return read_jsonl(p)
    if fmt == "csv":
        return read_long_csv(p)
    if fmt == "codiesp":
        if p.is_dir():
            return read_codiesp(p)
        by_id: dict[str, GoldNote] = {}
        system = "icd10pcs" if p.name.lower().removesuffix(".gz").endswith("p.tsv") else "icd10cm"
        _read_codiesp_tsv(p, system, by_id)
        return list(by_id.values())
    raise GoldFormatError(f"unknown gold format {fmt!r} (expected jsonl, csv or codiesp)")


def _check_unique(notes: list[GoldNote], path: Path) -> list[GoldNote]:
    seen: set[str] = set()
    for n in notes:
        if n.id in seen:
            raise GoldFormatError(f"{path.name}: duplicate note id {n.id!r}")
        seen.add(n.id)
    return notes


def gold_systems(notes: list[GoldNote]) -> list[str]:
    """Code systems annotated in at least one note, in contract order."""
    present = set().union(*(n.systems for n in notes)) if notes else set()
    return [s for s in SYSTEMS if s in present]


def data_hash(path: str | Path) -> str:
    """sha256 of the gold file (or of every file under a gold folder, in name order)."""
    p = Path(path)
    h = hashlib.sha256()
    files: Iterator[Path] = iter(sorted(x for x in p.rglob("*") if x.is_file())) if p.is_dir() else iter([p])
    for f in files:
        if p.is_dir():
            h.update(str(f.relative_to(p)).encode())
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def note_to_record(note: GoldNote, with_text: bool = False) -> dict[str, Any]:
    """The JSONL contract form of a gold note (text left out unless asked)."""
    rec: dict[str, Any] = {"id": note.id}
    if with_text:
        rec["text"] = note.text
    for s in SYSTEMS:
        if s in note.systems:
            rec[s] = list(note.codes(s))
    if note.cpt_lines is not None:
        rec["cpt_lines"] = [
            {"code": ln.code, "modifiers": ln.modifiers, "units": ln.units, "dx": ln.dx} for ln in note.cpt_lines
        ]
    for key in ("patient", "date_of_service", "setting", "specialty", "split"):
        v = getattr(note, key)
        if v is not None:
            rec[key] = v
    return rec
