// Parley console: plain JavaScript over the JSON API (cookie session + CSRF header) and the SSE event
// stream. The page is rendered by the server; this file fills it in and keeps it live.
"use strict";

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content ?? "";
const CSRF = meta("csrf-token");
const ROLE = meta("parley-role");
const ME = meta("parley-agent");
const NUMBERS = meta("parley-numbers").split(",").filter(Boolean);
const $ = (id) => document.getElementById(id);

class ApiError extends Error {}

async function api(method, path, body) {
  const headers = { "X-CSRF-Token": CSRF };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401) {
    location.href = "/login?next=" + encodeURIComponent(location.pathname);
    throw new ApiError("your session has ended");
  }
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw new ApiError(data?.error?.message ?? `${res.status} ${res.statusText}`);
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

function notify(message, kind = "info", actions = []) {
  const box = $("notice");
  box.replaceChildren(el("div", { class: kind === "error" ? "banner error" : "banner", role: kind === "error" ? "alert" : undefined },
    el("span", {}, message), ...actions));
}

function clearNotice() { $("notice").replaceChildren(); }

async function guarded(action) {
  try { await action(); } catch (e) { notify(e.message, "error"); }
}

function since(iso) {
  if (!iso) return "";
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function time(iso) { return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : ""; }

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

// ---------------------------------------------------------------------------------------------------
// The transcript, shared by agents and supervisors.

let selected = null;       // the chat shown
const unread = new Map();  // chat id -> messages from the consumer not seen yet

function describe(chat) {
  return [chat.queue ?? "menu", chat.status, chat.language ? `language ${chat.language}` : null,
    chat.start_type?.replaceAll("_", " ")].filter(Boolean).join(" · ");
}

function authorClass(author) {
  if (author === "consumer") return "consumer";
  if (author === "system") return "system";
  if (author === "note") return "note";
  return author.startsWith("agent:") ? "agent" : "api";
}

async function showChat(id) {
  selected = id;
  unread.delete(id);
  const t = await api("GET", `/api/v1/chats/${encodeURIComponent(id)}/transcript`);
  if (selected !== id) return;
  $("no-chat").hidden = true;
  $("chat").hidden = false;
  $("chat-consumer").textContent = t.chat.consumer;
  $("chat-meta").textContent = describe(t.chat);
  const items = t.messages.map((m) => {
    const cls = m.direction === "note" ? "note" : authorClass(m.author);
    const who = m.direction === "note" ? "note (agents only)" : m.author.replace("agent:", "");
    const media = m.attachments.map((a) => a.content_type?.startsWith("video/")
      ? el("video", { src: a.url, controls: true, preload: "metadata" })
      : el("img", { src: a.url, alt: `picture from ${who}` }));
    const status = m.direction === "out" ? el("span", { class: `status ${m.status}` }, ` · ${m.status}`) : null;
    return el("li", { class: cls, "data-message": m.id },
      el("span", { class: "who" }, `${who} · ${time(m.at)}`, status), m.body, media);
  });
  $("transcript").replaceChildren(...items);
  $("transcript").scrollTop = $("transcript").scrollHeight;
  if (ROLE === "agent") agentChatControls(t.chat);
  renderLists();
}

// ---------------------------------------------------------------------------------------------------
// The agent workspace.

let chats = [];            // ongoing and upcoming chats the agent sees
let transferOffers = new Map(); // chat id -> transfer_started event for me

function chatButton(chat, extra) {
  const count = unread.get(chat.id);
  return el("li", {}, el("button", {
    type: "button", "aria-current": selected === chat.id ? "true" : "false",
    onclick: () => guarded(() => showChat(chat.id)),
  },
  el("strong", {}, chat.consumer), " ", count ? el("span", { class: "badge", "aria-label": `${count} unread` }, String(count)) : null,
  el("span", { class: "meta block" }, `${describe(chat)}${extra ? " · " + extra : ""}`)));
}

function renderLists() {
  if (ROLE !== "agent") return;
  const offers = chats.filter((c) => c.status === "offered" && c.agent === ME);
  const mine = chats.filter((c) => c.status === "connected" && c.agent === ME);
  const waiting = chats.filter((c) => c.status === "queued");
  const fill = (id, list, extra, empty) => $(id).replaceChildren(...(list.length
    ? list.map((c) => chatButton(c, extra(c))) : [el("li", { class: "empty" }, empty)]));
  fill("offers", offers, (c) => `waiting ${since(c.queued_at ?? c.opened_at)}`, "No offers.");
  fill("mine", mine, (c) => transferOffers.has(c.id) ? "transfer pending" : "", "No chats.");
  fill("waiting", waiting, (c) => `waiting ${since(c.queued_at ?? c.opened_at)}`, "Nobody is waiting.");
}

async function loadChats() {
  const [ongoing, upcoming] = await Promise.all([
    api("GET", "/api/v1/chats?status=ongoing"), api("GET", "/api/v1/chats?status=upcoming")]);
  chats = [...ongoing.chats, ...upcoming.chats];
  renderLists();
}

function agentChatControls(chat) {
  const mine = chat.agent === ME;
  $("accept").hidden = !((chat.status === "offered" && mine) || chat.status === "queued");
  $("accept").textContent = chat.status === "queued" ? "Take this chat" : "Accept";
  $("transfer").hidden = !(chat.status === "connected" && mine);
  $("end").hidden = !(chat.status === "connected" && mine);
  $("composer").hidden = !(chat.status === "connected" && mine);
  if (!$("composer").hidden) loadReplies(chat.id);
}

async function loadReplies(chatId) {
  const list = await api("GET", `/api/v1/replies?chat=${encodeURIComponent(chatId)}`);
  const replies = list.replies ?? list;
  $("replies").replaceChildren(el("option", { value: "" }, "Predefined replies…"),
    ...replies.map((r) => el("option", { value: r.id }, r.title)));
}

let segmentTimer;
function countSegments() {
  clearTimeout(segmentTimer);
  const body = $("body").value;
  if (!body) { $("segments").textContent = ""; return; }
  segmentTimer = setTimeout(() => guarded(async () => {
    const s = await api("POST", "/api/v1/sms/segments", { body });
    $("segments").textContent = `${s.segments} segment${s.segments === 1 ? "" : "s"} · ${s.encoding} · ${s.characters} characters`;
  }), 200);
}

async function openTransfer() {
  const [agents, queues] = await Promise.all([api("GET", "/api/v1/agents"), api("GET", "/api/v1/queues")]);
  const chat = chats.find((c) => c.id === selected);
  const options = [
    ...agents.agents.filter((a) => a.id !== ME && (!chat?.queue || a.queues.includes(chat.queue))).map((a) =>
      el("option", { value: `agent:${a.id}` }, `${a.name} (${a.status}, ${a.active}/${a.capacity} chats)`)),
    ...queues.queues.map((q) =>
      el("option", { value: `queue:${q.id}` }, `Queue ${q.name} (${q.agents_available} available)`)),
  ];
  $("transfer-target").replaceChildren(...options);
  $("transfer-note").value = "";
  $("transfer-dialog").showModal();
}

async function transfer() {
  const [kind, id] = $("transfer-target").value.split(":");
  const body = { note: $("transfer-note").value };
  if (kind === "agent") body.to_agent = id; else body.to_queue = id;
  await api("POST", `/api/v1/chats/${encodeURIComponent(selected)}/transfer`, body);
  notify("Transfer asked; the chat stays yours until it is accepted.");
}

function transferOffer(event) {
  transferOffers.set(event.chat_id, event);
  beep();
  const answer = (accept) => guarded(async () => {
    await api("POST", `/api/v1/chats/${encodeURIComponent(event.chat_id)}/transfer/${accept ? "accept" : "decline"}`);
    transferOffers.delete(event.chat_id);
    clearNotice();
    await loadChats();
    if (accept) await showChat(event.chat_id);
  });
  notify(`${event.from} asks you to take over a chat${event.note ? ": " + event.note : ""}`, "info", [
    el("button", { type: "button", class: "primary", onclick: () => answer(true) }, "Take it"),
    el("button", { type: "button", onclick: () => answer(false) }, "Decline"),
  ]);
}

async function loadStats() {
  const s = await api("GET", "/api/v1/me/stats");
  const min = (sec) => `${Math.round(sec / 60)} min`;
  $("stats").textContent = `Today: ${s.mine.answered} answered, ${min(s.mine.average_seconds)} on average · `
    + `team average: ${s.team_average.answered} answered, ${min(s.team_average.average_seconds)}`;
}

function startAgent() {
  $("accept").addEventListener("click", () => guarded(async () => {
    await api("POST", `/api/v1/chats/${encodeURIComponent(selected)}/accept`);
    clearNotice();
    await loadChats(); await showChat(selected);
  }));
  $("end").addEventListener("click", () => guarded(async () => {
    if (!confirm("End this chat? The consumer gets the closing message.")) return;
    await api("POST", `/api/v1/chats/${encodeURIComponent(selected)}/end`);
    await loadChats(); await showChat(selected); await loadStats();
  }));
  $("transfer").addEventListener("click", () => guarded(openTransfer));
  $("transfer-cancel").addEventListener("click", () => $("transfer-dialog").close());
  $("transfer-form").addEventListener("submit", (e) => { e.preventDefault(); $("transfer-dialog").close(); guarded(transfer); });
  $("body").addEventListener("input", countSegments);
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(async () => {
      const body = $("body").value.trim();
      if (!body) return;
      $("send").disabled = true;
      try { await api("POST", `/api/v1/chats/${encodeURIComponent(selected)}/messages`, { body }); }
      finally { $("send").disabled = false; }
      $("body").value = ""; countSegments();
      await showChat(selected);
    });
  });
  $("replies").addEventListener("change", () => guarded(async () => {
    const id = $("replies").value;
    if (!id) return;
    $("replies").value = "";
    await api("POST", `/api/v1/chats/${encodeURIComponent(selected)}/replies/${encodeURIComponent(id)}`);
    await showChat(selected);
  }));
  $("start-number").replaceChildren(...NUMBERS.map((n) => el("option", { value: n }, n)));
  $("start-chat").addEventListener("click", () => $("start-dialog").showModal());
  $("start-cancel").addEventListener("click", () => $("start-dialog").close());
  $("start-form").addEventListener("submit", (e) => {
    e.preventDefault();
    $("start-dialog").close();
    guarded(async () => {
      const ack = await api("POST", "/api/v1/outbound/chats", {
        end_user_number: $("start-phone").value.trim(), outbound_number: $("start-number").value,
        message: $("start-body").value,
      });
      $("start-body").value = "";
      notify(ack.status === "scheduled" ? `Scheduled for ${new Date(ack.send_at).toLocaleString()} (quiet hours).` : "Sent.");
      await loadChats();
      if (ack.chat) await showChat(ack.chat.id);
    });
  });
  const status = $("status");
  status?.addEventListener("change", () => guarded(async () => {
    await api("PUT", "/api/v1/me/status", { status: status.value });
    await loadChats();
  }));
  api("GET", "/api/v1/me").then((me) => { if (status && me.status) status.value = me.status; });
  guarded(loadChats); guarded(loadStats);
  setInterval(renderLists, 15000); // waiting times move on
}

function onAgentEvent(kind, event) {
  if (kind === "chat.offered" && event.agent === ME) {
    beep();
    notify(`New chat offered: ${event.queue ?? "a queue"}`, "info", [
      el("button", { type: "button", class: "primary", onclick: () => guarded(() => showChat(event.chat_id)) }, "Open"),
    ]);
  }
  if (kind === "chat.transfer_started" && event.to === ME) transferOffer(event);
  if (kind === "message" && event.direction === "in" && event.chat_id && event.chat_id !== selected) {
    unread.set(event.chat_id, (unread.get(event.chat_id) ?? 0) + 1);
  }
}

// ---------------------------------------------------------------------------------------------------
// Supervisors and admins: agents, queues and chats.

let tab = "ongoing";

async function loadMonitor() {
  const [agents, queues, list] = await Promise.all([
    api("GET", "/api/v1/agents"), api("GET", "/api/v1/queues"), api("GET", `/api/v1/chats?status=${tab}&limit=200`)]);
  $("agents").replaceChildren(...agents.agents.map((a) => el("tr", {},
    el("th", { scope: "row" }, a.name), el("td", { class: `status-${a.status}` }, a.status),
    el("td", {}, `${a.active}/${a.capacity}`),
    el("td", {}, ...a.chats.map((id) => el("button", { type: "button", onclick: () => guarded(() => showChat(id)) }, "open"))))));
  $("queues").replaceChildren(...queues.queues.map((q) => el("tr", {},
    el("th", { scope: "row" }, `${q.name}${q.open ? "" : " (closed)"}`), el("td", {}, String(q.waiting)),
    el("td", {}, String(q.offered)), el("td", {}, String(q.connected)), el("td", {}, String(q.ended_today)),
    el("td", {}, Object.entries(q.by_start_type).map(([k, v]) => `${k.replaceAll("_", " ")}: ${v}`).join(", ")))));
  $("chat-rows").replaceChildren(...list.chats.map((c) => el("tr", {},
    el("td", {}, el("button", { type: "button", onclick: () => guarded(() => showChat(c.id)) }, c.consumer)),
    el("td", {}, c.queue ?? "menu"), el("td", {}, c.status), el("td", {}, c.agent ?? ""),
    el("td", {}, c.start_type?.replaceAll("_", " ") ?? ""), el("td", {}, c.language ?? ""),
    el("td", {}, new Date(c.opened_at).toLocaleString()))));
}

function startMonitor() {
  for (const b of document.querySelectorAll(".tabs button")) {
    b.addEventListener("click", () => {
      tab = b.dataset.status;
      for (const o of document.querySelectorAll(".tabs button")) o.setAttribute("aria-selected", String(o === b));
      guarded(loadMonitor);
    });
  }
  guarded(loadMonitor);
}

// ---------------------------------------------------------------------------------------------------
// Live updates: one EventSource; the browser reconnects by itself and resends Last-Event-ID, so a
// dropped connection loses nothing. Lists are reloaded (debounced) on any event of a visible chat.

const KINDS = ["message", "message.status", "agent.status", "consumer.opted_out", "chat.opened", "chat.queued",
  "chat.offered", "chat.offer_withdrawn", "chat.offer_timed_out", "chat.connected", "chat.ended",
  "chat.started_outbound", "chat.transfer_started", "chat.transfer_failed", "chat.transfer_ended",
  "chat.back_to_menu", "chat.language_changed", "chat.after_hours", "chat.reply_timed_out", "chat.overflowed",
  "chat.inactivity_warning", "chat.menu_sent"];

let refreshTimer;
function refreshSoon(chatId) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => guarded(async () => {
    if (ROLE === "agent") await loadChats();
    else if ($("agents")) await loadMonitor();
    if (selected && (!chatId || chatId === selected)) await showChat(selected);
  }), 150);
}

function listen() {
  const source = new EventSource("/api/v1/events", { withCredentials: true });
  for (const kind of KINDS) {
    source.addEventListener(kind, (m) => {
      const event = JSON.parse(m.data);
      if (ROLE === "agent") onAgentEvent(kind, event);
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

if ($("workspace")) startAgent();
if ($("monitor")) startMonitor();
listen();
