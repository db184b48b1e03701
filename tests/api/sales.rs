//! The sales web service (SPEC §9): shops, recording sales, the daily report
//! in every format, catalog exports and signed invoice links.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A shop created through the admin API; answers its key.
pub async fn create_shop(app: &TestApp, shop_id: &str) -> String {
    let res = app
        .client
        .post(app.url("/admin/api/shops/"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"shop_id": shop_id, "name": format!("Shop {shop_id}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["key"].as_str().unwrap().to_string()
}

/// A seeded app with shop `IST-01`, a known client and its key.
pub async fn app_with_shop() -> (TestApp, String) {
    let app = spawn_app().await;
    app.seed().await;
    let res = app.admin_put("/admin/api/customers/C-42/", &json!({"name": "Ada Lovelace", "email": "ada@example.com"})).await;
    assert!(res.status().is_success());
    let key = create_shop(&app, "IST-01").await;
    (app, key)
}

pub fn sale(key: &str, extra: Value) -> Value {
    let mut body = json!({
        "shop_id": "IST-01", "key": key, "payment_method_id": "credit-card", "delivery_method_id": "pickup",
        "user_id": 7, "client_id": "C-42",
        "items": [{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 1, "price": "9.50"}],
    });
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            body.as_object_mut().unwrap().remove(k);
        } else {
            body[k] = v.clone();
        }
    }
    body
}

pub async fn record(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    let res = app.post_json("/ws/v1/sales", body).await;
    (res.status(), res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_shop_key_is_shown_once_and_stored_only_as_a_hash() {
    let app = spawn_app().await;
    let key = create_shop(&app, "IST-01").await;
    assert!(key.starts_with("cdshop_"));
    let stored: String = sqlx::query_scalar("SELECT key_sha256 FROM shops").fetch_one(&app.ctx.db).await.unwrap();
    assert_ne!(stored, key);
    assert_eq!(stored, cashdesk::secrets::sha256_hex(key.as_bytes()));
    let again = app
        .client
        .post(app.url("/admin/api/shops/"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"shop_id": "IST-01", "name": "Again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let anonymous = app.post_json("/admin/api/shops/", &json!({"shop_id": "X", "name": "X"})).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn recording_a_sale_for_an_existing_client_creates_a_completed_order_with_both_events() {
    let (app, key) = app_with_shop().await;
    let (status, body) = record(&app, &sale(&key, json!({"cash_box_id": "BOX-1"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let number = body["order_id"].as_str().unwrap();
    assert!(body["order_internal_id"].as_i64().unwrap() > 0);
    let (status, order) = app.order(number).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(order["status"], "completed");
    assert_eq!(order["customer_id"], "C-42");
    assert_eq!(order["shop_id"], "IST-01");
    assert_eq!(order["cash_box_id"], "BOX-1");
    assert_eq!(order["staff_id"], 7);
    // 2 × 99.99 at the catalog price, 1 × 9.50 overriding 10.50
    assert_eq!(order["total_amount"], "209.48");
    assert_eq!(order["lines"][1]["unit_price"], "9.50");
    assert_eq!(order["is_refund"], false);
    let events: Vec<String> = sqlx::query_scalar("SELECT event_type FROM webhook_outbox ORDER BY id").fetch_all(&app.ctx.db).await.unwrap();
    assert_eq!(events, ["validated", "terminated"]);
}

#[tokio::test]
async fn recording_a_sale_for_a_new_client_creates_the_client() {
    let (app, key) = app_with_shop().await;
    let client = json!({"name": "Grace Hopper", "email": "grace@example.com", "phone": "+90 555", "address": {"city": "Istanbul"}});
    let (status, body) = record(&app, &sale(&key, json!({"client_id": null, "client": client}))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, order) = app.order(body["order_id"].as_str().unwrap()).await;
    let client_id = order["customer_id"].as_str().unwrap();
    assert_eq!(order["customer"]["name"], "Grace Hopper");
    let name: String = sqlx::query_scalar("SELECT name FROM customers WHERE id = $1").bind(client_id).fetch_one(&app.ctx.db).await.unwrap();
    assert_eq!(name, "Grace Hopper");
}

#[tokio::test]
async fn a_refund_with_a_date_is_recorded_on_that_day() {
    let (app, key) = app_with_shop().await;
    // 2024-03-01T10:00:00Z
    let (status, body) = record(&app, &sale(&key, json!({"is_refund": true, "date": 1709287200}))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, order) = app.order(body["order_id"].as_str().unwrap()).await;
    assert_eq!(order["is_refund"], true);
    assert_eq!(order["created_at"], "2024-03-01T10:00:00Z");
}

#[tokio::test]
async fn a_missing_key_answers_401_and_a_wrong_key_403_with_the_error_body() {
    let (app, key) = app_with_shop().await;
    let (status, body) = record(&app, &sale(&key, json!({"key": null}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error_code"], "unauthorized");
    assert!(body["request_id"].is_string());
    let (status, body) = record(&app, &sale(&key, json!({"key": "cdshop_wrong"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error_code"], "forbidden");
    let (status, _) = record(&app, &sale(&key, json!({"shop_id": "NOWHERE"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let res = app.get("/ws/v1/reports/sales?date=2024-01-01&format=csv").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 0);
}

#[tokio::test]
async fn an_unknown_sku_answers_400_naming_the_item_and_records_nothing() {
    let (app, key) = app_with_shop().await;
    let (status, body) = record(&app, &sale(&key, json!({"items": [{"sku": "SKU-1", "quantity": 1}, {"sku": "NOPE", "quantity": 1}]}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error_code"], "validation_error");
    assert!(body["message"].as_str().unwrap().contains("items[1].sku"), "{body}");
    for (extra, field) in [
        (json!({"client_id": "C-NOBODY"}), "client_id"),
        (json!({"payment_method_id": "barter"}), "payment_method_id"),
        (json!({"items": [{"sku": "SKU-1", "quantity": 0}]}), "items[0].quantity"),
        (json!({"items": [{"sku": "SKU-1", "quantity": 1, "price": "1.234"}]}), "items[0].price"),
        (json!({"items": [{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-USD", "quantity": 1}]}), "currency"),
        (json!({"date": "yesterday"}), "date"),
        (json!({"colour": "red"}), "colour"),
    ] {
        let (status, body) = record(&app, &sale(&key, extra)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["message"].as_str().unwrap().contains(field), "{body} should name {field}");
    }
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM webhook_outbox").await, 0);
}
