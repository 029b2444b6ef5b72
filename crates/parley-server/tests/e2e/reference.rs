//! The API reference at `/api/v1` and `/api/docs`: a page for people made from the served OpenAPI
//! document, listing every operation with the scopes its `security` requirement names, open without
//! authentication and under the console's content policy.

use reqwest::Method;
use serde_json::Value;

use crate::harness::TestApp;

/// The opening tag of the element with this id, if the page has one.
fn tag_with_id<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let at = html.find(&format!(" id=\"{id}\""))?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    Some(&html[start..=end])
}

fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let from = tag.find(&key)? + key.len();
    Some(&tag[from..from + tag[from..].find('"')?])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_lists_every_operation_of_the_document_with_its_scopes() {
    let app = TestApp::with_standard_setup().await;
    let doc = app.request(Method::GET, "/api/v1/openapi.json", None, None).await.expect_status(200).body;
    for path in ["/api/v1", "/api/docs"] {
        let reply = reqwest::get(format!("{}{path}", app.base)).await.expect("the page answers");
        assert_eq!(reply.status(), 200, "{path} needs no authentication");
        let headers = reply.headers().clone();
        assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"), "{path}: {headers:?}");
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), "{policy}");
        let html = reply.text().await.unwrap();
        assert!(!html.contains("<script>"), "no inline script");

        let mut operations = 0;
        for (route, ops) in doc["paths"].as_object().expect("paths") {
            for (method, op) in ops.as_object().expect("operations") {
                let id = op["operationId"].as_str().expect("an operation id");
                let tag = tag_with_id(&html, &format!("op-{id}"))
                    .unwrap_or_else(|| panic!("{method} {route} ({id}) is not on the page"));
                operations += 1;
                let expected = match op["security"].as_array() {
                    None => "none".to_owned(),
                    Some(requirements) => {
                        let mut names: Vec<&str> = vec![];
                        let key_schemes = requirements.iter().flat_map(|r| [&r["bearer"], &r["basic"]]);
                        for scheme in key_schemes {
                            for s in scheme.as_array().into_iter().flatten().filter_map(Value::as_str) {
                                if !names.contains(&s) {
                                    names.push(s);
                                }
                            }
                        }
                        names.join(" ")
                    }
                };
                assert_eq!(attribute(tag, "data-scopes"), Some(expected.as_str()), "{method} {route}");
                // The section shows the method and the path.
                let section = &html[html.find(tag).unwrap()..];
                let section = &section[..section.find("</article>").unwrap()];
                let shown_path = route.replace('&', "&amp;");
                assert!(section.contains(&format!("<code class=\"path\">{shown_path}</code>")), "{route}");
                assert!(section.contains(&method.to_uppercase()), "{method} {route}");
                assert!(section.contains("<h4>Responses</h4>"), "{method} {route}");
            }
        }
        assert!(html.contains(&format!("{operations} operations")), "the page counts {operations} operations");

        // The outbound chat's body is rendered field by field, and its schema is linked.
        let start = tag_with_id(&html, "op-start_chat").unwrap();
        let section = &html[html.find(start).unwrap()..];
        let section = &section[..section.find("</article>").unwrap()];
        assert!(section.contains("Scope: <code>sms:send</code>."), "{section}");
        for field in ["agent_email", "ticket_id", "context", "predefined_id", "variables"] {
            assert!(section.contains(&format!("<td><code>{field}</code></td>")), "{field} in {section}");
        }
        assert!(section.contains("href=\"#schema-OutboundChat\""), "{section}");
        assert!(tag_with_id(&html, "schema-OutboundChat").is_some());
        assert!(tag_with_id(&html, "schema-ErrorCode").is_some());
    }
    // The page's assets are served.
    for asset in ["/assets/reference.js", "/assets/reference.css"] {
        let reply = reqwest::get(format!("{}{asset}", app.base)).await.expect("the asset answers");
        assert_eq!(reply.status(), 200, "{asset}");
    }
}
