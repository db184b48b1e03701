//! Failed hook logins (SPEC §11): counted per client address and per
//! (username, address) pair, never per username, so an attacker cannot turn
//! the lockout against the tills. Clients bind other loopback addresses
//! (127.0.0.0/8) to play tills and attackers on several machines.

use crate::helpers::*;
use cashdesk::lockouts::{MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_PAIR};
use cashdesk::startup::RunOptions;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

const PRE_ORDER: &str = "/hooks/cash_register/pre_order/";
const COMPLETE: &str = "/hooks/cash_register/complete/";
const IVR_PRE_ORDER: &str = "/hooks/ivr/pre_order/";

fn pre_order_body(number: &str, username: &str, password: &str) -> Value {
    json!({"order_number": number, "username": username, "password": password})
}

fn is_pre_order(answer: &Value) -> bool {
    answer.get("error_code").is_none() && answer["pre_order"].is_object()
}

async fn lockouts(app: &TestApp) -> Vec<Value> {
    let res = app.admin_get("/admin/api/lockouts/").await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["lockouts"].as_array().unwrap().clone()
}

fn find<'a>(listed: &'a [Value], protocol: &str, address: &str, username: Option<&str>) -> Option<&'a Value> {
    listed.iter().find(|l| {
        l["protocol"] == protocol
            && l["address"] == address
            && l["username"] == username.map_or(Value::Null, Value::from)
    })
}

async fn clear(app: &TestApp, protocol: &str, subject: &str) -> StatusCode {
    let url = app.url(&format!("/admin/api/lockouts/{protocol}/{subject}/"));
    app.client.delete(url).bearer_auth(ADMIN_TOKEN).send().await.unwrap().status()
}

#[tokio::test]
async fn wrong_passwords_for_the_shared_username_from_anywhere_never_lock_out_a_till() {
    let a = spawn_app().await;
    a.seed().await;
    let b = spawn_app_in(a.env.clone(), |_| {}, RunOptions { worker: false }).await;
    let till = client_from("127.0.0.10");
    let (_, number) = a.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let good = pre_order_body(&number, CASHIER.0, CASHIER.1);
    assert!(is_pre_order(&a.hook_from(&till, PRE_ORDER, &good).await), "the till works before the attack");

    // The attack: far more wrong passwords for the till's username than any
    // per-username limit, from five machines, on both instances.
    let bad = pre_order_body(&number, CASHIER.0, "guess");
    for attacker in 2..=6 {
        let client = client_from(&format!("127.0.0.{attacker}"));
        for i in 0..MAX_FAILURES_PER_ADDRESS + 5 {
            let app = if i % 2 == 0 { &a } else { &b };
            assert_eq!(app.hook_from(&client, PRE_ORDER, &bad).await["error_code"], "403");
        }
    }
    let failures = "cashdesk_hook_login_failures_total{protocol=\"cash_register\"}";
    assert_eq!(a.metric(failures).await + b.metric(failures).await, 5.0 * (MAX_FAILURES_PER_ADDRESS + 5) as f64);

    // The till, on either instance and on one started after the attack.
    let c = spawn_app_in(a.env.clone(), |_| {}, RunOptions { worker: false }).await;
    for app in [&a, &b, &c] {
        assert!(is_pre_order(&app.hook_from(&till, PRE_ORDER, &good).await), "the till is never refused");
    }
    assert_eq!(c.metric("cashdesk_password_verifications_total").await, 0.0, "verified on A: no hashing on C");
    let paid = c
        .hook_from(
            &till,
            COMPLETE,
            &json!({"transaction_id": "TXN-1", "order_number": number, "username": CASHIER.0,
            "password": CASHIER.1, "amount": "99.99"}),
        )
        .await;
    assert_eq!(paid["result"], "0", "{paid}");

    // Each attacker is locked out, as an address and as a pair, and nobody else.
    let listed = lockouts(&c).await;
    assert_eq!(listed.len(), 10, "{listed:?}");
    for attacker in 2..=6 {
        let address = format!("127.0.0.{attacker}");
        let by_address = find(&listed, "cash_register", &address, None).expect("the address is listed");
        assert_eq!(by_address["kind"], "address");
        assert_eq!(by_address["failures"], MAX_FAILURES_PER_ADDRESS + 5);
        let pair = find(&listed, "cash_register", &address, Some(CASHIER.0)).expect("the pair is listed");
        assert_eq!(pair["kind"], "pair");
        let attacker = client_from(&address);
        assert_eq!(c.hook_from(&attacker, PRE_ORDER, &good).await["error_code"], "403", "even the right password");
    }
}

#[tokio::test]
async fn an_address_with_twenty_failures_is_locked_out_whatever_the_username_and_only_that_address() {
    let app = spawn_app().await;
    app.seed().await;
    let (_, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let attacker = client_from("127.0.0.2");
    // A different made-up username each time: no pair reaches its own limit.
    for i in 0..MAX_FAILURES_PER_ADDRESS {
        let bad = pre_order_body(&number, &format!("guess-{i}"), "guess");
        assert_eq!(app.hook_from(&attacker, PRE_ORDER, &bad).await["error_code"], "403");
    }
    let good = pre_order_body(&number, CASHIER.0, CASHIER.1);
    assert_eq!(app.hook_from(&attacker, PRE_ORDER, &good).await["error_code"], "403", "the address is locked out");
    let empty = pre_order_body("", CASHIER.0, CASHIER.1);
    assert_eq!(app.hook_from(&attacker, PRE_ORDER, &empty).await["error_code"], "403", "no hint via 409");
    let complete = json!({"transaction_id": "TXN-1", "order_number": number, "username": CASHIER.0,
        "password": CASHIER.1, "amount": "99.99"});
    assert_eq!(app.hook_from(&attacker, COMPLETE, &complete).await["result"], 403);
    // The IVR protocol has counters of its own.
    let ivr = json!({"username": IVR.0, "password": IVR.1, "orderNumber": number});
    assert_eq!(app.hook_from(&attacker, IVR_PRE_ORDER, &ivr).await["result"]["success"], true);
    // Another machine is not concerned.
    assert!(is_pre_order(&app.hook_from(&client_from("127.0.0.3"), PRE_ORDER, &good).await));

    let listed = lockouts(&app).await;
    assert_eq!(listed.len(), 1, "only the address: no pair reached its limit: {listed:?}");
    let entry = &listed[0];
    assert_eq!(entry["protocol"], "cash_register");
    assert_eq!(entry["address"], "127.0.0.2");
    assert_eq!(entry["username"], Value::Null);
    assert_eq!(entry["subject"], "addr:127.0.0.2");
    assert_eq!(entry["failures"], MAX_FAILURES_PER_ADDRESS + 3, "refusals while locked count too");
    let unlocks_at: DateTime<Utc> = entry["unlocks_at"].as_str().unwrap().parse().unwrap();
    let in_seconds = (unlocks_at - Utc::now()).num_seconds();
    assert!((14 * 60..=15 * 60).contains(&in_seconds), "unlocks in {in_seconds} s");

    assert_eq!(clear(&app, "cash_register", "addr:127.0.0.2").await, StatusCode::NO_CONTENT);
    assert!(lockouts(&app).await.is_empty());
    assert_eq!(app.hook_from(&attacker, COMPLETE, &complete).await["result"], "0", "cleared: the right password works");
    assert_eq!(clear(&app, "cash_register", "addr:127.0.0.2").await, StatusCode::NOT_FOUND, "nothing left to clear");
}

#[tokio::test]
async fn a_pair_with_ten_failures_is_locked_out_but_not_its_address_nor_other_pairs() {
    let app = spawn_app().await;
    app.seed().await;
    app.set_cash_register_conf(json!({"credentials": [
        {"username": CASHIER.0, "password": CASHIER.1}, {"username": "cashier02", "password": "second-secret"}]}))
        .await;
    let (_, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let shared_till = client_from("127.0.0.2");
    for _ in 0..MAX_FAILURES_PER_PAIR {
        let bad = pre_order_body(&number, CASHIER.0, "typo");
        assert_eq!(app.hook_from(&shared_till, PRE_ORDER, &bad).await["error_code"], "403");
    }
    let good = pre_order_body(&number, CASHIER.0, CASHIER.1);
    assert_eq!(app.hook_from(&shared_till, PRE_ORDER, &good).await["error_code"], "403", "the pair is locked out");
    let other_user = pre_order_body(&number, "cashier02", "second-secret");
    assert!(is_pre_order(&app.hook_from(&shared_till, PRE_ORDER, &other_user).await), "another username, same address");
    assert!(
        is_pre_order(&app.hook_from(&client_from("127.0.0.3"), PRE_ORDER, &good).await),
        "same username, another address"
    );

    let listed = lockouts(&app).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let pair = find(&listed, "cash_register", "127.0.0.2", Some(CASHIER.0)).expect("the pair is listed");
    assert_eq!(pair["kind"], "pair");
    assert_eq!(pair["failures"], MAX_FAILURES_PER_PAIR + 1);
    let subject = pair["subject"].as_str().unwrap();
    assert!(subject.starts_with("pair:") && subject.ends_with(":127.0.0.2"), "{subject}");
    assert_eq!(clear(&app, "cash_register", subject).await, StatusCode::NO_CONTENT);
    assert!(is_pre_order(&app.hook_from(&shared_till, PRE_ORDER, &good).await), "cleared");
}

#[tokio::test]
async fn ivr_logins_are_counted_per_address_and_pair_too() {
    let app = spawn_app().await;
    let attacker = client_from("127.0.0.2");
    let bad = json!({"username": IVR.0, "password": "guess", "orderNumber": "4000000006"});
    for _ in 0..MAX_FAILURES_PER_PAIR {
        assert_eq!(app.hook_from(&attacker, IVR_PRE_ORDER, &bad).await["result"]["message"], "User invalid");
    }
    let good = json!({"username": IVR.0, "password": IVR.1, "orderNumber": "4000000006"});
    assert_eq!(app.hook_from(&attacker, IVR_PRE_ORDER, &good).await["result"]["message"], "User invalid");
    let complete = json!({"username": IVR.0, "password": IVR.1, "orderNumber": "4000000006", "success": false,
        "referenceNumber": "R", "staffId": 1, "amount": 1});
    let answer = app.hook_from(&attacker, "/hooks/ivr/complete/", &complete).await;
    assert_eq!(answer["orderResultResponse"]["result"]["message"], "User invalid", "no hint via Success must be true");
    let elsewhere = app.hook_from(&client_from("127.0.0.3"), IVR_PRE_ORDER, &good).await;
    assert_eq!(elsewhere["result"]["message"], "Order not found", "another address gets on");
    let listed = lockouts(&app).await;
    let pair = find(&listed, "ivr", "127.0.0.2", Some(IVR.0)).expect("the IVR pair is listed");
    assert_eq!(pair["failures"], MAX_FAILURES_PER_PAIR + 2);
    assert!(find(&listed, "cash_register", "127.0.0.2", Some(IVR.0)).is_none(), "per protocol");
    assert_eq!(app.metric("cashdesk_hook_login_failures_total{protocol=\"ivr\"}").await, 12.0);
}

#[tokio::test]
async fn x_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = spawn_app().await;
    app.seed().await;
    let attacker = client_from("127.0.0.2");
    for i in 0..MAX_FAILURES_PER_ADDRESS {
        let res = attacker
            .post(app.url(PRE_ORDER))
            .header("X-Forwarded-For", format!("10.0.0.{i}"))
            .json(&pre_order_body("1", &format!("u{i}"), "guess"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.json::<Value>().await.unwrap()["error_code"], "403");
    }
    let listed = lockouts(&app).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["address"], "127.0.0.2", "counted against the peer, whatever it forwarded");
}

#[tokio::test]
async fn behind_trusted_proxies_each_client_is_judged_by_the_address_the_proxies_saw() {
    let env = Arc::new(TestEnv::new().await);
    let trusted = cashdesk::client_address::TrustedProxies::parse("127.0.0.1/32, 10.1.0.0/16").unwrap();
    let app = spawn_app_in(env, move |s| s.trusted_proxies = trusted, RunOptions { worker: false }).await;
    app.seed().await;
    let (_, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let proxy = client_from("127.0.0.1");
    let send = |forwarded: String, password: &'static str| {
        let req = proxy
            .post(app.url(PRE_ORDER))
            .header("X-Forwarded-For", forwarded)
            .json(&pre_order_body(&number, CASHIER.0, password));
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    // The client made up the first entry; our two proxies wrote the others.
    for _ in 0..MAX_FAILURES_PER_PAIR {
        assert_eq!(send("198.51.100.9, 203.0.113.7, 10.1.2.3".into(), "guess").await["error_code"], "403");
    }
    assert_eq!(send("203.0.113.7".into(), CASHIER.1).await["error_code"], "403", "the attacker is locked out");
    assert!(is_pre_order(&send("203.0.113.8".into(), CASHIER.1).await), "its neighbour is not");
    assert!(is_pre_order(&send("198.51.100.9".into(), CASHIER.1).await), "nor the address it made up");
    let listed = lockouts(&app).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["address"], "203.0.113.7");

    // A trusted peer without a usable entry is itself the client, and an
    // enormous or malformed header is no error.
    for forwarded in ["not-an-address".to_string(), format!("{}203.0.113.9", "1.2.3.4, ".repeat(700))] {
        let answer = send(forwarded, CASHIER.1).await;
        assert!(is_pre_order(&answer), "{answer}");
    }
    for _ in 0..MAX_FAILURES_PER_PAIR {
        send("garbage".into(), "guess").await;
    }
    let listed = lockouts(&app).await;
    assert!(find(&listed, "cash_register", "127.0.0.1", Some(CASHIER.0)).is_some(), "{listed:?}");
}

#[tokio::test]
async fn usernames_of_any_length_are_refused_and_listed_cut_short() {
    let app = spawn_app().await;
    let attacker = client_from("127.0.0.2");
    let long = "ü".repeat(20_000);
    for _ in 0..MAX_FAILURES_PER_PAIR {
        let answer = app.hook_from(&attacker, PRE_ORDER, &pre_order_body("1", &long, "guess")).await;
        assert_eq!(answer["error_code"], "403");
    }
    let listed = lockouts(&app).await;
    let pair = listed.iter().find(|l| l["kind"] == "pair").expect("listed");
    assert_eq!(pair["username"].as_str().unwrap().chars().count(), 128);
}

#[tokio::test]
async fn a_pair_verified_on_one_instance_costs_no_hashing_on_another_until_the_settings_change() {
    let a = spawn_app().await;
    a.seed().await;
    let (_, number) = a.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let good = pre_order_body(&number, CASHIER.0, CASHIER.1);
    assert!(is_pre_order(&a.hook(PRE_ORDER, &good).await));
    assert_eq!(a.metric("cashdesk_password_verifications_total").await, 1.0);
    assert!(is_pre_order(&a.hook(PRE_ORDER, &good).await));
    assert_eq!(a.metric("cashdesk_password_verifications_total").await, 1.0, "remembered");

    let b = spawn_app_in(a.env.clone(), |_| {}, RunOptions { worker: false }).await;
    assert!(is_pre_order(&b.hook(PRE_ORDER, &good).await));
    assert_eq!(b.metric("cashdesk_password_verifications_total").await, 0.0, "shared through Redis");
    // Nothing in Redis holds the password or a plain digest of it.
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{}*", a.env.prefix)).query_async(&mut a.redis().await).await.unwrap();
    let plain = cashdesk::secrets::sha256_hex(CASHIER.1.as_bytes());
    assert!(keys.iter().all(|k| !k.contains(CASHIER.1) && !k.contains(&plain)), "{keys:?}");

    // A settings change: the pair is verified once more, then shared again.
    a.set_cash_register_conf(json!({"credentials": [{"username": CASHIER.0, "password": "********"},
        {"username": "cashier02", "password": "second-secret"}]}))
        .await;
    eventually(5, "b follows the change", || async {
        b.ctx.settings.snapshot().version("CASH_REGISTER_AUTH_CONF")
            == a.ctx.settings.snapshot().version("CASH_REGISTER_AUTH_CONF")
    })
    .await;
    assert!(is_pre_order(&b.hook(PRE_ORDER, &good).await));
    assert_eq!(b.metric("cashdesk_password_verifications_total").await, 1.0, "a new version needs a new verification");
    assert!(is_pre_order(&a.hook(PRE_ORDER, &good).await));
    assert_eq!(a.metric("cashdesk_password_verifications_total").await, 1.0, "and only one, on any instance");
}

#[tokio::test]
async fn lockouts_need_the_admin_token_to_see_or_clear() {
    let app = spawn_app().await;
    assert_eq!(app.get("/admin/api/lockouts/").await.status(), StatusCode::UNAUTHORIZED);
    let res = app.client.delete(app.url("/admin/api/lockouts/ivr/addr:127.0.0.1/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(clear(&app, "ivr", "addr:127.0.0.1").await, StatusCode::NOT_FOUND);
    assert_eq!(clear(&app, "telnet", "addr:127.0.0.1").await, StatusCode::NOT_FOUND);
    assert_eq!(clear(&app, "ivr", "user:cashier01").await, StatusCode::NOT_FOUND);
}

#[test]
fn an_invalid_trusted_proxies_stops_the_start_with_a_line_naming_it() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cashdesk"))
        .arg("migrate")
        .env_clear()
        .env("TRUSTED_PROXIES", "10.0.0.0/8, 300.1.1.1/8")
        .output()
        .expect("binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr.contains("TRUSTED_PROXIES") && stderr.contains("300.1.1.1/8"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn a_burst_of_requests_with_a_new_pair_hashes_its_password_once() {
    let app = spawn_app().await;
    app.seed().await;
    let (_, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let good = pre_order_body(&number, CASHIER.0, CASHIER.1);
    let answers = futures_util::future::join_all((0..20).map(|_| app.hook(PRE_ORDER, &good))).await;
    assert!(answers.iter().all(is_pre_order), "{answers:?}");
    assert_eq!(app.metric("cashdesk_password_verifications_total").await, 1.0, "the others waited for the first");
}
