//! `GET /api/v1` and `GET /api/docs`: the API reference for people, rendered on the server from the
//! same OpenAPI document `/api/v1/openapi.json` serves (no second source that could drift from it).
//!
//! Why server-rendered HTML and not a vendored viewer: the page is one static string made when the
//! router is built, it works offline and under the console's content policy (one same-origin style
//! sheet and script, no inline code), and it adds no JavaScript dependency to pin and audit. The
//! script (`assets/reference.js`) only filters what is already on the page.
//!
//! For every operation the page shows its method and path, summary, the scopes an API key needs (read
//! from its `security` requirement, the one place a scope is declared), parameters, the request body's
//! fields (following `$ref`s one level, with links to every named schema), and the responses with the
//! error codes their descriptions name. Each operation has the anchor `#op-<operationId>`; each schema
//! `#schema-<Name>`. Like the document, the page needs no authentication.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use serde_json::Value;

use crate::AppState;
use crate::http::console::{asset, escape, html_response};

const SCRIPT: &str = include_str!("../../assets/reference.js");
const STYLE: &str = include_str!("../../assets/reference.css");

/// The methods an operation may have, in the order the page lists them.
const METHODS: [&str; 5] = ["get", "put", "post", "patch", "delete"];

/// The reference's routes: the page at `/api/v1` and `/api/docs`, and its two assets. `page` is made
/// once, by [`page`], from the document the server serves.
pub fn routes(page: Arc<String>) -> Router<AppState> {
    let serve = move || {
        let page = page.clone();
        async move { html_response(axum::http::StatusCode::OK, page.as_ref().clone()) }
    };
    Router::new()
        .route("/api/v1", get(serve.clone()))
        .route("/api/docs", get(serve))
        .route("/assets/reference.js", get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }))
        .route("/assets/reference.css", get(|| async { asset("text/css; charset=utf-8", STYLE) }))
}

/// One operation of the document.
struct Operation<'a> {
    method: &'a str,
    path: &'a str,
    op: &'a Value,
}

impl Operation<'_> {
    fn id(&self) -> String {
        match self.op["operationId"].as_str() {
            Some(id) => id.to_owned(),
            None => format!("{}_{}", self.method, self.path),
        }
    }

    fn anchor(&self) -> String {
        format!("op-{}", anchor_token(&self.id()))
    }
}

/// The scopes an operation's `security` requirement names, each alternative once, in order; `None`
/// when the operation has no requirement (no authentication).
pub fn scopes(op: &Value) -> Option<Vec<String>> {
    let requirements = op["security"].as_array()?;
    let mut scopes = Vec::new();
    for requirement in requirements {
        for names in requirement.as_object().into_iter().flat_map(|r| r.values()) {
            for name in names.as_array().into_iter().flatten().filter_map(Value::as_str) {
                if !scopes.iter().any(|s| s == name) {
                    scopes.push(name.to_owned());
                }
            }
        }
    }
    Some(scopes)
}

/// The reference page of `doc` (the OpenAPI document as JSON).
pub fn page(doc: &Value) -> String {
    let groups = by_tag(doc);
    let mut toc = String::new();
    let mut body = String::new();
    for (tag, description, ops) in &groups {
        let tag_anchor = format!("tag-{}", anchor_token(tag));
        let _ = write!(toc, "<li data-tag=\"{}\"><a href=\"#{tag_anchor}\">{}</a><ol>", escape(tag), escape(tag));
        let _ = write!(
            body,
            "<section class=\"tag\" id=\"{tag_anchor}\" data-tag=\"{}\">\n<h2>{}</h2>\n",
            escape(tag),
            escape(tag)
        );
        if let Some(description) = description {
            let _ = writeln!(body, "<p>{}</p>", text(description));
        }
        for op in ops {
            let _ = write!(
                toc,
                "<li data-op=\"{}\"><a href=\"#{}\"><span class=\"method {}\">{}</span> {}</a></li>",
                op.anchor(),
                op.anchor(),
                op.method,
                op.method.to_uppercase(),
                escape(op.path)
            );
            body.push_str(&operation(doc, op, tag));
        }
        toc.push_str("</ol></li>");
        body.push_str("</section>\n");
    }
    toc.push_str("<li><a href=\"#schemas\">Schemas</a></li>");
    body.push_str(&schemas(doc));
    let info = &doc["info"];
    let title = info["title"].as_str().unwrap_or("API");
    let version = info["version"].as_str().unwrap_or_default();
    let count: usize = groups.iter().map(|(_, _, ops)| ops.len()).sum();
    let all_scopes: BTreeSet<String> =
        groups.iter().flat_map(|(_, _, ops)| ops.iter().filter_map(|o| scopes(o.op)).flatten()).collect();
    let scope_list: Vec<String> = all_scopes.iter().map(|s| format!("<code>{}</code>", escape(s))).collect();
    format!(
        r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} reference · Parley</title>
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
<link rel="stylesheet" href="/assets/console.css">
<link rel="stylesheet" href="/assets/reference.css">
</head>
<body>
<header class="top">
  <h1>Parley</h1>
  <span class="who">{title} {version} reference</span>
  <a href="/api/v1/openapi.json">OpenAPI document (JSON)</a>
  <a href="/console">Console</a>
</header>
<main class="reference">
<nav class="card toc" aria-label="Contents">
  <label for="filter">Filter operations</label>
  <input type="search" id="filter" placeholder="path, method, scope or word" autocomplete="off">
  <p class="meta" id="filter-count" aria-live="polite">{count} operations</p>
  <ol>{toc}</ol>
</nav>
<div class="operations">
<section class="card intro">
<h2>{title}</h2>
<p>{description}</p>
<p>An API key is limited to its scopes: each operation
below names the scopes that let a key call it (any one of them suffices); a key without one gets 403
<code>insufficient_scope</code>. Admin and agent tokens and console sessions have roles instead of scopes:
what each role may do is in the operation's description. "Role tokens only": no scope grants the
operation.</p>
<p>Scopes in use: {scopes}.</p>
<p class="meta" id="no-match" hidden>No operation matches the filter.</p>
</section>
{body}
</div>
</main>
<script src="/assets/reference.js" defer></script>
</body>
</html>
"##,
        title = escape(title),
        version = escape(version),
        description = text(info["description"].as_str().unwrap_or_default()),
        scopes = scope_list.join(", "),
    )
}

/// The operations grouped by their first tag: the document's tags in its order, then any others,
/// then operations without a tag ("other"); paths in order within a group.
fn by_tag(doc: &Value) -> Vec<(String, Option<String>, Vec<Operation<'_>>)> {
    let mut groups: Vec<(String, Option<String>, Vec<Operation<'_>>)> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| Some((t["name"].as_str()?.to_owned(), t["description"].as_str().map(str::to_owned), vec![])))
        .collect();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let tag = op["tags"][0].as_str().unwrap_or("other").to_owned();
            let operation = Operation { method, path, op };
            match groups.iter_mut().find(|(name, _, _)| *name == tag) {
                Some((_, _, ops)) => ops.push(operation),
                None => groups.push((tag, None, vec![operation])),
            }
        }
    }
    groups.retain(|(_, _, ops)| !ops.is_empty());
    groups
}

fn operation(doc: &Value, op: &Operation<'_>, tag: &str) -> String {
    let mut out = String::new();
    let scopes = scopes(op.op);
    let (scope_html, scope_attr) = match &scopes {
        None => ("No authentication.".to_owned(), "none".to_owned()),
        Some(list) if list.is_empty() => ("Role tokens only: no scope grants this.".to_owned(), String::new()),
        Some(list) => {
            let names: Vec<String> = list.iter().map(|s| format!("<code>{}</code>", escape(s))).collect();
            (format!("Scope: {}.", names.join(" or ")), list.join(" "))
        }
    };
    let summary = op.op["summary"].as_str().unwrap_or_default();
    let description = op.op["description"].as_str().unwrap_or_default();
    let search = format!("{} {} {} {} {} {}", op.method, op.path, tag, scope_attr, summary, op.id()).to_lowercase();
    let _ = write!(
        out,
        "<article class=\"op card\" id=\"{anchor}\" data-scopes=\"{scopes}\" data-search=\"{search}\">\n\
         <h3><a class=\"self\" href=\"#{anchor}\"><span class=\"method {method}\">{upper}</span> <code class=\"path\">{path}</code></a></h3>\n",
        anchor = op.anchor(),
        scopes = escape(&scope_attr),
        search = escape(&search),
        method = op.method,
        upper = op.method.to_uppercase(),
        path = escape(op.path),
    );
    if !summary.is_empty() {
        let _ = writeln!(out, "<p class=\"summary\">{}</p>", text(summary));
    }
    if !description.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", text(description));
    }
    let _ = writeln!(out, "<p class=\"scope\">{scope_html}</p>");
    if let Some(params) = op.op["parameters"].as_array().filter(|p| !p.is_empty()) {
        out.push_str("<h4>Parameters</h4>\n<table><thead><tr><th>name</th><th>in</th><th>type</th><th>required</th><th>description</th></tr></thead><tbody>\n");
        for p in params {
            let p = resolve(doc, p);
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(p["name"].as_str().unwrap_or_default()),
                escape(p["in"].as_str().unwrap_or_default()),
                type_html(&p["schema"]),
                if p["required"] == true { "yes" } else { "no" },
                text(p["description"].as_str().unwrap_or_default()),
            );
        }
        out.push_str("</tbody></table>\n");
    }
    if let Some(body) = op.op["requestBody"].as_object() {
        out.push_str("<h4>Request body</h4>\n");
        for (content_type, content) in body.get("content").and_then(Value::as_object).into_iter().flatten() {
            let schema = &content["schema"];
            let _ = writeln!(out, "<p><code>{}</code>: {}</p>", escape(content_type), type_html(schema));
            out.push_str(&fields(resolve(doc, schema)));
        }
    }
    out.push_str(
        "<h4>Responses</h4>\n<table><thead><tr><th>status</th><th>meaning</th><th>body</th></tr></thead><tbody>\n",
    );
    for (status, response) in op.op["responses"].as_object().into_iter().flatten() {
        let response = resolve(doc, response);
        let bodies: Vec<String> =
            response["content"].as_object().into_iter().flatten().map(|(_, c)| type_html(&c["schema"])).collect();
        let _ = writeln!(
            out,
            "<tr><td class=\"status s{}\">{}</td><td>{}</td><td>{}</td></tr>",
            status.chars().next().unwrap_or('x'),
            escape(status),
            text(response["description"].as_str().unwrap_or_default()),
            bodies.join(", ")
        );
    }
    out.push_str("</tbody></table>\n</article>\n");
    out
}

/// Every named schema, with its fields (or values, for an enumeration).
fn schemas(doc: &Value) -> String {
    let mut out = String::from("<section class=\"tag\" id=\"schemas\" data-tag=\"schemas\">\n<h2>Schemas</h2>\n");
    for (name, schema) in doc["components"]["schemas"].as_object().into_iter().flatten() {
        let _ = write!(
            out,
            "<article class=\"schema card\" id=\"schema-{}\" data-search=\"{}\">\n<h3>{}</h3>\n",
            anchor_token(name),
            escape(&name.to_lowercase()),
            escape(name)
        );
        if let Some(description) = schema["description"].as_str() {
            let _ = writeln!(out, "<p>{}</p>", text(description));
        }
        if schema.get("properties").is_some() {
            out.push_str(&fields(schema));
        } else {
            let _ = writeln!(out, "<p>{}</p>", type_html(schema));
        }
        out.push_str("</article>\n");
    }
    out.push_str("</section>\n");
    out
}

/// The fields of an object schema as a table: name, type, whether required, description.
fn fields(schema: &Value) -> String {
    let Some(properties) = schema["properties"].as_object() else {
        return String::new();
    };
    let required: Vec<&str> = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let mut out = String::from(
        "<table class=\"fields\"><thead><tr><th>field</th><th>type</th><th>required</th><th>description</th></tr></thead><tbody>\n",
    );
    for (name, property) in properties {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(name),
            type_html(property),
            if required.contains(&name.as_str()) { "yes" } else { "no" },
            text(&description_of(property)),
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

/// A property's description: its own, or (for `oneOf` a reference and null) the reference's.
fn description_of(schema: &Value) -> String {
    if let Some(d) = schema["description"].as_str() {
        return d.to_owned();
    }
    ["oneOf", "anyOf", "allOf"]
        .iter()
        .flat_map(|k| schema[*k].as_array().into_iter().flatten())
        .find_map(|s| s["description"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// The target of a `$ref` into the document (`#/components/...`), or the value itself.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => doc.pointer(pointer).unwrap_or(value),
        None => value,
    }
}

/// A schema's type in words, with named schemas as links: "string or null", "array of ChatView",
/// "map of string to string", "one of a, b".
fn type_html(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return format!("<a href=\"#schema-{}\">{}</a>", anchor_token(name), escape(name));
    }
    for (key, joiner) in [("oneOf", " or "), ("anyOf", " or "), ("allOf", " and ")] {
        if let Some(parts) = schema[key].as_array() {
            let mut nullable = false;
            let mut names = Vec::new();
            for part in parts {
                if part["type"] == "null" {
                    nullable = true;
                } else {
                    names.push(type_html(part));
                }
            }
            if nullable {
                names.push("null".to_owned());
            }
            return names.join(joiner);
        }
    }
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> = values.iter().map(|v| format!("<code>{}</code>", escape(&plain(v)))).collect();
        return format!("one of {}", values.join(", "));
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if types.is_empty() {
        return "any".to_owned();
    }
    let words: Vec<String> = types
        .iter()
        .map(|t| match *t {
            "array" => format!("array of {}", type_html(&schema["items"])),
            "object" if schema["additionalProperties"].is_object() => {
                format!("map of string to {}", type_html(&schema["additionalProperties"]))
            }
            other => match schema["format"].as_str() {
                Some(format) => format!("{} ({})", escape(other), escape(format)),
                None => escape(other),
            },
        })
        .collect();
    words.join(" or ")
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Description text as HTML: escaped, with `code` spans, and paragraphs kept (a blank line).
fn text(source: &str) -> String {
    let escaped = escape(source);
    let mut out = String::with_capacity(escaped.len());
    for (i, piece) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{piece}</code>");
        } else {
            out.push_str(piece);
        }
    }
    out.replace("\n\n", "</p><p>").replace('\n', " ")
}

/// An id or name as a piece of an HTML id: letters, digits, `-` and `_`; anything else becomes `-`.
fn anchor_token(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '-' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_read_as_words_with_links_to_schemas() {
        assert_eq!(type_html(&json!({"type": ["string", "null"]})), "string or null");
        assert_eq!(
            type_html(&json!({"oneOf": [{"$ref": "#/components/schemas/ChatView"}, {"type": "null"}]})),
            "<a href=\"#schema-ChatView\">ChatView</a> or null"
        );
        assert_eq!(type_html(&json!({"type": "array", "items": {"type": "string"}})), "array of string");
        let map = json!({"type": ["object", "null"], "additionalProperties": {"type": "string"}});
        assert_eq!(type_html(&map), "map of string to string or null");
        assert_eq!(type_html(&json!({"enum": ["a", "b"]})), "one of <code>a</code>, <code>b</code>");
        assert_eq!(type_html(&json!({"type": "integer", "format": "int64"})), "integer (int64)");
    }

    #[test]
    fn scopes_are_read_from_the_security_requirement() {
        let either = json!({"security": [{"bearer": ["sms:send"]}, {"bearer": ["chats:write"]}]});
        assert_eq!(scopes(&either), Some(vec!["sms:send".to_owned(), "chats:write".to_owned()]));
        assert_eq!(scopes(&json!({"security": [{"bearer": []}]})), Some(vec![]));
        assert_eq!(scopes(&json!({})), None);
    }

    #[test]
    fn descriptions_are_escaped_and_keep_code_spans() {
        assert_eq!(text("a <b> `x & y`\nnext"), "a &lt;b&gt; <code>x &amp; y</code> next");
    }
}
