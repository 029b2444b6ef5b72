// Parley reports page (supervisors and admins): a report of GET /api/v1/reports/{kind} as the server's
// SVG chart (inline: it carries no script or style, so the page's CSP holds), the table beside it, and
// the same table as a CSV download. Loaded after console.js; uses its helpers ($, el, api, guarded).
"use strict";

{
let tables = [];        // the report's tables as last answered
let shown = null;       // the name of the table shown

const pad = (n) => String(n).padStart(2, "0");
const day = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const addDays = (d, n) => { const x = new Date(d); x.setDate(x.getDate() + n); return x; };

// The dates a named period covers, in the browser's calendar (the server reads them in `tz`).
function periodOf(name) {
  const today = new Date();
  const monday = addDays(today, -((today.getDay() + 6) % 7));
  const first = new Date(today.getFullYear(), today.getMonth(), 1);
  switch (name) {
    case "today": return [today, today];
    case "yesterday": return [addDays(today, -1), addDays(today, -1)];
    case "this-week": return [monday, today];
    case "last-week": return [addDays(monday, -7), addDays(monday, -1)];
    case "this-month": return [first, today];
    case "last-month": return [new Date(today.getFullYear(), today.getMonth() - 1, 1), addDays(first, -1)];
    default: return null;
  }
}

function applyRange() {
  const range = periodOf($("report-range").value);
  if (!range) return;
  $("report-from").value = day(range[0]);
  $("report-to").value = day(range[1]);
}

function query(extra = {}) {
  const params = new URLSearchParams();
  const set = (key, id) => { const v = $(id).value.trim(); if (v) params.set(key, v); };
  set("from", "report-from"); set("to", "report-to"); set("tz", "report-tz"); set("group_by", "report-group");
  set("queue", "report-queue"); set("team", "report-team"); set("agent", "report-agent");
  if ($("report-kind").value === "chat-history") set("consumer", "report-consumer");
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return `/api/v1/reports/${$("report-kind").value}?${params}`;
}

function cellText(value) {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number" && !Number.isInteger(value)) return value.toLocaleString(undefined, { maximumFractionDigits: 4 });
  return String(value);
}

function showTable(name) {
  shown = name;
  const table = tables.find((t) => t.name === name) ?? tables[0];
  if (!table) return;
  for (const tab of $("report-tabs").children) tab.setAttribute("aria-selected", String(tab.dataset.table === table.name));
  const head = $("report-table").tHead;
  head.replaceChildren(el("tr", {}, table.columns.map((c) => el("th", { scope: "col" }, c.replaceAll("_", " ")))));
  const body = $("report-table").tBodies[0];
  body.replaceChildren(...table.rows.map((row) => el("tr", {}, table.columns.map((c) => {
    const value = row[c];
    if (c === "transcript" && typeof value === "string") return el("td", {}, el("a", { href: value }, "transcript"));
    return el("td", {}, cellText(value));
  }))));
  if (!table.rows.length) body.append(el("tr", {}, el("td", { colspan: table.columns.length }, "No chats in this period.")));
  if (table.next) {
    body.append(el("tr", {}, el("td", { colspan: table.columns.length },
      `The first ${table.rows.length} rows; the CSV download has every row.`)));
  }
  $("report-csv").href = query({ format: "csv", table: table.name });
  guarded(() => showChart(table.name));
}

// The server's chart, put in the page as SVG elements (parsed, never run).
async function showChart(name) {
  const res = await fetch(query({ format: "svg", table: name }), { credentials: "same-origin" });
  if (!res.ok) throw new Error(`the chart did not load (${res.status})`);
  const svg = new DOMParser().parseFromString(await res.text(), "image/svg+xml").documentElement;
  if (svg.nodeName !== "svg") throw new Error("the chart did not parse");
  $("report-chart").replaceChildren(document.importNode(svg, true));
}

async function load() {
  const msg = $("report-msg");
  msg.hidden = true;
  try {
    const report = await api("GET", query());
    tables = report.tables;
    $("report-tabs").hidden = tables.length < 2;
    $("report-tabs").replaceChildren(...tables.map((t) => el("button", {
      type: "button", role: "tab", "data-table": t.name, onclick: () => showTable(t.name),
    }, t.name.replaceAll("_", " "))));
    showTable(tables.some((t) => t.name === shown) ? shown : tables[0]?.name);
    $("report-table").setAttribute("aria-label", `${report.title}, ${report.from} to ${report.to}`);
  } catch (e) {
    msg.textContent = e.message;
    msg.hidden = false;
  }
}

async function fillFilters() {
  const [queues, agents] = await Promise.all([api("GET", "/api/v1/queues"), api("GET", "/api/v1/agents")]);
  for (const q of queues.queues) $("report-queue").append(el("option", { value: q.id }, q.name));
  for (const a of agents.agents) $("report-agent").append(el("option", { value: a.id }, a.name));
}

if ($("reports-page")) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  $("report-tz").value = zone && zone !== "Etc/Unknown" ? zone : "UTC";
  applyRange();
  $("report-range").addEventListener("change", () => { applyRange(); guarded(load); });
  for (const id of ["report-from", "report-to"]) $(id).addEventListener("input", () => { $("report-range").value = "custom"; });
  $("report-form").addEventListener("submit", (e) => { e.preventDefault(); guarded(load); });
  guarded(async () => { await fillFilters(); await load(); });
}
}
