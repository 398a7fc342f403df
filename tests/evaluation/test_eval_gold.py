"""Gold readers: JSONL contract, long CSV, CodiEsp layout; normalisation and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.gold import (
    GoldFormatError,
    data_hash,
    detect_format,
    gold_systems,
    note_to_record,
    read_gold,
)


def _write_jsonl(path: Path, recs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    return path


def test_jsonl_normalises_codes_and_ignores_unknown_keys(tmp_path: Path) -> None:
    p = _write_jsonl(
        tmp_path / "g.jsonl",
        [
            {
                "id": "n1",
                "text": "Type 2 diabetes with hyperglycemia.",
                "icd10cm": [" e1165 ", "I10", "e11.65"],
                "cpt": ["99213", "j1100"],
                "cpt_lines": [{"code": "99213", "dx": [1, "i10"]}, {"code": "j1100", "dx": ["E11.65"], "units": 2}],
                "patient": {"age": 61, "sex": "F"},
                "date_of_service": "2026-03-02",
                "specialty": "family_medicine",
                "some_future_key": {"x": 1},
            },
            {"id": 2, "text": "x", "icd10cm": []},
        ],
    )
    notes = read_gold(p)
    assert [n.id for n in notes] == ["n1", "2"]
    n1 = notes[0]
    assert n1.icd10cm == ["E11.65", "I10"]  # normalised, de-duplicated, order kept
    assert n1.cpt == ["99213", "J1100"]
    assert n1.cpt_lines is not None
    assert n1.cpt_lines[0].dx == ["E11.65", "I10"]  # pointer 1 resolved to the first gold dx
    assert n1.cpt_lines[1].units == 2
    assert n1.context() == {
        "patient": {"age": 61, "sex": "F"},
        "date_of_service": "2026-03-02",
        "specialty": "family_medicine",
    }
    assert notes[1].systems == {"icd10cm"} and n1.systems == {"icd10cm", "cpt"}
    assert gold_systems(notes) == ["icd10cm", "cpt"]


def test_broken_json_names_the_line_not_the_text(tmp_path: Path) -> None:
    p = tmp_path / "g.jsonl"
    p.write_text('{"id": "a", "text": "secret words", "icd10cm": ["I10"]}\n\n{"id": "b", "text": "more secret\n', encoding="utf-8")
    with pytest.raises(GoldFormatError) as exc:
        read_gold(p)
    assert "g.jsonl line 3" in str(exc.value) and "broken JSON" in str(exc.value)
    assert "secret" not in str(exc.value)


@pytest.mark.parametrize(
    ("rec", "message"),
    [
        ({"text": "x", "icd10cm": ["I10"]}, "missing or empty 'id'"),
        ({"id": "a", "icd10cm": ["not a code"]}, "not an ICD-10-CM code"),
        ({"id": "a", "icd10cm": "I10"}, "must be a list"),
        ({"id": "a", "icd10cm": ["I10"], "cpt_lines": [{"code": "99213", "dx": [3]}]}, "dx pointer 3"),
        ({"id": "a", "cpt": ["ABC"]}, "not a CPT or HCPCS code"),
    ],
)
def test_bad_records_raise_with_line_number(tmp_path: Path, rec: dict, message: str) -> None:
    p = _write_jsonl(tmp_path / "g.jsonl", [{"id": "ok", "icd10cm": ["I10"]}, rec])
    with pytest.raises(GoldFormatError, match=message) as exc:
        read_gold(p)
    assert "line 2" in str(exc.value)


def test_duplicate_ids_rejected(tmp_path: Path) -> None:
    p = _write_jsonl(tmp_path / "g.jsonl", [{"id": "a", "icd10cm": []}, {"id": "a", "icd10cm": []}])
    with pytest.raises(GoldFormatError, match="duplicate note id"):
        read_gold(p)


def test_long_csv(tmp_path: Path) -> None:
    p = tmp_path / "gold.csv"
    p.write_text(
        "id,system,code\nd1,icd10cm,e11.65\nd1,icd10cm,I10\nd1,cpt,99213\nd2,icd10cm,\nd2,hcpcs,g0439\n", encoding="utf-8"
    )
    assert detect_format(p) == "csv"
    notes = {n.id: n for n in read_gold(p)}
    assert notes["d1"].icd10cm == ["E11.65", "I10"] and notes["d1"].cpt == ["99213"]
    assert notes["d2"].icd10cm == [] and notes["d2"].systems == {"icd10cm", "cpt"}
    assert notes["d2"].cpt == ["G0439"]


def test_long_csv_errors(tmp_path: Path) -> None:
    p = tmp_path / "gold.csv"
    p.write_text("doc,code\nd1,I10\n", encoding="utf-8")
    with pytest.raises(GoldFormatError, match="header must contain id, system, code"):
        read_gold(p)
    p.write_text("id,system,code\nd1,snomed,123\n", encoding="utf-8")
    with pytest.raises(GoldFormatError, match="line 2: unknown system 'snomed'"):
        read_gold(p)


def test_codiesp_folder(tmp_path: Path) -> None:
    d = tmp_path / "dev"
    (d / "text_files_en").mkdir(parents=True)
    (d / "devD.tsv").write_text("S0001-1\tn28.89\nS0001-1\ts02.0xx\nS0002-1\tr52\n", encoding="utf-8")
    (d / "devP.tsv").write_text("S0001-1\tbw03zzz\nS0001-1\tbw20\n", encoding="utf-8")
    (d / "text_files_en" / "S0001-1.txt").write_text("Kidney pain.", encoding="utf-8")
    (d / "text_files_en" / "S0002-1.txt").write_text("Pain.", encoding="utf-8")
    (d / "text_files_en" / "S0003-1.txt").write_text("Nothing coded.", encoding="utf-8")
    assert detect_format(d) == "codiesp"
    notes = {n.id: n for n in read_gold(d)}
    assert notes["S0001-1"].icd10cm == ["N28.89", "S02.0XX"]
    assert notes["S0001-1"].icd10pcs == ["BW03ZZZ", "BW20"]
    assert notes["S0001-1"].text == "Kidney pain."
    assert notes["S0003-1"].icd10cm == [] and notes["S0003-1"].systems == {"icd10cm", "icd10pcs"}
    assert gold_systems(list(notes.values())) == ["icd10cm", "icd10pcs"]
    # a single tab file works too
    assert [n.id for n in read_gold(d / "devD.tsv")] == ["S0001-1", "S0002-1"]


def test_codiesp_folder_without_files(tmp_path: Path) -> None:
    with pytest.raises(GoldFormatError, match=r"no CodiEsp \*D.tsv"):
        read_gold(tmp_path)


def test_shipped_codiesp_dev_reads() -> None:
    notes = read_gold(Path(__file__).parents[2] / "data/external/codiesp/dev.jsonl")
    assert len(notes) == 250
    assert gold_systems(notes) == ["icd10cm", "icd10pcs"]
    assert all(n.text and n.icd10cm for n in notes)


def test_record_round_trip_without_text(tmp_path: Path) -> None:
    src = _write_jsonl(
        tmp_path / "g.jsonl",
        [{"id": "a", "text": "private", "icd10cm": ["I10"], "cpt_lines": [{"code": "99213", "dx": [1]}]}],
    )
    rec = note_to_record(read_gold(src)[0])
    assert "text" not in rec and rec["cpt"] == ["99213"] and rec["cpt_lines"][0]["dx"] == ["I10"]
    back = read_gold(_write_jsonl(tmp_path / "back.jsonl", [rec]))[0]
    assert back.icd10cm == ["I10"] and back.cpt_lines is not None and back.cpt_lines[0].dx == ["I10"]
    h1 = data_hash(src)
    assert len(h1) == 64 and h1 == data_hash(src)
    assert data_hash(tmp_path / "back.jsonl") != h1
