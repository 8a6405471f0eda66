// mock-1flow's admin page. The journal is keyed by entry id: each poll asks only for the
// rows newer than the newest shown (since_id) and inserts them above it, never rewriting a
// row it shows, so open entries, the scroll offset and a text selection stay as they are.
// Every write goes through the admin API with a JSON content type and X-Mock-1flow-Admin.
"use strict";

const POLL_MS = 1000;
const MAX_ROWS = 2000;  // rows kept in the page; the oldest closed ones go first
const ADMIN_HEADERS = {"Content-Type": "application/json", "X-Mock-1flow-Admin": "1"};

const journal = {newest: 0, total: 0, clears: null, recorded: 0, dropped: 0, cap: 0};
let paused = false;
let busy = false;
let entries;  // the #entries element: the table's rows

// -- times: one format everywhere (the browser's time zone, 24 h, milliseconds) --------
const TIME = new Intl.DateTimeFormat(undefined, {hour: "2-digit", minute: "2-digit", second: "2-digit",
                                                 fractionalSecondDigits: 3, hourCycle: "h23"});
const FULL = new Intl.DateTimeFormat(undefined, {dateStyle: "medium", timeStyle: "long"});

function localTime(date) { return TIME.format(date); }

function localizeTimes(root) {
  for (const el of root.querySelectorAll("time.local:not([data-shown])")) {
    const epoch = Number(el.dataset.epoch);
    const when = el.dataset.epoch ? new Date(epoch > 1e12 ? epoch : epoch * 1000) : new Date(el.getAttribute("datetime"));
    if (Number.isNaN(when.getTime())) continue;
    el.textContent = localTime(when);
    el.title = FULL.format(when);
    el.dataset.shown = "1";
  }
}

// -- the journal ------------------------------------------------------------------------
function filterParams() {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(document.getElementById("filters"))) if (value) params.set(name, value);
  return params;
}

async function fetchRows(extra) {
  const params = filterParams();
  for (const [name, value] of Object.entries(extra)) params.set(name, value);
  const response = await fetch(document.getElementById("journal").dataset.src + "?" + params, {cache: "no-store"});
  if (!response.ok) throw new Error(response.status + " " + response.statusText);
  const template = document.createElement("template");
  template.innerHTML = await response.text();
  const meta = template.content.getElementById("journal-meta");
  const numbers = Object.fromEntries(Object.entries(meta.dataset).map(([name, value]) => [name, Number(value)]));
  return {meta: numbers, rows: [...template.content.querySelectorAll("details.entry")]};
}

function rows() { return entries.querySelectorAll("details.entry"); }

function remember(meta) {
  Object.assign(journal, {clears: meta.clears, recorded: meta.recorded, dropped: meta.dropped, cap: meta.cap});
}

function showCounts() {
  const shown = rows().length;
  document.getElementById("journal-counts").textContent =
    `${journal.total} matching · showing ${shown} · recorded ${journal.recorded} · dropped ${journal.dropped} (cap ${journal.cap})`;
  document.getElementById("journal-empty").hidden = shown > 0;
}

function pageSize() { return Number(document.getElementById("journal").dataset.pageSize); }

function setLoadMore(lastPage) { document.getElementById("load-more").hidden = lastPage.length < pageSize(); }

function newestOf(list) { return list.length ? Number(list[0].dataset.id) : null; }

async function reload() {
  const {meta, rows: fresh} = await fetchRows({});
  entries.replaceChildren(...fresh);  // a new filter or a reset: a new list
  journal.newest = newestOf(fresh) ?? journal.newest;
  journal.total = meta.total;
  remember(meta);
  setLoadMore(fresh);
  afterInsert(fresh);
}

function firstVisible() {
  for (const row of entries.children) if (row.offsetTop + row.offsetHeight > entries.scrollTop) return row;
  return null;
}

function selectionInside(element) {
  const selection = document.getSelection();
  return selection && !selection.isCollapsed && element.contains(selection.anchorNode);
}

function insertNewest(fresh, skipped) {
  // Keep what the reader looks at in place: unless the list is at its top with nothing
  // open or selected (then new rows simply show), the first visible row keeps its offset.
  const pin = entries.scrollTop > 0 || entries.querySelector("details.entry[open]") || selectionInside(entries);
  const anchor = pin ? firstVisible() : null;
  const top = anchor ? anchor.getBoundingClientRect().top : 0;
  const block = document.createDocumentFragment();
  block.append(...fresh);
  if (skipped > 0) {
    const gap = document.createElement("p");
    gap.className = "gap";
    gap.textContent = `… ${skipped} more requests arrived here (not shown: narrow the filters or see GET /__admin/requests)`;
    block.append(gap);
  }
  entries.prepend(block);
  if (anchor) entries.scrollTop += anchor.getBoundingClientRect().top - top;
  trim();
}

function trim() {
  const all = rows();
  for (let i = all.length - 1, excess = all.length - MAX_ROWS; i >= 0 && excess > 0; i--) {
    if (!all[i].open) { all[i].remove(); excess--; }
  }
}

function afterInsert(fresh) {
  localizeTimes(entries);
  linkSegmentCalls(fresh);
  showCounts();
}

function linkSegmentCalls(fresh) {
  // a Segment call that arrived after the 1Flow calls it made: link those rows to it
  for (const row of fresh) {
    for (const call of row.querySelectorAll(".calls a")) {
      const target = document.getElementById(call.getAttribute("href").slice(1));
      const via = target && target.querySelector("span.via");
      if (!via) continue;
      const link = document.createElement("a");
      link.className = "via";
      link.href = "#" + row.id;
      link.textContent = `${via.textContent} (#${row.dataset.id})`;
      via.replaceWith(link);
    }
  }
}

async function pollJournal() {
  const {meta, rows: fresh} = await fetchRows({since_id: journal.newest});
  if (journal.clears !== null && meta.clears !== journal.clears) return reload();  // reset elsewhere
  remember(meta);
  const unseen = fresh.filter((row) => !document.getElementById(row.id));
  if (unseen.length) {
    insertNewest(unseen, meta.total - fresh.length);
    journal.newest = newestOf(fresh);
    journal.total += meta.total;
  }
  afterInsert(unseen);
}

async function loadMore() {
  const all = rows();
  if (!all.length) return;
  const {meta, rows: older} = await fetchRows({before_id: all[all.length - 1].dataset.id});
  remember(meta);
  entries.append(...older.filter((row) => !document.getElementById(row.id)));
  setLoadMore(older);
  afterInsert(older);
}

// -- the state: faults and projects (a fragment, re-rendered; open projects stay open) ---
async function refreshState() {
  const container = document.getElementById("state");
  const response = await fetch(container.dataset.src, {cache: "no-store"});
  if (!response.ok) throw new Error(response.status + " " + response.statusText);
  const html = await response.text();
  if (html === container.dataset.html) return;
  const open = new Set([...container.querySelectorAll("details.project[open]")].map((el) => el.dataset.key));
  container.innerHTML = html;
  container.dataset.html = html;
  for (const el of container.querySelectorAll("details.project")) if (open.has(el.dataset.key)) el.open = true;
  localizeTimes(container);
}

async function poll() {
  if (paused || busy) return;
  busy = true;
  const live = document.getElementById("live");
  try {
    await pollJournal();
    await refreshState();
    live.textContent = "live · updated " + localTime(new Date());
    live.className = "meta";
  } catch (error) {
    live.textContent = "mock not answering (" + error.message + ")";
    live.className = "meta down";
  } finally {
    busy = false;
  }
}

function setPaused(value) {
  paused = value;
  const button = document.getElementById("pause");
  button.textContent = paused ? "Resume" : "Pause";
  button.setAttribute("aria-pressed", String(paused));
  const live = document.getElementById("live");
  if (paused) {
    live.textContent = "paused · new requests are fetched on resume";
    live.className = "meta paused";
  } else {
    live.textContent = "live · fetching what arrived";  // until the poll below says when it updated
    live.className = "meta";
    poll();
  }
}

// -- writes: buttons and the authoring forms ---------------------------------------------
function adminCall(method, url, body) {
  return fetch(url, {method, headers: ADMIN_HEADERS, body: body === undefined ? undefined : JSON.stringify(body)});
}

async function answerOf(response) {
  try { return await response.json(); } catch { return {}; }
}

function problem(response, answer) {
  const where = answer.pointer ? ` (at ${answer.pointer})` : "";
  return `${response.status} ${answer.error || response.statusText}: ${answer.message || ""}${where}`;
}

async function call(method, url) {
  const response = await adminCall(method, url);
  if (!response.ok) alert(`${method} ${url}: ${problem(response, await answerOf(response))}`);
  await refreshState();
}

function formBody(form) {
  // data-type says how a field goes out: integer/number (text that is not a number is
  // sent as typed, so the mock's validation names the field), boolean, json (parsed here:
  // text that is not JSON is refused before sending), else string. A dotted name is a
  // nested field: "request.path" goes out as {"request": {"path": ...}}.
  const body = {};
  for (const field of form.elements) {
    if (!field.name) continue;
    const type = field.dataset.type || "string";
    let value;
    if (type === "boolean") {
      if (!field.checked) continue;
      value = true;
    } else {
      const text = field.value.trim();
      if (!text) continue;
      const number = Number(text);
      value = (type === "integer" || type === "number") && !Number.isNaN(number) ? number : text;
      if (type === "json") {
        try { value = JSON.parse(text); } catch (error) { throw new Error(`${field.name}: not JSON (${error.message})`); }
      }
    }
    const path = field.name.split(".");
    let into = body;
    for (const part of path.slice(0, -1)) into = into[part] ??= {};
    into[path[path.length - 1]] = value;
  }
  return body;
}

const MADE = {  // what to do once the mock accepted a form's object (given the mock's answer)
  fault: ({fault}) => `Added ${fault.id}.`,
  stub: (stub) => `Added ${stub.id}.`,  // POST /__admin/stubs answers the stub itself
  project: ({project}) => {
    for (const list of [document.querySelector("#filters select[name=project]"), document.getElementById("project-keys")]) {
      const option = document.createElement("option");
      option.value = option.textContent = project.key;
      list.append(option);
    }
    return `Added project ${project.key}.`;
  },
};

async function submitForm(form) {
  const result = form.querySelector(".form-result");
  result.className = "form-result";
  result.textContent = "…";
  let body;
  try {
    body = formBody(form);
  } catch (error) {
    result.textContent = error.message;
    result.className = "form-result error";
    return;
  }
  const response = await adminCall("POST", form.dataset.endpoint, body);
  const answer = await answerOf(response);
  if (!response.ok) {
    result.textContent = problem(response, answer);
    result.className = "form-result error";
    return;
  }
  result.textContent = MADE[form.dataset.made](answer);
  result.className = "form-result ok";
  form.reset();
  await refreshState();
}

function openFromHash() {
  const target = location.hash && document.querySelector(location.hash);
  if (target && target.tagName === "DETAILS") {
    target.open = true;
    target.scrollIntoView({block: "center"});
    target.classList.add("highlight");
    setTimeout(() => target.classList.remove("highlight"), 1500);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  entries = document.getElementById("entries");
  const meta = document.getElementById("journal-meta");
  const first = Object.fromEntries(Object.entries(meta.dataset).map(([name, value]) => [name, Number(value)]));
  meta.remove();
  journal.newest = newestOf(rows()) ?? 0;
  journal.total = first.total;
  remember(first);
  setLoadMore(rows());
  document.getElementById("tz").textContent = Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";
  document.getElementById("state").dataset.html = document.getElementById("state").innerHTML;
  afterInsert([...rows()]);
  localizeTimes(document);

  document.getElementById("filters").addEventListener("input", () => {
    const query = filterParams().toString();
    history.replaceState(null, "", query ? "?" + query : location.pathname);
    reload();
  });
  document.getElementById("filters").addEventListener("submit", (event) => event.preventDefault());
  document.getElementById("pause").addEventListener("click", () => setPaused(!paused));
  document.getElementById("load-more").addEventListener("click", loadMore);
  document.getElementById("reset").addEventListener("click", async () => {
    if (!confirm("Reset the mock? This forgets every user, event and survey response, empties the journal, "
                 + "removes runtime faults and restores the projects file.")) return;
    const response = await adminCall("POST", "/__admin/reset");
    if (!response.ok) alert("POST /__admin/reset: " + problem(response, await answerOf(response)));
    await reload();
    await refreshState();
  });
  for (const form of document.querySelectorAll("form.author")) {
    form.addEventListener("submit", (event) => { event.preventDefault(); submitForm(form); });
  }
  document.body.addEventListener("click", (event) => {
    if (event.target.id === "clear-faults") call("DELETE", "/__admin/faults");
    if (event.target.classList.contains("remove-fault")) call("DELETE", "/__admin/faults/" + encodeURIComponent(event.target.dataset.id));
    if (event.target.id === "clear-stubs") call("DELETE", "/__admin/stubs");
    if (event.target.classList.contains("remove-stub")) call("DELETE", "/__admin/stubs/" + encodeURIComponent(event.target.dataset.id));
  });
  window.addEventListener("hashchange", openFromHash);
  setInterval(poll, POLL_MS);
  poll();
});
