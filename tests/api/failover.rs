//! Postgres beyond one machine (SPEC §12): a multi-host `DATABASE_URL` that
//! follows the writable primary, readiness that sees a read-only or hanging
//! primary, the read replica, order numbers that a rewound sequence cannot
//! issue twice, and the failover drills on Patroni + etcd + HAProxy started by
//! `scripts/pg-ha.sh`.
//!
//! The drills print `RELIABILITY …` lines (docs/RELIABILITY.md).

use crate::helpers::*;
use crate::sales::{create_shop, record, sale};
use cashdesk::startup::RunOptions;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::Connection;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const UNAVAILABLE: &str = "Service temporarily unavailable; retry";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A Postgres cluster of one test (`initdb` on a free port), to make
/// read-only or to leave waiting for a synchronous standby that never comes.
struct LocalPostgres {
    port: u16,
    dir: TempDir,
}

impl LocalPostgres {
    fn tool(name: &str) -> std::process::Command {
        let mut versions: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
            .expect("Postgres server binaries")
            .flatten()
            .map(|e| e.path())
            .collect();
        versions.sort();
        let bin = versions.last().expect("a Postgres version").join("bin").join(name);
        // Postgres refuses to run as root.
        if std::process::Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false) {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin);
            c
        } else {
            std::process::Command::new(bin)
        }
    }

    fn run(tool: &str, args: &[&str]) {
        let out = Self::tool(tool).args(args).output().expect("Postgres tool runs");
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A running cluster with an empty database `db_name`.
    async fn start(db_name: &str) -> LocalPostgres {
        let pg = LocalPostgres { port: free_port(), dir: TempDir::new("local-postgres") };
        let _ = std::process::Command::new("chmod").arg("777").arg(&pg.dir.0).status();
        let data = pg.dir.join("data").display().to_string();
        Self::run("initdb", &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", pg.port, pg.dir.0.display());
        let log = pg.dir.join("postgres.log").display().to_string();
        Self::run("pg_ctl", &["-D", &data, "-o", &options, "-l", &log, "-w", "-t", "30", "start"]);
        pg.sql("postgres", &format!("CREATE DATABASE {db_name}")).await;
        pg
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    async fn sql(&self, db: &str, sql: &str) {
        let mut conn = sqlx::PgConnection::connect(&self.url(db)).await.expect("local Postgres answers");
        sqlx::raw_sql(sql).execute(&mut conn).await.expect(sql);
    }

    /// `ALTER SYSTEM` and a reload: applies to every session from its next statement.
    async fn set(&self, setting: &str) {
        self.sql("postgres", &format!("ALTER SYSTEM SET {setting}")).await;
        self.sql("postgres", "SELECT pg_reload_conf()").await;
    }

    async fn reset(&self, name: &str) {
        self.sql("postgres", &format!("ALTER SYSTEM RESET {name}")).await;
        self.sql("postgres", "SELECT pg_reload_conf()").await;
    }
}

impl Drop for LocalPostgres {
    fn drop(&mut self) {
        let data = self.dir.join("data").display().to_string();
        let _ = Self::tool("pg_ctl").args(["-D", &data, "-m", "immediate", "stop"]).output();
    }
}

/// A loopback port nothing listens on.
fn dead_host() -> String {
    format!("127.0.0.1:{}", free_port())
}

/// The shared test server's `host:port`.
fn shared_host() -> String {
    pg_server_url().rsplit('@').next().unwrap().to_string()
}

/// Runs the real binary with `env` and returns (exit code, stderr, how long it ran).
fn run_binary(args: &[&str], env: &[(&str, &str)]) -> (i32, String, Duration) {
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cashdesk"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("binary runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).to_string(), started.elapsed())
}

async fn ready_status(app: &TestApp) -> (StatusCode, Value) {
    let res = app.get("/health/ready").await;
    (res.status(), res.json().await.unwrap_or(Value::Null))
}

// ------------------------------------------------------ multi-host DATABASE_URL

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_host_database_url_skips_dead_and_read_only_hosts_and_writes_to_the_primary() {
    let env = Arc::new(TestEnv::new().await);
    // The first writable host is the third: a dead port, then a read-only server.
    let read_only = LocalPostgres::start(&env.db_name).await;
    read_only.set("default_transaction_read_only = on").await;
    let url = format!("postgres://postgres@{},{},{}/{}", dead_host(), read_only.host(), shared_host(), env.db_name);
    let app = spawn_app_in(env.clone(), move |s| s.database_url = url, RunOptions { worker: false }).await;
    app.seed().await;
    let (_, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    assert_eq!(app.complete(&number, "TXN-1", "99.99").await["result"], "0");
    assert_eq!(ready_status(&app).await.0, StatusCode::OK);
    // The payment is on the shared server, read without the app's pool.
    let direct = sqlx::PgPool::connect(&env.database_url()).await.unwrap();
    let paid: i64 = sqlx::query_scalar("SELECT count(*) FROM payments WHERE order_number = $1")
        .bind(&number)
        .fetch_one(&direct)
        .await
        .unwrap();
    assert_eq!(paid, 1);
    direct.close().await;
}

#[tokio::test]
async fn start_up_without_a_writable_host_waits_30_s_then_names_every_host_in_one_line() {
    let env = TestEnv::new().await;
    // The test's own database made read-only on the shared server: a standby, as far as cashdesk can tell.
    let mut conn = sqlx::PgConnection::connect(&format!("{}/postgres", pg_server_url())).await.unwrap();
    sqlx::query(&format!("ALTER DATABASE {} SET default_transaction_read_only = on", env.db_name))
        .execute(&mut conn)
        .await
        .unwrap();
    let (dead, read_only) = (dead_host(), shared_host());
    let url = format!("postgres://postgres@{dead},{read_only}/{}?target_session_attrs=read-write", env.db_name);
    let (code, stderr, took) = run_binary(&["migrate"], &[("DATABASE_URL", &url), ("REDIS_URL", &redis_url())]);
    assert_ne!(code, 0);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("writable Postgres primary"), "{stderr}");
    assert!(stderr.contains(&format!("{dead} (")) && stderr.contains(&format!("{read_only} (read-only")), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(took >= Duration::from_secs(29) && took < Duration::from_secs(60), "gave up after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_moves_to_the_next_host_when_its_host_is_cut_off_while_running() {
    let env = Arc::new(TestEnv::new().await);
    let (first, second) = (TcpProxy::start(&shared_host()).await, TcpProxy::start(&shared_host()).await);
    let url = format!("postgres://postgres@127.0.0.1:{},127.0.0.1:{}/{}", first.port, second.port, env.db_name);
    let app = spawn_app_in(env.clone(), move |s| s.database_url = url, RunOptions { worker: false }).await;
    app.seed().await;
    let (_, before) = app.pre_order(json!([{"sku": "SKU-2", "quantity": 1}])).await;
    assert_eq!(app.complete(&before, "TXN-1", "10.50").await["result"], "0");

    first.cut();
    let app = &app;
    eventually(15, "readiness through the second host", || async move { ready_status(app).await.0 == StatusCode::OK })
        .await;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let (_, after) = app.pre_order(json!([{"sku": "SKU-2", "quantity": 1}])).await;
    let (answer, _) = complete_retrying(&client, &app.address, &after, "TXN-2", "10.50").await;
    assert_eq!(answer["result"], "0", "{answer}");
    // The first payment replays from the database behind the second host.
    assert_eq!(app.complete(&before, "TXN-1", "10.50").await["result"], "0");
    assert_eq!(app.run_jobs().await, 2);
    assert_eq!(app.order(&after).await.0, StatusCode::OK);
}

// ------------------------------------------------------------------ readiness

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_is_503_within_5_s_while_writes_hang_or_are_refused_and_200_once_they_commit() {
    let env = Arc::new(TestEnv::new().await);
    let pg = LocalPostgres::start(&env.db_name).await;
    let url = pg.url(&env.db_name);
    let app = spawn_app_in(env.clone(), move |s| s.database_url = url, RunOptions { worker: false }).await;
    let app = &app;
    assert_eq!(ready_status(app).await.0, StatusCode::OK);

    // A primary whose commits wait for a synchronous standby that is gone.
    pg.set("synchronous_standby_names = 'gone'").await;
    for _ in 0..3 {
        let asked = Instant::now();
        let (status, body) = ready_status(app).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["checks"], json!({"postgres": "unavailable", "redis": "ok"}));
        assert!(asked.elapsed() < Duration::from_secs(5), "answered after {:?}", asked.elapsed());
    }
    // Calls join the probe in flight: the hang holds one backend, not one per
    // call; and a probe given up (after 10 s) is cancelled by the next one.
    let pg_ref = &pg;
    let probes = || async move {
        let mut conn = sqlx::PgConnection::connect(&pg_ref.url("postgres")).await.unwrap();
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'cashdesk-ready-%'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap()
    };
    assert_eq!(probes().await, 1);
    let hanging = Instant::now();
    while hanging.elapsed() < Duration::from_secs(13) {
        assert_eq!(ready_status(app).await.0, StatusCode::SERVICE_UNAVAILABLE);
        tokio::time::sleep(ms(500)).await;
    }
    eventually(5, "one probe backend left after a probe was given up", || async move { probes().await == 1 }).await;
    pg.reset("synchronous_standby_names").await;
    eventually(5, "ready once writes commit", || async move { ready_status(app).await.0 == StatusCode::OK }).await;

    // A database that has become read-only (as a demoted primary is).
    pg.set("default_transaction_read_only = on").await;
    let asked = Instant::now();
    let (status, body) = ready_status(app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["checks"]["postgres"], "unavailable");
    assert!(asked.elapsed() < Duration::from_secs(5));
    pg.reset("default_transaction_read_only").await;
    eventually(5, "ready once writes commit again", || async move { ready_status(app).await.0 == StatusCode::OK })
        .await;
}

// -------------------------------------------------------------- read replica

/// A database of one test beside its `TestEnv` one, dropped at the end.
struct ExtraDatabase(String);

impl Drop for ExtraDatabase {
    fn drop(&mut self) {
        let name = self.0.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&format!("{}/postgres", pg_server_url())).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
                }
            });
        })
        .join();
    }
}

/// An associate token for `store-1`, a cash-managed store with drawer `D1` active on a float of 100 USD.
async fn open_drawer(app: &TestApp) -> String {
    let res = app
        .client
        .post(app.url("/admin/api/associates/"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"associate_id": "alice", "name": "Alice", "store_ids": ["store-1"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let token = res.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    let config = json!({"cash_drawer_type": "integrated", "cash_management_enabled": true});
    drawer_call(app, &token, Method::PUT, "/v0/stores/store-1/cash-drawer-config", Some(config), StatusCode::CREATED)
        .await;
    let drawer = json!({"cash_drawer_id": "D1", "name": "Front", "currency": "USD", "float": 100, "store_id": "store-1", "type": "integrated"});
    drawer_call(app, &token, Method::POST, "/v0/cash-drawers", Some(drawer), StatusCode::CREATED).await;
    let float = json!({"float_amount": {"value": 100, "currency": "USD"}});
    drawer_call(app, &token, Method::POST, "/v0/cash-drawers/D1/_activate", Some(float), StatusCode::OK).await;
    token
}

async fn drawer_call(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    expected: StatusCode,
) -> Value {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let answer: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(status, expected, "{path}: {answer}");
    answer
}

async fn drawer_sale(app: &TestApp, token: &str, value: u32) {
    let money = json!({"value": value, "currency": "USD"});
    let body = json!({"order_id": format!("sale-{value}"), "amount": money, "given": money});
    let started =
        drawer_call(app, token, Method::POST, "/v0/cash-drawers/D1/transactions", Some(body), StatusCode::OK).await;
    let path = format!("/v0/cash-drawers/D1/transactions/{}", started["transaction_id"].as_str().unwrap());
    drawer_call(app, token, Method::PATCH, &path, Some(json!({"status": "completed"})), StatusCode::OK).await;
}

async fn text(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.text().await.unwrap()
}

/// The replica is a copy of the primary's database that then drifts apart
/// from it, so every answer shows which of the two it was read from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_reads_come_from_the_read_replica_and_immediate_ones_from_the_primary() {
    let env = Arc::new(TestEnv::new().await);
    let before = spawn_app_in(env.clone(), |_| {}, RunOptions { worker: false }).await;
    before.seed().await;
    let key = create_shop(&before, "IST-01").await;
    let res = before.admin_put("/admin/api/customers/C-42/", &json!({"name": "Ada Lovelace"})).await;
    assert!(res.status().is_success());
    let (status, body) = record(&before, &sale(&key, json!({}))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let recorded = body["order_id"].as_str().unwrap().to_string();
    let token = open_drawer(&before).await;
    drawer_sale(&before, &token, 5).await;

    // The copy: nobody may be connected to the template while it is copied.
    before.server.stop(true).await;
    before.ctx.db.close().await;
    let replica = ExtraDatabase(format!("{}_replica", env.db_name));
    let mut admin = sqlx::PgConnection::connect(&format!("{}/postgres", pg_server_url())).await.unwrap();
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&env.db_name)
    .execute(&mut admin)
    .await
    .unwrap();
    sqlx::query(&format!("CREATE DATABASE {} TEMPLATE {}", replica.0, env.db_name)).execute(&mut admin).await.unwrap();
    let replica_url = format!("{}/{}", pg_server_url(), replica.0);

    // Only on the replica: a product, a second drawer sale, and the recorded
    // sale dated yesterday (it is today's on the primary).
    let url = replica_url.clone();
    let on_replica = spawn_app_in(env.clone(), move |s| s.database_url = url, RunOptions { worker: false }).await;
    let res = on_replica
        .admin_put(
            "/admin/api/products/SKU-REPLICA/",
            &json!({"name": "Only on the replica", "price": "1.00", "currency": "TRY", "tax_rate": "0"}),
        )
        .await;
    assert!(res.status().is_success());
    drawer_sale(&on_replica, &token, 7).await;
    sqlx::query("UPDATE orders SET created_at = created_at - interval '1 day' WHERE order_number = $1")
        .bind(&recorded)
        .execute(&on_replica.ctx.db)
        .await
        .unwrap();

    // Only on the primary: a payment and its order.
    let url = replica_url.clone();
    let app = spawn_app_in(env.clone(), move |s| s.database_read_url = Some(url), RunOptions { worker: false }).await;
    let (_, paid) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    assert_eq!(app.complete(&paid, "TXN-1", "99.99").await["result"], "0");
    assert_eq!(app.run_jobs().await, 1);

    // From the replica: catalog export, a past day's sales report, drawer report and ledger check, admin lists.
    let shop = format!("shop_id=IST-01&key={key}");
    assert!(text(&app, &format!("/ws/v1/catalog/items?{shop}&format=csv")).await.contains("SKU-REPLICA"));
    let today = chrono::Utc::now().date_naive();
    let yesterday = today.pred_opt().unwrap();
    assert!(text(&app, &format!("/ws/v1/reports/sales?{shop}&date={yesterday}&format=csv")).await.contains(&recorded));
    let verify =
        drawer_call(&app, &token, Method::GET, "/v0/cash-drawers/D1/ledger/verify", None, StatusCode::OK).await;
    assert_eq!(verify, json!({"valid": true, "entries": 3}), "float and two sales: the replica's chain");
    let reports = drawer_call(&app, &token, Method::GET, "/v0/cash-drawers/D1/reports", None, StatusCode::OK).await;
    let net_sales = Decimal::from_str(&reports["reports"][0]["net_sales"]["value"].to_string()).unwrap();
    assert_eq!(net_sales, Decimal::from(12), "5 + 7, the replica's sales: {reports}");
    let orders: Value = app.admin_get("/admin/api/orders/").await.json().await.unwrap();
    let listed: Vec<&str> =
        orders["orders"].as_array().unwrap().iter().map(|o| o["order_number"].as_str().unwrap()).collect();
    assert_eq!(listed, [recorded.as_str()], "the replica's orders: {orders}");
    let payments: Value = app.admin_get("/admin/api/payments/").await.json().await.unwrap();
    assert_eq!(payments["payments"], json!([]));

    // From the primary: today's sales report, the order, today's store report, and credentials.
    let today_report = text(&app, &format!("/ws/v1/reports/sales?{shop}&date={today}&format=csv")).await;
    assert!(today_report.contains(&recorded) && today_report.contains(&paid), "{today_report}");
    assert_eq!(app.order(&paid).await.0, StatusCode::OK);
    let range = format!("start-time={}T00:00:00Z&end-time={}T23:59:59Z", today, today);
    let store = drawer_call(
        &app,
        &token,
        Method::GET,
        &format!("/v0/cash-transactions/report?store-id=store-1&{range}"),
        None,
        StatusCode::OK,
    )
    .await;
    assert_eq!(store["total"], 2, "float and one sale: the primary's ledger: {store}");
    let res = app.client.delete(app.url("/admin/api/associates/alice/")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert!(res.status().is_success());
    // Revoked on the primary, still present on the replica: refused at once.
    drawer_call(&app, &token, Method::GET, "/v0/cash-drawers/D1/ledger/verify", None, StatusCode::UNAUTHORIZED).await;

    let (status, body) = ready_status(&app).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["checks"], json!({"postgres": "ok", "redis": "ok", "postgres_read": "ok"}));
    drop((app, on_replica));
}

#[tokio::test]
async fn an_unreachable_read_replica_gives_one_clear_line_and_a_non_zero_exit() {
    let env = TestEnv::new().await;
    let read_url = format!("postgres://postgres@{}/{}", dead_host(), env.db_name);
    let (code, stderr, _) = run_binary(
        &["migrate"],
        &[("DATABASE_URL", &env.database_url()), ("DATABASE_READ_URL", &read_url), ("REDIS_URL", &redis_url())],
    );
    assert_ne!(code, 0);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot reach Postgres (DATABASE_READ_URL)"), "{stderr}");
}

// --------------------------------------------------- order numbers drawn twice

/// Moves the order-number sequence back by `by` draws, as a failover to a
/// standby that had not seen the latest draws does.
async fn rewind_sequence(app: &TestApp, by: i64) {
    sqlx::query("SELECT setval('order_number_seq', (SELECT last_value FROM order_number_seq) - $1 + 1, false)")
        .bind(by)
        .execute(&app.ctx.db)
        .await
        .unwrap();
}

/// What the till hears for `number`: `"ok"` with a pre-order, else the error code.
async fn pre_order_answer(app: &TestApp, number: &str) -> String {
    let answer = app
        .hook(
            "/hooks/cash_register/pre_order/",
            &json!({"order_number": number, "username": CASHIER.0, "password": CASHIER.1}),
        )
        .await;
    if answer["pre_order"].is_object() {
        return "ok".to_string();
    }
    answer["error_code"].as_str().unwrap_or_else(|| panic!("unexpected answer {answer}")).to_string()
}

/// Changes the session's basket: its numbers issued before now answer 402.
async fn change_basket(app: &TestApp, session: &str) {
    let (status, body) = app.patch(session, &json!({"basket": {"items": [{"sku": "SKU-3", "quantity": 2}]}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The numbers are drawn for one session throughout, so the number a rewound
/// sequence draws again is the very same whatever the number format. A
/// mapping written again would take the session's basket as it is now, and
/// the live number would stop answering "basket changed".
#[tokio::test]
async fn a_number_a_rewound_sequence_draws_again_is_skipped_and_its_live_mapping_left_untouched() {
    let app = spawn_app().await;
    app.seed().await;
    let (session, live) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    change_basket(&app, &session).await;
    assert_eq!(pre_order_answer(&app, &live).await, "402");
    rewind_sequence(&app, 1).await;

    let answer = app.get_order_number(&session).await;
    let issued = answer["order_number"].as_str().unwrap_or_else(|| panic!("{answer}")).to_string();
    assert_ne!(issued, live, "the live number was issued again");
    assert_eq!(pre_order_answer(&app, &live).await, "402", "the live mapping was written again");
    assert_eq!(pre_order_answer(&app, &issued).await, "ok");
}

#[tokio::test]
async fn when_every_number_drawn_is_live_get_order_number_answers_retry_and_overwrites_nothing() {
    let app = spawn_app().await;
    app.seed().await;
    let attempts = cashdesk::hooks::cash_register::ORDER_NUMBER_ATTEMPTS;
    let (session, first) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let mut live = vec![first];
    for _ in 1..attempts {
        live.push(app.get_order_number(&session).await["order_number"].as_str().unwrap().to_string());
    }
    change_basket(&app, &session).await;
    rewind_sequence(&app, attempts as i64).await;

    let answer = app.get_order_number(&session).await;
    assert_eq!(answer, json!({"error_code": "500", "error_message": UNAVAILABLE}));
    for number in &live {
        assert_eq!(pre_order_answer(&app, number).await, "402", "{number} was written again");
    }
    // The sequence has moved past the live numbers: the retry gets a new one.
    let answer = app.get_order_number(&session).await;
    let number = answer["order_number"].as_str().unwrap_or_else(|| panic!("no number on retry: {answer}")).to_string();
    assert!(!live.contains(&number));
    assert_eq!(pre_order_answer(&app, &number).await, "ok");
}

/// A paid number's mapping is gone once its order exists; drawn again, it is
/// refused by the payments table instead.
#[tokio::test]
async fn a_number_drawn_again_after_it_was_paid_is_skipped_too() {
    let app = spawn_app().await;
    app.seed().await;
    let (_, paid) = app.pre_order(json!([{"sku": "SKU-2", "quantity": 1}])).await;
    assert_eq!(app.complete(&paid, "TXN-1", "10.50").await["result"], "0");
    assert_eq!(app.run_jobs().await, 1);
    assert_eq!(pre_order_answer(&app, &paid).await, "410", "the worker dropped the paid mapping");
    rewind_sequence(&app, 1).await;
    let (_, issued) = app.pre_order(json!([{"sku": "SKU-2", "quantity": 1}])).await;
    assert_ne!(issued, paid);
    assert_eq!(app.complete(&issued, "TXN-2", "10.50").await["result"], "0");
}

// ------------------------------------------------------------------- drills

/// The topology of `scripts/pg-ha.sh` (etcd, Patroni node1 and node2 with
/// synchronous_mode, HAProxy), started for one test and stopped when dropped.
struct Topology {
    dir: TempDir,
    env: HashMap<String, String>,
}

const PG_HA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg-ha.sh");

impl Topology {
    async fn start() -> Topology {
        let dir = TempDir::new("pg-ha");
        let out =
            tokio::process::Command::new("bash").arg(PG_HA).arg("start").arg(&dir.0).output().await.expect("bash runs");
        let mut topology = Topology { dir, env: HashMap::new() };
        assert!(
            out.status.success(),
            "scripts/pg-ha.sh start failed (scripts/test.sh installs etcd-server, patroni and haproxy): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let env = std::fs::read_to_string(topology.dir.join("env")).unwrap();
        topology.env =
            env.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
        topology
    }

    fn port(&self, name: &str) -> String {
        self.env[name].clone()
    }

    fn haproxy_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/cashdesk", self.port("PG_HA_HAPROXY_PORT"))
    }

    /// Both nodes, node1 (the first primary) first, the way libpq writes them.
    fn multi_host_url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/cashdesk",
            self.port("PG_HA_NODE1_PORT"),
            self.port("PG_HA_NODE2_PORT")
        )
    }

    fn node_url(&self, node: &str) -> String {
        let port = self.port(&format!("PG_HA_{}_PORT", node.to_uppercase()));
        format!("postgres://postgres@127.0.0.1:{port}/cashdesk")
    }

    async fn script(&self, args: &[&str]) -> (bool, String) {
        let out = tokio::process::Command::new("bash").arg(PG_HA).args(args).output().await.expect("bash runs");
        (out.status.success(), String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    async fn leader(&self) -> Option<String> {
        let dir = self.dir.0.display().to_string();
        match self.script(&["leader", &dir]).await {
            (true, node) => Some(node),
            _ => None,
        }
    }

    /// SIGKILL of a node: Patroni, its postmaster and its backends.
    async fn kill(&self, node: &str) {
        let dir = self.dir.0.display().to_string();
        assert!(self.script(&["kill", &dir, node]).await.0);
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash").arg(PG_HA).arg("stop").arg(&self.dir.0).output();
    }
}

/// Completes `number` as a till does: resends the same transaction on the
/// retry answer (or a dropped connection) until a final answer. Answers the
/// final answer and the instants of the retry answers.
async fn complete_retrying(
    client: &reqwest::Client,
    base: &str,
    number: &str,
    txn: &str,
    amount: &str,
) -> (Value, Vec<Instant>) {
    let body = json!({"transaction_id": txn, "order_number": number, "username": CASHIER.0, "password": CASHIER.1, "amount": amount});
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut retries = Vec::new();
    loop {
        assert!(Instant::now() < deadline, "complete of {number} never got through");
        let answer: Value = match client.post(format!("{base}/hooks/cash_register/complete/")).json(&body).send().await
        {
            Ok(res) => {
                assert_eq!(res.status(), StatusCode::OK, "hooks always answer 200");
                res.json().await.expect("a JSON answer")
            }
            Err(_) => {
                retries.push(Instant::now());
                tokio::time::sleep(ms(200)).await;
                continue;
            }
        };
        if answer["result"] != json!(500) {
            return (answer, retries);
        }
        assert_eq!(answer["error_message"], UNAVAILABLE, "{answer}");
        retries.push(Instant::now());
        tokio::time::sleep(ms(200)).await;
    }
}

/// A fresh pre-order and its order number, as the storefront makes them;
/// `None` when any step got a retry answer (the caller starts again).
async fn issue_order_number(client: &reqwest::Client, base: &str) -> Option<String> {
    let res = client.post(format!("{base}/api/v1/checkout/")).send().await.ok()?;
    let session = res.json::<Value>().await.ok()?["session_id"].as_str()?.to_string();
    let body = json!({"basket": {"items": [{"sku": "SKU-1", "quantity": 1}]}, "payment_option": "cash-register", "shipping_option": "pickup"});
    let res = client
        .patch(format!("{base}/api/v1/checkout/"))
        .header("X-Checkout-Session", &session)
        .json(&body)
        .send()
        .await
        .ok()?;
    if res.status() != StatusCode::OK {
        return None;
    }
    let res = client
        .get(format!("{base}/hooks/cash_register/get_order_number/"))
        .header("X-Checkout-Session", &session)
        .send()
        .await
        .ok()?;
    let answer: Value = res.json().await.ok()?;
    if answer["error_code"] == "500" {
        return None;
    }
    Some(answer["order_number"].as_str().unwrap_or_else(|| panic!("unexpected answer {answer}")).to_string())
}

/// What one till did during a drill.
#[derive(Default)]
struct TillLog {
    /// Each number whose till heard "0", and when.
    acknowledged: Vec<(String, Instant)>,
    issued: Vec<String>,
    retries: Vec<Instant>,
}

/// A till paying fresh pre-orders one after another until `stop`.
async fn till(client: reqwest::Client, base: String, till: usize, stop: Arc<AtomicBool>) -> TillLog {
    let mut log = TillLog::default();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let Some(number) = issue_order_number(&client, &base).await else {
            log.retries.push(Instant::now());
            tokio::time::sleep(ms(200)).await;
            continue;
        };
        log.issued.push(number.clone());
        n += 1;
        let (answer, retries) = complete_retrying(&client, &base, &number, &format!("TILL{till}-{n}"), "99.99").await;
        assert_eq!(answer["result"], "0", "{number}: {answer}");
        log.retries.extend(retries);
        log.acknowledged.push((number, Instant::now()));
    }
    log
}

/// `/health/ready` every 200 ms until `stop`: (when, status; 0 when unanswered).
async fn readiness_watch(client: reqwest::Client, base: String, stop: Arc<AtomicBool>) -> Vec<(Instant, u16)> {
    let mut seen = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let status = match client.get(format!("{base}/health/ready")).timeout(Duration::from_secs(6)).send().await {
            Ok(res) => res.status().as_u16(),
            Err(_) => 0,
        };
        seen.push((Instant::now(), status));
        tokio::time::sleep(ms(200)).await;
    }
    seen
}

/// Tills pay in a loop while the Patroni leader is SIGKILLed; then every
/// acknowledged payment must be on the new primary with its one order. The
/// leader is node1 unless a loaded machine made Patroni fail over already
/// while the topology settled: whichever leads is killed.
async fn drill(name: &str, topology: &Topology, database_url: String) {
    let env = Arc::new(TestEnv::new().await);
    let app = spawn_app_in(env, move |s| s.database_url = database_url, RunOptions { worker: true }).await;
    app.seed().await;
    let leader = topology.leader().await.expect("a Patroni leader");
    let standby = if leader == "node1" { "node2" } else { "node1" };
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let watch_stop = Arc::new(AtomicBool::new(false));
    let watch = tokio::spawn(readiness_watch(client.clone(), app.address.clone(), watch_stop.clone()));
    let tills: Vec<_> =
        (0..4).map(|t| tokio::spawn(till(client.clone(), app.address.clone(), t, stop.clone()))).collect();

    tokio::time::sleep(Duration::from_secs(3)).await;
    topology.kill(&leader).await;
    let killed = Instant::now();
    let topology_ref = topology;
    eventually(
        60,
        "the standby is promoted",
        || async move { topology_ref.leader().await.as_deref() == Some(standby) },
    )
    .await;
    let promoted = killed.elapsed();
    let app_ref = &app;
    eventually(60, "readiness is back after the failover", || async move {
        ready_status(app_ref).await.0 == StatusCode::OK
    })
    .await;
    // Payments go on for a while on the new primary.
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    let mut logs = Vec::new();
    for t in tills {
        logs.push(t.await.expect("till finished"));
    }
    watch_stop.store(true, Ordering::Relaxed);
    let readiness = watch.await.unwrap();

    let acknowledged: Vec<&String> = logs.iter().flat_map(|l| l.acknowledged.iter().map(|(n, _)| n)).collect();
    let issued: Vec<&String> = logs.iter().flat_map(|l| &l.issued).collect();
    let retries = logs.iter().flat_map(|l| &l.retries).filter(|t| **t >= killed).count();
    // Unavailable: the longest stretch after the kill in which no till heard "0".
    let mut acks: Vec<Instant> =
        logs.iter().flat_map(|l| l.acknowledged.iter().map(|(_, t)| *t)).filter(|t| *t >= killed).collect();
    acks.sort();
    let unavailable = std::iter::once(killed)
        .chain(acks.iter().copied())
        .zip(acks.iter())
        .map(|(a, b)| b.duration_since(a))
        .max()
        .unwrap_or_default();
    let not_ready: Vec<Instant> =
        readiness.iter().filter(|(t, s)| *t >= killed && *s != 200).map(|(t, _)| *t).collect();
    let not_ready_for = match (not_ready.first(), not_ready.last()) {
        (Some(first), Some(last)) => last.duration_since(*first),
        _ => Duration::ZERO,
    };
    let doubled = issued.len() - issued.iter().collect::<HashSet<_>>().len();

    // Read on the new primary directly, not through the app's pool.
    let new_primary = sqlx::PgPool::connect(&topology.node_url(standby)).await.unwrap();
    eventually(90, "every acknowledged payment has its order", || {
        let db = new_primary.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM pending_orders")
                .fetch_one(&db)
                .await
                .is_ok_and(|n| n == 0)
        }
    })
    .await;
    let stored: HashSet<String> = sqlx::query_scalar("SELECT order_number FROM payments")
        .fetch_all(&new_primary)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let lost = acknowledged.iter().filter(|n| !stored.contains(n.as_str())).count();
    record_figure(format!(
        "RELIABILITY {name}: leader SIGKILLed, standby promoted after {:.1} s; {} payments acknowledged, {lost} lost, \
         {doubled} order numbers issued twice; no payment acknowledged for {:.1} s ({retries} retry answers); \
         /health/ready not 200 for {:.1} s",
        promoted.as_secs_f64(),
        acknowledged.len(),
        unavailable.as_secs_f64(),
        not_ready_for.as_secs_f64(),
    ));
    assert_eq!(lost, 0, "acknowledged payments lost in the failover");
    assert_eq!(doubled, 0, "order numbers issued twice");
    assert!(!not_ready.is_empty(), "readiness never went down during the failover");
    assert_eq!(readiness.last().map(|r| r.1), Some(200), "readiness came back");
    assert!(acknowledged.len() >= 8, "too few payments to mean anything: {}", acknowledged.len());
    let accepted: HashMap<String, Decimal> =
        acknowledged.iter().map(|n| (n.to_string(), Decimal::from_str("99.99").unwrap())).collect();
    reconcile(&new_primary, &accepted).await;
    new_primary.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_the_patroni_leader_sigkilled_behind_haproxy_loses_no_acknowledged_payment() {
    let topology = Topology::start().await;
    drill("pg-failover-haproxy", &topology, topology.haproxy_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_the_standby_promoted_under_a_multi_host_database_url_loses_no_acknowledged_payment() {
    let topology = Topology::start().await;
    drill("pg-failover-multi-host", &topology, topology.multi_host_url()).await;
}
