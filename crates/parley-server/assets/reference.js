// Parley API reference: filters the operations already on the page (server-rendered from the OpenAPI
// document) by the words typed; every word must appear in the operation's method, path, tag, scopes,
// summary or id. Contents entries and tag sections with no match left are hidden with them.
"use strict";

(() => {
  const input = document.getElementById("filter");
  const count = document.getElementById("filter-count");
  const none = document.getElementById("no-match");
  const ops = [...document.querySelectorAll("article.op")];
  const schemas = [...document.querySelectorAll("article.schema")];

  function apply() {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    const matches = (el) => words.every((w) => el.dataset.search.includes(w));
    let shown = 0;
    for (const op of ops) {
      const hit = matches(op);
      op.hidden = !hit;
      if (hit) shown += 1;
      const entry = document.querySelector(`li[data-op="${CSS.escape(op.id)}"]`);
      if (entry) entry.hidden = !hit;
    }
    // Schemas are shown while nothing is typed, or when their name matches.
    for (const schema of schemas) schema.hidden = words.length > 0 && !matches(schema);
    for (const section of document.querySelectorAll("section.tag")) {
      section.hidden = ![...section.querySelectorAll("article")].some((a) => !a.hidden);
    }
    for (const entry of document.querySelectorAll("nav.toc li[data-tag]")) {
      entry.hidden = ![...entry.querySelectorAll("li[data-op]")].some((li) => !li.hidden);
    }
    count.textContent = words.length ? `${shown} of ${ops.length} operations` : `${ops.length} operations`;
    none.hidden = shown > 0;
  }

  input.addEventListener("input", apply);
  // A filter in the address (?q=scope) is applied on load, so a filtered view can be linked.
  const q = new URLSearchParams(location.search).get("q");
  if (q) input.value = q;
  apply();
  // Tells tests (and anyone curious) that the script ran: a page whose script the content policy
  // blocked would never say so.
  document.documentElement.dataset.filter = "ready";
})();
