//! Store cash operations (SPEC §13, all but deposits): neutral types, counts
//! by denomination and the suggested deposit, the opening check, variance
//! approval by a manager, cash limits and cash rounding. Each new kind of
//! ledger row is followed by a ledger verification.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const STORE: &str = "store-1";
const OTHER_STORE: &str = "store-2";

fn usd_denominations() -> Value {
    json!({"USD": ["100.00", "50.00", "20.00", "10.00", "5.00", "1.00", "0.25", "0.10", "0.05", "0.01"]})
}

/// An app with a cash-managed store (`config` merged into the minimal one),
/// an associate `alice` of it and one inactive USD drawer `D1` (float 100).
struct Desk {
    app: TestApp,
    token: String,
}

impl Desk {
    async fn new(extra: Value) -> Desk {
        let app = spawn_app().await;
        let token = issue_token(&app, "alice", &[STORE], None).await;
        let desk = Desk { app, token };
        let mut config = json!({"cash_drawer_type": "integrated", "cash_management_enabled": true});
        for (k, v) in extra.as_object().unwrap() {
            config[k] = v.clone();
        }
        let (status, body) =
            desk.call(Method::PUT, &format!("/v0/stores/{STORE}/cash-drawer-config"), Some(config)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        desk.add_drawer("D1", None).await;
        desk
    }

    async fn send(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        self.app.send_json(method, path, Some(token), body, headers).await
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.send(&self.token, method, path, body, &[]).await
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

    async fn add_drawer(&self, id: &str, cash_limit: Option<Value>) {
        let mut body = json!({"cash_drawer_id": id, "name": format!("Drawer {id}"), "currency": "USD", "float": 100,
            "store_id": STORE, "type": "integrated"});
        if let Some(limit) = cash_limit {
            body["cash_limit"] = limit;
        }
        let (status, answer) = self.post("/v0/cash-drawers", body).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }

    async fn activate(&self, drawer: &str, body: Value) -> Value {
        let (status, answer) = self.post(&format!("/v0/cash-drawers/{drawer}/_activate"), body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer
    }

    async fn start_sale(&self, drawer: &str, amount: &str, given: &str) -> (StatusCode, Value) {
        self.post(
            &format!("/v0/cash-drawers/{drawer}/transactions"),
            json!({"order_id": "order-1", "amount": usd(amount), "given": usd(given)}),
        )
        .await
    }

    async fn finish(&self, drawer: &str, transaction: &str) -> (StatusCode, Value) {
        self.patch(&format!("/v0/cash-drawers/{drawer}/transactions/{transaction}"), json!({"status": "completed"}))
            .await
    }

    /// A completed sale (or return); answers the finished transaction.
    async fn sale(&self, drawer: &str, amount: &str, given: &str) -> Value {
        let (status, started) = self.start_sale(drawer, amount, given).await;
        assert_eq!(status, StatusCode::OK, "{started}");
        let (status, done) = self.finish(drawer, started["transaction_id"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{done}");
        done
    }

    async fn start_count(&self, drawer: &str, reason: &str) -> String {
        let (status, body) = self.post(&format!("/v0/cash-drawers/{drawer}/counts"), json!({"reason": reason})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["count_id"].as_str().unwrap().to_string()
    }

    async fn record(&self, drawer: &str, count: &str, body: Value) -> (StatusCode, Value) {
        self.patch(&format!("/v0/cash-drawers/{drawer}/counts/{count}"), body).await
    }

    /// Reopens a recorded count of `D1` (which must answer 200), then records `body` in it.
    async fn recount(&self, count: &str, body: Value) -> (StatusCode, Value) {
        assert_eq!(
            self.call(Method::POST, &format!("/v0/cash-drawers/D1/counts/{count}/_recount"), None).await.0,
            StatusCode::OK
        );
        self.record("D1", count, body).await
    }

    async fn submit(&self, drawer: &str, count: &str, approver: Option<&str>) -> (StatusCode, Value) {
        let headers: Vec<(&str, &str)> = approver.map(|t| ("X-Approver-Token", t)).into_iter().collect();
        self.send(
            &self.token,
            Method::POST,
            &format!("/v0/cash-drawers/{drawer}/counts/{count}/_submit"),
            None,
            &headers,
        )
        .await
    }

    async fn deactivate(&self, drawer: &str, count: &str) {
        let (status, body) =
            self.post(&format!("/v0/cash-drawers/{drawer}/_deactivate"), json!({"count_id": count})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Counts `counted` at end of day, submits it and deactivates.
    async fn close_day(&self, drawer: &str, counted: &str) {
        let count = self.start_count(drawer, "end_of_day_balance").await;
        let (status, body) = self.record(drawer, &count, json!({"counted_amount": usd(counted)})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = self.submit(drawer, &count, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        self.deactivate(drawer, &count).await;
    }

    async fn verify(&self, drawer: &str) -> Value {
        let (status, body) = self.get(&format!("/v0/cash-drawers/{drawer}/ledger/verify")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["valid"], true, "{body}");
        body
    }

    async fn report(&self, drawer: &str) -> Value {
        let (status, body) = self.get(&format!("/v0/cash-drawers/{drawer}/reports")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["reports"][0].clone()
    }

    async fn expected_now(&self, drawer: &str) -> Value {
        let count = self.start_count(drawer, "intra_day_balance").await;
        let (status, body) = self.record(drawer, &count, json!({"counted_amount": usd("0")})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            self.call(Method::POST, &format!("/v0/cash-drawers/{drawer}/counts/{count}/_cancel"), None).await.0,
            StatusCode::OK
        );
        body["expected_amount"].clone()
    }

    async fn configure_types(&self, types: Value) {
        let res = self
            .app
            .client
            .put(self.app.url("/v0/cash-drawer-transaction-types"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({ "transaction_types": types }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    }

    async fn sql_count(&self, sql: &str) -> i64 {
        self.app.count(sql).await
    }
}

async fn issue_token(app: &TestApp, associate: &str, stores: &[&str], role: Option<&str>) -> String {
    let mut body = json!({"associate_id": associate, "name": associate.to_uppercase(), "store_ids": stores});
    if let Some(role) = role {
        body["role"] = json!(role);
    }
    let res =
        app.client.post(app.url("/admin/api/associates/")).bearer_auth(ADMIN_TOKEN).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["role"], role.unwrap_or("associate"));
    answer["token"].as_str().unwrap().to_string()
}

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{body}");
    assert!(body["error_code"].is_string() && body["message"].is_string() && body["request_id"].is_string(), "{body}");
}

// ------------------------------------------------------------------ neutral

#[tokio::test]
async fn a_neutral_no_sale_moves_no_cash_and_is_still_a_ledger_row() {
    let desk = Desk::new(json!({})).await;
    desk.configure_types(
        json!({"no_sale": {"status": "configured", "configuration": {"balance_modification": "neutral",
        "reasons": [{"code": "open_drawer", "label": "Open the drawer"}]}}}),
    )
    .await;
    let (_, types) = desk.get("/v0/cash-drawer-transaction-types").await;
    assert_eq!(types["transaction_types"]["no_sale"]["configuration"]["balance_modification"], "neutral");
    desk.activate("D1", json!({"float_amount": usd("100")})).await;
    desk.sale("D1", "10", "10").await;

    for body in [
        json!({"transaction_type": "no_sale", "reason_code": "open_drawer"}),
        json!({"transaction_type": "no_sale", "reason_code": "open_drawer", "amount_in": usd("0"), "amount_out": usd("0.00")}),
    ] {
        let (status, started) = desk.post("/v0/cash-drawers/D1/non-sale-transactions", body).await;
        assert_eq!(status, StatusCode::OK, "{started}");
        let (status, done) = desk.finish("D1", started["transaction_id"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["reason"], "no_sale");
        assert_eq!(done["amount_balance"], usd("0"));
    }
    assert_eq!(desk.expected_now("D1").await, usd("110"));
    assert_eq!(
        desk.sql_count("SELECT count(*) FROM cash_drawer_ledger WHERE entry_type = 'non_sale_neutral' AND amount = 0")
            .await,
        2
    );
    desk.close_day("D1", "110").await;
    let report = desk.report("D1").await;
    assert_eq!(report["net_non_sale_cash_in"], usd("0"));
    assert_eq!(report["net_non_sale_cash_out"], usd("0"));
    assert_eq!(report["expected_amount"], usd("110"));
    // float, sale, two neutral rows, the deposit
    assert_eq!(desk.verify("D1").await["entries"], 5);
}

#[tokio::test]
async fn a_neutral_type_refuses_an_amount_other_than_zero_and_records_nothing() {
    let desk = Desk::new(json!({})).await;
    desk.configure_types(
        json!({"no_sale": {"status": "configured", "configuration": {"balance_modification": "neutral"}}}),
    )
    .await;
    desk.activate("D1", json!({"float_amount": usd("100")})).await;
    for body in [
        json!({"transaction_type": "no_sale", "amount_in": usd("5")}),
        json!({"transaction_type": "no_sale", "amount_out": usd("0.01")}),
        json!({"transaction_type": "no_sale", "amount_in": usd("-1")}),
        json!({"transaction_type": "no_sale", "amount_in": money("0", "EUR")}),
        json!({"transaction_type": "no_sale", "amount_in": usd("0.001")}),
    ] {
        let (status, answer) = desk.post("/v0/cash-drawers/D1/non-sale-transactions", body.clone()).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST);
    }
    assert_eq!(desk.sql_count("SELECT count(*) FROM cash_transactions").await, 0);
    // an unknown modification is refused in the configuration's words
    let res = desk
        .app
        .client
        .put(desk.app.url("/v0/cash-drawer-transaction-types"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"transaction_types": {"no_sale": {"status": "configured", "configuration": {"balance_modification": "sideways"}}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("must be cash_in, cash_out or neutral"), "{body}");
}

// ------------------------------------------------------------ denominations

#[tokio::test]
async fn a_count_by_denominations_records_their_exact_sum_and_reads_back() {
    let desk = Desk::new(json!({"denominations": usd_denominations()})).await;
    desk.activate("D1", json!({"float_amount": usd("100")})).await;
    desk.sale("D1", "145.37", "145.37").await;
    let count = desk.start_count("D1", "intra_day_balance").await;
    let (status, open) = desk.get(&format!("/v0/cash-drawers/D1/counts/{count}")).await;
    assert_eq!(status, StatusCode::OK, "{open}");
    assert_eq!(open["status"], "open");
    assert_eq!(open["reason"], "intra_day_balance");
    assert_eq!(open["counted_amount"], Value::Null);
    assert_eq!(open["counted_denominations"], Value::Null);
    assert_eq!(open["expected_amount"], Value::Null);

    // 12×20 + 1×5 + 1×0.25 + 1×0.10 + 2×0.01 = 245.37; "20" and 20.00 are the same value
    let lines = json!([{"value": "0.01", "quantity": 2}, {"value": "20", "quantity": 12}, {"value": "5.00", "quantity": 1},
        {"value": "0.25", "quantity": 1}, {"value": "0.10", "quantity": 1}, {"value": "50.00", "quantity": 0}]);
    let (status, recorded) = desk.record("D1", &count, json!({"counted_denominations": lines})).await;
    assert_eq!(status, StatusCode::OK, "{recorded}");
    assert_eq!(recorded["expected_amount"], usd("245.37"));
    assert_eq!(recorded["discrepancy_amount"], usd("0"));
    assert!(recorded.get("suggested_deposit").is_none(), "intra-day counts suggest no deposit: {recorded}");

    let (_, read) = desk.get(&format!("/v0/cash-drawers/D1/counts/{count}")).await;
    assert_eq!(read["status"], "recorded");
    assert_eq!(read["count_id"], count.as_str());
    assert_eq!(read["counted_amount"], usd("245.37"));
    assert_eq!(read["expected_amount"], usd("245.37"));
    assert_eq!(read["discrepancy_amount"], usd("0"));
    assert_eq!(
        read["counted_denominations"],
        json!([{"value": "50.00", "quantity": 0}, {"value": "20.00", "quantity": 12}, {"value": "5.00", "quantity": 1},
            {"value": "0.25", "quantity": 1}, {"value": "0.10", "quantity": 1}, {"value": "0.01", "quantity": 2}])
    );
    // both sent and agreeing
    assert_eq!(
        desk.call(Method::POST, &format!("/v0/cash-drawers/D1/counts/{count}/_recount"), None).await.0,
        StatusCode::OK
    );
    let (_, reopened) = desk.get(&format!("/v0/cash-drawers/D1/counts/{count}")).await;
    assert_eq!(reopened["status"], "open");
    let (status, recorded) = desk
        .record(
            "D1",
            &count,
            json!({"counted_amount": usd("245"), "counted_denominations": [{"value": "5.00", "quantity": 49}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{recorded}");
    assert_eq!(recorded["discrepancy_amount"], usd("-0.37"));
    let (status, body) = desk.submit("D1", &count, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, submitted) = desk.get(&format!("/v0/cash-drawers/D1/counts/{count}")).await;
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(submitted["counted_denominations"], json!([{"value": "5.00", "quantity": 49}]));
    // the submitted count is a ledger row of amount 0 with its denominations, in the chain
    let details: String =
        sqlx::query_scalar("SELECT details FROM cash_drawer_ledger WHERE entry_type = 'count' AND amount = 0")
            .fetch_one(&desk.app.ctx.db)
            .await
            .unwrap();
    let details: Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["counted_amount"], "245.00");
    assert_eq!(details["counted_denominations"], json!([{"value": "5.00", "quantity": 49}]));
    assert_eq!(desk.verify("D1").await["entries"], 3);

    let canceled = desk.start_count("D1", "intra_day_balance").await;
    desk.call(Method::POST, &format!("/v0/cash-drawers/D1/counts/{canceled}/_cancel"), None).await;
    assert_eq!(desk.get(&format!("/v0/cash-drawers/D1/counts/{canceled}")).await.1["status"], "canceled");
    let (status, body) = desk.get("/v0/cash-drawers/D1/counts/not-a-count").await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_denomination_counts_are_refused_and_leave_the_count_open() {
    let desk = Desk::new(json!({"denominations": {"USD": ["20.00", "5.00", "1.00", "0.25"], "EUR": ["2.00"]}})).await;
    desk.activate("D1", json!({"float_amount": usd("100")})).await;
    let count = desk.start_count("D1", "end_of_day_balance").await;
    for (body, words) in [
        (
            json!({"counted_denominations": [{"value": "3.00", "quantity": 1}]}),
            "counted_denominations[0].value: 3.00 is not a USD denomination",
        ),
        (json!({"counted_denominations": [{"value": "2.00", "quantity": 1}]}), "is not a USD denomination"),
        (
            json!({"counted_denominations": [{"value": "20.00", "quantity": 1.5}]}),
            "counted_denominations[0].quantity: must be a whole number",
        ),
        (
            json!({"counted_denominations": [{"value": "20.00", "quantity": -1}]}),
            "counted_denominations[0].quantity: must be a whole number",
        ),
        (json!({"counted_denominations": [{"value": "20.00", "quantity": "3"}]}), "quantity"),
        (json!({"counted_denominations": [{"value": "0.251", "quantity": 1}]}), "counted_denominations[0].value"),
        (json!({"counted_denominations": [{"value": "-20.00", "quantity": 1}]}), "counted_denominations[0].value"),
        (
            json!({"counted_denominations": [{"value": "5.00", "quantity": 1}, {"value": "5", "quantity": 2}]}),
            "listed twice",
        ),
        (
            json!({"counted_amount": usd("21"), "counted_denominations": [{"value": "20.00", "quantity": 1}]}),
            "does not agree",
        ),
        (
            json!({"counted_amount": money("20", "EUR"), "counted_denominations": [{"value": "20.00", "quantity": 1}]}),
            "currency",
        ),
        (json!({"counted_amount": usd("20.005")}), "at most 2 decimal places"),
        (json!({"counted_amount": usd("-1")}), "at least 0"),
        (json!({}), "counted_amount: is required"),
    ] {
        let (status, answer) = desk.record("D1", &count, body.clone()).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST);
        assert!(answer["message"].as_str().unwrap().contains(words), "{body} → {answer}");
    }
    let (_, read) = desk.get(&format!("/v0/cash-drawers/D1/counts/{count}")).await;
    assert_eq!(read["status"], "open");
    assert_eq!(read["counted_amount"], Value::Null);

    // a store without denominations for the drawer's currency
    let (status, _) = desk
        .call(Method::PUT, &format!("/v0/stores/{STORE}/cash-drawer-config"),
            Some(json!({"cash_drawer_type": "integrated", "cash_management_enabled": true, "denominations": {"EUR": ["2.00"]}})))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) =
        desk.record("D1", &count, json!({"counted_denominations": [{"value": "20.00", "quantity": 1}]})).await;
    assert_error(status, &answer, StatusCode::BAD_REQUEST);
    assert!(answer["message"].as_str().unwrap().contains("no denominations configured for USD"), "{answer}");
    assert_eq!(desk.sql_count("SELECT count(*) FROM cash_counts WHERE status <> 'started'").await, 0);
}

#[tokio::test]
async fn store_config_keeps_left_out_settings_clears_null_ones_and_refuses_bad_ones() {
    let desk = Desk::new(
        json!({"denominations": usd_denominations(), "variance_tolerance": usd("5"), "cash_rounding": "0.05"}),
    )
    .await;
    let path = format!("/v0/stores/{STORE}/cash-drawer-config");
    let (_, config) = desk.get(&path).await;
    assert_eq!(config["denominations"], usd_denominations());
    assert_eq!(config["variance_tolerance"], usd("5"));
    assert_eq!(config["cash_rounding"], "0.05");
    let base = json!({"cash_drawer_type": "integrated", "cash_management_enabled": true});
    let (status, config) = desk.call(Method::PUT, &path, Some(base.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(config["cash_rounding"], "0.05", "left out: unchanged");
    let mut cleared = base.clone();
    cleared["cash_rounding"] = Value::Null;
    cleared["variance_tolerance"] = Value::Null;
    let (_, config) = desk.call(Method::PUT, &path, Some(cleared)).await;
    assert_eq!(config["cash_rounding"], Value::Null);
    assert_eq!(config["variance_tolerance"], Value::Null);
    assert_eq!(config["denominations"], usd_denominations());
    for (field, value) in [
        ("denominations", json!({"USD": ["0.001"]})),
        ("denominations", json!({"USD": ["-1.00"]})),
        ("denominations", json!({"USD": ["1.00", "1"]})),
        ("denominations", json!({"USD": []})),
        ("denominations", json!({"DOLLARS": ["1.00"]})),
        ("denominations", json!(["1.00"])),
        ("cash_rounding", json!("0")),
        ("cash_rounding", json!("0.005")),
        ("cash_rounding", json!("-0.05")),
        ("variance_tolerance", usd("-5")),
        ("variance_tolerance", usd("5.001")),
    ] {
        let mut body = base.clone();
        body[field] = value.clone();
        let (status, answer) = desk.call(Method::PUT, &path, Some(body)).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST);
        assert!(answer["message"].as_str().unwrap().starts_with(field), "{value} → {answer}");
    }
    let (_, config) = desk.get(&path).await;
    assert_eq!(config["denominations"], usd_denominations(), "nothing recorded by a refused write");
}

// --------------------------------------------------------- suggested deposit

#[tokio::test]
async fn an_end_of_day_count_by_denomination_suggests_what_to_bank_leaving_the_float() {
    let desk = Desk::new(json!({"denominations": usd_denominations()})).await;
    desk.activate("D1", json!({"float_amount": usd("100")})).await;
    desk.sale("D1", "56", "56").await;
    let count = desk.start_count("D1", "end_of_day_balance").await;
    // 156 counted; the drawer's float is 100: the bag gets the large bills, the coins stay
    let (status, recorded) = desk
        .record(
            "D1",
            &count,
            json!({"counted_denominations": [{"value": "50.00", "quantity": 2}, {"value": "20.00", "quantity": 2},
            {"value": "5.00", "quantity": 1}, {"value": "1.00", "quantity": 10}, {"value": "0.25", "quantity": 4}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{recorded}");
    let deposit = &recorded["suggested_deposit"];
    assert_eq!(deposit["amount"], usd("56"));
    assert_eq!(deposit["remaining_float"], usd("100"));
    let bag: rust_decimal::Decimal = deposit["denominations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["value"].as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap()
                * rust_decimal::Decimal::from(l["quantity"].as_u64().unwrap())
        })
        .sum();
    assert_eq!(bag.to_string(), "56.00");
    assert_eq!(deposit["denominations"][0]["value"], "50.00", "largest first: {deposit}");

    // two 50s and three 20s: the float can only be left exactly as the two 50s
    let (_, recorded) = desk
        .recount(
            &count,
            json!({"counted_denominations": [{"value": "50.00", "quantity": 2}, {"value": "20.00", "quantity": 3}]}),
        )
        .await;
    assert_eq!(
        recorded["suggested_deposit"],
        json!({"amount": usd("60"), "denominations": [{"value": "20.00", "quantity": 3}], "remaining_float": usd("100")})
    );
    // a 100 bill and five 20s: the float stays as the five 20s, the bill goes to the bank
    let (_, recorded) = desk
        .recount(
            &count,
            json!({"counted_denominations": [{"value": "100.00", "quantity": 1}, {"value": "20.00", "quantity": 5}]}),
        )
        .await;
    assert_eq!(
        recorded["suggested_deposit"],
        json!({"amount": usd("100"), "denominations": [{"value": "100.00", "quantity": 1}], "remaining_float": usd("100")})
    );
    // only bills that cannot make the float: three 50s against a float of 80 (after a PATCH) leave 100
    let (status, _) = desk.patch("/v0/cash-drawers/D1", json!({"float": 80})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, recorded) =
        desk.recount(&count, json!({"counted_denominations": [{"value": "50.00", "quantity": 3}]})).await;
    assert_eq!(
        recorded["suggested_deposit"],
        json!({"amount": usd("50"), "denominations": [{"value": "50.00", "quantity": 1}], "remaining_float": usd("100")})
    );
    // a count below the float: nothing to bank
    let (_, recorded) = desk
        .recount(
            &count,
            json!({"counted_denominations": [{"value": "20.00", "quantity": 3}, {"value": "0.05", "quantity": 1}]}),
        )
        .await;
    assert_eq!(
        recorded["suggested_deposit"],
        json!({"amount": usd("0"), "denominations": [], "remaining_float": usd("60.05")})
    );
    // a count by amount only suggests nothing
    let (_, recorded) = desk.recount(&count, json!({"counted_amount": usd("156")})).await;
    assert!(recorded.get("suggested_deposit").is_none(), "{recorded}");
}

// ------------------------------------------------------------ opening check

#[tokio::test]
async fn the_opening_count_is_checked_against_the_float_left_at_the_last_close() {
    let desk = Desk::new(json!({})).await;
    // a first activation: expected opening = float_amount
    let opened = desk.activate("D1", json!({"float_amount": usd("100"), "opening_count": usd("99.50")})).await;
    assert_eq!(opened["expected_opening"], usd("100"));
    assert_eq!(opened["opening_variance"], usd("-0.5"));
    assert_eq!(desk.report("D1").await["opening_variance"], usd("-0.5"));
    desk.sale("D1", "40", "50").await;
    // counted 139 (1 short): the deposit takes 39, leaving the float of 100
    desk.close_day("D1", "139").await;
    let closed = desk.report("D1").await;
    assert_eq!(closed["deposit_total"], usd("-39"));
    assert_eq!(closed["opening_variance"], usd("-0.5"));

    // the next day: left with end count + deposit_total = 100
    let opened = desk.activate("D1", json!({"float_amount": usd("120"), "opening_count": usd("100")})).await;
    assert_eq!(opened["expected_opening"], usd("100"));
    assert_eq!(opened["opening_variance"], usd("0"));
    desk.close_day("D1", "120").await;
    // without an opening count: null, and no opening fields in the answer
    let opened = desk.activate("D1", json!({"float_amount": usd("120")})).await;
    assert!(opened.get("opening_variance").is_none(), "{opened}");
    assert_eq!(desk.report("D1").await["opening_variance"], Value::Null);
    let (_, reports) = desk.get("/v0/cash-drawers/D1/reports").await;
    assert_eq!(reports["reports"][1]["opening_variance"], usd("0"));
    desk.add_drawer("D9", None).await;
    for body in [
        json!({"float_amount": usd("100"), "opening_count": money("100", "EUR")}),
        json!({"float_amount": usd("100"), "opening_count": usd("-1")}),
        json!({"float_amount": usd("100"), "opening_count": usd("1.001")}),
    ] {
        let (status, answer) = desk.post("/v0/cash-drawers/D9/_activate", body).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST);
    }
    assert_eq!(desk.get("/v0/cash-drawers/D9").await.1["status"], "inactive", "nothing recorded");
    // the opening check travels in the float row's hash
    assert_eq!(
        desk.sql_count("SELECT count(*) FROM cash_drawer_ledger WHERE entry_type = 'float' AND details IS NOT NULL")
            .await,
        2
    );
    desk.verify("D1").await;
}

// --------------------------------------------------------- variance approval

struct Staff {
    manager: String,
    manager2: String,
    clerk: String,
    elsewhere_manager: String,
}

async fn staff(desk: &Desk) -> Staff {
    Staff {
        manager: issue_token(&desk.app, "mona", &[STORE], Some("manager")).await,
        manager2: issue_token(&desk.app, "max", &[STORE], Some("manager")).await,
        clerk: issue_token(&desk.app, "carl", &[STORE], Some("associate")).await,
        elsewhere_manager: issue_token(&desk.app, "otto", &[OTHER_STORE], Some("manager")).await,
    }
}

#[tokio::test]
async fn a_count_over_the_tolerance_needs_a_managers_approval() {
    let desk = Desk::new(json!({"variance_tolerance": usd("5")})).await;
    let staff = staff(&desk).await;
    desk.activate("D1", json!({"float_amount": usd("100")})).await;
    desk.sale("D1", "200", "200").await;
    // within the tolerance (|−5| ≤ 5): no approver needed
    let count = desk.start_count("D1", "intra_day_balance").await;
    desk.record("D1", &count, json!({"counted_amount": usd("295")})).await;
    let (status, body) = desk.submit("D1", &count, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let count = desk.start_count("D1", "end_of_day_balance").await;
    let (_, recorded) = desk.record("D1", &count, json!({"counted_amount": usd("250")})).await;
    assert_eq!(recorded["discrepancy_amount"], usd("-50"));
    for approver in [None, Some(staff.clerk.as_str()), Some(staff.elsewhere_manager.as_str()), Some("cdk_assoc_nobody")]
    {
        let (status, body) = desk.submit("D1", &count, approver).await;
        assert_error(status, &body, StatusCode::CONFLICT);
        assert_eq!(body["error_code"], "approval_required", "{body}");
    }
    // a manager cannot approve their own count
    let (status, body) = desk
        .send(
            &staff.manager,
            Method::POST,
            &format!("/v0/cash-drawers/D1/counts/{count}/_submit"),
            None,
            &[("X-Approver-Token", &staff.manager)],
        )
        .await;
    assert_eq!((status, body["error_code"].as_str()), (StatusCode::CONFLICT, Some("approval_required")), "{body}");
    let (_, read) = desk.get(&format!("/v0/cash-drawers/D1/counts/{count}")).await;
    assert_eq!(read["status"], "recorded", "nothing recorded by a refused submit");

    let (status, body) = desk.submit("D1", &count, Some(&staff.manager2)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, read) = desk.get(&format!("/v0/cash-drawers/D1/counts/{count}")).await;
    assert_eq!(read["approved_by"], "max");
    desk.deactivate("D1", &count).await;
    let report = desk.report("D1").await;
    assert_eq!(report["approved_by"], "max");
    assert_eq!(report["variance_total"], usd("-50"));
    let details: String = sqlx::query_scalar("SELECT details FROM cash_drawer_ledger WHERE entry_type = 'count'")
        .fetch_one(&desk.app.ctx.db)
        .await
        .unwrap();
    assert_eq!(serde_json::from_str::<Value>(&details).unwrap()["approved_by"], "max");
    // float, sale, the approved count, reconciliation, withdrawal
    assert_eq!(desk.verify("D1").await["entries"], 5);
}

#[tokio::test]
async fn two_managers_approving_at_once_one_submit_wins() {
    let desk = Desk::new(json!({"variance_tolerance": usd("1")})).await;
    let staff = staff(&desk).await;
    desk.activate("D1", json!({"float_amount": usd("100")})).await;
    let count = desk.start_count("D1", "end_of_day_balance").await;
    desk.record("D1", &count, json!({"counted_amount": usd("90")})).await;
    let (a, b) =
        tokio::join!(desk.submit("D1", &count, Some(&staff.manager)), desk.submit("D1", &count, Some(&staff.manager2)));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{a:?} {b:?}");
    let loser = if a.0 == StatusCode::CONFLICT { &a.1 } else { &b.1 };
    assert_eq!(loser["error_code"], "conflict", "the existing already-submitted answer: {loser}");
    let (_, read) = desk.get(&format!("/v0/cash-drawers/D1/counts/{count}")).await;
    let winner = if a.0 == StatusCode::OK { "mona" } else { "max" };
    assert_eq!(read["approved_by"], winner);
    assert_eq!(desk.sql_count("SELECT count(*) FROM cash_drawer_ledger WHERE entry_type = 'count'").await, 1);
    desk.verify("D1").await;
}

// --------------------------------------------------------------- cash limit

async fn limit_events(desk: &Desk) -> Vec<Value> {
    sqlx::query_scalar("SELECT payload FROM webhook_outbox WHERE event_type = 'cashBox_limit' ORDER BY id")
        .fetch_all(&desk.app.ctx.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn crossing_the_cash_limit_flags_the_drawer_and_sends_one_webhook_per_crossing() {
    let desk = Desk::new(json!({})).await;
    desk.add_drawer("L1", Some(usd("300"))).await;
    let (_, drawer) = desk.get("/v0/cash-drawers/L1").await;
    assert_eq!(drawer["cash_limit"], usd("300"));
    assert_eq!(drawer["over_limit"], false);
    desk.activate("L1", json!({"float_amount": usd("100")})).await;
    desk.sale("L1", "200", "200").await; // 300: at the limit, not above
    assert_eq!(desk.get("/v0/cash-drawers/L1").await.1["over_limit"], false);
    assert!(limit_events(&desk).await.is_empty());
    desk.sale("L1", "0.01", "0.01").await; // 300.01: crossed
    assert_eq!(desk.get("/v0/cash-drawers/L1").await.1["over_limit"], true);
    desk.sale("L1", "50", "50").await; // still above: no second webhook
    let events = limit_events(&desk).await;
    assert_eq!(events, vec![json!({"type": "cashBox_limit", "cashBoxID": "L1", "Total": 300.01, "limit": 300})]);
    let res = desk.app.admin_get("/admin/api/drawers/").await;
    let listed: Value = res.json().await.unwrap();
    let l1 = listed["cash_drawers"].as_array().unwrap().iter().find(|d| d["cash_drawer_id"] == "L1").unwrap().clone();
    assert_eq!((l1["over_limit"].clone(), l1["cash_limit"].clone()), (json!(true), usd("300")));

    desk.sale("L1", "-50.01", "0").await; // a return back to 300: the crossing ends
    assert_eq!(desk.get("/v0/cash-drawers/L1").await.1["over_limit"], false);
    desk.sale("L1", "1", "1").await; // crossed again
    assert_eq!(limit_events(&desk).await.len(), 2);
    // the limit is the drawer's currency, at least 0
    for body in [
        json!({"cash_limit": money("10", "EUR")}),
        json!({"cash_limit": usd("-1")}),
        json!({"cash_limit": usd("1.001")}),
    ] {
        let (status, answer) = desk.patch("/v0/cash-drawers/L1", body).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST);
    }
    let (status, body) = desk
        .post("/v0/cash-drawers", json!({"cash_drawer_id": "L2", "name": "x", "currency": "USD", "float": 1, "store_id": STORE, "type": "integrated", "cash_limit": money("5", "EUR")}))
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);
    // removing the limit ends the crossing
    let (status, body) = desk.patch("/v0/cash-drawers/L1", json!({"cash_limit": null})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["cash_limit"].clone(), body["over_limit"].clone()), (Value::Null, json!(false)));
    let (_, body) = desk.patch("/v0/cash-drawers/L1", json!({"cash_limit": usd("100")})).await;
    assert_eq!(body["cash_limit"], usd("100"));
    desk.verify("L1").await;
}

#[tokio::test]
async fn concurrent_sales_over_the_limit_send_exactly_one_webhook() {
    let desk = Desk::new(json!({})).await;
    desk.add_drawer("L1", Some(usd("150"))).await;
    desk.activate("L1", json!({"float_amount": usd("100")})).await;
    let mut drafts = Vec::new();
    for _ in 0..8 {
        let (status, body) = desk.start_sale("L1", "20", "20").await;
        assert_eq!(status, StatusCode::OK);
        drafts.push(body["transaction_id"].as_str().unwrap().to_string());
    }
    let answers = futures_util::future::join_all(drafts.iter().map(|id| desk.finish("L1", id))).await;
    assert!(answers.iter().all(|(s, _)| *s == StatusCode::OK), "{answers:?}");
    let events = limit_events(&desk).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["Total"], json!(160), "the sale that crossed: 100 + 3×20 = 160");
    assert_eq!(desk.get("/v0/cash-drawers/L1").await.1["over_limit"], true);
    desk.verify("L1").await;
}

// ------------------------------------------------------------ cash rounding

#[tokio::test]
async fn cash_rounding_rounds_a_sales_change_to_the_nearest_step_and_books_what_moved() {
    let desk = Desk::new(json!({"cash_rounding": "0.05"})).await;
    desk.activate("D1", json!({"float_amount": usd("100")})).await;
    // given 20 for 10.03 / 10.02 / 10.01 → exact change 9.97 / 9.98 / 9.99
    for (amount, change, rounding) in [("10.03", "9.95", "-0.02"), ("10.02", "10", "0.02"), ("10.01", "10", "0.01")] {
        let (status, started) = desk.start_sale("D1", amount, "20").await;
        assert_eq!(status, StatusCode::OK, "{started}");
        assert_eq!(started["change"], usd(change), "{amount}");
        assert_eq!(started["rounding"], usd(rounding), "{amount}");
        let (_, done) = desk.finish("D1", started["transaction_id"].as_str().unwrap()).await;
        assert_eq!(done["amount_out"], usd(change));
        assert_eq!(done["rounding"], usd(rounding));
    }
    // what really moved: 10.05 + 10.00 + 10.00
    assert_eq!(desk.expected_now("D1").await, usd("130.05"));
    // a return pays back exactly
    let done = desk.sale("D1", "-9.99", "0").await;
    assert_eq!(done["amount_out"], usd("9.99"));
    assert_eq!(done["rounding"], Value::Null);
    // no change, nothing to round
    let (_, started) = desk.start_sale("D1", "5", "5").await;
    assert_eq!(started["rounding"], usd("0"));
    desk.close_day("D1", "120.06").await;
    let report = desk.report("D1").await;
    assert_eq!(report["net_sales"], usd("30.05"));
    assert_eq!(report["expected_amount"], usd("120.06"));
    desk.verify("D1").await;
}

#[tokio::test]
async fn cash_rounding_rounds_halves_up() {
    let desk = Desk::new(json!({"cash_rounding": "0.10"})).await;
    desk.activate("D1", json!({"float_amount": usd("100")})).await;
    // change 9.25 is half-way between 9.20 and 9.30; 9.24 rounds down
    for (amount, change, rounding) in [("10.75", "9.3", "0.05"), ("10.76", "9.2", "-0.04")] {
        let (_, started) = desk.start_sale("D1", amount, "20").await;
        assert_eq!((started["change"].clone(), started["rounding"].clone()), (usd(change), usd(rounding)), "{amount}");
    }
    let (status, _) = desk
        .call(
            Method::PUT,
            &format!("/v0/stores/{STORE}/cash-drawer-config"),
            Some(json!({"cash_drawer_type": "integrated", "cash_management_enabled": true, "cash_rounding": "0.25"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // a quarter step: its half (0.125) lies between 0.12 (down to 0) and 0.13 (up to 0.25)
    for (amount, change) in [("9.88", "0"), ("9.87", "0.25")] {
        let (_, started) = desk.start_sale("D1", amount, "10").await;
        assert_eq!(started["change"], usd(change), "{amount}");
    }
}

// ---------------------------------------------------------------- the roles

#[tokio::test]
async fn associates_are_created_with_a_role_and_a_bad_role_is_refused() {
    let app = spawn_app().await;
    issue_token(&app, "mona", &[STORE], Some("manager")).await;
    issue_token(&app, "alice", &[STORE], None).await;
    let res = app
        .client
        .post(app.url("/admin/api/associates/"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"associate_id": "x", "name": "X", "store_ids": [STORE], "role": "boss"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().starts_with("role: must be one of associate, manager"), "{body}");
    assert_eq!(app.count("SELECT count(*) FROM associates WHERE associate_id = 'x'").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM associates WHERE role = 'manager'").await, 1);
}

// ------------------------------------------------------ blind, idempotent

#[tokio::test]
async fn a_blind_count_reads_back_without_its_expected_and_discrepancy_amounts() {
    let desk = Desk::new(json!({"expose_count_expected_amount": false, "denominations": usd_denominations()})).await;
    desk.activate("D1", json!({"float_amount": usd("100")})).await;
    let count = desk.start_count("D1", "end_of_day_balance").await;
    let (status, recorded) =
        desk.record("D1", &count, json!({"counted_denominations": [{"value": "50.00", "quantity": 3}]})).await;
    assert_eq!(status, StatusCode::OK, "{recorded}");
    assert_eq!(recorded["discrepancy"], true);
    assert!(recorded.get("expected_amount").is_none(), "{recorded}");
    assert_eq!(recorded["suggested_deposit"]["amount"], usd("50"));
    let (_, read) = desk.get(&format!("/v0/cash-drawers/D1/counts/{count}")).await;
    assert_eq!(read["counted_amount"], usd("150"));
    assert!(read.get("expected_amount").is_none() && read.get("discrepancy_amount").is_none(), "{read}");
}

#[tokio::test]
async fn retried_count_writes_get_the_first_answer_again() {
    let desk = Desk::new(json!({"denominations": usd_denominations(), "variance_tolerance": usd("1")})).await;
    let manager = issue_token(&desk.app, "mona", &[STORE], Some("manager")).await;
    desk.activate("D1", json!({"float_amount": usd("100")})).await;
    let count = desk.start_count("D1", "end_of_day_balance").await;
    let path = format!("/v0/cash-drawers/D1/counts/{count}");
    let body = json!({"counted_denominations": [{"value": "50.00", "quantity": 1}, {"value": "20.00", "quantity": 3}]});
    let first = desk.send(&desk.token, Method::PATCH, &path, Some(body.clone()), &[("Idempotency-Key", "rec-1")]).await;
    let again = desk.send(&desk.token, Method::PATCH, &path, Some(body), &[("Idempotency-Key", "rec-1")]).await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    assert_eq!(first, again);
    let other = json!({"counted_amount": usd("1")});
    let (status, answer) =
        desk.send(&desk.token, Method::PATCH, &path, Some(other), &[("Idempotency-Key", "rec-1")]).await;
    assert_error(status, &answer, StatusCode::CONFLICT);

    let submit = format!("{path}/_submit");
    let headers = [("Idempotency-Key", "sub-1"), ("X-Approver-Token", manager.as_str())];
    let first = desk.send(&desk.token, Method::POST, &submit, None, &headers).await;
    let again = desk.send(&desk.token, Method::POST, &submit, None, &headers).await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    assert_eq!(first, again);
    assert_eq!(desk.sql_count("SELECT count(*) FROM cash_drawer_ledger WHERE entry_type = 'count'").await, 1);
    desk.verify("D1").await;
}
