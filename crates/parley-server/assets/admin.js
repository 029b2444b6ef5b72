// Parley admin page: a form for every object of the setup (numbers, queues, agents, teams, predefined
// replies, campaigns, brands), the chat settings and system messages, the blocklist, users and API keys; the whole
// setup document stays editable as JSON for experts. Loaded after console.js on the admin page only;
// it uses console.js's helpers ($, el, api, guarded, ApiError, CSRF).
//
// Every setup form changes one object in a copy of the document and PUTs the whole document, so the
// server checks it as a whole and nothing changes unless it is valid. A refusal (422) lists problems
// whose `field` is a JSON Pointer into the submitted document; each is shown next to the input it
// points at, and whatever cannot be placed is shown in the form's own error area. Feedback always
// appears next to the form that caused it, never only in the banner at the top.
"use strict";

// One block: the page's names stay its own, so a name console.js adds later cannot clash with them.
{
let setupDoc = null;   // the setup as the server last answered it
let users = [];        // the console users

// ---------------------------------------------------------------------------------------------------
// Small helpers.

const getPath = (o, path) => path.split(".").reduce((v, k) => (v === undefined || v === null ? undefined : v[k]), o);

function setPath(o, path, value) {
  const keys = path.split(".");
  const last = keys.pop();
  let target = o;
  for (const k of keys) {
    if (typeof target[k] !== "object" || target[k] === null) target[k] = {};
    target = target[k];
  }
  if (value === undefined) delete target[last]; else target[last] = value;
}

/// Removes the objects at `paths` that were left empty (no timers, no hours, no address...).
function prune(o, paths) {
  for (const path of paths) {
    const v = getPath(o, path);
    if (v && typeof v === "object" && !Array.isArray(v) && Object.values(v).every((x) => x === undefined
      || (Array.isArray(x) && x.length === 0) || (typeof x === "object" && x !== null && Object.keys(x).length === 0))) {
      setPath(o, path, undefined);
    }
  }
}

const words = (text) => text.split(",").map((w) => w.trim()).filter(Boolean);
const lines = (text) => text.split("\n").map((w) => w.trim()).filter(Boolean);
const nameOf = (list, id) => list?.find((x) => x.id === id)?.name || id;
const queueName = (id) => nameOf(setupDoc?.queues, id);
const agentName = (id) => nameOf(setupDoc?.agents, id);
const teamName = (id) => nameOf(setupDoc?.teams, id);

function deploymentLanguage() { return setupDoc?.settings?.language ?? "en"; }
function otherLanguages() { return Object.keys(setupDoc?.settings?.languages ?? {}); }
function languageName(tag) { return setupDoc?.settings?.languages?.[tag]?.name || tag; }
function languageOptions() {
  return [deploymentLanguage(), ...otherLanguages()].map((t) => [t, t === deploymentLanguage() ? `${t} (the deployment's)` : `${languageName(t)} (${t})`]);
}

/// Shows `message` in a section's feedback line and brings it into view.
function feedback(id, message, kind = "ok") {
  const box = $(id);
  box.className = kind === "error" ? "feedback error" : "feedback ok";
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  box.replaceChildren(...[message].flat());
  box.scrollIntoView({ block: "nearest" });
}

/// PUTs a whole setup document. Resolves to `{ok, doc}` or, when refused, to `{ok: false, message,
/// details}`; only a failure to reach the server rejects.
async function putSetup(doc) {
  const res = await fetch("/api/v1/setup", {
    method: "PUT", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF }, body: JSON.stringify(doc),
  });
  if (res.status === 401) {
    location.href = "/login?next=" + encodeURIComponent(location.pathname);
    throw new ApiError("your session has ended");
  }
  const body = await res.json().catch(() => null);
  if (res.ok) return { ok: true, doc: body };
  return {
    ok: false, message: body?.error?.message ?? `${res.status} ${res.statusText}`,
    details: Array.isArray(body?.error?.details) ? body.error.details : [],
  };
}

/// The tokens of a JSON Pointer ("/agents/0/capacity" → ["agents", "0", "capacity"]).
function pointer(p) {
  if (typeof p !== "string" || !p.startsWith("/")) return null;
  return p.slice(1).split("/").map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
}

// ---------------------------------------------------------------------------------------------------
// Fields: one description per input, read from and written to an object by a dotted path.
//
// kinds: text, number, int, check (a checkbox), tri (inherit / yes / no), select, checks (a list of
// checkboxes → an array), words (comma-separated → an array), lines (one per line → an array),
// textarea, pairs ("name: text" per line → an object).

const fieldId = (prefix, path) => `${prefix}-${path.replace(/[^A-Za-z0-9_]/g, "-")}`;

function renderField(f, value, prefix) {
  const id = fieldId(prefix, f.path);
  const errorId = `${id}-error`;
  const hintId = f.hint ? `${id}-hint` : null;
  const describedBy = [hintId].filter(Boolean).join(" ") || undefined;
  const hint = f.hint ? el("p", { class: "hint", id: hintId }, f.hint) : null;
  const error = el("p", { class: "field-error", id: errorId, hidden: true });
  let control;
  let box;
  if (f.kind === "check") {
    control = el("input", { type: "checkbox", id, checked: !!value, "aria-describedby": describedBy });
    box = el("div", { class: "field check" }, control, el("label", { for: id }, f.label), hint, error);
  } else if (f.kind === "checks") {
    const chosen = new Set(value ?? []);
    const options = f.options();
    control = el("fieldset", { class: "checks", id, "aria-describedby": describedBy },
      el("legend", {}, f.label),
      options.length ? options.map(([v, label], i) => {
        const oid = `${id}-${i}`;
        return el("span", { class: "choice" }, el("input", { type: "checkbox", id: oid, value: v, checked: chosen.has(v) }),
          el("label", { for: oid }, label));
      }) : el("span", { class: "empty" }, f.none ?? "None yet."));
    box = el("div", { class: "field" }, control, hint, error);
  } else {
    if (f.kind === "select" || f.kind === "tri") {
      const options = f.kind === "tri"
        ? [["", f.inherit ?? "As the deployment says"], ["true", "Yes"], ["false", "No"]]
        : [...(f.required || f.dflt ? [] : [["", f.empty ?? "(none)"]]), ...f.options()];
      // A field with a default shows it when the document leaves the value out.
      const current = value === undefined || value === null || value === "" ? (f.dflt ?? "") : String(value);
      // A value the options lack (typed in the JSON document) stays visible instead of vanishing.
      if (current && !options.some(([v]) => v === current)) options.push([current, current]);
      control = el("select", { id, "aria-describedby": describedBy, required: f.required },
        ...options.map(([v, label]) => el("option", { value: v, selected: v === current }, label)));
    } else if (["textarea", "lines", "pairs"].includes(f.kind)) {
      const text = f.kind === "lines" ? (value ?? []).join("\n")
        : f.kind === "pairs" ? Object.entries(value ?? {}).map(([k, v]) => `${k}: ${v}`).join("\n") : (value ?? "");
      control = el("textarea", { id, "aria-describedby": describedBy, required: f.required, maxlength: f.maxlength, minlength: f.minlength, rows: f.rows ?? 3 }, text);
    } else {
      const numeric = f.kind === "number" || f.kind === "int";
      const text = f.kind === "words" ? (value ?? []).join(", ") : (value ?? "");
      control = el("input", {
        id, type: numeric ? "number" : (f.type ?? "text"), value: String(text), required: f.required,
        min: f.min, max: f.max, step: f.kind === "int" ? "1" : (f.step ?? (numeric ? "any" : undefined)),
        pattern: f.pattern, maxlength: f.maxlength, minlength: f.minlength, placeholder: f.placeholder,
        readonly: f.readonly, autocomplete: "off", "aria-describedby": describedBy,
      });
    }
    box = el("div", { class: "field" }, el("label", { for: id }, f.label), control, hint, error);
  }
  if (f.title) control.title = f.title;
  return { f, control, error, box };
}

function readField({ f, control }) {
  switch (f.kind) {
    case "check": return control.checked;
    case "checks": {
      const chosen = [...control.querySelectorAll("input:checked")].map((i) => i.value);
      // Keep the order the list had (a number's menu order), new choices after it.
      const before = f.before ?? [];
      return [...before.filter((v) => chosen.includes(v)), ...chosen.filter((v) => !before.includes(v))];
    }
    case "tri": return control.value === "" ? undefined : control.value === "true";
    case "int": case "number": return control.value === "" ? undefined : Number(control.value);
    case "words": { const w = words(control.value); return w.length ? w : undefined; }
    case "lines": { const l = lines(control.value); return l.length ? l : undefined; }
    case "pairs": {
      const pairs = lines(control.value).map((l) => { const at = l.indexOf(":"); return at < 0 ? [l, ""] : [l.slice(0, at).trim(), l.slice(at + 1).trim()]; });
      return pairs.length ? Object.fromEntries(pairs) : undefined;
    }
    default: return control.value.trim() === "" ? undefined : control.value.trim();
  }
}

function showFieldError(field, message) {
  field.error.textContent = message;
  field.error.hidden = false;
  field.control.setAttribute("aria-invalid", "true");
  const ids = new Set((field.control.getAttribute("aria-describedby") ?? "").split(" ").filter(Boolean));
  ids.add(field.error.id);
  field.control.setAttribute("aria-describedby", [...ids].join(" "));
}

function clearFieldErrors(fields, formError) {
  for (const field of fields) {
    field.error.hidden = true;
    field.error.textContent = "";
    field.control.removeAttribute("aria-invalid");
    const ids = (field.control.getAttribute("aria-describedby") ?? "").split(" ").filter((i) => i && i !== field.error.id);
    if (ids.length) field.control.setAttribute("aria-describedby", ids.join(" ")); else field.control.removeAttribute("aria-describedby");
    if (field.control.setCustomValidity) field.control.setCustomValidity("");
  }
  formError.hidden = true;
  formError.replaceChildren();
}

/// The browser's own checks (required, min, max, pattern, length) and each field's `check`, shown next
/// to the fields. True when all pass.
function checkFields(fields, context) {
  let first = null;
  for (const field of fields) {
    let message = "";
    if (field.control.checkValidity && !field.control.checkValidity()) message = field.control.validationMessage;
    if (!message && field.f.check) message = field.f.check(readField(field), context) || "";
    if (!message && field.f.kind === "checks" && field.f.atLeastOne && readField(field).length === 0) message = field.f.atLeastOne;
    if (message) {
      showFieldError(field, message);
      first ??= field;
    }
  }
  first?.control.focus?.();
  return first === null;
}

/// Places a refusal's problems: each next to the field its pointer names (`place` maps pointer tokens
/// to a field), the rest, or the message when no problem names a field, in the form's error area.
function showProblems(refusal, fields, formError, place) {
  const unplaced = [];
  for (const d of refusal.details) {
    const tokens = pointer(d.field);
    const field = tokens && place(tokens);
    if (field) showFieldError(field, d.message ?? refusal.message); else unplaced.push(d.message ?? String(d));
  }
  const placed = refusal.details.length - unplaced.length;
  const text = placed ? unplaced : (unplaced.length ? unplaced : [refusal.message]);
  if (text.length) {
    formError.replaceChildren(el("strong", {}, placed ? "Also: " : "Not saved: "),
      ...(text.length === 1 ? [text[0]] : [el("ul", {}, ...text.map((t) => el("li", {}, t)))]));
    formError.hidden = false;
  }
  const firstBad = fields.find((f) => f.control.getAttribute("aria-invalid") === "true");
  (firstBad?.control ?? formError).scrollIntoView?.({ block: "nearest" });
  firstBad?.control.focus?.();
}

/// The field whose path is the longest prefix of `rest` (pointer tokens after the object).
function fieldAt(fields, rest) {
  let best = null;
  for (const field of fields) {
    const path = field.f.path.split(".");
    if (path.length <= rest.length && path.every((p, i) => p === rest[i]) && (!best || path.length > best.f.path.split(".").length)) best = field;
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------
// The objects of the setup: how each is listed, edited and what refers to it.

const queueOptions = (except) => (setupDoc.queues ?? []).filter((q) => q.id !== except).map((q) => [q.id, q.name || q.id]);
const agentOptions = () => (setupDoc.agents ?? []).map((a) => [a.id, a.name || a.id]);
const teamOptions = () => (setupDoc.teams ?? []).map((t) => [t.id, t.name || t.id]);
const plain = (values) => values.map((v) => [v, v.replaceAll("_", " ")]);
const ID_HINT = "Lower-case letters, digits, - _ and . (at most 64); it cannot change later, other objects refer to it.";
const ID = { path: "id", label: "Id", required: true, pattern: "[a-z0-9._\\-]{1,64}", maxlength: 64, hint: ID_HINT, title: "lower-case letters, digits, - _ and ." };
const USE_CASES = ["2fa", "account_notification", "customer_care", "delivery_notification", "fraud_alert", "higher_education",
  "low_volume", "marketing", "mixed", "polling_voting", "public_service_announcement", "security_alert"];
const VERTICALS = ["agriculture", "communication", "construction", "education", "energy", "entertainment", "financial", "gambling",
  "government", "healthcare", "hospitality", "insurance", "manufacturing", "ngo", "real_estate", "retail", "technology"];
const TIMERS = [
  ["offer_timeout_seconds", "Offer timeout (seconds)"], ["inactivity_warning_minutes", "Inactivity warning after (minutes)"],
  ["inactivity_close_minutes", "Close after the warning (minutes)"], ["session_expiration_minutes", "Session expires after (minutes)"],
  ["queue_wait_minutes", "Longest wait in a queue (minutes)"], ["agent_response_minutes", "Agent must answer within (minutes)"],
];
const DAYS = [["mon", "Monday"], ["tue", "Tuesday"], ["wed", "Wednesday"], ["thu", "Thursday"], ["fri", "Friday"], ["sat", "Saturday"], ["sun", "Sunday"]];
const RANGES = /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/;
const rangesCheck = (v) => (v ?? []).every((r) => RANGES.test(r)) ? "" : "Write opening times as HH:MM-HH:MM, comma-separated (e.g. 09:00-17:00).";
const wordsCheck = (v) => (v ?? []).every((w) => !/\s/.test(w)) ? "" : "One word each, comma-separated.";

function uniqueId(kind, key = "id") {
  return (value, { index }) => {
    if (!value) return "";
    const taken = (setupDoc[kind] ?? []).some((o, i) => i !== index && String(o[key]).toLowerCase() === String(value).toLowerCase());
    return taken ? `There is already one with ${key === "id" ? "the id" : "the number"} ${value}.` : "";
  };
}

const used = (list, test, what) => (list ?? []).filter(test).map(what);

const SETUP_KINDS = {
  numbers: {
    one: "number", key: "number", feedback: "numbers-feedback", groups: [],
    title: (o) => `${o.number}${o.label ? ` (${o.label})` : ""}`,
    fields: (o) => [
      { path: "number", label: "Number (E.164, or a short code)", required: true, pattern: "\\+[1-9][0-9]{1,14}|[0-9]{3,8}", placeholder: "+15550001000", readonly: !!o.number, check: uniqueId("numbers", "number"), hint: "E.164 starts with + and the country code." },
      { path: "label", label: "Label" },
      { path: "carrier", label: "Carrier account", required: true, placeholder: "sim", hint: "The name of a carrier account of the server's configuration (sim for the simulator)." },
      { path: "type", label: "Type", kind: "select", dflt: "long_code", options: () => [["long_code", "long code (enabled at once)"], ...plain(["us_10dlc", "toll_free", "short_code"])], hint: "10DLC, toll-free and short codes start requested and send nothing until enabled (the State column)." },
      { path: "queues", label: "Menu: the queues it offers", kind: "checks", options: () => queueOptions(), before: o.queues, none: "Add a queue first.",
        check: (v, { read }) => {
          const direct = !!read("agent");
          if (!direct && !(v ?? []).length) return "Pick at least one queue for the number's menu.";
          return direct && (v ?? []).length ? "A direct number has no menu: clear its queues (name a fallback queue instead)." : "";
        } },
      { path: "role", label: "What it is for", kind: "select", dflt: "both", options: () => [["both", "takes chats and sends"], ["incoming", "takes chats, never sends first"], ["outbound", "sends; a text to it gets the unmonitored message"]], group: "Role" },
      { path: "agent", label: "Direct number of", kind: "select", empty: "nobody (a menu number)", options: agentOptions, group: "Role", hint: "Every chat on a direct number goes to that agent, with their greeting and hours." },
      { path: "fallback_queue", label: "When that agent cannot take a chat, send it to", kind: "select", empty: "nowhere (it waits for them)", options: () => queueOptions(), group: "Role" },
      { path: "sessionless_reply", label: "A reply to a notification from it", kind: "select", dflt: "chat", options: () => [["chat", "opens a chat"], ["auto_reply", "gets the unmonitored message (no chat)"]], group: "Role" },
      { path: "sessionless_window_hours", label: "Replies count for (hours after a notification, 1 to 720; empty: 24)", kind: "int", min: "1", max: "720", group: "Role" },
      { path: "campaign", label: "Campaign", kind: "select", options: () => (setupDoc.campaigns ?? []).map((c) => [c.id, c.name || c.id]) },
      { path: "language", label: "Language of its messages", kind: "select", empty: "the deployment's", options: languageOptions },
      { path: "segments_per_second", label: "Most segments per second", kind: "number", min: "0.001", max: "1000" },
      { path: "segments_per_minute", label: "Most segments per minute", kind: "int", min: "1" },
      { path: "segments_per_day", label: "Most segments per day", kind: "int", min: "1" },
      { path: "opt_out_keywords", label: "Extra opt-out words (besides STOP...)", kind: "words", check: wordsCheck },
      { path: "opt_in_keywords", label: "Extra opt-in words (besides START...)", kind: "words", check: wordsCheck },
      { path: "help_keywords", label: "Extra help words (besides HELP, INFO)", kind: "words", check: wordsCheck },
    ],
    dependents: () => [],
  },
  queues: {
    one: "queue", key: "id", feedback: "queues-feedback", groups: ["timers", "hours", "dismissal"],
    // Hours with neither a time zone nor an opening time are no hours: the queue is always open.
    finish: (q) => {
      const h = q.hours;
      if (h && !h.time_zone && !DAYS.some(([d]) => h[d]?.length) && !h.closed_dates?.length) delete q.hours;
    },
    title: (o) => o.name || o.id,
    columns: ["Queue", "Keywords", "Menu of", "Hours", "Agents"],
    row: (q) => [q.name || q.id, (q.keywords ?? []).join(", "),
      [...used(setupDoc.numbers, (n) => (n.queues ?? []).includes(q.id), (n) => n.label || n.number),
        ...(q.parent ? [`under ${queueName(q.parent)}`] : [])].join(", ") || (q.hidden ? "hidden" : "—"),
      q.hours ? `${q.hours.time_zone}` : "always open",
      used(setupDoc.agents, (a) => (a.queues ?? []).includes(q.id), (a) => a.name || a.id).join(", ")],
    fields: (o) => [
      { ...ID, readonly: !!o.id, check: uniqueId("queues") },
      { path: "name", label: "Name (the menu shows it)", required: true, group: "Menu" },
      { path: "keywords", label: "Menu keywords (comma-separated, e.g. 1, BILLING)", kind: "words", group: "Menu" },
      { path: "parent", label: "Offered in the menu of", kind: "select", empty: "the numbers' menus", options: () => queueOptions(o.id), group: "Menu" },
      { path: "hidden", label: "Hidden from menus (reached by transfer or the API)", kind: "check", group: "Menu" },
      ...otherLanguages().flatMap((t) => [
        { path: `languages.${t}.name`, label: `Name in ${languageName(t)}`, group: "Languages" },
        { path: `languages.${t}.keywords`, label: `Keywords in ${languageName(t)}`, kind: "words", group: "Languages" },
      ]),
      { path: "language", label: "Language it serves in", kind: "select", empty: "any", options: languageOptions, group: "Languages" },
      { path: "strategy", label: "Who gets the next chat", kind: "select", dflt: "least_busy", options: () => [["least_busy", "the least busy agent"], ["longest_idle", "the agent idle the longest"]], group: "Routing" },
      { path: "auto_answer", label: "Connect chats without waiting for the agent to accept", kind: "check", group: "Routing" },
      { path: "overflow", label: "After the longest wait, move the chat to", kind: "select", empty: "nowhere (close it)", options: () => queueOptions(o.id), group: "Routing" },
      { path: "sms_chat", label: "Takes SMS chats", kind: "tri", inherit: "As the parent queue (or the deployment) says", group: "Routing" },
      { path: "agent_outbound", label: "Agents may start outbound SMS chats", kind: "tri", inherit: "As the parent queue (or the deployment) says", group: "Routing" },
      { path: "sticky_sender", label: "Chats the business starts go out from the number last used with the phone in this queue", kind: "tri", inherit: "Yes (the default)", group: "Routing" },
      { path: "announce_transfers", label: "Tell the consumer who took over after a transfer", kind: "check", group: "Routing" },
      { path: "consumer_number", label: "Agents see the consumer's number", kind: "select", empty: "as the parent queue (or the deployment) says", options: () => [["full", "in full"], ["last_four", "only the last four digits"], ["hidden", "not at all"]], group: "Privacy" },
      { path: "dismissal.after_minutes", label: "Dismiss a quiet chat after (minutes, 1 to 10080; empty: as the parent queue or the deployment)", kind: "int", min: "1", max: "10080", group: "Dismissal (instead of closing quiet chats)" },
      { path: "dismissal.notice_minutes_before", label: "Tell the consumer this many minutes before (empty: no notice)", kind: "int", min: "1", group: "Dismissal (instead of closing quiet chats)" },
      { path: "dismissal.by_agent", label: "The agent may dismiss by hand", kind: "tri", inherit: "Yes (the default)", group: "Dismissal (instead of closing quiet chats)" },
      { path: "dismissal.enabled", label: "Dismissal here", kind: "tri", inherit: "On when minutes are given", group: "Dismissal (instead of closing quiet chats)" },
      ...TIMERS.map(([k, label]) => ({ path: `timers.${k}`, label, kind: "int", min: "0", group: "Timers (empty: the deployment's; 0 turns one off)" })),
      { path: "hours.time_zone", label: "Time zone (IANA, e.g. America/New_York)", group: "Business hours (none: always open)", check: (v, { read }) => !v && DAYS.some(([d]) => read(`hours.${d}`)?.length) ? "Give the time zone of the opening times." : "" },
      ...DAYS.map(([d, label]) => ({ path: `hours.${d}`, label: `${label} (e.g. 09:00-17:00)`, kind: "words", check: rangesCheck, group: "Business hours (none: always open)" })),
      { path: "hours.closed_dates", label: "Closed on (YYYY-MM-DD, comma-separated)", kind: "words", group: "Business hours (none: always open)", check: (v) => (v ?? []).every((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)) ? "" : "Write dates as YYYY-MM-DD." },
      { path: "hours.after_hours", label: "A chat after hours", kind: "select", dflt: "keep_queued", options: () => [["keep_queued", "waits for the opening"], ["close", "is closed with a message"]], group: "Business hours (none: always open)" },
      { path: "messages", label: "The queue's own system messages (one per line, name: text)", kind: "pairs", rows: 4, group: "Messages", hint: "Names such as queued or connected, listed under System messages." },
    ],
    dependents: (q) => [
      ...used(setupDoc.numbers, (n) => (n.queues ?? []).includes(q.id), (n) => `the menu of ${n.label || n.number}`),
      ...used(setupDoc.queues, (x) => x.parent === q.id, (x) => `queue ${x.name || x.id} (its parent)`),
      ...used(setupDoc.queues, (x) => x.overflow === q.id, (x) => `queue ${x.name || x.id} (its overflow)`),
      ...used(setupDoc.agents, (a) => (a.queues ?? []).includes(q.id), (a) => `agent ${a.name || a.id}`),
      ...used(setupDoc.teams, (t) => (t.queues ?? []).includes(q.id), (t) => `team ${t.name || t.id}`),
      ...used(setupDoc.replies, (r) => (r.queues ?? []).includes(q.id), (r) => `reply ${r.title || r.id}`),
    ],
  },
  agents: {
    one: "agent", key: "id", feedback: "agents-feedback", groups: ["hours"],
    // Hours with neither a time zone nor an opening time are no hours: the agent is always there.
    finish: (a) => {
      const h = a.hours;
      if (h && !h.time_zone && !DAYS.some(([d]) => h[d]?.length) && !h.closed_dates?.length) delete a.hours;
    },
    title: (o) => o.name || o.id,
    columns: ["Agent", "Queues", "Capacity", "Languages", "Teams"],
    row: (a) => [a.name || a.id, (a.queues ?? []).map(queueName).join(", "), String(a.capacity ?? 3),
      (a.languages ?? []).map(languageName).join(", ") || languageName(deploymentLanguage()),
      used(setupDoc.teams, (t) => (t.members ?? []).includes(a.id), (t) => t.name || t.id).join(", ")],
    fields: (o) => [
      { ...ID, readonly: !!o.id, check: uniqueId("agents") },
      { path: "name", label: "Name", required: true },
      { path: "queues", label: "Queues they serve", kind: "checks", options: () => queueOptions(), before: o.queues },
      { path: "capacity", label: "Chats at once (1 to 50)", kind: "int", min: "1", max: "50", required: true },
      { path: "languages", label: "Languages they write", kind: "checks", options: languageOptions, before: o.languages, hint: "None: the deployment's language." },
      { path: "greeting", label: "Greeting on their direct numbers", kind: "textarea", rows: 2, group: "Direct numbers", hint: "Placeholders: {agent_first_name}, {agent}, {brand}, {end_command}. Empty: the direct_greeting message." },
      { path: "direct_numbers", label: "Direct numbers they may have", kind: "select", dflt: "one", options: () => [["one", "at most one"], ["several", "several"]], group: "Direct numbers" },
      { path: "hours.time_zone", label: "Time zone (IANA, e.g. America/New_York)", group: "Hours on direct numbers (none: always)", check: (v, { read }) => !v && DAYS.some(([d]) => read(`hours.${d}`)?.length) ? "Give the time zone of the opening times." : "" },
      ...DAYS.map(([d, label]) => ({ path: `hours.${d}`, label: `${label} (e.g. 09:00-17:00)`, kind: "words", check: rangesCheck, group: "Hours on direct numbers (none: always)" })),
      { path: "hours.closed_dates", label: "Away on (YYYY-MM-DD, comma-separated)", kind: "words", group: "Hours on direct numbers (none: always)", check: (v) => (v ?? []).every((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)) ? "" : "Write dates as YYYY-MM-DD." },
      { path: "hours.after_hours", label: "A chat after hours", kind: "select", dflt: "keep_queued", options: () => [["keep_queued", "waits for them"], ["close", "is closed with a message"]], group: "Hours on direct numbers (none: always)" },
    ],
    blank: () => ({ capacity: 3 }),
    dependents: (a) => [
      ...used(setupDoc.teams, (t) => (t.members ?? []).includes(a.id), (t) => `team ${t.name || t.id}`),
      ...used(users, (u) => u.agent === a.id, (u) => `user ${u.username}`),
    ],
  },
  teams: {
    one: "team", key: "id", feedback: "teams-feedback", groups: [],
    title: (o) => o.name || o.id,
    columns: ["Team", "Members", "Queues"],
    row: (t) => [t.name || t.id, (t.members ?? []).map(agentName).join(", "), (t.queues ?? []).map(queueName).join(", ")],
    fields: (o) => [
      { ...ID, readonly: !!o.id, check: uniqueId("teams") },
      { path: "name", label: "Name", required: true },
      { path: "members", label: "Members", kind: "checks", options: agentOptions, before: o.members, none: "Add an agent first." },
      { path: "queues", label: "Queues every member serves", kind: "checks", options: () => queueOptions(), before: o.queues },
    ],
    dependents: (t) => [
      ...used(setupDoc.replies, (r) => (r.teams ?? []).includes(t.id), (r) => `reply ${r.title || r.id}`),
      ...used(users, (u) => (u.teams ?? []).includes(t.id), (u) => `supervisor ${u.username}`),
    ],
  },
  replies: {
    one: "reply", key: "id", feedback: "replies-feedback", groups: [],
    title: (o) => o.title || o.id,
    columns: ["Reply", "Shortcut", "Category", "For"],
    row: (r) => [r.title || r.id, r.shortcut ?? "", r.category ?? "",
      [...(r.queues ?? []).map(queueName), ...(r.teams ?? []).map(teamName)].join(", ") || "every agent"],
    fields: (o) => [
      { ...ID, readonly: !!o.id, check: uniqueId("replies") },
      { path: "title", label: "Title (agents see it in the list)", required: true },
      { path: "shortcut", label: "Shortcut (one word)", required: true, pattern: "\\S+", title: "one word",
        check: (v, { index }) => v && (setupDoc.replies ?? []).some((r, i) => i !== index && (r.shortcut ?? "").toLowerCase() === v.toLowerCase()) ? `Another reply has the shortcut ${v}.` : "" },
      { path: "category", label: "Category (e.g. Greetings)" },
      { path: "text", label: "Text (at most 1,600 characters)", kind: "textarea", required: true, maxlength: "1600", rows: 4, hint: "Placeholders: {agent_first_name}, {agent}, {queue}, {brand}, {consumer_last_four}." },
      { path: "queues", label: "For the agents of", kind: "checks", options: () => queueOptions(), before: o.queues, hint: "Neither queues nor teams: for every agent." },
      { path: "teams", label: "For the members of", kind: "checks", options: teamOptions, before: o.teams },
      { path: "opt_in", label: "The opt-in message agent-started chats open with", kind: "check" },
    ],
    dependents: () => [],
  },
  campaigns: {
    one: "campaign", key: "id", feedback: "campaigns-feedback", groups: [],
    title: (o) => o.name || o.id,
    columns: ["Campaign", "Brand", "Use case", "Numbers"],
    row: (c) => [c.name || c.id, c.brand ? nameOf((setupDoc.brands ?? []).map((b) => ({ id: b.id, name: b.legal_name })), c.brand) : "",
      (c.use_case ?? "").replaceAll("_", " "), used(setupDoc.numbers, (n) => n.campaign === c.id, (n) => n.label || n.number).join(", ")],
    fields: (o) => [
      { ...ID, readonly: !!o.id, check: uniqueId("campaigns") },
      { path: "name", label: "Name", required: true },
      { path: "segments_per_second", label: "Most segments per second, all its numbers together", kind: "number", min: "0.001", max: "1000", group: "Limits" },
      { path: "segments_per_minute", label: "Most segments per minute", kind: "int", min: "1", group: "Limits" },
      { path: "segments_per_day", label: "Most segments per day", kind: "int", min: "1", group: "Limits" },
      { path: "brand", label: "Brand", kind: "select", options: () => (setupDoc.brands ?? []).map((b) => [b.id, b.legal_name || b.id]), group: "Registration (may stay a draft)" },
      { path: "use_case", label: "Use case", kind: "select", options: () => plain(USE_CASES), group: "Registration (may stay a draft)" },
      { path: "description", label: "Description (40 to 4,096 characters)", kind: "textarea", minlength: "40", maxlength: "4096", group: "Registration (may stay a draft)" },
      { path: "sample_messages", label: "Sample messages (1 to 5, one per line, 20 to 1,024 characters each)", kind: "lines", rows: 4, group: "Registration (may stay a draft)",
        check: (v) => (v ?? []).length > 5 ? "At most 5 sample messages." : (v ?? []).some((m) => m.length < 20 || m.length > 1024) ? "Each sample message has 20 to 1,024 characters." : "" },
      { path: "opt_in_flow", label: "How consumers consent (40 to 2,048 characters)", kind: "textarea", minlength: "40", maxlength: "2048", group: "Registration (may stay a draft)" },
      { path: "opt_in_keywords", label: "Opt-in keywords", kind: "words", check: wordsCheck, group: "Registration (may stay a draft)" },
      { path: "opt_in_message", label: "Opt-in message (20 to 255 characters)", kind: "textarea", minlength: "20", maxlength: "255", group: "Registration (may stay a draft)" },
      { path: "opt_out_keywords", label: "Opt-out keywords", kind: "words", check: wordsCheck, group: "Registration (may stay a draft)" },
      { path: "opt_out_message", label: "Opt-out message (20 to 255 characters)", kind: "textarea", minlength: "20", maxlength: "255", group: "Registration (may stay a draft)" },
      { path: "help_keywords", label: "Help keywords", kind: "words", check: wordsCheck, group: "Registration (may stay a draft)" },
      { path: "help_message", label: "Help message (20 to 255 characters)", kind: "textarea", minlength: "20", maxlength: "255", group: "Registration (may stay a draft)" },
      { path: "expected_volume", label: "Messages a month", kind: "int", min: "1", group: "Registration (may stay a draft)" },
    ],
    dependents: (c) => used(setupDoc.numbers, (n) => n.campaign === c.id, (n) => `number ${n.label || n.number}`),
  },
  brands: {
    one: "brand", key: "id", feedback: "brands-feedback", groups: ["address", "contact"],
    title: (o) => o.legal_name || o.id,
    columns: ["Brand", "Vertical", "Website", "Campaigns"],
    row: (b) => [b.legal_name || b.id, (b.vertical ?? "").replaceAll("_", " "), b.website ?? "",
      used(setupDoc.campaigns, (c) => c.brand === b.id, (c) => c.name || c.id).join(", ")],
    fields: (o) => [
      { ...ID, readonly: !!o.id, check: uniqueId("brands") },
      { path: "legal_name", label: "Legal name", required: true },
      { path: "tax_id", label: "Tax id (a US EIN: NN-NNNNNNN)" },
      { path: "tax_id_country", label: "Country of the tax id (e.g. US)", pattern: "[A-Z]{2}", maxlength: "2", title: "two capital letters" },
      { path: "vertical", label: "Vertical", kind: "select", options: () => plain(VERTICALS) },
      { path: "website", label: "Website (https://...)", type: "url" },
      { path: "address.street", label: "Street", group: "Address" },
      { path: "address.city", label: "City", group: "Address" },
      { path: "address.region", label: "State or province (US: two letters)", group: "Address" },
      { path: "address.postal_code", label: "Postal code", group: "Address" },
      { path: "address.country", label: "Country (e.g. US)", pattern: "[A-Z]{2}", maxlength: "2", title: "two capital letters", group: "Address" },
      { path: "contact.name", label: "Name", group: "Contact" },
      { path: "contact.email", label: "Email", type: "email", group: "Contact" },
      { path: "contact.phone", label: "Phone (E.164)", pattern: "\\+[1-9][0-9]{1,14}", title: "+ and the country code", group: "Contact" },
    ],
    dependents: (b) => used(setupDoc.campaigns, (c) => c.brand === b.id, (c) => `campaign ${c.name || c.id}`),
  },
};

// ---------------------------------------------------------------------------------------------------
// The editor dialog: one object's fields; saving checks them, changes the object in a copy of the
// document and PUTs it.

let editing = null; // { fields, save(values) → refusal or null, place(tokens) }

function openEditor({ title, fields, value, prefix, save, place }) {
  const rendered = fields.map((f) => renderField(f, getPath(value, f.path), prefix));
  const groups = new Map();
  const top = [];
  for (const r of rendered) {
    if (!r.f.group) { top.push(r.box); continue; }
    if (!groups.has(r.f.group)) groups.set(r.f.group, []);
    groups.get(r.f.group).push(r.box);
  }
  $("editor-title").textContent = title;
  $("editor-fields").replaceChildren(el("div", { class: "fields" }, ...top),
    ...[...groups].map(([legend, boxes]) => el("fieldset", { class: "group" }, el("legend", {}, legend), el("div", { class: "fields" }, ...boxes))));
  $("editor-errors").hidden = true;
  $("editor-errors").replaceChildren();
  editing = { fields: rendered, save, place: place ?? ((tokens) => fieldAt(rendered, tokens)) };
  $("editor").showModal();
  rendered.find((r) => !r.control.readOnly)?.control.focus?.();
}

async function submitEditor() {
  const { fields, save, place } = editing;
  clearFieldErrors(fields, $("editor-errors"));
  const read = (path) => { const f = fields.find((x) => x.f.path === path); return f ? readField(f) : undefined; };
  if (!checkFields(fields, { index: editing.index, read })) return;
  $("editor-save").disabled = true;
  try {
    const refusal = await save(read);
    if (refusal) showProblems(refusal, fields, $("editor-errors"), place);
    else {
      // Closing gives the focus back to the button that opened the editor, which may scroll: the
      // feedback is shown (and scrolled into view) after that.
      const after = editing.after;
      $("editor").close();
      after?.();
    }
  } catch (e) {
    $("editor-errors").replaceChildren(e.message);
    $("editor-errors").hidden = false;
  } finally {
    $("editor-save").disabled = false;
  }
}

/// Opens the editor for object `index` of `kind` (a new one when `index` is null).
function editObject(kind, index) {
  const k = SETUP_KINDS[kind];
  const list = setupDoc[kind] ?? [];
  const original = index === null ? (k.blank?.() ?? {}) : list[index];
  const at = index === null ? list.length : index;
  const fields = k.fields(original);
  openEditor({
    title: index === null ? `New ${k.one}` : `Edit ${k.one} ${k.title(original)}`,
    fields, value: original, prefix: `ed-${kind}`,
    place: (tokens) => tokens[0] === kind && tokens[1] === String(at) ? fieldAt(editing.fields, tokens.slice(2)) : null,
    save: async (read) => {
      const obj = structuredClone(original);
      for (const f of fields) setPath(obj, f.path, read(f.path));
      k.finish?.(obj);
      prune(obj, [...k.groups, ...otherLanguages().map((t) => `languages.${t}`), "languages"]);
      const doc = structuredClone(setupDoc);
      doc[kind] ??= [];
      doc[kind][at] = obj;
      const result = await putSetup(doc);
      if (!result.ok) return result;
      await loadAdmin();
      editing.after = () => feedback(k.feedback, `${k.one[0].toUpperCase()}${k.one.slice(1)} ${k.title(obj)} ${index === null ? "added" : "saved"}.`);
      return null;
    },
  });
  editing.index = index === null ? -1 : index;
}

async function deleteObject(kind, index) {
  const k = SETUP_KINDS[kind];
  const obj = setupDoc[kind][index];
  const refs = k.dependents(obj);
  const what = `${k.one} ${k.title(obj)}`;
  const question = refs.length
    ? `Delete ${what}? It is used by ${refs.join(", ")}.`
    : `Delete ${what}?`;
  if (!confirm(question)) return;
  const doc = structuredClone(setupDoc);
  doc[kind].splice(index, 1);
  const result = await putSetup(doc);
  if (!result.ok) {
    const problems = result.details.length ? result.details.map((d) => d.message) : [result.message];
    feedback(k.feedback, [`${what} was not deleted: ${problems.join("; ")}`,
      ...(refs.length ? [el("br"), `First change what refers to it: ${refs.join(", ")}.`] : [])], "error");
    return;
  }
  await loadAdmin();
  feedback(k.feedback, `Deleted ${what}.`);
}

function actions(kind, index, title) {
  return el("td", { class: "row-actions" },
    el("button", { type: "button", "aria-label": `Edit ${title}`, onclick: () => guarded(async () => editObject(kind, index)) }, "Edit"),
    el("button", { type: "button", class: "danger", "aria-label": `Delete ${title}`, onclick: () => guarded(() => deleteObject(kind, index)) }, "Delete"));
}

function renderKind(kind) {
  const k = SETUP_KINDS[kind];
  $(`${kind}-head`).replaceChildren(el("tr", {}, ...k.columns.map((c) => el("th", { scope: "col" }, c)), el("th", { scope: "col" }, "Actions")));
  const list = setupDoc[kind] ?? [];
  $(`${kind}-rows`).replaceChildren(...(list.length ? list.map((o, i) => {
    const [first, ...rest] = k.row(o);
    return el("tr", { "data-id": o[k.key] }, el("th", { scope: "row" }, first), ...rest.map((c) => el("td", {}, c)),
      actions(kind, i, `${k.one} ${k.title(o)}`));
  }) : [el("tr", {}, el("td", { colspan: String(k.columns.length + 1), class: "empty" }, `No ${kind} yet.`))]));
}

// ---------------------------------------------------------------------------------------------------
// Loading the page.

async function loadAdmin() {
  const [numbers, setup] = await Promise.all([api("GET", "/api/v1/numbers"), api("GET", "/api/v1/setup")]);
  setupDoc = setup;
  const STATES = ["requested", "in_review", "enabled", "rejected", "suspended"];
  $("numbers").replaceChildren(...numbers.map((n) => {
    const state = el("select", { "aria-label": `State of ${n.number}` },
      ...STATES.map((s) => el("option", { value: s, selected: s === n.state }, s.replaceAll("_", " "))));
    state.addEventListener("change", () => guarded(async () => {
      const reason = prompt(`Why does ${n.number} become ${state.value.replaceAll("_", " ")}? (kept in its history)`) ?? "";
      try {
        await api("PUT", `/api/v1/numbers/${encodeURIComponent(n.number)}/state`, { state: state.value, reason: reason || null });
      } catch (e) {
        feedback("numbers-feedback", `${n.number} keeps its state: ${e.message}`, "error");
        await loadAdmin();
        return;
      }
      await loadAdmin();
      feedback("numbers-feedback", `${n.number} is ${state.value.replaceAll("_", " ")} now.`);
    }));
    const missing = n.registration?.missing?.length ? ` (registration lacks: ${n.registration.missing.join(", ")})` : "";
    const index = (setup.numbers ?? []).findIndex((x) => x.number === n.number);
    const title = `number ${n.number}${n.label ? ` (${n.label})` : ""}`;
    return el("tr", { "data-id": n.number },
      el("th", { scope: "row" }, n.number), el("td", {}, n.label ?? ""), el("td", {}, (n.type ?? "").replaceAll("_", " ")),
      el("td", {}, state, missing), el("td", {}, (n.queues ?? []).map(queueName).join(", ")),
      index >= 0 ? actions("numbers", index, title) : el("td", {}));
  }));
  for (const kind of ["queues", "agents", "teams", "replies", "campaigns", "brands"]) renderKind(kind);
  $("setup").value = JSON.stringify(setup, null, 2);
  renderSettings();
  renderPickers();
  await Promise.all([loadUsers(), loadTokens(), loadBlocklist(), preview(), loadWebhookAlerts()]);
}

// The chat settings and the system messages are parts of the setup document too, saved whole.
const COMMANDS = [["end", "End the chat"], ["back", "Back"], ["menu", "Menu"], ["agent", "Agent"], ["language", "Language (LANG xx)"]];

function settingsField(id, label, input) {
  return el("div", { class: "field" }, el("label", { for: id }, label), input, el("p", { class: "field-error", id: `${id}-error`, hidden: true }));
}

function renderSettings() {
  const s = setupDoc.settings ?? {};
  $("timer-fields").replaceChildren(...TIMERS.map(([key, label]) => settingsField(`timer-${key}`, label,
    el("input", { type: "number", min: "0", step: "1", id: `timer-${key}`, value: String(s.timers?.[key] ?? ""), placeholder: "default" }))));
  $("command-fields").replaceChildren(...COMMANDS.map(([key, label]) => settingsField(`command-${key}`, label,
    el("input", { id: `command-${key}`, value: (s.commands?.[key] ?? []).join(", "), placeholder: "default" }))));
  $("sms-chat").checked = s.sms_chat !== false;
  $("detect-language").checked = s.language_detection?.enabled !== false;
  $("min-confidence").value = String(s.language_detection?.min_confidence ?? 0.7);
  const languages = [deploymentLanguage(), ...otherLanguages()];
  const current = languages.includes($("texts-language").value) ? $("texts-language").value : languages[0];
  $("texts-language").replaceChildren(...languageOptions().map(([l, label]) => el("option", { value: l, selected: l === current }, label)));
  renderTexts();
}

function renderTexts() {
  const s = setupDoc.settings ?? {};
  const base = s.messages ?? {};
  const language = $("texts-language").value;
  const own = language === deploymentLanguage() ? base : (s.languages?.[language]?.messages ?? {});
  $("text-fields").replaceChildren(...Object.keys(base).map((name) => settingsField(`text-${name}`, name.replaceAll("_", " "),
    el("textarea", { id: `text-${name}`, "data-text": name, placeholder: own === base ? "" : base[name] }, own[name] ?? ""))));
}

/// The fields of a plain form (not the editor) as the error helpers want them.
function formFields(form) {
  return [...form.querySelectorAll("input, textarea, select")].filter((c) => c.id && $(`${c.id}-error`))
    .map((control) => ({ f: { path: control.id, kind: control.type === "checkbox" ? "check" : "text" }, control, error: $(`${control.id}-error`) }));
}

/// Saves a change to the settings made by `change` on a copy; problems go next to their fields.
async function saveSettings(form, errors, feedbackId, change, place, done) {
  const fields = formFields(form);
  clearFieldErrors(fields, errors);
  $(feedbackId).replaceChildren();
  if (!checkFields(fields, {})) return;
  const doc = structuredClone(setupDoc);
  doc.settings ??= {};
  change(doc);
  const result = await putSetup(doc);
  if (!result.ok) {
    showProblems(result, fields, errors, (tokens) => fields.find((f) => f.control.id === place(tokens)) ?? null);
    return;
  }
  // The forms are filled in again from the stored setup before the line says it is done.
  await loadAdmin();
  feedback(feedbackId, done);
}

// ---------------------------------------------------------------------------------------------------
// The menu preview: shown only when the server offers it (POST /api/v1/setup/preview).

let previewOffered = true;

function renderPickers() {
  const pick = (id, options) => {
    const was = $(id).value;
    $(id).replaceChildren(...options.map(([v, label]) => el("option", { value: v, selected: v === was }, label)));
  };
  pick("preview-number", (setupDoc.numbers ?? []).map((n) => [n.number, `${n.number}${n.label ? ` (${n.label})` : ""}`]));
  pick("preview-language", languageOptions());
  pick("user-agent", [["", "(none)"], ...agentOptions()]);
  pick("token-agent", [["", "Nobody: an admin token"], ...agentOptions().map(([v, label]) => [v, `Agent ${label}`])]);
  const teams = [...$("user-teams").selectedOptions].map((o) => o.value);
  $("user-teams").replaceChildren(...teamOptions().map(([v, label]) => el("option", { value: v, selected: teams.includes(v) }, label)));
}

async function preview() {
  const number = $("preview-number").value;
  if (!previewOffered || !number) { $("preview-card").hidden = true; return; }
  const language = $("preview-language").value;
  const res = await fetch("/api/v1/setup/preview", {
    method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
    body: JSON.stringify({ setup: setupDoc, number, ...(language && language !== deploymentLanguage() ? { language } : {}) }),
  });
  if (res.status === 404 || res.status === 405) {
    // This server does not offer the preview (yet): leave the panel out.
    previewOffered = false;
    $("preview-card").hidden = true;
    return;
  }
  const body = await res.json().catch(() => null);
  $("preview-card").hidden = false;
  $("preview-menu").classList.toggle("error", !res.ok);
  $("preview-menu").textContent = res.ok ? (body?.menu ?? "") : `No preview: ${body?.error?.message ?? res.statusText}`;
}

// ---------------------------------------------------------------------------------------------------
// The blocklist: entries are part of the setup, changed through /api/v1/blocklist (each change is a
// new setup version), so the page reloads the setup after one: a form saved later must not undo it.

// A line per outgoing webhook that was disabled (24 hours of failed deliveries; docs/integrations.md).
async function loadWebhookAlerts() {
  let hooks;
  try { hooks = await api("GET", "/api/v1/webhooks"); } catch { return; /* the rest of the page still works */ }
  const off = hooks.filter((h) => !h.enabled);
  $("webhooks-alert").hidden = off.length === 0;
  $("webhooks-alert").replaceChildren(...off.map((h) => el("span", { "data-webhook": h.id },
    `Webhook ${h.url} is disabled: ${h.disabled_reason ?? "no reason given"}. Enable it again with PATCH /api/v1/webhooks/${h.id} {"enabled": true}. `)));
}

async function loadBlocklist() {
  const prefix = $("blocklist-filter").value.trim();
  const page = await api("GET", `/api/v1/blocklist?limit=200${prefix ? `&q=${encodeURIComponent(prefix)}` : ""}`);
  $("blocklist").replaceChildren(...page.entries.map((b) => el("tr", { "data-blocked": b.number },
    el("th", { scope: "row" }, b.number), el("td", {}, b.reason), el("td", {}, b.added_by),
    el("td", {}, b.added_at ? new Date(b.added_at).toLocaleString() : ""),
    el("td", { class: "row-actions" }, el("button", {
      type: "button", class: "danger", "aria-label": `Unblock ${b.number}`, onclick: () => guarded(() => unblock(b)),
    }, "Unblock")))));
  const shown = page.entries.length;
  $("blocklist-count").textContent = page.total === 0 ? (prefix ? `No blocked phone starts with ${prefix}.` : "No phone is blocked.")
    : `${page.total} blocked phone${page.total === 1 ? "" : "s"}${shown < page.total ? `, the first ${shown} shown: narrow the filter to find others` : ""}.`;
}

async function unblock(b) {
  if (!confirm(`Unblock ${b.number}? Its texts open chats again.`)) return;
  try {
    await api("DELETE", `/api/v1/blocklist/${encodeURIComponent(b.number)}`);
  } catch (e) {
    feedback("blocklist-feedback", `${b.number} stays blocked: ${e.message}`, "error");
    return;
  }
  await loadAdmin();
  feedback("blocklist-feedback", `${b.number} is no longer blocked.`);
}

async function block() {
  const fields = formFields($("block-form"));
  clearFieldErrors(fields, $("block-errors"));
  const number = $("block-number").value.trim();
  const reason = $("block-reason").value.trim();
  $("block-number").setCustomValidity(/^\+[1-9][0-9]{7,14}$/.test(number) ? "" : "Write the phone in E.164: + and the country code, then the number, digits only (e.g. +14155550100).");
  $("block-reason").setCustomValidity(reason ? "" : "Say why the phone is blocked: admins read it beside its texts.");
  if (!checkFields(fields, {})) return;
  try {
    await api("POST", "/api/v1/blocklist", { number, reason });
  } catch (err) {
    const why = err.code === "already_blocked" ? `${number} is blocked already. ${err.message}` : err.message;
    $("block-errors").replaceChildren(`Not blocked: ${why}`);
    $("block-errors").hidden = false;
    return;
  }
  $("block-number").value = "";
  $("block-reason").value = "";
  await loadAdmin();
  feedback("block-feedback", `${number} is blocked: its texts open no chat, and a live chat with it has ended.`);
}

// ---------------------------------------------------------------------------------------------------
// Users and API keys.

/// The scopes a key may be limited to (docs/integrations.md "API keys").
const SCOPES = ["sms:send", "chats:read", "chats:write", "setup:read", "setup:write", "consent:write",
  "webhooks:manage", "contacts:read", "contacts:write", "reports:read", "ivr"];

function when(at) {
  return at ? new Date(at).toLocaleString() : "never";
}

async function loadTokens() {
  const { items } = await api("GET", "/api/v1/tokens");
  $("tokens").replaceChildren(...items.map((k) => el("tr", { "data-key": k.id },
    el("th", { scope: "row" }, k.name ? `${k.name} ` : "", el("code", {}, k.id)),
    el("td", {}, k.agent ? `Agent ${agentName(k.agent)}` : k.role),
    el("td", {}, k.scopes ? k.scopes.join(", ") : "all of the role"),
    el("td", {}, when(k.last_used)),
    el("td", {}, k.expires_at ? when(k.expires_at) : "never"),
    el("td", { class: "row-actions" },
      el("button", { type: "button", class: "danger", "aria-label": `Revoke key ${k.name || k.id}`, onclick: () => guarded(() => revokeToken(k)) }, "Revoke")))));
}

async function revokeToken(k) {
  if (!confirm(`Revoke ${k.name || k.id}? Requests with it are refused at once, on every node.`)) return;
  try {
    await api("DELETE", `/api/v1/tokens/${encodeURIComponent(k.id)}`);
  } catch (e) {
    feedback("tokens-feedback", `${k.name || k.id} was not revoked: ${e.message}`, "error");
    return;
  }
  await loadTokens();
  feedback("tokens-feedback", `${k.name || k.id} is revoked.`);
}

async function loadUsers() {
  const list = await api("GET", "/api/v1/users");
  users = list.users ?? list;
  $("users").replaceChildren(...users.map((u) => el("tr", { "data-user": u.username },
    el("th", { scope: "row" }, u.display_name && u.display_name !== u.username ? `${u.display_name} (${u.username})` : u.username),
    el("td", {}, u.role),
    el("td", {}, u.agent ? agentName(u.agent) : (u.teams ?? []).map(teamName).join(", ")),
    el("td", {}, u.disabled ? "disabled" : "active"),
    el("td", { class: "row-actions" },
      el("button", { type: "button", "aria-label": `Edit user ${u.username}`, onclick: () => editUser(u) }, "Edit"),
      el("button", {
        type: "button", class: u.disabled ? "" : "danger", "aria-label": `${u.disabled ? "Enable" : "Disable"} user ${u.username}`,
        onclick: () => guarded(() => setDisabled(u, !u.disabled)),
      }, u.disabled ? "Enable" : "Disable")))));
}

async function setDisabled(u, disabled) {
  if (disabled && !confirm(`Disable ${u.username}? Their sessions end and they cannot log in until enabled.`)) return;
  try {
    await api("PUT", `/api/v1/users/${encodeURIComponent(u.username)}`, { disabled });
  } catch (e) {
    feedback("users-feedback", `${u.username} was not changed: ${e.message}`, "error");
    return;
  }
  await loadUsers();
  feedback("users-feedback", `${u.username} is ${disabled ? "disabled: their sessions ended" : "enabled: they can log in again"}.`);
}

function editUser(u) {
  const fields = [
    { path: "display_name", label: "Name shown", required: true, maxlength: "100" },
    { path: "role", label: "Role", kind: "select", required: true, options: () => plain(["agent", "supervisor", "admin"]) },
    { path: "agent", label: "Agent (for the agent role)", kind: "select", options: agentOptions,
      check: (v, { read }) => read("role") === "agent" && !v ? "An agent user acts as an agent of the setup: pick one." : "" },
    { path: "teams", label: "Teams (for the supervisor role)", kind: "checks", options: teamOptions, before: u.teams,
      check: (v, { read }) => read("role") === "supervisor" && !(v ?? []).length ? "A supervisor watches at least one team." : "" },
    { path: "password", label: "New password (empty: keep the current one)", type: "password", minlength: "10", hint: "At least 10 characters; the user's sessions end." },
  ];
  openEditor({
    title: `Edit user ${u.username}`, fields, value: { ...u, password: "" }, prefix: "ed-user",
    place: () => null,
    save: async (read) => {
      const role = read("role");
      const change = {
        display_name: read("display_name"), role,
        agent: role === "agent" ? read("agent") : null,
        teams: role === "supervisor" ? read("teams") : [],
      };
      const password = $("ed-user-password").value;
      if (password) change.password = password;
      try {
        await api("PUT", `/api/v1/users/${encodeURIComponent(u.username)}`, change);
      } catch (e) {
        return { ok: false, message: e.message, details: [] };
      }
      await loadUsers();
      editing.after = () => feedback("users-feedback", `${u.username} saved${password ? " with a new password; their sessions ended" : ""}.`);
      return null;
    },
  });
  // The password is typed as is (spaces count).
  $("ed-user-password").value = "";
}

// ---------------------------------------------------------------------------------------------------
// Wiring.

function startAdmin() {
  for (const button of document.querySelectorAll("[data-add]")) {
    button.addEventListener("click", () => editObject(button.dataset.add, null));
  }
  $("editor-form").addEventListener("submit", (e) => { e.preventDefault(); guarded(submitEditor); });
  $("editor-cancel").addEventListener("click", () => $("editor").close());
  $("preview-number").addEventListener("change", () => guarded(preview));
  $("preview-language").addEventListener("change", () => guarded(preview));

  $("setup-reload").addEventListener("click", () => guarded(loadAdmin));
  $("setup-save").addEventListener("click", () => guarded(async () => {
    $("setup-errors").replaceChildren();
    let doc;
    try { doc = JSON.parse($("setup").value); } catch (e) {
      $("setup-errors").replaceChildren(el("li", {}, `The document is not JSON: ${e.message}`));
      return;
    }
    const result = await putSetup(doc);
    if (!result.ok) {
      $("setup-errors").replaceChildren(...(result.details.length ? result.details : [{ message: result.message }]).map((d) =>
        el("li", {}, d.field ? `${d.field}: ${d.message}` : d.message)));
      return;
    }
    await loadAdmin();
    $("setup-errors").replaceChildren(el("li", { class: "ok" }, "Setup saved."));
  }));

  $("texts-language").addEventListener("change", renderTexts);
  $("settings-form").addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(() => saveSettings($("settings-form"), $("settings-errors"), "settings-feedback", (doc) => {
      const s = doc.settings;
      const timers = Object.fromEntries(TIMERS.map(([key]) => [key, $(`timer-${key}`).value === "" ? undefined : Number($(`timer-${key}`).value)])
        .filter(([, v]) => v !== undefined));
      if (Object.keys(timers).length) s.timers = timers; else delete s.timers;
      const commands = Object.fromEntries(COMMANDS.map(([key]) => [key, words($(`command-${key}`).value)]).filter(([, w]) => w.length));
      if (Object.keys(commands).length) s.commands = commands; else delete s.commands;
      s.sms_chat = $("sms-chat").checked;
      s.language_detection = { enabled: $("detect-language").checked, min_confidence: Number($("min-confidence").value) };
    }, (t) => t[0] !== "settings" ? null
      : t[1] === "timers" ? `timer-${t[2]}` : t[1] === "commands" ? `command-${t[2]}`
      : t[1] === "language_detection" ? "min-confidence" : null,
    "Chat settings saved."));
  });
  $("texts-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const language = $("texts-language").value;
    guarded(() => saveSettings($("texts-form"), $("texts-errors"), "texts-feedback", (doc) => {
      const s = doc.settings;
      const texts = Object.fromEntries([...document.querySelectorAll("#text-fields textarea")]
        .map((t) => [t.dataset.text, t.value]).filter(([, text]) => text.trim() !== ""));
      if (language === deploymentLanguage()) s.messages = texts;
      else {
        s.languages ??= {};
        s.languages[language] ??= {};
        s.languages[language].messages = texts;
      }
    }, (t) => {
      if (t[0] !== "settings") return null;
      if (t[1] === "messages" && language === deploymentLanguage()) return `text-${t[2]}`;
      if (t[1] === "languages" && t[2] === language && t[3] === "messages") return `text-${t[4]}`;
      return null;
    }, `Messages (${languageName(language)}) saved.`));
  });

  $("user-form").addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(async () => {
      const fields = formFields($("user-form"));
      clearFieldErrors(fields, $("user-errors"));
      const role = $("user-role").value;
      const teams = [...$("user-teams").selectedOptions].map((o) => o.value);
      $("user-agent").setCustomValidity(role === "agent" && !$("user-agent").value ? "An agent user acts as an agent of the setup: pick one." : "");
      $("user-teams").setCustomValidity(role === "supervisor" && !teams.length ? "A supervisor watches at least one team: pick one or more." : "");
      if (!checkFields(fields, {})) return;
      try {
        await api("POST", "/api/v1/users", {
          username: $("user-name").value.trim(), role, password: $("user-password").value,
          agent: role === "agent" ? $("user-agent").value : null,
          teams: role === "supervisor" ? teams : [],
        });
      } catch (err) {
        $("user-errors").replaceChildren(`Not added: ${err.message}`);
        $("user-errors").hidden = false;
        return;
      }
      const name = $("user-name").value.trim();
      $("user-password").value = "";
      $("user-name").value = "";
      await loadUsers();
      feedback("user-feedback", `User ${name} added.`);
    });
  });
  $("block-form").addEventListener("submit", (e) => { e.preventDefault(); guarded(block); });
  $("blocklist-filter").addEventListener("input", () => guarded(loadBlocklist));
  $("token-scopes").replaceChildren(...SCOPES.map((scope) => el("label", {},
    el("input", { type: "checkbox", value: scope, name: "token-scope" }), ` ${scope}`)));
  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(async () => {
      $("token-errors").hidden = true;
      const body = {};
      const agent = $("token-agent").value;
      if (agent) body.agent = agent;
      const name = $("token-name").value.trim();
      if (name) body.name = name;
      const scopes = [...document.querySelectorAll('input[name="token-scope"]:checked')].map((c) => c.value);
      if (scopes.length) body.scopes = scopes;
      const expires = $("token-expires").value;
      if (expires) body.expires_at = `${expires}T00:00:00Z`;
      let t;
      try { t = await api("POST", "/api/v1/tokens", body); } catch (err) {
        $("token-errors").replaceChildren(`No key: ${err.message}`);
        $("token-errors").hidden = false;
        return;
      }
      $("token-name").value = "";
      $("token-expires").value = "";
      document.querySelectorAll('input[name="token-scope"]').forEach((c) => { c.checked = false; });
      await loadTokens();
      $("token-out").className = "feedback ok";
      $("token-out").replaceChildren(`New key ${t.id}${t.agent ? ` for ${agentName(t.agent)}` : ` (${t.role})`}; its token is shown once, copy it now: `, el("code", {}, t.token));
      $("token-out").scrollIntoView({ block: "nearest" });
    });
  });
  guarded(loadAdmin);
}

// For tests and the curious: show the preview panel again (after the server said it has none).
window.parleyAdmin = { preview: () => { previewOffered = true; return preview(); } };

startAdmin();
}
