//! Request-wide concerns: the request id, one access-log line, and metrics.

use crate::context::AppContext;
use crate::error::REQUEST_ID;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error};
use std::time::Instant;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// An incoming request id is kept when it is short printable ASCII; otherwise a new one is made.
fn request_id_of(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
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
    let method = req.method().to_string();
    let path = req.path().to_string();
    let ctx = req.app_data::<web::Data<AppContext>>().cloned();
    let mut res = REQUEST_ID.scope(id.clone(), next.call(req)).await?;
    let elapsed = started.elapsed();
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    let status = res.status().as_u16();
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_string());
    if let Some(ctx) = ctx {
        ctx.metrics.http_requests.with_label_values(&[&method, &route, &status.to_string()]).inc();
        ctx.metrics.http_latency.with_label_values(&[&method, &route]).observe(elapsed.as_secs_f64());
    }
    log::info!("{method} {path} {status} {:.2}ms request_id={id}", elapsed.as_secs_f64() * 1000.0);
    Ok(res)
}
