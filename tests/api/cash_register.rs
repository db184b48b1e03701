//! Cash register hooks (SPEC §5): every code in the specified order.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const PRE_ORDER: &str = "/hooks/cash_register/pre_order/";
const COMPLETE: &str = "/hooks/cash_register/complete/";
const COMPLETE_KEYS: [&str; 9] = [
    "transaction_id",
    "order_number",
    "result",
    "error_message",
    "amount",
    "staff_id",
    "staff_email",
    "store_id",
    "shipping_sku",
];

fn pre_order_body(order_number: &str) -> Value {
    json!({"order_number": order_number, "username": CASHIER.0, "password": CASHIER.1})
}

fn complete_body(order_number: &str, txn: &str, amount: &str) -> Value {
    json!({"transaction_id": txn, "order_number": order_number, "username": CASHIER.0, "password": CASHIER.1, "amount": amount})
}

fn code(answer: &Value) -> &str {
    answer["error_code"].as_str().unwrap_or("none")
}

/// Asserts a failed complete: the full key set, the integer code, nulls.
fn assert_complete_failed(answer: &Value, code: i64, order_number: Option<&str>) {
    for key in COMPLETE_KEYS {
        assert!(answer.get(key).is_some(), "answer lacks {key}: {answer}");
    }
    assert_eq!(answer["result"], code, "{answer}");
    assert_eq!(answer["order_number"], order_number.map_or(Value::Null, Value::from), "{answer}");
    for key in ["transaction_id", "amount", "staff_id", "staff_email", "store_id", "shipping_sku"] {
        assert_eq!(answer[key], Value::Null, "{key} must be null on failure: {answer}");
    }
    assert!(!answer["error_message"].as_str().unwrap().is_empty());
}

// ---- get_order_number -------------------------------------------------------

#[tokio::test]
async fn get_order_number_answers_411_without_a_known_session() {
    let app = spawn_app().await;
    let res = app.get("/hooks/cash_register/get_order_number/").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({"error_code": "411", "error_message": "Pre-order session not found"}));
    assert_eq!(code(&app.get_order_number("0123456789abcdef0123456789abcdef").await), "411");
}

#[tokio::test]
async fn get_order_number_answers_407_without_a_payment_option() {
    let app = spawn_app().await;
    app.seed().await;
    let session = app.new_session().await;
    let answer = app.get_order_number(&session).await;
    assert_eq!(code(&answer), "407");
    assert!(answer.get("order_number").is_none());
}

#[tokio::test]
async fn get_order_number_answers_408_with_an_unregistered_number_for_other_payment_types() {
    let app = spawn_app().await;
    app.seed().await;
    let session = app.new_session().await;
    app.patch(&session, &json!({"payment_option": "credit-card"})).await;
    let answer = app.get_order_number(&session).await;
    assert_eq!(code(&answer), "408");
    let number = answer["order_number"].as_str().unwrap();
    // not registered: the till cannot find it
    assert_eq!(code(&app.hook(PRE_ORDER, &pre_order_body(number)).await), "410");
}

#[tokio::test]
async fn order_numbers_are_digits_with_a_luhn_check_digit_unique_and_registered_for_exactly_24_hours() {
    let app = spawn_app().await;
    app.seed().await;
    let (first_session, first) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let (_, second) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    assert_ne!(first, second);
    for number in [&first, &second] {
        assert!(number.len() >= 10 && number.bytes().all(|b| b.is_ascii_digit()), "{number}");
        assert!(luhn::valid(number), "{number}: the last digit is a Luhn check digit");
    }
    // The number carries its session's bucket, which places it in the session's slot.
    assert_eq!(order_number(&first).bucket(), cashdesk::order_number::Bucket::of_session(&first_session));
    let mut redis = app.redis().await;
    let ttl: i64 =
        redis::cmd("TTL").arg(app.ctx.keys.order_number(&order_number(&first))).query_async(&mut redis).await.unwrap();
    assert!((86_399..=86_400).contains(&ttl), "ttl {ttl}");
    // A Redis flush does not make numbers repeat: they come from a durable sequence.
    assert!(flush_prefix(&mut redis, &app.env.prefix).await > 0);
    let (_, third) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    assert!(order_number(&third).sequence() > order_number(&second).sequence(), "{third} after {second}");
}

#[tokio::test]
async fn issuing_never_overwrites_a_live_number_and_draws_another() {
    let app = spawn_app().await;
    app.seed().await;
    let session = app.new_session().await;
    let (status, body) = app
        .patch(
            &session,
            &json!({"basket": {"items": [{"sku": "SKU-1", "quantity": 1}]}, "payment_option": "cash-register"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The sequence will draw `next` again, as after a failover to a database
    // that had not seen the latest draws: a live mapping holds that number.
    let (last, called): (i64, bool) =
        sqlx::query_as("SELECT last_value, is_called FROM order_number_seq").fetch_one(&app.ctx.db).await.unwrap();
    let next = if called { last + 1 } else { last };
    let bucket = cashdesk::order_number::Bucket::of_session(&session);
    let taken = cashdesk::order_number::OrderNumber::issue(next, bucket);
    let key = app.ctx.keys.order_number(&taken);
    let mut redis = app.redis().await;
    let _: () = redis::cmd("HSET")
        .arg(&key)
        .arg("sid")
        .arg("someone-else")
        .arg("fp0")
        .arg("theirs")
        .query_async(&mut redis)
        .await
        .unwrap();
    let _: () = redis::cmd("EXPIRE").arg(&key).arg(3600).query_async(&mut redis).await.unwrap();

    let answer = app.get_order_number(&session).await;
    let issued = answer["order_number"].as_str().unwrap_or_else(|| panic!("an order number: {answer}")).to_string();
    assert_ne!(issued, taken.as_str());
    assert_eq!(order_number(&issued).sequence(), next + 1, "the next draw");
    let planted: std::collections::HashMap<String, String> =
        redis::cmd("HGETALL").arg(&key).query_async(&mut redis).await.unwrap();
    assert_eq!(planted.len(), 2, "the live mapping is untouched: {planted:?}");
    assert_eq!((planted["sid"].as_str(), planted["fp0"].as_str()), ("someone-else", "theirs"));
    let ttl: i64 = redis::cmd("TTL").arg(&key).query_async(&mut redis).await.unwrap();
    assert!(ttl > 3500 && ttl <= 3600, "its expiry too: {ttl}");
    assert!(app.hook(PRE_ORDER, &pre_order_body(&issued)).await.get("error_code").is_none(), "the new number works");
}

#[tokio::test]
async fn a_mistyped_order_number_is_not_found_by_every_hook_without_a_redis_lookup() {
    let env = std::sync::Arc::new(TestEnv::new().await);
    let proxy = TcpProxy::start("127.0.0.1:6379").await;
    let url = proxy.redis_url();
    let app = spawn_app_in(env, |s| s.redis_url = url, cashdesk::startup::RunOptions { worker: false }).await;
    app.seed().await;
    let (_, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let typo = mistyped(&number);
    let transposed = format!(
        "{}{}{}",
        &number[..number.len() - 3],
        &number[number.len() - 2..number.len() - 1],
        &number[number.len() - 3..number.len() - 2]
    ) + &number[number.len() - 1..];
    // Redis is unreachable from here on: only an answer that needs no look-up can be "not found".
    proxy.cut();
    for bad in [typo.as_str(), "ORD-2026-000001", "12345", "0000a10421"] {
        assert_eq!(code(&app.hook(PRE_ORDER, &pre_order_body(bad)).await), "410", "{bad}");
        assert_complete_failed(&app.hook(COMPLETE, &complete_body(bad, "T-TYPO", "99.99")).await, 404, None);
        let ivr = json!({"username": IVR.0, "password": IVR.1, "orderNumber": bad});
        assert_eq!(app.hook("/hooks/ivr/pre_order/", &ivr).await["result"]["message"], "Order not found", "{bad}");
        let ivr = json!({"username": IVR.0, "password": IVR.1, "orderNumber": bad, "success": true, "referenceNumber": "R-TYPO", "staffId": 1, "amount": 99.99});
        assert_eq!(
            app.hook("/hooks/ivr/complete/", &ivr).await["orderResultResponse"]["result"]["message"],
            "Order Not Found",
            "{bad}"
        );
    }
    if transposed != number {
        assert_eq!(code(&app.hook(PRE_ORDER, &pre_order_body(&transposed)).await), "410", "{transposed}");
    }
    // A well-formed number does need Redis: the retry answer, not "not found".
    assert_eq!(code(&app.hook(PRE_ORDER, &pre_order_body(&number)).await), "500");
    proxy.restore().await;
}

// ---- pre_order --------------------------------------------------------------

#[tokio::test]
async fn pre_order_answers_the_pre_order_for_json_and_form_bodies() {
    let app = spawn_app().await;
    app.seed().await;
    let (session, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 2}])).await;
    let answer = app.hook(PRE_ORDER, &pre_order_body(&number)).await;
    assert_eq!(answer["order_number"], number.as_str());
    assert!(answer.get("error_code").is_none());
    assert!(answer.get("card").is_none());
    let checkout: Value = app
        .client
        .get(app.url("/api/v1/checkout/"))
        .header("X-Checkout-Session", &session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["pre_order"], checkout["pre_order"], "the same pre_order shape everywhere");
    let res =
        app.post_form(PRE_ORDER, &[("order_number", &number), ("username", CASHIER.0), ("password", CASHIER.1)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let form_answer: Value = res.json().await.unwrap();
    assert_eq!(form_answer, answer);
}

#[tokio::test]
async fn pre_order_checks_credentials_first_then_the_order_number() {
    let app = spawn_app().await;
    app.seed().await;
    let (_, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    // 403: wrong password, unknown user, missing fields, unparseable or empty body, even with other faults present
    for body in [
        json!({"order_number": number, "username": CASHIER.0, "password": "wrong"}),
        json!({"order_number": number, "username": "ghost", "password": CASHIER.1}),
        json!({"order_number": number}),
        json!({"order_number": "", "username": CASHIER.0, "password": 5}),
    ] {
        assert_eq!(code(&app.hook(PRE_ORDER, &body).await), "403", "{body}");
    }
    for raw in ["", "not json", "[1,2]", "{\"username\": \"a\", \"username\": \"b\"}"] {
        let res = app
            .client
            .post(app.url(PRE_ORDER))
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(code(&res.json::<Value>().await.unwrap()), "403", "{raw:?}");
    }
    // 409: missing or empty order number, after the credentials pass
    assert_eq!(code(&app.hook(PRE_ORDER, &json!({"username": CASHIER.0, "password": CASHIER.1})).await), "409");
    assert_eq!(code(&app.hook(PRE_ORDER, &pre_order_body("  ")).await), "409");
    // 410: not in the cache
    assert_eq!(code(&app.hook(PRE_ORDER, &pre_order_body(UNISSUED)).await), "410");
}

#[tokio::test]
async fn pre_order_answers_411_407_408_402_in_that_order() {
    let app = spawn_app().await;
    app.seed().await;
    let (session, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    // 402: the basket changed since the number was issued …
    app.patch(&session, &json!({"basket": {"items": [{"sku": "SKU-1", "quantity": 2}]}})).await;
    assert_eq!(code(&app.hook(PRE_ORDER, &pre_order_body(&number)).await), "402");
    // … and is checked after the payment type: 408 wins over 402
    app.patch(&session, &json!({"payment_option": "credit-card"})).await;
    assert_eq!(code(&app.hook(PRE_ORDER, &pre_order_body(&number)).await), "408");
    // 407 wins over 408
    app.patch(&session, &json!({"payment_option": null})).await;
    assert_eq!(code(&app.hook(PRE_ORDER, &pre_order_body(&number)).await), "407");
    // 411 wins over all of them: the session was paid under another number
    app.pay_session_elsewhere(&session).await;
    assert_eq!(code(&app.hook(PRE_ORDER, &pre_order_body(&number)).await), "411");
}

#[tokio::test]
async fn a_basket_set_back_to_its_contents_is_not_changed() {
    let app = spawn_app().await;
    app.seed().await;
    let (session, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    app.patch(&session, &json!({"basket": {"items": [{"sku": "SKU-1", "quantity": 5}]}})).await;
    app.patch(&session, &json!({"basket": {"items": [{"sku": "SKU-1", "quantity": 1}]}})).await;
    assert_eq!(code(&app.hook(PRE_ORDER, &pre_order_body(&number)).await), "none");
}

#[tokio::test]
async fn every_number_of_a_session_shows_the_pre_order_as_it_is_now() {
    let app = spawn_app().await;
    app.seed().await;
    let (session, first) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let second = app.get_order_number(&session).await["order_number"].as_str().unwrap().to_string();
    let address = json!({"line1": "Istiklal Cd. 1", "city": "Istanbul"});
    app.patch(&session, &json!({"shipping_address": address, "shipping_option": "courier"})).await;
    for number in [&first, &second] {
        let answer = app.hook(PRE_ORDER, &pre_order_body(number)).await;
        assert_eq!(answer["pre_order"]["shipping_address"], address, "{answer}");
        assert_eq!(answer["pre_order"]["unpaid_amount"], "129.98", "{answer}");
    }
    app.patch(&session, &json!({"basket": {"items": [{"sku": "SKU-2", "quantity": 1}]}})).await;
    for number in [&first, &second] {
        assert_eq!(code(&app.hook(PRE_ORDER, &pre_order_body(number)).await), "402");
    }
    // a number issued now sees the new basket as its own
    let third = app.get_order_number(&session).await["order_number"].as_str().unwrap().to_string();
    assert_eq!(app.hook(PRE_ORDER, &pre_order_body(&third)).await["pre_order"]["unpaid_amount"], "40.49");
}

#[tokio::test]
async fn the_card_is_shown_only_with_installments_enabled_and_selected() {
    let app = spawn_app().await;
    app.seed().await;
    let (session, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    app.patch(&session, &json!({"installment": {"card": "bonus", "installment_count": 3}})).await;
    assert!(app.hook(PRE_ORDER, &pre_order_body(&number)).await.get("card").is_none(), "installments disabled");
    app.set_cash_register_conf(
        json!({"credentials": [{"username": CASHIER.0, "password": CASHIER.1}], "installment_enabled": true}),
    )
    .await;
    let answer = app.hook(PRE_ORDER, &pre_order_body(&number)).await;
    assert_eq!(
        answer["card"],
        json!({"card_payment_type": "credit", "name": "Bonus Card", "slug": "bonus", "bank": {"name": "Garanti", "slug": "garanti"}})
    );
    app.patch(&session, &json!({"installment": null})).await;
    assert!(app.hook(PRE_ORDER, &pre_order_body(&number)).await.get("card").is_none(), "no installment selected");
}

// ---- complete ---------------------------------------------------------------

#[tokio::test]
async fn complete_records_the_payment_and_the_worker_creates_the_order() {
    let app = spawn_app().await;
    app.seed().await;
    let (session, number) =
        app.pre_order(json!([{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 1}])).await;
    let mut body = complete_body(&number, "TXN-1", "210.48");
    body["terminal_code"] = json!("TERM-001");
    let answer = app.hook(COMPLETE, &body).await;
    assert_eq!(
        answer,
        json!({"transaction_id": "TXN-1", "order_number": number, "result": "0", "error_message": "", "amount": "210.48",
               "staff_id": 17, "staff_email": "a@b.c", "store_id": "IST-01", "shipping_sku": "SHIP-01"})
    );
    // committed before the answer: the payment row exists now
    assert_eq!(app.count("SELECT count(*) FROM payments").await, 1);
    // no order until the worker ran
    assert_eq!(app.order(&number).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.run_jobs().await, 1);
    let (status, order) = app.order(&number).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(order["status"], "completed");
    assert_eq!(order["total_amount"], "210.48");
    assert_eq!(order["paid_amount"], "210.48");
    assert_eq!(order["lines"].as_array().unwrap().len(), 2);
    assert_eq!(order["lines"][0]["sku"], "SKU-1");
    assert_eq!(order["lines"][0]["quantity"], 2);
    assert_eq!(order["payment"]["transaction_id"], "TXN-1");
    assert_eq!(order["payment"]["terminal_code"], "TERM-001");
    assert_eq!(order["staff_id"], 17);
    assert_eq!(order["store_id"], "IST-01");
    assert_eq!(order["shipping"]["option"]["slug"], "pickup");
    // the paid pre-order leaves the cache
    let mut redis = app.redis().await;
    let exists: i64 = redis::cmd("EXISTS")
        .arg(app.ctx.keys.checkout(&session))
        .arg(app.ctx.keys.order_number(&order_number(&number)))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(exists, 0);
}

#[tokio::test]
async fn complete_accepts_form_bodies_and_compares_amounts_by_value() {
    let app = spawn_app().await;
    app.seed().await;
    let (_, number) = app.pre_order(json!([{"sku": "SKU-2", "quantity": 1}])).await; // 10.50
    let res = app
        .post_form(
            COMPLETE,
            &[
                ("transaction_id", "T-F"),
                ("order_number", &number),
                ("username", CASHIER.0),
                ("password", CASHIER.1),
                ("amount", "10.5"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["result"], "0", "{answer}");
    assert_eq!(answer["amount"], "10.5");
}

#[tokio::test]
async fn complete_answers_402_for_an_invalid_payload_before_anything_else() {
    let app = spawn_app().await;
    app.seed().await;
    let (_, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let mut cases = Vec::new();
    for missing in ["transaction_id", "order_number", "username", "password", "amount"] {
        let mut body = complete_body(&number, "T", "99.99");
        body.as_object_mut().unwrap().remove(missing);
        cases.push(body);
    }
    for amount in ["abc", "1e3", "", "12,50", "-99.99"] {
        cases.push(complete_body(&number, "T", amount));
    }
    let mut promos = complete_body(&number, "T", "99.99");
    promos["promotions"] = json!([{"benefit_amount": "10.00"}]);
    cases.push(promos);
    let mut long = complete_body(&number, "T", "99.99");
    long["discounted_amount"] = json!("89.99");
    long["promotions"] = json!([{"benefit_amount": "10.00", "description": "x".repeat(513)}]);
    cases.push(long);
    let mut bad_benefit = complete_body(&number, "T", "99.99");
    bad_benefit["discounted_amount"] = json!("89.99");
    bad_benefit["promotions"] = json!([{"benefit_amount": "ten"}]);
    cases.push(bad_benefit);
    // bad credentials too: 402 comes first
    let mut both = complete_body(&number, "T", "abc");
    both["password"] = json!("wrong");
    cases.push(both);
    for body in cases {
        assert_complete_failed(&app.hook(COMPLETE, &body).await, 402, None);
    }
    let res =
        app.client.post(app.url(COMPLETE)).header("content-type", "application/json").body("{").send().await.unwrap();
    assert_complete_failed(&res.json().await.unwrap(), 402, None);
}

#[tokio::test]
async fn complete_answers_403_then_404_then_411() {
    let app = spawn_app().await;
    app.seed().await;
    let (session, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let mut wrong = complete_body(&number, "T", "99.99");
    wrong["password"] = json!("wrong");
    assert_complete_failed(&app.hook(COMPLETE, &wrong).await, 403, None);
    assert_complete_failed(&app.hook(COMPLETE, &complete_body(UNISSUED, "T", "99.99")).await, 404, None);
    app.pay_session_elsewhere(&session).await;
    assert_complete_failed(&app.hook(COMPLETE, &complete_body(&number, "T", "99.99")).await, 411, Some(&number));
}

#[tokio::test]
async fn complete_answers_407_408_412_405_then_402_for_a_changed_basket() {
    let app = spawn_app().await;
    app.seed().await;
    let (session, number) =
        app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-2", "quantity": 2}])).await; // 120.99
                                                                                                        // the basket changes (checked last) and the payment option goes (checked first)
    app.patch(
        &session,
        &json!({"basket": {"items": [{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-2", "quantity": 3}]}}),
    )
    .await; // 131.49
    app.patch(&session, &json!({"payment_option": null})).await;
    assert_complete_failed(&app.hook(COMPLETE, &complete_body(&number, "T", "131.49")).await, 407, Some(&number));
    app.patch(&session, &json!({"payment_option": "credit-card"})).await;
    assert_complete_failed(&app.hook(COMPLETE, &complete_body(&number, "T", "131.49")).await, 408, Some(&number));
    app.patch(&session, &json!({"payment_option": "cash-register"})).await;
    // 412: an offer that cannot be applied
    for (promotions, reason) in [
        (json!([{"benefit_amount": "1.00", "affected_basket_items": [99]}]), "basket item 99"),
        (json!([{"benefit_amount": "100.00", "affected_basket_items": [2]}]), "above"),
    ] {
        let mut body = complete_body(&number, "T", "131.49");
        body["discounted_amount"] = json!("130.49");
        body["promotions"] = promotions;
        let answer = app.hook(COMPLETE, &body).await;
        assert_complete_failed(&answer, 412, Some(&number));
        let message = answer["error_message"].as_str().unwrap();
        assert!(message.starts_with("Error occurred while applying offer: ") && message.contains(reason), "{message}");
    }
    // 405: the amount is not the unpaid amount
    assert_complete_failed(&app.hook(COMPLETE, &complete_body(&number, "T", "120.99")).await, 405, Some(&number));
    // 402: right amount for the basket as it is now, but it changed since the number was issued
    assert_complete_failed(&app.hook(COMPLETE, &complete_body(&number, "T", "131.49")).await, 402, Some(&number));
    assert_eq!(app.count("SELECT count(*) FROM payments").await, 0, "nothing recorded by any failure");
}

#[tokio::test]
async fn promotions_are_applied_before_the_amount_check_and_spread_over_the_lines() {
    let app = spawn_app().await;
    app.seed().await;
    let (_, number) = app
        .pre_order(
            json!([{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-2", "quantity": 2}, {"sku": "SKU-3", "quantity": 1}]),
        )
        .await;
    // 99.99 + 21.00 + 250.00 = 370.99
    let mut body = complete_body(&number, "TXN-P", "370.99");
    body["discounted_amount"] = json!("350.99");
    body["promotions"] = json!([
        {"benefit_amount": "10.00", "description": "Two for one", "affected_basket_items": [1, 2]},
        {"benefit_amount": "10.00"}
    ]);
    // the discounted amount must match: amount alone is not enough
    let mut wrong = body.clone();
    wrong["discounted_amount"] = json!("370.99");
    assert_complete_failed(&app.hook(COMPLETE, &wrong).await, 405, Some(&number));
    let answer = app.hook(COMPLETE, &body).await;
    assert_eq!(answer["result"], "0", "{answer}");
    app.run_jobs().await;
    let (_, order) = app.order(&number).await;
    assert_eq!(order["total_discount_amount"], "20.00");
    assert_eq!(order["total_amount"], "350.99");
    let discounts = order["discounts"].as_array().unwrap();
    assert_eq!(discounts.len(), 2);
    assert_eq!(discounts[0]["description"], "Two for one");
    assert_eq!(discounts[1]["description"], "Cash Register Offer");
    assert_eq!(discounts[1]["affected_basket_items"], json!([1, 2, 3]));
    let line_discounts: Vec<rust_decimal::Decimal> = order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["discount_amount"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(line_discounts.iter().sum::<rust_decimal::Decimal>().to_string(), "20.00");
    assert!(line_discounts.iter().all(|d| d.scale() <= 2));
}

#[tokio::test]
async fn a_replayed_complete_answers_the_same_success_and_records_nothing_new() {
    let app = spawn_app().await;
    app.seed().await;
    let (_, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let first = app.complete(&number, "TXN-R", "99.99").await;
    assert_eq!(first["result"], "0");
    assert_eq!(app.complete(&number, "TXN-R", "99.99").await, first);
    // another transaction for a paid order number: 404
    assert_complete_failed(&app.complete(&number, "TXN-OTHER", "99.99").await, 404, None);
    // after the worker dropped the pre-order, the same holds
    app.run_jobs().await;
    assert_eq!(app.complete(&number, "TXN-R", "99.99").await, first);
    assert_complete_failed(&app.complete(&number, "TXN-OTHER", "99.99").await, 404, None);
    assert_eq!(app.count("SELECT count(*) FROM payments").await, 1);
    assert_eq!(app.run_jobs().await, 0);
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 1);
}

#[tokio::test]
async fn twenty_concurrent_completes_of_one_order_number_pay_it_once() {
    let app = spawn_app().await;
    app.seed().await;
    let (_, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let answers = futures_util::future::join_all((0..20).map(|i| {
        let app = &app;
        let number = number.clone();
        async move { app.complete(&number, &format!("TXN-{i}"), "99.99").await }
    }))
    .await;
    let winners: Vec<&Value> = answers.iter().filter(|a| a["result"] == "0").collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    for loser in answers.iter().filter(|a| a["result"] != "0") {
        assert_eq!(loser["result"], 404, "{loser}");
    }
    app.run_jobs().await;
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 1);
    assert_eq!(app.count("SELECT count(*) FROM payments").await, 1);
}

#[tokio::test]
async fn concurrent_completes_written_together_each_get_their_own_outcome() {
    let app = spawn_app().await;
    app.seed().await;
    // 30 different orders, each completed twice at once by a retrying till,
    // plus a session paid under two numbers at once: written in shared batches.
    let mut numbers = Vec::new();
    for _ in 0..30 {
        numbers.push(app.pre_order(json!([{"sku": "SKU-2", "quantity": 1}])).await.1);
    }
    let (session, first) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let second = app.get_order_number(&session).await["order_number"].as_str().unwrap().to_string();
    let mut calls: Vec<(String, String, &str)> = Vec::new();
    for (i, number) in numbers.iter().enumerate() {
        calls.push((number.clone(), format!("TXN-{i}"), "10.50"));
        calls.push((number.clone(), format!("TXN-{i}"), "10.50"));
    }
    calls.push((first.clone(), "TXN-FIRST".into(), "99.99"));
    calls.push((second.clone(), "TXN-SECOND".into(), "99.99"));
    let answers = futures_util::future::join_all(calls.iter().map(|(n, t, a)| app.complete(n, t, a))).await;
    for (i, number) in numbers.iter().enumerate() {
        for answer in &answers[2 * i..2 * i + 2] {
            assert_eq!(answer["result"], "0", "{answer}");
            assert_eq!(answer["order_number"], number.as_str());
            assert_eq!(answer["transaction_id"], format!("TXN-{i}"));
        }
    }
    let (a, b) = (&answers[60], &answers[61]);
    assert_eq!([&a["result"], &b["result"]].iter().filter(|r| ***r == "0").count(), 1, "{a} {b}");
    let loser = if a["result"] == "0" { b } else { a };
    assert_eq!(loser["result"], 411, "the session is paid: {loser}");
    assert_eq!(app.count("SELECT count(*) FROM payments").await, 31);
    app.run_jobs().await;
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 31);
    // and they were written together: fewer commits than payments
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let count = |name: &str| -> f64 {
        metrics.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.trim().parse().ok()).unwrap_or(0.0)
    };
    let (batches, written) = (count("cashdesk_payment_batch_size_count"), count("cashdesk_payment_batch_size_sum"));
    assert_eq!(written, 62.0, "{metrics}");
    assert!(batches < written, "{batches} batches for {written} payments");
}

#[tokio::test]
async fn one_checkout_session_is_paid_once_whatever_order_numbers_it_was_given() {
    let app = spawn_app().await;
    app.seed().await;
    let (session, first) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let second = app.get_order_number(&session).await["order_number"].as_str().unwrap().to_string();
    assert_eq!(app.complete(&first, "TXN-A", "99.99").await["result"], "0");
    assert_complete_failed(&app.complete(&second, "TXN-B", "99.99").await, 411, Some(&second));
    app.run_jobs().await;
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 1);
}
