//! Order numbers people can type, scan and follow (SPEC §14): `expires_at`,
//! the barcode and QR pictures, the cancel, and the one notice of a number
//! that ends unpaid (expired or cancelled), never of a paid one.

use crate::helpers::*;
use crate::webhooks::{configure, signed_with, Behaviour, Received, Receiver, SECRET};
use cashdesk::order_number::OrderNumber;
use cashdesk::startup::RunOptions;
use cashdesk::webhooks::deliver_due;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashSet;

const IVR_PRE_ORDER: &str = "/hooks/ivr/pre_order/";
const IVR_COMPLETE: &str = "/hooks/ivr/complete/";
const SVG_NS: &str = "http://www.w3.org/2000/svg";

fn cash_register_pre_order(number: &str) -> Value {
    json!({"order_number": number, "username": CASHIER.0, "password": CASHIER.1})
}

fn ivr_pre_order(number: &str) -> Value {
    json!({"username": IVR.0, "password": IVR.1, "orderNumber": number})
}

fn ivr_complete(number: &str, amount: Value) -> Value {
    json!({"username": IVR.0, "password": IVR.1, "orderNumber": number, "success": true,
           "referenceNumber": "REF-1", "staffId": 42, "amount": amount})
}

/// Every hook answers "not found" for `number` (pre_order, complete, both IVR hooks).
async fn assert_not_found_by_every_hook(app: &TestApp, number: &str) {
    let answer = app.hook("/hooks/cash_register/pre_order/", &cash_register_pre_order(number)).await;
    assert_eq!(answer["error_code"], "410", "{number}: {answer}");
    let answer = app.complete(number, "TXN-NF", "199.98").await;
    assert_eq!(answer["result"], 404, "{number}: {answer}");
    assert_eq!(answer["order_number"], Value::Null);
    let answer = app.hook(IVR_PRE_ORDER, &ivr_pre_order(number)).await;
    assert_eq!(answer["result"], json!({"success": false, "message": "Order not found"}), "{number}: {answer}");
    let answer = app.hook(IVR_COMPLETE, &ivr_complete(number, json!(199.98))).await;
    assert_eq!(
        answer["orderResultResponse"]["result"],
        json!({"success": false, "message": "Order Not Found"}),
        "{number}: {answer}"
    );
}

/// A session with two shirts to pay at the till, its number and the whole answer.
async fn issued(app: &TestApp) -> (String, String, Value) {
    let session = app.new_session().await;
    let (status, body) = app
        .patch(
            &session,
            &json!({"basket": {"items": [{"sku": "SKU-1", "quantity": 2}]}, "payment_option": "cash-register",
                    "shipping_option": "pickup"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer = app.get_order_number(&session).await;
    let number = answer["order_number"].as_str().expect("an order number").to_string();
    (session, number, answer)
}

async fn delete_number(app: &TestApp, session: Option<&str>, number: &str) -> reqwest::Response {
    let mut req = app.client.delete(app.url(&format!("/api/v1/checkout/order-numbers/{number}")));
    if let Some(session) = session {
        req = req.header("X-Checkout-Session", session);
    }
    req.send().await.unwrap()
}

async fn picture(app: &TestApp, session: Option<&str>, number: &str, kind: &str) -> reqwest::Response {
    let mut req = app.client.get(app.url(&format!("/api/v1/checkout/order-numbers/{number}/{kind}")));
    if let Some(session) = session {
        req = req.header("X-Checkout-Session", session);
    }
    req.send().await.unwrap()
}

/// Asserts a §3 error body with `status`.
async fn assert_error(res: reqwest::Response, status: StatusCode) {
    assert_eq!(res.status(), status);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let body: Value = res.json().await.unwrap();
    for key in ["error_code", "message", "request_id"] {
        assert!(body[key].is_string(), "{key} missing from {body}");
    }
}

/// Makes `number` due: its expiry moves into the past (as if 24 h had passed).
async fn force_expiry(app: &TestApp, number: &str) {
    let sequence = OrderNumber::parse(number).unwrap().sequence();
    sqlx::query("UPDATE issued_order_numbers SET expires_at = now() - interval '1 second' WHERE sequence = $1")
        .bind(sequence)
        .execute(&app.ctx.db)
        .await
        .unwrap();
}

/// Outbox events of the order-number kinds, as (type, payload).
async fn notices(app: &TestApp) -> Vec<(String, Value)> {
    sqlx::query_as::<_, (String, Value)>(
        "SELECT event_type, payload FROM webhook_outbox
         WHERE event_type IN ('order_number_expired', 'order_number_cancelled') ORDER BY id",
    )
    .fetch_all(&app.ctx.db)
    .await
    .unwrap()
}

fn rfc3339(text: &Value) -> DateTime<Utc> {
    let text = text.as_str().expect("a string");
    assert!(text.ends_with('Z'), "{text} is not UTC");
    DateTime::parse_from_rfc3339(text).expect("RFC 3339").with_timezone(&Utc)
}

#[tokio::test]
async fn get_order_number_answers_when_the_24_hour_mapping_ends() {
    let app = spawn_app().await;
    app.seed().await;
    let before = Utc::now();
    let (_, number, answer) = issued(&app).await;
    assert!(number.bytes().all(|b| b.is_ascii_digit()) && number.len() >= 10, "{number}");
    let expires_at = rfc3339(&answer["expires_at"]);
    let day = chrono::Duration::hours(24);
    assert!(expires_at > before + day - chrono::Duration::seconds(2), "{expires_at} vs {before}");
    assert!(expires_at <= Utc::now() + day, "{expires_at}");
    // The Redis mapping ends then too.
    let mut redis = app.redis().await;
    let ttl: i64 =
        redis::cmd("TTL").arg(app.ctx.keys.order_number(&order_number(&number))).query_async(&mut redis).await.unwrap();
    assert!((24 * 3600 - 5..=24 * 3600).contains(&ttl), "ttl {ttl}");
    // And Postgres records it, live, with that expiry.
    let recorded: (String, DateTime<Utc>) =
        sqlx::query_as("SELECT status, expires_at FROM issued_order_numbers WHERE sequence = $1")
            .bind(order_number(&number).sequence())
            .fetch_one(&app.ctx.db)
            .await
            .unwrap();
    assert_eq!(recorded, ("issued".to_string(), expires_at));
}

#[tokio::test]
async fn two_instances_drawing_at_once_issue_unique_numbers() {
    let first = spawn_app().await;
    first.seed().await;
    let second = spawn_app_in(first.env.clone(), |_| {}, RunOptions { worker: false }).await;
    let mut sessions = Vec::new();
    for _ in 0..10 {
        let (session, _, _) = issued(&first).await;
        sessions.push(session);
    }
    let draws = sessions.iter().enumerate().map(|(i, session)| {
        let app = if i % 2 == 0 { &first } else { &second };
        async move { app.get_order_number(session).await["order_number"].as_str().unwrap().to_string() }
    });
    let numbers: Vec<String> = futures_util::future::join_all(draws).await;
    let unique: HashSet<&String> = numbers.iter().collect();
    assert_eq!(unique.len(), numbers.len(), "{numbers:?}");
    assert!(numbers.iter().all(|n| OrderNumber::parse(n).is_some()));
    assert_eq!(first.count("SELECT count(*) FROM issued_order_numbers WHERE status = 'issued'").await, 20);
}

#[tokio::test]
async fn a_mistyped_digit_and_an_adjacent_transposition_are_not_found_by_any_hook() {
    let app = spawn_app().await;
    app.seed().await;
    let (_, number, _) = issued(&app).await;
    // A transposition the Luhn digit catches (all but 09 <-> 90 are).
    let digits: Vec<u8> = number.bytes().collect();
    let transposed = (0..digits.len() - 1)
        .filter(|&i| digits[i] != digits[i + 1])
        .map(|i| {
            let mut swapped = digits.clone();
            swapped.swap(i, i + 1);
            String::from_utf8(swapped).unwrap()
        })
        .find(|t| OrderNumber::parse(t).is_none())
        .expect("a transposition Luhn catches");
    for wrong in [mistyped(&number), transposed] {
        assert_ne!(wrong, number);
        assert_not_found_by_every_hook(&app, &wrong).await;
    }
    // The number as issued is found.
    let answer = app.hook("/hooks/cash_register/pre_order/", &cash_register_pre_order(&number)).await;
    assert_eq!(answer["order_number"], number.as_str(), "{answer}");
}

/// The root element's name and `xmlns` of an XML document (which must parse whole).
fn svg_root(text: &str) -> (String, Option<String>) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut root = None;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) if root.is_none() => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                let xmlns = e
                    .attributes()
                    .map(|a| a.expect("an attribute"))
                    .find(|a| a.key.as_ref() == b"xmlns")
                    .map(|a| String::from_utf8(a.value.to_vec()).unwrap());
                root = Some((name, xmlns));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    root.expect("a root element")
}

/// The dark modules of a barcode SVG: the `x` of each black bar, in bar widths.
fn dark_modules(svg: &str, bar_width: u32) -> Vec<u32> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut modules = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Empty(e) if e.name().as_ref() == b"rect" => {
                let attr = |name: &[u8]| {
                    e.attributes()
                        .map(|a| a.unwrap())
                        .find(|a| a.key.as_ref() == name)
                        .map(|a| String::from_utf8(a.value.to_vec()).unwrap())
                        .unwrap()
                };
                if attr(b"fill") == "#000000" {
                    assert_eq!(attr(b"width"), bar_width.to_string());
                    modules.push(attr(b"x").parse::<u32>().unwrap() / bar_width);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    modules
}

#[tokio::test]
async fn the_barcode_and_the_qr_code_are_svg_documents_of_the_number() {
    let app = spawn_app().await;
    app.seed().await;
    let (session, number, answer) = issued(&app).await;
    let expires_at = rfc3339(&answer["expires_at"]);
    let mut bodies = Vec::new();
    for kind in ["barcode.svg", "qr.svg"] {
        let res = picture(&app, Some(&session), &number, kind).await;
        assert_eq!(res.status(), StatusCode::OK, "{kind}");
        assert_eq!(res.headers()["content-type"], "image/svg+xml", "{kind}");
        let cache = res.headers()["cache-control"].to_str().unwrap().to_string();
        let max_age: i64 = cache.strip_prefix("private, max-age=").expect("private caching").parse().unwrap();
        let left = (expires_at - Utc::now()).num_seconds();
        assert!((left - 5..=left + 1).contains(&max_age), "{cache} with {left} s left");
        let body = res.text().await.unwrap();
        assert_eq!(svg_root(&body), ("svg".to_string(), Some(SVG_NS.to_string())), "{kind}: {body}");
        bodies.push(body);
        // The cookie names the session as well as the header does.
        let res = app
            .client
            .get(app.url(&format!("/api/v1/checkout/order-numbers/{number}/{kind}")))
            .header("Cookie", format!("checkout_session={session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    // The barcode is Code 128 of the digits (code set C, as `barcoders` encodes
    // them), framed by ten blank modules each side.
    assert_eq!(number.len() % 2, 0, "numbers of the test database have an even length");
    let encoded = barcoders::sym::code128::Code128::new(format!("Ć{number}")).unwrap().encode();
    let expected: Vec<u32> =
        encoded.iter().enumerate().filter(|(_, &bit)| bit == 1).map(|(i, _)| i as u32 + 10).collect();
    assert_eq!(dark_modules(&bodies[0], 2), expected);
    // The QR code, read back by a QR decoder, says the number.
    assert_eq!(decode_qr(&bodies[1]), number);
}

/// The text of the QR code drawn by an SVG of `qrcode`'s renderer: one path
/// of dark rectangles (`M{x} {y}h{w}v{h}H{x}V{y}`) on a light square.
fn decode_qr(svg: &str) -> String {
    let attr = |name: &str| {
        let from = svg.find(&format!(" {name}=\"")).unwrap_or_else(|| panic!("no {name} in {svg}")) + name.len() + 3;
        svg[from..from + svg[from..].find('"').unwrap()].to_string()
    };
    let (width, height): (usize, usize) = (attr("width").parse().unwrap(), attr("height").parse().unwrap());
    let mut dark = vec![false; width * height];
    for rect in attr("d").split('M').filter(|r| !r.is_empty()) {
        let n: Vec<usize> = rect.split([' ', 'h', 'v', 'H', 'V']).map(|v| v.parse().unwrap()).collect();
        let (x, y, w, h) = (n[0], n[1], n[2], n[3]);
        for row in y..y + h {
            for col in x..x + w {
                dark[row * width + col] = true;
            }
        }
    }
    let mut image = rqrr::PreparedImage::prepare_from_bitmap(width, height, |x, y| dark[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().expect("a readable QR code").1
}

#[tokio::test]
async fn pictures_and_cancel_of_a_number_that_is_not_the_sessions_answer_404() {
    let app = spawn_app().await;
    app.seed().await;
    let (_, number, _) = issued(&app).await;
    let (other_session, _, _) = issued(&app).await;
    for kind in ["barcode.svg", "qr.svg"] {
        assert_error(picture(&app, Some(&other_session), &number, kind).await, StatusCode::NOT_FOUND).await;
        assert_error(picture(&app, None, &number, kind).await, StatusCode::NOT_FOUND).await;
        assert_error(picture(&app, Some(&other_session), "not-a-number", kind).await, StatusCode::NOT_FOUND).await;
        assert_error(picture(&app, Some(&other_session), UNISSUED, kind).await, StatusCode::NOT_FOUND).await;
    }
    assert_error(delete_number(&app, Some(&other_session), &number).await, StatusCode::NOT_FOUND).await;
    assert_error(delete_number(&app, None, &number).await, StatusCode::NOT_FOUND).await;
    assert_error(delete_number(&app, Some(&other_session), &mistyped(&number)).await, StatusCode::NOT_FOUND).await;
    // Nothing was cancelled: the number still works.
    let answer = app.hook("/hooks/cash_register/pre_order/", &cash_register_pre_order(&number)).await;
    assert_eq!(answer["order_number"], number.as_str(), "{answer}");
    assert!(notices(&app).await.is_empty());
}

#[tokio::test]
async fn a_cancelled_number_answers_not_found_everywhere_and_sends_one_signed_notice() {
    let app = spawn_app().await;
    app.seed().await;
    let receiver = Receiver::start(Behaviour::default()).await;
    configure(&app, &[(&receiver.url, SECRET)]).await;
    let (session, number, _) = issued(&app).await;
    let before = Utc::now() - chrono::Duration::seconds(1);

    let res = delete_number(&app, Some(&session), &number).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_not_found_by_every_hook(&app, &number).await;
    for kind in ["barcode.svg", "qr.svg"] {
        assert_error(picture(&app, Some(&session), &number, kind).await, StatusCode::NOT_FOUND).await;
    }
    // Cancelling again finds nothing to cancel; the expiry sweep finds nothing either.
    assert_error(delete_number(&app, Some(&session), &number).await, StatusCode::NOT_FOUND).await;
    force_expiry(&app, &number).await;
    assert_eq!(cashdesk::order_numbers::expire_due(&app.ctx).await.unwrap(), 0);
    assert_eq!(app.count("SELECT count(*) FROM payments").await, 0);

    deliver_due(&app.ctx, Utc::now()).await.unwrap();
    let got: Vec<Received> = receiver.all();
    assert_eq!(got.len(), 1, "exactly one notice");
    assert!(signed_with(&got[0], SECRET));
    let body = got[0].json();
    assert_eq!(body["type"], "order_number_cancelled");
    assert_eq!(body["orderID"], number.as_str());
    let ended = rfc3339(&body["expiredAt"]);
    assert!(ended >= before && ended <= Utc::now(), "{ended}");
    assert!(got[0].body.contains(r#""price":199.98"#), "{}", got[0].body);
    assert_eq!(body["items"], json!([{"sku": "SKU-1", "quantity": 2, "price": 199.98}]));
    assert_eq!(deliver_due(&app.ctx, Utc::now() + chrono::Duration::hours(1)).await.unwrap().attempted, 0);
}

#[tokio::test]
async fn a_paid_number_cannot_be_cancelled_and_never_gets_a_notice() {
    let app = spawn_app().await;
    app.seed().await;
    let (session, number, _) = issued(&app).await;
    // A second number of the same session: its basket is sold with the first.
    let sibling = app.get_order_number(&session).await["order_number"].as_str().unwrap().to_string();
    let answer = app.complete(&number, "TXN-1", "199.98").await;
    assert_eq!(answer["result"], "0", "{answer}");

    assert_error(delete_number(&app, Some(&session), &number).await, StatusCode::CONFLICT).await;
    app.run_jobs().await;
    assert_error(delete_number(&app, Some(&session), &number).await, StatusCode::CONFLICT).await;
    force_expiry(&app, &number).await;
    force_expiry(&app, &sibling).await;
    assert_eq!(cashdesk::order_numbers::expire_due(&app.ctx).await.unwrap(), 0);
    assert!(notices(&app).await.is_empty());
    // The till that paid still hears its success on a retry.
    assert_eq!(app.complete(&number, "TXN-1", "199.98").await["result"], "0");
}

#[tokio::test]
async fn a_number_paid_and_cancelled_at_once_is_either_paid_or_cancelled_never_both() {
    let app = spawn_app().await;
    app.seed().await;
    let (mut paid, mut cancelled) = (0, 0);
    for round in 0..12 {
        let (session, number, _) = issued(&app).await;
        let transaction = format!("TXN-RACE-{round}");
        let (answer, deleted) = tokio::join!(app.complete(&number, &transaction, "199.98"), async {
            if round % 2 == 0 {
                tokio::task::yield_now().await;
            }
            delete_number(&app, Some(&session), &number).await.status()
        });
        match (answer["result"].clone(), deleted) {
            (result, StatusCode::CONFLICT) if result == "0" => paid += 1,
            (result, StatusCode::NO_CONTENT) if result == 404 => cancelled += 1,
            other => panic!("round {round}: both or neither won: {other:?} {answer}"),
        }
        force_expiry(&app, &number).await;
    }
    assert_eq!(paid + cancelled, 12);
    eprintln!("race: {paid} paid, {cancelled} cancelled");
    assert_eq!(cashdesk::order_numbers::expire_due(&app.ctx).await.unwrap(), 0);
    let notices = notices(&app).await;
    assert_eq!(notices.len(), cancelled, "one notice per cancelled number, none for a paid one");
    assert!(notices.iter().all(|(kind, _)| kind == "order_number_cancelled"));
    assert_eq!(app.count("SELECT count(*) FROM payments").await, paid as i64);
    let statuses = app.count("SELECT count(*) FROM issued_order_numbers WHERE status IN ('paid', 'cancelled')").await;
    assert_eq!(statuses, 12);
}

#[tokio::test]
async fn a_number_cancelled_as_it_expires_gets_exactly_one_notice() {
    let app = spawn_app().await;
    app.seed().await;
    let mut answers = Vec::new();
    for round in 0..8u64 {
        let (session, number, _) = issued(&app).await;
        // The number ends a moment from now; the cancel and the sweep race for it.
        let sequence = OrderNumber::parse(&number).unwrap().sequence();
        sqlx::query(
            "UPDATE issued_order_numbers SET expires_at = now() + interval '200 milliseconds' WHERE sequence = $1",
        )
        .bind(sequence)
        .execute(&app.ctx.db)
        .await
        .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(170 + 10 * round)).await;
        let (deleted, swept) =
            tokio::join!(delete_number(&app, Some(&session), &number), cashdesk::order_numbers::expire_due(&app.ctx));
        answers.push((number, deleted.status(), swept.unwrap()));
    }
    // Whatever the sweep did not end in the race, it ends now.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    cashdesk::order_numbers::expire_due(&app.ctx).await.unwrap();
    let notices = notices(&app).await;
    let cancelled = answers.iter().filter(|(_, deleted, _)| *deleted == StatusCode::NO_CONTENT).count();
    eprintln!("cancel vs expiry: {cancelled} cancelled, {} expired", answers.len() - cancelled);
    assert_eq!(notices.len(), answers.len(), "one notice per number: {notices:?}");
    for (number, deleted, _) in &answers {
        let kinds: Vec<&str> =
            notices.iter().filter(|(_, p)| p["orderID"] == number.as_str()).map(|(k, _)| k.as_str()).collect();
        let expected =
            if *deleted == StatusCode::NO_CONTENT { "order_number_cancelled" } else { "order_number_expired" };
        assert_eq!(kinds, [expected], "{number}: cancel answered {deleted}");
        assert!([StatusCode::NO_CONTENT, StatusCode::NOT_FOUND].contains(deleted));
    }
}

#[tokio::test]
async fn an_expired_number_gets_exactly_one_notice_even_when_redis_lost_it() {
    let env = std::sync::Arc::new(TestEnv::new().await);
    let short = |s: &mut cashdesk::config::Settings| s.order_number_ttl_seconds = 5;
    let app = spawn_app_in(env.clone(), short, RunOptions { worker: false }).await;
    let second = spawn_app_in(env, short, RunOptions { worker: false }).await;
    app.seed().await;
    let receiver = Receiver::start(Behaviour::default()).await;
    configure(&app, &[(&receiver.url, SECRET)]).await;
    let (_, lost, lost_answer) = issued(&app).await;
    // Checked at once: on a loaded CI machine the hook calls below can take
    // longer than the number lives.
    assert_eq!(cashdesk::order_numbers::expire_due(&app.ctx).await.unwrap(), 0, "not yet");
    // Redis loses everything of this deployment before the number expires.
    let mut redis = app.redis().await;
    assert!(flush_prefix(&mut redis, &app.env.prefix).await > 0);
    assert_not_found_by_every_hook(&app, &lost).await;
    // Another number, whose mapping Redis keeps until it expires.
    let (_, kept, kept_answer) = issued(&app).await;
    // Until both have expired (the kept one was issued last; `expires_at`
    // is given in whole seconds, so up to one after it).
    let left = rfc3339(&kept_answer["expires_at"]) - Utc::now() + chrono::Duration::milliseconds(1100);
    tokio::time::sleep(left.to_std().unwrap_or_default()).await;
    assert_not_found_by_every_hook(&app, &kept).await;

    // Two workers sweep at once: each number ends once.
    let (a, b) =
        tokio::join!(cashdesk::order_numbers::expire_due(&app.ctx), cashdesk::order_numbers::expire_due(&second.ctx));
    assert_eq!(a.unwrap() + b.unwrap(), 2);
    assert_eq!(cashdesk::order_numbers::expire_due(&app.ctx).await.unwrap(), 0);

    deliver_due(&app.ctx, Utc::now()).await.unwrap();
    let got = receiver.all();
    assert_eq!(got.len(), 2, "one notice per number");
    let bodies: Vec<Value> = got.iter().map(Received::json).collect();
    let ids: HashSet<&str> = bodies.iter().map(|b| b["orderID"].as_str().unwrap()).collect();
    assert_eq!(ids, HashSet::from([lost.as_str(), kept.as_str()]));
    let notice = bodies.iter().find(|b| b["orderID"] == lost.as_str()).unwrap();
    assert!(signed_with(&got[0], SECRET) && signed_with(&got[1], SECRET));
    assert_eq!(notice["type"], "order_number_expired");
    assert_eq!(rfc3339(&notice["expiredAt"]), rfc3339(&lost_answer["expires_at"]));
    assert_eq!(notice["price"], json!(199.98));
    assert_eq!(notice["items"], json!([{"sku": "SKU-1", "quantity": 2, "price": 199.98}]));
    // An expired number cannot be cancelled.
    assert_eq!(app.count("SELECT count(*) FROM issued_order_numbers WHERE status = 'expired'").await, 2);
}

#[tokio::test]
async fn the_worker_sends_the_notice_of_an_expired_number_by_itself() {
    let env = std::sync::Arc::new(TestEnv::new().await);
    let app = spawn_app_in(env, |s| s.order_number_ttl_seconds = 1, RunOptions { worker: true }).await;
    app.seed().await;
    let receiver = Receiver::start(Behaviour::default()).await;
    configure(&app, &[(&receiver.url, SECRET)]).await;
    let (_, number, _) = issued(&app).await;
    receiver.wait_for(1).await;
    let got = receiver.all();
    assert_eq!(got[0].json()["orderID"], number.as_str());
    assert_eq!(got[0].json()["type"], "order_number_expired");
}

/// Moves `number`'s expiry `days` into the past, as if it had been issued that long ago.
async fn age(app: &TestApp, number: &str, days: i32) {
    sqlx::query(
        "UPDATE issued_order_numbers SET expires_at = now() - make_interval(days => $2),
                ended_at = CASE WHEN ended_at IS NULL THEN NULL ELSE now() - make_interval(days => $2) END
         WHERE sequence = $1",
    )
    .bind(order_number(number).sequence())
    .bind(days)
    .execute(&app.ctx.db)
    .await
    .unwrap();
}

async fn recorded(app: &TestApp, number: &str) -> Option<String> {
    sqlx::query_scalar("SELECT status FROM issued_order_numbers WHERE sequence = $1")
        .bind(order_number(number).sequence())
        .fetch_optional(&app.ctx.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn records_of_numbers_that_ended_a_month_ago_are_forgotten_and_live_ones_never() {
    let app = spawn_app().await;
    app.seed().await;
    let keep = cashdesk::order_numbers::KEEP_ENDED_DAYS;
    // Paid, cancelled and expired long ago; one still live though its time
    // is long up (the expiry sweep has not ended it yet); one ended recently.
    let (_, paid, _) = issued(&app).await;
    assert_eq!(app.complete(&paid, "TXN-OLD", "199.98").await["result"], "0");
    let (session, cancelled, _) = issued(&app).await;
    assert_eq!(delete_number(&app, Some(&session), &cancelled).await.status(), StatusCode::NO_CONTENT);
    let (_, expired, _) = issued(&app).await;
    force_expiry(&app, &expired).await;
    let (_, unswept, _) = issued(&app).await;
    let (_, recent, _) = issued(&app).await;
    force_expiry(&app, &recent).await;
    assert_eq!(cashdesk::order_numbers::expire_due(&app.ctx).await.unwrap(), 2);
    for number in [&paid, &cancelled, &expired, &unswept] {
        age(&app, number, keep + 1).await;
    }
    age(&app, &recent, keep - 1).await;

    assert_eq!(cashdesk::order_numbers::forget_ended(&app.ctx.db).await.unwrap(), 3);
    for number in [&paid, &cancelled, &expired] {
        assert_eq!(recorded(&app, number).await, None, "{number}");
    }
    assert_eq!(recorded(&app, &unswept).await.as_deref(), Some("issued"));
    assert_eq!(recorded(&app, &recent).await.as_deref(), Some("expired"));

    // The live one ends with its notice first, and is forgotten after that.
    assert_eq!(cashdesk::order_numbers::expire_due(&app.ctx).await.unwrap(), 1);
    let expired_notices = notices(&app).await.into_iter().filter(|(_, body)| body["orderID"] == unswept.as_str());
    assert_eq!(expired_notices.count(), 1);
    assert_eq!(cashdesk::order_numbers::forget_ended(&app.ctx.db).await.unwrap(), 1);
    assert_eq!(recorded(&app, &unswept).await, None);
    assert_eq!(cashdesk::order_numbers::forget_ended(&app.ctx.db).await.unwrap(), 0);
    assert_eq!(recorded(&app, &recent).await.as_deref(), Some("expired"));
    // The paid order is untouched, and the next number is a new one.
    app.run_jobs().await;
    assert_eq!(app.order(&paid).await.0, StatusCode::OK);
    let (_, next, _) = issued(&app).await;
    assert!(![&paid, &cancelled, &expired, &unswept, &recent].contains(&&next), "{next}");
}

#[tokio::test]
async fn the_api_description_documents_the_order_number_routes() {
    let app = spawn_app().await;
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    let paths = &doc["paths"];
    for kind in ["barcode.svg", "qr.svg"] {
        let op = &paths[format!("/api/v1/checkout/order-numbers/{{order_number}}/{kind}")]["get"];
        assert!(op["responses"]["200"]["content"]["image/svg+xml"].is_object(), "{kind}: {op}");
        assert!(op["responses"]["404"]["content"]["application/json"].is_object(), "{kind}: {op}");
    }
    let cancel = &paths["/api/v1/checkout/order-numbers/{order_number}"]["delete"];
    assert_eq!(cancel["operationId"], "cancelOrderNumber");
    for status in ["204", "404", "409"] {
        assert!(cancel["responses"][status].is_object(), "{status}: {cancel}");
    }
    assert!(cancel["responses"]["409"]["content"]["application/json"].is_object());
    let issued = &doc["components"]["schemas"]["OrderNumberIssued"];
    assert_eq!(issued["properties"]["expires_at"]["format"], "date-time", "{issued}");
}
