//! Dynamic settings: admin auth, validation, masking, history, propagation.

use crate::helpers::*;
use cashdesk::startup::RunOptions;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const KEY_PATH: &str = "/admin/api/settings/CASH_REGISTER_AUTH_CONF/";

/// The pre_order hook's code for these credentials with no order number:
/// "409" when they are accepted, "403" when not.
async fn login_code(app: &TestApp, username: &str, password: &str) -> String {
    let answer = app
        .hook(
            "/hooks/cash_register/pre_order/",
            &json!({"username": username, "password": password, "order_number": ""}),
        )
        .await;
    answer["error_code"].as_str().unwrap().to_string()
}

async fn wait_for_login_code(app: &TestApp, username: &str, password: &str, code: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if login_code(app, username, password).await == code {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_admin_api_needs_the_admin_token() {
    let app = spawn_app().await;
    let res = app.get("/admin/api/settings/").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error_code"], "unauthorized");
    let res =
        app.client.get(app.url("/admin/api/settings/")).bearer_auth("wrong-token-0123456789").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.admin_get("/admin/api/settings/").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_admin_api_is_disabled_while_admin_token_is_unset() {
    let env = std::sync::Arc::new(TestEnv::new().await);
    let app = spawn_app_in(env, |s| s.admin_token = None, RunOptions { worker: false }).await;
    let res = app.admin_get("/admin/api/settings/").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: Value = res.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("ADMIN_TOKEN is not set"));
}

#[tokio::test]
async fn invalid_cash_register_conf_answers_400_naming_the_field() {
    let app = spawn_app().await;
    for (value, field) in [
        (json!({"credentials": [{"username": "a"}]}), "credentials[0].password"),
        (json!({"credentials": [{"username": "", "password": "x"}]}), "credentials[0].username"),
        (json!({"credentials": "nope"}), "credentials"),
        (json!({"credentials": [], "installment_enabled": "yes"}), "installment_enabled"),
        (json!({"credentials": [], "shipping_sku": 5}), "shipping_sku"),
        (json!({"credentials": [], "extra": 1}), "extra"),
        (json!([1, 2]), "JSON object"),
    ] {
        let res = app.admin_put(KEY_PATH, &json!({ "value": value })).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{value}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error_code"], "validation_error");
        assert!(body["message"].as_str().unwrap().contains(field), "{body} should name {field}");
    }
    let res = app.admin_put("/admin/api/settings/NO_SUCH_KEY/", &json!({"value": {}})).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn passwords_are_hashed_on_write_and_masked_on_read() {
    let app = spawn_app().await;
    app.set_cash_register_conf(
        json!({"credentials": [{"username": "c1", "password": "plain-secret"}], "shipping_sku": "S"}),
    )
    .await;
    let shown: Value = app.admin_get(KEY_PATH).await.json().await.unwrap();
    assert_eq!(shown["value"]["credentials"], json!([{"username": "c1", "password": "********"}]));
    assert!(!shown.to_string().contains("plain-secret"));
    assert!(!shown.to_string().contains("argon2"), "hashes are not shown either");
    let stored: Value = sqlx::query_scalar("SELECT value FROM dynamic_settings WHERE key = 'CASH_REGISTER_AUTH_CONF'")
        .fetch_one(&app.ctx.db)
        .await
        .unwrap();
    assert!(!stored.to_string().contains("plain-secret"));
    assert!(stored["credentials"][0]["password_hash"].as_str().unwrap().starts_with("$argon2id$"));
    // Writing the masked value back keeps the password.
    app.set_cash_register_conf(shown["value"].clone()).await;
    assert_eq!(login_code(&app, "c1", "plain-secret").await, "409");
}

#[tokio::test]
async fn every_change_is_kept_in_the_history_newest_first() {
    let app = spawn_app().await;
    app.set_cash_register_conf(json!({"credentials": [{"username": "c1", "password": "one"}]})).await;
    app.set_cash_register_conf(
        json!({"credentials": [{"username": "c2", "password": "two"}], "installment_enabled": true}),
    )
    .await;
    let body: Value = app.admin_get("/admin/api/settings/CASH_REGISTER_AUTH_CONF/history/").await.json().await.unwrap();
    let history = body["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["version"], 2);
    assert_eq!(history[0]["value"]["credentials"][0]["username"], "c2");
    assert_eq!(history[1]["value"]["credentials"][0], json!({"username": "c1", "password": "********"}));
    assert_eq!(history[0]["updated_by"], "admin-api");
    assert!(!body.to_string().contains("\"one\"") && !body.to_string().contains("\"two\""));
}

#[tokio::test]
async fn several_credential_pairs_are_active_at_once_for_rotation() {
    let app = spawn_app().await;
    app.set_cash_register_conf(json!({"credentials": [
        {"username": "old", "password": "old-pass"}, {"username": "new", "password": "new-pass"}
    ]}))
    .await;
    assert_eq!(login_code(&app, "old", "old-pass").await, "409");
    assert_eq!(login_code(&app, "new", "new-pass").await, "409");
    assert_eq!(login_code(&app, "new", "old-pass").await, "403");
    // retire the old pair, keeping the new one's password by sending it masked
    app.set_cash_register_conf(json!({"credentials": [{"username": "new", "password": "********"}]})).await;
    assert_eq!(login_code(&app, "old", "old-pass").await, "403");
    assert_eq!(login_code(&app, "new", "new-pass").await, "409");
}

#[tokio::test]
async fn a_change_on_one_instance_is_in_force_on_another_within_2_seconds() {
    let env = std::sync::Arc::new(TestEnv::new().await);
    let a = spawn_app_in(env.clone(), |_| {}, RunOptions { worker: false }).await;
    let b = spawn_app_in(env, |_| {}, RunOptions { worker: false }).await;
    assert_eq!(login_code(&b, "rotated", "pw-1").await, "403");
    a.set_cash_register_conf(json!({"credentials": [{"username": "rotated", "password": "pw-1"}]})).await;
    assert!(wait_for_login_code(&b, "rotated", "pw-1", "409", Duration::from_secs(2)).await);
}

#[tokio::test]
async fn the_settings_cli_changes_a_running_server_without_restart() {
    let app = spawn_app().await;
    let env = &app.env;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cashdesk"))
        .args([
            "settings",
            "set",
            "CASH_REGISTER_AUTH_CONF",
            r#"{"credentials": [{"username": "cli", "password": "cli-pass"}]}"#,
        ])
        .env("DATABASE_URL", env.database_url())
        .env("REDIS_URL", redis_url())
        .env("REDIS_KEY_PREFIX", &env.prefix)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(wait_for_login_code(&app, "cli", "cli-pass", "409", Duration::from_secs(2)).await);
    let history = std::process::Command::new(env!("CARGO_BIN_EXE_cashdesk"))
        .args(["settings", "history", "CASH_REGISTER_AUTH_CONF"])
        .env("DATABASE_URL", env.database_url())
        .env("REDIS_URL", redis_url())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&history.stdout);
    assert!(text.contains("v1") && text.contains("cli:") && !text.contains("cli-pass"), "{text}");
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_cashdesk"))
        .args(["settings", "set", "CASH_REGISTER_AUTH_CONF", r#"{"credentials": 3}"#])
        .env("DATABASE_URL", env.database_url())
        .env("REDIS_URL", redis_url())
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("credentials"));
}

#[tokio::test]
async fn webhook_secrets_are_masked_on_read() {
    let app = spawn_app().await;
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let res = app
        .admin_put(
            "/admin/api/settings/ORDER_WEBHOOK_CONF/",
            &json!({"value": {"endpoints": [{"url": "http://127.0.0.1:9/h", "secret": secret}]}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let shown: Value = app.admin_get("/admin/api/settings/ORDER_WEBHOOK_CONF/").await.json().await.unwrap();
    assert_eq!(shown["value"]["endpoints"][0]["secret"], "********");
    assert!(!shown.to_string().contains(secret));
    let res = app
        .admin_put(
            "/admin/api/settings/ORDER_WEBHOOK_CONF/",
            &json!({"value": {"endpoints": [{"url": "ftp://x", "secret": secret}]}}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}
