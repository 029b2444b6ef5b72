// Parley admin page: numbers, the setup (forms and the JSON document), users and tokens. Loaded after
// console.js on the admin page only; it uses console.js's helpers (api, el, notify, guarded).
"use strict";

async function loadAdmin() {
  const [numbers, setup] = await Promise.all([api("GET", "/api/v1/numbers"), api("GET", "/api/v1/setup")]);
  const STATES = ["requested", "in_review", "enabled", "rejected", "suspended"];
  $("numbers").replaceChildren(...numbers.map((n) => {
    const state = el("select", { "aria-label": `State of ${n.number}` },
      ...STATES.map((s) => el("option", { value: s, selected: s === n.state }, s.replaceAll("_", " "))));
    state.addEventListener("change", () => guarded(async () => {
      const reason = prompt(`Why does ${n.number} become ${state.value}? (kept in its history)`) ?? "";
      await api("PUT", `/api/v1/numbers/${encodeURIComponent(n.number)}/state`, { state: state.value, reason: reason || null });
      notify(`${n.number} is ${state.value} now.`);
      await loadAdmin();
    }));
    const missing = n.registration?.missing?.length ? ` (registration lacks: ${n.registration.missing.join(", ")})` : "";
    return el("tr", {},
      el("th", { scope: "row" }, n.number), el("td", {}, n.label ?? ""), el("td", {}, n.type ?? ""),
      el("td", {}, state, missing), el("td", {}, (n.queues ?? []).join(", ")));
  }));
  $("setup").value = JSON.stringify(setup, null, 2);
  setupDoc = setup;
  renderSettings();
  await loadUsers();
}

// The chat settings and the system messages are edited as parts of the setup document and saved whole.
let setupDoc = null;
const TIMERS = [
  ["offer_timeout_seconds", "Offer timeout (seconds)"], ["inactivity_warning_minutes", "Inactivity warning after (minutes)"],
  ["inactivity_close_minutes", "Close after the warning (minutes)"], ["session_expiration_minutes", "Session expires after (minutes)"],
  ["queue_wait_minutes", "Longest wait in a queue (minutes)"], ["agent_response_minutes", "Agent must answer within (minutes)"],
];
const COMMANDS = [["end", "End the chat"], ["back", "Back"], ["menu", "Menu"], ["agent", "Agent"], ["language", "Language (LANG xx)"]];

function renderSettings() {
  const s = setupDoc.settings ?? {};
  $("timer-fields").replaceChildren(...TIMERS.map(([key, label]) => el("label", {}, label,
    el("input", { type: "number", min: "0", id: `timer-${key}`, value: String(s.timers?.[key] ?? "") }))));
  $("command-fields").replaceChildren(...COMMANDS.map(([key, label]) => el("label", {}, label,
    el("input", { id: `command-${key}`, value: (s.commands?.[key] ?? []).join(", ") }))));
  $("sms-chat").checked = s.sms_chat !== false;
  $("detect-language").checked = s.language_detection?.enabled !== false;
  $("min-confidence").value = String(s.language_detection?.min_confidence ?? 0.7);
  const languages = [s.language ?? "en", ...Object.keys(s.languages ?? {})];
  const current = $("texts-language").value || languages[0];
  $("texts-language").replaceChildren(...languages.map((l, i) =>
    el("option", { value: l, selected: l === current }, i === 0 ? `${l} (the deployment's)` : l)));
  renderTexts();
}

function renderTexts() {
  const s = setupDoc.settings ?? {};
  const base = s.messages ?? {};
  const language = $("texts-language").value;
  const own = language === (s.language ?? "en") ? base : (s.languages?.[language]?.messages ?? {});
  $("text-fields").replaceChildren(...Object.keys(base).map((name) => el("label", {}, name,
    el("textarea", { "data-text": name, placeholder: own === base ? "" : base[name] }, own[name] ?? ""))));
}

async function saveSetup(change, done) {
  const doc = structuredClone(setupDoc);
  change(doc);
  await api("PUT", "/api/v1/setup", doc);
  // The forms are filled in again from the stored setup before the notice says it is done.
  await loadAdmin();
  notify(done);
}

async function loadUsers() {
  const users = await api("GET", "/api/v1/users");
  $("users").replaceChildren(...(users.users ?? users).map((u) => el("tr", {},
    el("th", { scope: "row" }, u.username), el("td", {}, u.role),
    el("td", {}, u.agent ?? (u.teams ?? []).join(", ")), el("td", {}, u.disabled ? "disabled" : "active"))));
}

function startAdmin() {
  $("setup-reload").addEventListener("click", () => guarded(loadAdmin));
  $("setup-save").addEventListener("click", () => guarded(async () => {
    $("setup-errors").replaceChildren();
    let doc;
    try { doc = JSON.parse($("setup").value); } catch (e) { throw new ApiError(`The document is not JSON: ${e.message}`); }
    const res = await fetch("/api/v1/setup", {
      method: "PUT", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF }, body: JSON.stringify(doc),
    });
    const body = await res.json();
    if (!res.ok) {
      const details = body.error?.details ?? [];
      $("setup-errors").replaceChildren(...(details.length ? details : [body.error?.message]).map((d) =>
        el("li", {}, typeof d === "string" ? d : (d.message ?? JSON.stringify(d)))));
      throw new ApiError("The setup was not saved: fix the problems listed below the editor.");
    }
    notify("Setup saved.");
    await loadAdmin();
  }));
  $("texts-language").addEventListener("change", renderTexts);
  $("settings-form").addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(() => saveSetup((doc) => {
      doc.settings ??= {};
      doc.settings.timers = Object.fromEntries(TIMERS.map(([key]) => [key, Number($(`timer-${key}`).value || 0)]));
      doc.settings.commands = Object.fromEntries(COMMANDS.map(([key]) =>
        [key, $(`command-${key}`).value.split(",").map((w) => w.trim()).filter(Boolean)]));
      doc.settings.sms_chat = $("sms-chat").checked;
      doc.settings.language_detection = { enabled: $("detect-language").checked, min_confidence: Number($("min-confidence").value) };
    }, "Chat settings saved."));
  });
  $("texts-form").addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(() => saveSetup((doc) => {
      const s = doc.settings ??= {};
      const language = $("texts-language").value;
      const texts = Object.fromEntries([...document.querySelectorAll("#text-fields textarea")]
        .map((t) => [t.dataset.text, t.value]).filter(([, text]) => text.trim() !== ""));
      if (language === (s.language ?? "en")) s.messages = texts;
      else {
        s.languages ??= {};
        s.languages[language] ??= {};
        s.languages[language].messages = texts;
      }
    }, `Messages (${$("texts-language").value}) saved.`));
  });
  $("user-form").addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(async () => {
      const role = $("user-role").value;
      await api("POST", "/api/v1/users", {
        username: $("user-name").value.trim(), role, password: $("user-password").value,
        agent: role === "agent" ? $("user-agent").value.trim() || null : null,
        teams: role === "supervisor" ? $("user-teams").value.split(",").map((t) => t.trim()).filter(Boolean) : [],
      });
      $("user-password").value = "";
      notify("User added.");
      await loadUsers();
    });
  });
  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(async () => {
      const agent = $("token-agent").value.trim();
      const t = await api("POST", "/api/v1/tokens", agent ? { agent } : {});
      $("token-out").replaceChildren("New token (shown once): ", el("code", {}, t.token));
    });
  });
  guarded(loadAdmin);
}

startAdmin();
