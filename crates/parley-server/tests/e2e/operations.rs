//! What operators watch: health, readiness and Prometheus metrics.

use reqwest::Method;

use crate::harness::TestApp;

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = TestApp::with_standard_setup().await;
    let health = app.request(Method::GET, "/healthz", None, None).await.expect_status(200);
    assert_eq!(health.body, "ok");
    app.request(Method::GET, "/readyz", None, None).await.expect_status(200);

    app.phone("+14155550900").texts("hi").await;
    app.phone("+14155550900").receives(2).await;
    let metrics = app.request(Method::GET, "/metrics", None, None).await.expect_status(200);
    let text = metrics.body.as_str().expect("metrics are text").to_owned();
    // The recorder is process-wide and tests share it, so counts are at least this test's own.
    let count = |name: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(name) && !l.starts_with('#'))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
    };
    assert!(count("parley_inbound_messages_total") >= 1.0);
    assert!(count("parley_outbound_messages_total") >= 2.0);
    assert!(text.contains("parley_engine_batch_seconds_bucket"), "batch durations are a histogram:\n{text}");
    assert!(count("parley_outbox_depth") >= 0.0);
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_the_error_shape() {
    let app = TestApp::spawn().await;
    app.request(Method::GET, "/api/v1/nothing-here", None, None).await.expect_error(404, "not_found");
    app.request(Method::DELETE, "/api/v1/setup", None, None).await.expect_error(405, "method_not_allowed");
}

#[tokio::test]
async fn agents_can_count_segments_before_sending() {
    let app = TestApp::with_standard_setup().await;
    let alice = app.agent_token("alice").await;
    let count = |body: String| {
        let app = &app;
        let alice = alice.clone();
        async move {
            app.request(Method::POST, "/api/v1/sms/segments", Some(&alice), Some(&serde_json::json!({ "body": body })))
                .await
                .expect_status(200)
                .body
        }
    };
    let plain = count("a".repeat(161)).await;
    assert_eq!(
        (plain["encoding"].as_str(), plain["segments"].as_u64(), plain["units"].as_u64()),
        (Some("gsm7"), Some(2), Some(161))
    );
    let euro = count("€".repeat(80)).await;
    assert_eq!((euro["segments"].as_u64(), euro["units"].as_u64()), (Some(1), Some(160)));
    let emoji = count(format!("Thanks {}", "😀")).await;
    assert_eq!((emoji["encoding"].as_str(), emoji["segments"].as_u64()), (Some("ucs2"), Some(1)));
    assert_eq!(emoji["non_gsm_characters"], serde_json::json!(["😀"]));
    app.request(Method::POST, "/api/v1/sms/segments", None, Some(&serde_json::json!({ "body": "x" })))
        .await
        .expect_error(401, "unauthorized");
    app.request(
        Method::POST,
        "/api/v1/sms/segments",
        Some(&alice),
        Some(&serde_json::json!({ "body": "x".repeat(1601) })),
    )
    .await
    .expect_error(422, "validation_failed");
}
