//! IVR hooks (SPEC §6): messages in order, shapes, the shared payment path.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const PRE_ORDER: &str = "/hooks/ivr/pre_order/";
const COMPLETE: &str = "/hooks/ivr/complete/";

fn pre_order_body(order_number: &str) -> Value {
    json!({"username": IVR.0, "password": IVR.1, "orderNumber": order_number})
}

fn complete_body(order_number: &str, reference: &str, amount: Value) -> Value {
    json!({"username": IVR.0, "password": IVR.1, "orderNumber": order_number, "success": true,
           "referenceNumber": reference, "staffId": 42, "amount": amount})
}

fn assert_pre_order_failed(answer: &Value, message: &str) {
    assert_eq!(
        answer,
        &json!({"result": {"success": false, "message": message}, "productlist": [], "orderprice": 0.0})
    );
}

fn complete_message(answer: &Value) -> (bool, String) {
    let result = &answer["orderResultResponse"]["result"];
    (result["success"].as_bool().unwrap(), result["message"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn ivr_pre_order_answers_the_product_list_and_order_price() {
    let app = spawn_app().await;
    app.seed().await;
    let (session, _) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 1}])).await;
    app.patch(&session, &json!({"shipping_option": "courier"})).await;
    let number = app.get_order_number(&session).await["order_number"].as_str().unwrap().to_string();
    let answer = app.hook(PRE_ORDER, &pre_order_body(&number)).await;
    // Amounts are exact decimal literals on the wire (10.50, not a binary float).
    let expected: Value = serde_json::from_str(
        r#"{"result": {"success": true, "message": ""},
            "productlist": [{"sku": "SKU-1", "name": "Shirt", "quantity": 2, "price": 199.98},
                            {"sku": "SKU-2", "name": "Socks", "quantity": 1, "price": 10.50}],
            "orderprice": 240.47}"#,
    )
    .unwrap();
    assert_eq!(answer, expected);
    // exact decimals on the wire, never binary floats
    let raw = app.post_json(PRE_ORDER, &pre_order_body(&number)).await.text().await.unwrap();
    assert!(raw.contains(r#""orderprice":240.47"#) && raw.contains(r#""price":10.50"#), "{raw}");
    let res = app.post_form(PRE_ORDER, &[("username", IVR.0), ("password", IVR.1), ("orderNumber", &number)]).await;
    assert_eq!(res.json::<Value>().await.unwrap(), answer);
}

#[tokio::test]
async fn ivr_pre_order_failures_come_in_the_specified_order() {
    let app = spawn_app().await;
    app.seed().await;
    let (session, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    // Input invalid: a field missing or not a string, even with wrong credentials
    for body in [
        json!({"username": IVR.0, "password": IVR.1}),
        json!({"username": IVR.0, "password": 5, "orderNumber": number}),
        json!({"username": "x", "orderNumber": number}),
    ] {
        assert_pre_order_failed(&app.hook(PRE_ORDER, &body).await, "Input invalid");
    }
    let res = app
        .client
        .post(app.url(PRE_ORDER))
        .header("content-type", "application/json")
        .body("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_pre_order_failed(&res.json().await.unwrap(), "Input invalid");
    // User invalid: wrong IVR credentials, and cash register credentials are not IVR ones
    assert_pre_order_failed(
        &app.hook(PRE_ORDER, &json!({"username": IVR.0, "password": "wrong", "orderNumber": ""})).await,
        "User invalid",
    );
    assert_pre_order_failed(
        &app.hook(PRE_ORDER, &json!({"username": CASHIER.0, "password": CASHIER.1, "orderNumber": number})).await,
        "User invalid",
    );
    assert_pre_order_failed(&app.hook(PRE_ORDER, &pre_order_body("   ")).await, "Order number invalid");
    assert_pre_order_failed(&app.hook(PRE_ORDER, &pre_order_body(UNISSUED)).await, "Order not found");
    app.patch(&session, &json!({"basket": {"items": [{"sku": "SKU-1", "quantity": 3}]}})).await;
    assert_pre_order_failed(&app.hook(PRE_ORDER, &pre_order_body(&number)).await, "Basket Changed");
    app.patch(&session, &json!({"payment_option": "credit-card"})).await;
    assert_pre_order_failed(&app.hook(PRE_ORDER, &pre_order_body(&number)).await, "PaymentOption is not valid...");
    app.patch(&session, &json!({"payment_option": null})).await;
    assert_pre_order_failed(&app.hook(PRE_ORDER, &pre_order_body(&number)).await, "PaymentOption is null");
    app.pay_session_elsewhere(&session).await;
    assert_pre_order_failed(&app.hook(PRE_ORDER, &pre_order_body(&number)).await, "Order Not Found");
}

#[tokio::test]
async fn ivr_complete_records_the_payment_and_creates_the_order() {
    let app = spawn_app().await;
    app.seed().await;
    let (_, number) = app.pre_order(json!([{"sku": "SKU-2", "quantity": 2}])).await; // 21.00
    let answer = app.hook(COMPLETE, &complete_body(&number, "REF-1", json!(21))).await;
    assert_eq!(
        answer,
        json!({"orderResultResponse": {"result": {"success": true, "message": ""}, "orderNumber": number, "referenceNumber": "REF-1"}})
    );
    assert_eq!(app.run_jobs().await, 1);
    let (status, order) = app.order(&number).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(order["source"], "ivr");
    assert_eq!(order["payment"]["transaction_id"], "REF-1");
    assert_eq!(order["staff_id"], 42);
    assert_eq!(order["paid_amount"], "21.00");
    // a replay answers the same success; another reference is refused
    assert_eq!(app.hook(COMPLETE, &complete_body(&number, "REF-1", json!(21.00))).await, answer);
    let other = app.hook(COMPLETE, &complete_body(&number, "REF-2", json!(21.00))).await;
    assert_eq!(complete_message(&other), (false, "Order Not Found".to_string()));
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 1);
}

#[tokio::test]
async fn ivr_complete_failures_come_in_the_specified_order() {
    let app = spawn_app().await;
    app.seed().await;
    let (session, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await; // 99.99
    let with = |change: Value| {
        let mut body = complete_body(&number, "REF-1", json!(99.99));
        for (k, v) in change.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    for body in [
        with(json!({"amount": null})),
        with(json!({"success": "yes"})),
        with(json!({"referenceNumber": 7})),
        with(json!({"amount": "ten"})),
    ] {
        assert_eq!(complete_message(&app.hook(COMPLETE, &body).await), (false, "Input invalid".to_string()), "{body}");
    }
    assert_eq!(
        complete_message(&app.hook(COMPLETE, &with(json!({"password": "nope", "success": false}))).await),
        (false, "User invalid".to_string())
    );
    assert_eq!(
        complete_message(&app.hook(COMPLETE, &with(json!({"success": false}))).await),
        (false, "Success must be true".to_string())
    );
    assert_eq!(
        complete_message(&app.hook(COMPLETE, &with(json!({"orderNumber": UNISSUED}))).await),
        (false, "Order Not Found".to_string())
    );
    app.patch(&session, &json!({"basket": {"items": [{"sku": "SKU-1", "quantity": 2}]}})).await; // 199.98, changed
    app.patch(&session, &json!({"payment_option": null})).await;
    assert_eq!(
        complete_message(&app.hook(COMPLETE, &with(json!({}))).await),
        (false, "PaymentOption is null".to_string())
    );
    app.patch(&session, &json!({"payment_option": "credit-card"})).await;
    let (_, message) = complete_message(&app.hook(COMPLETE, &with(json!({}))).await);
    assert!(message.starts_with("PaymentOption is not valid..."));
    app.patch(&session, &json!({"payment_option": "cash-register"})).await;
    assert_eq!(complete_message(&app.hook(COMPLETE, &with(json!({}))).await), (false, "Amount mismatch".to_string()));
    assert_eq!(
        complete_message(&app.hook(COMPLETE, &with(json!({"amount": 199.98}))).await),
        (false, "Basket Changed".to_string())
    );
    // the session is paid under another number: this one is gone
    app.pay_session_elsewhere(&session).await;
    assert_eq!(complete_message(&app.hook(COMPLETE, &with(json!({}))).await), (false, "Order Not Found".to_string()));
    assert_eq!(app.count("SELECT count(*) FROM payments").await, 1);
}

#[tokio::test]
async fn concurrent_ivr_completes_create_exactly_one_order() {
    let app = spawn_app().await;
    app.seed().await;
    let (_, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let bodies: Vec<_> = (0..10).map(|i| complete_body(&number, &format!("REF-{i}"), json!(99.99))).collect();
    let answers = futures_util::future::join_all(bodies.iter().map(|b| app.hook(COMPLETE, b))).await;
    assert_eq!(
        answers.iter().filter(|a| a["orderResultResponse"]["result"]["success"] == true).count(),
        1,
        "{answers:?}"
    );
    app.run_jobs().await;
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 1);
}

#[tokio::test]
async fn a_cash_register_and_an_ivr_complete_racing_on_one_order_number_pay_it_once() {
    let app = spawn_app().await;
    app.seed().await;
    for round in 0..5 {
        let (_, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
        let ivr_body = complete_body(&number, &format!("REF-{round}"), json!(99.99));
        let txn = format!("TXN-{round}");
        let (till, phone) = tokio::join!(app.complete(&number, &txn, "99.99"), app.hook(COMPLETE, &ivr_body));
        let till_won = till["result"] == "0";
        let phone_won = phone["orderResultResponse"]["result"]["success"] == true;
        assert!(till_won ^ phone_won, "exactly one wins: {till} {phone}");
    }
    app.run_jobs().await;
    assert_eq!(app.count("SELECT count(*) FROM orders").await, 5);
    assert_eq!(app.count("SELECT count(*) FROM payments").await, 5);
}
