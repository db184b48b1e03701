//! Webhooks (SPEC §9): both events per order, Standard Webhooks signatures,
//! retries with backoff, Retry-After, 410, the 24 h window, and nothing lost
//! when a dispatcher stops mid-delivery. A local HTTP receiver stands in for
//! the outside system; tests drive the dispatcher with `deliver_due` and a
//! clock of their own instead of sleeping.

use crate::helpers::*;
use crate::sales::{app_with_shop, record, sale};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::Engine;
use cashdesk::startup::RunOptions;
use cashdesk::webhooks::{deliver_due, DeliveryRun};
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub(crate) const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo=";
const OLD_SECRET: &str = "whsec_c2VjcmV0LWJlaW5nLXJvdGF0ZWQtb3V0LW5vdy0xMjM0NTY=";

/// One request the receiver got.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub(crate) headers: HashMap<String, String>,
    pub(crate) body: String,
}

impl Received {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
    pub(crate) fn id(&self) -> &str {
        &self.headers["webhook-id"]
    }
}

/// How the receiver answers: `status` to the first `failures` requests of
/// each webhook id (with `retry_after` if set), then 200. With `hang`, the
/// very first request is held forever instead.
#[derive(Clone, Default)]
pub(crate) struct Behaviour {
    failures: usize,
    status: u16,
    retry_after: Option<&'static str>,
    hang: bool,
}

#[derive(Clone)]
pub(crate) struct Receiver {
    pub(crate) url: String,
    received: Arc<Mutex<Vec<Received>>>,
    arrivals: Arc<tokio::sync::Notify>,
}

impl Receiver {
    pub(crate) async fn start(behaviour: Behaviour) -> Receiver {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let arrivals = Arc::new(tokio::sync::Notify::new());
        let state = web::Data::new((received.clone(), arrivals.clone(), behaviour));
        let server = HttpServer::new(move || App::new().app_data(state.clone()).default_service(web::to(receive)))
            .workers(1)
            .bind(("127.0.0.1", 0))
            .unwrap();
        let url = format!("http://{}/hook", server.addrs()[0]);
        tokio::spawn(server.run());
        Receiver { url, received, arrivals }
    }

    pub(crate) fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (at most 20 s) until `n` requests arrived.
    pub(crate) async fn wait_for(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        while self.all().len() < n {
            let notified = self.arrivals.notified();
            if self.all().len() >= n {
                break;
            }
            assert!(
                tokio::time::timeout_at(deadline, notified).await.is_ok(),
                "only {} of {n} requests arrived",
                self.all().len()
            );
        }
    }
}

type State = web::Data<(Arc<Mutex<Vec<Received>>>, Arc<tokio::sync::Notify>, Behaviour)>;

async fn receive(req: HttpRequest, body: web::Bytes, state: State) -> HttpResponse {
    let (received, arrivals, behaviour) = state.get_ref();
    let headers =
        req.headers().iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
    let got = Received { headers, body: String::from_utf8_lossy(&body).into_owned() };
    let (seen, first_ever) = {
        let mut all = received.lock().unwrap();
        all.push(got.clone());
        (all.iter().filter(|r| r.id() == got.id()).count(), all.len() == 1)
    };
    arrivals.notify_waiters();
    if behaviour.hang && first_ever {
        std::future::pending::<()>().await;
    }
    if seen <= behaviour.failures {
        let mut res = HttpResponse::build(actix_web::http::StatusCode::from_u16(behaviour.status).unwrap());
        if let Some(after) = behaviour.retry_after {
            res.insert_header(("Retry-After", after));
        }
        return res.body("not now");
    }
    HttpResponse::Ok().body("thanks")
}

/// Points `ORDER_WEBHOOK_CONF` at `endpoints` (url, secret).
pub(crate) async fn configure(app: &TestApp, endpoints: &[(&str, &str)]) {
    let endpoints: Vec<Value> = endpoints.iter().map(|(url, secret)| json!({"url": url, "secret": secret})).collect();
    let res =
        app.admin_put("/admin/api/settings/ORDER_WEBHOOK_CONF/", &json!({"value": {"endpoints": endpoints}})).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
}

/// Checks a Standard Webhooks signature header against `secret`, as a receiver would.
pub(crate) fn signed_with(r: &Received, secret: &str) -> bool {
    use hmac::Mac;
    let key = base64::engine::general_purpose::STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", r.id(), r.headers["webhook-timestamp"], r.body).as_bytes());
    let expected = format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()));
    r.headers["webhook-signature"].split(' ').any(|s| s == expected)
}

async fn deliveries(app: &TestApp) -> Vec<Value> {
    let res = app.admin_get("/admin/api/webhooks/deliveries/").await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["deliveries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn both_events_of_a_recorded_sale_arrive_signed_with_the_spec_fields() {
    let (app, key) = app_with_shop().await;
    let receiver = Receiver::start(Behaviour::default()).await;
    configure(&app, &[(&receiver.url, SECRET)]).await;
    let (_, answer) = record(&app, &sale(&key, json!({"cash_box_id": "BOX-1"}))).await;

    let run = deliver_due(&app.ctx, Utc::now()).await.unwrap();
    assert_eq!(run, DeliveryRun { attempted: 2, delivered: 2 });
    let got = receiver.all();
    assert_eq!(got.len(), 2);
    let bodies: Vec<Value> = got.iter().map(Received::json).collect();
    assert_eq!((bodies[0]["type"].as_str(), bodies[1]["type"].as_str()), (Some("validated"), Some("terminated")));
    assert_ne!(got[0].id(), got[1].id());
    for r in &got {
        assert!(signed_with(r, SECRET), "bad signature: {:?}", r.headers);
        assert_eq!(r.headers["content-type"], "application/json");
        let ts: i64 = r.headers["webhook-timestamp"].parse().unwrap();
        assert!((Utc::now().timestamp() - ts).abs() < 60);
    }
    let b = &bodies[0];
    for field in [
        "type",
        "orderID",
        "orderInternalID",
        "creationDate",
        "validationDate",
        "valueDate",
        "price",
        "clientID",
        "customer",
        "cashBoxID",
        "deliveryMethod",
        "PDFinvoice",
        "items",
        "VATs",
        "VAT",
        "isRefund",
    ] {
        assert!(b.get(field).is_some(), "{field} missing from {b}");
    }
    assert_eq!(b["orderID"], answer["order_id"]);
    assert_eq!(b["orderInternalID"], answer["order_internal_id"]);
    assert_eq!(b["clientID"], "C-42");
    assert_eq!(b["customer"]["name"], "Ada Lovelace");
    assert_eq!(b["cashBoxID"], "BOX-1");
    assert_eq!(b["deliveryMethod"]["slug"], "pickup");
    assert_eq!(b["isRefund"], false);
    // exact decimal numbers in the JSON text, never float artefacts
    assert!(got[0].body.contains(r#""price":209.48"#), "{}", got[0].body);
    assert!(got[0].body.contains(r#""VAT":34.19"#), "{}", got[0].body);
    assert_eq!(b["items"].as_array().unwrap().len(), 2);
    assert_eq!(b["items"][0]["sku"], "SKU-1");
    assert_eq!(b["VATs"].as_array().unwrap().len(), 2);
    // the invoice link works without a key
    let invoice = app.client.get(b["PDFinvoice"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(invoice.status(), StatusCode::OK);
    assert_eq!(invoice.headers()["content-type"], "application/pdf");

    // delivered events are not sent again
    assert_eq!(deliver_due(&app.ctx, Utc::now() + Duration::hours(3)).await.unwrap().attempted, 0);
    let log = deliveries(&app).await;
    assert!(log.iter().all(|d| d["state"] == "delivered" && d["attempt_log"].as_array().unwrap().len() == 1));
    assert_eq!(log[0]["attempt_log"][0]["status_code"], 200);
    assert_eq!(log[0]["attempt_log"][0]["response_snippet"], "thanks");
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_each_event_exactly_once_more_per_failure() {
    let (app, key) = app_with_shop().await;
    let receiver = Receiver::start(Behaviour { failures: 2, status: 500, ..Behaviour::default() }).await;
    configure(&app, &[(&receiver.url, SECRET)]).await;
    record(&app, &sale(&key, json!({}))).await;

    let t0 = Utc::now();
    assert_eq!(deliver_due(&app.ctx, t0).await.unwrap(), DeliveryRun { attempted: 2, delivered: 0 });
    // backing off: nothing is due a moment later
    assert_eq!(deliver_due(&app.ctx, t0 + Duration::seconds(5)).await.unwrap().attempted, 0);
    assert_eq!(
        deliver_due(&app.ctx, t0 + Duration::hours(1)).await.unwrap(),
        DeliveryRun { attempted: 2, delivered: 0 }
    );
    assert_eq!(
        deliver_due(&app.ctx, t0 + Duration::hours(2)).await.unwrap(),
        DeliveryRun { attempted: 2, delivered: 2 }
    );
    assert_eq!(deliver_due(&app.ctx, t0 + Duration::hours(5)).await.unwrap().attempted, 0);

    let got = receiver.all();
    let mut per_id: HashMap<String, Vec<String>> = HashMap::new();
    for r in &got {
        per_id.entry(r.id().to_string()).or_default().push(r.body.clone());
        assert!(signed_with(r, SECRET));
    }
    assert_eq!(per_id.len(), 2);
    for bodies in per_id.values() {
        assert_eq!(bodies.len(), 3, "first try and one more per failure");
        assert!(bodies.iter().all(|b| b == &bodies[0]), "a retry sends the same body");
    }
    for d in deliveries(&app).await {
        assert_eq!(d["state"], "delivered");
        let statuses: Vec<i64> =
            d["attempt_log"].as_array().unwrap().iter().map(|a| a["status_code"].as_i64().unwrap()).collect();
        assert_eq!(statuses, [500, 500, 200]);
        assert!(d["attempt_log"][0]["latency_ms"].is_number());
    }
}

#[tokio::test]
async fn retry_after_is_honoured_and_410_stops_delivery() {
    let (app, key) = app_with_shop().await;
    let patient =
        Receiver::start(Behaviour { failures: 1, status: 503, retry_after: Some("3600"), ..Behaviour::default() })
            .await;
    let gone = Receiver::start(Behaviour { failures: 100, status: 410, ..Behaviour::default() }).await;
    configure(&app, &[(&patient.url, SECRET), (&gone.url, SECRET)]).await;
    record(&app, &sale(&key, json!({}))).await;

    let t0 = Utc::now();
    assert_eq!(deliver_due(&app.ctx, t0).await.unwrap(), DeliveryRun { attempted: 4, delivered: 0 });
    // the ordinary backoff would retry within a minute; Retry-After says an hour
    assert_eq!(deliver_due(&app.ctx, t0 + Duration::minutes(30)).await.unwrap().attempted, 0);
    assert_eq!(
        deliver_due(&app.ctx, t0 + Duration::minutes(61)).await.unwrap(),
        DeliveryRun { attempted: 2, delivered: 2 }
    );
    assert_eq!(patient.all().len(), 4);
    assert_eq!(gone.all().len(), 2, "a 410 is never retried");
    let states: Vec<(String, String)> = deliveries(&app)
        .await
        .iter()
        .map(|d| (d["url"].as_str().unwrap().to_string(), d["state"].as_str().unwrap().to_string()))
        .collect();
    assert!(states.iter().filter(|(url, _)| url == &gone.url).all(|(_, s)| s == "gone"), "{states:?}");
}

#[tokio::test]
async fn deliveries_give_up_after_24_hours() {
    let (app, key) = app_with_shop().await;
    let receiver = Receiver::start(Behaviour { failures: 1000, status: 500, ..Behaviour::default() }).await;
    configure(&app, &[(&receiver.url, SECRET)]).await;
    record(&app, &sale(&key, json!({}))).await;
    let t0 = Utc::now();
    for hours in 0..=30 {
        deliver_due(&app.ctx, t0 + Duration::hours(hours)).await.unwrap();
    }
    let log = deliveries(&app).await;
    for d in &log {
        assert_eq!(d["state"], "expired");
        let last: chrono::DateTime<Utc> =
            serde_json::from_value(d["attempt_log"].as_array().unwrap().last().unwrap()["attempted_at"].clone())
                .unwrap();
        assert!(last <= t0 + Duration::hours(24) + Duration::seconds(1), "{last}");
    }
    let attempts = receiver.all().len();
    assert_eq!(deliver_due(&app.ctx, t0 + Duration::hours(40)).await.unwrap().attempted, 0);
    assert_eq!(receiver.all().len(), attempts);
}

#[tokio::test]
async fn a_rotated_secret_signs_alongside_the_new_one_and_drawer_events_go_as_written() {
    let (app, _) = app_with_shop().await;
    let receiver = Receiver::start(Behaviour::default()).await;
    configure(&app, &[(&receiver.url, SECRET), (&receiver.url, OLD_SECRET)]).await;
    let body = json!({"type": "cashBox_open", "cashBoxID": "BOX-1", "opened": "2024-03-01T08:00:00Z", "closed": null, "Total": 150.00});
    sqlx::query("INSERT INTO webhook_outbox (event_type, payload) VALUES ('cashBox_open', $1)")
        .bind(&body)
        .execute(&app.ctx.db)
        .await
        .unwrap();

    assert_eq!(deliver_due(&app.ctx, Utc::now()).await.unwrap(), DeliveryRun { attempted: 1, delivered: 1 });
    let got = receiver.all();
    assert_eq!(got.len(), 1, "one delivery per URL, whatever the number of secrets");
    assert_eq!(got[0].json(), body);
    assert_eq!(got[0].headers["webhook-signature"].split(' ').count(), 2);
    assert!(signed_with(&got[0], SECRET) && signed_with(&got[0], OLD_SECRET));
}

#[tokio::test]
async fn an_event_in_flight_when_its_dispatcher_dies_is_delivered_again() {
    let (app, key) = app_with_shop().await;
    let receiver = Receiver::start(Behaviour { hang: true, ..Behaviour::default() }).await;
    configure(&app, &[(&receiver.url, SECRET)]).await;
    let (_, answer) = record(&app, &sale(&key, json!({}))).await;

    let t0 = Utc::now();
    let ctx = app.ctx.clone();
    let dispatcher = tokio::spawn(async move { deliver_due(&ctx, t0).await });
    receiver.wait_for(1).await;
    dispatcher.abort(); // the dispatcher dies holding the delivery
    let _ = dispatcher.await;

    // another dispatcher, once the lease is over, finds both events
    let later = t0 + cashdesk::webhooks::dispatcher::LEASE + Duration::seconds(1);
    assert_eq!(deliver_due(&app.ctx, later).await.unwrap(), DeliveryRun { attempted: 2, delivered: 2 });
    let got = receiver.all();
    let first = got[0].id().to_string();
    assert_eq!(got.iter().filter(|r| r.id() == first).count(), 2, "the held event came again with the same id");
    let types: std::collections::HashSet<String> =
        got.iter().map(|r| r.json()["type"].as_str().unwrap().to_string()).collect();
    assert_eq!(types.len(), 2);
    assert!(got.iter().all(|r| r.json()["orderID"] == answer["order_id"]));
}

#[tokio::test]
async fn events_written_while_no_dispatcher_runs_are_delivered_by_the_next_instance() {
    let (app, key) = app_with_shop().await;
    let receiver = Receiver::start(Behaviour::default()).await;
    configure(&app, &[(&receiver.url, SECRET)]).await;
    let (status, _) = record(&app, &sale(&key, json!({}))).await;
    assert_eq!(status, StatusCode::CREATED);
    app.server.stop(true).await;
    assert!(receiver.all().is_empty());

    // a new instance with its background dispatcher on (as `serve` and `worker` run it)
    let next = spawn_app_in(app.env.clone(), |_| {}, RunOptions { worker: true }).await;
    receiver.wait_for(2).await;
    let types: Vec<String> = receiver.all().iter().map(|r| r.json()["type"].as_str().unwrap().to_string()).collect();
    assert_eq!(types, ["validated", "terminated"]);
    next.server.stop(true).await;
}

#[tokio::test]
async fn an_unreachable_endpoint_is_tried_once_per_pass_without_holding_up_the_others() {
    let (app, key) = app_with_shop().await;
    let receiver = Receiver::start(Behaviour::default()).await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", listener.local_addr().unwrap())
    };
    configure(&app, &[(&closed, SECRET), (&receiver.url, SECRET)]).await;
    record(&app, &sale(&key, json!({}))).await;

    let t0 = Utc::now();
    // the reachable endpoint gets both events; the closed one is tried once, its next event released
    assert_eq!(deliver_due(&app.ctx, t0).await.unwrap(), DeliveryRun { attempted: 3, delivered: 2 });
    assert_eq!(receiver.all().len(), 2);
    assert_eq!(
        deliver_due(&app.ctx, t0 + Duration::seconds(2)).await.unwrap(),
        DeliveryRun { attempted: 1, delivered: 0 }
    );
    let failed: Vec<Value> = deliveries(&app).await.into_iter().filter(|d| d["url"] == closed.as_str()).collect();
    assert_eq!(failed.len(), 2);
    for d in failed {
        assert_eq!(d["state"], "pending");
        let error = d["attempt_log"][0]["error"].as_str().unwrap();
        assert!(error.starts_with("connection failed"), "{error}");
        assert!(d["attempt_log"][0]["status_code"].is_null());
    }
}

#[tokio::test]
async fn an_operator_replays_a_failed_delivery_and_a_delivered_one_is_refused() {
    let (app, key) = app_with_shop().await;
    // Gone once (410 stops retries), then accepting.
    let receiver = Receiver::start(Behaviour { failures: 1, status: 410, ..Behaviour::default() }).await;
    configure(&app, &[(&receiver.url, SECRET)]).await;
    record(&app, &sale(&key, json!({}))).await;
    deliver_due(&app.ctx, Utc::now()).await.unwrap();
    let all = deliveries(&app).await;
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|d| d["state"] == "gone"), "{all:?}");
    let id = all[0]["id"].as_i64().unwrap();

    let replay = |id: i64| {
        app.client
            .post(app.url(&format!("/admin/api/webhooks/deliveries/{id}/replay/")))
            .bearer_auth(ADMIN_TOKEN)
            .send()
    };
    let res = replay(id).await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(res.json::<Value>().await.unwrap()["state"], "pending");
    assert_eq!(deliver_due(&app.ctx, Utc::now()).await.unwrap(), DeliveryRun { attempted: 1, delivered: 1 });
    let replayed = deliveries(&app).await.into_iter().find(|d| d["id"] == id).unwrap();
    assert_eq!(replayed["state"], "delivered");
    assert_eq!(replayed["attempt_log"].as_array().unwrap().len(), 2, "both attempts are kept");
    assert_eq!(receiver.all().len(), 3);

    assert_eq!(replay(id).await.unwrap().status(), StatusCode::CONFLICT, "already delivered");
    assert_eq!(replay(999_999).await.unwrap().status(), StatusCode::NOT_FOUND);
    let other = all[1]["id"].as_i64().unwrap();
    configure(&app, &[]).await;
    assert_eq!(replay(other).await.unwrap().status(), StatusCode::CONFLICT, "no secret to sign with any more");
    let res =
        app.client.post(app.url(&format!("/admin/api/webhooks/deliveries/{other}/replay/"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_cash_limit_crossing_is_delivered_signed_and_retried_like_every_webhook() {
    let (app, _) = app_with_shop().await;
    let receiver = Receiver::start(Behaviour { failures: 1, status: 500, ..Behaviour::default() }).await;
    configure(&app, &[(&receiver.url, SECRET)]).await;
    let send = |method: reqwest::Method, path: &str, body: Value| {
        app.client.request(method, app.url(path)).bearer_auth(ADMIN_TOKEN).json(&body).send()
    };
    for (method, path, body) in [
        (
            reqwest::Method::PUT,
            "/v0/stores/s1/cash-drawer-config",
            json!({"cash_drawer_type": "integrated", "cash_management_enabled": true}),
        ),
        (
            reqwest::Method::POST,
            "/v0/cash-drawers",
            json!({"cash_drawer_id": "LIM", "name": "Till", "currency": "USD", "float": 50,
            "store_id": "s1", "type": "integrated", "cash_limit": {"value": 60, "currency": "USD"}}),
        ),
        (
            reqwest::Method::POST,
            "/v0/cash-drawers/LIM/_activate",
            json!({"float_amount": {"value": 50, "currency": "USD"}}),
        ),
    ] {
        let res = send(method, path, body).await.unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.text().await.unwrap());
    }
    let started: Value = send(
        reqwest::Method::POST,
        "/v0/cash-drawers/LIM/transactions",
        json!({"order_id": "A-1", "amount": {"value": 10.5, "currency": "USD"}, "given": {"value": 20, "currency": "USD"}}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let path = format!("/v0/cash-drawers/LIM/transactions/{}", started["transaction_id"].as_str().unwrap());
    let res = send(reqwest::Method::PATCH, &path, json!({"status": "completed"})).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let t0 = Utc::now();
    // cashBox_open, then cashBox_limit; the receiver refuses each event's first attempt
    assert_eq!(deliver_due(&app.ctx, t0).await.unwrap(), DeliveryRun { attempted: 2, delivered: 0 });
    assert_eq!(
        deliver_due(&app.ctx, t0 + Duration::hours(1)).await.unwrap(),
        DeliveryRun { attempted: 2, delivered: 2 }
    );
    let limit: Vec<Received> = receiver.all().into_iter().filter(|r| r.json()["type"] == "cashBox_limit").collect();
    assert_eq!(limit.len(), 2, "refused once, then delivered");
    assert_eq!(limit[1].json(), json!({"type": "cashBox_limit", "cashBoxID": "LIM", "Total": 60.5, "limit": 60}));
    assert_eq!(limit[0].id(), limit[1].id(), "the retry is the same event");
    assert!(signed_with(&limit[1], SECRET));
}
