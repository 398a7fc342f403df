"""The coder review page in real headless Chromium against the real API server.

Flow: load /, open a bundled example, set the visit context, paste a note, suggest, check the
highlighting both ways (code -> spans, span -> codes), review with the keyboard and the mouse,
replace a code through the picker (backed by /v1/codes/search), submit, and read the verdicts
back from the SQLite feedback database the server wrote.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import httpx
import pytest
from fake_suggester import MODEL_VERSION, RULES, RULESET_VERSION
from playwright.sync_api import Page, expect
from review_server import ARTIFACTS, Server

pytestmark = pytest.mark.browser

NOTE = (
    "Chief complaint: follow-up, established patient office visit.\n"
    "HPI: Type 2 diabetes with hyperglycemia. Hypertension. Denies chest pain.\n"
    "History: history of colon polyps. Family history of hypertension.\n"
    "Plan: hemoglobin A1c today."
)


def feedback_rows(db: str) -> list[dict[str, Any]]:
    """Every stored verdict with its review, oldest first ([] before the first review)."""
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'feedback_item'").fetchone():
            return []
        rows = con.execute(
            "SELECT f.feedback_id, f.reviewer_id, f.request_id, f.model_version, f.note_id, f.text,"
            " f.patient_age, f.patient_sex, f.date_of_service,"
            " i.position, i.system, i.code, i.verdict, i.replacement, i.comment"
            " FROM feedback f JOIN feedback_item i ON i.feedback_seq = f.seq ORDER BY f.seq, i.position"
        ).fetchall()
    finally:
        con.close()
    return [dict(r) for r in rows]


def row(page: Page, code: str) -> Any:
    return page.locator(f".code-row[data-code='{code}']")


def suggest(page: Page, server: Server, note: str = NOTE) -> None:
    page.fill("#note", note)
    page.click("#run-suggest")
    expect(page.locator("#icd-list .code-row").first).to_be_visible()


def test_review_flow_stores_verdicts(page: Page, server: Server) -> None:
    examples = httpx.get(f"{server.url}/v1/examples", timeout=10).json()
    assert examples, "the API bundles at least one synthetic example"
    first = examples[0]

    page.goto(server.url + "/")
    expect(page).to_have_title(re.compile("medcode"))
    # versions come from /ready before any suggestion
    expect(page.locator("#v-model")).to_have_text(MODEL_VERSION)

    # open a bundled example: note text and visit context are filled in
    expect(page.locator(f"#example option[value='{first['id']}']")).to_have_count(1)
    page.select_option("#example", first["id"])
    page.click("#open-example")
    assert page.input_value("#note") == first["text"]
    if (first.get("patient") or {}).get("age") is not None:
        assert page.input_value("#age") == str(first["patient"]["age"])
    if first.get("date_of_service"):
        assert page.input_value("#dos") == first["date_of_service"]

    # our own note and context
    page.fill("#age", "58")
    page.select_option("#sex", "F")
    page.fill("#dos", "2026-03-02")
    page.select_option("#setting", "office")
    suggest(page, server)

    # versions, findings with their fix, billable flags, specificity, alternatives, CPT details
    expect(page.locator("#v-model")).to_have_text(MODEL_VERSION)
    expect(page.locator("#v-ruleset")).to_have_text(RULESET_VERSION)
    expect(page.locator("#v-codeset")).to_contain_text("icd10cm-FY")
    expect(page.locator("#val-status")).to_have_text("would be denied")
    finding = page.locator(".finding.sev-error")
    expect(finding).to_contain_text("Z86.010 is a category header")
    expect(finding.locator(".fix")).to_contain_text("Fix: Replace it with one of its billable codes: Z86.0100")
    expect(row(page, "E11.65").locator(".badge")).to_have_text("billable")
    expect(row(page, "Z86.010").locator(".badge")).to_have_text("not billable")
    expect(row(page, "Z86.010").locator(".spec")).to_contain_text("Document the polyp type")
    expect(row(page, "E11.65").locator(".alts")).to_contain_text("E11.9 (31%)")
    expect(row(page, "E11.65").locator(".conf-val")).to_have_text("91%")
    visit = row(page, "99214")
    expect(visit).to_contain_text("Modifiers: 25")
    expect(visit).to_contain_text("Units: 1")
    expect(visit.locator(".dx")).to_have_text("1 (E11.65), 2 (I10)")
    expect(page.locator("#icd-list .code-row")).to_have_count(5)
    expect(page.locator("#cpt-list .code-row")).to_have_count(2)

    # evidence spans: one style per assertion, built from offsets into the note
    expect(page.locator("#note-view")).to_have_text(NOTE)
    negated = page.locator("mark.ev-negated")
    expect(negated).to_have_text("chest pain")
    assert "line-through" in negated.evaluate("e => getComputedStyle(e).textDecorationLine")
    expect(page.locator("mark.ev-family")).to_have_text("Family history of hypertension")
    expect(page.locator("mark.ev-historical")).to_have_text("history of colon polyps")
    family_border = page.locator("mark.ev-family").evaluate("e => getComputedStyle(e).borderBottomStyle")
    assert family_border == "dashed"
    present_bg = page.locator("mark.ev-present").first.evaluate("e => getComputedStyle(e).backgroundColor")
    negated_bg = negated.evaluate("e => getComputedStyle(e).backgroundColor")
    assert present_bg != negated_bg

    # click a code -> its spans are highlighted, and only those
    row(page, "E11.65").locator("button.code").click()
    expect(page.locator("#note-view mark.hl")).to_have_text(["Type 2 diabetes", "hyperglycemia"])
    row(page, "99214").locator("button.code").click()
    expect(page.locator("#note-view mark.hl")).to_have_text(["established patient", "office visit"])

    # click a span -> its codes are shown and their rows marked
    page.locator("mark.ev-family").click()
    expect(page.locator("#span-info")).to_contain_text("family history")
    expect(page.locator("#span-info button.span-code")).to_have_text(["Z82.49"])
    expect(row(page, "Z82.49")).to_have_class(re.compile(r"\blinked\b"))
    page.locator("#span-info button.span-code").click()
    expect(row(page, "Z82.49")).to_be_focused()

    # keyboard review: j/k move, a accepts, r rejects
    row(page, "E11.65").locator("button.code").click()
    expect(row(page, "E11.65")).to_be_focused()
    page.keyboard.press("a")
    expect(row(page, "E11.65")).to_have_attribute("data-verdict", "accept")
    page.keyboard.press("j")
    expect(row(page, "I10")).to_be_focused()
    expect(page.locator("#note-view mark.hl")).to_have_text(["Hypertension"])
    page.keyboard.press("r")
    expect(row(page, "I10")).to_have_attribute("data-verdict", "reject")
    expect(row(page, "I10").locator(".verdict-label")).to_have_text("Rejected")
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("j")
    expect(row(page, "Z86.010")).to_be_focused()

    # replace through the picker: e opens it, type, choose from /v1/codes/search results
    page.keyboard.press("e")
    expect(page.locator("#picker")).to_be_visible()
    expect(page.locator("#picker-q")).to_be_focused()
    page.keyboard.type("Z86.010")
    option = page.locator("#picker-results li[data-code='Z86.0101']")
    expect(option).to_be_visible()
    page.fill("#picker-comment", "adenomatous polyps per colonoscopy report")
    option.click()
    expect(page.locator("#picker")).to_be_hidden()
    expect(row(page, "Z86.010")).to_have_attribute("data-verdict", "replace")
    expect(row(page, "Z86.010").locator(".verdict-label")).to_have_text("Replaced by Z86.0101")
    expect(row(page, "Z86.010")).to_be_focused()

    # the picker also works from the keyboard (Enter on the row, arrows, Enter), and Escape cancels
    page.keyboard.press("j")  # Z82.49
    page.keyboard.press("Enter")
    expect(page.locator("#picker")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#picker")).to_be_hidden()
    expect(row(page, "Z82.49")).not_to_have_attribute("data-verdict", "replace")
    page.keyboard.press("a")
    page.keyboard.press("j")  # R07.9, negated evidence only
    page.keyboard.press("e")
    page.keyboard.type("R07.8")
    expect(page.locator("#picker-results li").first).to_be_visible()
    codes = page.locator("#picker-results li").evaluate_all("els => els.map(e => e.dataset.code)")
    assert codes[:2] == ["R07.8", "R07.81"], codes  # code-prefix hits first
    expect(page.locator("#picker-results li[aria-selected='true']")).to_have_attribute("data-code", codes[0])
    page.keyboard.press("ArrowDown")
    expect(page.locator("#picker-results li[aria-selected='true']")).to_have_attribute("data-code", codes[1])
    page.keyboard.press("Enter")
    expect(row(page, "R07.9").locator(".verdict-label")).to_have_text(f"Replaced by {codes[1]}")
    # ... and then the coder changes their mind: r rejects instead
    page.keyboard.press("r")
    expect(row(page, "R07.9")).to_have_attribute("data-verdict", "reject")

    # mouse review of a procedure line; 83036 stays unreviewed
    row(page, "99214").get_by_role("button", name="Accept").click()
    expect(page.locator("#review-count")).to_have_text("6 of 7 codes reviewed")

    # submitting needs a reviewer id
    page.fill("#reviewer", "")
    page.click("#submit-feedback")
    expect(page.locator("#alert")).to_contain_text("reviewer ID")
    expect(page.locator("#reviewer")).to_be_focused()
    before = len(feedback_rows(str(server.db_path)))

    page.fill("#reviewer", "coder-17")
    page.click("#submit-feedback")
    expect(page.locator("#status")).to_contain_text("Review saved: 6 verdicts stored")
    expect(page.locator("#status")).to_contain_text("1 code was left unreviewed")
    expect(page.locator("#alert")).to_be_hidden()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-page.png"), full_page=True)

    rows = feedback_rows(str(server.db_path))[before:]
    got = [(r["system"], r["code"], r["verdict"], r["replacement"]) for r in rows]
    assert got == [
        ("icd10cm", "E11.65", "accept", None),
        ("icd10cm", "I10", "reject", None),
        ("icd10cm", "Z86.010", "replace", "Z86.0101"),
        ("icd10cm", "Z82.49", "accept", None),
        ("icd10cm", "R07.9", "reject", None),
        ("cpt", "99214", "accept", None),
    ]
    head = rows[0]
    assert {r["feedback_id"] for r in rows} == {head["feedback_id"]}
    assert head["reviewer_id"] == "coder-17"
    assert head["model_version"] == MODEL_VERSION
    assert re.fullmatch(r"[0-9a-f]{32}", head["request_id"])
    assert head["text"] == NOTE  # "include the note text" is on by default
    assert head["note_id"] is None  # the example's text was replaced by our own note
    assert (head["patient_age"], head["patient_sex"], head["date_of_service"]) == (58, "F", "2026-03-02")
    assert rows[2]["comment"] == "adenomatous polyps per colonoscopy report"


def test_example_note_id_and_text_opt_out(page: Page, server: Server) -> None:
    """An unchanged example is submitted with its note id; unticking the box keeps the text out."""
    examples = httpx.get(f"{server.url}/v1/examples", timeout=10).json()
    # an example in which the fake suggester finds something
    ex = next((e for e in examples if any(re.search(r.pattern, e["text"], re.I) for r in RULES)), None)
    if ex is None:
        pytest.skip("no bundled example mentions a phrase the fake suggester knows")
    page.goto(server.url + "/")
    page.select_option("#example", ex["id"])
    page.click("#open-example")
    page.click("#run-suggest")
    expect(page.locator(".code-row").first).to_be_visible()
    page.locator(".code-row").first.locator("button.code").click()
    page.keyboard.press("a")
    page.uncheck("#include-text")
    page.fill("#reviewer", "coder-9")
    before = len(feedback_rows(str(server.db_path)))
    page.click("#submit-feedback")
    expect(page.locator("#status")).to_contain_text("Review saved: 1 verdict stored")
    rows = feedback_rows(str(server.db_path))[before:]
    assert len(rows) == 1
    assert rows[0]["note_id"] == ex["id"]
    assert rows[0]["text"] is None
    assert rows[0]["reviewer_id"] == "coder-9"


def test_note_text_is_never_markup(page: Page, server: Server) -> None:
    """Evidence is built from offsets with text nodes: markup in a note stays text."""
    hostile = '<img src=x onerror="window.__pwned=1"> Hypertension <b>bold</b> & "quotes"'
    page.goto(server.url + "/")
    suggest(page, server, hostile)
    view = page.locator("#note-view")
    expect(view).to_have_text(hostile)
    assert view.locator("img, b").count() == 0
    expect(view.locator("mark.ev-present")).to_have_text(["Hypertension"])
    assert page.evaluate("window.__pwned === undefined")


def test_error_messages(page: Page, server: Server) -> None:
    page.goto(server.url + "/")
    page.click("#run-suggest")
    expect(page.locator("#alert")).to_have_text("Paste a note or open an example first.")
    page.fill("#note", NOTE)
    page.fill("#age", "200")
    page.click("#run-suggest")
    expect(page.locator("#alert")).to_contain_text("Age must be a whole number")
    expect(page.locator("#age")).to_be_focused()
    page.fill("#age", "40")
    page.click("#run-suggest")
    expect(page.locator(".code-row").first).to_be_visible()
    expect(page.locator("#alert")).to_be_hidden()
    page.fill("#reviewer", "coder-1")
    page.click("#submit-feedback")
    expect(page.locator("#alert")).to_contain_text("Review at least one code")
    # editing the note goes back to the text box with the same text
    page.click("#edit-note")
    expect(page.locator("#note")).to_be_visible()
    assert page.input_value("#note") == NOTE
    expect(page.locator("#results-empty")).to_be_visible()


def test_api_key_flow(page: Page, auth_server: Server) -> None:
    page.goto(auth_server.url + "/")
    # /v1/examples answered 401: the page says so and points at the key field
    alert = page.locator("#alert")
    expect(alert).to_contain_text("requires an API key")
    expect(alert).to_contain_text("401")
    expect(page.locator("#api-key")).to_be_focused()
    expect(page.locator("#auth-box")).to_have_class(re.compile(r"\bneeded\b"))
    assert page.locator("#example option").count() == 1

    # a wrong key: 403, explained
    page.fill("#api-key", "not-a-key")
    page.click("#api-key-save")
    expect(alert).to_contain_text("not accepted")
    expect(alert).to_contain_text("403")

    # the right key: examples load, suggest and submit work, the key stays in sessionStorage only
    page.fill("#api-key", "review-key-1")
    page.keyboard.press("Enter")
    expect(alert).to_be_hidden()
    expect(page.locator("#example option")).not_to_have_count(1)
    assert page.evaluate("sessionStorage.getItem('medcode.apiKey')") == "review-key-1"
    assert page.evaluate("localStorage.getItem('medcode.apiKey')") is None
    suggest(page, auth_server)
    row(page, "I10").locator("button.code").click()
    page.keyboard.press("a")
    page.fill("#reviewer", "coder-key")
    page.click("#submit-feedback")
    expect(page.locator("#status")).to_contain_text("Review saved: 1 verdict stored")
    rows = feedback_rows(str(auth_server.db_path))
    assert [(r["code"], r["verdict"], r["reviewer_id"]) for r in rows] == [("I10", "accept", "coder-key")]

    # reload in the same tab: the key is remembered for the tab, no auth error
    page.reload()
    expect(page.locator("#example option")).not_to_have_count(1)
    expect(alert).to_be_hidden()


def test_finding_links_and_bulk_accept(page: Page, server: Server) -> None:
    page.goto(server.url + "/")
    page.fill("#note", NOTE)
    page.focus("#note")
    page.keyboard.press("Control+Enter")  # suggest from the note box
    expect(page.locator(".code-row").first).to_be_visible()
    # a finding names its codes: clicking one goes to that row and shows its evidence
    page.locator(".finding button.fcode", has_text="Z86.010").click()
    expect(row(page, "Z86.010")).to_be_focused()
    expect(page.locator("#note-view mark.hl")).to_have_text(["history of colon polyps"])
    page.keyboard.press("r")
    page.keyboard.press("u")  # clear again
    expect(row(page, "Z86.010")).to_have_attribute("data-verdict", "")
    page.keyboard.press("r")
    page.keyboard.press("Shift+A")  # accept everything not yet reviewed
    verdicts = page.locator(".code-row").evaluate_all("els => els.map(e => [e.dataset.code, e.dataset.verdict])")
    assert dict(verdicts) == {"E11.65": "accept", "I10": "accept", "Z86.010": "reject", "Z82.49": "accept",
                              "R07.9": "accept", "99214": "accept", "83036": "accept"}
    expect(page.locator("#review-count")).to_have_text("7 of 7 codes reviewed")
    # typing a/r/j in a text field types, it does not review
    page.fill("#reviewer", "")
    page.focus("#reviewer")
    page.keyboard.type("jar")
    assert page.input_value("#reviewer") == "jar"
    expect(row(page, "Z86.010")).to_have_attribute("data-verdict", "reject")
    # "/" jumps to the note
    row(page, "I10").locator("button.code").click()
    page.keyboard.press("/")
    expect(page.locator("#note-view")).to_be_focused()


def test_nested_section_evidence_keeps_inner_styles(page: Page, server: Server) -> None:
    """An E/M line's evidence is a whole section; the mentions inside keep their own look."""
    note = "Assessment and plan:\nHypertension, stable. Denies chest pain today.\nRecheck in 3 months."
    page.goto(server.url + "/")
    suggest(page, server, note)
    view = page.locator("#note-view")
    expect(view).to_have_text(note)
    expect(view.locator("mark.ev-negated")).to_have_text("chest pain")
    expect(view.locator("mark.ev-present")).to_have_text("Hypertension")
    expect(view.locator("mark.ev-section").first).to_be_visible()
    row(page, "99213").locator("button.code").click()
    highlighted = "".join(view.locator("mark.hl").all_text_contents())
    assert highlighted == note  # the whole section, inner mentions included
    row(page, "I10").locator("button.code").click()
    expect(view.locator("mark.hl")).to_have_text(["Hypertension"])
    view.locator("mark.ev-negated").click()
    expect(page.locator("#span-info")).to_contain_text("negated")
    expect(page.locator("#span-info button.span-code")).to_have_text(["R07.9", "99213"])


CONTRAST_JS = """
() => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const bgOf = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0.99) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const bad = [];
  for (const el of document.querySelectorAll("body *")) {
    if (!Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || el.closest("[hidden], dialog:not([open]), :disabled")) continue;
    const st = getComputedStyle(el);
    if (st.visibility === "hidden") continue;
    const fg = parse(st.color), bg = bgOf(el);
    const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const size = parseFloat(st.fontSize), bold = Number(st.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) bad.push(`${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  return bad;
}
"""


def test_accessibility_labels_focus_contrast(page: Page, server: Server) -> None:
    page.goto(server.url + "/")
    suggest(page, server)
    row(page, "Z86.010").locator("button.code").click()
    page.locator("mark.ev-negated").click()

    # every visible form control has an accessible name
    unlabeled = page.evaluate(
        """() => Array.from(document.querySelectorAll('input, select, textarea, button'))
             .filter((e) => e.offsetParent !== null)
             .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                        && !e.getAttribute('aria-labelledby') && !e.textContent.trim())
             .map((e) => e.id || e.outerHTML.slice(0, 60))"""
    )
    assert unlabeled == []

    # WCAG AA contrast for every visible text, with the highlights and verdict styles on screen
    row(page, "I10").get_by_role("button", name="Reject").click()
    row(page, "E11.65").get_by_role("button", name="Accept").click()
    assert page.evaluate(CONTRAST_JS) == []

    # focus order follows the page: skip link, reviewer, example picker, ..., then the results
    page.reload()
    order = []
    for _ in range(6):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.className"))
    assert order == ["skip", "reviewer", "example", "open-example", "note", "age"], order
    # and the focus is visible
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")

    # the status line is announced
    assert page.get_attribute("#status", "aria-live") == "polite"
    assert page.get_attribute("#alert", "role") == "alert"
