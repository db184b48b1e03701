//! No secret in any log line: the real binary runs with `RUST_LOG=trace`
//! while every kind of secret passes through it (admin token, hook passwords
//! right and wrong, IVR credentials, associate tokens, shop keys, webhook
//! signing secrets), and its captured output is searched for each of them.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

const ADMIN: &str = "admin-token-5e0c8d1f9b2a4e67";
const CASHIER_PASSWORD: &str = "cashier-pw-7f3a91c2";
const WRONG_PASSWORD: &str = "guessed-pw-55e1b0d4";
const IVR_PASSWORD: &str = "ivr-pw-0a9b8c7d6e";
const WEBHOOK_SECRET_BODY: &str = "c2VjcmV0LXNpZ25pbmcta2V5LTAxMjM0NTY3";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_in_any_log_line_even_at_trace_level() {
    let env = TestEnv::new().await;
    let dir = TempDir::new("logs");
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut server = Cashdesk::start(
        &env,
        &["serve"],
        &[
            ("BIND", &bind),
            ("RUST_LOG", "trace"),
            ("ADMIN_TOKEN", ADMIN),
            ("IVR_USERNAME", "ivr-user"),
            ("IVR_PASSWORD", IVR_PASSWORD),
            ("HTTP_WORKERS", "1"),
        ],
        dir.join("serve.log"),
    );
    let base = format!("http://{bind}");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let (http_ref, base_ref) = (&http, &base);
    eventually(30, "the server answers", || async move {
        http_ref.get(format!("{base_ref}/health/live")).send().await.is_ok()
    })
    .await;

    let admin_put = |path: &str, body: Value| http.put(format!("{base}{path}")).bearer_auth(ADMIN).json(&body).send();
    let webhook_secret = format!("whsec_{WEBHOOK_SECRET_BODY}");
    for (path, body) in [
        (
            "/admin/api/products/SKU-1/",
            json!({"name": "Shirt", "price": "99.99", "currency": "TRY", "tax_rate": "20.00"}),
        ),
        ("/admin/api/payment-options/cash-register/", json!({"name": "Pay at store", "payment_type": "cash_register"})),
        ("/admin/api/shipping-options/pickup/", json!({"name": "Store pickup", "price": "0.00"})),
        (
            "/admin/api/settings/CASH_REGISTER_AUTH_CONF/",
            json!({"value": {"credentials": [{"username": "cashier01", "password": CASHIER_PASSWORD}]}}),
        ),
        (
            "/admin/api/settings/ORDER_WEBHOOK_CONF/",
            json!({"value": {"endpoints": [{"url": format!("http://127.0.0.1:{}/hook", free_port()), "secret": webhook_secret}]}}),
        ),
    ] {
        let res = admin_put(path, body).await.unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.text().await.unwrap());
    }
    let wrong_admin = http.get(format!("{base}/admin/api/settings/")).bearer_auth(WRONG_PASSWORD).send().await.unwrap();
    assert_eq!(wrong_admin.status(), StatusCode::UNAUTHORIZED);

    // A till: right and wrong passwords, JSON and form, a broken body carrying the password.
    let session = http.post(format!("{base}/api/v1/checkout/")).send().await.unwrap().json::<Value>().await.unwrap()
        ["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = http
        .patch(format!("{base}/api/v1/checkout/"))
        .header("X-Checkout-Session", &session)
        .json(&json!({"basket": {"items": [{"sku": "SKU-1", "quantity": 1}]}, "payment_option": "cash-register", "shipping_option": "pickup"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let number = http
        .get(format!("{base}/hooks/cash_register/get_order_number/"))
        .header("X-Checkout-Session", &session)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["order_number"]
        .as_str()
        .unwrap()
        .to_string();
    let hook = |path: &str, body: Value| http.post(format!("{base}{path}")).json(&body).send();
    let pre_order = json!({"order_number": number, "username": "cashier01", "password": CASHIER_PASSWORD});
    assert!(hook("/hooks/cash_register/pre_order/", pre_order)
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()
        .get("pre_order")
        .is_some());
    hook(
        "/hooks/cash_register/pre_order/",
        json!({"order_number": number, "username": "cashier01", "password": WRONG_PASSWORD}),
    )
    .await
    .unwrap();
    let form = [("order_number", number.as_str()), ("username", "cashier01"), ("password", WRONG_PASSWORD)];
    http.post(format!("{base}/hooks/cash_register/pre_order/")).form(&form).send().await.unwrap();
    let broken = format!(r#"{{"order_number": "{number}", "password": "{CASHIER_PASSWORD}", "#);
    http.post(format!("{base}/hooks/cash_register/complete/"))
        .header("Content-Type", "application/json")
        .body(broken)
        .send()
        .await
        .unwrap();
    let complete = json!({"transaction_id": "TXN-1", "order_number": number, "username": "cashier01", "password": CASHIER_PASSWORD, "amount": "99.99"});
    assert_eq!(
        hook("/hooks/cash_register/complete/", complete).await.unwrap().json::<Value>().await.unwrap()["result"],
        "0"
    );
    hook("/hooks/ivr/pre_order/", json!({"username": "ivr-user", "password": IVR_PASSWORD, "orderNumber": number}))
        .await
        .unwrap();
    hook("/hooks/ivr/pre_order/", json!({"username": "ivr-user", "password": WRONG_PASSWORD, "orderNumber": number}))
        .await
        .unwrap();

    // An associate's token on the drawer API, and a shop's key in a query and in a body.
    let token = http
        .post(format!("{base}/admin/api/associates/"))
        .bearer_auth(ADMIN)
        .json(&json!({"associate_id": "alice", "name": "Alice", "store_ids": ["s1"]}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let res = http
        .put(format!("{base}/v0/stores/s1/cash-drawer-config"))
        .bearer_auth(&token)
        .json(&json!({"cash_drawer_type": "integrated", "cash_management_enabled": true}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    http.get(format!("{base}/v0/cash-drawers?store_id=s1")).bearer_auth(format!("{token}x")).send().await.unwrap();
    let key = http
        .post(format!("{base}/admin/api/shops/"))
        .bearer_auth(ADMIN)
        .json(&json!({"shop_id": "IST-01", "name": "Istanbul"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    let res =
        http.get(format!("{base}/ws/v1/catalog/items?shop_id=IST-01&key={key}&format=json")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let sale = json!({"shop_id": "IST-01", "key": key, "payment_method_id": "cash-register", "delivery_method_id": "pickup",
                      "user_id": 1, "client": {"name": "Ada"}, "items": [{"sku": "SKU-1", "quantity": 1}]});
    assert_eq!(
        http.post(format!("{base}/ws/v1/sales")).json(&sale).send().await.unwrap().status(),
        StatusCode::CREATED
    );

    // Let the worker make the orders and the dispatcher try to sign and send their webhooks.
    let db = sqlx::PgPool::connect(&env.database_url()).await.unwrap();
    let db_ref = &db;
    eventually(30, "webhooks were attempted", || async move {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM webhook_attempts").fetch_one(db_ref).await.unwrap_or(0) > 0
    })
    .await;
    db.close().await;
    server.terminate();

    let log = server.output();
    assert!(
        log.contains("POST /hooks/cash_register/complete/ 200"),
        "the access log is on: {}",
        &log[..log.len().min(2000)]
    );
    assert!(log.lines().count() > 100, "trace logging is on");
    for (what, secret) in [
        ("admin token", ADMIN),
        ("cash register password", CASHIER_PASSWORD),
        ("wrong password", WRONG_PASSWORD),
        ("IVR password", IVR_PASSWORD),
        ("associate token", token.as_str()),
        ("shop key", key.as_str()),
        ("webhook secret", WEBHOOK_SECRET_BODY),
    ] {
        if let Some(line) = log.lines().find(|l| l.contains(secret)) {
            panic!("the {what} is in the log: {line}");
        }
    }
    record_figure(format!("RELIABILITY logs: {} trace lines searched for 7 secrets, none found", log.lines().count()));
}
