#![allow(dead_code)]
//! `spawn_app`: a real cashdesk on port 0 with its own database and Redis prefix.

use cashdesk::config::{Secret, Settings};
use cashdesk::context::AppContext;
use cashdesk::redis_conn::{RedisConn, RedisTarget, Timeouts};
use cashdesk::startup::{Application, RunOptions};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use sqlx::Connection;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";
pub const CASHIER: (&str, &str) = ("cashier01", "till-secret");
pub const IVR: (&str, &str) = ("ivr_user", "ivr_password");
/// A well-formed order number (right length, valid check digit) that no
/// test issues: sequence 999999 is never reached by a test database.
pub const UNISSUED: &str = "9999990006";

/// `text` as an order number (it must be well-formed).
pub fn order_number(text: &str) -> cashdesk::order_number::OrderNumber {
    cashdesk::order_number::OrderNumber::parse(text)
        .unwrap_or_else(|| panic!("{text:?} is not a well-formed order number"))
}

/// `number` with its last digit changed: a typing mistake the check digit catches.
pub fn mistyped(number: &str) -> String {
    let (head, last) = number.split_at(number.len() - 1);
    let last = last.parse::<u8>().unwrap();
    format!("{head}{}", (last + 1) % 10)
}

/// The Postgres server tests create their databases on.
pub fn pg_server_url() -> String {
    std::env::var("TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string())
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".to_string())
}

/// A database and Redis prefix of one test, removed when dropped.
pub struct TestEnv {
    pub db_name: String,
    pub prefix: String,
    /// The shared Redis server, or a test's own cluster.
    pub redis: RedisTarget,
}

impl TestEnv {
    pub async fn new() -> TestEnv {
        TestEnv::on(RedisTarget::Single(redis_url())).await
    }

    /// An environment whose apps use `redis` (a cluster's seed nodes, say).
    pub async fn on(redis: RedisTarget) -> TestEnv {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let db_name = format!("cashdesk_test_{}", &id[..16]);
        let mut conn =
            sqlx::PgConnection::connect(&format!("{}/postgres", pg_server_url())).await.expect("Postgres for tests");
        sqlx::query(&format!("CREATE DATABASE {db_name}")).execute(&mut conn).await.expect("create test database");
        TestEnv { db_name, prefix: format!("test:{}:", &id[..16]), redis }
    }

    /// The environment variables that point a `cashdesk` process at this Redis.
    pub fn redis_env(&self) -> Vec<(&'static str, String)> {
        match &self.redis {
            RedisTarget::Single(url) => vec![("REDIS_URL", url.clone())],
            RedisTarget::Cluster(urls) => vec![("REDIS_CLUSTER_URLS", urls.join(","))],
        }
    }

    pub fn database_url(&self) -> String {
        format!("{}/{}", pg_server_url(), self.db_name)
    }

    /// Settings for an app in this environment.
    pub fn settings(&self) -> Settings {
        Settings {
            database_url: self.database_url(),
            database_read_url: None,
            redis_url: match &self.redis {
                RedisTarget::Single(url) => url.clone(),
                RedisTarget::Cluster(_) => redis_url(),
            },
            redis_cluster_urls: match &self.redis {
                RedisTarget::Single(_) => Vec::new(),
                RedisTarget::Cluster(urls) => urls.clone(),
            },
            bind: "127.0.0.1:0".parse().unwrap(),
            redis_key_prefix: self.prefix.clone(),
            admin_token: Some(Secret::new(ADMIN_TOKEN)),
            ivr_username: Some(IVR.0.to_string()),
            ivr_password: Some(Secret::new(IVR.1)),
            database_max_connections: 10,
            http_workers: 1,
            public_base_url: None,
            trusted_proxies: Default::default(),
            order_number_ttl_seconds: 24 * 3600,
        }
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let db_name = self.db_name.clone();
        let prefix = self.prefix.clone();
        let target = self.redis.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&format!("{}/postgres", pg_server_url())).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
                // Only this test's keys, on every primary of a cluster.
                let timeouts = Timeouts {
                    connect: std::time::Duration::from_secs(2),
                    response: Some(std::time::Duration::from_secs(5)),
                };
                if let Ok(Ok(mut conn)) =
                    tokio::time::timeout(std::time::Duration::from_secs(5), RedisConn::open(&target, timeouts)).await
                {
                    flush_prefix(&mut conn, &prefix).await;
                }
            });
        })
        .join();
    }
}

/// A running app and a client for it.
pub struct TestApp {
    pub address: String,
    pub ctx: AppContext,
    pub client: reqwest::Client,
    pub server: actix_web::dev::ServerHandle,
    pub task: tokio::task::JoinHandle<anyhow::Result<()>>,
    /// Kept last so the database outlives the app's connections.
    pub env: std::sync::Arc<TestEnv>,
}

/// An app with its worker off: tests run jobs with [`TestApp::run_jobs`].
pub async fn spawn_app() -> TestApp {
    let env = std::sync::Arc::new(TestEnv::new().await);
    spawn_app_in(env, |_| {}, RunOptions { worker: false }).await
}

/// Another app sharing `env` (a second instance behind the same load balancer).
pub async fn spawn_app_in(
    env: std::sync::Arc<TestEnv>,
    tweak: impl FnOnce(&mut Settings),
    options: RunOptions,
) -> TestApp {
    let mut settings = env.settings();
    tweak(&mut settings);
    let app = Application::build(settings, options).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let ctx = app.context().clone();
    let server = app.handle();
    let task = tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    TestApp { address, ctx, client, server, task, env }
}

impl TestApp {
    /// The port this instance listens on.
    pub fn port(&self) -> u16 {
        self.address.rsplit(':').next().unwrap().parse().unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A store-API request (drawers, deposits): an optional bearer token,
    /// extra headers, an optional JSON body; the status and the JSON answer
    /// (`Null` for an empty body).
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("JSON answer") })
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("request sent")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).json(body).send().await.expect("request sent")
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client.post(self.url(path)).form(fields).send().await.expect("request sent")
    }

    /// Posts to a hook and returns its JSON answer, asserting HTTP 200.
    pub async fn hook(&self, path: &str, body: &Value) -> Value {
        let res = self.post_json(path, body).await;
        assert_eq!(res.status(), StatusCode::OK, "hooks always answer 200");
        res.json().await.expect("hook answers JSON")
    }

    pub async fn admin_put(&self, path: &str, body: &Value) -> Response {
        self.client.put(self.url(path)).bearer_auth(ADMIN_TOKEN).json(body).send().await.expect("request sent")
    }

    pub async fn admin_get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(ADMIN_TOKEN).send().await.expect("request sent")
    }

    /// Sets `CASH_REGISTER_AUTH_CONF` through the admin API.
    pub async fn set_cash_register_conf(&self, value: Value) {
        let res = self.admin_put("/admin/api/settings/CASH_REGISTER_AUTH_CONF/", &json!({ "value": value })).await;
        assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    }

    /// A small catalog and the test cashier, through the admin API.
    pub async fn seed(&self) {
        for (path, body) in [
            ("/admin/api/departments/men/", json!({"name": "Men"})),
            (
                "/admin/api/products/SKU-1/",
                json!({"name": "Shirt", "price": "99.99", "currency": "TRY", "tax_rate": "20.00", "department": "men", "base_code": "SHIRT"}),
            ),
            (
                "/admin/api/products/SKU-2/",
                json!({"name": "Socks", "price": "10.50", "currency": "TRY", "tax_rate": "10.00"}),
            ),
            (
                "/admin/api/products/SKU-3/",
                json!({"name": "Jacket", "price": "250.00", "currency": "TRY", "tax_rate": "20.00"}),
            ),
            (
                "/admin/api/products/SKU-USD/",
                json!({"name": "Import", "price": "5.00", "currency": "USD", "tax_rate": "0"}),
            ),
            (
                "/admin/api/payment-options/cash-register/",
                json!({"name": "Pay at store", "payment_type": "cash_register"}),
            ),
            ("/admin/api/payment-options/credit-card/", json!({"name": "Credit card", "payment_type": "credit_card"})),
            ("/admin/api/shipping-options/pickup/", json!({"name": "Store pickup", "price": "0.00"})),
            ("/admin/api/shipping-options/courier/", json!({"name": "Courier", "price": "29.99"})),
            (
                "/admin/api/cards/bonus/",
                json!({"name": "Bonus Card", "card_payment_type": "credit", "bank": {"name": "Garanti", "slug": "garanti"}, "installment_counts": [1, 3, 6]}),
            ),
        ] {
            let res = self.admin_put(path, &body).await;
            assert!(res.status().is_success(), "{path}: {}", res.text().await.unwrap());
        }
        self.set_cash_register_conf(json!({
            "credentials": [{"username": CASHIER.0, "password": CASHIER.1}],
            "installment_enabled": false,
            "shipping_sku": "SHIP-01",
        }))
        .await;
    }

    /// A new checkout session's id.
    pub async fn new_session(&self) -> String {
        let res = self.client.post(self.url("/api/v1/checkout/")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json::<Value>().await.unwrap()["session_id"].as_str().unwrap().to_string()
    }

    /// PATCHes the session; returns status and body.
    pub async fn patch(&self, session: &str, body: &Value) -> (StatusCode, Value) {
        let res = self
            .client
            .patch(self.url("/api/v1/checkout/"))
            .header("X-Checkout-Session", session)
            .json(body)
            .send()
            .await
            .unwrap();
        (res.status(), res.json().await.unwrap_or(Value::Null))
    }

    pub async fn get_order_number(&self, session: &str) -> Value {
        let res = self
            .client
            .get(self.url("/hooks/cash_register/get_order_number/"))
            .header("X-Checkout-Session", session)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    /// A session with `items` to pay at the till, and its order number.
    pub async fn pre_order(&self, items: Value) -> (String, String) {
        let session = self.new_session().await;
        let (status, body) = self
            .patch(
                &session,
                &json!({"basket": {"items": items}, "payment_option": "cash-register", "shipping_option": "pickup",
                "staff": {"staff_id": 17, "staff_email": "a@b.c", "store_id": "IST-01"}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let answer = self.get_order_number(&session).await;
        (session, answer["order_number"].as_str().expect("order number").to_string())
    }

    /// A cash register complete with the test cashier.
    pub async fn complete(&self, order_number: &str, transaction_id: &str, amount: &str) -> Value {
        self.hook(
            "/hooks/cash_register/complete/",
            &json!({"transaction_id": transaction_id, "order_number": order_number, "username": CASHIER.0,
                    "password": CASHIER.1, "amount": amount}),
        )
        .await
    }

    /// Pays `session` under a fresh order number and lets the worker finish
    /// the order: the session is then gone for every other number it had.
    pub async fn pay_session_elsewhere(&self, session: &str) {
        let (status, body) = self.patch(session, &json!({"payment_option": "cash-register"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let unpaid = body["pre_order"]["unpaid_amount"].as_str().expect("unpaid amount").to_string();
        let number = self.get_order_number(session).await["order_number"].as_str().expect("order number").to_string();
        let answer = self.complete(&number, "PAID-ELSEWHERE", &unpaid).await;
        assert_eq!(answer["result"], "0", "{answer}");
        assert_eq!(self.run_jobs().await, 1);
    }

    /// Runs every queued completion job now.
    pub async fn run_jobs(&self) -> usize {
        cashdesk::worker::run_pending_jobs(&self.ctx).await.expect("jobs run")
    }

    pub async fn order(&self, order_number: &str) -> (StatusCode, Value) {
        let res = self.get(&format!("/api/v1/orders/{order_number}/")).await;
        (res.status(), res.json().await.unwrap_or(Value::Null))
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.ctx.db).await.unwrap()
    }

    pub async fn redis(&self) -> RedisConn {
        self.ctx.redis.clone()
    }

    /// Posts to a hook from `client` (e.g. one bound to another loopback
    /// address) and returns its JSON answer, asserting HTTP 200.
    pub async fn hook_from(&self, client: &reqwest::Client, path: &str, body: &Value) -> Value {
        let res = client.post(self.url(path)).json(body).send().await.expect("request sent");
        assert_eq!(res.status(), StatusCode::OK, "hooks always answer 200");
        res.json().await.expect("hook answers JSON")
    }

    /// The value of a counter on `/metrics` (0 when it has no sample yet).
    pub async fn metric(&self, sample: &str) -> f64 {
        let text = self.get("/metrics").await.text().await.unwrap();
        text.lines().find_map(|line| line.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok()).unwrap_or(0.0)
    }
}

/// An HTTP client whose connections come from `address` (any of 127.0.0.0/8
/// on Linux), so one test can play tills and attackers on several machines.
pub fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(address.parse::<std::net::IpAddr>().expect("an IP address"))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A TCP proxy to a real server that a test can cut and restore, to make a
/// dependency unreachable without touching the server other tests share.
pub struct TcpProxy {
    pub port: u16,
    upstream: String,
    tasks: std::sync::Mutex<Option<tokio::task::JoinSet<()>>>,
}

impl TcpProxy {
    pub async fn start(upstream: &str) -> std::sync::Arc<TcpProxy> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = std::sync::Arc::new(TcpProxy {
            port: listener.local_addr().unwrap().port(),
            upstream: upstream.to_string(),
            tasks: std::sync::Mutex::new(None),
        });
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let upstream = self.upstream.clone();
        let mut set = tokio::task::JoinSet::new();
        let (conn_tx, mut conn_rx) = tokio::sync::mpsc::unbounded_channel::<tokio::net::TcpStream>();
        set.spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let _ = conn_tx.send(socket);
            }
        });
        set.spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Some(mut inbound) = conn_rx.recv().await {
                let upstream = upstream.clone();
                conns.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
            conns.abort_all();
        });
        *self.tasks.lock().unwrap() = Some(set);
    }

    /// Drops every connection and refuses new ones.
    pub fn cut(&self) {
        if let Some(mut set) = self.tasks.lock().unwrap().take() {
            set.abort_all();
        }
    }

    /// Accepts connections again on the same port.
    pub async fn restore(&self) {
        for _ in 0..50 {
            if let Ok(listener) = tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await {
                self.serve(listener);
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("cannot rebind proxy port {}", self.port);
    }

    pub fn redis_url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

/// A Monetary amount (SPEC §8) whose value is the exact JSON number literal `value`.
pub fn money(value: &str, currency: &str) -> Value {
    let number: Value = serde_json::from_str(value).expect("a JSON number literal");
    json!({"value": number, "currency": currency})
}

/// A USD Monetary amount whose value is the exact JSON number literal `value`.
pub fn usd(value: &str) -> Value {
    money(value, "USD")
}

/// A free TCP port on loopback (bound once, then released for a child to
/// take), never one handed out before in this test run: a port a test's
/// killed server leaves behind must not be taken by another test's server,
/// or clients still retrying the dead address (a cluster client does) would
/// reach the wrong one. Ports come from below the kernel's ephemeral range
/// (32768-60999 by default), as `bench/lib.sh` picks them: a port there may
/// become the local end of one of the many outbound connections the tests
/// open in parallel between the check and the child's bind.
pub fn free_port() -> u16 {
    use rand::Rng;
    static HANDED_OUT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    loop {
        let port = rand::thread_rng().gen_range(20_000..32_000);
        let mut handed_out = HANDED_OUT.lock().unwrap();
        if !handed_out.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            handed_out.push(port);
            return port;
        }
    }
}

/// A scratch directory of one test, removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("cashdesk-{label}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn join(&self, name: &str) -> std::path::PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `cashdesk` child process (the real binary) with its output captured in
/// a file; SIGKILLed when dropped, so a failing test leaves nothing running.
pub struct Cashdesk {
    pub child: std::process::Child,
    pub log: std::path::PathBuf,
}

impl Cashdesk {
    /// Starts `cashdesk <args>` against `env`'s database and Redis prefix.
    pub fn start(env: &TestEnv, args: &[&str], extra_env: &[(&str, &str)], log: std::path::PathBuf) -> Cashdesk {
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cashdesk"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", env.database_url())
            .env("REDIS_KEY_PREFIX", &env.prefix)
            .env("DATABASE_MAX_CONNECTIONS", "5")
            .env("RUST_LOG", "warn");
        for (k, v) in env.redis_env() {
            cmd.env(k, v);
        }
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let child = cmd.stdout(out.try_clone().unwrap()).stderr(out).spawn().expect("cashdesk starts");
        Cashdesk { child, log }
    }

    /// A worker process (`cashdesk worker`).
    pub fn worker(env: &TestEnv, dir: &TempDir, name: &str) -> Cashdesk {
        Cashdesk::start(env, &["worker"], &[], dir.join(&format!("{name}.log")))
    }

    /// SIGKILL: no clean-up of any kind, as when the machine dies.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn terminate(&mut self) {
        let _ = std::process::Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }

    pub fn output(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }
}

impl Drop for Cashdesk {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill();
        }
    }
}

/// Polls `check` every 100 ms until it holds or `seconds` pass (for child
/// processes and background loops, which a test cannot drive directly).
pub async fn eventually<F, Fut>(seconds: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "not within {seconds} s: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Deletes every Redis key of `prefix` (on every primary of a cluster):
/// what a `FLUSHALL` does to one deployment. Answers how many there were.
pub async fn flush_prefix(redis: &mut RedisConn, prefix: &str) -> usize {
    let keys = cashdesk::redis_conn::scan(redis, &format!("{prefix}*"), None).await.unwrap_or_default();
    // One key per command: the keys live in many slots.
    futures_util::future::join_all(keys.iter().map(|key| {
        let mut redis = redis.clone();
        async move { redis::cmd("DEL").arg(key).query_async::<i64>(&mut redis).await }
    }))
    .await;
    keys.len()
}

/// What a reconciliation found: every accepted payment has exactly one order
/// of the same amount, no order exists without an accepted payment, and each
/// order queued its two webhook events once.
#[derive(Debug)]
pub struct Reconciled {
    pub payments: i64,
    pub orders: i64,
}

/// Reconciles `accepted` (order number → the amount a till was told was paid)
/// against Postgres. Panics on anything lost or doubled.
pub async fn reconcile(
    db: &sqlx::PgPool,
    accepted: &std::collections::HashMap<String, rust_decimal::Decimal>,
) -> Reconciled {
    let payments: Vec<(String, rust_decimal::Decimal, bool)> = sqlx::query_as(
        "SELECT order_number, paid_amount, EXISTS (SELECT 1 FROM pending_orders WHERE payment_id = payments.id)
         FROM payments",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let orders: Vec<(String, rust_decimal::Decimal)> =
        sqlx::query_as("SELECT order_number, total_amount FROM orders").fetch_all(db).await.unwrap();
    let mut order_totals = std::collections::HashMap::new();
    for (number, total) in &orders {
        assert!(order_totals.insert(number.clone(), *total).is_none(), "order {number} doubled");
    }
    for (number, amount) in accepted {
        let payment =
            payments.iter().find(|p| &p.0 == number).unwrap_or_else(|| panic!("accepted payment {number} lost"));
        assert_eq!(payment.1, *amount, "payment {number} recorded with another amount");
        assert!(!payment.2, "payment {number} still waits for its order");
        assert_eq!(
            order_totals.get(number),
            Some(amount),
            "order of accepted payment {number} missing or of another amount"
        );
    }
    assert_eq!(payments.len(), accepted.len(), "a payment exists that no till was told about");
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM pending_orders").fetch_one(db).await.unwrap();
    assert_eq!(pending, 0, "pending rows left without a payment");
    assert_eq!(orders.len(), accepted.len(), "an order exists without an accepted payment");
    let events: Vec<(String, i64)> = sqlx::query_as(
        "SELECT event_type, count(*) FROM webhook_outbox WHERE event_type IN ('validated', 'terminated') GROUP BY event_type",
    )
    .fetch_all(db)
    .await
    .unwrap();
    for (event, count) in &events {
        assert_eq!(*count, orders.len() as i64, "{event} events: {count} for {} orders", orders.len());
    }
    Reconciled { payments: payments.len() as i64, orders: orders.len() as i64 }
}

/// Where the `RELIABILITY …` figures of a test run are collected
/// (`scripts/test.sh` prints them after the tests).
pub const FIGURES: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/reliability-figures.txt");

/// Prints a figure of a reliability test and keeps it in [`FIGURES`].
pub fn record_figure(line: String) {
    use std::io::Write;
    eprintln!("{line}");
    if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(FIGURES) {
        let _ = writeln!(file, "{line}");
    }
}
