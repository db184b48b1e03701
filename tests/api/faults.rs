//! Faults injected while payments flow: killed workers, a flushed or
//! restarted Redis, Postgres unreachable for 10 seconds, and two instances
//! with two workers behind nginx. After each, every payment a till heard
//! `"0"` for is reconciled against its one order, and the drawer ledger
//! against its hash chain: nothing lost, nothing doubled.
//!
//! Trial counts are printed as `RELIABILITY …` lines (docs/RELIABILITY.md);
//! `FAULT_TRIALS` raises the number of worker kills (default 20).

use crate::helpers::*;
use cashdesk::redis_conn::RedisTarget;
use cashdesk::startup::RunOptions;
use cashdesk::worker;
use futures_util::future::join_all;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

const UNAVAILABLE: &str = "Service temporarily unavailable; retry";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn amount(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn trials_from_env(default: usize) -> usize {
    std::env::var("FAULT_TRIALS").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn worker_ids(app: &TestApp) -> HashSet<String> {
    let mut redis = app.redis().await;
    redis::cmd("SMEMBERS").arg(app.ctx.keys.workers()).query_async(&mut redis).await.unwrap()
}

/// Jobs sitting in the processing lists of `workers`.
async fn jobs_held_by(app: &TestApp, workers: impl IntoIterator<Item = String>) -> i64 {
    let mut redis = app.redis().await;
    let mut held = 0;
    for id in workers {
        let n: i64 = redis::cmd("LLEN").arg(app.ctx.keys.jobs_processing(&id)).query_async(&mut redis).await.unwrap();
        held += n;
    }
    held
}

/// Jobs held by any worker (dead ones, when no worker runs).
async fn jobs_held(app: &TestApp) -> i64 {
    jobs_held_by(app, worker_ids(app).await).await
}

async fn queued_jobs(app: &TestApp) -> i64 {
    let mut redis = app.redis().await;
    redis::cmd("LLEN").arg(app.ctx.keys.jobs_complete()).query_async(&mut redis).await.unwrap()
}

pub(crate) async fn payments_without_order(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM payments p WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.order_number = p.order_number)")
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_sigkilled_at_random_points_lose_and_double_no_order() {
    let app = spawn_app().await;
    app.seed().await;
    worker_kill_drill(&app, trials_from_env(20), "worker-kill").await;
}

/// Pays `trials` batches of pre-orders while a `cashdesk worker` child is
/// SIGKILLed at a random point of each, then lets a survivor finish and
/// reconciles every accepted payment. Used on one Redis and on a cluster.
pub(crate) async fn worker_kill_drill(app: &TestApp, trials: usize, label: &str) {
    let per_trial = 6;
    let dir = TempDir::new("worker-kill");
    let mut numbers = Vec::new();
    for _ in 0..trials * per_trial {
        numbers.push(app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await.1);
    }
    let mut rng = rand::rngs::StdRng::from_entropy();
    let mut accepted = HashMap::new();
    let mut killed_holding_a_job = 0;
    for (trial, batch) in numbers.chunks(per_trial).enumerate() {
        let before = worker_ids(app).await;
        let mut worker = Cashdesk::worker(&app.env, &dir, &format!("worker-{trial}"));
        // Anywhere from start-up to full flow: payments arrive while it runs.
        tokio::time::sleep(ms(rng.gen_range(50..700))).await;
        let answers = join_all(batch.iter().enumerate().map(|(i, n)| {
            let txn = format!("TXN-{trial}-{i}");
            async move { app.complete(n, &txn, "99.99").await }
        }))
        .await;
        tokio::time::sleep(ms(rng.gen_range(0..40))).await;
        worker.kill();
        for (number, answer) in batch.iter().zip(answers) {
            assert_eq!(answer["result"], "0", "{answer}");
            accepted.insert(number.clone(), amount("99.99"));
        }
        let its_loops = worker_ids(app).await.into_iter().filter(|id| !before.contains(id));
        if jobs_held_by(app, its_loops).await > 0 {
            killed_holding_a_job += 1;
        }
    }
    let ordered_by_killed_workers = app.count("SELECT count(*) FROM orders").await;

    // A new worker finishes everything: the reaper returns what the dead held,
    // the sweeper queues whatever was lost, and duplicates change nothing.
    let mut survivor = Cashdesk::worker(&app.env, &dir, "survivor");
    eventually(60, "every accepted payment has its order", || async move { payments_without_order(app).await == 0 })
        .await;
    eventually(
        30,
        "no job left queued or held",
        || async move { queued_jobs(app).await == 0 && jobs_held(app).await == 0 },
    )
    .await;
    survivor.terminate();
    let reconciled = reconcile(&app.ctx.db, &accepted).await;
    assert_eq!(reconciled.orders as usize, trials * per_trial);
    record_figure(format!(
        "RELIABILITY {label}: {trials} SIGKILLs, {killed_holding_a_job} while holding a job, \
         {ordered_by_killed_workers} orders made by the killed workers, {} payments reconciled",
        reconciled.payments
    ));
}

#[tokio::test]
async fn a_redis_flush_between_acceptance_and_order_creation_loses_no_order() {
    let app = spawn_app().await;
    app.seed().await;
    let mut redis = app.redis().await;
    let mut accepted = HashMap::new();
    let mut flushes = 0;
    // Flush at three points: jobs queued; a job held by a worker; half the orders made.
    for point in 0..3 {
        let mut paid = Vec::new();
        for i in 0..4 {
            let (_, number) = app.pre_order(json!([{"sku": "SKU-2", "quantity": 2}])).await;
            assert_eq!(app.complete(&number, &format!("TXN-{point}-{i}"), "21.00").await["result"], "0");
            accepted.insert(number.clone(), amount("21.00"));
            paid.push(number);
        }
        match point {
            0 => {}
            1 => {
                worker::take_job(&app.ctx, "worker-about-to-lose-redis", 0.1).await.unwrap().expect("a job");
            }
            _ => {
                worker::create_orders(&app.ctx, &[&paid[0], &paid[1]]).await.unwrap();
            }
        }
        assert!(flush_prefix(&mut redis, &app.env.prefix).await > 0);
        flushes += 1;
        assert_eq!(app.run_jobs().await, 0, "the flush took every queued job");
        // A till retrying a paid number still hears "0"; another transaction is refused.
        assert_eq!(app.complete(&paid[3], &format!("TXN-{point}-3"), "21.00").await["result"], "0");
        assert_eq!(app.complete(&paid[3], "TXN-other", "21.00").await["result"], 404);
        // The sweeper is the net under Redis: every payment without an order is queued again.
        let swept = worker::sweep(&app.ctx, Duration::ZERO).await.unwrap();
        assert_eq!(swept, if point == 2 { 2 } else { 4 });
        assert_eq!(app.run_jobs().await, swept);
    }
    let reconciled = reconcile(&app.ctx.db, &accepted).await;
    record_figure(format!(
        "RELIABILITY redis-flush: {flushes} flushes survived, {} payments reconciled",
        reconciled.payments
    ));
}

/// A Redis server of one test on its own port, to crash and restart.
struct PrivateRedis {
    port: u16,
    dir: TempDir,
    child: Option<std::process::Child>,
}

/// A Redis (one server or a cluster) a test may crash and start again empty.
#[allow(async_fn_in_trait)]
pub(crate) trait DisposableRedis {
    /// SIGKILL: no clean-up of any kind.
    fn crash(&mut self);
    /// Starts it again, empty (as after a crash of a cache-only Redis), and
    /// waits until it serves.
    async fn restart(&mut self);
}

impl PrivateRedis {
    async fn start() -> PrivateRedis {
        let mut redis = PrivateRedis { port: free_port(), dir: TempDir::new("redis"), child: None };
        redis.restart().await;
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

impl DisposableRedis for PrivateRedis {
    /// Starts it (empty: no persistence, as after a crash of a cache-only Redis).
    async fn restart(&mut self) {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir.0)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("redis-server runs");
        self.child = Some(child);
        let url = self.url();
        eventually(10, "the private Redis answers", || {
            let url = url.clone();
            async move {
                let Ok(client) = redis::Client::open(url) else { return false };
                match client.get_multiplexed_async_connection().await {
                    Ok(mut conn) => redis::cmd("PING").query_async::<String>(&mut conn).await.is_ok(),
                    Err(_) => false,
                }
            }
        })
        .await;
    }

    fn crash(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.crash();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_between_acceptance_and_order_creation_loses_no_order() {
    let mut private = PrivateRedis::start().await;
    let env = Arc::new(TestEnv::on(RedisTarget::Single(private.url())).await);
    let app = spawn_app_in(env, |_| {}, RunOptions { worker: false }).await;
    app.seed().await;
    redis_restart_drill(&app, &mut private, "redis-restart").await;
}

/// Pays pre-orders, crashes `redis` between acceptance and order creation,
/// starts it again empty, and checks that tills hear the retry answer while
/// it is down, that paid numbers still answer "0", and that a worker started
/// afterwards makes every order (the sweeper finds the lost jobs).
pub(crate) async fn redis_restart_drill(app: &TestApp, private: &mut impl DisposableRedis, label: &str) {
    let env = &app.env;
    let mut accepted = HashMap::new();
    let mut numbers = Vec::new();
    for _ in 0..5 {
        numbers.push(app.pre_order(json!([{"sku": "SKU-1", "quantity": 2}])).await.1);
    }
    for (i, number) in numbers[..4].iter().enumerate() {
        assert_eq!(app.complete(number, &format!("TXN-{i}"), "199.98").await["result"], "0");
        accepted.insert(number.clone(), amount("199.98"));
    }

    private.crash();
    // While Redis is down a till gets the documented error, never a "0".
    let answer = app.complete(&numbers[4], "TXN-4", "199.98").await;
    assert_eq!(
        (answer["result"].clone(), answer["error_message"].clone()),
        (json!(500), json!(UNAVAILABLE)),
        "{answer}"
    );
    assert_eq!(app.get("/health/ready").await.status(), StatusCode::SERVICE_UNAVAILABLE);
    private.restart().await;

    let app = &app;
    eventually(20, "readiness is back", || async move { app.get("/health/ready").await.status() == StatusCode::OK })
        .await;
    // The pre-order cache died with Redis: the unpaid number is unknown now
    // (the till never heard "0", so nothing was promised) …
    assert_eq!(app.complete(&numbers[4], "TXN-4", "199.98").await["result"], 404);
    // … paid ones still answer their "0" from Postgres, and new payments work.
    assert_eq!(app.complete(&numbers[0], "TXN-0", "199.98").await["result"], "0");
    let (_, fresh) = app.pre_order(json!([{"sku": "SKU-3", "quantity": 1}])).await;
    assert_eq!(app.complete(&fresh, "TXN-5", "250.00").await["result"], "0");
    accepted.insert(fresh, amount("250.00"));

    // A worker started now finds the lost jobs by itself (sweeper), with no test help.
    let dir = TempDir::new("redis-restart");
    let mut worker = Cashdesk::start(env, &["worker"], &[], dir.join("worker.log"));
    eventually(60, "every accepted payment has its order", || async move { payments_without_order(app).await == 0 })
        .await;
    worker.terminate();
    let reconciled = reconcile(&app.ctx.db, &accepted).await;
    record_figure(format!("RELIABILITY {label}: 1 restart survived, {} payments reconciled", reconciled.payments));
}

/// A POS with an associate token on one active USD drawer of `store`.
struct Till {
    base: String,
    client: reqwest::Client,
    token: String,
    drawer: String,
}

impl Till {
    async fn open(base: &str, store: &str, drawer: &str) -> Till {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        let res = client
            .post(format!("{base}/admin/api/associates/"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"associate_id": format!("assoc-{store}"), "name": "Till", "store_ids": [store]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let token = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
        let till = Till { base: base.to_string(), client, token, drawer: drawer.to_string() };
        let config = json!({"cash_drawer_type": "integrated", "cash_management_enabled": true});
        let (status, body) =
            till.send(reqwest::Method::PUT, &format!("/v0/stores/{store}/cash-drawer-config"), config, None).await;
        assert!(status.is_success(), "{body}");
        let drawer_body = json!({"cash_drawer_id": drawer, "name": "Front", "currency": "USD", "float": 100, "store_id": store, "type": "integrated"});
        let (status, body) = till.send(reqwest::Method::POST, "/v0/cash-drawers", drawer_body, None).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = till
            .send(
                reqwest::Method::POST,
                &format!("/v0/cash-drawers/{drawer}/_activate"),
                json!({"float_amount": {"value": 100, "currency": "USD"}}),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        till
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value, key: Option<&str>) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token).json(&body);
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        let res = req.send().await.expect("the service answers");
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Sends until the answer is not a 5xx, as a POS retries with the same key;
    /// answers the final answer and how many 5xx it took.
    async fn retried(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
        key: &str,
    ) -> ((StatusCode, Value), usize) {
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut failures = 0;
        loop {
            let (status, answer) = self.send(method.clone(), path, body.clone(), Some(key)).await;
            if !status.is_server_error() {
                return ((status, answer), failures);
            }
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "an outage is a 503: {answer}");
            assert!(answer["error_code"].is_string() && answer["request_id"].is_string(), "{answer}");
            failures += 1;
            assert!(Instant::now() < deadline, "still failing: {answer}");
            tokio::time::sleep(ms(200)).await;
        }
    }

    /// A cash sale of `value`, started and completed, each step retried; answers the 5xx seen.
    async fn sale(&self, n: usize, value: &str) -> usize {
        let money = |v: &str| json!({"value": serde_json::from_str::<Value>(v).unwrap(), "currency": "USD"});
        let start = json!({"order_id": format!("sale-{n}"), "amount": money(value), "given": money(value)});
        let ((status, body), f1) = self
            .retried(
                reqwest::Method::POST,
                &format!("/v0/cash-drawers/{}/transactions", self.drawer),
                start,
                &format!("start-{n}"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let id = body["transaction_id"].as_str().unwrap().to_string();
        let path = format!("/v0/cash-drawers/{}/transactions/{id}", self.drawer);
        let ((status, body), f2) =
            self.retried(reqwest::Method::PATCH, &path, json!({"status": "completed"}), &format!("done-{n}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        f1 + f2
    }

    /// The ledger checks out against its hash chain, and the day's sales are exactly `sales`.
    async fn reconcile(&self, entries: usize, sales: Decimal) {
        let (status, verify) = self
            .send(reqwest::Method::GET, &format!("/v0/cash-drawers/{}/ledger/verify", self.drawer), Value::Null, None)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(verify, json!({"valid": true, "entries": entries}));
        let (_, reports) = self
            .send(reqwest::Method::GET, &format!("/v0/cash-drawers/{}/reports", self.drawer), Value::Null, None)
            .await;
        let net_sales = reports["reports"][0]["net_sales"]["value"].to_string();
        assert_eq!(amount(&net_sales), sales, "{reports}");
    }
}

/// Completes `number` as a till does: retries the same transaction on the
/// documented 500 until it gets a final answer. Answers the final answer and
/// how many 500s it took.
pub(crate) async fn complete_retrying(
    client: &reqwest::Client,
    base: &str,
    number: &str,
    txn: &str,
    amount: &str,
) -> (Value, usize) {
    let body = json!({"transaction_id": txn, "order_number": number, "username": CASHIER.0, "password": CASHIER.1, "amount": amount});
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut unavailable = 0;
    loop {
        let res = client
            .post(format!("{base}/hooks/cash_register/complete/"))
            .json(&body)
            .send()
            .await
            .expect("the hook answers");
        assert_eq!(res.status(), StatusCode::OK, "hooks always answer 200");
        let answer: Value = res.json().await.unwrap();
        if answer["result"] != json!(500) {
            return (answer, unavailable);
        }
        assert_eq!(answer["error_message"], UNAVAILABLE);
        assert!(answer["transaction_id"].is_null() && answer["amount"].is_null(), "{answer}");
        unavailable += 1;
        assert!(Instant::now() < deadline, "complete of {number} never got through: {answer}");
        tokio::time::sleep(ms(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completes_during_a_10_second_postgres_outage_get_500_and_every_accepted_payment_one_order() {
    let proxy = TcpProxy::start(pg_server_url().rsplit('@').next().unwrap()).await;
    let env = Arc::new(TestEnv::new().await);
    let via_proxy = format!("postgres://postgres@127.0.0.1:{}/{}", proxy.port, env.db_name);
    let app = spawn_app_in(env.clone(), move |s| s.database_url = via_proxy, RunOptions { worker: true }).await;
    app.seed().await;
    let till = Till::open(&app.address, "store-1", "D1").await;
    let mut numbers = Vec::new();
    for _ in 0..24 {
        numbers.push(app.pre_order(json!([{"sku": "SKU-2", "quantity": 1}])).await.1);
    }
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();

    // Two tills paying and a drawer selling, paced so the outage falls mid-flow.
    let tills = numbers.chunks(12).enumerate().map(|(t, chunk)| {
        let (client, base, chunk) = (client.clone(), app.address.clone(), chunk.to_vec());
        tokio::spawn(async move {
            let mut results = Vec::new();
            for (i, number) in chunk.iter().enumerate() {
                let (answer, unavailable) =
                    complete_retrying(&client, &base, number, &format!("TXN-{t}-{i}"), "10.50").await;
                results.push((number.clone(), answer, unavailable));
                tokio::time::sleep(ms(600)).await;
            }
            results
        })
    });
    let tills: Vec<_> = tills.collect();
    let drawer = tokio::spawn(async move {
        let mut failures = 0;
        for n in 0..12 {
            failures += till.sale(n, "2.25").await;
            tokio::time::sleep(ms(600)).await;
        }
        (till, failures)
    });

    tokio::time::sleep(Duration::from_secs(3)).await;
    proxy.cut();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(app.get("/health/ready").await.status(), StatusCode::SERVICE_UNAVAILABLE);
    tokio::time::sleep(Duration::from_secs(5)).await;
    proxy.restore().await;
    let app = &app;
    eventually(20, "readiness is back", || async move { app.get("/health/ready").await.status() == StatusCode::OK })
        .await;

    let mut accepted = HashMap::new();
    let mut unavailable_answers = 0;
    for till in tills {
        for (number, answer, unavailable) in till.await.unwrap() {
            assert_eq!(answer["result"], "0", "{number}: {answer}");
            unavailable_answers += unavailable;
            accepted.insert(number, amount("10.50"));
        }
    }
    let (till, drawer_failures) = drawer.await.unwrap();
    assert!(unavailable_answers > 0, "the outage was felt by the tills");
    assert!(drawer_failures > 0, "the outage was felt by the drawer");

    eventually(60, "every accepted payment has its order", || async move { payments_without_order(app).await == 0 })
        .await;
    let reconciled = reconcile(&app.ctx.db, &accepted).await;
    till.reconcile(13, amount("27.00")).await;
    record_figure(format!(
        "RELIABILITY postgres-outage: 10 s outage survived, {unavailable_answers} complete answers 500, \
         {drawer_failures} drawer answers 503, {} payments and 12 drawer sales reconciled",
        reconciled.payments
    ));
}

/// nginx on a free loopback port, balancing over `upstreams`; stopped when dropped.
struct Nginx {
    port: u16,
    child: std::process::Child,
}

impl Nginx {
    async fn start(dir: &TempDir, upstreams: &[u16]) -> Nginx {
        let nginx = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("nginx is required for this test (scripts/test.sh installs it)");
        let port = free_port();
        let servers: String = upstreams.iter().map(|p| format!("server 127.0.0.1:{p};\n")).collect();
        let root = dir.0.display();
        let conf = format!(
            "daemon off;\nworker_processes 2;\npid {root}/nginx.pid;\nerror_log {root}/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n access_log off;\n client_body_temp_path {root}/body;\n proxy_temp_path {root}/proxy;\n\
             fastcgi_temp_path {root}/fastcgi;\n uwsgi_temp_path {root}/uwsgi;\n scgi_temp_path {root}/scgi;\n\
             upstream cashdesk {{\n{servers} keepalive 16;\n}}\n\
             server {{\n listen 127.0.0.1:{port};\n location / {{\n proxy_pass http://cashdesk;\n\
             proxy_http_version 1.1;\n proxy_set_header Connection \"\";\n proxy_next_upstream off;\n\
             proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n }}\n }}\n}}\n"
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        // Workers drop to an unprivileged user when nginx runs as root.
        let _ = std::process::Command::new("chmod").arg("777").arg(&dir.0).status();
        let child = std::process::Command::new(nginx)
            .arg("-p")
            .arg(&dir.0)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap())
            .spawn()
            .expect("nginx starts");
        let mut lb = Nginx { port, child };
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            if let Ok(Some(status)) = lb.child.try_wait() {
                panic!(
                    "nginx exited ({status}): {}",
                    std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "nginx did not listen");
            tokio::time::sleep(ms(50)).await;
        }
        lb.port = port;
        lb
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM to the master stops its workers too.
        let _ = std::process::Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

async fn requests_served(app: &TestApp, path: &str) -> u64 {
    let metrics = app.get("/metrics").await.text().await.unwrap();
    metrics
        .lines()
        .filter(|l| l.starts_with("cashdesk_http_requests_total") && l.contains(path))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_and_two_workers_behind_nginx_make_exactly_one_order_per_number() {
    let env = Arc::new(TestEnv::new().await);
    let a = spawn_app_in(env.clone(), |s| s.http_workers = 2, RunOptions { worker: false }).await;
    a.seed().await;
    let b = spawn_app_in(env.clone(), |s| s.http_workers = 2, RunOptions { worker: false }).await;
    let dir = TempDir::new("balanced");
    let lb = Nginx::start(&dir, &[a.port(), b.port()]).await;
    let _workers = [Cashdesk::worker(&env, &dir, "worker-1"), Cashdesk::worker(&env, &dir, "worker-2")];
    let phone_wins = |winners: &HashMap<String, HashSet<String>>| {
        winners.values().filter(|w| w.iter().any(|t| t.ends_with("-IVR"))).count()
    };
    let base = lb.url();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();

    // Pre-orders made through the balancer: each step may land on either instance.
    let mut numbers = Vec::new();
    for _ in 0..25 {
        let res = http.post(format!("{base}/api/v1/checkout/")).send().await.unwrap();
        let session = res.json::<Value>().await.unwrap()["session_id"].as_str().unwrap().to_string();
        let body = json!({"basket": {"items": [{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-2", "quantity": 3}]},
                          "payment_option": "cash-register", "shipping_option": "pickup"});
        let res = http
            .patch(format!("{base}/api/v1/checkout/"))
            .header("X-Checkout-Session", &session)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let res = http
            .get(format!("{base}/hooks/cash_register/get_order_number/"))
            .header("X-Checkout-Session", &session)
            .send()
            .await
            .unwrap();
        numbers.push(res.json::<Value>().await.unwrap()["order_number"].as_str().unwrap().to_string());
    }

    // Every number paid eight times at once: four till transactions (one sent
    // thrice) and one phone payment (sent twice), racing through both instances.
    let attempts = numbers.iter().flat_map(|number| {
        ["A", "A", "A", "B", "C", "D", "IVR", "IVR"]
            .into_iter()
            .map(move |t| (number.clone(), format!("{number}-{t}"), t == "IVR"))
    });
    let answers = join_all(attempts.map(|(number, txn, phone)| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let (path, body) = if phone {
                (
                    "/hooks/ivr/complete/",
                    json!({"username": IVR.0, "password": IVR.1, "orderNumber": number, "success": true,
                                                "referenceNumber": txn, "staffId": 17, "amount": 131.49}),
                )
            } else {
                (
                    "/hooks/cash_register/complete/",
                    json!({"transaction_id": txn, "order_number": number, "username": CASHIER.0,
                                                          "password": CASHIER.1, "amount": "131.49"}),
                )
            };
            let res = http.post(format!("{base}{path}")).json(&body).send().await.expect("answered");
            assert_eq!(res.status(), StatusCode::OK);
            let answer: Value = res.json().await.unwrap();
            // One shape for both protocols: won, or refused as already paid.
            let won = if phone {
                let result = &answer["orderResultResponse"]["result"];
                assert!(
                    result["success"] == true || result["message"] == "Order Not Found",
                    "{number} {txn}: {answer}"
                );
                result["success"] == true
            } else {
                assert!(answer["result"] == "0" || answer["result"] == 404, "{number} {txn}: {answer}");
                answer["result"] == "0"
            };
            (number, txn, won)
        }
    }))
    .await;
    let mut winners: HashMap<String, HashSet<String>> = HashMap::new();
    for (number, txn, won) in &answers {
        if *won {
            winners.entry(number.clone()).or_default().insert(txn.clone());
        }
    }
    let mut accepted = HashMap::new();
    for number in &numbers {
        let won = winners.get(number).unwrap_or_else(|| panic!("nobody paid {number}"));
        assert_eq!(won.len(), 1, "{number} accepted from several transactions: {won:?}");
        accepted.insert(number.clone(), amount("131.49"));
    }
    let complete = "/hooks/cash_register/complete/";
    assert!(
        requests_served(&a, complete).await > 0 && requests_served(&b, complete).await > 0,
        "the balancer used both instances"
    );

    // The drawer, through the balancer: one sale retried concurrently with one
    // key, then finished concurrently under different keys.
    let till = Till::open(&base, "store-1", "D1").await;
    let start = json!({"order_id": "o-1", "amount": {"value": 12.5, "currency": "USD"}, "given": {"value": 20, "currency": "USD"}});
    let path = "/v0/cash-drawers/D1/transactions";
    let starts = join_all((0..8).map(|_| till.send(reqwest::Method::POST, path, start.clone(), Some("sale-1")))).await;
    let ids: HashSet<String> = starts
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, StatusCode::OK, "{body}");
            body["transaction_id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "one sale, whatever the retries: {starts:?}");
    let finish = format!("{path}/{}", ids.iter().next().unwrap());
    let keys: Vec<String> = (0..8).map(|k| format!("finish-{k}")).collect();
    let finishes = join_all(
        keys.iter().map(|k| till.send(reqwest::Method::PATCH, &finish, json!({"status": "completed"}), Some(k))),
    )
    .await;
    let done = finishes.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(done, 1, "{finishes:?}");
    assert!(finishes.iter().all(|(s, _)| *s == StatusCode::OK || *s == StatusCode::CONFLICT), "{finishes:?}");

    let a_ref = &a;
    eventually(30, "the two workers made every order", || async move { payments_without_order(a_ref).await == 0 })
        .await;
    let reconciled = reconcile(&a.ctx.db, &accepted).await;
    for number in &numbers {
        let winner = winners[number].iter().next().unwrap().clone();
        let (_, order) = a.order(number).await;
        assert_eq!(order["payment"]["transaction_id"], winner.as_str(), "{order}");
    }
    till.reconcile(2, amount("12.5")).await;
    record_figure(format!("RELIABILITY two-instances: {} concurrent completes (till and phone) of {} numbers through nginx, {} won by phone, \
         {} payments reconciled, 8+8 concurrent drawer writes → 1 ledger entry",
        answers.len(),
        numbers.len(),
        phone_wins(&winners),
        reconciled.payments
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_each_till_is_judged_by_its_own_address() {
    let env = Arc::new(TestEnv::new().await);
    let trusted = || cashdesk::client_address::TrustedProxies::parse("127.0.0.1/32").unwrap();
    let a = spawn_app_in(env.clone(), |s| s.trusted_proxies = trusted(), RunOptions { worker: false }).await;
    a.seed().await;
    let b = spawn_app_in(env.clone(), |s| s.trusted_proxies = trusted(), RunOptions { worker: false }).await;
    let dir = TempDir::new("lockouts-behind-nginx");
    let lb = Nginx::start(&dir, &[a.port(), b.port()]).await;
    let (_, number) = a.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let pre_order = format!("{}/hooks/cash_register/pre_order/", lb.url());
    let body = |password: &str| json!({"order_number": number, "username": CASHIER.0, "password": password});
    let (attacker, till) = (client_from("127.0.0.2"), client_from("127.0.0.3"));

    // The attacker guesses the shared username's password through the
    // balancer, and names the till's address to frame it.
    for _ in 0..30 {
        let res =
            attacker.post(&pre_order).header("X-Forwarded-For", "127.0.0.3").json(&body("guess")).send().await.unwrap();
        assert_eq!(res.json::<Value>().await.unwrap()["error_code"], "403");
    }
    for _ in 0..10 {
        let answer: Value = till.post(&pre_order).json(&body(CASHIER.1)).send().await.unwrap().json().await.unwrap();
        assert!(answer["pre_order"].is_object(), "the till is never refused: {answer}");
    }
    let answer: Value = attacker.post(&pre_order).json(&body(CASHIER.1)).send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["error_code"], "403", "the attacker is locked out, even with the right password");
    let listed: Value = b.admin_get("/admin/api/lockouts/").await.json().await.unwrap();
    let addresses: HashSet<&str> =
        listed["lockouts"].as_array().unwrap().iter().map(|l| l["address"].as_str().unwrap()).collect();
    assert_eq!(addresses, HashSet::from(["127.0.0.2"]), "{listed}");
    let path = "/hooks/cash_register/pre_order/";
    assert!(
        requests_served(&a, path).await > 0 && requests_served(&b, path).await > 0,
        "the balancer used both instances"
    );
}

/// A Postgres cluster of one test on its own port, to crash and restart
/// (`pg_ctl stop -m immediate`: no checkpoint, in-flight work aborted, the
/// next start replays the write-ahead log as after a power cut).
struct PrivatePostgres {
    port: u16,
    dir: TempDir,
}

impl PrivatePostgres {
    fn bin(name: &str) -> std::path::PathBuf {
        let mut versions: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
            .expect("Postgres server binaries")
            .flatten()
            .map(|e| e.path())
            .collect();
        versions.sort();
        versions.last().expect("a Postgres version").join("bin").join(name)
    }

    /// A Postgres tool, run as the `postgres` user when we are root (Postgres refuses root).
    fn command(tool: &str) -> std::process::Command {
        let root = std::process::Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
        if root {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(Self::bin(tool));
            c
        } else {
            std::process::Command::new(Self::bin(tool))
        }
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out = Self::command(tool).args(args).output().expect("Postgres tool runs");
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    async fn start() -> PrivatePostgres {
        use sqlx::Connection;
        let pg = PrivatePostgres { port: free_port(), dir: TempDir::new("postgres") };
        let _ = std::process::Command::new("chmod").arg("777").arg(&pg.dir.0).status();
        pg.run("initdb", &["-D", &pg.data(), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
        pg.up();
        let mut conn =
            sqlx::PgConnection::connect(&format!("postgres://postgres@127.0.0.1:{}/postgres", pg.port)).await.unwrap();
        sqlx::query("CREATE DATABASE cashdesk").execute(&mut conn).await.unwrap();
        pg
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/cashdesk", self.port)
    }

    fn up(&self) {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.0.display());
        let log = self.dir.join("postgres.log").display().to_string();
        self.run("pg_ctl", &["-D", &self.data(), "-o", &options, "-l", &log, "-w", "-t", "30", "start"]);
    }

    fn crash(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "-w", "stop"]);
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        // It may be stopped already (a test failing mid-crash): no assertion here.
        let _ = Self::command("pg_ctl").args(["-D", &self.data(), "-m", "immediate", "stop"]).output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completes_across_a_postgres_crash_and_restart_lose_no_accepted_payment() {
    let pg = PrivatePostgres::start().await;
    let env = Arc::new(TestEnv::new().await);
    let url = pg.url();
    let app = spawn_app_in(env.clone(), move |s| s.database_url = url, RunOptions { worker: true }).await;
    app.seed().await;
    let till = Till::open(&app.address, "store-1", "D1").await;
    let mut numbers = Vec::new();
    for _ in 0..16 {
        numbers.push(app.pre_order(json!([{"sku": "SKU-3", "quantity": 1}])).await.1);
    }
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let tills: Vec<_> = numbers
        .chunks(8)
        .enumerate()
        .map(|(t, chunk)| {
            let (client, base, chunk) = (client.clone(), app.address.clone(), chunk.to_vec());
            tokio::spawn(async move {
                let mut results = Vec::new();
                for (i, number) in chunk.iter().enumerate() {
                    results.push((
                        number.clone(),
                        complete_retrying(&client, &base, number, &format!("TXN-{t}-{i}"), "250.00").await,
                    ));
                    tokio::time::sleep(ms(700)).await;
                }
                results
            })
        })
        .collect();
    let drawer = tokio::spawn(async move {
        let mut failures = 0;
        for n in 0..8 {
            failures += till.sale(n, "4.75").await;
            tokio::time::sleep(ms(700)).await;
        }
        (till, failures)
    });

    tokio::time::sleep(Duration::from_secs(2)).await;
    pg.crash();
    tokio::time::sleep(Duration::from_secs(10)).await;
    pg.up();
    let app = &app;
    eventually(30, "readiness is back", || async move { app.get("/health/ready").await.status() == StatusCode::OK })
        .await;

    let mut accepted = HashMap::new();
    let mut unavailable_answers = 0;
    for till in tills {
        for (number, (answer, unavailable)) in till.await.unwrap() {
            assert_eq!(answer["result"], "0", "{number}: {answer}");
            unavailable_answers += unavailable;
            accepted.insert(number, amount("250.00"));
        }
    }
    let (till, drawer_failures) = drawer.await.unwrap();
    assert!(unavailable_answers > 0, "the crash was felt by the tills");
    eventually(60, "every accepted payment has its order", || async move { payments_without_order(app).await == 0 })
        .await;
    let reconciled = reconcile(&app.ctx.db, &accepted).await;
    till.reconcile(9, amount("38.00")).await;
    record_figure(format!(
        "RELIABILITY postgres-restart: 1 crash and restart survived, {unavailable_answers} complete answers 500, \
         {drawer_failures} drawer answers 503, {} payments and 8 drawer sales reconciled",
        reconciled.payments
    ));
}
