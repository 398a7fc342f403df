// medcode review page: vanilla ES module, no build step, no external assets.
// User and note text is only ever written with textContent / text nodes (never innerHTML).

const KEY_STORE = "medcode.apiKey";
const REVIEWER_STORE = "medcode.reviewer";
const ASSERTIONS = ["present", "negated", "family", "historical", "hypothetical", "uncertain"];
const ASSERTION_WORDS = {
  present: "affirmed",
  negated: "negated",
  family: "family history",
  historical: "historical",
  hypothetical: "hypothetical",
  uncertain: "uncertain",
};
const SYSTEM_LABEL = { icd10cm: "ICD-10-CM", cpt: "CPT/HCPCS" };

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

/** Create an element with attributes and children (strings become text nodes). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const state = {
  examples: [],
  noteId: null, // id of the opened example while its text is unchanged
  exampleText: null,
  response: null, // last SuggestionSet
  sentText: "", // the text the response's offsets point into
  sentPatient: null,
  sentDos: null,
  rows: [], // {system, code, sug, verdict, replacement, comment, el}
  selected: -1,
  spans: [], // {id, start, end, assertion, section, text, codes: [{system, code, row}]}
  submitted: false,
  retry: null, // action to re-run once an API key is entered
  picker: { row: -1, hits: [], active: -1, timer: 0, seq: 0 },
};

// ---------------------------------------------------------------- status & errors
function say(msg) {
  $("#status").textContent = msg;
}
function alertMsg(msg) {
  const el = $("#alert");
  if (!msg) {
    el.hidden = true;
    el.textContent = "";
    return;
  }
  el.textContent = msg;
  el.hidden = false;
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function detailText(body, status) {
  if (body && typeof body === "object" && typeof body.message === "string" && body.message) return body.message;
  if (body && typeof body === "object" && "detail" in body) {
    const d = body.detail;
    if (typeof d === "string") return d;
    if (Array.isArray(d)) {
      return d
        .map((e) => {
          const loc = Array.isArray(e.loc) ? e.loc.filter((p) => p !== "body").join(".") : "";
          return loc ? `${loc}: ${e.msg}` : String(e.msg ?? JSON.stringify(e));
        })
        .join("; ");
    }
    return JSON.stringify(d);
  }
  return `HTTP ${status}`;
}

async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) headers["X-API-Key"] = key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, "The medcode server could not be reached. Is it running?");
  }
  let data = null;
  const text = await resp.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!resp.ok) throw new ApiError(resp.status, detailText(data, resp.status));
  return data;
}

/** Report an API failure in plain language; returns true when it was an auth problem. */
function reportError(err, what, retry) {
  const box = $("#auth-box");
  if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
    state.retry = retry || null;
    box.hidden = false;
    box.classList.add("needed");
    const hasKey = Boolean(sessionStorage.getItem(KEY_STORE));
    alertMsg(
      err.status === 401 && !hasKey
        ? `${what} failed: this server requires an API key (HTTP 401). Enter your key in the “API key” field and press “Use key”.`
        : `${what} failed: the API key was not accepted (HTTP ${err.status}). Check the key in the “API key” field and press “Use key”.`,
    );
    say("");
    $("#api-key").focus();
    return true;
  }
  const msg = err instanceof ApiError ? err.message : String(err);
  const code = err instanceof ApiError && err.status ? ` (HTTP ${err.status})` : "";
  alertMsg(`${what} failed${code}: ${msg}`);
  say("");
  return false;
}

// ---------------------------------------------------------------- versions
function setVersions({ model_version, codeset_version, ruleset_version } = {}) {
  if (model_version) $("#v-model").textContent = model_version;
  if (codeset_version) $("#v-codeset").textContent = codeset_version;
  if (ruleset_version) $("#v-ruleset").textContent = ruleset_version;
}

async function loadReady() {
  try {
    const resp = await fetch("ready", { headers: { Accept: "application/json" } });
    const data = await resp.json().catch(() => null);
    if (data && typeof data === "object") {
      setVersions(data);
      if (data.ready === false && data.reason) say(`Model not ready: ${data.reason}`);
    }
  } catch {
    /* the versions show up with the first suggestion */
  }
}

// ---------------------------------------------------------------- examples
async function loadExamples() {
  try {
    const list = await api("v1/examples");
    state.examples = Array.isArray(list) ? list : [];
    const sel = $("#example");
    sel.replaceChildren(h("option", { value: "" }, "— choose a synthetic example —"));
    for (const ex of state.examples) sel.append(h("option", { value: ex.id }, ex.title || ex.id));
    return true;
  } catch (err) {
    reportError(err, "Loading the example notes", loadExamples);
    return false;
  }
}

function openExample() {
  const id = $("#example").value;
  const ex = state.examples.find((e) => e.id === id);
  if (!ex) {
    say("Choose an example first.");
    $("#example").focus();
    return;
  }
  showEditor();
  $("#note").value = ex.text || "";
  const p = ex.patient || {};
  $("#age").value = p.age ?? "";
  $("#sex").value = ["F", "M", "U"].includes(p.sex) ? p.sex : "U";
  $("#dos").value = ex.date_of_service || "";
  if (ex.setting) ensureOption($("#setting"), ex.setting);
  state.noteId = ex.id;
  state.exampleText = ex.text || "";
  clearResults();
  say(`Opened example “${ex.title || ex.id}”.`);
}

function ensureOption(select, value) {
  if (!$$("option", select).some((o) => o.value === value)) select.append(h("option", { value }, value));
  select.value = value;
}

// ---------------------------------------------------------------- suggest
function readContext() {
  const ageRaw = $("#age").value.trim();
  const age = ageRaw === "" ? null : Number(ageRaw);
  return {
    patient: { age: Number.isInteger(age) ? age : null, sex: $("#sex").value || "U" },
    date_of_service: $("#dos").value || null,
    setting: $("#setting").value || null,
  };
}

async function runSuggest(ev) {
  if (ev) ev.preventDefault();
  const text = state.sentText && !$("#note-view-wrap").hidden ? state.sentText : $("#note").value;
  if (!text.trim()) {
    alertMsg("Paste a note or open an example first.");
    $("#note").focus();
    return;
  }
  const ageRaw = $("#age").value.trim();
  if (ageRaw !== "" && !(Number.isInteger(Number(ageRaw)) && Number(ageRaw) >= 0 && Number(ageRaw) <= 130)) {
    alertMsg("Age must be a whole number from 0 to 130.");
    $("#age").focus();
    return;
  }
  const ctx = readContext();
  const body = { text, patient: ctx.patient };
  if (ctx.date_of_service) body.date_of_service = ctx.date_of_service;
  if (ctx.setting) body.setting = ctx.setting;
  alertMsg("");
  say("Suggesting codes…");
  const btn = $("#run-suggest");
  btn.disabled = true;
  try {
    const res = await api("v1/suggest", { method: "POST", body });
    state.response = res;
    state.sentText = text;
    state.sentPatient = ctx.patient;
    state.sentDos = ctx.date_of_service;
    state.submitted = false;
    setVersions(res);
    renderResults(res, text);
    const n = (res.icd10cm || []).length + (res.cpt || []).length;
    say(`${n} code${n === 1 ? "" : "s"} suggested. Use j/k to move between codes, a to accept, r to reject, e to replace.`);
  } catch (err) {
    reportError(err, "Suggesting codes", () => runSuggest());
  } finally {
    btn.disabled = false;
  }
}

function clearResults() {
  state.response = null;
  state.rows = [];
  state.spans = [];
  state.selected = -1;
  state.sentText = "";
  $("#icd-list").replaceChildren();
  $("#cpt-list").replaceChildren();
  $("#findings").replaceChildren();
  $("#results-body").hidden = true;
  $("#results-empty").hidden = false;
  $("#note-view").replaceChildren();
  $("#span-info").replaceChildren();
}

function showEditor() {
  $("#note-view-wrap").hidden = true;
  $("#note-edit").hidden = false;
}

function showNoteView() {
  $("#note-edit").hidden = true;
  $("#note-view-wrap").hidden = false;
}

// ---------------------------------------------------------------- evidence spans
function normAssertion(a) {
  const v = String(a || "present").toLowerCase();
  return ASSERTIONS.includes(v) ? v : "uncertain";
}

function collectSpans(res, text) {
  const byKey = new Map();
  const add = (system, code, rowIdx, ev) => {
    const start = Math.max(0, Math.min(text.length, Number(ev.start)));
    const end = Math.max(0, Math.min(text.length, Number(ev.end)));
    if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) return;
    const assertion = normAssertion(ev.assertion);
    const key = `${start}:${end}:${assertion}`;
    let span = byKey.get(key);
    if (!span) {
      // section-level evidence (E/M lines point at a whole section): drawn lightly, so the
      // mentions inside it keep their own look
      const wide = end - start > 160 || text.slice(start, end).trim().includes("\n");
      span = { id: `s${byKey.size}`, start, end, assertion, wide, section: ev.section || "", codes: [] };
      byKey.set(key, span);
    }
    if (!span.codes.some((c) => c.row === rowIdx)) span.codes.push({ system, code, row: rowIdx });
  };
  state.rows.forEach((row, i) => {
    for (const ev of row.sug.evidence || []) add(row.system, row.code, i, ev);
  });
  return Array.from(byKey.values());
}

function renderNote(text, spans) {
  const view = $("#note-view");
  view.replaceChildren();
  const cuts = new Set([0, text.length]);
  for (const s of spans) {
    cuts.add(s.start);
    cuts.add(s.end);
  }
  const points = Array.from(cuts).sort((a, b) => a - b);
  const frag = document.createDocumentFragment();
  for (let i = 0; i < points.length - 1; i++) {
    const a = points[i];
    const b = points[i + 1];
    if (b <= a) continue;
    const piece = text.slice(a, b);
    // innermost (shortest) span first: its assertion decides the look
    const covering = spans.filter((s) => s.start <= a && s.end >= b).sort((x, y) => x.end - x.start - (y.end - y.start));
    if (!covering.length) {
      frag.append(document.createTextNode(piece));
      continue;
    }
    const main = covering[0];
    const codes = [...new Set(covering.flatMap((s) => s.codes.map((c) => c.code)))];
    const starts = covering.some((s) => s.start === a);
    const mark = h(
      "mark",
      {
        class: main.wide ? "ev ev-section" : `ev ev-${main.assertion}`,
        dataset: { spans: covering.map((s) => s.id).join(" "), codes: codes.join(" ") },
        title: `${main.wide ? "section" : ASSERTION_WORDS[main.assertion]}${main.section ? ` · ${main.section}` : ""} · ${codes.join(", ")}`,
        role: starts ? "button" : null,
        tabindex: starts ? "0" : null,
        "aria-label": starts
          ? main.wide
            ? `Section evidence${main.section ? ` (${main.section})` : ""} for ${codes.join(", ")}`
            : `Evidence “${text.slice(main.start, main.end)}”, ${ASSERTION_WORDS[main.assertion]}, for ${codes.join(", ")}`
          : null,
      },
      piece,
    );
    frag.append(mark);
  }
  view.append(frag);
}

function spanById(id) {
  return state.spans.find((s) => s.id === id);
}

function showSpanCodes(mark) {
  const ids = (mark.dataset.spans || "").split(" ").filter(Boolean);
  const spans = ids.map(spanById).filter(Boolean);
  $$(".ev.span-active").forEach((m) => m.classList.remove("span-active"));
  $$(".code-row.linked").forEach((r) => r.classList.remove("linked"));
  $$("#note-view mark").forEach((m) => {
    const mine = (m.dataset.spans || "").split(" ");
    if (ids.some((id) => mine.includes(id))) m.classList.add("span-active");
  });
  const info = $("#span-info");
  info.replaceChildren();
  if (!spans.length) return;
  const rows = [...new Set(spans.flatMap((s) => s.codes.map((c) => c.row)))];
  const main = [...spans].sort((x, y) => x.end - x.start - (y.end - y.start))[0];
  const quote = state.sentText.slice(main.start, main.end);
  const shown = quote.length > 80 ? `${quote.slice(0, 77)}…` : quote;
  info.append(
    h("strong", {}, `“${shown}”`),
    ` — ${main.wide ? "section-level evidence" : ASSERTION_WORDS[main.assertion]}${main.section ? `, section ${main.section}` : ""}. Codes: `,
    ...rows.map((ri) => {
      const row = state.rows[ri];
      row.el.classList.add("linked");
      return h(
        "button",
        { type: "button", class: "span-code", dataset: { row: String(ri) }, onclick: () => selectRow(ri, { focus: true, scroll: true }) },
        row.code,
      );
    }),
  );
}

function highlightCode(rowIdx) {
  $$("#note-view mark.hl").forEach((m) => m.classList.remove("hl"));
  $$(".ev.span-active").forEach((m) => m.classList.remove("span-active"));
  $$(".code-row.linked").forEach((r) => {
    if (Number(r.dataset.index) !== rowIdx) r.classList.remove("linked");
  });
  if (rowIdx < 0) return null;
  const ids = new Set(state.spans.filter((s) => s.codes.some((c) => c.row === rowIdx)).map((s) => s.id));
  let first = null;
  for (const m of $$("#note-view mark")) {
    if ((m.dataset.spans || "").split(" ").some((id) => ids.has(id))) {
      m.classList.add("hl");
      first = first || m;
    }
  }
  return first;
}

// ---------------------------------------------------------------- code rows
function pct(x) {
  const v = Math.max(0, Math.min(1, Number(x) || 0));
  return Math.round(v * 100);
}

function confidence(conf) {
  const p = pct(conf);
  return h(
    "div",
    { class: "conf" },
    h("span", {}, "Confidence "),
    h("span", { class: "bar", "aria-hidden": "true" }, h("span", { style: `width:${p}%` })),
    h("span", { class: "conf-val" }, `${p}%`),
  );
}

function findingsFor(code) {
  const f = state.response?.validation?.findings || [];
  return f.filter((x) => (x.codes || []).includes(code));
}

function buildRow(row, idx) {
  const s = row.sug;
  const id = `row-${idx}`;
  const head = h(
    "div",
    { class: "code-head" },
    h("span", { class: "rank", "aria-hidden": "true" }, `${s.rank ?? ""}.`),
    h(
      "button",
      {
        type: "button",
        class: "code",
        id: `${id}-code`,
        title: "Show the evidence for this code in the note",
        onclick: (e) => {
          e.stopPropagation();
          selectRow(idx, { focus: true, scroll: true });
        },
      },
      s.code,
    ),
    h("span", { class: "desc" }, s.description || ""),
  );
  if (row.system === "icd10cm") {
    head.append(
      s.billable
        ? h("span", { class: "badge billable" }, "billable")
        : h("span", { class: "badge not-billable" }, "not billable"),
    );
  }
  const body = [head, confidence(s.confidence)];
  if (row.system === "cpt") {
    const icdCodes = (state.response?.icd10cm || []).map((x) => x.code);
    const ptrs = (s.dx || []).map((code) => {
      const i = icdCodes.indexOf(code);
      return i >= 0 ? `${i + 1} (${code})` : code;
    });
    body.push(
      h(
        "div",
        { class: "details" },
        h("span", { class: "k" }, "Modifiers: "),
        (s.modifiers || []).length ? s.modifiers.join(", ") : "none",
        " · ",
        h("span", { class: "k" }, "Units: "),
        String(s.units ?? 1),
        " · ",
        h("span", { class: "k" }, "Diagnosis pointers: "),
        h("span", { class: "dx" }, ptrs.length ? ptrs.join(", ") : "none"),
      ),
    );
  }
  if (s.specificity) body.push(h("p", { class: "spec" }, h("strong", {}, "More specific code possible: "), s.specificity));
  const alts = s.alternatives || [];
  if (alts.length) {
    body.push(
      h(
        "div",
        { class: "details alts" },
        h("span", { class: "k" }, "Alternatives: "),
        ...alts.map((a) =>
          h(
            "button",
            {
              type: "button",
              title: `Replace ${s.code} with ${a.code}`,
              "aria-label": `Replace with alternative ${a.code}, confidence ${pct(a.confidence)}%`,
              onclick: (e) => {
                e.stopPropagation();
                selectRow(idx);
                setVerdict(idx, "replace", a.code, null);
              },
            },
            `${a.code} (${pct(a.confidence)}%)`,
          ),
        ),
      ),
    );
  }
  const nEv = (s.evidence || []).length;
  body.push(h("div", { class: "details" }, h("span", { class: "k" }, "Evidence: "), nEv ? `${nEv} span${nEv === 1 ? "" : "s"} in the note` : "none"));
  for (const f of findingsFor(s.code)) {
    body.push(h("div", { class: `details sev-${f.severity}` }, h("span", { class: "k" }, "Claim check: "), f.message));
  }
  const verdictLabel = h("span", { class: "verdict-label", id: `${id}-verdict`, "aria-live": "polite" }, "Not reviewed");
  const bar = h(
    "div",
    { class: "verdict-bar", role: "group", "aria-label": `Verdict for ${s.code}` },
    h("button", { type: "button", class: "accept", "aria-pressed": "false", onclick: (e) => { e.stopPropagation(); selectRow(idx); setVerdict(idx, "accept"); } }, "Accept"),
    h("button", { type: "button", class: "reject", "aria-pressed": "false", onclick: (e) => { e.stopPropagation(); selectRow(idx); setVerdict(idx, "reject"); } }, "Reject"),
    h("button", { type: "button", class: "replace", "aria-pressed": "false", onclick: (e) => { e.stopPropagation(); selectRow(idx); openPicker(idx); } }, "Replace…"),
    verdictLabel,
  );
  body.push(bar);
  const li = h(
    "li",
    {
      class: "code-row",
      id,
      tabindex: "-1",
      dataset: { code: s.code, system: row.system, index: String(idx) },
      "aria-labelledby": `${id}-code`,
      "aria-describedby": `${id}-verdict`,
      onclick: () => selectRow(idx),
    },
    ...body,
  );
  return li;
}

function renderResults(res, text) {
  state.rows = [];
  for (const s of res.icd10cm || []) state.rows.push({ system: "icd10cm", code: s.code, sug: s, verdict: null, replacement: null, comment: null });
  for (const s of res.cpt || []) state.rows.push({ system: "cpt", code: s.code, sug: s, verdict: null, replacement: null, comment: null });
  const icd = $("#icd-list");
  const cpt = $("#cpt-list");
  icd.replaceChildren();
  cpt.replaceChildren();
  state.rows.forEach((row, i) => {
    row.el = buildRow(row, i);
    (row.system === "icd10cm" ? icd : cpt).append(row.el);
  });
  if (!(res.icd10cm || []).length) icd.append(h("li", { class: "muted" }, "No diagnosis code above the confidence threshold."));
  if (!(res.cpt || []).length) cpt.append(h("li", { class: "muted" }, "No procedure code above the confidence threshold."));
  renderFindings(res.validation || { status: "pass", findings: [] });
  state.spans = collectSpans(res, text);
  renderNote(text, state.spans);
  $("#span-info").replaceChildren();
  showNoteView();
  $("#results-empty").hidden = true;
  $("#results-body").hidden = false;
  state.selected = -1;
  if (state.rows.length) selectRow(0);
  updateCount();
}

function renderFindings(val) {
  const badge = $("#val-status");
  const status = val.status || "pass";
  badge.className = `badge ${status}`;
  badge.textContent = { pass: "pass", warn: "review", fail: "would be denied" }[status] || status;
  const ul = $("#findings");
  ul.replaceChildren();
  const findings = val.findings || [];
  if (!findings.length) {
    ul.append(h("li", { class: "muted" }, "No problems found with these codes."));
    return;
  }
  const order = { error: 0, warning: 1, info: 2 };
  for (const f of [...findings].sort((a, b) => (order[a.severity] ?? 3) - (order[b.severity] ?? 3))) {
    const sev = ["error", "warning", "info"].includes(f.severity) ? f.severity : "info";
    const meta = [];
    const codeButtons = (f.codes || []).map((code) => {
      const ri = state.rows.findIndex((r) => r.code === code);
      return ri < 0
        ? h("span", { class: "fcode" }, code)
        : h("button", { type: "button", class: "fcode", title: `Go to ${code}`, onclick: () => selectRow(ri, { focus: true, scroll: true }) }, code);
    });
    if (f.line) {
      const cptRows = state.rows.filter((r) => r.system === "cpt");
      const lineRow = cptRows[f.line - 1];
      meta.push(`service line ${f.line}${lineRow ? ` (${lineRow.code})` : ""}`);
    }
    meta.push(`rule ${f.rule}`);
    if (f.policy) meta.push(f.policy);
    ul.append(
      h(
        "li",
        { class: `finding sev-${sev}`, dataset: { rule: f.rule || "" } },
        h("span", { class: "sev" }, { error: "Error", warning: "Warning", info: "Note" }[sev]),
        h("span", { class: "msg" }, f.message || ""),
        f.fix ? h("p", { class: "fix" }, h("strong", {}, "Fix: "), f.fix) : null,
        h("div", { class: "meta" }, codeButtons.length ? "Codes: " : "", ...codeButtons, codeButtons.length ? " · " : "", meta.join(" · ")),
      ),
    );
  }
}

function selectRow(idx, { focus = false, scroll = false } = {}) {
  if (idx < 0 || idx >= state.rows.length) return;
  state.rows.forEach((r, i) => {
    r.el.classList.toggle("selected", i === idx);
    r.el.setAttribute("tabindex", i === idx ? "0" : "-1");
    r.el.setAttribute("aria-current", i === idx ? "true" : "false");
  });
  state.selected = idx;
  const first = highlightCode(idx);
  if (scroll && first) first.scrollIntoView({ block: "nearest" });
  if (focus) state.rows[idx].el.focus();
}

function moveSelection(delta) {
  if (!state.rows.length) return;
  const next = state.selected < 0 ? 0 : Math.max(0, Math.min(state.rows.length - 1, state.selected + delta));
  selectRow(next, { focus: true });
  state.rows[next].el.scrollIntoView({ block: "nearest" });
}

function setVerdict(idx, verdict, replacement = null, comment = null) {
  const row = state.rows[idx];
  if (!row) return;
  row.verdict = verdict;
  row.replacement = verdict === "replace" ? replacement : null;
  row.comment = comment || null;
  const el = row.el;
  el.classList.remove("v-accept", "v-reject", "v-replace");
  if (verdict) el.classList.add(`v-${verdict}`);
  el.dataset.verdict = verdict || "";
  for (const b of $$(".verdict-bar button", el)) b.setAttribute("aria-pressed", String(b.classList.contains(verdict || "-")));
  const label = $(".verdict-label", el);
  label.textContent =
    verdict === "accept" ? "Accepted" : verdict === "reject" ? "Rejected" : verdict === "replace" ? `Replaced by ${replacement}` : "Not reviewed";
  state.submitted = false;
  $("#submit-feedback").disabled = false;
  updateCount();
  say(`${row.code}: ${label.textContent.toLowerCase()}.`);
}

function acceptRemaining() {
  const todo = state.rows.map((r, i) => (r.verdict ? -1 : i)).filter((i) => i >= 0);
  for (const i of todo) setVerdict(i, "accept");
  say(todo.length ? `Accepted ${todo.length} unreviewed code${todo.length === 1 ? "" : "s"}.` : "Every code already has a verdict.");
}

function updateCount() {
  const n = state.rows.filter((r) => r.verdict).length;
  $("#review-count").textContent = `${n} of ${state.rows.length} codes reviewed`;
}

// ---------------------------------------------------------------- replace picker
function openPicker(idx) {
  const row = state.rows[idx];
  if (!row) return;
  const p = state.picker;
  p.row = idx;
  p.hits = [];
  p.active = -1;
  $("#picker-code").textContent = `${row.code} (${SYSTEM_LABEL[row.system]})`;
  $("#picker-q").value = row.replacement || "";
  $("#picker-comment").value = row.comment || "";
  $("#picker-results").replaceChildren();
  $("#picker-status").textContent = "Type at least 2 characters: words from the description or the start of a code.";
  const dlg = $("#picker");
  if (!dlg.open) dlg.showModal();
  $("#picker-q").focus();
  if ($("#picker-q").value) searchCodes();
}

function closePicker() {
  const dlg = $("#picker");
  if (dlg.open) dlg.close();
}

async function searchCodes() {
  const p = state.picker;
  const row = state.rows[p.row];
  const q = $("#picker-q").value.trim();
  const seq = ++p.seq;
  if (q.length < 2 || !row) {
    p.hits = [];
    renderHits();
    return;
  }
  $("#picker-status").textContent = "Searching…";
  const params = new URLSearchParams({ q, k: row.system === "icd10cm" ? "10" : "30" });
  if (row.system === "icd10cm") params.set("system", "icd10cm");
  try {
    let hits = await api(`v1/codes/search?${params}`);
    if (seq !== p.seq) return; // a newer search is on its way
    hits = (Array.isArray(hits) ? hits : []).filter((x) =>
      row.system === "icd10cm" ? x.system === "icd10cm" : x.system === "cpt" || x.system === "hcpcs",
    );
    p.hits = hits.slice(0, 10);
    renderHits();
  } catch (err) {
    if (seq !== p.seq) return;
    p.hits = [];
    renderHits();
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      closePicker();
      reportError(err, "Searching codes", null);
    } else {
      $("#picker-status").textContent = `Search failed: ${err.message}`;
    }
  }
}

function renderHits() {
  const p = state.picker;
  const ul = $("#picker-results");
  ul.replaceChildren();
  p.active = p.hits.length ? 0 : -1;
  p.hits.forEach((hit, i) => {
    ul.append(
      h(
        "li",
        {
          role: "option",
          id: `hit-${i}`,
          "aria-selected": i === p.active ? "true" : "false",
          dataset: { code: hit.code },
          onmousedown: (e) => e.preventDefault(),
          onclick: () => chooseHit(i),
        },
        h("span", { class: "pc" }, hit.code),
        hit.description || "",
      ),
    );
  });
  const q = $("#picker-q");
  q.setAttribute("aria-expanded", String(p.hits.length > 0));
  if (p.active >= 0) q.setAttribute("aria-activedescendant", `hit-${p.active}`);
  else q.removeAttribute("aria-activedescendant");
  const query = q.value.trim();
  $("#picker-status").textContent =
    query.length < 2 ? "Type at least 2 characters." : p.hits.length ? `${p.hits.length} matching codes. Use the arrow keys and Enter, or click one.` : "No matching codes.";
}

function moveHit(delta) {
  const p = state.picker;
  if (!p.hits.length) return;
  p.active = (p.active + delta + p.hits.length) % p.hits.length;
  $$("#picker-results li").forEach((li, i) => li.setAttribute("aria-selected", i === p.active ? "true" : "false"));
  $("#picker-q").setAttribute("aria-activedescendant", `hit-${p.active}`);
  $(`#hit-${p.active}`)?.scrollIntoView({ block: "nearest" });
}

function chooseHit(i) {
  const p = state.picker;
  const hit = p.hits[i];
  const idx = p.row;
  if (!hit || idx < 0) return;
  const comment = $("#picker-comment").value.trim() || null;
  closePicker();
  setVerdict(idx, "replace", hit.code, comment);
  selectRow(idx, { focus: true });
}

// ---------------------------------------------------------------- feedback
async function submitFeedback() {
  const reviewer = $("#reviewer").value.trim();
  if (!reviewer) {
    alertMsg("Enter your reviewer ID before submitting.");
    $("#reviewer").focus();
    return;
  }
  const reviewed = state.rows.filter((r) => r.verdict);
  if (!state.response || !reviewed.length) {
    alertMsg("Review at least one code (accept, reject or replace) before submitting.");
    return;
  }
  localStorage.setItem(REVIEWER_STORE, reviewer);
  const res = state.response;
  const body = {
    request_id: res.request_id,
    model_version: res.model_version,
    reviewer_id: reviewer,
    note_id: state.noteId && state.exampleText === state.sentText ? state.noteId : null,
    text: $("#include-text").checked ? state.sentText : null,
    patient: state.sentPatient,
    date_of_service: state.sentDos,
    items: reviewed.map((r) => ({
      system: r.system,
      code: r.code,
      verdict: r.verdict,
      replacement: r.verdict === "replace" ? r.replacement : null,
      comment: r.comment,
    })),
  };
  alertMsg("");
  say("Submitting review…");
  const btn = $("#submit-feedback");
  btn.disabled = true;
  try {
    const out = await api("v1/feedback", { method: "POST", body });
    state.submitted = true;
    const left = state.rows.length - reviewed.length;
    say(
      `Review saved: ${out.stored} verdict${out.stored === 1 ? "" : "s"} stored (feedback ${out.feedback_id}).` +
        (left ? ` ${left} code${left === 1 ? " was" : "s were"} left unreviewed.` : ""),
    );
  } catch (err) {
    btn.disabled = false;
    reportError(err, "Submitting the review", submitFeedback);
  }
}

// ---------------------------------------------------------------- keyboard
function typingTarget(t) {
  if (!t || !(t instanceof Element)) return false;
  if (t.isContentEditable) return true;
  const tag = t.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") return !["checkbox", "radio", "button", "submit"].includes(t.type);
  return false;
}

function onKey(e) {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  if ($("#picker").open) return;
  if (typingTarget(e.target)) return;
  const onRow = e.target instanceof Element && e.target.classList.contains("code-row");
  switch (e.key) {
    case "j":
      moveSelection(1);
      break;
    case "k":
      moveSelection(-1);
      break;
    case "a":
      if (state.selected >= 0) setVerdict(state.selected, "accept");
      break;
    case "r":
      if (state.selected >= 0) setVerdict(state.selected, "reject");
      break;
    case "A":
      acceptRemaining();
      break;
    case "u":
      if (state.selected >= 0) setVerdict(state.selected, null);
      break;
    case "e":
      if (state.selected >= 0) openPicker(state.selected);
      break;
    case "Enter":
      if (!onRow) return; // Enter on a button or link keeps its usual meaning
      openPicker(state.selected);
      break;
    case "/":
      if (!$("#note-view-wrap").hidden) $("#note-view").focus();
      else $("#note").focus();
      break;
    default:
      return;
  }
  e.preventDefault();
}

// ---------------------------------------------------------------- wiring
function init() {
  const savedKey = sessionStorage.getItem(KEY_STORE);
  if (savedKey) {
    $("#api-key").value = savedKey;
    $("#auth-box").hidden = false; // the server asked for a key earlier in this tab
  }
  $("#reviewer").value = localStorage.getItem(REVIEWER_STORE) || "";

  const useKey = async () => {
    const key = $("#api-key").value.trim();
    if (key) sessionStorage.setItem(KEY_STORE, key);
    else sessionStorage.removeItem(KEY_STORE);
    $("#auth-box").classList.remove("needed");
    alertMsg("");
    say(key ? "API key set for this tab." : "API key cleared.");
    const retry = state.retry;
    state.retry = null;
    if (!state.examples.length) await loadExamples();
    if (retry && retry !== loadExamples) await retry();
  };
  $("#api-key-save").addEventListener("click", useKey);
  $("#api-key").addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      useKey();
    }
  });
  $("#open-example").addEventListener("click", openExample);
  $("#suggest-form").addEventListener("submit", runSuggest);
  $("#note").addEventListener("input", () => {
    if (state.noteId && $("#note").value !== state.exampleText) state.noteId = null;
  });
  $("#edit-note").addEventListener("click", () => {
    $("#note").value = state.sentText || $("#note").value;
    clearResults();
    showEditor();
    $("#note").focus();
    say("Editing the note. Run “Suggest codes” again when done.");
  });
  $("#submit-feedback").addEventListener("click", submitFeedback);
  $("#accept-rest").addEventListener("click", acceptRemaining);
  $("#note").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      $("#suggest-form").requestSubmit();
    }
  });

  const view = $("#note-view");
  view.addEventListener("click", (e) => {
    const mark = e.target instanceof Element ? e.target.closest("mark.ev") : null;
    if (mark) showSpanCodes(mark);
  });
  view.addEventListener("keydown", (e) => {
    const mark = e.target instanceof Element ? e.target.closest("mark.ev") : null;
    if (mark && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault();
      showSpanCodes(mark);
    }
  });

  // picker
  const q = $("#picker-q");
  q.addEventListener("input", () => {
    clearTimeout(state.picker.timer);
    state.picker.timer = setTimeout(searchCodes, 180);
  });
  q.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      moveHit(1);
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      moveHit(-1);
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (state.picker.active >= 0) chooseHit(state.picker.active);
    }
  });
  $("#picker-cancel").addEventListener("click", closePicker);
  $("#picker").addEventListener("close", () => {
    const idx = state.picker.row;
    if (idx >= 0 && state.rows[idx]) state.rows[idx].el.focus();
  });

  document.addEventListener("keydown", onKey);
  loadReady();
  loadExamples();
}

init();
