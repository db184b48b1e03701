//! Cash drawer API (SPEC §8): lifecycle, every 409/400 rule, counts and their
//! maths, reports against a hand-computed ledger, token scoping, idempotency,
//! concurrency and the ledger's tamper evidence.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const STORE: &str = "store-1";
const OTHER_STORE: &str = "store-2";

/// An app with a cash-managed store, an associate of it and one inactive USD drawer `D1`.
struct Desk {
    app: TestApp,
    token: String,
}

impl Desk {
    async fn new() -> Desk {
        Desk::with_config(json!({"cash_drawer_type": "integrated", "cash_management_enabled": true})).await
    }

    async fn with_config(config: Value) -> Desk {
        let app = spawn_app().await;
        let token = issue_token(&app, "alice", "Alice Till", &[STORE]).await;
        let desk = Desk { app, token };
        let (status, body) =
            desk.call(Method::PUT, &format!("/v0/stores/{STORE}/cash-drawer-config"), Some(config)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        desk.add_drawer("D1", "USD", "100").await;
        desk
    }

    async fn send(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
        self.app.send_json(method, path, token, body, &headers).await
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.send(Some(&self.token), method, path, body, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    async fn add_drawer(&self, id: &str, currency: &str, float: &str) {
        let body = json!({"cash_drawer_id": id, "name": format!("Drawer {id}"), "currency": currency,
            "float": serde_json::from_str::<Value>(float).unwrap(), "store_id": STORE, "type": "integrated"});
        let (status, answer) = self.post("/v0/cash-drawers", body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }

    async fn activate(&self, drawer: &str, float: &str) {
        let (status, body) =
            self.post(&format!("/v0/cash-drawers/{drawer}/_activate"), json!({"float_amount": usd(float)})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Starts a sale or return; answers its id.
    async fn start_sale(&self, drawer: &str, amount: &str, given: &str) -> String {
        let (status, body) = self
            .post(
                &format!("/v0/cash-drawers/{drawer}/transactions"),
                json!({"order_id": "order-1", "amount": usd(amount), "given": usd(given)}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["transaction_id"].as_str().unwrap().to_string()
    }

    async fn finish(&self, drawer: &str, transaction: &str, status: &str) -> (StatusCode, Value) {
        self.patch(&format!("/v0/cash-drawers/{drawer}/transactions/{transaction}"), json!({"status": status})).await
    }

    async fn sale(&self, drawer: &str, amount: &str, given: &str) -> String {
        let id = self.start_sale(drawer, amount, given).await;
        let (status, body) = self.finish(drawer, &id, "completed").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        id
    }

    async fn configure_types(&self) {
        let res = self
            .app
            .client
            .put(self.app.url("/v0/cash-drawer-transaction-types"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"transaction_types": {
                "add_petty_cash": {"status": "configured", "configuration": {"balance_modification": "cash_in",
                    "reasons": [{"code": "change_top_up", "label": "Change top-up"}]}},
                "remove_petty_cash": {"status": "configured", "configuration": {"balance_modification": "cash_out",
                    "reasons": [{"code": "post_office", "label": "Post office"}, {"code": "food", "label": "Buy snacks"}]}},
            }}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    }

    async fn non_sale(&self, drawer: &str, body: Value) -> (StatusCode, Value) {
        self.post(&format!("/v0/cash-drawers/{drawer}/non-sale-transactions"), body).await
    }

    async fn start_count(&self, drawer: &str, reason: &str) -> String {
        let (status, body) = self.post(&format!("/v0/cash-drawers/{drawer}/counts"), json!({"reason": reason})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["count_id"].as_str().unwrap().to_string()
    }

    async fn record_count(&self, drawer: &str, count: &str, counted: &str) -> (StatusCode, Value) {
        self.patch(&format!("/v0/cash-drawers/{drawer}/counts/{count}"), json!({"counted_amount": usd(counted)})).await
    }

    async fn count_action(&self, drawer: &str, count: &str, action: &str) -> StatusCode {
        self.call(Method::POST, &format!("/v0/cash-drawers/{drawer}/counts/{count}/{action}"), None).await.0
    }

    /// Counts `counted` at end of day, submits it and deactivates.
    async fn close_day(&self, drawer: &str, counted: &str) {
        let count = self.start_count(drawer, "end_of_day_balance").await;
        let (status, body) = self.record_count(drawer, &count, counted).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(self.count_action(drawer, &count, "_submit").await, StatusCode::OK);
        let (status, body) =
            self.post(&format!("/v0/cash-drawers/{drawer}/_deactivate"), json!({"count_id": count})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    async fn verify(&self, drawer: &str) -> Value {
        let (status, body) = self.get(&format!("/v0/cash-drawers/{drawer}/ledger/verify")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn reports(&self, drawer: &str) -> Value {
        let (status, body) = self.get(&format!("/v0/cash-drawers/{drawer}/reports")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

async fn issue_token(app: &TestApp, associate: &str, name: &str, stores: &[&str]) -> String {
    let res = app
        .client
        .post(app.url("/admin/api/associates/"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"associate_id": associate, "name": name, "store_ids": stores}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string()
}

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{body}");
    assert!(body["error_code"].is_string() && body["message"].is_string() && body["request_id"].is_string(), "{body}");
}

#[tokio::test]
async fn a_drawer_goes_through_its_whole_day_and_its_report_and_ledger_agree() {
    let desk = Desk::new().await;
    let (status, body) = desk.get("/v0/cash-drawers/D1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "inactive");
    assert_eq!(body["float"], json!(100));

    desk.activate("D1", "49.99").await;
    let (_, body) = desk.get(&format!("/v0/cash-drawers?store_id={STORE}")).await;
    assert_eq!(body["cash_drawers"][0]["status"], "active");

    let sale = desk.start_sale("D1", "45", "50").await;
    let (_, draft) = desk.get(&format!("/v0/cash-drawers/D1/transactions/{sale}")).await;
    assert_eq!(draft["status"], "draft");
    let (status, done) = desk.finish("D1", &sale, "completed").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(done["status"], "completed");
    assert_eq!(done["reason"], "sale");
    assert_eq!(done["amount_in"], usd("50"));
    assert_eq!(done["amount_out"], usd("5"));
    assert_eq!(done["amount_balance"], usd("45"));
    assert_eq!(done["associate_id"], "alice");
    assert!(done["finished_at"].is_string());

    let count = desk.start_count("D1", "end_of_day_balance").await;
    let (status, body) = desk
        .post("/v0/cash-drawers/D1/activities", json!({"timestamp": "2019-10-11T10:11:17Z", "event": "open", "correlation": "count", "correlation_id": count}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["event_id"].is_string());
    let (_, recorded) = desk.record_count("D1", &count, "94.99").await;
    assert_eq!(
        recorded,
        json!({"discrepancy": false, "expected_amount": usd("94.99"), "discrepancy_amount": usd("0")})
    );
    assert_eq!(desk.count_action("D1", &count, "_submit").await, StatusCode::OK);
    let (status, body) = desk.post("/v0/cash-drawers/D1/_deactivate", json!({"count_id": count})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = desk.get("/v0/cash-drawers/D1").await;
    assert_eq!(body["status"], "inactive");

    let report = &desk.reports("D1").await["reports"][0];
    assert_eq!(report["open_float"], usd("49.99"));
    assert_eq!(report["net_sales"], usd("45"));
    assert_eq!(report["end_of_day_count"], usd("94.99"));
    assert_eq!(report["variance_total"], usd("0"));
    assert_eq!(report["deposit_total"], usd("-45"));
    assert!(report["deactivation_timestamp"].is_string());
    // float, sale, and the deposit (no variance row: the count matched)
    assert_eq!(desk.verify("D1").await, json!({"valid": true, "entries": 3}));
}

#[tokio::test]
async fn activation_and_deactivation_write_their_webhook_events_to_the_outbox() {
    let desk = Desk::new().await;
    desk.activate("D1", "200").await;
    desk.sale("D1", "10.10", "20").await;
    desk.close_day("D1", "210.10").await;
    let rows: Vec<(String, Value)> = sqlx::query_as("SELECT event_type, payload FROM webhook_outbox ORDER BY id")
        .fetch_all(&desk.app.ctx.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, "cashBox_open");
    assert_eq!(rows[0].1["type"], "cashBox_open");
    assert_eq!(rows[0].1["cashBoxID"], "D1");
    assert_eq!(rows[0].1["closed"], Value::Null);
    assert_eq!(rows[0].1["Total"], json!(200));
    assert_eq!(rows[1].0, "cashBox_close");
    assert_eq!(rows[1].1["type"], "cashBox_close");
    assert_eq!(rows[1].1["opened"], rows[0].1["opened"]);
    assert!(chrono::DateTime::parse_from_rfc3339(rows[1].1["closed"].as_str().unwrap()).is_ok());
    assert_eq!(rows[1].1["Total"].to_string(), "210.1");
}

#[tokio::test]
async fn store_config_round_trips_and_types_list_every_type() {
    let desk = Desk::new().await;
    let (status, body) = desk.get(&format!("/v0/stores/{STORE}/cash-drawer-config")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["cash_drawer_type"], "integrated");
    assert_eq!(body["cash_management_enabled"], true);
    let (status, _) = desk
        .call(
            Method::PUT,
            &format!("/v0/stores/{STORE}/cash-drawer-config"),
            Some(json!({"cash_drawer_type": "non_integrated", "cash_management_enabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = desk
        .call(
            Method::PUT,
            &format!("/v0/stores/{STORE}/cash-drawer-config"),
            Some(json!({"cash_drawer_type": "wooden", "cash_management_enabled": true})),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);

    let (_, types) = desk.get("/v0/cash-drawer-transaction-types").await;
    assert_eq!(types["transaction_types"].as_object().unwrap().len(), 10);
    assert_eq!(types["transaction_types"]["no_sale"], json!({"status": "not_allowed"}));
    desk.configure_types().await;
    let (_, types) = desk.get("/v0/cash-drawer-transaction-types").await;
    assert_eq!(types["transaction_types"]["remove_petty_cash"]["status"], "configured");
    assert_eq!(types["transaction_types"]["remove_petty_cash"]["configuration"]["balance_modification"], "cash_out");
    assert_eq!(
        types["transaction_types"]["remove_petty_cash"]["configuration"]["reasons"][1],
        json!({"code": "food", "label": "Buy snacks"})
    );
}

#[tokio::test]
async fn configuring_transaction_types_needs_the_admin_token() {
    let desk = Desk::new().await;
    let (status, body) = desk
        .call(
            Method::PUT,
            "/v0/cash-drawer-transaction-types",
            Some(json!({"transaction_types": {"no_sale": {"status": "not_allowed"}}})),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_missing_or_unknown_token_answers_401_and_another_stores_drawer_403() {
    let desk = Desk::new().await;
    let (status, body) = desk.send(None, Method::GET, "/v0/cash-drawers/D1", None, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED);
    let (status, body) = desk.send(Some("cdk_assoc_nope"), Method::GET, "/v0/cash-drawers/D1", None, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED);

    let bob = issue_token(&desk.app, "bob", "Bob", &[OTHER_STORE]).await;
    for (method, path, body) in [
        (Method::GET, "/v0/cash-drawers/D1".to_string(), None),
        (Method::GET, format!("/v0/cash-drawers?store_id={STORE}"), None),
        (Method::POST, "/v0/cash-drawers/D1/_activate".to_string(), Some(json!({"float_amount": usd("10")}))),
        (Method::GET, format!("/v0/stores/{STORE}/cash-drawer-config"), None),
        (Method::GET, format!("/v0/cash-transactions/report?store-id={STORE}&start-time=2020-01-01T00:00:00Z&end-time=2030-01-01T00:00:00Z&offset=0&limit=10"), None),
        (Method::POST, "/v0/cash-drawers".to_string(), Some(json!({"cash_drawer_id": "X", "name": "x", "currency": "USD", "float": 1, "store_id": STORE, "type": "integrated"}))),
    ] {
        let (status, answer) = desk.send(Some(&bob), method, &path, body, None).await;
        assert_error(status, &answer, StatusCode::FORBIDDEN);
    }
    let (status, body) = desk.get("/v0/cash-drawers/NOPE").await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    // the admin token acts on every store
    let (status, _) = desk.send(Some(ADMIN_TOKEN), Method::GET, "/v0/cash-drawers/D1", None, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_revoked_associate_token_stops_working_at_once() {
    let desk = Desk::new().await;
    assert_eq!(desk.get("/v0/cash-drawers/D1").await.0, StatusCode::OK);
    let res = desk
        .app
        .client
        .delete(desk.app.url("/admin/api/associates/alice/"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(desk.get("/v0/cash-drawers/D1").await.0, StatusCode::UNAUTHORIZED);
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM associates WHERE associate_id = 'alice'")
        .fetch_one(&desk.app.ctx.db)
        .await
        .unwrap();
    assert_ne!(stored, desk.token, "only the hash is stored");
    assert_eq!(stored, cashdesk::secrets::sha256_hex(desk.token.as_bytes()));
}

#[tokio::test]
async fn adding_a_drawer_twice_answers_409_and_bad_fields_400() {
    let desk = Desk::new().await;
    let base = json!({"cash_drawer_id": "D1", "name": "again", "currency": "USD", "float": 10, "store_id": STORE, "type": "integrated"});
    let (status, body) = desk.post("/v0/cash-drawers", base.clone()).await;
    assert_error(status, &body, StatusCode::CONFLICT);
    for (field, bad) in
        [("currency", json!("DOLLARS")), ("float", json!(1.234)), ("type", json!("shoebox")), ("name", json!(""))]
    {
        let mut body = base.clone();
        body["cash_drawer_id"] = json!("D2");
        body[field] = bad;
        let (status, answer) = desk.post("/v0/cash-drawers", body).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST);
        assert!(answer["message"].as_str().unwrap().contains(field), "{answer}");
    }
}

#[tokio::test]
async fn a_decommissioned_drawer_refuses_every_change_and_an_active_one_cannot_be_decommissioned() {
    let desk = Desk::new().await;
    desk.activate("D1", "10").await;
    let (status, body) = desk.call(Method::DELETE, "/v0/cash-drawers/D1", None).await;
    assert_error(status, &body, StatusCode::CONFLICT);
    desk.close_day("D1", "10").await;
    let (status, _) = desk.call(Method::DELETE, "/v0/cash-drawers/D1", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = desk.get("/v0/cash-drawers/D1").await;
    assert_eq!(body["status"], "decommissioned");
    let (status, body) = desk.patch("/v0/cash-drawers/D1", json!({"name": "x", "float": 5})).await;
    assert_error(status, &body, StatusCode::CONFLICT);
    let (status, body) = desk.post("/v0/cash-drawers/D1/_activate", json!({"float_amount": usd("10")})).await;
    assert_error(status, &body, StatusCode::CONFLICT);
    let (status, body) = desk.call(Method::DELETE, "/v0/cash-drawers/D1", None).await;
    assert_error(status, &body, StatusCode::CONFLICT);
    let (_, list) = desk.get(&format!("/v0/cash-drawers?store_id={STORE}")).await;
    assert_eq!(list["cash_drawers"], json!([]));
}

#[tokio::test]
async fn updating_a_drawer_changes_its_name_and_default_float() {
    let desk = Desk::new().await;
    let (status, body) = desk.patch("/v0/cash-drawers/D1", json!({"name": "Not a shoe box", "float": 250.5})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Not a shoe box");
    assert_eq!(body["float"].to_string(), "250.5");
}

#[tokio::test]
async fn transactions_and_counts_need_an_active_drawer_and_cash_management() {
    let desk = Desk::new().await;
    let sale = json!({"order_id": "o", "amount": usd("1"), "given": usd("1")});
    let (status, body) = desk.post("/v0/cash-drawers/D1/transactions", sale.clone()).await;
    assert_error(status, &body, StatusCode::CONFLICT);
    let (status, body) = desk.post("/v0/cash-drawers/D1/counts", json!({"reason": "intra_day_balance"})).await;
    assert_error(status, &body, StatusCode::CONFLICT);
    let (status, body) = desk.post("/v0/cash-drawers/D1/_activate", json!({"float_amount": usd("10")})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = desk.post("/v0/cash-drawers/D1/_activate", json!({"float_amount": usd("10")})).await;
    assert_error(status, &body, StatusCode::CONFLICT);

    let (status, _) = desk
        .call(
            Method::PUT,
            &format!("/v0/stores/{STORE}/cash-drawer-config"),
            Some(json!({"cash_drawer_type": "integrated", "cash_management_enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = desk.post("/v0/cash-drawers/D1/transactions", sale).await;
    assert_error(status, &body, StatusCode::CONFLICT);
    let (status, body) = desk.post("/v0/cash-drawers/D1/counts", json!({"reason": "intra_day_balance"})).await;
    assert_error(status, &body, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_sale_paid_short_or_in_another_currency_or_with_three_decimals_answers_400() {
    let desk = Desk::new().await;
    desk.activate("D1", "10").await;
    for body in [
        json!({"order_id": "o", "amount": usd("45"), "given": usd("44.99")}),
        json!({"order_id": "o", "amount": money("45", "EUR"), "given": money("50", "EUR")}),
        json!({"order_id": "o", "amount": usd("45.001"), "given": usd("50")}),
        json!({"order_id": "o", "amount": usd("45"), "given": {"value": "fifty", "currency": "USD"}}),
        json!({"order_id": "o", "amount": usd("0"), "given": usd("0")}),
        json!({"amount": usd("45"), "given": usd("50")}),
    ] {
        let (status, answer) = desk.post("/v0/cash-drawers/D1/transactions", body.clone()).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn a_sale_answers_its_change_exactly_and_a_return_pays_cash_out() {
    let desk = Desk::new().await;
    desk.activate("D1", "100").await;
    let (status, body) = desk
        .post("/v0/cash-drawers/D1/transactions", json!({"order_id": "o", "amount": usd("0.1"), "given": usd("0.3")}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["change"], usd("0.2"));
    let ret = desk.sale("D1", "-19.99", "0").await;
    let (_, body) = desk.get(&format!("/v0/cash-drawers/D1/transactions/{ret}")).await;
    assert_eq!(body["reason"], "return");
    assert_eq!(body["amount_in"], usd("0"));
    assert_eq!(body["amount_out"], usd("19.99"));
    assert_eq!(body["amount_balance"], usd("-19.99"));
}

#[tokio::test]
async fn finishing_a_transaction_twice_answers_409_and_drafts_and_cancels_move_no_money() {
    let desk = Desk::new().await;
    desk.activate("D1", "100").await;
    let done = desk.sale("D1", "30", "30").await;
    let (status, body) = desk.finish("D1", &done, "completed").await;
    assert_error(status, &body, StatusCode::CONFLICT);
    let (status, body) = desk.finish("D1", &done, "canceled").await;
    assert_error(status, &body, StatusCode::CONFLICT);
    let canceled = desk.start_sale("D1", "500", "500").await;
    assert_eq!(desk.finish("D1", &canceled, "canceled").await.0, StatusCode::OK);
    let (status, body) = desk.finish("D1", &canceled, "completed").await;
    assert_error(status, &body, StatusCode::CONFLICT);
    desk.start_sale("D1", "700", "700").await; // left as a draft
    let (status, body) = desk.finish("D1", &done, "finished").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);
    let (status, body) = desk.finish("D1", "00000000-0000-0000-0000-000000000000", "completed").await;
    assert_error(status, &body, StatusCode::NOT_FOUND);

    let count = desk.start_count("D1", "intra_day_balance").await;
    let (_, recorded) = desk.record_count("D1", &count, "130").await;
    assert_eq!(recorded["expected_amount"], usd("130"));
    assert_eq!(recorded["discrepancy"], false);
}

#[tokio::test]
async fn non_sale_types_need_configuration_and_a_reason_of_their_own() {
    let desk = Desk::new().await;
    desk.activate("D1", "100").await;
    let (status, body) = desk
        .non_sale(
            "D1",
            json!({"transaction_type": "remove_petty_cash", "reason_code": "post_office", "amount_out": usd("50")}),
        )
        .await;
    assert_error(status, &body, StatusCode::CONFLICT);
    desk.configure_types().await;
    for bad in [
        json!({"transaction_type": "remove_petty_cash", "reason_code": "casino", "amount_out": usd("50")}),
        json!({"transaction_type": "remove_petty_cash", "amount_out": usd("50")}),
        json!({"transaction_type": "remove_petty_cash", "reason_code": "food", "amount_in": usd("50")}),
        json!({"transaction_type": "remove_petty_cash", "reason_code": "food", "amount_out": money("50", "EUR")}),
        json!({"transaction_type": "steal_everything", "reason_code": "food", "amount_out": usd("50")}),
    ] {
        let (status, answer) = desk.non_sale("D1", bad.clone()).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST);
    }
    let (status, body) = desk.non_sale("D1", json!({"transaction_type": "cash_pull", "amount_out": usd("50")})).await;
    assert_error(status, &body, StatusCode::CONFLICT);

    let (status, body) = desk
        .non_sale(
            "D1",
            json!({"transaction_type": "remove_petty_cash", "reason_code": "post_office", "amount_out": usd("50")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let out = body["transaction_id"].as_str().unwrap().to_string();
    assert_eq!(desk.finish("D1", &out, "completed").await.0, StatusCode::OK);
    let (_, t) = desk.get(&format!("/v0/cash-drawers/D1/transactions/{out}")).await;
    assert_eq!(t["amount_balance"], usd("-50"));
    assert_eq!(t["reason_code"], "post_office");
    let count = desk.start_count("D1", "intra_day_balance").await;
    let (_, recorded) = desk.record_count("D1", &count, "50").await;
    assert_eq!(recorded["expected_amount"], usd("50"));
}

#[tokio::test]
async fn a_count_discrepancy_is_counted_minus_expected_to_the_cent() {
    let desk = Desk::new().await;
    desk.activate("D1", "49.99").await;
    desk.sale("D1", "52.01", "60").await; // expected 102.00
    desk.sale("D1", "-0.01", "0").await; // expected 101.99
    let count = desk.start_count("D1", "intra_day_balance").await;
    let (status, body) = desk.record_count("D1", &count, "99.99").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"discrepancy": true, "expected_amount": usd("101.99"), "discrepancy_amount": usd("-2")}));
    assert_eq!(body["discrepancy_amount"]["value"].to_string(), "-2");
    let (status, body) = desk.record_count("D1", &count, "102").await;
    assert_error(status, &body, StatusCode::CONFLICT);
    assert_eq!(desk.count_action("D1", &count, "_recount").await, StatusCode::OK);
    let (_, body) = desk.record_count("D1", &count, "102.00").await;
    assert_eq!(body["discrepancy_amount"], usd("0.01"));
    assert_eq!(body["discrepancy"], true);
}

#[tokio::test]
async fn acting_on_a_submitted_or_canceled_count_answers_409() {
    let desk = Desk::new().await;
    desk.activate("D1", "10").await;
    let submitted = desk.start_count("D1", "intra_day_balance").await;
    assert_eq!(desk.count_action("D1", &submitted, "_submit").await, StatusCode::CONFLICT, "nothing recorded yet");
    desk.record_count("D1", &submitted, "10").await;
    assert_eq!(desk.count_action("D1", &submitted, "_submit").await, StatusCode::OK);
    let canceled = desk.start_count("D1", "intra_day_balance").await;
    assert_eq!(desk.count_action("D1", &canceled, "_cancel").await, StatusCode::OK);
    for count in [&submitted, &canceled] {
        for action in ["_recount", "_submit", "_cancel"] {
            assert_eq!(desk.count_action("D1", count, action).await, StatusCode::CONFLICT, "{action}");
        }
        assert_eq!(desk.record_count("D1", count, "10").await.0, StatusCode::CONFLICT);
    }
    assert_eq!(desk.count_action("D1", &submitted, "_explode").await, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn deactivation_needs_a_submitted_end_of_day_count_taken_after_the_last_movement() {
    let desk = Desk::new().await;
    desk.activate("D1", "10").await;
    let intra = desk.start_count("D1", "intra_day_balance").await;
    desk.record_count("D1", &intra, "10").await;
    desk.count_action("D1", &intra, "_submit").await;
    let eod = desk.start_count("D1", "end_of_day_balance").await;
    desk.record_count("D1", &eod, "10").await;
    for count in [intra.as_str(), eod.as_str()] {
        let (status, body) = desk.post("/v0/cash-drawers/D1/_deactivate", json!({"count_id": count})).await;
        assert_error(status, &body, StatusCode::CONFLICT);
    }
    desk.count_action("D1", &eod, "_submit").await;
    desk.sale("D1", "5", "5").await;
    let (status, body) = desk.post("/v0/cash-drawers/D1/_deactivate", json!({"count_id": eod})).await;
    assert_error(status, &body, StatusCode::CONFLICT);
    let (status, body) =
        desk.post("/v0/cash-drawers/D1/_deactivate", json!({"count_id": "00000000-0000-0000-0000-000000000000"})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    desk.close_day("D1", "15").await;
    let (_, body) = desk.get("/v0/cash-drawers/D1").await;
    assert_eq!(body["status"], "inactive");
}

#[tokio::test]
async fn blind_counts_answer_only_whether_there_is_a_discrepancy_but_reports_keep_the_amounts() {
    let desk = Desk::with_config(json!({"cash_drawer_type": "integrated", "cash_management_enabled": true, "expose_count_expected_amount": false})).await;
    desk.activate("D1", "100").await;
    desk.sale("D1", "20", "20").await;
    let count = desk.start_count("D1", "end_of_day_balance").await;
    let (status, body) = desk.record_count("D1", &count, "119.50").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"discrepancy": true}));
    let kept: (rust_decimal::Decimal, rust_decimal::Decimal) =
        sqlx::query_as("SELECT expected_amount, discrepancy_amount FROM cash_counts")
            .fetch_one(&desk.app.ctx.db)
            .await
            .unwrap();
    assert_eq!(kept.0.to_string(), "120.00");
    assert_eq!(kept.1.to_string(), "-0.50");
    desk.count_action("D1", &count, "_submit").await;
    desk.post("/v0/cash-drawers/D1/_deactivate", json!({"count_id": count})).await;
    let report = &desk.reports("D1").await["reports"][0];
    assert_eq!(report["variance_total"], usd("-0.5"));
    assert_eq!(report["end_of_day_count"], usd("119.5"));
}

#[tokio::test]
async fn daily_reports_match_a_hand_computed_ledger() {
    let desk = Desk::new().await;
    desk.configure_types().await;
    // day 1
    desk.activate("D1", "300").await;
    desk.sale("D1", "120.25", "150").await;
    desk.sale("D1", "79.75", "80").await;
    desk.sale("D1", "-60.10", "0").await;
    desk.sale("D1", "-39.90", "0").await;
    let drafts = desk.start_sale("D1", "999", "999").await; // never completed
    let canceled = desk.start_sale("D1", "888", "888").await;
    desk.finish("D1", &canceled, "canceled").await;
    let (_, t) = desk
        .non_sale(
            "D1",
            json!({"transaction_type": "add_petty_cash", "reason_code": "change_top_up", "amount_in": usd("100")}),
        )
        .await;
    desk.finish("D1", t["transaction_id"].as_str().unwrap(), "completed").await;
    let (_, t) = desk
        .non_sale(
            "D1",
            json!({"transaction_type": "remove_petty_cash", "reason_code": "food", "amount_out": usd("0.01")}),
        )
        .await;
    desk.finish("D1", t["transaction_id"].as_str().unwrap(), "completed").await;
    // expected = 300 + (200 + 100) - (100 + 0.01) = 499.99; counted 500.50 → variance 0.51
    desk.close_day("D1", "500.50").await;
    // day 2, still open
    desk.activate("D1", "250").await;
    desk.sale("D1", "10", "10").await;
    let _ = drafts;

    let body = desk.reports("D1").await;
    assert_eq!(body["pagination_info"], json!({"count": 2, "total": 2, "offset": 0}));
    let today = &body["reports"][0];
    assert_eq!(today["open_float"], usd("250"));
    assert_eq!(today["net_sales"], usd("10"));
    assert_eq!(today["end_of_day_count"], Value::Null);
    assert_eq!(today["variance_total"], Value::Null);
    assert_eq!(today["deposit_total"], Value::Null);
    assert_eq!(today["deactivation_timestamp"], Value::Null);
    let day1 = &body["reports"][1];
    assert_eq!(day1["open_float"], usd("300"));
    assert_eq!(day1["net_sales"], usd("200"));
    assert_eq!(day1["net_returns"], usd("100"));
    assert_eq!(day1["net_non_sale_cash_in"], usd("100"));
    assert_eq!(day1["net_non_sale_cash_out"], usd("0.01"));
    assert_eq!(day1["net_cash_in"], usd("300"));
    assert_eq!(day1["net_cash_out"], usd("100.01"));
    assert_eq!(day1["end_of_day_count"], usd("500.5"));
    assert_eq!(day1["variance_total"], usd("0.51"));
    assert_eq!(day1["deposit_total"], usd("-200.5"));
    let page = &desk.get("/v0/cash-drawers/D1/reports?offset=1&limit=1").await.1;
    assert_eq!(page["pagination_info"], json!({"count": 1, "total": 2, "offset": 1}));
    assert_eq!(page["reports"][0]["open_float"], usd("300"));
    let (status, body) = desk.get("/v0/cash-drawers/D1/reports?limit=101").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);

    // the same numbers straight from the ledger rows
    let day1_ledger: Vec<(String, rust_decimal::Decimal)> = sqlx::query_as(
        "SELECT entry_type, SUM(amount) FROM cash_drawer_ledger WHERE activation_id = (
             SELECT activation_id FROM cash_drawer_activations ORDER BY activated_at LIMIT 1)
         GROUP BY entry_type ORDER BY entry_type",
    )
    .fetch_all(&desk.app.ctx.db)
    .await
    .unwrap();
    let ledger: Vec<(String, String)> = day1_ledger.into_iter().map(|(k, v)| (k, v.to_string())).collect();
    let expected: Vec<(String, String)> = [
        ("end_of_day_withdrawal", "-200.50"),
        ("float", "300.00"),
        ("non_sale_in", "100.00"),
        ("non_sale_out", "-0.01"),
        ("reconciliation", "0.51"),
        ("return", "-100.00"),
        ("sale", "200.00"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(ledger, expected);
}

#[tokio::test]
async fn the_store_report_lists_ledger_movements_in_the_window_with_filter_and_paging() {
    let desk = Desk::new().await;
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    desk.activate("D1", "100").await;
    for i in 1..=5 {
        desk.sale("D1", &format!("{i}.5"), "10").await;
    }
    let after = chrono::Utc::now() + chrono::Duration::seconds(1);
    let window = |extra: &str| {
        format!(
            "/v0/cash-transactions/report?store-id={STORE}&start-time={}&end-time={}{extra}",
            before.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            after.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )
    };
    let (status, body) = desk.get(&window("&offset=0&limit=10")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 6);
    let first = &body["transactionReport"][0];
    assert_eq!(first["transactionType"], "float_adjustment");
    assert_eq!(first["amountBalance"], json!(100));
    let sale = &body["transactionReport"][1];
    for field in [
        "cashDrawerStatus",
        "cashDrawerName",
        "cashDrawerId",
        "currency",
        "createdAt",
        "transactionType",
        "associateId",
        "associateName",
        "orderId",
        "externalOrderId",
        "reasonCode",
        "amountBalance",
        "storeId",
    ] {
        assert!(!sale[field].is_null(), "{field} missing in {sale}");
    }
    assert_eq!(sale["cashDrawerId"], "D1");
    assert_eq!(sale["associateName"], "Alice Till");
    assert_eq!(sale["amountBalance"].to_string(), "1.5");
    assert_eq!(sale["storeId"], STORE);

    let (_, page) = desk.get(&window("&offset=2&limit=2&transaction-type=sale")).await;
    assert_eq!(page["total"], 5);
    assert_eq!(page["transactionReport"].as_array().unwrap().len(), 2);
    assert_eq!(page["transactionReport"][0]["amountBalance"].to_string(), "3.5");

    let (_, empty) = desk
        .get(&format!("/v0/cash-transactions/report?store-id={STORE}&start-time=2001-01-01T00:00:00Z&end-time=2001-01-02T00:00:00Z&offset=0&limit=10"))
        .await;
    assert_eq!(empty, json!({"transactionReport": [], "total": 0}));
    for bad in ["&offset=0&limit=101", "&offset=-1&limit=10", "&transaction-type=bribe"] {
        let (status, body) = desk.get(&window(bad)).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST);
    }
    let (status, body) =
        desk.get(&format!("/v0/cash-transactions/report?store-id={STORE}&start-time=yesterday&end-time=today")).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_retried_sale_with_the_same_idempotency_key_is_recorded_once() {
    let desk = Desk::new().await;
    desk.activate("D1", "100").await;
    let body = json!({"order_id": "o-7", "amount": usd("45"), "given": usd("50")});
    let (s1, first) = desk
        .send(Some(&desk.token), Method::POST, "/v0/cash-drawers/D1/transactions", Some(body.clone()), Some("pos-7"))
        .await;
    let (s2, second) =
        desk.send(Some(&desk.token), Method::POST, "/v0/cash-drawers/D1/transactions", Some(body), Some("pos-7")).await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    assert_eq!(first, second);
    assert_eq!(desk.app.count("SELECT count(*) FROM cash_transactions").await, 1);

    let id = first["transaction_id"].as_str().unwrap();
    let path = format!("/v0/cash-drawers/D1/transactions/{id}");
    let complete = json!({"status": "completed"});
    let (s1, a) = desk.send(Some(&desk.token), Method::PATCH, &path, Some(complete.clone()), Some("pos-8")).await;
    let (s2, b) = desk.send(Some(&desk.token), Method::PATCH, &path, Some(complete), Some("pos-8")).await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK), "a replay is not a second finish");
    assert_eq!(a, b);
    assert_eq!(desk.app.count("SELECT count(*) FROM cash_drawer_ledger WHERE entry_type = 'sale'").await, 1);
}

#[tokio::test]
async fn the_same_idempotency_key_with_another_body_answers_409() {
    let desk = Desk::new().await;
    desk.activate("D1", "100").await;
    let send = |amount: &'static str| {
        desk.send(
            Some(&desk.token),
            Method::POST,
            "/v0/cash-drawers/D1/transactions",
            Some(json!({"order_id": "o", "amount": usd(amount), "given": usd("50")})),
            Some("k-1"),
        )
    };
    assert_eq!(send("45").await.0, StatusCode::OK);
    let (status, body) = send("46").await;
    assert_error(status, &body, StatusCode::CONFLICT);
    assert_eq!(desk.app.count("SELECT count(*) FROM cash_transactions").await, 1);
    // keys belong to their associate: another one may use the same key
    let bob = issue_token(&desk.app, "bob", "Bob", &[STORE]).await;
    let (status, _) = desk
        .send(
            Some(&bob),
            Method::POST,
            "/v0/cash-drawers/D1/transactions",
            Some(json!({"order_id": "o", "amount": usd("46"), "given": usd("50")})),
            Some("k-1"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn concurrent_retries_with_one_idempotency_key_record_one_sale() {
    let desk = Desk::new().await;
    desk.activate("D1", "100").await;
    let body = json!({"order_id": "o", "amount": usd("45"), "given": usd("50")});
    let answers = futures_util::future::join_all((0..10).map(|_| {
        desk.send(Some(&desk.token), Method::POST, "/v0/cash-drawers/D1/transactions", Some(body.clone()), Some("same"))
    }))
    .await;
    let first = &answers[0].1;
    for (status, answer) in &answers {
        assert_eq!(*status, StatusCode::OK, "{answer}");
        assert_eq!(answer, first);
    }
    assert_eq!(desk.app.count("SELECT count(*) FROM cash_transactions").await, 1);
}

#[tokio::test]
async fn fifty_concurrent_sales_on_one_drawer_keep_the_balance_exact_and_the_chain_valid() {
    let desk = Desk::new().await;
    desk.activate("D1", "0").await;
    let results = futures_util::future::join_all((1..=50).map(|i| {
        let desk = &desk;
        async move {
            let amount = format!("{i}.01");
            let id = desk.start_sale("D1", &amount, &amount).await;
            desk.finish("D1", &id, "completed").await.0
        }
    }))
    .await;
    assert!(results.iter().all(|s| *s == StatusCode::OK), "{results:?}");
    // sum of i + 0.01 for i in 1..=50 = 1275 + 0.50
    let count = desk.start_count("D1", "intra_day_balance").await;
    let (_, body) = desk.record_count("D1", &count, "1275.50").await;
    assert_eq!(body["expected_amount"], usd("1275.5"));
    assert_eq!(body["discrepancy"], false);
    assert_eq!(desk.verify("D1").await, json!({"valid": true, "entries": 51}));
}

#[tokio::test]
async fn the_ledger_refuses_updates_and_verify_reports_a_row_edited_behind_the_services_back() {
    let desk = Desk::new().await;
    desk.activate("D1", "100").await;
    desk.sale("D1", "10", "10").await;
    desk.sale("D1", "20", "20").await;
    assert_eq!(desk.verify("D1").await, json!({"valid": true, "entries": 3}));
    let db = &desk.app.ctx.db;
    let refused = sqlx::query("UPDATE cash_drawer_ledger SET amount = 1000 WHERE seq = 2").execute(db).await;
    assert!(refused.is_err(), "the append-only trigger refuses updates");
    assert!(sqlx::query("DELETE FROM cash_drawer_ledger WHERE seq = 3").execute(db).await.is_err());

    sqlx::query("ALTER TABLE cash_drawer_ledger DISABLE TRIGGER cash_drawer_ledger_no_update_delete")
        .execute(db)
        .await
        .unwrap();
    sqlx::query("UPDATE cash_drawer_ledger SET amount = 1000 WHERE drawer_id = 'D1' AND seq = 2")
        .execute(db)
        .await
        .unwrap();
    let body = desk.verify("D1").await;
    assert_eq!(body["valid"], false);
    assert_eq!(body["first_invalid_entry"], 2);
    assert!(body["reason"].is_string());

    // put it back, then remove the last row: the drawer's head notices
    sqlx::query("UPDATE cash_drawer_ledger SET amount = 10 WHERE drawer_id = 'D1' AND seq = 2")
        .execute(db)
        .await
        .unwrap();
    assert_eq!(desk.verify("D1").await["valid"], true);
    sqlx::query("DELETE FROM cash_drawer_ledger WHERE drawer_id = 'D1' AND seq = 3").execute(db).await.unwrap();
    let body = desk.verify("D1").await;
    assert_eq!(body["valid"], false);
    assert_eq!(body["entries"], 2);
}

#[tokio::test]
async fn activities_must_correlate_to_a_transaction_or_count_of_the_drawer() {
    let desk = Desk::new().await;
    desk.activate("D1", "10").await;
    let sale = desk.start_sale("D1", "1", "1").await;
    let event = |id: &str, correlation: &str| json!({"timestamp": "2019-10-11T10:11:17Z", "event": "open", "correlation": correlation, "correlation_id": id});
    assert_eq!(desk.post("/v0/cash-drawers/D1/activities", event(&sale, "transaction")).await.0, StatusCode::OK);
    let (status, body) = desk.post("/v0/cash-drawers/D1/activities", event(&sale, "count")).await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    let mut bad = event(&sale, "transaction");
    bad["timestamp"] = json!("yesterday");
    let (status, body) = desk.post("/v0/cash-drawers/D1/activities", bad).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn malformed_or_oversized_bodies_answer_in_the_error_shape() {
    let desk = Desk::new().await;
    let res = desk
        .app
        .client
        .post(desk.app.url("/v0/cash-drawers"))
        .bearer_auth(&desk.token)
        .header("content-type", "application/json")
        .body("{\"cash_drawer_id\": ")
        .send()
        .await
        .unwrap();
    let status = res.status();
    assert_error(status, &res.json::<Value>().await.unwrap(), StatusCode::BAD_REQUEST);
    let huge = json!({"cash_drawer_id": "x".repeat(70 * 1024)});
    let res = desk
        .app
        .client
        .post(desk.app.url("/v0/cash-drawers"))
        .bearer_auth(&desk.token)
        .json(&huge)
        .send()
        .await
        .unwrap();
    let status = res.status();
    assert_error(status, &res.json::<Value>().await.unwrap(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn completing_a_draft_after_the_drawer_was_closed_answers_409() {
    let desk = Desk::new().await;
    desk.activate("D1", "10").await;
    let late = desk.start_sale("D1", "5", "5").await;
    desk.close_day("D1", "10").await;
    let (status, body) = desk.finish("D1", &late, "completed").await;
    assert_error(status, &body, StatusCode::CONFLICT);
    desk.activate("D1", "10").await;
    let (status, body) = desk.finish("D1", &late, "completed").await;
    assert_error(status, &body, StatusCode::CONFLICT);
    assert_eq!(desk.finish("D1", &late, "canceled").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_retried_activation_opens_the_drawer_and_sends_its_webhook_once() {
    let desk = Desk::new().await;
    let body = json!({"float_amount": usd("100")});
    for _ in 0..2 {
        let (status, answer) = desk
            .send(Some(&desk.token), Method::POST, "/v0/cash-drawers/D1/_activate", Some(body.clone()), Some("open-1"))
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    assert_eq!(desk.app.count("SELECT count(*) FROM webhook_outbox").await, 1);
    assert_eq!(desk.app.count("SELECT count(*) FROM cash_drawer_activations").await, 1);
    assert_eq!(desk.app.count("SELECT count(*) FROM cash_drawer_ledger").await, 1);
}

#[tokio::test]
async fn an_idempotency_key_is_forgotten_after_24_hours() {
    let desk = Desk::new().await;
    desk.activate("D1", "100").await;
    let sale = |amount: &'static str| {
        desk.send(
            Some(&desk.token),
            Method::POST,
            "/v0/cash-drawers/D1/transactions",
            Some(json!({"order_id": "o", "amount": usd(amount), "given": usd("50")})),
            Some("old-key"),
        )
    };
    assert_eq!(sale("45").await.0, StatusCode::OK);
    assert_eq!(sale("46").await.0, StatusCode::CONFLICT);
    sqlx::query("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
        .execute(&desk.app.ctx.db)
        .await
        .unwrap();
    assert_eq!(sale("46").await.0, StatusCode::OK);
    assert_eq!(desk.app.count("SELECT count(*) FROM cash_transactions").await, 2);
}

#[tokio::test]
async fn transaction_type_configuration_refuses_unknown_types_and_reasons_without_codes() {
    let desk = Desk::new().await;
    for bad in [
        json!({"transaction_types": {"bribe": {"status": "not_allowed"}}}),
        json!({"transaction_types": {"no_sale": {"status": "configured"}}}),
        json!({"transaction_types": {"no_sale": {"status": "configured", "configuration": {"balance_modification": "sideways", "reasons": []}}}}),
        json!({"transaction_types": {"no_sale": {"status": "configured", "configuration": {"balance_modification": "cash_in", "reasons": [{"label": "x"}]}}}}),
    ] {
        let (status, body) =
            desk.send(Some(ADMIN_TOKEN), Method::PUT, "/v0/cash-drawer-transaction-types", Some(bad), None).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST);
    }
}

/// Where `value` breaks `schema` (resolved against `doc`): types, enums,
/// required and documented properties, items. A structural check, enough to
/// catch a drifting field, word or type; schemathesis checks the rest in CI.
fn breaks(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return breaks(doc, &doc["components"]["schemas"][name], value, at);
    }
    if let Some(choices) = schema["oneOf"].as_array() {
        return match choices.iter().map(|c| breaks(doc, c, value, at)).find(Vec::is_empty) {
            Some(ok) => ok,
            None => vec![format!("{at}: {value} matches none of {}", schema["oneOf"])],
        };
    }
    let mut found = Vec::new();
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let type_of = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let allowed = types.is_empty() || types.contains(&type_of) || (type_of == "integer" && types.contains(&"number"));
    if !allowed {
        found.push(format!("{at}: {value} is not {types:?}"));
    }
    if let Some(words) = schema["enum"].as_array() {
        if !words.contains(value) {
            found.push(format!("{at}: {value} is not one of {words:?}"));
        }
    }
    if let (Some(properties), Value::Object(fields)) = (schema["properties"].as_object(), value) {
        for required in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !fields.contains_key(required) {
                found.push(format!("{at}: {required} is documented as required but missing"));
            }
        }
        for (name, field) in fields {
            match properties.get(name) {
                Some(property) => found.extend(breaks(doc, property, field, &format!("{at}.{name}"))),
                None => found.push(format!("{at}: {name} is not documented")),
            }
        }
    }
    if let (Some(items), Value::Array(elements)) = (schema.get("items"), value) {
        for (i, element) in elements.iter().enumerate() {
            found.extend(breaks(doc, items, element, &format!("{at}[{i}]")));
        }
    }
    found
}

#[tokio::test]
async fn every_drawer_answer_is_the_one_the_published_document_describes() {
    let desk = Desk::with_config(json!({"cash_drawer_type": "integrated", "cash_management_enabled": true})).await;
    desk.configure_types().await;
    let doc: Value = desk.app.get("/openapi.json").await.json().await.unwrap();
    let mut answers: Vec<(Method, &str, StatusCode, Value)> = Vec::new();
    let mut record = |method: Method, template: &'static str, (status, body): (StatusCode, Value)| {
        answers.push((method, template, status, body));
    };
    record(
        Method::GET,
        "/v0/stores/{store_id}/cash-drawer-config",
        desk.get(&format!("/v0/stores/{STORE}/cash-drawer-config")).await,
    );
    record(
        Method::GET,
        "/v0/stores/{store_id}/cash-drawer-config",
        desk.get("/v0/stores/nowhere/cash-drawer-config").await,
    );
    record(Method::GET, "/v0/cash-drawer-transaction-types", desk.get("/v0/cash-drawer-transaction-types").await);
    let drawer = json!({"cash_drawer_id": "D2", "name": "Back", "currency": "USD", "float": "0.50", "store_id": STORE, "type": "non_integrated"});
    record(Method::POST, "/v0/cash-drawers", desk.post("/v0/cash-drawers", drawer.clone()).await);
    record(Method::POST, "/v0/cash-drawers", desk.post("/v0/cash-drawers", drawer).await);
    record(Method::GET, "/v0/cash-drawers", desk.get(&format!("/v0/cash-drawers?store_id={STORE}")).await);
    record(Method::GET, "/v0/cash-drawers/{drawer_id}", desk.get("/v0/cash-drawers/D1").await);
    record(Method::GET, "/v0/cash-drawers/{drawer_id}", desk.get("/v0/cash-drawers/NOPE").await);
    record(
        Method::PATCH,
        "/v0/cash-drawers/{drawer_id}",
        desk.patch("/v0/cash-drawers/D1", json!({"float": 20.5})).await,
    );
    record(
        Method::POST,
        "/v0/cash-drawers/{drawer_id}/_activate",
        desk.post("/v0/cash-drawers/D1/_activate", json!({"float_amount": usd("20")})).await,
    );
    record(
        Method::POST,
        "/v0/cash-drawers/{drawer_id}/_activate",
        desk.post("/v0/cash-drawers/D1/_activate", json!({"float_amount": usd("20")})).await,
    );
    let sale = desk
        .post("/v0/cash-drawers/D1/transactions", json!({"order_id": "o", "amount": usd("4.5"), "given": usd("5")}))
        .await;
    let sale_id = sale.1["transaction_id"].as_str().unwrap().to_string();
    record(Method::POST, "/v0/cash-drawers/{drawer_id}/transactions", sale);
    record(
        Method::POST,
        "/v0/cash-drawers/{drawer_id}/transactions",
        desk.post("/v0/cash-drawers/D1/transactions", json!({"amount": 4})).await,
    );
    record(
        Method::GET,
        "/v0/cash-drawers/{drawer_id}/transactions/{transaction_id}",
        desk.get(&format!("/v0/cash-drawers/D1/transactions/{sale_id}")).await,
    );
    record(
        Method::PATCH,
        "/v0/cash-drawers/{drawer_id}/transactions/{transaction_id}",
        desk.finish("D1", &sale_id, "completed").await,
    );
    let non_sale = desk
        .non_sale(
            "D1",
            json!({"transaction_type": "add_petty_cash", "reason_code": "change_top_up", "amount_in": usd("1")}),
        )
        .await;
    record(Method::POST, "/v0/cash-drawers/{drawer_id}/non-sale-transactions", non_sale);
    let count = desk.post("/v0/cash-drawers/D1/counts", json!({"reason": "end_of_day_balance"})).await;
    let count_id = count.1["count_id"].as_str().unwrap().to_string();
    record(Method::POST, "/v0/cash-drawers/{drawer_id}/counts", count);
    let event = json!({"timestamp": "2019-10-11T10:11:17Z", "event": "open", "correlation": "count", "correlation_id": count_id});
    record(
        Method::POST,
        "/v0/cash-drawers/{drawer_id}/activities",
        desk.post("/v0/cash-drawers/D1/activities", event).await,
    );
    record(
        Method::PATCH,
        "/v0/cash-drawers/{drawer_id}/counts/{count_id}",
        desk.record_count("D1", &count_id, "24.5").await,
    );
    let submit = desk.call(Method::POST, &format!("/v0/cash-drawers/D1/counts/{count_id}/_submit"), None).await;
    record(Method::POST, "/v0/cash-drawers/{drawer_id}/counts/{count_id}/{action}", submit);
    let deactivated = desk.post("/v0/cash-drawers/D1/_deactivate", json!({"count_id": count_id})).await;
    record(Method::POST, "/v0/cash-drawers/{drawer_id}/_deactivate", deactivated);
    record(Method::GET, "/v0/cash-drawers/{drawer_id}/reports", desk.get("/v0/cash-drawers/D1/reports").await);
    desk.activate("D1", "10").await;
    record(Method::GET, "/v0/cash-drawers/{drawer_id}/reports", desk.get("/v0/cash-drawers/D1/reports").await);
    record(
        Method::GET,
        "/v0/cash-drawers/{drawer_id}/ledger/verify",
        desk.get("/v0/cash-drawers/D1/ledger/verify").await,
    );
    let window = "start-time=2020-01-01T00:00:00Z&end-time=2100-01-01T00:00:00Z";
    record(
        Method::GET,
        "/v0/cash-transactions/report",
        desk.get(&format!("/v0/cash-transactions/report?store-id={STORE}&{window}")).await,
    );
    record(
        Method::GET,
        "/v0/cash-transactions/report",
        desk.get(&format!("/v0/cash-transactions/report?store-id={STORE}")).await,
    );
    let blind = json!({"cash_drawer_type": "non_integrated", "cash_management_enabled": true, "expose_count_expected_amount": false});
    record(
        Method::PUT,
        "/v0/stores/{store_id}/cash-drawer-config",
        desk.call(Method::PUT, &format!("/v0/stores/{STORE}/cash-drawer-config"), Some(blind)).await,
    );
    let blind_count = desk.start_count("D1", "intra_day_balance").await;
    record(
        Method::PATCH,
        "/v0/cash-drawers/{drawer_id}/counts/{count_id}",
        desk.record_count("D1", &blind_count, "10").await,
    );
    let other = issue_token(&desk.app, "bob", "Bob", &[OTHER_STORE]).await;
    record(
        Method::GET,
        "/v0/cash-drawers/{drawer_id}",
        desk.send(Some(&other), Method::GET, "/v0/cash-drawers/D1", None, None).await,
    );
    record(
        Method::GET,
        "/v0/cash-drawers/{drawer_id}",
        desk.send(None, Method::GET, "/v0/cash-drawers/D1", None, None).await,
    );

    let statuses: std::collections::BTreeSet<u16> = answers.iter().map(|(_, _, status, _)| status.as_u16()).collect();
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        vec![200, 201, 400, 401, 403, 404, 409],
        "the walk covers every kind of answer"
    );
    for (method, template, status, body) in &answers {
        let operation = &doc["paths"][*template][method.as_str().to_lowercase()];
        let answer = &operation["responses"][status.as_str()];
        assert!(answer.is_object(), "{method} {template} answered {status}, which it does not document: {body}");
        let schema = &answer["content"]["application/json"]["schema"];
        assert!(schema.is_object(), "{method} {template} {status} documents no JSON body");
        let found = breaks(&doc, schema, body, "answer");
        assert!(found.is_empty(), "{method} {template} {status}: {found:#?}\n{body}");
    }
}
