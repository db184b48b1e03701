//! The Redis layer: one connection type for a single Redis server and for a
//! Redis Cluster, so the rest of the code sends commands the same way
//! (`query_async(&mut redis)`, `Script::invoke_async`) whichever it runs on.
//!
//! Single node: a `ConnectionManager` (multiplexed, reconnecting) exactly as
//! before. Cluster (`REDIS_CLUSTER_URLS`): redis-rs's cluster client, which
//! routes each command, pipeline and script by the hash slot of its keys and
//! follows the topology through failovers. Every pipeline and script of
//! cashdesk touches one slot (see `keys.rs`), which is what a cluster needs;
//! the few operations that cannot (scans, pub/sub) have a function here that
//! does the right thing in both modes.

use futures_util::future::try_join_all;
use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{Cmd, FromRedisValue, Pipeline, RedisFuture, RedisResult, Value};
use std::time::Duration;

/// Where Redis is: one server, or the seed nodes of a cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RedisTarget {
    Single(String),
    Cluster(Vec<String>),
}

/// Timeouts and retries of a connection.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub connect: Duration,
    /// How long one command may take, retries and redirects included
    /// (`None`: no limit, for blocking commands).
    pub response: Option<Duration>,
}

/// A multiplexed connection to either kind of Redis. Cheap to clone (clones
/// share the underlying connections).
#[derive(Clone)]
pub enum RedisConn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl RedisConn {
    /// Connects and checks that the server (every primary, on a cluster) answers.
    pub async fn open(target: &RedisTarget, timeouts: Timeouts) -> RedisResult<RedisConn> {
        let mut conn = match target {
            RedisTarget::Single(url) => {
                let client = redis::Client::open(url.as_str())?;
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(timeouts.connect))
                    .set_response_timeout(timeouts.response)
                    .set_number_of_retries(2);
                RedisConn::Single(ConnectionManager::new_with_config(client, config).await?)
            }
            RedisTarget::Cluster(urls) => {
                RedisConn::Cluster(cluster_builder(urls, timeouts).build()?.get_async_connection().await?)
            }
        };
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(conn)
    }

    pub fn is_cluster(&self) -> bool {
        matches!(self, RedisConn::Cluster(_))
    }

    /// Sends `command`, whose keys all live in `key`'s slot, and reads its
    /// answer. The same as `command.query_async(self)`, minus a cluster's
    /// generic routing: no parsing of the command to find its key and no copy
    /// of it (the hot path's reads use this).
    pub async fn query_in_slot_of<T: FromRedisValue>(&mut self, command: Cmd, key: &str) -> RedisResult<T> {
        match self {
            RedisConn::Single(_) => command.query_async(self).await,
            RedisConn::Cluster(cluster) => {
                let route = Route::with_key(key, SlotAddr::Master);
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route));
                Ok(redis::from_redis_value(cluster.route_command(command, routing).await?)?)
            }
        }
    }
}

/// The cluster client settings cashdesk uses: bounded retries with short
/// waits, so that during a failover a request answers "retry" within its
/// response timeout instead of waiting out redis-rs's default back-off.
fn cluster_builder(urls: &[String], timeouts: Timeouts) -> ClusterClientBuilder {
    let mut builder = ClusterClientBuilder::new(urls.to_vec())
        .connection_timeout(timeouts.connect)
        .retries(8)
        .min_retry_wait(50)
        .max_retry_wait(1000);
    if let Some(response) = timeouts.response {
        builder = builder.response_timeout(response);
    }
    builder
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            RedisConn::Single(conn) => conn.req_packed_command(cmd),
            RedisConn::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            RedisConn::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            RedisConn::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            RedisConn::Single(conn) => conn.get_db(),
            RedisConn::Cluster(conn) => conn.get_db(),
        }
    }
}

/// Pooled connections for blocking commands (`BLMOVE`), which would stall a
/// multiplexed connection: deadpool-redis's pool, or its cluster pool.
#[derive(Clone)]
pub enum RedisPool {
    Single(deadpool_redis::Pool),
    Cluster(deadpool_redis::cluster::Pool),
}

/// A connection taken from a [`RedisPool`]; back in the pool when dropped.
pub enum PooledConn {
    Single(deadpool_redis::Connection),
    Cluster(deadpool_redis::cluster::Connection),
}

impl RedisPool {
    /// Builds the pool (connections are opened when first needed).
    pub fn new(target: &RedisTarget, connect: Duration, max_size: usize) -> anyhow::Result<RedisPool> {
        Ok(match target {
            RedisTarget::Single(url) => {
                // Blocking commands wait a few seconds by design: give them room.
                let config = redis::AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(connect))
                    .set_response_timeout(Some(Duration::from_secs(30)));
                let manager = deadpool_redis::Manager::new_with_config(url.as_str(), config)?;
                RedisPool::Single(
                    deadpool_redis::Pool::builder(manager)
                        .max_size(max_size)
                        .runtime(deadpool_redis::Runtime::Tokio1)
                        .build()?,
                )
            }
            RedisTarget::Cluster(urls) => {
                // deadpool's cluster manager takes no response timeout: callers
                // bound their blocking commands themselves (`worker::take_jobs`).
                let config = deadpool_redis::cluster::Config::from_urls(urls.clone());
                RedisPool::Cluster(
                    config.builder()?.max_size(max_size).runtime(deadpool_redis::Runtime::Tokio1).build()?,
                )
            }
        })
    }

    pub async fn get(&self) -> anyhow::Result<PooledConn> {
        Ok(match self {
            RedisPool::Single(pool) => PooledConn::Single(pool.get().await?),
            RedisPool::Cluster(pool) => PooledConn::Cluster(pool.get().await?),
        })
    }
}

impl ConnectionLike for PooledConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            PooledConn::Single(conn) => conn.req_packed_command(cmd),
            PooledConn::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            PooledConn::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            PooledConn::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            PooledConn::Single(conn) => conn.get_db(),
            PooledConn::Cluster(conn) => conn.get_db(),
        }
    }
}

/// The primaries of a cluster as `(host, port)`, from `CLUSTER SLOTS`.
pub async fn cluster_primaries(conn: &mut ClusterConnection) -> RedisResult<Vec<(String, u16)>> {
    let slots = conn
        .route_command(
            redis::cmd("CLUSTER").arg("SLOTS").clone(),
            RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
        )
        .await?;
    // Each entry: start slot, end slot, then [host, port, id, …] of the
    // primary followed by its replicas.
    let ranges: Vec<Vec<Value>> = redis::from_redis_value(slots)?;
    let mut primaries: Vec<(String, u16)> = Vec::new();
    for range in ranges {
        let Some(primary) = range.into_iter().nth(2) else { continue };
        let node: Vec<Value> = redis::from_redis_value(primary)?;
        let mut fields = node.into_iter();
        let (Some(host), Some(port)) = (fields.next(), fields.next()) else { continue };
        let node = (redis::from_redis_value::<String>(host)?, redis::from_redis_value::<u16>(port)?);
        if !primaries.contains(&node) {
            primaries.push(node);
        }
    }
    primaries.sort();
    Ok(primaries)
}

/// Keys matching `pattern` (a `SCAN … MATCH` glob), at most about `limit`
/// of them (`None`: all), found with `SCAN` on the one server or on every
/// primary of a cluster, grouped by node (`"host:port"`; `"redis"` for a
/// single server). `SCAN`, unlike `KEYS`, never blocks a server for long.
pub async fn scan_by_node(
    conn: &RedisConn,
    pattern: &str,
    limit: Option<usize>,
) -> RedisResult<Vec<(String, Vec<String>)>> {
    let limit = limit.unwrap_or(usize::MAX);
    match conn {
        RedisConn::Single(single) => {
            let keys = scan_node(pattern, limit, |command| {
                let mut single = single.clone();
                async move { command.query_async::<Value>(&mut single).await }
            })
            .await?;
            Ok(vec![("redis".to_string(), keys)])
        }
        RedisConn::Cluster(cluster) => {
            let primaries = cluster_primaries(&mut cluster.clone()).await?;
            try_join_all(primaries.into_iter().map(|(host, port)| async move {
                let node = format!("{host}:{port}");
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress { host, port });
                let keys = scan_node(pattern, limit, |command| {
                    let (mut cluster, routing) = (cluster.clone(), routing.clone());
                    async move { cluster.route_command(command, routing).await }
                })
                .await?;
                Ok::<_, redis::RedisError>((node, keys))
            }))
            .await
        }
    }
}

/// Keys matching `pattern` on every node (see [`scan_by_node`]), together.
pub async fn scan(conn: &RedisConn, pattern: &str, limit: Option<usize>) -> RedisResult<Vec<String>> {
    Ok(scan_by_node(conn, pattern, limit).await?.into_iter().flat_map(|(_, keys)| keys).collect())
}

/// The `SCAN` loop over one server; `send` delivers each command to it.
async fn scan_node<F, Fut>(pattern: &str, limit: usize, mut send: F) -> RedisResult<Vec<String>>
where
    F: FnMut(Cmd) -> Fut,
    Fut: std::future::Future<Output = RedisResult<Value>>,
{
    let mut keys = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let mut command = redis::cmd("SCAN");
        command.arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(500);
        let (next, batch): (u64, Vec<String>) = redis::from_redis_value(send(command).await?)?;
        keys.extend(batch);
        cursor = next;
        if cursor == 0 || keys.len() >= limit {
            return Ok(keys);
        }
    }
}

/// Announces `message` on `channel`: plain pub/sub on one server (as every
/// instance before cluster support listens), sharded pub/sub (`SPUBLISH`,
/// delivered by the shard that owns the channel's slot) on a cluster, where
/// a plain `PUBLISH` would be broadcast over the cluster bus to every node.
pub async fn publish(conn: &mut RedisConn, channel: &str, message: &str) -> RedisResult<i64> {
    let command = if conn.is_cluster() { "SPUBLISH" } else { "PUBLISH" };
    redis::cmd(command).arg(channel).arg(message).query_async(conn).await
}

/// A subscription to one channel, as [`publish`] sends on it.
pub enum Subscription {
    Single(redis::aio::PubSub),
    /// The cluster connection re-subscribes by itself after reconnecting
    /// (also to a promoted replica); messages arrive on the receiver.
    Cluster {
        _conn: ClusterConnection,
        messages: tokio::sync::mpsc::UnboundedReceiver<redis::PushInfo>,
    },
}

impl Subscription {
    pub async fn open(target: &RedisTarget, channel: &str, connect: Duration) -> RedisResult<Subscription> {
        match target {
            RedisTarget::Single(url) => {
                let mut pubsub = redis::Client::open(url.as_str())?.get_async_pubsub().await?;
                pubsub.subscribe(channel).await?;
                Ok(Subscription::Single(pubsub))
            }
            RedisTarget::Cluster(urls) => {
                let (sender, messages) = tokio::sync::mpsc::unbounded_channel();
                let client = cluster_builder(urls, Timeouts { connect, response: Some(Duration::from_secs(5)) })
                    .use_protocol(redis::ProtocolVersion::RESP3)
                    .push_sender(sender)
                    .build()?;
                let mut conn = client.get_async_connection().await?;
                conn.ssubscribe(channel).await?;
                Ok(Subscription::Cluster { _conn: conn, messages })
            }
        }
    }

    /// The next message (subscription confirmations are skipped); `None`
    /// when the connection is gone for good.
    pub async fn next_message(&mut self) -> Option<()> {
        use futures_util::StreamExt;
        match self {
            Subscription::Single(pubsub) => pubsub.on_message().next().await.map(|_| ()),
            Subscription::Cluster { messages, .. } => loop {
                let push = messages.recv().await?;
                if matches!(push.kind, redis::PushKind::SMessage | redis::PushKind::Message) {
                    return Some(());
                }
            },
        }
    }
}
