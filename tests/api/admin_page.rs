//! The operators' page over HTTP: served with a strict Content-Security-Policy
//! and no inline script, sign-in by body only, the session cookie's flags,
//! CSRF protection of every state change, the settings history, and the
//! lists the page shows (payments, orders, drawers, webhook replay is in
//! webhooks.rs). The page in a real browser: browser.rs.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A client that keeps cookies, as a browser does.
fn browser_like() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Signs `client` in; returns the CSRF token.
async fn sign_in(app: &TestApp, client: &reqwest::Client) -> String {
    let res = client.post(app.url("/admin/session")).json(&json!({"token": ADMIN_TOKEN})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn admin_page_is_served_with_a_strict_content_security_policy_and_no_inline_script() {
    let app = spawn_app().await;
    let res = app.get("/admin").await;
    assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(res.headers()["location"], "/admin/");
    let res = app.get("/admin/").await;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self'") && csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let html = res.text().await.unwrap();
    for script in html.split("<script").skip(1) {
        let tag_end = script.find('>').unwrap();
        assert!(script[..tag_end].contains("src=\"/admin/assets/"), "inline or foreign script: {script}");
        assert!(script[tag_end + 1..].starts_with("</script>"), "inline script body: {script}");
    }
    assert!(!html.contains("http://") && !html.contains("https://"), "the page loads nothing from the internet");
    assert!(!html.contains("style="), "no inline styles (the policy would block them)");
    for (file, kind) in [("app.js", "text/javascript"), ("app.css", "text/css")] {
        let res = app.get(&format!("/admin/assets/{file}")).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with(kind));
        let body = res.text().await.unwrap();
        assert!(
            !body.contains("innerHTML") && !body.contains("insertAdjacentHTML") && !body.contains("eval("),
            "{file}"
        );
    }
    assert_eq!(app.get("/admin/assets/../Cargo.toml").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_admin_page_is_off_while_admin_token_is_unset() {
    let env = std::sync::Arc::new(TestEnv::new().await);
    let app = spawn_app_in(env, |s| s.admin_token = None, cashdesk::startup::RunOptions { worker: false }).await;
    assert_eq!(app.get("/admin/").await.status(), StatusCode::UNAUTHORIZED);
    let res = app.post_json("/admin/session", &json!({"token": ADMIN_TOKEN})).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sign_in_sets_an_http_only_same_site_strict_cookie_and_never_takes_the_token_from_the_url() {
    let app = spawn_app().await;
    let client = browser_like();
    let res =
        client.post(app.url("/admin/session")).json(&json!({"token": "wrong-token-0123456789"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().get("set-cookie").is_none());
    // A token in the query string is no sign-in.
    let res = client.post(app.url(&format!("/admin/session?token={ADMIN_TOKEN}"))).send().await.unwrap();
    assert!(res.status().is_client_error());
    assert!(res.headers().get("set-cookie").is_none());
    assert_eq!(client.get(app.url("/admin/api/settings/")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);

    let res = client.post(app.url("/admin/session")).json(&json!({"token": ADMIN_TOKEN})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    for flag in ["cashdesk_admin=", "HttpOnly", "SameSite=Strict", "Path=/admin"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    assert!(!cookie.contains(ADMIN_TOKEN), "the cookie is a random session id, not the token");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["csrf_token"].as_str().unwrap().len(), 64);
    // The session lives in Redis under the test's prefix, with an expiry.
    let mut redis = app.redis().await;
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{}admin_session:*", app.env.prefix)).query_async(&mut redis).await.unwrap();
    assert_eq!(keys.len(), 1);
    let ttl: i64 = redis::cmd("TTL").arg(&keys[0]).query_async(&mut redis).await.unwrap();
    assert!(ttl > 0 && ttl <= 8 * 3600, "{ttl}");
    // The page can pick its session up again after a reload.
    let again: Value = client.get(app.url("/admin/session")).send().await.unwrap().json().await.unwrap();
    assert_eq!(again["csrf_token"], body["csrf_token"]);
    assert_eq!(client.get(app.url("/admin/api/settings/")).send().await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn with_a_page_session_every_state_change_needs_its_csrf_token() {
    let app = spawn_app().await;
    app.seed().await;
    let client = browser_like();
    let csrf = sign_in(&app, &client).await;
    let path = app.url("/admin/api/settings/CASH_REGISTER_AUTH_CONF/");
    let value =
        json!({"value": {"credentials": [{"username": CASHIER.0, "password": "********"}], "shipping_sku": "SHIP-02"}});
    let res = client.put(&path).json(&value).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no CSRF token");
    let res = client.put(&path).header("X-CSRF-Token", "0".repeat(64)).json(&value).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "wrong CSRF token");
    let res =
        client.post(app.url("/admin/api/shops/")).json(&json!({"shop_id": "S1", "name": "Shop"})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = client.delete(app.url("/admin/session")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "signing out needs the token too");

    let res = client.put(&path).header("X-CSRF-Token", &csrf).json(&value).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["updated_by"], "admin-page");
    assert_eq!(body["value"]["shipping_sku"], "SHIP-02");

    // A session's token is no good for another session.
    let other = browser_like();
    let other_csrf = sign_in(&app, &other).await;
    let res = client.put(&path).header("X-CSRF-Token", &other_csrf).json(&value).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let res = client.delete(app.url("/admin/session")).header("X-CSRF-Token", &csrf).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(client.get(app.url("/admin/api/settings/")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // The bearer token keeps working without any CSRF token, as API clients expect.
    assert_eq!(app.admin_put("/admin/api/settings/CASH_REGISTER_AUTH_CONF/", &value).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn repeated_wrong_tokens_lock_sign_in_for_that_address() {
    let app = spawn_app().await;
    for _ in 0..20 {
        let res = app.post_json("/admin/session", &json!({"token": "wrong-token-0123456789"})).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app.post_json("/admin/session", &json!({"token": ADMIN_TOKEN})).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "locked even with the right token");
    let lockouts: Value = app.admin_get("/admin/api/lockouts/").await.json().await.unwrap();
    let entry =
        lockouts["lockouts"].as_array().unwrap().iter().find(|l| l["protocol"] == "admin").expect("listed").clone();
    assert_eq!(
        (&entry["kind"], &entry["address"], &entry["failures"]),
        (&json!("address"), &json!("127.0.0.1"), &json!(21))
    );
    let subject = entry["subject"].as_str().unwrap();
    let res = app
        .client
        .delete(app.url(&format!("/admin/api/lockouts/admin/{subject}/")))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.post_json("/admin/session", &json!({"token": ADMIN_TOKEN})).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn settings_history_says_who_changed_what_without_showing_secrets() {
    let app = spawn_app().await;
    app.seed().await;
    app.set_cash_register_conf(json!({
        "credentials": [{"username": CASHIER.0, "password": "********"}, {"username": "cashier02", "password": "second-secret"}],
        "installment_enabled": true, "shipping_sku": "SHIP-01",
    }))
    .await;
    app.set_cash_register_conf(json!({"credentials": [{"username": "cashier02", "password": "rotated-secret"}], "installment_enabled": true, "shipping_sku": "SHIP-01"}))
        .await;
    let res = app.admin_get("/admin/api/settings/CASH_REGISTER_AUTH_CONF/history/").await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    for secret in [CASHIER.1, "second-secret", "rotated-secret", "$argon2"] {
        assert!(!text.contains(secret), "history shows {secret}");
    }
    let history: Value = serde_json::from_str(&text).unwrap();
    let changes: Vec<Vec<String>> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["changes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect())
        .collect();
    assert_eq!(changes[0], ["removed credential cashier01", "changed the password of credential cashier02"]);
    assert_eq!(changes[1], ["added credential cashier02", "installment_enabled: false → true"]);
    assert_eq!(changes[2][0], "added credential cashier01");
    assert_eq!(history["history"][0]["updated_by"], "admin-api");
    assert_eq!(history["history"][0]["value"]["credentials"][0]["password"], "********");
}

#[tokio::test]
async fn recent_payments_and_orders_are_listed_newest_first() {
    let app = spawn_app().await;
    app.seed().await;
    let (_, first) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let (_, second) = app.pre_order(json!([{"sku": "SKU-2", "quantity": 2}])).await;
    assert_eq!(app.complete(&first, "TXN-A", "99.99").await["result"], "0");
    assert_eq!(app.complete(&second, "TXN-B", "21.00").await["result"], "0");
    let payments: Value = app.admin_get("/admin/api/payments/").await.json().await.unwrap();
    let payments = payments["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 2);
    assert_eq!(payments[0]["order_number"], second.as_str());
    assert_eq!(payments[0]["paid_amount"], "21.00");
    assert_eq!(payments[1]["transaction_id"], "TXN-A");
    assert!(payments[0]["order_created_at"].is_null(), "no order before the worker ran");
    app.run_jobs().await;
    let payments: Value = app.admin_get("/admin/api/payments/").await.json().await.unwrap();
    assert_eq!(payments["payments"].as_array().unwrap().len(), 2);
    for payment in payments["payments"].as_array().unwrap() {
        assert!(payment["order_created_at"].is_string(), "{payment}: its order's time once the worker ran");
    }
    let orders: Value = app.admin_get("/admin/api/orders/?limit=1").await.json().await.unwrap();
    let orders = orders["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 1, "limit is applied");
    assert_eq!(orders[0]["total_amount"], "21.00");
    assert_eq!(orders[0]["status"], "completed");
    assert_eq!(app.admin_get("/admin/api/orders/?limit=abc").await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/admin/api/payments/").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn drawers_are_listed_with_the_balance_they_should_hold_and_todays_cash() {
    let app = spawn_app().await;
    let call = |method: reqwest::Method, path: &str, body: Value| {
        app.client
            .request(method, app.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
            .json(&body)
            .send()
    };
    let ok = |res: reqwest::Response| async move {
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
        res.json::<Value>().await.unwrap_or(Value::Null)
    };
    use reqwest::Method;
    ok(call(
        Method::PUT,
        "/v0/stores/store-1/cash-drawer-config",
        json!({"cash_drawer_type": "integrated", "cash_management_enabled": true}),
    )
    .await
    .unwrap())
    .await;
    for id in ["D1", "D2"] {
        ok(call(Method::POST, "/v0/cash-drawers", json!({"cash_drawer_id": id, "name": format!("Till {id}"), "currency": "USD", "float": 200, "store_id": "store-1", "type": "integrated"})).await.unwrap()).await;
    }
    ok(call(Method::POST, "/v0/cash-drawers/D1/_activate", json!({"float_amount": {"value": 200, "currency": "USD"}}))
        .await
        .unwrap())
    .await;
    let sale = ok(call(Method::POST, "/v0/cash-drawers/D1/transactions", json!({"order_id": "A-1", "amount": {"value": 45.5, "currency": "USD"}, "given": {"value": 50, "currency": "USD"}})).await.unwrap()).await;
    let id = sale["transaction_id"].as_str().unwrap().to_string();
    ok(call(Method::PATCH, &format!("/v0/cash-drawers/D1/transactions/{id}"), json!({"status": "completed"}))
        .await
        .unwrap())
    .await;
    let refund = ok(call(Method::POST, "/v0/cash-drawers/D1/transactions", json!({"order_id": "A-2", "amount": {"value": -10, "currency": "USD"}, "given": {"value": 0, "currency": "USD"}})).await.unwrap()).await;
    let id = refund["transaction_id"].as_str().unwrap().to_string();
    ok(call(Method::PATCH, &format!("/v0/cash-drawers/D1/transactions/{id}"), json!({"status": "completed"}))
        .await
        .unwrap())
    .await;

    let res = app.admin_get("/admin/api/drawers/").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let drawers = body["cash_drawers"].as_array().unwrap();
    assert_eq!(drawers.len(), 2);
    let d1 = &drawers[0];
    assert_eq!(d1["cash_drawer_id"], "D1");
    assert_eq!(d1["status"], "active");
    assert_eq!(d1["balance"], json!({"value": 235.5, "currency": "USD"}), "200 float + 45.50 sale - 10 return");
    assert_eq!(d1["today_cash_in"], json!({"value": 45.5, "currency": "USD"}));
    assert_eq!(d1["today_cash_out"], json!({"value": 10, "currency": "USD"}));
    assert!(d1["activated_at"].is_string());
    let d2 = &drawers[1];
    assert_eq!(d2["status"], "inactive");
    assert!(d2["balance"].is_null());
    assert_eq!(d2["today_cash_in"]["value"], 0);
}
