// mock-1flow's admin page: re-fetch the server-rendered fragments every second, keep
// open entries open, and drive the buttons through the admin API.
"use strict";

const POLL_MS = 1000;

function openIds(container, selector, attribute) {
  return new Set([...container.querySelectorAll(selector + "[open]")].map((el) => el.dataset[attribute]));
}

async function refresh(container, query, selector, attribute) {
  const response = await fetch(container.dataset.src + (query ? "?" + query : ""), {cache: "no-store"});
  if (!response.ok) throw new Error(response.status + " " + response.statusText);
  const html = await response.text();
  if (html === container.dataset.html) return;
  const open = openIds(container, selector, attribute);
  container.innerHTML = html;
  container.dataset.html = html;
  for (const el of container.querySelectorAll(selector)) if (open.has(el.dataset[attribute])) el.open = true;
}

function filterQuery() {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(document.getElementById("filters"))) if (value) params.set(name, value);
  return params.toString();
}

async function poll() {
  const live = document.getElementById("live");
  try {
    await refresh(document.getElementById("journal"), filterQuery(), "details.entry", "id");
    await refresh(document.getElementById("state"), "", "details.project", "key");
    live.textContent = "live · updated " + new Date().toLocaleTimeString();
    live.classList.remove("down");
  } catch (error) {
    live.textContent = "mock not answering (" + error.message + ")";
    live.classList.add("down");
  }
}

async function call(method, url) {
  // the admin API refuses state-changing calls without it (README "Admin API security")
  const response = await fetch(url, {method, headers: {"X-Mock-1flow-Admin": "1"}});
  if (!response.ok) alert(method + " " + url + ": " + (await response.text()));
  await poll();
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
  document.getElementById("journal").dataset.html = document.getElementById("journal").innerHTML;
  document.getElementById("filters").addEventListener("input", () => {
    const query = filterQuery();
    history.replaceState(null, "", query ? "?" + query : location.pathname);
    poll();
  });
  document.getElementById("filters").addEventListener("submit", (event) => event.preventDefault());
  document.getElementById("reset").addEventListener("click", () => call("POST", "/__admin/reset"));
  document.body.addEventListener("click", (event) => {
    if (event.target.id === "clear-faults") call("DELETE", "/__admin/faults");
    if (event.target.classList.contains("remove-fault")) call("DELETE", "/__admin/faults/" + encodeURIComponent(event.target.dataset.id));
  });
  window.addEventListener("hashchange", openFromHash);
  setInterval(poll, POLL_MS);
  poll();
});
