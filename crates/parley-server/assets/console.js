// Parley console: plain JavaScript over the JSON API (cookie session + CSRF header) and the SSE event
// stream. The page is rendered by the server; this file fills it in and keeps it live.
//
// admin.js (the admin page) runs after this file and uses its helpers: $, api, el, notify, guarded,
// clearNotice. Keep their signatures.
"use strict";

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? "";
const CSRF = meta("csrf-token");
const ROLE = meta("parley-role");
const ME = meta("parley-agent");
const NUMBERS = meta("parley-numbers").split(",").filter(Boolean);
// Minutes without keyboard or pointer use after which an available agent is set away (setup
// `idle_away_minutes`); 0: never.
const IDLE_AWAY_MINUTES = Number(meta("parley-idle-away")) || 0;
// The chat of a per-chat URL (/console/chats/{id}); the server checked that the user may see it.
const OPEN_CHAT = meta("parley-chat");
const TITLE = "Parley console";
const $ = (id) => document.getElementById(id);

// details: the API's `error.details` ([{field, message}], `field` a JSON Pointer into the request).
class ApiError extends Error {
  constructor(message, status, code, details = []) {
    super(message); this.status = status; this.code = code; this.details = details;
  }
}

async function api(method, path, body) {
  const headers = { "X-CSRF-Token": CSRF };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return answer(res);
}

// Uploads a file to send (POST /api/v1/media, multipart: the browser sets the boundary); its id.
async function uploadFile(file) {
  const form = new FormData();
  form.append("file", file, file.name);
  const res = await fetch("/api/v1/media", {
    method: "POST", headers: { "X-CSRF-Token": CSRF }, credentials: "same-origin", body: form,
  });
  return (await answer(res)).id;
}

// The body of an API answer, or an ApiError with the server's message.
async function answer(res) {
  if (res.status === 401) {
    location.href = "/login?next=" + encodeURIComponent(location.pathname);
    throw new ApiError("your session has ended", 401, "unauthorized");
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON: the status says enough */ }
  if (!res.ok) {
    throw new ApiError(data?.error?.message ?? `${res.status} ${res.statusText}`, res.status, data?.error?.code,
      data?.error?.details ?? []);
  }
  return data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

// ---------------------------------------------------------------------------------------------------
// Feedback in view: notices float in a fixed region (#notice) so they are seen wherever the page is
// scrolled and never push the layout; a message about one control goes next to it (say()).

const TOAST_LIMIT = 4;
const TOAST_SECONDS = 12;

// Shows a notice; kind is "info", "ok", "warn" or "error". Plain information goes away by itself;
// errors, notices with buttons and sticky ones (waiting for an outcome) stay until closed. Returns a
// handle to change the notice (update: the outcome, which may then go away) or dismiss it.
function notify(message, kind = "info", actions = [], { sticky = false } = {}) {
  const text = el("span", {}, message);
  const close = el("button", { type: "button", class: "close", "aria-label": "Dismiss" }, "×");
  const toast = el("div", {}, text, ...actions, close);
  let keep = sticky || actions.length > 0;
  let timer;
  const handle = {
    el: toast,
    dismiss() { clearTimeout(timer); toast.remove(); },
    update(next, nextKind = kind, { final = true } = {}) {
      if (final) keep = actions.length > 0;
      text.textContent = next;
      toast.className = nextKind === "info" ? "banner" : `banner ${nextKind}`;
      if (nextKind === "error") toast.setAttribute("role", "alert"); else toast.removeAttribute("role");
      clearTimeout(timer);
      if (!keep && nextKind !== "error") timer = setTimeout(handle.dismiss, TOAST_SECONDS * 1000);
    },
  };
  close.addEventListener("click", handle.dismiss);
  const region = $("notice");
  region.append(toast);
  while (region.children.length > TOAST_LIMIT) region.firstElementChild.remove();
  handle.update(message, kind, { final: false });
  return handle;
}

function clearNotice() { $("notice").replaceChildren(); }

// A message next to the control it concerns (an element with class inline-msg), or a notice when the
// page has no such place.
function say(id, message, kind = "info") {
  const box = $(id);
  if (!box) { notify(message, kind); return; }
  box.textContent = message;
  box.className = kind === "info" ? "inline-msg" : `inline-msg ${kind}`;
  box.hidden = !message;
}

function unsay(...ids) {
  for (const id of ids) { const box = $(id); if (box) { box.hidden = true; box.textContent = ""; } }
}

// Runs an action and shows its failure: next to the control `where` names, else as a notice.
async function guarded(action, where) {
  try { await action(); } catch (e) {
    if (where && $(where)) say(where, e.message, "error"); else notify(e.message, "error");
  }
}

// ---------------------------------------------------------------------------------------------------
// Words for people: names instead of ids, figures rounded, durations and dates readable.

const names = { queues: new Map(), agents: new Map() };

function remember(agents, queues) {
  for (const a of agents ?? []) names.agents.set(a.id, a.name);
  for (const q of queues ?? []) names.queues.set(q.id, q.name);
}

async function loadNames() {
  const [agents, queues] = await Promise.all([api("GET", "/api/v1/agents"), api("GET", "/api/v1/queues")]);
  remember(agents.agents, queues.queues);
  return { agents: agents.agents, queues: queues.queues };
}

const queueName = (id) => id ? (names.queues.get(id) ?? id) : "in the menu";
const agentName = (id) => id ? (names.agents.get(id) ?? id) : "";

// Intl.DisplayNames knows every language; the map is for browsers without it.
const LANGUAGES = { en: "English", es: "Spanish", fr: "French", de: "German", it: "Italian", pt: "Portuguese",
  nl: "Dutch", pl: "Polish", ru: "Russian", uk: "Ukrainian", zh: "Chinese", ja: "Japanese", ko: "Korean",
  vi: "Vietnamese", tl: "Tagalog", ar: "Arabic", hi: "Hindi", tr: "Turkish", ht: "Haitian Creole" };
let languageNames = null;
try { languageNames = new Intl.DisplayNames(["en"], { type: "language" }); } catch { /* the map serves */ }

function languageName(tag) {
  if (!tag) return "";
  try {
    const name = languageNames?.of(tag);
    if (name && name.toLowerCase() !== tag.toLowerCase()) return name;
  } catch { /* not a valid tag: say it as it is */ }
  return LANGUAGES[tag.toLowerCase()] ?? tag;
}

const STATUS_WORDS = { selecting: "in the menu", queued: "waiting", offered: "offered", connected: "connected",
  finished: "finished" };
const statusWords = (s) => STATUS_WORDS[s] ?? s?.replaceAll("_", " ") ?? "";

const TRANSFER_FAILURE = { declined: "they declined", timed_out: "nobody answered in time",
  nobody_available: "nobody was available to take it" };
const failureWords = (code) => TRANSFER_FAILURE[code] ?? code.replaceAll("_", " ");

const decimal = new Intl.NumberFormat("en", { maximumFractionDigits: 1 });
const count = new Intl.NumberFormat("en");
// One decimal at most: "0.3", "2", "1.5".
const figure = (x) => decimal.format(Math.round(Number(x) * 10) / 10);

// Seconds as people say them: "45 s", "4 min 5 s" (under ten minutes), "12 min", "1 h 5 min".
function duration(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  if (s < 60) return `${s} s`;
  if (s < 600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  const minutes = Math.floor((s % 3600) / 60);
  return minutes ? `${Math.floor(s / 3600)} h ${minutes} min` : `${Math.floor(s / 3600)} h`;
}

function since(iso) { return iso ? duration((Date.now() - Date.parse(iso)) / 1000) : ""; }

// A time of today as "14:03"; of another day with its date ("3 Mar, 14:03"), and year if not this one.
function stamp(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const now = new Date();
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (d.toDateString() === now.toDateString()) return time;
  const date = { day: "numeric", month: "short" };
  if (d.getFullYear() !== now.getFullYear()) date.year = "numeric";
  return `${d.toLocaleDateString([], date)}, ${time}`;
}

function timeEl(iso) {
  return el("time", { datetime: iso, title: iso ? new Date(iso).toLocaleString() : undefined }, stamp(iso));
}

// The transcript lines the engine writes for transfers carry ids and codes; people read names and words.
function noteWords(body) {
  let m = /^The transfer(?: to (\S+))? failed \((\w+)\); (\S+) keeps the chat$/.exec(body);
  if (m) {
    return `The transfer${m[1] ? " to " + agentName(m[1]) : ""} failed: ${failureWords(m[2])}; `
      + `${agentName(m[3])} keeps the chat.`;
  }
  m = /^(\S+) asked (\S+)(?: in (\S+))? to take the chat over(: [\s\S]*)?$/.exec(body);
  if (m) {
    return `${agentName(m[1])} asked ${agentName(m[2])}${m[3] ? " in " + queueName(m[3]) : ""} `
      + `to take the chat over${m[4] ?? ""}`;
  }
  m = /^(\S+) took the chat over from (\S+)$/.exec(body);
  if (m) return `${agentName(m[1])} took the chat over from ${agentName(m[2])}.`;
  return body;
}

function authorName(author) {
  if (author === "consumer" || author === "system") return author;
  return author.startsWith("agent:") ? agentName(author.slice("agent:".length)) : author;
}

// An audible notice: a short tone, no sound file needed. Browsers only play after a first click.
let audio;
function beep() {
  try {
    audio ??= new AudioContext();
    const osc = audio.createOscillator(); const gain = audio.createGain();
    osc.frequency.value = 880; gain.gain.value = 0.1;
    osc.connect(gain).connect(audio.destination);
    osc.start(); osc.stop(audio.currentTime + 0.25);
  } catch { /* no audio: the visible notice is enough */ }
}

// Desktop notifications, once the user allowed them (asked from a button: browsers only ask on a
// click). Only while the page is not in front: in front, the notice and the lists say it already.
function desktop(title, body, chatId) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  if (document.visibilityState === "visible" && document.hasFocus()) return;
  try {
    const n = new Notification(title, { body, tag: chatId, icon: "/favicon.ico" });
    n.addEventListener("click", () => { window.focus(); n.close(); guarded(() => showChat(chatId)); });
  } catch { /* some browsers only notify from a service worker: the title count still tells */ }
}

function setUpNotifications() {
  const button = $("notifications");
  if (!button || !("Notification" in window)) return;
  const show = () => { button.hidden = Notification.permission !== "default"; };
  show();
  button.addEventListener("click", () => guarded(async () => {
    const answer = await Notification.requestPermission();
    show();
    if (answer === "granted") notify("Desktop notifications are on: offers and new messages show while this tab is in the background.", "ok");
    else notify("Desktop notifications stay off; the browser's site settings can turn them on later.", "warn");
  }));
}

// ---------------------------------------------------------------------------------------------------
// The transcript, shared by agents and supervisors. The address bar follows the chat shown
// (/console/chats/{id}), so a reload, a link or the back button opens it again.

let selected = null;       // the id of the chat shown
let selectedChat = null;   // and the chat as its transcript last came
// Delivery timelines shown (message ids): they stay open while the transcript is redrawn, until closed
// or another chat is shown.
const openTimelines = new Set();
const unread = new Map();  // chat id -> messages from the consumer not seen yet

// A voice call's SMS thread (start type "call") is named by its call: it has no queue.
function describe(chat) {
  const call = chat.start_type === "call" ? `Call ${chat.context?.call_id ?? ""} (SMS thread)` : null;
  return [call ?? queueName(chat.queue), statusWords(chat.status), chat.language ? languageName(chat.language) : null,
    call ? null : chat.start_type?.replaceAll("_", " ")].filter(Boolean).join(" · ");
}

function authorClass(author) {
  if (author === "consumer") return "consumer";
  if (author === "system") return "system";
  if (author === "note") return "note";
  return author.startsWith("agent:") ? "agent" : "api";
}

function setUrl(id) {
  const path = id ? `/console/chats/${encodeURIComponent(id)}` : "/console";
  if (location.pathname !== path) history.pushState({ chat: id }, "", path);
}

async function showChat(id, { push = true } = {}) {
  // Files picked for one chat never go to another.
  if (selected !== id) { openTimelines.clear(); clearAttached(); }
  selected = id;
  unread.delete(id);
  if (push) setUrl(id);
  const t = await api("GET", `/api/v1/chats/${encodeURIComponent(id)}/transcript`);
  if (selected !== id) return;
  selectedChat = t.chat;
  $("no-chat").hidden = true;
  $("chat").hidden = false;
  $("workspace")?.classList.add("chat-open");
  $("chat-consumer").textContent = t.chat.consumer;
  $("chat-meta").textContent = describe(t.chat);
  showTicket(t.chat);
  const items = t.messages.map((m) => {
    const note = m.direction === "note";
    const cls = note ? "note" : authorClass(m.author);
    const who = note ? "note (agents only)" : authorName(m.author);
    const media = m.attachments.map((a) => a.content_type?.startsWith("video/")
      ? el("video", { src: a.url, controls: true, preload: "metadata" })
      : a.content_type?.startsWith("image/") || !a.content_type
        ? el("img", { src: a.url, alt: `picture from ${who}` })
        : el("a", { class: "file", href: a.url, target: "_blank", rel: "noopener" }, `${fileKind(a.content_type)} (${bytes(a.size)})`));
    const out = m.direction === "out";
    // The status opens the message's delivery timeline; a scheduled one says when it goes.
    const label = m.status === "scheduled" && m.due_at ? `scheduled for ${stamp(m.due_at)}` : m.status;
    const status = out ? [" · ", el("button", {
      type: "button", class: `status link ${m.status}`, title: "Show the delivery timeline", "aria-expanded": "false",
      onclick: (e) => guarded(() => toggleTimeline(m.id, e.currentTarget), "chat-msg"),
    }, label)] : null;
    const link = m.resend_of ? el("span", { class: "resend-link" }, " · a resend of an earlier attempt")
      : m.resent_as ? el("span", { class: "resend-link" }, " · resent") : null;
    const actions = [];
    if (ROLE === "agent" && out && m.status === "scheduled") {
      actions.push(el("button", { type: "button", class: "cancel-scheduled",
        onclick: () => guarded(() => cancelScheduled(m.id), "chat-msg") }, "Cancel"));
    }
    if (ROLE === "agent" && out && (m.status === "failed" || m.status === "undelivered") && !m.resent_as) {
      actions.push(el("button", { type: "button", class: "resend",
        onclick: () => guarded(() => resendMessage(m.id), "chat-msg") }, "Resend"));
    }
    const why = out && m.error && (m.status === "failed" || m.status === "undelivered" || m.status === "suppressed")
      ? el("span", { class: "error-text" }, ` (${m.error})`) : null;
    return el("li", { class: cls, "data-message": m.id, "data-status": m.status },
      el("span", { class: "who" }, `${who} · `, timeEl(m.at), status, why, link), note ? noteWords(m.body) : m.body, media,
      actions.length ? el("span", { class: "message-actions" }, actions) : null);
  });
  $("transcript").replaceChildren(...items);
  $("transcript").scrollTop = $("transcript").scrollHeight;
  for (const open of [...openTimelines]) {
    const button = $("transcript").querySelector(`li[data-message="${CSS.escape(open)}"] button.status`);
    if (button) guarded(() => toggleTimeline(open, button, { reopen: true }), "chat-msg");
    else openTimelines.delete(open);
  }
  if (ROLE === "agent") agentChatControls(t.chat);
  if (ROLE === "agent") contactPanelFor(id);
  renderLists();
  loadThread(id);
}

// What the integration that started the chat attached to it (the outbound API's ticket_id and context).
function showTicket(chat) {
  const ticket = $("chat-ticket");
  ticket.hidden = !chat.ticket_id;
  ticket.textContent = chat.ticket_id ? `Ticket ${chat.ticket_id}` : "";
  const entries = Object.entries(chat.context ?? {});
  const list = $("chat-context");
  list.hidden = entries.length === 0;
  list.replaceChildren(...entries.flatMap(([key, value]) => [el("dt", {}, key), el("dd", {}, value)]));
}

// The consumer's other chats, on every business number, beside the one shown (one thread per consumer).
async function loadThread(id) {
  const box = $("thread");
  if (!box) return;
  const t = await api("GET", `/api/v1/chats/${encodeURIComponent(id)}/thread?limit=20`);
  if (selected !== id) return;
  const earlier = t.chats.filter((c) => c.id !== id);
  box.hidden = earlier.length === 0;
  $("thread-count").textContent = String(earlier.length) + (t.next_cursor ? "+" : "");
  $("thread-list").replaceChildren(...earlier.map((c) => el("li", {}, el("button", {
    type: "button", class: "link", "data-thread-chat": c.id, onclick: () => guarded(() => showChat(c.id)),
  }, stamp(c.opened_at)), ` to ${c.number} · ${describe(c)}`,
  c.end_reason ? ` · ${c.end_reason.replaceAll("_", " ")}` : "")));
}

function closeChat({ push = true } = {}) {
  selected = null;
  selectedChat = null;
  if (push) setUrl(null);
  $("chat").hidden = true;
  $("no-chat").hidden = false;
  $("workspace")?.classList.remove("chat-open");
  closeContactPanel();
  renderLists();
}

function chatFromPath() {
  const m = /^\/console\/chats\/([^/]+)$/.exec(location.pathname);
  return m ? decodeURIComponent(m[1]) : null;
}

window.addEventListener("popstate", (e) => {
  const id = e.state?.chat ?? chatFromPath();
  if (id) guarded(() => showChat(id, { push: false })); else if ($("chat")) closeChat({ push: false });
});

// ---------------------------------------------------------------------------------------------------
// The agent workspace.

let chats = [];                    // ongoing and upcoming chats the agent sees
const transferOffers = new Map();  // chat id -> { event, toast } of a transfer asked of me
let pendingTransfer = null;        // { chat, label, toast } of the transfer I asked for last

function chatButton(chat, extra) {
  const n = unread.get(chat.id);
  return el("li", {}, el("button", {
    type: "button", "aria-current": selected === chat.id ? "true" : "false", "data-chat": chat.id,
    onclick: () => guarded(() => showChat(chat.id)),
  },
  el("strong", {}, chat.consumer), " ", n ? el("span", { class: "badge", "aria-label": `${n} unread` }, String(n)) : null,
  el("span", { class: "meta block" }, `${describe(chat)}${extra ? " · " + extra : ""}`)));
}

function listed() {
  const offers = chats.filter((c) => c.status === "offered" && c.agent === ME);
  const mine = chats.filter((c) => c.status === "connected" && c.agent === ME);
  const waiting = chats.filter((c) => c.status === "queued");
  const upcoming = chats.filter((c) => c.status === "dismissed");
  return { offers, mine, waiting, upcoming };
}

function renderLists() {
  if (ROLE !== "agent" || !$("offers")) return;
  const { offers, mine, waiting, upcoming } = listed();
  const fill = (id, list, extra, empty) => $(id).replaceChildren(...(list.length
    ? list.map((c) => chatButton(c, extra(c))) : [el("li", { class: "empty" }, empty)]));
  fill("offers", offers, (c) => `waiting ${since(c.queued_at ?? c.opened_at)}`, "No offers.");
  fill("mine", mine, (c) => pendingTransfer?.chat === c.id ? "transfer asked" : "", "No chats.");
  fill("waiting", waiting, (c) => `waiting ${since(c.queued_at ?? c.opened_at)}`, "Nobody is waiting.");
  if ($("upcoming")) fill("upcoming", upcoming, (c) => `dismissed ${since(c.dismissed_at)} ago`, "No dismissed chats.");
  updateTitle();
}

// The tab's title counts what waits for the agent: offers, transfers asked of them, unread messages.
function updateTitle() {
  const offers = listed().offers.length + transferOffers.size;
  const messages = [...unread.values()].reduce((a, b) => a + b, 0);
  const n = offers + messages;
  document.title = n ? `(${n}) ${TITLE}` : TITLE;
}

async function loadChats() {
  const [ongoing, upcoming] = await Promise.all([
    api("GET", "/api/v1/chats?status=ongoing"), api("GET", "/api/v1/chats?status=upcoming")]);
  chats = [...ongoing.chats, ...upcoming.chats];
  renderLists();
}

function agentChatControls(chat) {
  const mine = chat.agent === ME;
  const connected = chat.status === "connected" && mine;
  $("accept").hidden = !((chat.status === "offered" && mine) || chat.status === "queued");
  $("accept").textContent = chat.status === "queued" ? "Take this chat" : "Accept";
  // A call's thread moves and ends with the call, which the IVR reports.
  const call = chat.start_type === "call";
  $("transfer").hidden = !connected || call;
  $("end").hidden = !connected || call;
  $("resume").hidden = chat.status !== "dismissed";
  $("dismiss").hidden = true;
  // Dismiss only where the chat's queue (or a parent, or the deployment) lets its agent dismiss.
  if (connected && chat.origin === "inbound") {
    guarded(async () => {
      const rule = await dismissalOf(chat.queue);
      if (selected === chat.id) $("dismiss").hidden = !(rule && rule.by_agent);
    }, "chat-msg");
  }
  $("composer").hidden = !connected;
  $("note-form").hidden = !connected;
  if (connected) guarded(() => loadReplies(chat.id), "composer-msg");
}

const dismissals = new Map();  // queue id -> its effective dismissal rule (null: none)

async function dismissalOf(queue) {
  if (!queue) return null;
  if (!dismissals.has(queue)) {
    const s = await api("GET", `/api/v1/queues/${encodeURIComponent(queue)}/settings`);
    dismissals.set(queue, s.settings.dismissal?.value ?? null);
  }
  return dismissals.get(queue);
}

let replies = [];          // the predefined replies of the chat shown
let repliesOf = null;      // and which chat they are of

async function loadReplies(chatId) {
  const list = await api("GET", `/api/v1/replies?chat=${encodeURIComponent(chatId)}`);
  if (selected !== chatId) return replies;
  replies = list.replies ?? list;
  repliesOf = chatId;
  $("replies").replaceChildren(el("option", { value: "" }, "Predefined replies…"),
    ...replies.map((r) => el("option", { value: r.id }, r.shortcut ? `${r.title} (/${r.shortcut})` : r.title)));
  return replies;
}

async function sendReply(id) {
  const chat = selected;
  const later = sendAt();
  const query = later ? `?send_at=${encodeURIComponent(later)}` : "";
  await api("POST", `/api/v1/chats/${encodeURIComponent(chat)}/replies/${encodeURIComponent(id)}${query}`);
  if (later) clearSendAt();
  await showChat(chat, { push: false });
}

// Send later: the composer's time (the agent's local time) as RFC 3339, or null to send now.
function sendAt() {
  const value = $("send-at")?.value;
  return value ? new Date(value).toISOString() : null;
}

function clearSendAt() { if ($("send-at")) $("send-at").value = ""; }

async function cancelScheduled(id) {
  const chat = selected;
  await api("DELETE", `/api/v1/messages/${encodeURIComponent(id)}`);
  await showChat(chat, { push: false });
}

async function resendMessage(id) {
  const chat = selected;
  const sent = await api("POST", `/api/v1/messages/${encodeURIComponent(id)}/resend`);
  notify(sent.status === "scheduled" ? `Resent: it waits for the consumer's quiet hours to end (${stamp(sent.send_at)}).`
    : "Resent as a new message.", "ok");
  await showChat(chat, { push: false });
}

// The delivery timeline of one message, shown under it on a click of its status.
async function toggleTimeline(id, button, { reopen = false } = {}) {
  const item = button.closest("li");
  const open = item.querySelector(".timeline");
  if (open) {
    if (reopen) return;
    open.remove(); button.setAttribute("aria-expanded", "false"); openTimelines.delete(id);
    return;
  }
  openTimelines.add(id);
  const m = await api("GET", `/api/v1/messages/${encodeURIComponent(id)}`);
  if (item.querySelector(".timeline")) return;
  const lines = m.timeline.map((c) => el("li", { "data-status": c.status }, timeEl(c.at), ` ${c.status}`,
    c.carrier_code ? ` · carrier code ${c.carrier_code}` : "", c.error ? ` · ${c.error}` : ""));
  item.append(el("ol", { class: "timeline", "aria-label": "Delivery timeline" }, lines));
  button.setAttribute("aria-expanded", "true");
}

// Long replies: the server refuses more than 1,600 characters, so the page says so before sending
// (and never cuts the text: the reply box has no maxlength). Characters are counted as the server
// counts them, by code point.
const MAX_CHARS = 1600;
const characters = (s) => [...s].length;

let segmentTimer;
function countSegments() {
  clearTimeout(segmentTimer);
  const body = $("body").value;
  const n = characters(body);
  const out = $("segments");
  unsay("composer-msg");
  if (!body) { out.textContent = ""; out.className = "segments"; return; }
  if (n > MAX_CHARS) {
    out.textContent = `${count.format(n)} characters: ${count.format(n - MAX_CHARS)} over the limit of 1,600. Shorten it to send.`;
    out.className = "segments error";
    return;
  }
  segmentTimer = setTimeout(() => guarded(async () => {
    const s = await api("POST", "/api/v1/sms/segments", { body });
    if ($("body").value !== body) return;
    const why = s.encoding !== "GSM-7" && s.non_gsm_characters?.length
      ? ` (because of ${s.non_gsm_characters.slice(0, 5).join(" ")})` : "";
    const long = s.segments > 1 ? ` · long: it goes out as ${s.segments} texts` : "";
    out.textContent = `${s.segments} segment${s.segments === 1 ? "" : "s"} · ${s.encoding}${why} · `
      + `${count.format(s.characters)} characters${long}`;
    out.className = s.segments > 1 ? "segments warn" : "segments";
  }, "composer-msg"), 200);
}

// Files picked to go with the next message: the file and, for a picture, a preview (an object URL,
// which the console's CSP allows as img-src blob:).
let attached = [];
const MEDIA_TYPES = ["image/jpeg", "image/png", "image/gif", "video/mp4", "application/pdf"];
const MAX_MEDIA_BYTES = 5 * 1024 * 1024;
const MAX_MEDIA = 10;

function bytes(n) {
  if (n < 1024) return `${count.format(n)} bytes`;
  if (n < 1024 * 1024) return `${count.format(Math.round(n / 1024))} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function fileKind(type) {
  return type === "application/pdf" ? "PDF document" : type?.startsWith("video/") ? "video" : "file";
}

function attach(files) {
  for (const file of files) {
    if (!MEDIA_TYPES.includes(file.type)) {
      say("composer-msg", `${file.name} cannot be sent: send pictures (JPEG, PNG, GIF), MP4 video or PDF.`, "error");
    } else if (file.size > MAX_MEDIA_BYTES) {
      say("composer-msg", `${file.name} has ${bytes(file.size)}; the limit is 5 MB per file.`, "error");
    } else if (attached.length >= MAX_MEDIA) {
      say("composer-msg", `A message carries at most ${MAX_MEDIA} files.`, "error");
    } else {
      attached.push({ file, preview: file.type.startsWith("image/") ? URL.createObjectURL(file) : null });
    }
  }
  $("attach").value = "";
  renderAttached();
}

function unattach(i) {
  if (attached[i]?.preview) URL.revokeObjectURL(attached[i].preview);
  attached.splice(i, 1);
  renderAttached();
}

function clearAttached() {
  for (const a of attached) if (a.preview) URL.revokeObjectURL(a.preview);
  attached = [];
  renderAttached();
}

function renderAttached() {
  const list = $("attachments");
  if (!list) return;
  list.replaceChildren(...attached.map((a, i) => el("li", {},
    a.preview ? el("img", { class: "thumb", src: a.preview, alt: `preview of ${a.file.name}` }) : null,
    el("span", { class: "file-name" }, `${a.file.name} (${bytes(a.file.size)})`),
    el("button", { type: "button", class: "remove", "aria-label": `Remove ${a.file.name}`, onclick: () => unattach(i) }, "Remove"))));
  list.hidden = !attached.length;
}

async function sendMessage() {
  const body = $("body").value.trim();
  if (!body && !attached.length) {
    say("composer-msg", "Nothing was sent: the message is empty. Write something or attach a file first.", "warn");
    $("body").focus();
    return;
  }
  const n = characters(body);
  if (n > MAX_CHARS) {
    say("composer-msg", `Not sent: the message has ${count.format(n)} characters and the limit is 1,600. `
      + `Shorten it by ${count.format(n - MAX_CHARS)} or send it in two parts.`, "error");
    return;
  }
  const chat = selected;
  $("send").disabled = true;
  const later = sendAt();
  const message = later ? { body, send_at: later } : { body };
  try {
    // Each file is uploaded first; a refused upload sends nothing and says why.
    if (attached.length) message.media_ids = await Promise.all(attached.map((a) => uploadFile(a.file)));
    await api("POST", `/api/v1/chats/${encodeURIComponent(chat)}/messages`, message);
  } finally { $("send").disabled = false; }
  $("body").value = ""; countSegments();
  clearAttached();
  if (later) clearSendAt();
  await showChat(chat, { push: false });
}

async function addNote() {
  const body = $("note-body").value.trim();
  if (!body) { say("note-msg", "Nothing was added: the note is empty.", "warn"); return; }
  const chat = selected;
  await api("POST", `/api/v1/chats/${encodeURIComponent(chat)}/notes`, { body });
  $("note-body").value = "";
  say("note-msg", "Note added; only agents see it.", "ok");
  await showChat(chat, { push: false });
}

// Who can take the chat now: never me; a colleague who is available, connected, serves the chat's
// queue and has a free seat; a queue with such a colleague. (The engine decides the same way, so a
// request to anyone else could only fail.)
function transferTargets(chat, agents, queues) {
  const free = (a) => a.id !== ME && a.status === "available" && a.connected !== false && a.active < a.capacity;
  const colleagues = agents.filter((a) => free(a) && (!chat.queue || a.queues.includes(chat.queue)));
  const withSomeone = queues
    .map((q) => [q, agents.filter((a) => free(a) && a.queues.includes(q.id)).length])
    .filter(([, n]) => n > 0);
  return { colleagues, queues: withSomeone };
}

async function openTransfer() {
  const chat = selectedChat;
  if (!chat) return;
  const { agents, queues } = await loadNames();
  const targets = transferTargets(chat, agents, queues);
  const options = [
    ...targets.colleagues.map((a) =>
      el("option", { value: `agent:${a.id}`, "data-label": a.name }, `${a.name} (${a.active} of ${a.capacity} chats)`)),
    ...targets.queues.map(([q, n]) =>
      el("option", { value: `queue:${q.id}`, "data-label": `queue ${q.name}` }, `Queue ${q.name} (${n} available)`)),
  ];
  const nobody = options.length === 0;
  $("transfer-target").replaceChildren(...options);
  $("transfer-target-label").hidden = nobody;
  $("transfer-send").disabled = nobody;
  if (nobody) {
    say("transfer-nobody", "Nobody can take it now: no colleague of this queue is available with a free seat. "
      + "Keep the chat, or try again when someone is available.", "warn");
  } else {
    unsay("transfer-nobody");
  }
  $("transfer-note").value = "";
  $("transfer-dialog").showModal();
}

async function transfer() {
  const option = $("transfer-target").selectedOptions[0];
  if (!option) return;
  const [kind, id] = option.value.split(":");
  const body = { note: $("transfer-note").value };
  if (kind === "agent") body.to_agent = id; else body.to_queue = id;
  const label = option.dataset.label;
  const chat = selected;
  // The outcome comes as an event of the chat (transfer_failed or transfer_ended); the notice waits
  // for it and then says what happened.
  const toast = notify(`Asked ${label} to take this chat; waiting for an answer. It stays yours until then.`,
    "info", [], { sticky: true });
  pendingTransfer = { chat, label, toast };
  renderLists();
  try {
    await api("POST", `/api/v1/chats/${encodeURIComponent(chat)}/transfer`, body);
  } catch (e) {
    if (pendingTransfer?.toast === toast) pendingTransfer = null;
    toast.update(`The transfer was not asked: ${e.message}`, "error");
    renderLists();
  }
}

function consumerOf(chatId) {
  return chats.find((c) => c.id === chatId)?.consumer ?? (selectedChat?.id === chatId ? selectedChat.consumer : null);
}

function transferOutcome(kind, event) {
  // A transfer asked of me ended (timed out, or taken back): its Take it notice goes.
  if (event.to === ME && transferOffers.has(event.chat_id)) {
    const offer = transferOffers.get(event.chat_id);
    transferOffers.delete(event.chat_id);
    offer.toast.dismiss();
    if (kind === "chat.transfer_failed" && event.reason === "timed_out") {
      notify(`The transfer from ${agentName(offer.event.from)} was withdrawn: nobody answered in time.`, "warn");
    }
    updateTitle();
  }
  if (event.from !== ME) return;
  const pending = pendingTransfer?.chat === event.chat_id ? pendingTransfer : null;
  const consumer = consumerOf(event.chat_id);
  const chatWith = consumer ? `the chat with ${consumer}` : "the chat";
  let text, tone;
  if (kind === "chat.transfer_failed") {
    const to = event.to ? agentName(event.to) : pending?.label;
    text = `The transfer${to ? " to " + to : ""} failed: ${failureWords(event.reason)}. ${chatWith[0].toUpperCase()}${chatWith.slice(1)} is still yours.`;
    tone = "error";
  } else {
    text = `${agentName(event.to)} took over ${chatWith}.`;
    tone = "ok";
  }
  if (pending) { pending.toast.update(text, tone); pendingTransfer = null; } else notify(text, tone);
  renderLists();
}

function transferOffer(event) {
  beep();
  const answer = (accept) => guarded(async () => {
    await api("POST", `/api/v1/chats/${encodeURIComponent(event.chat_id)}/transfer/${accept ? "accept" : "decline"}`);
    transferOffers.get(event.chat_id)?.toast.dismiss();
    transferOffers.delete(event.chat_id);
    await loadChats();
    if (accept) await showChat(event.chat_id);
  });
  const toast = notify(`${agentName(event.from)} asks you to take over a chat${event.note ? ": " + event.note : ""}`, "info", [
    el("button", { type: "button", class: "primary", onclick: () => answer(true) }, "Take it"),
    el("button", { type: "button", onclick: () => answer(false) }, "Decline"),
  ]);
  transferOffers.set(event.chat_id, { event, toast });
  desktop("A transfer for you", `${agentName(event.from)} asks you to take over a chat`, event.chat_id);
  updateTitle();
}

// Figures: see docs/console.md for what they count.
async function loadStats() {
  const s = await api("GET", "/api/v1/me/stats");
  const part = (f, each) => `${figure(f.answered)} answered${f.answered > 0 ? `, ${duration(f.average_seconds)} ${each}` : ""}`;
  $("stats").textContent = `Today: ${part(s.mine, "on average")} · team average: ${part(s.team_average, "per chat")}`;
}

// Next and previous chat: through the lists as they are shown (offers, my chats, waiting).
function stepChat(step) {
  const { offers, mine, waiting, upcoming } = listed();
  const order = [...offers, ...mine, ...waiting].map((c) => c.id);
  if (!order.length) { notify("No chats in your lists.", "info"); return; }
  const at = order.indexOf(selected);
  const next = at < 0 ? (step > 0 ? 0 : order.length - 1) : (at + step + order.length) % order.length;
  guarded(() => showChat(order[next]));
}

// The search of predefined replies (/): by shortcut or title, best matches first.
let replyPick = 0;

function replyMatches(query) {
  const q = query.trim().replace(/^\//, "").toLowerCase();
  if (!q) return replies;
  const score = (r) => {
    const shortcut = (r.shortcut ?? "").toLowerCase();
    const title = r.title.toLowerCase();
    if (shortcut === q) return 0;
    if (shortcut.startsWith(q)) return 1;
    if (title.startsWith(q)) return 2;
    if (shortcut.includes(q) || title.includes(q)) return 3;
    return null;
  };
  return replies.map((r) => [score(r), r]).filter(([s]) => s !== null).sort((a, b) => a[0] - b[0]).map(([, r]) => r);
}

function renderReplyMatches() {
  const query = $("reply-search-q").value;
  const found = replyMatches(query);
  replyPick = Math.min(Math.max(replyPick, 0), Math.max(found.length - 1, 0));
  $("reply-search-list").replaceChildren(...found.map((r, i) => el("li", {
    role: "option", id: `reply-option-${i}`, "aria-selected": String(i === replyPick), "data-reply": r.id,
    onclick: () => { replyPick = i; $("reply-search-form").requestSubmit(); },
  }, el("strong", {}, r.title), r.shortcut ? ` /${r.shortcut}` : "",
  el("span", { class: "meta block" }, (r.rendered ?? r.text).slice(0, 140)))));
  $("reply-search-q").setAttribute("aria-activedescendant", found.length ? `reply-option-${replyPick}` : "");
  $("reply-search-send").disabled = !found.length;
  if (!replies.length) say("reply-search-msg", "This chat's queue and your teams have no predefined replies.", "warn");
  else if (!found.length) say("reply-search-msg", `No reply has a shortcut or title like "${query.trim()}".`, "warn");
  else unsay("reply-search-msg");
  return found;
}

async function openReplySearch() {
  if (!selectedChat || $("composer").hidden) {
    notify("Open one of your connected chats first: a predefined reply is sent into the chat shown.", "warn");
    return;
  }
  if (repliesOf !== selected) await loadReplies(selected);
  $("reply-search-q").value = "";
  replyPick = 0;
  renderReplyMatches();
  $("reply-search").showModal();
  $("reply-search-q").focus();
}

function typing(target) {
  return target instanceof Element && !!target.closest("input, textarea, select, [contenteditable]");
}

function shortcuts(e) {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
  if (document.querySelector("dialog[open]")) return;
  const act = {
    "/": () => guarded(openReplySearch),
    "?": () => $("shortcuts-dialog").showModal(),
    n: () => stepChat(1),
    p: () => stepChat(-1),
    a: () => { if (!$("chat").hidden && !$("accept").hidden) $("accept").click(); },
  }[e.key];
  if (!act) return;
  e.preventDefault();
  act();
}

// Ctrl+Enter (⌘+Enter on a Mac) sends the form a text box belongs to.
function sendOnCtrlEnter(textarea, form) {
  textarea.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
  });
}

// Agents search the chats of their queues (the API only answers with those).
let agentSearch = null;    // the query of the shown results, with its next cursor

async function searchChats(query, cursor) {
  const params = new URLSearchParams(query);
  if (cursor) params.set("cursor", cursor);
  return api("GET", `/api/v1/chats?${params}`);
}

async function runAgentSearch(more) {
  const text = $("search-q").value.trim();
  if (!more) {
    if (!text) { say("search-msg", "Type words of a transcript or a phone number to search.", "warn"); return; }
    // A phone number (digits, +, spaces, dashes) is searched as one; anything else as words.
    agentSearch = { query: /^\+?[\d\s().-]{4,}$/.test(text) ? { phone: text.replace(/[\s().-]/g, "") } : { q: text } };
    $("search-results").replaceChildren();
  }
  const page = await searchChats(agentSearch.query, more ? agentSearch.cursor : null);
  agentSearch.cursor = page.next_cursor ?? null;
  $("search-results").append(...page.chats.map((c) => chatButton(c, stamp(c.opened_at))));
  $("search-more").hidden = !agentSearch.cursor;
  const shown = $("search-results").children.length;
  if (shown) unsay("search-msg"); else say("search-msg", "No chat of your queues matches.", "info");
}

// Idle to away: an available agent who has not touched the console for IDLE_AWAY_MINUTES is set away,
// so chats stop waiting on someone who left the desk with the console open. Activity in any of the
// agent's tabs counts only for that tab; the server keeps the status the last tab set.
let lastActivity = Date.now();
function watchIdle() {
  if (!IDLE_AWAY_MINUTES || !$("status")) return;
  for (const kind of ["keydown", "pointerdown", "pointermove", "wheel", "focus"]) {
    window.addEventListener(kind, () => { lastActivity = Date.now(); }, { passive: true });
  }
  setInterval(() => guarded(async () => {
    const idle = Date.now() - lastActivity >= IDLE_AWAY_MINUTES * 60_000;
    if (!idle || $("status").value !== "available") return;
    await api("PUT", "/api/v1/me/status", { status: "away" });
    $("status").value = "away";
    notify(`Set to away: no activity for ${IDLE_AWAY_MINUTES} minute${IDLE_AWAY_MINUTES === 1 ? "" : "s"}. Choose Available when you are back.`);
  }), 15_000);
}

// The agent's status switch in the header (on every page an agent has), then `after` (a list to reload).
function startStatus(after = async () => {}) {
  const status = $("status");
  status?.addEventListener("change", () => guarded(async () => {
    await api("PUT", "/api/v1/me/status", { status: status.value });
    await after();
  }));
  api("GET", "/api/v1/me").then((me) => { if (status && me.status) status.value = me.status; }).catch(() => {});
}

function startAgent() {
  watchIdle();
  $("accept").addEventListener("click", () => guarded(async () => {
    const chat = selected;
    await api("POST", `/api/v1/chats/${encodeURIComponent(chat)}/accept`);
    await loadChats(); await showChat(chat, { push: false });
  }, "chat-msg"));
  $("end").addEventListener("click", () => guarded(async () => {
    if (!confirm("End this chat? The consumer gets the closing message.")) return;
    const chat = selected;
    await api("POST", `/api/v1/chats/${encodeURIComponent(chat)}/end`);
    await loadChats(); await showChat(chat, { push: false }); await loadStats();
  }, "chat-msg"));
  $("dismiss").addEventListener("click", () => guarded(async () => {
    const chat = selected;
    await api("POST", `/api/v1/chats/${encodeURIComponent(chat)}/dismiss`);
    await loadChats(); await showChat(chat, { push: false });
  }, "chat-msg"));
  $("resume").addEventListener("click", () => guarded(async () => {
    const chat = selected;
    await api("POST", `/api/v1/chats/${encodeURIComponent(chat)}/resume`);
    await loadChats(); await showChat(chat, { push: false });
  }, "chat-msg"));
  $("back").addEventListener("click", () => closeChat());
  $("transfer").addEventListener("click", () => guarded(openTransfer, "chat-msg"));
  $("transfer-cancel").addEventListener("click", () => $("transfer-dialog").close());
  $("transfer-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if ($("transfer-send").disabled) return;
    $("transfer-dialog").close();
    guarded(transfer);
  });
  $("body").addEventListener("input", countSegments);
  sendOnCtrlEnter($("body"), $("composer"));
  $("composer").addEventListener("submit", (e) => { e.preventDefault(); guarded(sendMessage, "composer-msg"); });
  $("attach").addEventListener("change", (e) => attach([...e.target.files]));
  sendOnCtrlEnter($("note-body"), $("note-form"));
  $("note-form").addEventListener("submit", (e) => { e.preventDefault(); guarded(addNote, "note-msg"); });
  $("replies").addEventListener("change", () => guarded(async () => {
    const id = $("replies").value;
    if (!id) return;
    $("replies").value = "";
    await sendReply(id);
  }, "composer-msg"));
  $("reply-search-q").addEventListener("input", () => { replyPick = 0; renderReplyMatches(); });
  $("reply-search-q").addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      replyPick += e.key === "ArrowDown" ? 1 : -1;
      renderReplyMatches();
    }
  });
  $("reply-search-cancel").addEventListener("click", () => $("reply-search").close());
  $("reply-search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const reply = replyMatches($("reply-search-q").value)[replyPick];
    if (!reply) return;
    guarded(async () => {
      await sendReply(reply.id);
      $("reply-search").close();
      $("body").focus();
    }, "reply-search-msg");
  });
  $("show-shortcuts").addEventListener("click", () => $("shortcuts-dialog").showModal());
  document.addEventListener("keydown", shortcuts);
  $("search-form").addEventListener("submit", (e) => { e.preventDefault(); guarded(() => runAgentSearch(false), "search-msg"); });
  $("search-more").addEventListener("click", () => guarded(() => runAgentSearch(true), "search-msg"));
  // Empty: the server keeps the consumer's thread on the number last used with them (sticky sender).
  $("start-number").replaceChildren(el("option", { value: "" }, "The number last used with this consumer"),
    ...NUMBERS.map((n) => el("option", { value: n }, n)));
  $("start-chat").addEventListener("click", () => { unsay("start-msg"); $("start-dialog").showModal(); });
  $("start-cancel").addEventListener("click", () => $("start-dialog").close());
  $("start-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const message = $("start-body").value;
    if (characters(message) > MAX_CHARS) {
      say("start-msg", `The message has ${count.format(characters(message))} characters; the limit is 1,600. Shorten it to send.`, "error");
      return;
    }
    guarded(async () => {
      const ack = await api("POST", "/api/v1/outbound/chats", {
        end_user_number: $("start-phone").value.trim(), outbound_number: $("start-number").value || undefined, message,
      });
      $("start-dialog").close();
      $("start-body").value = "";
      notify(ack.status === "scheduled" ? `Scheduled for ${new Date(ack.send_at).toLocaleString()} (quiet hours).` : "Sent.", "ok");
      await loadChats();
      if (ack.chat) await showChat(ack.chat.id);
    }, "start-msg");
  });
  startStatus(loadChats);
  startContactPanel();
  setUpNotifications();
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && selected) { unread.delete(selected); renderLists(); }
  });
  guarded(async () => {
    await guarded(loadNames); // names are a nicety: without them the lists still work, with ids
    await loadChats();
    if (OPEN_CHAT) await showChat(OPEN_CHAT, { push: false });
  });
  guarded(loadStats);
  setInterval(renderLists, 15000); // waiting times move on
}

function onAgentEvent(kind, event) {
  if (kind === "chat.offered" && event.agent === ME) {
    beep();
    notify(`New chat offered: ${event.queue ? queueName(event.queue) : "a queue"}`, "info", [
      el("button", { type: "button", class: "primary", onclick: () => guarded(() => showChat(event.chat_id)) }, "Open"),
    ]);
    desktop("New chat offered", event.queue ? queueName(event.queue) : "", event.chat_id);
  }
  if (kind === "chat.transfer_started" && event.to === ME) transferOffer(event);
  // Matching links a chat a moment after it connects: the panel follows without a reload.
  if ((kind === "contact.linked" || kind === "contact.match_pending") && event.chat_id && event.chat_id === panel.chat) {
    guarded(() => loadContact(event.chat_id), "contact-status");
  }
  if (kind === "chat.transfer_failed" || kind === "chat.transfer_ended") transferOutcome(kind, event);
  if (kind === "app.opened" && chats.some((c) => c.id === event.chat_id && c.agent === ME)) {
    const where = event.call_id ? `on call ${event.call_id}` : `in chat with ${consumerOf(event.chat_id) ?? "a consumer"}`;
    notify(`App opened ${where}.`, "info", [
      el("button", { type: "button", class: "primary", onclick: () => guarded(() => showChat(event.chat_id)) }, "Open"),
    ]);
  }
  if (kind === "message" && event.direction === "in" && event.chat_id) {
    const mine = chats.some((c) => c.id === event.chat_id && c.agent === ME);
    if (event.chat_id !== selected || document.visibilityState !== "visible") {
      unread.set(event.chat_id, (unread.get(event.chat_id) ?? 0) + 1);
      updateTitle();
    }
    if (mine) desktop(`New message from ${consumerOf(event.chat_id) ?? "a consumer"}`, (event.body ?? "").slice(0, 120), event.chat_id);
  }
}

// ---------------------------------------------------------------------------------------------------
// Supervisors and admins: agents, queues and chats, and the search of chats.

let tab = "ongoing";
let monitorSearch = null;  // { query, cursor } while search results are shown instead of the tab's list

function agentStatus(a) {
  const words = a.status === "offline" && a.reason === "disconnected" ? "offline (disconnected)" : a.status;
  const cell = [el("span", { class: `status-${a.status}` }, words)];
  if (a.status_since) cell.push(el("span", { class: "meta" }, ` for ${since(a.status_since)}`));
  // Chats of an agent whose console is gone: nobody is answering them.
  if (a.connected === false && a.chats.length) {
    cell.push(el("span", { class: "flag" }, `not connected, holds ${a.chats.length} chat${a.chats.length === 1 ? "" : "s"}`));
  }
  return cell;
}

function chatRow(c) {
  return el("tr", {},
    el("td", {}, el("button", { type: "button", onclick: () => guarded(() => showChat(c.id)) }, c.consumer)),
    el("td", {}, queueName(c.queue)), el("td", {}, statusWords(c.status)), el("td", {}, agentName(c.agent)),
    el("td", {}, c.start_type?.replaceAll("_", " ") ?? ""), el("td", {}, languageName(c.language)),
    el("td", {}, timeEl(c.opened_at)));
}

function fillChoices(id, items, label) {
  const select = $(id);
  const value = select.value;
  select.replaceChildren(el("option", { value: "" }, "any"),
    ...items.map((i) => el("option", { value: i.id, selected: i.id === value }, label(i))));
}

// The viewer's day: the monitor's "today" figures start at their midnight.
// (A browser that knows no zone says "Etc/Unknown", which no server knows either.)
const BROWSER_TZ = Intl.DateTimeFormat().resolvedOptions().timeZone;
const VIEWER_TZ = encodeURIComponent(BROWSER_TZ && BROWSER_TZ !== "Etc/Unknown" ? BROWSER_TZ : "UTC");
let liveTab = "ongoing";

const orDash = (v, f) => (v === null || v === undefined ? "–" : f(v));

// One of today's chats with the seed's columns (GET /api/v1/monitor/chats).
function liveRow(r) {
  const channel = { sms: "SMS", outbound_sms: "Outbound SMS", call_sms: "SMS (call)" }[r.type] ?? r.type;
  return el("tr", { "data-chat": r.id },
    el("td", {}, el("button", { type: "button", onclick: () => guarded(() => showChat(r.id)) }, r.id.slice(-8))),
    el("td", {}, r.queue ? queueName(r.queue) : ""), el("td", {}, channel),
    el("td", {}, r.queue_in_at ? timeEl(r.queue_in_at) : ""), el("td", {}, r.answered_at ? timeEl(r.answered_at) : ""),
    el("td", {}, r.agent ? agentName(r.agent) : ""), el("td", {}, orDash(r.wait_seconds, duration)),
    el("td", {}, orDash(r.handle_seconds, duration)), el("td", {}, statusWords(r.status)),
    el("td", {}, r.end_reason?.replaceAll("_", " ") ?? ""), el("td", {}, r.start_type?.replaceAll("_", " ") ?? ""));
}

async function loadMonitor() {
  const list = monitorSearch ? null : api("GET", `/api/v1/chats?${tab ? `status=${tab}&` : ""}limit=200`);
  const today = api("GET", `/api/v1/monitor/chats?status=${liveTab}&tz=${VIEWER_TZ}`);
  const [agents, queues] = await Promise.all([api("GET", `/api/v1/agents?tz=${VIEWER_TZ}`), api("GET", `/api/v1/queues?tz=${VIEWER_TZ}`)]);
  remember(agents.agents, queues.queues);
  $("agents").replaceChildren(...agents.agents.map((a) => el("tr", { "data-agent": a.id },
    el("th", { scope: "row" }, a.name), el("td", {}, ...agentStatus(a)), el("td", {}, a.channel === "sms" ? "SMS" : a.channel),
    el("td", {}, `${a.active} of ${a.capacity}`), el("td", {}, String(a.answered_today)),
    el("td", {}, ...a.chats.map((id) => el("button", { type: "button", onclick: () => guarded(() => showChat(id)) }, "open"))))));
  $("queues").replaceChildren(...queues.queues.map((q) => el("tr", { "data-queue": q.id },
    el("th", { scope: "row" }, `${q.name}${q.open ? "" : " (closed)"}`), el("td", {}, String(q.waiting)),
    el("td", {}, q.waiting ? duration(q.longest_wait_seconds) : "–"),
    el("td", {}, String(q.offered)), el("td", {}, String(q.connected)), el("td", {}, String(q.dismissed ?? 0)),
    el("td", {}, String(q.ended_today)), el("td", {}, orDash(q.today.average_wait_seconds, duration)),
    el("td", {}, orDash(q.today.average_handle_seconds, duration)),
    el("td", {}, orDash(q.today.service_level, (s) => `${Math.round(s * 100)}% within ${duration(q.today.service_level_seconds)}`)),
    el("td", {}, String(q.today.abandoned)), el("td", {}, `${q.today.sms}, ${q.today.outbound_sms}`),
    el("td", {}, Object.entries(q.by_start_type).map(([k, v]) => `${k.replaceAll("_", " ")}: ${v}`).join(", ")))));
  fillChoices("search-queue", queues.queues, (q) => q.name);
  fillChoices("search-agent", agents.agents, (a) => a.name);
  const rows = (await today).chats.rows;
  $("today-rows").replaceChildren(...(rows.length ? rows.map(liveRow)
    : [el("tr", {}, el("td", { colspan: "11", class: "empty" }, "No chats here today."))]));
  if (list) $("chat-rows").replaceChildren(...(await list).chats.map(chatRow));
}

// The IVR's voice queues and live calls (docs/ivr.md): their figures change with the IVR's reports,
// which are no chat's events, so the section reads them again every few seconds.
async function loadVoice() {
  const [voice, live] = await Promise.all([api("GET", "/api/v1/ivr/queues"), api("GET", "/api/v1/ivr/calls?status=live&limit=200")]);
  $("voice").hidden = voice.queues.length === 0;
  const names = new Map(voice.queues.map((q) => [q.id, q.name]));
  $("voice-queues").replaceChildren(...voice.queues.map((q) => el("tr", { "data-voice-queue": q.id },
    el("th", { scope: "row" }, q.name), el("td", {}, String(q.waiting)), el("td", {}, String(q.connected)),
    el("td", {}, duration(q.ewt.seconds)),
    el("td", {}, `${q.today.deflection_offered}, ${q.today.deflection_accepted}, ${q.today.deflection_declined}`),
    el("td", {}, `${q.today.wait_sms_sent}, ${q.today.wait_sms_declined}`))));
  $("live-calls").replaceChildren(...(live.calls.length ? live.calls.map((c) => el("tr", { "data-call": c.call_id },
    el("th", { scope: "row" }, c.call_id), el("td", {}, names.get(c.ivr_queue) ?? c.ivr_queue),
    el("td", {}, c.status.replaceAll("_", " ")), el("td", {}, c.agent_id ? agentName(c.agent_id) : ""),
    el("td", {}, stamp(c.started_at)),
    el("td", {}, c.thread_chat_id
      ? el("button", { type: "button", class: "link", onclick: () => guarded(() => showChat(c.thread_chat_id)) }, "SMS thread")
      : ""))) : [el("tr", {}, el("td", { colspan: "6", class: "empty" }, "No live calls."))]));
}

// The search form as query parameters of GET /api/v1/chats; dates are whole local days.
function searchQuery() {
  const query = {};
  const text = (id) => $(id).value.trim();
  if (text("search-q")) query.q = text("search-q");
  if (text("search-phone")) query.phone = text("search-phone").replace(/[\s().-]/g, "");
  if ($("search-queue").value) query.queue = $("search-queue").value;
  if ($("search-agent").value) query.agent = $("search-agent").value;
  if ($("search-from").value) query.from = new Date(`${$("search-from").value}T00:00:00`).toISOString();
  if ($("search-to").value) {
    const end = new Date(`${$("search-to").value}T00:00:00`);
    end.setDate(end.getDate() + 1);
    query.to = end.toISOString();
  }
  return query;
}

async function runMonitorSearch(more) {
  if (!more) {
    const query = searchQuery();
    if (!Object.keys(query).length) { monitorSearch = null; unsay("search-msg"); $("search-more").hidden = true; await loadMonitor(); return; }
    if (tab) query.status = tab;
    monitorSearch = { query, cursor: null };
  }
  const page = await searchChats(monitorSearch.query, more ? monitorSearch.cursor : null);
  monitorSearch.cursor = page.next_cursor ?? null;
  const rows = page.chats.map(chatRow);
  if (more) $("chat-rows").append(...rows); else $("chat-rows").replaceChildren(...rows);
  $("search-more").hidden = !monitorSearch.cursor;
  const n = $("chat-rows").children.length;
  say("search-msg", n ? `${count.format(n)} chat${n === 1 ? "" : "s"} found${monitorSearch.cursor ? " so far" : ""}; `
    + "search results do not update by themselves." : "No chat matches this search.", "info");
}

function startMonitor() {
  for (const b of document.querySelectorAll("#today-tabs button")) {
    b.addEventListener("click", () => {
      liveTab = b.dataset.live;
      for (const o of document.querySelectorAll("#today-tabs button")) o.setAttribute("aria-selected", String(o === b));
      guarded(loadMonitor);
    });
  }
  for (const b of document.querySelectorAll(".tabs:not(#today-tabs) button")) {
    b.addEventListener("click", () => {
      tab = b.dataset.status;
      for (const o of document.querySelectorAll(".tabs:not(#today-tabs) button")) o.setAttribute("aria-selected", String(o === b));
      guarded(() => monitorSearch ? runMonitorSearch(false) : loadMonitor(), "search-msg");
    });
  }
  $("search-form").addEventListener("submit", (e) => { e.preventDefault(); guarded(() => runMonitorSearch(false), "search-msg"); });
  $("search-more").addEventListener("click", () => guarded(() => runMonitorSearch(true), "search-msg"));
  $("search-clear").addEventListener("click", () => {
    $("search-form").reset();
    monitorSearch = null;
    unsay("search-msg");
    $("search-more").hidden = true;
    guarded(loadMonitor);
  });
  guarded(async () => {
    await loadMonitor();
    if (OPEN_CHAT) await showChat(OPEN_CHAT, { push: false });
  });
  guarded(loadVoice);
  setInterval(() => guarded(loadVoice), 5000);
}

// ---------------------------------------------------------------------------------------------------
// Contacts: the panel beside an agent's chat (GET/POST /api/v1/chats/{id}/contact) and the contacts
// page (/console/contacts). Both edit a contact with one editor (contactEditor), which PATCHes only
// what changed and puts each refused value's message beside its field, found by the JSON Pointer the
// API names. Phones are shown as the API gives them (masked for agents whose queues mask numbers) and
// never sent back: a PATCH with phones from such an agent is refused, and a masked number is no number.

const orNull = (v) => (v.trim() === "" ? null : v.trim());
const tagList = (v) => v.split(",").map((t) => t.trim()).filter(Boolean);
const phonesText = (phones) => phones.map((p) => p.number + (p.primary && phones.length > 1 ? " (primary)" : "")).join(", ");

// Puts the API's field problems beside the fields: `fields` maps a pointer (or its first part, "/tags"
// for "/tags/2", "/fields/plan" for itself) to its input. What has no field goes into `general`.
function showFieldErrors(error, fields, general) {
  for (const input of fields.values()) {
    input.removeAttribute("aria-invalid");
    const box = $(`${input.id}-err`);
    if (box) { box.hidden = true; box.textContent = ""; }
  }
  const unplaced = [];
  let first = null;
  for (const d of error.details ?? []) {
    // A new contact's pointers may come relative to the request ("/create/name") or to the contact.
    const pointer = (d.field ?? "").replace(/^\/create(?=\/)/, "");
    const key = [...fields.keys()].filter((k) => pointer === k || pointer.startsWith(k + "/"))
      .sort((a, b) => b.length - a.length)[0];
    const input = key ? fields.get(key) : null;
    const box = input ? $(`${input.id}-err`) : null;
    if (!box) { unplaced.push(d.message); continue; }
    box.textContent = box.textContent ? `${box.textContent}; ${d.message}` : d.message;
    box.hidden = false;
    input.setAttribute("aria-invalid", "true");
    first ??= input;
  }
  if (first) {
    say(general, unplaced.length ? `Not saved: ${unplaced.join("; ")}` : "Not saved: see the fields marked.", "error");
    first.focus();
  } else {
    say(general, error.message, "error");
  }
}

// A label, a control and the place for its problem, the control described by that place.
function fieldRow(label, control) {
  const err = el("p", { class: "field-error", id: `${control.id}-err`, hidden: true });
  control.setAttribute("aria-describedby", err.id);
  return [el("label", { for: control.id }, label), control, err];
}

// An editor of `contact`: { el, contact, dirty() }. `prefix` keeps its element ids apart from another
// editor's; `onSaved(contact)` hears of each saved change.
function contactEditor(contact, { prefix, onSaved = () => {} }) {
  const status = el("p", { class: "inline-msg", id: `${prefix}-saved`, role: "status", hidden: true });
  const holder = el("div", { class: "contact-editor", "data-contact": contact.id });
  const editor = { el: holder, contact, dirty: () => false };

  function render() {
    const c = editor.contact;
    const id = (name) => `${prefix}-${name}`;
    const input = (name, value, attrs = {}) => el("input", { id: id(name), name, value: value ?? "", autocomplete: "off", ...attrs });
    const fields = new Map([
      ["/name", input("name", c.name)],
      ["/company", input("company", c.company)],
      ["/email", input("email", c.email, { type: "email" })],
      ["/owner", el("select", { id: id("owner"), name: "owner" }, el("option", { value: "" }, "Nobody"),
        ...[...names.agents].map(([agent, name]) => el("option", { value: agent, selected: agent === c.owner }, name)),
        c.owner && !names.agents.has(c.owner) ? el("option", { value: c.owner, selected: true }, c.owner) : null)],
      ["/tags", input("tags", c.tags.join(", "))],
      ["/notes", el("textarea", { id: id("notes"), name: "notes", rows: "4" }, c.notes ?? "")],
    ]);
    const keys = Object.keys(c.fields ?? {}).sort();
    for (const key of keys) fields.set(`/fields/${key}`, input(`field-${key}`, String(c.fields[key] ?? "")));
    const changes = () => {
      const patch = {};
      for (const k of ["name", "company", "email"]) {
        const v = orNull(fields.get(`/${k}`).value);
        if (v !== (c[k] ?? null)) patch[k] = v;
      }
      const owner = fields.get("/owner").value || null;
      if (owner !== (c.owner ?? null)) patch.owner = owner;
      const tags = tagList(fields.get("/tags").value);
      if (tags.join("\n") !== c.tags.join("\n")) patch.tags = tags;
      if (fields.get("/notes").value !== (c.notes ?? "")) patch.notes = fields.get("/notes").value;
      const custom = {};
      for (const key of keys) {
        const v = fields.get(`/fields/${key}`).value.trim();
        if (v !== String(c.fields[key] ?? "")) custom[key] = v === "" ? null : v;
      }
      if (Object.keys(custom).length) patch.fields = custom;
      return patch;
    };
    editor.dirty = () => Object.keys(changes()).length > 0;
    const save = el("button", { type: "submit", class: "primary", id: id("save") }, "Save");
    const form = el("form", { class: "contact-form", id: id("form"), novalidate: true, "aria-label": "Edit the contact" },
      fieldRow("Name", fields.get("/name")),
      fieldRow("Company", fields.get("/company")),
      fieldRow("E-mail", fields.get("/email")),
      el("p", { class: "label" }, "Phones"),
      el("p", { class: "value", id: id("phones") }, phonesText(c.phones) || "none"),
      fieldRow("Owner", fields.get("/owner")),
      fieldRow("Tags (separated by commas)", fields.get("/tags")),
      fieldRow("Notes", fields.get("/notes")),
      keys.length ? el("fieldset", {}, el("legend", {}, "Custom fields"),
        ...keys.map((key) => fieldRow(key, fields.get(`/fields/${key}`)))) : null,
      el("p", { class: "form-actions" }, save));
    form.addEventListener("input", () => { if (editor.dirty()) say(status.id, "Changed, not saved yet.", "warn"); else unsay(status.id); });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const patch = changes();
      if (!Object.keys(patch).length) { say(status.id, "Nothing to save: nothing was changed.", "info"); return; }
      save.disabled = true;
      (async () => {
        try {
          const saved = await api("PATCH", `/api/v1/contacts/${encodeURIComponent(c.id)}`, patch);
          editor.contact = saved;
          const focus = document.activeElement?.id;
          render();
          if (focus && $(focus)) $(focus).focus();
          say(status.id, `Saved at ${new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}.`, "ok");
          onSaved(saved);
        } catch (error) {
          save.disabled = false;
          showFieldErrors(error, fields, status.id);
        }
      })();
    });
    holder.replaceChildren(form, status);
  }
  render();
  return editor;
}

// The panel beside the agent's chat: "matching…" until the chat is linked, the choice when several
// contacts have the phone, then the contact with its editor.
const panel = { chat: null, seq: 0, view: null, editor: null };

const LINK_WORDS = { matched: "matched by phone", created: "new contact for this phone", picked: "picked",
  created_by_agent: "created", manual: "linked by hand" };

function linkWords(view) {
  const how = LINK_WORDS[view.how] ?? "linked";
  return view.by && view.by !== "system" ? `${how} by ${view.by === ME ? "you" : agentName(view.by)}` : how;
}

function contactPanelFor(chatId) {
  const box = $("contact-panel");
  if (!box || panel.chat === chatId) return;
  panel.chat = chatId;
  panel.view = null;
  panel.editor = null;
  box.hidden = false;
  $("workspace")?.classList.add("with-contact");
  $("contact-pending").hidden = true;
  $("contact-linked").hidden = true;
  $("contact-linked").replaceChildren();
  $("contact-new").reset();
  unsay("contact-new-msg");
  for (const f of ["name", "email", "company"]) {
    $(`contact-new-${f}`).removeAttribute("aria-invalid");
    unsay(`contact-new-${f}-err`);
  }
  say("contact-status", "Looking up the contact…");
  guarded(() => loadContact(chatId), "contact-status");
}

function closeContactPanel() {
  panel.chat = null;
  panel.seq++;
  if ($("contact-panel")) $("contact-panel").hidden = true;
  $("workspace")?.classList.remove("with-contact");
}

async function loadContact(chatId) {
  const seq = ++panel.seq;
  const view = await api("GET", `/api/v1/chats/${encodeURIComponent(chatId)}/contact`);
  if (panel.chat !== chatId || seq !== panel.seq) return;  // another chat, or a newer answer asked for
  showContactView(view);
}

function showContactView(view) {
  const before = panel.view;
  panel.view = view;
  $("contact-panel").dataset.state = view.state;
  $("contact-pending").hidden = view.state !== "pending";
  $("contact-linked").hidden = view.state !== "linked";
  if (view.state === "pending") {
    say("contact-status", `${view.candidates.length} contacts have this phone: pick the one who is texting, or make a new contact.`, "warn");
    $("contact-candidates").replaceChildren(...view.candidates.map((c) => el("li", { "data-contact": c.id },
      el("strong", {}, c.name ?? c.email ?? "(no name)"),
      el("span", { class: "meta block" }, [c.company, c.email].filter(Boolean).join(" · ") || "no company or e-mail"),
      el("span", { class: "meta block" }, ...(c.last_chat_at ? ["last chat ", timeEl(c.last_chat_at)] : ["no chat yet"])),
      el("button", { type: "button", class: "pick", "aria-label": `This is them: ${c.name ?? c.email ?? c.id}`,
        onclick: () => guarded(() => linkContact({ contact_id: c.id }), "contact-status") }, "This is them"))));
    return;
  }
  if (view.state !== "linked") {
    say("contact-status", view.state === "waiting"
      ? "Matching… the contact is looked up once the consumer has written a few messages."
      : "Matching… the contact is looked up once the chat is connected.");
    return;
  }
  if (!view.contact) {
    say("contact-status", "The contact this chat was linked to has been deleted.", "warn");
    $("contact-linked").replaceChildren();
    panel.editor = null;
    return;
  }
  const shown = panel.editor?.contact;
  // Never throw away what the agent is typing; otherwise show the contact as it is now.
  const keep = shown && shown.id === view.contact.id && (panel.editor.dirty() || shown.updated_at === view.contact.updated_at);
  if (!keep) {
    panel.editor = contactEditor(view.contact, { prefix: "contact-edit" });
    $("contact-linked").replaceChildren(el("p", { class: "meta", id: "contact-how" }, `Linked: ${linkWords(view)}.`), panel.editor.el);
  }
  if (before?.state !== "linked" || before?.contact?.id !== view.contact.id) {
    say("contact-status", `This chat is linked to ${view.contact.name ?? view.contact.email ?? "a contact"}.`, "ok");
  }
}

// The agent's choice: POST the chat's contact; on 409 (linked meanwhile) show the link that won.
async function linkContact(body, fields) {
  const chatId = panel.chat;
  try {
    const view = await api("POST", `/api/v1/chats/${encodeURIComponent(chatId)}/contact`, body);
    if (panel.chat !== chatId) return;
    panel.seq++;  // an answer to an earlier look-up is older than this one
    showContactView(view);
  } catch (error) {
    if (error.status === 409) {
      notify(`${error.message}: the panel shows that contact now.`, "warn");
      await loadContact(chatId);
    } else if (fields) {
      showFieldErrors(error, fields, "contact-new-msg");
    } else {
      throw error;
    }
  }
}

function startContactPanel() {
  if (!$("contact-new")) return;
  $("contact-new").addEventListener("submit", (e) => {
    e.preventDefault();
    const fields = new Map(["name", "email", "company"].map((f) => [`/${f}`, $(`contact-new-${f}`)]));
    const create = {};
    for (const [pointer, input] of fields) if (orNull(input.value) !== null) create[pointer.slice(1)] = input.value.trim();
    unsay("contact-new-msg");
    guarded(() => linkContact({ create }, fields), "contact-new-msg");
  });
}

// The contacts page: a prefix search as one types (debounced), pages with More, a contact opened
// with its details and the editor.
const CONTACT_PAGE = 50;
const contactSearch = { seq: 0, query: "", cursor: null, timer: null };

function contactRow(c) {
  const open = () => guarded(() => openContact(c.id), "contacts-msg");
  return el("tr", { "data-contact": c.id },
    el("th", { scope: "row" }, el("button", { type: "button", class: "link", onclick: open }, c.name ?? c.email ?? c.id)),
    el("td", {}, c.company ?? ""), el("td", {}, c.email ?? ""), el("td", {}, phonesText(c.phones)),
    el("td", {}, c.tags.join(", ")));
}

async function runContactSearch(more) {
  const seq = ++contactSearch.seq;
  if (!more) { contactSearch.query = $("contacts-q").value.trim(); contactSearch.cursor = null; }
  const params = new URLSearchParams({ limit: String(CONTACT_PAGE) });
  if (contactSearch.query) params.set("q", contactSearch.query);
  if (more && contactSearch.cursor) params.set("cursor", contactSearch.cursor);
  $("contacts-page").setAttribute("aria-busy", "true");
  let page;
  try {
    page = await api("GET", `/api/v1/contacts?${params}`);
  } catch (error) {
    if (seq !== contactSearch.seq) return;
    $("contacts-page").removeAttribute("aria-busy");
    // A phone search by an agent whose queues mask numbers is refused (403): say why, in the API's words.
    if (!more) $("contact-rows").replaceChildren();
    $("contacts-more").hidden = true;
    say("contacts-msg", error.message, "error");
    return;
  }
  if (seq !== contactSearch.seq) return;  // a newer search was started meanwhile
  $("contacts-page").removeAttribute("aria-busy");
  contactSearch.cursor = page.next_cursor ?? null;
  const rows = page.contacts.map(contactRow);
  if (more) $("contact-rows").append(...rows); else $("contact-rows").replaceChildren(...rows);
  $("contacts-more").hidden = !contactSearch.cursor;
  const n = $("contact-rows").children.length;
  say("contacts-msg", n ? `${count.format(n)} contact${n === 1 ? "" : "s"}${contactSearch.cursor ? " so far" : ""}.`
    : contactSearch.query ? "No contact matches." : "No contacts yet.", "info");
}

async function openContact(id) {
  const c = await api("GET", `/api/v1/contacts/${encodeURIComponent(id)}`);
  showContactDetail(c);
  $("contact-detail").hidden = false;
  $("contact-detail-h").focus();
}

function showContactDetail(c) {
  $("contact-detail").dataset.contact = c.id;
  $("contact-detail-h").textContent = c.name ?? c.email ?? c.id;
  const ids = Object.entries(c.external_ids ?? {}).map(([k, v]) => `${k}: ${v}`).join(", ");
  $("contact-facts").replaceChildren(
    el("dt", {}, "Phones"), el("dd", {}, phonesText(c.phones) || "none"),
    ...(ids ? [el("dt", {}, "In other CRMs"), el("dd", {}, ids)] : []),
    el("dt", {}, "Created"), el("dd", {}, timeEl(c.created_at)),
    el("dt", {}, "Changed"), el("dd", {}, timeEl(c.updated_at)));
  const editor = contactEditor(c, {
    prefix: "contact-page",
    onSaved: (saved) => {
      $("contact-detail-h").textContent = saved.name ?? saved.email ?? saved.id;
      $("contact-rows").querySelector(`tr[data-contact="${CSS.escape(saved.id)}"]`)?.replaceWith(contactRow(saved));
    },
  });
  $("contact-detail-form").replaceChildren(editor.el);
}

function startContacts() {
  if (ROLE === "agent") { watchIdle(); startStatus(); }
  $("contact-detail-h").setAttribute("tabindex", "-1");
  $("contacts-q").addEventListener("input", () => {
    clearTimeout(contactSearch.timer);
    contactSearch.timer = setTimeout(() => runContactSearch(false), 300);
  });
  $("contacts-search").addEventListener("submit", (e) => {
    e.preventDefault();
    clearTimeout(contactSearch.timer);
    runContactSearch(false);
  });
  $("contacts-more").addEventListener("click", () => runContactSearch(true));
  $("contact-close").addEventListener("click", () => { $("contact-detail").hidden = true; $("contacts-q").focus(); });
  guarded(async () => {
    await guarded(loadNames);  // owners by name; without them the editor offers ids
    await runContactSearch(false);
  }, "contacts-msg");
}

// The header's link to the page shown says so to assistive technology.
function markCurrentLink() {
  for (const a of document.querySelectorAll("header.top a[href^='/console']")) {
    const here = a.getAttribute("href") === "/console" ? /^\/console(\/chats\/.*)?$/.test(location.pathname)
      : location.pathname === a.getAttribute("href");
    if (here) a.setAttribute("aria-current", "page");
  }
}

// ---------------------------------------------------------------------------------------------------
// Live updates: one EventSource; the browser reconnects by itself and resends Last-Event-ID, so a
// dropped connection loses nothing. Lists are reloaded (debounced) on any event of a visible chat.

const KINDS = ["message", "message.status", "agent.status", "consumer.opted_out", "chat.opened", "chat.queued",
  "chat.offered", "chat.offer_withdrawn", "chat.offer_timed_out", "chat.connected", "chat.ended",
  "chat.started_outbound", "chat.transfer_started", "chat.transfer_failed", "chat.transfer_ended",
  "chat.back_to_menu", "chat.language_changed", "chat.after_hours", "chat.reply_timed_out", "chat.overflowed",
  "chat.inactivity_warning", "chat.menu_sent", "chat.dismissed", "chat.resumed", "contact.linked",
  "contact.match_pending", "app.opened"];

let refreshTimer;
function refreshSoon(chatId) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => guarded(async () => {
    if (ROLE === "agent" && $("workspace")) await loadChats();
    else if ($("agents")) await loadMonitor();
    if (selected && (!chatId || chatId === selected)) await showChat(selected, { push: false });
  }), 150);
}

let source = null;
function listen() {
  source = new EventSource("/api/v1/events", { withCredentials: true });
  for (const kind of KINDS) {
    source.addEventListener(kind, (m) => {
      const event = JSON.parse(m.data);
      if (ROLE === "agent" && $("workspace")) onAgentEvent(kind, event);
      refreshSoon(event.chat_id);
    });
  }
  source.addEventListener("open", () => document.body.dataset.live = "true");
  source.addEventListener("error", () => {
    document.body.dataset.live = "false";
    // The stream ends when the session does (logout elsewhere, disabled, expired): then log in again.
    api("GET", "/api/v1/session").catch(() => {});
  });
}

$("logout").addEventListener("click", async () => {
  await fetch("/logout", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": CSRF } });
  location.href = "/login";
});

// Leaving the page closes its stream at once, so an agent drops out when their tab goes (a page kept
// in the browser's back-forward cache would otherwise keep its stream, and them, present); coming back
// to it opens the stream again and catches up.
window.addEventListener("pagehide", () => { source?.close(); source = null; });
window.addEventListener("pageshow", (e) => { if (e.persisted && !source) { listen(); refreshSoon(); } });

history.replaceState({ chat: OPEN_CHAT || null }, "");
if ($("workspace")) startAgent();
if ($("monitor")) startMonitor();
if ($("contacts-page")) startContacts();
markCurrentLink();
listen();
