//! Building and running the application: connections, migrations, the HTTP
//! server and the in-process worker.

use crate::config::Settings;
use crate::context::AppContext;
use crate::database;
use crate::error::{json_error_handler, path_error_handler, query_error_handler};
use crate::health::WriteProbe;
use crate::keys::Keys;
use crate::metrics::Metrics;
use crate::openapi::Register;
use crate::payments::PaymentWriter;
use crate::redis_conn::{RedisConn, RedisPool, Timeouts};
use crate::secrets::sha256;
use crate::settings::DynamicSettings;
use crate::{
    admin, checkout, deposits, drawers, health, hooks, middleware, openapi, order_numbers, orders, sales, worker,
};
use actix_web::get;
use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use utoipa_actix_web::AppExt;

/// Request bodies above this are refused (SPEC §3).
pub const BODY_LIMIT: usize = 64 * 1024;

/// Payment writer tasks per instance: batches in flight at once.
const PAYMENT_WRITERS: usize = 4;

/// How long start-up waits for Redis.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Request-path Redis connections: a command (with a cluster's retries and
/// redirects) answers within 5 s or fails, so hooks answer "retry" rather
/// than hang.
pub const REDIS_TIMEOUTS: Timeouts = Timeouts { connect: CONNECT_TIMEOUT, response: Some(Duration::from_secs(5)) };

/// Connects to Postgres (the primary, and the read replica when one is
/// configured) and Redis. A dependency that cannot be reached is named in
/// the error, so the operator sees one clear line.
pub async fn connect(mut config: Settings) -> anyhow::Result<AppContext> {
    let db = database::connect_primary(&config.database_url, config.database_max_connections).await?;
    let read_db = match &config.database_read_url {
        Some(url) => database::connect_read(url, config.database_max_connections).await?,
        None => db.clone(),
    };

    let unreachable_redis = || format!("cannot reach Redis at {}", config.redis_description());
    let target = config.redis_target();
    let redis = tokio::time::timeout(CONNECT_TIMEOUT, RedisConn::open(&target, REDIS_TIMEOUTS))
        .await
        .map_err(|_| anyhow::anyhow!("timed out"))
        .and_then(|r| r.map_err(anyhow::Error::from))
        .with_context(unreachable_redis)?;
    let redis_pool = RedisPool::new(&target, CONNECT_TIMEOUT, 16).with_context(unreachable_redis)?;

    // The secrets this service only verifies are kept as digests, and the
    // plain values dropped: nothing can log or leak what it no longer holds.
    let admin_token_hash = config.admin_token.take().map(|t| sha256(t.expose().as_bytes()));
    let ivr_credentials = match (&config.ivr_username, config.ivr_password.take()) {
        (Some(u), Some(p)) => Some((sha256(u.as_bytes()), sha256(p.expose().as_bytes()))),
        _ => None,
    };
    let metrics = Arc::new(Metrics::new());
    Ok(AppContext {
        keys: Keys::new(config.redis_key_prefix.clone()),
        payments: PaymentWriter::start(db.clone(), PAYMENT_WRITERS, metrics.payment_batch_size.clone()),
        admin_token_hash,
        ivr_credentials,
        config: Arc::new(config),
        db,
        read_db,
        readiness: Arc::new(WriteProbe::default()),
        redis,
        redis_pool,
        settings: Arc::new(DynamicSettings::default()),
        metrics,
    })
}

/// Applies the SQL files in `migrations/` (idempotent; concurrent starts wait on a lock).
pub async fn migrate(db: &sqlx::PgPool) -> anyhow::Result<()> {
    sqlx::migrate!("./migrations").run(db).await.context("failed to apply database migrations")
}

/// A built application: bound to its port, not yet serving.
pub struct Application {
    port: u16,
    ctx: AppContext,
    server: actix_web::dev::Server,
    stop: CancellationToken,
    background: Vec<(&'static str, JoinHandle<()>)>,
}

/// What runs in this process beside the HTTP server.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    pub worker: bool,
}

impl Application {
    /// Connects, migrates, loads the dynamic settings and binds `settings.bind`
    /// (port 0 picks a free port, as tests do).
    pub async fn build(mut settings: Settings, options: RunOptions) -> anyhow::Result<Self> {
        let listener =
            TcpListener::bind(settings.bind).with_context(|| format!("cannot listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        if settings.public_base_url.is_none() {
            // Port 0 becomes a real port only now; links must carry the real one.
            settings.public_base_url = Some(format!("http://{}", listener.local_addr()?));
        }
        let http_workers = settings.http_workers;
        let ctx = connect(settings).await?;
        migrate(&ctx.db).await?;
        ctx.settings.reload(&ctx.db).await.context("failed to load dynamic settings")?;

        let stop = CancellationToken::new();
        let mut background = Vec::new();
        background.push((
            "settings follower",
            tokio::spawn(Arc::clone(&ctx.settings).follow(
                ctx.db.clone(),
                ctx.config.redis_target(),
                ctx.keys.clone(),
                stop.clone(),
            )),
        ));
        if options.worker {
            background.extend(worker::spawn(ctx.clone(), stop.clone()));
        }

        let data = web::Data::new(ctx.clone());
        let published = web::Data::new(openapi::Published::new(api_document));
        let factory_ctx = ctx.clone();
        let server = HttpServer::new(move || {
            let thread_ctx = factory_ctx.clone();
            App::new()
                .data_factory(move || {
                    let ctx = thread_ctx.clone();
                    async move {
                        ctx.open_thread_redis().await;
                        Ok::<_, ()>(())
                    }
                })
                .app_data(data.clone())
                .app_data(published.clone())
                .app_data(web::JsonConfig::default().limit(BODY_LIMIT).error_handler(json_error_handler))
                .app_data(web::PayloadConfig::new(BODY_LIMIT))
                .app_data(web::QueryConfig::default().error_handler(query_error_handler))
                .app_data(web::PathConfig::default().error_handler(path_error_handler))
                .wrap(actix_web::middleware::from_fn(middleware::limit_body))
                .wrap(actix_web::middleware::from_fn(middleware::observe))
                .configure(|cfg| {
                    routes(cfg);
                })
                .default_service(web::to(crate::error::no_route))
        })
        .workers(http_workers)
        .shutdown_timeout(30)
        .listen(listener)?
        .run();
        Ok(Application { port, ctx, server, stop, background })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn context(&self) -> &AppContext {
        &self.ctx
    }

    /// Stops the server from outside (as SIGTERM does).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM/SIGINT (or the server handle stops it): in-flight
    /// requests finish, then the background tasks stop after their job in hand.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let result = self.server.await;
        self.stop.cancel();
        for (name, handle) in self.background {
            if let Err(err) = handle.await {
                log::error!("background task {name} died: {err}");
            }
        }
        result.context("HTTP server failed")
    }
}

/// The OpenAPI document of every route [`routes`] registers.
pub fn api_document() -> utoipa::openapi::OpenApi {
    let (_, mut document) = App::new()
        .into_utoipa_app()
        .openapi(openapi::base())
        .configure(|cfg| {
            routes(cfg);
        })
        .split_for_parts();
    openapi::add_shared_answers(&mut document);
    document
}

/// Every route of the service, each registered with its description.
/// actix tries them in this order, and each one with a `{parameter}` costs
/// a regular-expression test of every request that reaches it, so the probes
/// and the hooks (the tills' hot path, all fixed paths) come first.
pub fn routes(cfg: &mut impl Register) {
    cfg.service(live)
        .service(ready)
        .configure(hooks::routes)
        .service(serve_metrics)
        .configure(checkout::routes)
        .configure(order_numbers::routes)
        .configure(orders::routes)
        .configure(sales::routes)
        .configure(admin::routes)
        .configure(drawers::routes)
        .configure(deposits::routes)
        .configure(openapi::routes);
}

#[utoipa::path(operation_id = "getLiveness", tag = "operations",
    responses(
        (status = 200, description = "The process is up", body = health::Liveness),
    ))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(health::Liveness { status: health::State::Ok })
}

/// Ready only when a write to Postgres commits within 2 s and Redis answers.
#[utoipa::path(operation_id = "getReadiness", tag = "operations",
    description = "Checks: `postgres`: a write to the database this instance writes to commits within 2 s (a read-only standby, or a primary waiting for a synchronous standby that is gone, is `unavailable`); `redis`: Redis answers `PING` within 2 s; `postgres_read` (only when `DATABASE_READ_URL` is set): the read replica answers `SELECT 1` within 2 s. Ready (200) when `postgres` and `redis` are `ok`: the replica serves reports only, so a replica outage is shown but does not take the instance out of the balancer.",
    responses(
        (status = 200, description = "Writes commit and Redis answers", body = health::Readiness),
        (status = 503, description = "A write does not commit within 2 s, or Redis does not answer", body = health::Readiness),
    ))]
#[get("/health/ready")]
pub async fn ready(ctx: web::Data<AppContext>) -> HttpResponse {
    let bound = health::WRITE_BOUND;
    let postgres = ctx.readiness.writes_commit(&ctx.db);
    let replica = async {
        match ctx.config.database_read_url {
            Some(_) => Some(
                tokio::time::timeout(bound, sqlx::query_scalar!("SELECT 1 AS one").fetch_one(&ctx.read_db))
                    .await
                    .is_ok_and(|r| r.is_ok()),
            ),
            None => None,
        }
    };
    let redis = async {
        let mut redis = ctx.redis();
        tokio::time::timeout(bound, redis::cmd("PING").query_async::<String>(&mut redis)).await.is_ok_and(|r| r.is_ok())
    };
    let (postgres, replica, redis_ok) = futures_util::join!(postgres, replica, redis);
    let body = health::Readiness {
        status: (postgres && redis_ok).into(),
        checks: health::Checks {
            postgres: postgres.into(),
            redis: redis_ok.into(),
            postgres_read: replica.map(Into::into),
        },
    };
    if postgres && redis_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

#[utoipa::path(operation_id = "getMetrics", tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format: requests by route and status, latencies, payments by outcome, completion jobs, queue depth, completion lag", body = String, content_type = "text/plain"),
    ))]
#[get("/metrics")]
pub async fn serve_metrics(ctx: web::Data<AppContext>) -> HttpResponse {
    worker::refresh_queue_depth(&ctx).await;
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(ctx.metrics.render())
}
