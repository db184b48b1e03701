//! Request-wide concerns: the request id, one access-log line, metrics, and
//! the body size limit.

use crate::context::AppContext;
use crate::error::{ApiError, REQUEST_ID};
use crate::startup::BODY_LIMIT;
use actix_web::body::MessageBody;
use actix_web::dev::Payload;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use actix_web::ResponseError;
use actix_web::{web, Error};
use bytes::BytesMut;
use futures_util::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;
use std::time::Instant;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// A random prefix per process and a counter: unique ids without asking the
/// kernel for randomness on every request.
static ID_PREFIX: LazyLock<String> = LazyLock::new(|| uuid::Uuid::new_v4().simple().to_string()[..16].to_string());
static ID_COUNTER: AtomicU64 = AtomicU64::new(0);

fn new_request_id() -> String {
    format!("{}{:016x}", *ID_PREFIX, ID_COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// An incoming request id is kept when it is short printable ASCII; otherwise a new one is made.
fn request_id_of(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(new_request_id)
}

/// True when the path or query carries an encoded NUL: never part of an id
/// or a name we store (Postgres text cannot hold it), so it is refused here
/// rather than failing a query deep inside a handler.
fn carries_nul(req: &ServiceRequest) -> bool {
    req.uri().path().contains("%00") || req.query_string().contains("%00")
}

/// Gives every request an id (in the task-local [`REQUEST_ID`] and the
/// `X-Request-Id` response header), logs one line and records metrics.
/// Query strings are never logged: shop keys may travel in them.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = request_id_of(&req);
    let started = Instant::now();
    let method = req.method().clone();
    // Only copied when the access log is on.
    let path = log::log_enabled!(log::Level::Info).then(|| req.path().to_string());
    let ctx = req.app_data::<web::Data<AppContext>>().cloned();
    let mut res = if carries_nul(&req) {
        let refusal = REQUEST_ID.scope(id.clone(), async {
            ApiError::bad_request("the NUL character (%00) is not accepted in a URL").error_response()
        });
        req.into_response(refusal.await).map_into_right_body()
    } else {
        REQUEST_ID.scope(id.clone(), next.call(req)).await?.map_into_left_body()
    };
    let elapsed = started.elapsed();
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    let status = res.status();
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_string());
    if let Some(ctx) = ctx {
        ctx.metrics.http_requests.with_label_values(&[method.as_str(), &route, status.as_str()]).inc();
        ctx.metrics.http_latency.with_label_values(&[method.as_str(), &route]).observe(elapsed.as_secs_f64());
    }
    if let Some(path) = path {
        log::info!("{method} {path} {} {:.2}ms request_id={id}", status.as_u16(), elapsed.as_secs_f64() * 1000.0);
    }
    Ok(res)
}

/// Refuses a body over [`BODY_LIMIT`] with 413 on every route, whether or
/// not the route reads a body (SPEC §3, §15), before any handler runs and
/// without reading it whole: a declared length over the limit is refused
/// unread; a body sent without a length (chunked) is read up to the limit and
/// no further, then handed on.
pub async fn limit_body(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let declared =
        req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    let too_large = match declared {
        Some(length) => length > BODY_LIMIT as u64,
        None if req.headers().contains_key(TRANSFER_ENCODING) => {
            let mut payload = req.take_payload();
            let mut read = BytesMut::new();
            let mut over = false;
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|err| ApiError::bad_request(format!("unreadable body: {err}")))?;
                if read.len() + chunk.len() > BODY_LIMIT {
                    over = true;
                    break;
                }
                read.extend_from_slice(&chunk);
            }
            req.set_payload(Payload::from(read.freeze()));
            over
        }
        None => false,
    };
    if too_large {
        return Ok(req.into_response(ApiError::payload_too_large().error_response()).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}
