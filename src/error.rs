//! Error policy.
//!
//! - Outside the request path (start-up, CLI, worker loops) errors are `anyhow`,
//!   with `.context("failed to …")` at each fallible step.
//! - Domain modules return `thiserror` enums that say what went wrong in the
//!   domain's words.
//! - There is one API error type per protocol family. Hooks (§5, §6 of the SPEC)
//!   always answer HTTP 200 with the outcome in the body; they build their own
//!   answers in `hooks/`. Every other API answers with an HTTP status and the body
//!   `{"error_code", "message", "request_id"}`, built here by [`ApiError`].
//! - Internal errors are logged with their whole cause chain and the request id;
//!   the client gets a generic message and the request id to quote, never SQL,
//!   paths or driver text.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use serde::Serialize;
use std::fmt;

tokio::task_local! {
    /// The id of the request being served, set by the request-id middleware.
    pub static REQUEST_ID: String;
}

/// The id of the request being served on this task, if any.
pub fn current_request_id() -> String {
    REQUEST_ID.try_with(|id| id.clone()).unwrap_or_default()
}

/// An error answered by a REST API with a status and the documented error body.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

/// The error body of every REST API (not the hooks).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(example = json!({"error_code": "validation_error", "message": "price: must be a decimal string like \"99.99\", at least 0", "request_id": "5f0c1e2a9b7d4c3e0000000000000007"}))]
pub struct ErrorBody {
    /// `bad_request`, `validation_error`, `unauthorized`, `forbidden`, `not_found`, `method_not_allowed`,
    /// `conflict`, `approval_required`, `payload_too_large`, `unsupported_media_type`, `too_many_requests`,
    /// `service_unavailable`, `internal_error`
    pub error_code: String,
    pub message: String,
    /// Also in the `X-Request-Id` header; quote it when reporting a problem.
    pub request_id: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "validation_error", message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }
    pub fn payload_too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "request body is larger than 64 KiB")
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable", message)
    }

    /// Logs `err` with its cause chain and returns the generic 500 answer.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        let err = err.into();
        log::error!("request {} failed: {:#}", current_request_id(), err);
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "internal error; quote the request id")
    }

    /// The JSON body of this error.
    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(ErrorBody {
            error_code: self.code.to_string(),
            message: self.message.clone(),
            request_id: current_request_id(),
        })
        .unwrap_or_default()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(self.body())
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        if is_unstorable_text(&err) {
            return ApiError::bad_request("text must not contain NUL characters");
        }
        if is_unavailable(&err) {
            log::error!("request {}: database unavailable: {}", current_request_id(), err);
            return ApiError::unavailable("database unavailable; retry shortly");
        }
        ApiError::internal(err)
    }
}

impl From<redis::RedisError> for ApiError {
    fn from(err: redis::RedisError) -> Self {
        log::error!("request {}: redis error: {}", current_request_id(), err);
        ApiError::unavailable("cache unavailable; retry shortly")
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        ApiError::internal(err)
    }
}

/// True when the database could not be reached rather than refusing the
/// query, including what a failover looks like from a connection: the server
/// shutting down (SQLSTATE 57P01-57P03), a connection exception (class 08), or
/// a write reaching a host that has just become a standby (25006). Retrying
/// reaches the new primary.
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "25006")
        }),
        _ => false,
    }
}

/// True when Postgres refused a text value it cannot hold (a NUL character:
/// SQLSTATE 22021): the client sent it, so it is the client's error, found
/// wherever such text first reaches a query (the fuzzer found one in a query
/// parameter).
pub fn is_unstorable_text(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("22021"))
}

/// The name of the violated unique constraint, if `err` is a unique violation.
pub fn unique_violation(err: &sqlx::Error) -> Option<String> {
    match err {
        sqlx::Error::Database(db) if db.is_unique_violation() => db.constraint().map(str::to_string),
        _ => None,
    }
}

/// Maps actix's JSON extractor errors to the documented error body.
pub fn json_error_handler(err: actix_web::error::JsonPayloadError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let api = match &err {
        E::OverflowKnownLength { .. } | E::Overflow { .. } => ApiError::payload_too_large(),
        E::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected Content-Type: application/json",
        ),
        E::Deserialize(e) => ApiError::bad_request(format!("malformed JSON: {e}")),
        other => ApiError::bad_request(format!("unreadable body: {other}")),
    };
    api.into()
}

/// Maps actix's query-string extractor errors to the documented error body.
pub fn query_error_handler(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::bad_request(format!("invalid query string: {err}")).into()
}

/// Maps actix's path extractor errors to the documented error body.
pub fn path_error_handler(err: actix_web::error::PathError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::not_found(format!("invalid path: {err}")).into()
}

/// The answer when no route took the request: 405 with `Allow` when the path
/// is served with other methods, else 404.
pub async fn no_route(req: actix_web::HttpRequest, published: web::Data<crate::openapi::Published>) -> HttpResponse {
    // A path the document describes more loosely than its route (a number
    // where the route takes digits only) is not found, whatever the method.
    match published.allowed(req.path()).filter(|methods| !methods.contains(req.method())) {
        Some(methods) => {
            let allow = methods.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ");
            let message = format!("{} is not served on this path; it serves {allow}", req.method());
            let mut res = ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", message).error_response();
            if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allow) {
                res.headers_mut().insert(actix_web::http::header::ALLOW, value);
            }
            res
        }
        None => ApiError::not_found("no such route").error_response(),
    }
}
