"""`medcode suggest` refuses unusable notes with one line and a non-zero exit, before loading a model."""

from typer.testing import CliRunner

from serving.cli import build_app


def test_empty_and_oversized_notes(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDCODE_MAX_NOTE_CHARS", "1000")
    empty, big = tmp_path / "empty.txt", tmp_path / "big.txt"
    empty.write_text("  \n")
    big.write_text("chest pain " * 200)
    runner = CliRunner()
    r = runner.invoke(build_app(), ["suggest", str(empty)])
    assert r.exit_code == 2 and "empty" in r.output
    r = runner.invoke(build_app(), ["suggest", str(big)])
    assert r.exit_code == 2 and "limit is 1,000" in r.output
    r = runner.invoke(build_app(), ["suggest", str(tmp_path / "missing.txt")])
    assert r.exit_code != 0
