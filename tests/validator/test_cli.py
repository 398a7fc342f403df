"""`medcode validate CLAIM.json [--format json|table]`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from serving.cli import build_app

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def test_validate_json_contract_sample() -> None:
    res = runner.invoke(build_app(), ["validate", str(DATA / "contract_claim.json"), "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert set(out) == {"status", "findings", "cpt_lines", "ruleset_version"}
    assert out["cpt_lines"][1]["dx"] == ["E11.65"]


def test_validate_table_and_fail_exit_code(tmp_path: Path) -> None:
    claim = {"date_of_service": "2026-03-02", "patient": {"age": 50, "sex": "F"}, "icd10cm": ["E78.5"],
             "cpt_lines": [{"code": "80053", "dx": [1]}, {"code": "80048", "dx": [1]}]}
    p = tmp_path / "c.json"
    p.write_text(json.dumps(claim))
    res = runner.invoke(build_app(), ["validate", str(p)])
    assert res.exit_code == 1
    assert "status: FAIL" in res.stdout and "ncci_ptp_conflict" in res.stdout and "fix:" in res.stdout


def test_broken_json_and_malformed_claim_give_one_line_errors(tmp_path: Path) -> None:
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    res = runner.invoke(build_app(), ["validate", str(p)])
    assert res.exit_code == 2 and res.stderr.startswith("error:") and len(res.stderr.strip().splitlines()) == 1
    p.write_text(json.dumps({"date_of_service": "2026-02-30", "icd10cm": [], "cpt_lines": []}))
    res = runner.invoke(build_app(), ["validate", str(p)])
    assert res.exit_code == 2 and "not a date" in res.stderr
    res = runner.invoke(build_app(), ["validate", str(tmp_path / "missing.json")])
    assert res.exit_code == 2 and "cannot read" in res.stderr
    res = runner.invoke(build_app(), ["validate", str(DATA / "contract_claim.json"), "--format", "xml"])
    assert res.exit_code == 2 and "unknown format" in res.stderr
