//! Store deposits and the store ledger (SPEC §13): the lifecycle from a
//! drawer's count to the bank, listing, every refusal (and that it records
//! nothing), idempotent retries, concurrency, and the ledger's tamper evidence.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const STORE: &str = "store-1";
const OTHER_STORE: &str = "store-2";

/// An app with a cash-managed store `store-1` (an associate `alice` of it, a
/// USD drawer `D1`) and a store `store-2` (a EUR drawer `E1`).
struct Bank {
    app: TestApp,
    token: String,
}

impl Bank {
    async fn new() -> Bank {
        let app = spawn_app().await;
        let token = issue_token(&app, "alice", &[STORE]).await;
        let bank = Bank { app, token };
        for (store, drawer, currency) in [(STORE, "D1", "USD"), (OTHER_STORE, "E1", "EUR")] {
            let config = json!({"cash_drawer_type": "integrated", "cash_management_enabled": true});
            let (status, body) =
                bank.admin(Method::PUT, &format!("/v0/stores/{store}/cash-drawer-config"), Some(config)).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            let drawer = json!({"cash_drawer_id": drawer, "name": drawer, "currency": currency, "float": 100,
                "store_id": store, "type": "integrated"});
            let (status, body) = bank.admin(Method::POST, "/v0/cash-drawers", Some(drawer)).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        bank
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

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.send(Some(ADMIN_TOKEN), method, path, body, None).await
    }

    /// Runs a business day on `drawer` that ends with a submitted end-of-day
    /// count of `counted`; answers the count's id.
    async fn counted_day(&self, drawer: &str, currency: &str, counted: &str) -> String {
        let base = format!("/v0/cash-drawers/{drawer}");
        let (status, body) = self
            .admin(Method::POST, &format!("{base}/_activate"), Some(json!({"float_amount": money("100", currency)})))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let count = self.start_count(drawer).await;
        let (status, body) = self
            .admin(
                Method::PATCH,
                &format!("{base}/counts/{count}"),
                Some(json!({"counted_amount": money(counted, currency)})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = self.admin(Method::POST, &format!("{base}/counts/{count}/_submit"), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) =
            self.admin(Method::POST, &format!("{base}/_deactivate"), Some(json!({"count_id": count}))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        count
    }

    async fn start_count(&self, drawer: &str) -> String {
        let (status, body) = self
            .admin(
                Method::POST,
                &format!("/v0/cash-drawers/{drawer}/counts"),
                Some(json!({"reason": "end_of_day_balance"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["count_id"].as_str().unwrap().to_string()
    }

    async fn create(&self, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, &format!("/v0/stores/{STORE}/deposits"), Some(body)).await
    }

    /// A prepared deposit of `amount` USD without counts; answers its id.
    async fn prepared(&self, amount: &str, bag: &str) -> String {
        let (status, body) = self.create(json!({"amount": usd(amount), "bag_number": bag})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["deposit_id"].as_str().unwrap().to_string()
    }

    async fn step(&self, deposit: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, &format!("/v0/stores/{STORE}/deposits/{deposit}"), Some(body)).await
    }

    async fn list(&self, query: &str) -> (StatusCode, Value) {
        self.call(Method::GET, &format!("/v0/stores/{STORE}/deposits{query}"), None).await
    }

    async fn verify(&self) -> Value {
        let (status, body) = self.call(Method::GET, &format!("/v0/stores/{STORE}/ledger/verify"), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn recorded(&self) -> (i64, i64) {
        (
            self.app.count("SELECT count(*) FROM store_deposits").await,
            self.app.count("SELECT count(*) FROM store_ledger").await,
        )
    }
}

async fn issue_token(app: &TestApp, associate: &str, stores: &[&str]) -> String {
    let res = app
        .client
        .post(app.url("/admin/api/associates/"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"associate_id": associate, "name": associate, "store_ids": stores}))
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
async fn a_deposit_goes_from_its_count_to_the_bank_and_shows_the_variance() {
    let bank = Bank::new().await;
    let count = bank.counted_day("D1", "USD", "345.50").await;
    assert_eq!(bank.verify().await, json!({"valid": true, "entries": 0}));

    let (status, created) =
        bank.create(json!({"amount": usd("245.50"), "bag_number": " B-0001 ", "count_ids": [count]})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "prepared");
    assert_eq!(created["amount"], usd("245.5"));
    assert_eq!(created["bag_number"], "B-0001");
    assert_eq!(created["count_ids"], json!([count]));
    assert_eq!(created["store_id"], STORE);
    assert_eq!(created["created_by"], "alice");
    assert!(created["created_at"].is_string());
    assert_eq!((created["banked_amount"].clone(), created["variance"].clone()), (Value::Null, Value::Null));
    let id = created["deposit_id"].as_str().unwrap().to_string();
    let (status, read) = bank.call(Method::GET, &format!("/v0/stores/{STORE}/deposits/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, created);
    assert_eq!(bank.verify().await, json!({"valid": true, "entries": 1}));

    let (status, moving) = bank.step(&id, json!({"status": "in_transit"})).await;
    assert_eq!(status, StatusCode::OK, "{moving}");
    assert_eq!(moving["status"], "in_transit");
    assert!(moving["in_transit_at"].is_string());
    assert_eq!(moving["variance"], Value::Null);
    assert_eq!(bank.verify().await, json!({"valid": true, "entries": 2}));

    let (status, banked) = bank.step(&id, json!({"status": "banked", "banked_amount": usd("240.45")})).await;
    assert_eq!(status, StatusCode::OK, "{banked}");
    assert_eq!(banked["status"], "banked");
    assert_eq!(banked["banked_amount"], usd("240.45"));
    assert_eq!(banked["variance"], usd("-5.05"), "banked − amount, to the cent");
    assert!(banked["banked_at"].is_string());
    assert_eq!(banked["in_transit_at"], moving["in_transit_at"]);
    assert_eq!(bank.verify().await, json!({"valid": true, "entries": 3}));

    // The ledger alone tells the deposit's story.
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT entry_type FROM store_ledger WHERE deposit_id = $1::uuid ORDER BY seq")
            .bind(&id)
            .fetch_all(&bank.app.ctx.db)
            .await
            .unwrap();
    assert_eq!(kinds, ["prepared", "in_transit", "banked"]);
    let amounts: Vec<Option<String>> =
        sqlx::query_scalar("SELECT amount::text FROM store_ledger WHERE deposit_id = $1::uuid ORDER BY seq")
            .bind(&id)
            .fetch_all(&bank.app.ctx.db)
            .await
            .unwrap();
    assert_eq!(amounts, [Some("245.50".to_string()), None, Some("240.45".to_string())]);
}

#[tokio::test]
async fn deposits_are_listed_newest_first_with_a_status_filter_and_paging() {
    let bank = Bank::new().await;
    let first = bank.prepared("10", "B-1").await;
    let second = bank.prepared("20", "B-2").await;
    let third = bank.prepared("30", "B-3").await;
    assert_eq!(bank.step(&second, json!({"status": "in_transit"})).await.0, StatusCode::OK);
    assert_eq!(bank.step(&third, json!({"status": "in_transit"})).await.0, StatusCode::OK);
    assert_eq!(bank.step(&third, json!({"status": "banked", "banked_amount": usd("30")})).await.0, StatusCode::OK);

    let list = |query: &'static str| bank.list(query);
    let ids = |body: &Value| -> Vec<String> {
        body["deposits"].as_array().unwrap().iter().map(|d| d["deposit_id"].as_str().unwrap().to_string()).collect()
    };
    let (status, all) = list("").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(ids(&all), [third.as_str(), second.as_str(), first.as_str()]);
    assert_eq!(all["pagination_info"], json!({"count": 3, "total": 3, "offset": 0, "limit": 10}));
    assert_eq!(all["deposits"][0]["variance"], usd("0"));

    let (_, prepared) = list("?status=prepared").await;
    assert_eq!(ids(&prepared), [first.as_str()]);
    assert_eq!(prepared["pagination_info"]["total"], 1);
    let (_, moving) = list("?status=in_transit").await;
    assert_eq!(ids(&moving), [second.as_str()]);
    let (_, banked) = list("?status=banked&limit=5").await;
    assert_eq!(ids(&banked), [third.as_str()]);

    let (_, page1) = list("?limit=2").await;
    assert_eq!(ids(&page1), [third.as_str(), second.as_str()]);
    assert_eq!(page1["pagination_info"], json!({"count": 2, "total": 3, "offset": 0, "limit": 2}));
    let (_, page2) = list("?limit=2&offset=2").await;
    assert_eq!(ids(&page2), [first.as_str()]);
    let (_, past) = list("?offset=9").await;
    assert_eq!(past["pagination_info"], json!({"count": 0, "total": 3, "offset": 9, "limit": 10}));

    for query in ["?status=lost", "?limit=0", "?limit=101", "?offset=-1", "?limit=ten"] {
        let (status, body) = list(query).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST);
    }
    // a configured store without deposits lists none; an unconfigured store is not found
    let (status, other) = bank.admin(Method::GET, &format!("/v0/stores/{OTHER_STORE}/deposits"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(other["pagination_info"]["total"], 0);
    let (status, body) = bank.admin(Method::GET, "/v0/stores/nowhere/deposits", None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_deposit_bodies_answer_400_in_the_error_shape_and_record_nothing() {
    let bank = Bank::new().await;
    let foreign_count = bank.counted_day("E1", "EUR", "150").await;
    let count = bank.counted_day("D1", "USD", "150").await;
    let unknown = "7d0f6a8e-52a3-4c1b-9a55-0d3b8e0f1c2a";
    for (body, field) in [
        (json!({"amount": usd("0"), "bag_number": "B"}), "amount.value"),
        (json!({"amount": usd("-5"), "bag_number": "B"}), "amount.value"),
        (json!({"amount": usd("5.001"), "bag_number": "B"}), "amount.value"),
        (json!({"amount": money("5", "EUR"), "bag_number": "B"}), "amount.currency"),
        (json!({"amount": money("5", "US"), "bag_number": "B"}), "amount.currency"),
        (json!({"amount": 5, "bag_number": "B"}), "amount"),
        (json!({"bag_number": "B"}), "amount"),
        (json!({"amount": usd("5")}), "bag_number"),
        (json!({"amount": usd("5"), "bag_number": ""}), "bag_number"),
        (json!({"amount": usd("5"), "bag_number": "x".repeat(65)}), "bag_number"),
        (json!({"amount": usd("5"), "bag_number": "B", "bag": "B"}), "bag"),
        (json!({"amount": usd("5"), "bag_number": "B", "count_ids": [unknown]}), "count_ids[0]"),
        (json!({"amount": usd("5"), "bag_number": "B", "count_ids": [count, "not-a-uuid"]}), "count_ids[1]"),
        (json!({"amount": usd("5"), "bag_number": "B", "count_ids": [count, count]}), "count_ids[1]"),
        (json!({"amount": usd("5"), "bag_number": "B", "count_ids": [foreign_count]}), "count_ids[0]"),
        (json!({"amount": usd("5"), "bag_number": "B", "count_ids": "all"}), "count_ids"),
    ] {
        let (status, answer) = bank.create(body.clone()).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST);
        assert!(answer["message"].as_str().unwrap().starts_with(&format!("{field}: ")), "{body} → {answer}");
    }
    // a count of another store is refused even by the admin token, which may act on both stores
    let (status, answer) = bank
        .admin(
            Method::POST,
            &format!("/v0/stores/{STORE}/deposits"),
            Some(json!({"amount": usd("5"), "bag_number": "B", "count_ids": [foreign_count]})),
        )
        .await;
    assert_error(status, &answer, StatusCode::BAD_REQUEST);
    // a count of the right store in another currency than the deposit's
    let drawer = json!({"cash_drawer_id": "U2", "name": "Dollars", "currency": "USD", "float": 100,
        "store_id": OTHER_STORE, "type": "integrated"});
    assert_eq!(bank.admin(Method::POST, "/v0/cash-drawers", Some(drawer)).await.0, StatusCode::CREATED);
    let dollar_count = bank.counted_day("U2", "USD", "120").await;
    let (status, answer) = bank
        .admin(
            Method::POST,
            &format!("/v0/stores/{OTHER_STORE}/deposits"),
            Some(json!({"amount": money("5", "EUR"), "bag_number": "B", "count_ids": [dollar_count]})),
        )
        .await;
    assert_error(status, &answer, StatusCode::BAD_REQUEST);
    assert!(answer["message"].as_str().unwrap().contains("is in USD, the deposit in EUR"), "{answer}");
    for raw in ["{\"amount\": ", "[1, 2]", "\"deposit\""] {
        let res = bank
            .app
            .client
            .post(bank.app.url(&format!("/v0/stores/{STORE}/deposits")))
            .bearer_auth(&bank.token)
            .header("Content-Type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{raw}");
    }
    assert_eq!(bank.recorded().await, (0, 0));
    assert_eq!(bank.app.count("SELECT count(*) FROM store_deposit_counts").await, 0);
    assert_eq!(bank.verify().await, json!({"valid": true, "entries": 0}));
}

#[tokio::test]
async fn a_count_not_yet_submitted_or_already_deposited_answers_409() {
    let bank = Bank::new().await;
    let count = bank.counted_day("D1", "USD", "300").await;
    let (status, _) =
        bank.admin(Method::POST, "/v0/cash-drawers/D1/_activate", Some(json!({"float_amount": usd("100")}))).await;
    assert_eq!(status, StatusCode::OK);
    let open_count = bank.start_count("D1").await;
    let (status, body) =
        bank.create(json!({"amount": usd("200"), "bag_number": "B-1", "count_ids": [open_count]})).await;
    assert_error(status, &body, StatusCode::CONFLICT);

    let (status, body) = bank.create(json!({"amount": usd("200"), "bag_number": "B-1", "count_ids": [count]})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = bank.create(json!({"amount": usd("200"), "bag_number": "B-2", "count_ids": [count]})).await;
    assert_error(status, &body, StatusCode::CONFLICT);
    assert!(body["message"].as_str().unwrap().contains("already in deposit"), "{body}");
    assert_eq!(bank.recorded().await, (1, 1));
}

#[tokio::test]
async fn steps_out_of_order_or_after_banked_answer_409_and_bad_steps_400() {
    let bank = Bank::new().await;
    let id = bank.prepared("100", "B-1").await;
    for body in [json!({"status": "banked", "banked_amount": usd("100")}), json!({"status": "prepared"})] {
        let (status, answer) = bank.step(&id, body).await;
        assert_error(status, &answer, StatusCode::CONFLICT);
    }
    for body in [
        json!({"status": "lost"}),
        json!({"status": 3}),
        json!({}),
        json!({"status": "banked"}),
        json!({"status": "in_transit", "banked_amount": usd("100")}),
        json!({"status": "in_transit", "note": "x"}),
        json!({"status": "banked", "banked_amount": usd("-1")}),
        json!({"status": "banked", "banked_amount": usd("1.234")}),
    ] {
        let (status, answer) = bank.step(&id, body.clone()).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST);
    }
    assert_eq!(bank.step(&id, json!({"status": "in_transit"})).await.0, StatusCode::OK);
    let (status, answer) = bank.step(&id, json!({"status": "in_transit"})).await;
    assert_error(status, &answer, StatusCode::CONFLICT);
    let (status, answer) = bank.step(&id, json!({"status": "banked", "banked_amount": money("100", "EUR")})).await;
    assert_error(status, &answer, StatusCode::BAD_REQUEST);
    assert_eq!(bank.step(&id, json!({"status": "banked", "banked_amount": usd("100")})).await.0, StatusCode::OK);
    for body in [
        json!({"status": "banked", "banked_amount": usd("90")}),
        json!({"status": "in_transit"}),
        json!({"status": "prepared"}),
    ] {
        let (status, answer) = bank.step(&id, body).await;
        assert_error(status, &answer, StatusCode::CONFLICT);
        assert!(answer["message"].as_str().unwrap().contains("banked"), "{answer}");
    }
    let (_, deposit) = bank.call(Method::GET, &format!("/v0/stores/{STORE}/deposits/{id}"), None).await;
    assert_eq!(deposit["banked_amount"], usd("100"));
    assert_eq!(bank.recorded().await, (1, 3), "the refused steps recorded nothing");
    assert_eq!(bank.verify().await, json!({"valid": true, "entries": 3}));
}

#[tokio::test]
async fn another_stores_deposit_is_not_found_and_another_stores_token_is_refused() {
    let bank = Bank::new().await;
    let id = bank.prepared("100", "B-1").await;
    let path = format!("/v0/stores/{STORE}/deposits/{id}");
    let elsewhere = format!("/v0/stores/{OTHER_STORE}/deposits/{id}");
    let (status, body) = bank.admin(Method::GET, &elsewhere, None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = bank.admin(Method::PATCH, &elsewhere, Some(json!({"status": "in_transit"}))).await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    for missing in ["7d0f6a8e-52a3-4c1b-9a55-0d3b8e0f1c2a", "not-a-uuid"] {
        let (status, body) = bank.call(Method::GET, &format!("/v0/stores/{STORE}/deposits/{missing}"), None).await;
        assert_error(status, &body, StatusCode::NOT_FOUND);
        let (status, body) = bank.step(missing, json!({"status": "in_transit"})).await;
        assert_error(status, &body, StatusCode::NOT_FOUND);
    }
    let (status, body) = bank
        .admin(Method::POST, "/v0/stores/nowhere/deposits", Some(json!({"amount": usd("5"), "bag_number": "B"})))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = bank.admin(Method::GET, "/v0/stores/nowhere/ledger/verify", None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND);

    let bob = issue_token(&bank.app, "bob", &[OTHER_STORE]).await;
    let deposits = format!("/v0/stores/{STORE}/deposits");
    for (method, path, body) in [
        (Method::GET, path.clone(), None),
        (Method::PATCH, path.clone(), Some(json!({"status": "in_transit"}))),
        (Method::GET, deposits.clone(), None),
        (Method::POST, deposits.clone(), Some(json!({"amount": usd("5"), "bag_number": "B"}))),
        (Method::GET, format!("/v0/stores/{STORE}/ledger/verify"), None),
    ] {
        let (status, answer) = bank.send(Some(&bob), method.clone(), &path, body.clone(), None).await;
        assert_error(status, &answer, StatusCode::FORBIDDEN);
        let (status, answer) = bank.send(None, method, &path, body, None).await;
        assert_error(status, &answer, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(bank.recorded().await, (1, 1));
}

#[tokio::test]
async fn banking_a_deposit_twice_at_once_lets_exactly_one_win() {
    let bank = Bank::new().await;
    for round in 0..5 {
        let id = bank.prepared("100", &format!("B-{round}")).await;
        assert_eq!(bank.step(&id, json!({"status": "in_transit"})).await.0, StatusCode::OK);
        let (a, b) = tokio::join!(
            bank.step(&id, json!({"status": "banked", "banked_amount": usd("100")})),
            bank.step(&id, json!({"status": "banked", "banked_amount": usd("99")})),
        );
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{a:?} {b:?}");
        let winner = if a.0 == StatusCode::OK { &a.1 } else { &b.1 };
        let (_, stored) = bank.call(Method::GET, &format!("/v0/stores/{STORE}/deposits/{id}"), None).await;
        assert_eq!(stored["banked_amount"], winner["banked_amount"]);
    }
    assert_eq!(bank.app.count("SELECT count(*) FROM store_ledger WHERE entry_type = 'banked'").await, 5);
    assert_eq!(bank.verify().await, json!({"valid": true, "entries": 15}));
}

#[tokio::test]
async fn concurrent_deposits_of_one_store_keep_its_chain_valid() {
    let bank = Bank::new().await;
    let answers = futures_util::future::join_all((0..20).map(|i| {
        let bank = &bank;
        async move {
            let (status, body) =
                bank.create(json!({"amount": usd(&format!("{i}.5")), "bag_number": format!("B-{i}")})).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            let id = body["deposit_id"].as_str().unwrap().to_string();
            bank.step(&id, json!({"status": "in_transit"})).await.0
        }
    }))
    .await;
    assert!(answers.iter().all(|s| *s == StatusCode::OK), "{answers:?}");
    assert_eq!(bank.verify().await, json!({"valid": true, "entries": 40}));
    // the other store's chain is its own
    let (_, other) = bank.admin(Method::GET, &format!("/v0/stores/{OTHER_STORE}/ledger/verify"), None).await;
    assert_eq!(other, json!({"valid": true, "entries": 0}));
}

#[tokio::test]
async fn a_retried_create_with_the_same_idempotency_key_returns_the_same_deposit_once() {
    let bank = Bank::new().await;
    let count = bank.counted_day("D1", "USD", "300").await;
    let path = format!("/v0/stores/{STORE}/deposits");
    let body = json!({"amount": usd("200"), "bag_number": "B-1", "count_ids": [count]});
    let answers = futures_util::future::join_all(
        (0..5).map(|_| bank.send(Some(&bank.token), Method::POST, &path, Some(body.clone()), Some("bag-1"))),
    )
    .await;
    for (status, answer) in &answers {
        assert_eq!(*status, StatusCode::CREATED, "{answer}");
        assert_eq!(answer, &answers[0].1);
    }
    let (status, again) = bank.send(Some(&bank.token), Method::POST, &path, Some(body.clone()), Some("bag-1")).await;
    assert_eq!((status, &again), (StatusCode::CREATED, &answers[0].1));
    assert_eq!(bank.recorded().await, (1, 1), "one deposit, one ledger row");

    let other = json!({"amount": usd("201"), "bag_number": "B-1", "count_ids": [count]});
    let (status, answer) = bank.send(Some(&bank.token), Method::POST, &path, Some(other), Some("bag-1")).await;
    assert_error(status, &answer, StatusCode::CONFLICT);

    let id = answers[0].1["deposit_id"].as_str().unwrap();
    let step = format!("/v0/stores/{STORE}/deposits/{id}");
    let moving = json!({"status": "in_transit"});
    let (s1, a) = bank.send(Some(&bank.token), Method::PATCH, &step, Some(moving.clone()), Some("step-1")).await;
    let (s2, b) = bank.send(Some(&bank.token), Method::PATCH, &step, Some(moving), Some("step-1")).await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK), "a replay is not a second step");
    assert_eq!(a, b);
    assert_eq!(bank.recorded().await, (1, 2));
    assert_eq!(bank.verify().await, json!({"valid": true, "entries": 2}));
}

#[tokio::test]
async fn the_store_ledger_refuses_updates_and_verify_reports_a_row_edited_behind_the_services_back() {
    let bank = Bank::new().await;
    let id = bank.prepared("100", "B-1").await;
    assert_eq!(bank.step(&id, json!({"status": "in_transit"})).await.0, StatusCode::OK);
    assert_eq!(bank.step(&id, json!({"status": "banked", "banked_amount": usd("100")})).await.0, StatusCode::OK);
    assert_eq!(bank.verify().await, json!({"valid": true, "entries": 3}));
    let db = &bank.app.ctx.db;
    assert!(sqlx::query("UPDATE store_ledger SET amount = 1000 WHERE seq = 1").execute(db).await.is_err());
    assert!(sqlx::query("DELETE FROM store_ledger WHERE seq = 3").execute(db).await.is_err());

    sqlx::query("ALTER TABLE store_ledger DISABLE TRIGGER store_ledger_no_update_delete").execute(db).await.unwrap();
    sqlx::query("UPDATE store_ledger SET amount = 1000 WHERE store_id = $1 AND seq = 1")
        .bind(STORE)
        .execute(db)
        .await
        .unwrap();
    let body = bank.verify().await;
    assert_eq!(body["valid"], false, "{body}");
    assert_eq!(body["first_invalid_entry"], 1);
    assert!(body["reason"].is_string());

    // put it back; then an unknown kind is found too
    sqlx::query("UPDATE store_ledger SET amount = 100 WHERE store_id = $1 AND seq = 1")
        .bind(STORE)
        .execute(db)
        .await
        .unwrap();
    assert_eq!(bank.verify().await["valid"], true);
    sqlx::query("UPDATE store_ledger SET entry_type = 'lost' WHERE store_id = $1 AND seq = 2")
        .bind(STORE)
        .execute(db)
        .await
        .unwrap();
    assert_eq!(bank.verify().await["first_invalid_entry"], 2);
    sqlx::query("UPDATE store_ledger SET entry_type = 'in_transit' WHERE store_id = $1 AND seq = 2")
        .bind(STORE)
        .execute(db)
        .await
        .unwrap();
    assert_eq!(bank.verify().await["valid"], true);

    // remove the last row: the store's head notices
    sqlx::query("DELETE FROM store_ledger WHERE store_id = $1 AND seq = 3").bind(STORE).execute(db).await.unwrap();
    let body = bank.verify().await;
    assert_eq!(body["valid"], false);
    assert_eq!(body["entries"], 2);
    assert_eq!(body["first_invalid_entry"], 3);
}

#[tokio::test]
async fn the_admin_page_lists_the_deposits_not_yet_banked() {
    let bank = Bank::new().await;
    let waiting = bank.prepared("100", "B-1").await;
    let moving = bank.prepared("50.25", "B-2").await;
    let done = bank.prepared("10", "B-3").await;
    assert_eq!(bank.step(&moving, json!({"status": "in_transit"})).await.0, StatusCode::OK);
    assert_eq!(bank.step(&done, json!({"status": "in_transit"})).await.0, StatusCode::OK);
    assert_eq!(bank.step(&done, json!({"status": "banked", "banked_amount": usd("10")})).await.0, StatusCode::OK);
    let res = bank.app.admin_get("/admin/api/deposits/").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let listed: Vec<(&str, &str)> = body["deposits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["deposit_id"].as_str().unwrap(), d["status"].as_str().unwrap()))
        .collect();
    assert_eq!(listed, [(moving.as_str(), "in_transit"), (waiting.as_str(), "prepared")]);
    assert_eq!(body["deposits"][0]["amount"], usd("50.25"));
    assert_eq!(bank.app.get("/admin/api/deposits/").await.status(), StatusCode::UNAUTHORIZED);
    let page = bank.app.admin_get("/admin/assets/app.js").await.text().await.unwrap();
    assert!(page.contains("/admin/api/deposits/"), "the page loads the list");
}

#[tokio::test]
async fn every_deposit_operation_documents_the_answers_it_gives() {
    let bank = Bank::new().await;
    let doc: Value = bank.app.get("/openapi.json").await.json().await.unwrap();
    for (path, method, statuses) in [
        ("/v0/stores/{store_id}/deposits", "post", &["201", "400", "401", "403", "404", "409", "413", "503"][..]),
        ("/v0/stores/{store_id}/deposits", "get", &["200", "400", "401", "403", "404", "503"][..]),
        ("/v0/stores/{store_id}/deposits/{deposit_id}", "get", &["200", "400", "401", "403", "404", "503"][..]),
        (
            "/v0/stores/{store_id}/deposits/{deposit_id}",
            "patch",
            &["200", "400", "401", "403", "404", "409", "503"][..],
        ),
        ("/v0/stores/{store_id}/ledger/verify", "get", &["200", "400", "401", "403", "404", "503"][..]),
    ] {
        let operation = &doc["paths"][path][method];
        assert!(operation["operationId"].is_string(), "{method} {path} is not documented");
        for status in statuses {
            let answer = &operation["responses"][status];
            assert!(answer["content"]["application/json"]["schema"].is_object(), "{method} {path} {status}");
        }
    }
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["DepositStatus"]["enum"], json!(["prepared", "in_transit", "banked"]));
    assert!(schemas["DepositCreate"]["example"].is_object());
}
