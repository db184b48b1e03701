//! Failed-login lockouts on the hooks, and secrets kept out of answers.

use crate::helpers::*;
use cashdesk::hooks::lockout::MAX_FAILURES_PER_USER;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn a_username_with_too_many_failed_logins_is_locked_out_until_an_operator_clears_it() {
    let app = spawn_app().await;
    app.seed().await;
    let (_, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let good = json!({"order_number": number, "username": CASHIER.0, "password": CASHIER.1});
    let bad = json!({"order_number": number, "username": CASHIER.0, "password": "guess"});
    assert!(app.hook("/hooks/cash_register/pre_order/", &good).await.get("error_code").is_none());
    for _ in 0..MAX_FAILURES_PER_USER {
        assert_eq!(app.hook("/hooks/cash_register/pre_order/", &bad).await["error_code"], "403");
    }
    // now even the right password gets the credential error, on every hook of the protocol
    assert_eq!(app.hook("/hooks/cash_register/pre_order/", &good).await["error_code"], "403");
    let empty = json!({"order_number": "", "username": CASHIER.0, "password": CASHIER.1});
    assert_eq!(app.hook("/hooks/cash_register/pre_order/", &empty).await["error_code"], "403", "no hint via 409");
    assert_eq!(app.complete(&number, "TXN-1", "99.99").await["result"], 403);
    // the IVR protocol has its own counters
    let ivr = app.hook("/hooks/ivr/pre_order/", &json!({"username": IVR.0, "password": IVR.1, "orderNumber": number})).await;
    assert_eq!(ivr["result"]["success"], true);

    let listed: Value = app.admin_get("/admin/api/lockouts/").await.json().await.unwrap();
    let entry = listed["lockouts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["subject"] == format!("user:{}", CASHIER.0))
        .expect("the user's lockout is listed")
        .clone();
    assert_eq!(entry["locked"], true);
    assert_eq!(entry["protocol"], "cash_register");
    assert_eq!(entry["failures"], MAX_FAILURES_PER_USER);
    let res = app
        .client
        .delete(app.url(&format!("/admin/api/lockouts/cash_register/user:{}/", CASHIER.0)))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // the address counter is below its own limit, so the right password works again
    assert!(app.hook("/hooks/cash_register/pre_order/", &good).await.get("error_code").is_none());
    assert_eq!(app.complete(&number, "TXN-1", "99.99").await["result"], "0");
}

#[tokio::test]
async fn ivr_logins_are_locked_out_the_same_way() {
    let app = spawn_app().await;
    let bad = json!({"username": IVR.0, "password": "guess", "orderNumber": "ORD-1"});
    for _ in 0..MAX_FAILURES_PER_USER {
        app.hook("/hooks/ivr/pre_order/", &bad).await;
    }
    let good = json!({"username": IVR.0, "password": IVR.1, "orderNumber": "ORD-1"});
    assert_eq!(app.hook("/hooks/ivr/pre_order/", &good).await["result"]["message"], "User invalid");
    let complete = json!({"username": IVR.0, "password": IVR.1, "orderNumber": "ORD-1", "success": false,
                          "referenceNumber": "R", "staffId": 1, "amount": 1});
    assert_eq!(app.hook("/hooks/ivr/complete/", &complete).await["orderResultResponse"]["result"]["message"], "User invalid");
}

#[tokio::test]
async fn lockouts_need_the_admin_token_to_see_or_clear() {
    let app = spawn_app().await;
    assert_eq!(app.get("/admin/api/lockouts/").await.status(), StatusCode::UNAUTHORIZED);
    let res = app.client.delete(app.url("/admin/api/lockouts/ivr/user:x/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app.client.delete(app.url("/admin/api/lockouts/ivr/user:x/")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_address_with_too_many_failed_logins_is_locked_out_whatever_the_username() {
    use cashdesk::hooks::lockout::MAX_FAILURES_PER_ADDRESS;
    let app = spawn_app().await;
    app.seed().await;
    let (_, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    // A different made-up username each time: no username reaches its own limit.
    for i in 0..MAX_FAILURES_PER_ADDRESS {
        let bad = json!({"order_number": number, "username": format!("guess-{i}"), "password": "guess"});
        assert_eq!(app.hook("/hooks/cash_register/pre_order/", &bad).await["error_code"], "403");
    }
    let good = json!({"order_number": number, "username": CASHIER.0, "password": CASHIER.1});
    assert_eq!(app.hook("/hooks/cash_register/pre_order/", &good).await["error_code"], "403", "this address is locked out");
    let listed: Value = app.admin_get("/admin/api/lockouts/").await.json().await.unwrap();
    let address = listed["lockouts"].as_array().unwrap().iter().find(|l| l["subject"] == "addr:127.0.0.1").expect("listed").clone();
    assert_eq!(address["locked"], true);
    assert!(address["failures"].as_i64().unwrap() >= MAX_FAILURES_PER_ADDRESS, "{address}");
    let res = app.client.delete(app.url("/admin/api/lockouts/cash_register/addr:127.0.0.1/")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(app.hook("/hooks/cash_register/pre_order/", &good).await.get("error_code").is_none());
}

#[tokio::test]
async fn the_admin_token_and_ivr_password_are_held_only_as_digests() {
    let app = spawn_app().await;
    assert!(app.ctx.config.admin_token.is_none() && app.ctx.config.ivr_password.is_none());
    assert!(app.ctx.admin_token_hash.is_some() && app.ctx.ivr_credentials.is_some());
    assert_eq!(app.admin_get("/admin/api/settings/").await.status(), StatusCode::OK);
    let ivr = app.hook("/hooks/ivr/pre_order/", &json!({"username": IVR.0, "password": IVR.1, "orderNumber": "ORD-1"})).await;
    assert_eq!(ivr["result"]["message"], "Order not found", "the IVR credentials still work");
}
