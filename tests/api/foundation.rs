//! Health, request ids, error bodies, body limits, start-up failures.

use crate::helpers::*;
use cashdesk::startup::RunOptions;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn health_live_and_ready_answer_ok_with_both_dependencies_up() {
    let app = spawn_app().await;
    assert_eq!(app.get("/health/live").await.status(), StatusCode::OK);
    let res = app.get("/health/ready").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["checks"], json!({"postgres": "ok", "redis": "ok"}));
}

#[tokio::test]
async fn readiness_fails_when_redis_is_unreachable_and_recovers() {
    let env = std::sync::Arc::new(TestEnv::new().await);
    let proxy = TcpProxy::start("127.0.0.1:6379").await;
    let url = proxy.redis_url();
    let app = spawn_app_in(env, |s| s.redis_url = url, RunOptions { worker: false }).await;
    assert_eq!(app.get("/health/ready").await.status(), StatusCode::OK);
    proxy.cut();
    let res = app.get("/health/ready").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["checks"]["redis"], "unavailable");
    assert_eq!(body["checks"]["postgres"], "ok");
    proxy.restore().await;
    let mut ready = false;
    for _ in 0..50 {
        if app.get("/health/ready").await.status() == StatusCode::OK {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "readiness recovers once Redis is back");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_an_incoming_one_is_kept() {
    let app = spawn_app().await;
    let res = app.get("/health/live").await;
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(generated.len() >= 16);
    let res = app.client.get(app.url("/health/live")).header("X-Request-Id", "req-42").send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "req-42");
    // also on errors, and the error body quotes it
    let res = app.client.get(app.url("/no/such/route")).header("X-Request-Id", "req-43").send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "req-43");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["request_id"], "req-43");
}

#[tokio::test]
async fn unknown_routes_answer_404_in_the_error_shape() {
    let app = spawn_app().await;
    let res = app.get("/nowhere").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error_code"], "not_found");
    assert!(body["message"].is_string());
    assert!(body["request_id"].is_string());
    assert_eq!(body.as_object().unwrap().len(), 3);
}

#[tokio::test]
async fn malformed_json_answers_400_in_the_error_shape() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    let res = app
        .client
        .patch(app.url("/api/v1/checkout/"))
        .header("X-Checkout-Session", &session)
        .header("content-type", "application/json")
        .body("{\"basket\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error_code"], "bad_request");
    assert!(body["request_id"].is_string());
}

#[tokio::test]
async fn bodies_over_64_kib_are_refused() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    let big = json!({"shipping_address": {"line": "x".repeat(70 * 1024)}});
    let res = app
        .client
        .patch(app.url("/api/v1/checkout/"))
        .header("X-Checkout-Session", &session)
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error_code"], "payload_too_large");
    // Every route refuses it (SPEC §15), hooks and routes that take no body too.
    let big = json!({"transaction_id": "x".repeat(70 * 1024)});
    for (method, path) in [
        (reqwest::Method::POST, "/hooks/cash_register/complete/"),
        (reqwest::Method::POST, "/api/v1/checkout/"),
        (reqwest::Method::GET, "/health/live"),
    ] {
        let res = app.client.request(method.clone(), app.url(path)).json(&big).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE, "{method} {path}");
        assert_eq!(res.json::<Value>().await.unwrap()["error_code"], "payload_too_large");
    }
}

#[tokio::test]
async fn a_body_without_a_length_is_read_up_to_the_limit_and_no_further() {
    let app = spawn_app().await;
    let chunks = |total: usize| {
        let stream = futures_util::stream::iter((0..total / 1024).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1024])));
        reqwest::Body::wrap_stream(stream)
    };
    // 10 MB announced by nobody: refused once the limit is passed.
    let res = app.client.post(app.url("/api/v1/checkout/")).body(chunks(10 * 1024 * 1024)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Under the limit, the body reaches the handler whole.
    let session = app.new_session().await;
    let mut body = serde_json::to_vec(&json!({"shipping_address": {"line": "x".repeat(1000)}})).unwrap();
    body.resize(40 * 1024, b' ');
    let stream =
        futures_util::stream::iter(body.chunks(4096).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>());
    let res = app
        .client
        .patch(app.url("/api/v1/checkout/"))
        .header("X-Checkout-Session", &session)
        .header("Content-Type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().await.unwrap()["pre_order"]["shipping_address"]["line"].as_str().unwrap().len(),
        1000
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    app.get("/health/live").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains(r#"cashdesk_http_requests_total{method="GET",route="/health/live",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains("cashdesk_completion_queue_depth"));
}

/// Runs the real binary with `env` and returns (exit code, stderr).
fn run_binary(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cashdesk"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("binary runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).to_string())
}

#[test]
fn bad_configuration_is_reported_at_once_without_a_panic() {
    let (code, stderr) =
        run_binary(&["migrate"], &[("DATABASE_URL", "mysql://nope"), ("BIND", "nowhere"), ("REDIS_URL", "http://x")]);
    assert_ne!(code, 0);
    for name in ["DATABASE_URL", "BIND", "REDIS_URL"] {
        assert!(stderr.contains(name), "{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn unreachable_postgres_gives_one_clear_line_and_a_non_zero_exit() {
    let (code, stderr) = run_binary(&["migrate"], &[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/x")]);
    assert_ne!(code, 0);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot reach Postgres"), "{stderr}");
}

#[tokio::test]
async fn unreachable_redis_gives_one_clear_line_and_a_non_zero_exit() {
    let env = TestEnv::new().await;
    let url = env.database_url();
    let (code, stderr) = run_binary(&["migrate"], &[("DATABASE_URL", &url), ("REDIS_URL", "redis://127.0.0.1:1/0")]);
    assert_ne!(code, 0);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot reach Redis"), "{stderr}");
}

#[tokio::test]
async fn sigterm_stops_serve_gracefully_with_a_zero_exit() {
    let env = TestEnv::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_cashdesk"))
        .arg("serve")
        .env("DATABASE_URL", env.database_url())
        .env("REDIS_URL", redis_url())
        .env("REDIS_KEY_PREFIX", &env.prefix)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("HTTP_WORKERS", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let ready_url = format!("http://127.0.0.1:{port}/health/ready");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Ok(res) = client.get(&ready_url).send().await {
            if res.status() == StatusCode::OK {
                break;
            }
        }
        assert!(std::time::Instant::now() < deadline, "serve never became ready");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status =
        tokio::time::timeout(std::time::Duration::from_secs(20), child.wait()).await.expect("stops in time").unwrap();
    assert!(status.success(), "{status:?}");
    assert!(client.get(&ready_url).send().await.is_err(), "no longer accepting");
}

/// Postgres text cannot hold NUL; such input is the client's error wherever it
/// reaches a query (schemathesis found `GET /v0/cash-drawers?store_id=%00` answering 500).
#[tokio::test]
async fn text_with_a_nul_character_answers_400_not_500() {
    let app = spawn_app().await;
    app.seed().await;
    let res = app.admin_get("/v0/cash-drawers?store_id=a%00b").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error_code"], "bad_request");
    assert!(body["message"].as_str().unwrap().contains("NUL"), "{body}");
    let res = app.admin_put("/admin/api/departments/d1/", &json!({"name": "Men\u{0}"})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Hooks read such a body as unreadable, with their own codes.
    let (_, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let answer = app
        .hook(
            "/hooks/cash_register/complete/",
            &json!({"transaction_id": "T\u{0}1", "order_number": number,
            "username": CASHIER.0, "password": CASHIER.1, "amount": "99.99"}),
        )
        .await;
    assert_eq!(answer["result"], 402, "{answer}");
    let answer = app
        .hook(
            "/hooks/ivr/complete/",
            &json!({"username": IVR.0, "password": IVR.1, "orderNumber": number,
            "success": true, "referenceNumber": "R\u{0}", "staffId": 1, "amount": 99.99}),
        )
        .await;
    assert_eq!(answer["orderResultResponse"]["result"]["message"], "Input invalid", "{answer}");
    assert_eq!(app.count("SELECT count(*) FROM payments").await, 0);
}
