"""ICD-10-CM by fiscal year: validity, billable flags, hierarchy, tabular notes and MCE edits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from codesets._data import read_rows, read_user_rows, user_codesets_dir
from codesets.normalize import dotted

NOTE_TYPES = ("excludes1", "excludes2", "codeFirst", "useAdditionalCode", "codeAlso")


@dataclass(frozen=True, slots=True)
class MceAttributes:
    """Medicare Code Editor attributes of one code (CMS MCE / I/OCE)."""

    age_lo: int = 0
    age_hi: int = 124
    sex: str = ""  # "M"/"F" from the FY2024 MCE; advisory only from FY2025 on
    manifestation: bool = False
    external_cause: bool = False
    unspecified: bool = False
    unacceptable_first_listed: bool = False


@dataclass(frozen=True, slots=True)
class TabularNote:
    host: str
    note_type: str
    text: str
    refs: tuple[str, ...]

    def matches(self, key: str) -> bool:
        """Whether dotless code `key` falls under one of the note's references."""
        return any(ref_matches(ref, key) for ref in self.refs)


def ref_matches(ref: str, key: str) -> bool:
    """`E08*` = E08 and descendants; `O10..O11` inclusive category range; plain = code and descendants."""
    if ".." in ref:
        lo, hi = ref.split("..", 1)
        return lo[:3] <= key[:3] <= hi[:3] if len(lo) == 3 else lo <= key[: len(lo)] <= hi
    return key.startswith(ref.rstrip("*"))


@dataclass(slots=True)
class IcdCode:
    code: str  # dotless
    flags: dict[int, str] = field(default_factory=dict)  # fy -> "B" | "H"
    description: str = ""


_SPLIT_REFS = re.compile(r"[;| ]+")


class Icd10cm:
    """All loaded ICD-10-CM fiscal years. Keys are dotless upper-case codes."""

    def __init__(self) -> None:
        self.codes: dict[str, IcdCode] = {}
        self._desc_cache: dict[tuple[str, int], tuple[str, ...]] = {}
        fys: list[int] = []
        rows = read_rows("icd10cm_codes_fy2024_fy2026.csv.gz")
        for row in rows:
            if not fys:
                fys = sorted(int(k[2:]) for k in row if k.startswith("fy"))
            flags = {fy: row[f"fy{fy}"] for fy in fys if row[f"fy{fy}"]}
            self.codes[row["code"]] = IcdCode(row["code"], flags, row["description"])
        self._add_user_years(fys)
        self.fiscal_years: tuple[int, ...] = tuple(sorted(fys))
        # FY2024's source lists billable codes only: rebuild its header flags from the hierarchy.
        self._infer_headers(min(self.fiscal_years))

    def _add_user_years(self, fys: list[int]) -> None:
        folder = user_codesets_dir()
        if not folder.is_dir():
            return
        for path in sorted(folder.glob("icd10cm_fy[0-9][0-9][0-9][0-9].csv.gz")):
            fy = int(path.name[len("icd10cm_fy") : len("icd10cm_fy") + 4])
            if fy in fys:
                continue
            fys.append(fy)
            for row in read_user_rows(path):
                entry = self.codes.setdefault(row["code"], IcdCode(row["code"]))
                entry.flags[fy] = row["flag"]
                entry.description = row["description"] or entry.description

    def _infer_headers(self, fy: int) -> None:
        if any(c.flags.get(fy) == "H" for c in self.codes.values()):
            return
        for entry in list(self.codes.values()):
            if entry.flags.get(fy) == "B":
                parent = self.parent(entry.code)
                while parent is not None and fy not in self.codes[parent].flags:
                    self.codes[parent].flags[fy] = "H"
                    parent = self.parent(parent)

    # ---- hierarchy -------------------------------------------------------------------
    def parent(self, key: str) -> str | None:
        for n in range(len(key) - 1, 2, -1):
            if key[:n] in self.codes:
                return key[:n]
        return None

    @cached_property
    def _children(self) -> dict[str, list[str]]:
        kids: dict[str, list[str]] = {}
        for key in sorted(self.codes):
            p = self.parent(key)
            if p is not None:
                kids.setdefault(p, []).append(key)
        return kids

    def children(self, key: str) -> list[str]:
        return list(self._children.get(key, []))

    def ancestors(self, key: str) -> list[str]:
        out = []
        p = self.parent(key)
        while p is not None:
            out.append(p)
            p = self.parent(p)
        return out

    def billable_descendants(self, key: str, fy: int) -> list[str]:
        cached = self._desc_cache.get((key, fy))
        if cached is not None:
            return list(cached)
        out: list[str] = []
        stack = list(reversed(self.children(key)))
        while stack:
            k = stack.pop()
            if self.codes[k].flags.get(fy) == "B":
                out.append(k)
            stack.extend(reversed(self.children(k)))
        self._desc_cache[(key, fy)] = tuple(out)
        return out

    def flag(self, key: str, fy: int) -> str:
        entry = self.codes.get(key)
        return entry.flags.get(fy, "") if entry else ""

    def is_billable(self, key: str, fy: int) -> bool:
        return self.flag(key, fy) == "B"

    def description(self, key: str) -> str:
        entry = self.codes.get(key)
        return entry.description if entry else ""

    def billable_codes(self, fy: int) -> list[str]:
        return [k for k, c in self.codes.items() if c.flags.get(fy) == "B"]

    # ---- chapters and blocks -------------------------------------------------------
    @cached_property
    def _structure(self) -> dict[str, tuple[str, str, str]]:
        return {r["id"]: (r["kind"], r["parent"], r["description"]) for r in read_rows("icd10cm_structure.csv.gz")}

    def containers(self, key: str) -> list[str]:
        """Block ids and chapter id ('CH4') that contain the code's category, innermost first."""
        out: list[str] = []
        item = self._structure.get(key[:3])
        parent = item[1] if item else ""
        while parent and parent not in out:  # guard against a malformed (cyclic) hierarchy
            out.append(parent)
            node = self._structure.get(parent)
            parent = node[1] if node else ""
        return out

    def chapter(self, key: str) -> str:
        for c in self.containers(key):
            if c.startswith("CH"):
                return c
        return ""

    def chapter_title(self, chapter_id: str) -> str:
        node = self._structure.get(chapter_id)
        return node[2] if node else ""

    # ---- tabular notes ---------------------------------------------------------------
    @cached_property
    def _notes(self) -> dict[str, list[TabularNote]]:
        """Tabular notes of the newest year that has them (an imported release, else FY2026)."""
        notes: dict[str, list[TabularNote]] = {}
        folder = user_codesets_dir()
        imported = sorted(folder.glob("icd10cm_fy*_tabular_notes.csv.gz")) if folder.is_dir() else []
        rows = read_user_rows(imported[-1]) if imported else read_rows("icd10cm_fy2026_tabular_notes.csv.gz")
        for r in rows:
            refs = tuple(x for x in _SPLIT_REFS.split(r["refs"].strip()) if x)
            notes.setdefault(r["host"], []).append(TabularNote(r["host"], r["note_type"], r["note"], refs))
        return notes

    def notes(self, key: str, note_type: str | None = None) -> list[TabularNote]:
        """Notes that apply to a code: its own, its ancestors', its block's and chapter's."""
        hosts = [key, *self.ancestors(key), *self.containers(key)]
        out = [n for h in hosts for n in self._notes.get(h, [])]
        return [n for n in out if note_type is None or n.note_type == note_type]

    def excludes1_conflict(self, a: str, b: str) -> TabularNote | None:
        """The Excludes1 note that forbids reporting `b` with `a` (either direction), if any."""
        for x, y in ((a, b), (b, a)):
            for n in self.notes(x, "excludes1"):
                if n.matches(y) and not y.startswith(x) and not x.startswith(y):
                    return n
        return None

    def expand_refs(self, note: TabularNote, fy: int) -> list[str]:
        """The billable codes a note's references cover in fiscal year `fy` (range-level notes expanded)."""
        return [k for k in self.billable_codes(fy) if note.matches(k)]

    # ---- MCE -------------------------------------------------------------------------
    @cached_property
    def _mce(self) -> dict[str, MceAttributes]:
        out: dict[str, MceAttributes] = {}
        for r in read_rows("icd10cm_mce_edits.csv.gz"):
            edits = set(filter(None, r["mce_pdx_edits"].split(";")))
            out[r["code"]] = MceAttributes(
                age_lo=int(r["age_lo"] or 0),
                age_hi=int(r["age_hi"] or 124),
                sex=r["sex_fy2024_only"],
                manifestation="MANIFESTATION_AS_PDX" in edits,
                external_cause="E_CODE_AS_PDX" in edits,
                unspecified="UNSPECIFIED" in edits,
                unacceptable_first_listed="UNACCEPTABLE_PDX" in edits,
            )
        return out

    def mce(self, key: str) -> MceAttributes:
        return self._mce.get(key, MceAttributes())

    # ---- inclusion terms -------------------------------------------------------------
    @cached_property
    def inclusion_terms(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for r in read_rows("icd10cm_inclusion_terms.csv.gz"):
            out.setdefault(r["code"], []).append(r["term"])
        return out

    @staticmethod
    def display(key: str) -> str:
        return dotted(key)
