//! cashdesk on a Redis Cluster (SPEC §12): a 6-node cluster (3 primaries,
//! 3 replicas) started on free loopback ports under a temp dir by each test
//! and stopped by PID when the test ends. The pay-at-the-till and IVR flows,
//! the worker-kill and Redis-restart drills of `faults.rs`, SIGKILLs of
//! primaries while tills pay, settings notes between instances, and the key
//! layout: every primary holds some sessions and order numbers.

use crate::faults::{
    complete_retrying, payments_without_order, redis_restart_drill, worker_kill_drill, DisposableRedis,
};
use crate::helpers::*;
use cashdesk::redis_conn::{RedisConn, RedisTarget, Timeouts};
use cashdesk::startup::RunOptions;
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One `redis-server` of the cluster.
struct Node {
    port: u16,
    bus_port: u16,
    child: Option<Child>,
    /// Holds a killed node's ports (see [`RedisCluster::kill`]).
    tombstone: Option<tokio::task::JoinHandle<()>>,
}

/// A Redis Cluster of 3 primaries and 3 replicas on loopback. Nodes keep
/// no data on disk (a crash loses their keys, like a cache-only cluster)
/// but keep their `nodes.conf`, so a restarted node rejoins its cluster.
pub struct RedisCluster {
    dir: TempDir,
    nodes: Vec<Node>,
}

fn redis_timeouts() -> Timeouts {
    Timeouts { connect: Duration::from_secs(2), response: Some(Duration::from_secs(5)) }
}

impl RedisCluster {
    pub async fn start() -> RedisCluster {
        let dir = TempDir::new("redis-cluster");
        let nodes = (0..6).map(|_| Node { port: 0, bus_port: 0, child: None, tombstone: None }).collect();
        let mut cluster = RedisCluster { dir, nodes };
        for i in 0..cluster.nodes.len() {
            cluster.start_node_on_free_ports(i).await;
        }
        let addresses: Vec<String> = cluster.nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)).collect();
        let out = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .output()
            .expect("redis-cli runs");
        assert!(
            out.status.success(),
            "cluster create: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        cluster.wait_until_healthy(30).await;
        cluster
    }

    /// Starts node `i` on ports free now. A port picked free can be taken
    /// by another test before the node binds it; then it tries other ports.
    async fn start_node_on_free_ports(&mut self, i: usize) {
        for _ in 0..5 {
            self.nodes[i].port = free_port();
            self.nodes[i].bus_port = free_port();
            self.spawn(i);
            let port = self.nodes[i].port;
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Some(Ok(Some(_))) = self.nodes[i].child.as_mut().map(Child::try_wait) {
                    break; // exited: most likely a port in use
                }
                if ping(port).await {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            self.kill(port);
        }
        panic!("cluster node {i} did not start");
    }

    fn spawn(&mut self, i: usize) {
        let node = &self.nodes[i];
        let node_dir = self.dir.join(&node.port.to_string());
        std::fs::create_dir_all(&node_dir).unwrap();
        let log = std::fs::File::create(node_dir.join("redis.log")).unwrap();
        let child = Command::new("redis-server")
            .args(["--port", &node.port.to_string(), "--bind", "127.0.0.1", "--cluster-enabled", "yes"])
            .args(["--cluster-port", &node.bus_port.to_string(), "--cluster-config-file", "nodes.conf"])
            // Quick failure detection and replication, so a failover takes a
            // few seconds (not quicker: a loaded CI machine must not look dead).
            .args(["--cluster-node-timeout", "2000", "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&node_dir)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("redis-server runs (scripts/test.sh installs it)");
        self.nodes[i].child = Some(child);
    }

    /// Seed URLs, as `REDIS_CLUSTER_URLS` takes them.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(|n| format!("redis://127.0.0.1:{}", n.port)).collect()
    }

    pub fn target(&self) -> RedisTarget {
        RedisTarget::Cluster(self.urls())
    }

    /// A direct connection to one node (no cluster routing).
    async fn node(port: u16) -> redis::aio::MultiplexedConnection {
        redis::Client::open(format!("redis://127.0.0.1:{port}"))
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// Waits until every running node says the cluster is ok, three
    /// primaries serve all slots, and each has a replica in sync.
    pub async fn wait_until_healthy(&self, seconds: u64) {
        let running: Vec<u16> = self.nodes.iter().filter(|n| n.child.is_some()).map(|n| n.port).collect();
        eventually(seconds, "the cluster is healthy", || {
            let running = running.clone();
            async move {
                for port in &running {
                    let Ok(client) = redis::Client::open(format!("redis://127.0.0.1:{port}")) else { return false };
                    let Ok(mut conn) = client.get_multiplexed_async_connection().await else { return false };
                    let Ok(info) = redis::cmd("CLUSTER").arg("INFO").query_async::<String>(&mut conn).await else {
                        return false;
                    };
                    if !info.contains("cluster_state:ok") {
                        return false;
                    }
                    let Ok(replication) = redis::cmd("INFO").arg("replication").query_async::<String>(&mut conn).await
                    else {
                        return false;
                    };
                    if replication.contains("role:slave") && !replication.contains("master_link_status:up") {
                        return false;
                    }
                }
                true
            }
        })
        .await;
    }

    /// The port of the primary serving `key`'s slot now.
    pub async fn primary_of(&self, key: &str) -> u16 {
        let mut conn = Self::node(self.nodes.iter().find(|n| n.child.is_some()).unwrap().port).await;
        let slot: u16 = redis::cmd("CLUSTER").arg("KEYSLOT").arg(key).query_async(&mut conn).await.unwrap();
        let ranges: Vec<(u16, u16, (String, u16))> = redis::cmd("CLUSTER")
            .arg("SLOTS")
            .query_async::<Vec<Vec<redis::Value>>>(&mut conn)
            .await
            .unwrap()
            .into_iter()
            .map(|r| {
                let start = redis::from_redis_value(r[0].clone()).unwrap();
                let end = redis::from_redis_value(r[1].clone()).unwrap();
                let node: Vec<redis::Value> = redis::from_redis_value(r[2].clone()).unwrap();
                (
                    start,
                    end,
                    (
                        redis::from_redis_value(node[0].clone()).unwrap(),
                        redis::from_redis_value(node[1].clone()).unwrap(),
                    ),
                )
            })
            .collect();
        ranges
            .iter()
            .find(|(start, end, _)| (*start..=*end).contains(&slot))
            .map(|(_, _, (_, port))| *port)
            .expect("slot served")
    }

    /// SIGKILLs the node on `port` (by its PID); it stays down. Its ports
    /// then answer every connection by closing it, as a dead node's do, and
    /// stay taken: the cluster clients keep retrying a dead node's address
    /// for a while, and must not reach another program (another test's
    /// server on this shared machine) that took the port meanwhile.
    pub fn kill(&mut self, port: u16) {
        let node = self.nodes.iter_mut().find(|n| n.port == port).expect("a node of this cluster");
        if let Some(mut child) = node.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let listeners: Vec<tokio::net::TcpListener> = [node.port, node.bus_port]
            .into_iter()
            .filter_map(|p| std::net::TcpListener::bind(("127.0.0.1", p)).ok())
            .filter_map(|l| l.set_nonblocking(true).ok().and_then(|_| tokio::net::TcpListener::from_std(l).ok()))
            .collect();
        node.tombstone = Some(tokio::spawn(async move {
            let accepts = listeners.iter().map(|l| async move {
                while let Ok((socket, _)) = l.accept().await {
                    drop(socket);
                }
            });
            futures_util::future::join_all(accepts).await;
        }));
    }

    /// Subscribers of the sharded channel `channel`, over every node.
    pub async fn shard_subscribers(&self, channel: &str) -> i64 {
        let mut total = 0;
        for node in self.nodes.iter().filter(|n| n.child.is_some()) {
            let mut conn = Self::node(node.port).await;
            let counts: Vec<redis::Value> =
                redis::cmd("PUBSUB").arg("SHARDNUMSUB").arg(channel).query_async(&mut conn).await.unwrap();
            total += counts.get(1).map(|v| redis::from_redis_value::<i64>(v.clone()).unwrap()).unwrap_or(0);
        }
        total
    }
}

impl DisposableRedis for RedisCluster {
    fn crash(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
            if let Some(tombstone) = node.tombstone.take() {
                tombstone.abort();
            }
        }
    }

    async fn restart(&mut self) {
        for i in 0..self.nodes.len() {
            if self.nodes[i].child.is_none() {
                self.spawn(i);
            }
        }
        self.wait_until_healthy(60).await;
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        self.crash();
    }
}

async fn ping(port: u16) -> bool {
    let Ok(client) = redis::Client::open(format!("redis://127.0.0.1:{port}")) else { return false };
    match client.get_multiplexed_async_connection().await {
        Ok(mut conn) => redis::cmd("PING").query_async::<String>(&mut conn).await.is_ok(),
        Err(_) => false,
    }
}

/// A cluster, a test environment on it, and an app with its worker off.
async fn app_on_a_cluster() -> (RedisCluster, TestApp) {
    let cluster = RedisCluster::start().await;
    let env = Arc::new(TestEnv::on(cluster.target()).await);
    let app = spawn_app_in(env, |_| {}, RunOptions { worker: false }).await;
    assert!(app.ctx.redis.is_cluster());
    app.seed().await;
    (cluster, app)
}

fn amount(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tills_and_phones_pay_on_a_redis_cluster_whose_every_primary_holds_sessions() {
    let (cluster, app) = app_on_a_cluster().await;
    // Pay at the till: checkout → get_order_number → pre_order → complete → worker → order.
    let mut numbers = Vec::new();
    for _ in 0..36 {
        numbers.push(app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-2", "quantity": 2}])).await);
    }
    let (session, number) = &numbers[0];
    let pre_order = app
        .hook(
            "/hooks/cash_register/pre_order/",
            &json!({"order_number": number, "username": CASHIER.0, "password": CASHIER.1}),
        )
        .await;
    assert_eq!(pre_order["order_number"], number.as_str(), "{pre_order}");
    assert_eq!(pre_order["pre_order"]["total_amount"], "120.99");
    // The session's every write reaches its numbers' mirrors, on the cluster too.
    app.patch(session, &json!({"staff": {"staff_id": 99, "staff_email": "b@c.d", "store_id": "IST-02"}})).await;
    let pre_order = app
        .hook(
            "/hooks/cash_register/pre_order/",
            &json!({"order_number": number, "username": CASHIER.0, "password": CASHIER.1}),
        )
        .await;
    assert_eq!(pre_order["pre_order"]["store_id"], "IST-02");
    let answer = app.complete(number, "TXN-TILL", "120.99").await;
    assert_eq!(answer["result"], "0", "{answer}");
    assert_eq!(answer["store_id"], "IST-02");

    // Pay by phone: IVR pre_order and complete of another number.
    let (_, phoned) = &numbers[1];
    let ivr =
        app.hook("/hooks/ivr/pre_order/", &json!({"username": IVR.0, "password": IVR.1, "orderNumber": phoned})).await;
    assert_eq!(ivr["result"]["success"], true, "{ivr}");
    assert_eq!(ivr["orderprice"], 120.99);
    let ivr = app
        .hook(
            "/hooks/ivr/complete/",
            &json!({"username": IVR.0, "password": IVR.1, "orderNumber": phoned, "success": true,
                                               "referenceNumber": "REF-PHONE", "staffId": 7, "amount": 120.99}),
        )
        .await;
    assert_eq!(ivr["orderResultResponse"]["result"]["success"], true, "{ivr}");

    // A mistyped number is not found; a session's second number answers
    // "session gone" once the first is paid (FORGET strips its mirror).
    let typo = app
        .hook(
            "/hooks/cash_register/pre_order/",
            &json!({"order_number": mistyped(number), "username": CASHIER.0, "password": CASHIER.1}),
        )
        .await;
    assert_eq!(typo["error_code"], "410");
    let second = app.get_order_number(&numbers[2].0).await["order_number"].as_str().unwrap().to_string();
    assert_eq!(app.complete(&numbers[2].1, "TXN-FIRST", "120.99").await["result"], "0");

    // Every primary holds some of the sessions and order numbers.
    let redis = app.redis().await;
    let by_node =
        cashdesk::redis_conn::scan_by_node(&redis, &format!("{}*order_number:*", app.env.prefix), None).await.unwrap();
    assert_eq!(by_node.len(), 3, "three primaries: {by_node:?}");
    for (node, keys) in &by_node {
        assert!(!keys.is_empty(), "primary {node} holds no order number: {by_node:?}");
    }
    let sessions =
        cashdesk::redis_conn::scan_by_node(&redis, &format!("{}*checkout:*", app.env.prefix), None).await.unwrap();
    assert!(sessions.iter().all(|(_, keys)| !keys.is_empty()), "{sessions:?}");

    assert_eq!(app.run_jobs().await, 3);
    for (number, transaction) in [(number, "TXN-TILL"), (phoned, "REF-PHONE"), (&numbers[2].1, "TXN-FIRST")] {
        let (status, order) = app.order(number).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(order["payment"]["transaction_id"], transaction, "{order}");
    }
    let gone = app
        .hook(
            "/hooks/cash_register/pre_order/",
            &json!({"order_number": second, "username": CASHIER.0, "password": CASHIER.1}),
        )
        .await;
    assert_eq!(gone["error_code"], "411", "{gone}");
    let mut accepted = HashMap::new();
    for n in [number, phoned, &numbers[2].1] {
        accepted.insert(n.clone(), amount("120.99"));
    }
    reconcile(&app.ctx.db, &accepted).await;
    drop(cluster);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settings_change_reaches_another_instance_on_a_cluster_within_2_seconds() {
    let cluster = RedisCluster::start().await;
    let env = Arc::new(TestEnv::on(cluster.target()).await);
    let a = spawn_app_in(env.clone(), |_| {}, RunOptions { worker: false }).await;
    let b = spawn_app_in(env, |_| {}, RunOptions { worker: false }).await;
    // Both follow the sharded channel (a plain SUBSCRIBE would not see SPUBLISH).
    let channel = a.ctx.keys.settings_channel();
    eventually(5, "both instances subscribed", || async { cluster.shard_subscribers(&channel).await >= 2 }).await;
    for round in 0..3 {
        let user = format!("rotated-{round}");
        let probe = json!({"username": user, "password": "pw", "order_number": ""});
        assert_eq!(b.hook("/hooks/cash_register/pre_order/", &probe).await["error_code"], "403");
        a.set_cash_register_conf(json!({"credentials": [{"username": user, "password": "pw"}]})).await;
        let started = Instant::now();
        let b = &b;
        let probe = &probe;
        eventually(2, "the change is in force on the other instance", || async move {
            b.hook("/hooks/cash_register/pre_order/", probe).await["error_code"] == "409"
        })
        .await;
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_sigkilled_at_random_points_on_a_cluster_lose_and_double_no_order() {
    let (_cluster, app) = app_on_a_cluster().await;
    worker_kill_drill(&app, 5, "cluster-worker-kill").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_restart_between_acceptance_and_order_creation_loses_no_order() {
    let (mut cluster, app) = app_on_a_cluster().await;
    redis_restart_drill(&app, &mut cluster, "cluster-restart").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primaries_sigkilled_while_tills_pay_lose_no_accepted_payment() {
    let (mut cluster, app) = app_on_a_cluster().await;
    let dir = TempDir::new("cluster-failover");
    let _workers = [Cashdesk::worker(&app.env, &dir, "worker-1"), Cashdesk::worker(&app.env, &dir, "worker-2")];
    let mut numbers = Vec::new();
    for _ in 0..48 {
        numbers.push(app.pre_order(json!([{"sku": "SKU-2", "quantity": 1}])).await.1);
    }
    // The victims: the primary of the job lists, then another primary that
    // holds order numbers still to be paid.
    let jobs_primary = cluster.primary_of(&app.ctx.keys.jobs_complete()).await;
    let mut victim = None;
    for number in &numbers[24..] {
        let key = app.ctx.keys.order_number(&order_number(number));
        let port = cluster.primary_of(&key).await;
        if port != jobs_primary {
            victim = Some((port, key));
            break;
        }
    }
    let (session_primary, session_key) = victim.expect("numbers on another primary than the jobs'");

    // Four tills paying in a loop, each retrying a "retry" answer with the same transaction id.
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let tills: Vec<_> = numbers
        .chunks(12)
        .enumerate()
        .map(|(t, chunk)| {
            let (client, base, chunk) = (client.clone(), app.address.clone(), chunk.to_vec());
            tokio::spawn(async move {
                let mut results = Vec::new();
                for (i, number) in chunk.iter().enumerate() {
                    let (answer, retries) =
                        complete_retrying(&client, &base, number, &format!("TXN-{t}-{i}"), "10.50").await;
                    results.push((number.clone(), answer, retries, Instant::now()));
                    tokio::time::sleep(Duration::from_millis(800)).await;
                }
                results
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(700)).await;
    let first_kill = Instant::now();
    cluster.kill(jobs_primary);
    let app_ref = &app;
    eventually(30, "a replica took over the job lists", || async {
        cluster.primary_of(&app_ref.ctx.keys.jobs_complete()).await != jobs_primary
    })
    .await;
    let second_kill = Instant::now();
    cluster.kill(session_primary);
    eventually(30, "a replica took over the sessions", || async {
        cluster.primary_of(&session_key).await != session_primary
    })
    .await;
    let failed_over = Instant::now();

    let mut accepted = HashMap::new();
    let mut retries_seen = 0;
    let mut last_retry_answer = None;
    for till in tills {
        for (number, answer, retries, at) in till.await.unwrap() {
            assert_eq!(answer["result"], "0", "{number}: {answer}");
            if retries > 0 {
                retries_seen += retries;
                last_retry_answer = Some(last_retry_answer.map_or(at, |t: Instant| t.max(at)));
            }
            accepted.insert(number, amount("10.50"));
        }
    }
    // The service recovered by itself: retries ended within 30 s of the last kill.
    let unavailable = last_retry_answer.map_or(Duration::ZERO, |t| t.saturating_duration_since(first_kill));
    assert!(
        last_retry_answer.map_or(true, |t| t < second_kill + Duration::from_secs(30)),
        "retry answers went on for {unavailable:?}"
    );
    let app = &app;
    eventually_ready(app).await;
    // Jobs lost with a primary are queued again by the sweeper.
    eventually(60, "every accepted payment has its order", || async move { payments_without_order(app).await == 0 })
        .await;
    let reconciled = reconcile(&app.ctx.db, &accepted).await;
    record_figure(format!(
        "RELIABILITY cluster-failover: 2 primaries SIGKILLed (job lists, sessions) while 4 tills paid, failovers done {:.1} s after the first kill, \
         {retries_seen} retry answers over {:.1} s, {} payments reconciled",
        (failed_over - first_kill).as_secs_f64(),
        unavailable.as_secs_f64(),
        reconciled.payments
    ));
}

async fn eventually_ready(app: &TestApp) {
    eventually(30, "readiness is back", || async move { app.get("/health/ready").await.status() == StatusCode::OK })
        .await;
}

#[tokio::test]
async fn the_redis_layer_scans_every_primary_and_refuses_cross_slot_pipelines() {
    let cluster = RedisCluster::start().await;
    let mut conn = RedisConn::open(&cluster.target(), redis_timeouts()).await.unwrap();
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    for i in 0..30 {
        let _: () = redis::cmd("SET").arg(format!("{prefix}{{k{i}}}")).arg(i).query_async(&mut conn).await.unwrap();
    }
    let by_node = cashdesk::redis_conn::scan_by_node(&conn, &format!("{prefix}*"), None).await.unwrap();
    assert_eq!(by_node.len(), 3);
    assert_eq!(by_node.iter().map(|(_, keys)| keys.len()).sum::<usize>(), 30);
    assert!(by_node.iter().all(|(_, keys)| !keys.is_empty()), "{by_node:?}");
    // What the key layout avoids: a pipeline over two slots fails on a cluster.
    let crossed: Result<((), ()), _> =
        redis::pipe().set(format!("{prefix}{{a}}"), 1).set(format!("{prefix}{{b}}"), 2).query_async(&mut conn).await;
    assert!(crossed.is_err());
    assert_eq!(flush_prefix(&mut conn, &prefix).await, 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockouts_count_lock_list_and_clear_on_a_cluster_and_the_till_keeps_paying() {
    let (_cluster, app) = app_on_a_cluster().await;
    let (_, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    let pre_order = "/hooks/cash_register/pre_order/";
    let good = json!({"order_number": number, "username": CASHIER.0, "password": CASHIER.1});
    // Attackers on several addresses: their keys land in different slots.
    for attacker in 2..=4 {
        let client = client_from(&format!("127.0.0.{attacker}"));
        for i in 0..cashdesk::lockouts::MAX_FAILURES_PER_ADDRESS {
            let bad = json!({"order_number": number, "username": format!("guess-{i}"), "password": "guess"});
            assert_eq!(app.hook_from(&client, pre_order, &bad).await["error_code"], "403");
        }
        assert_eq!(app.hook_from(&client, pre_order, &good).await["error_code"], "403", "locked out");
    }
    let till = client_from("127.0.0.9");
    assert!(app.hook_from(&till, pre_order, &good).await["pre_order"].is_object(), "the till is not concerned");
    let listed: Value = app.admin_get("/admin/api/lockouts/").await.json().await.unwrap();
    let addresses: HashSet<String> =
        listed["lockouts"].as_array().unwrap().iter().map(|l| l["address"].as_str().unwrap().to_string()).collect();
    assert_eq!(
        addresses,
        (2..=4).map(|a| format!("127.0.0.{a}")).collect(),
        "every primary's locks are listed: {listed}"
    );
    let res = app
        .client
        .delete(app.url("/admin/api/lockouts/cash_register/addr:127.0.0.3/"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(app.hook_from(&client_from("127.0.0.3"), pre_order, &good).await["pre_order"].is_object(), "cleared");
}
