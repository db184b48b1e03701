//! `Idempotency-Key` for the drawer API's POST and PATCH requests.
//!
//! The key row is inserted at the start of the request's transaction and
//! filled with the answer before it commits, so the effect and its answer are
//! one atomic fact. A concurrent retry with the same key blocks on the key's
//! unique index until the first request finishes, then replays its answer; if
//! the first request failed (rolled back), the retry simply runs. Only
//! successful answers are kept: an error left nothing behind to protect.
//! Keys live 24 hours; the same key with another request answers 409.

use super::auth::Caller;
use crate::error::ApiError;
use crate::secrets::sha256_hex;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Transaction};

pub const HEADER: &str = "idempotency-key";

/// Runs one write in its own transaction under the request's idempotency key:
/// a retry gets the stored answer, and the answer is stored with the effect.
/// (A macro: the write borrows the transaction across an await.)
macro_rules! idempotent {
    ($ctx:expr, $req:expr, $caller:expr, $bytes:expr, $status:expr, |$tx:ident| $call:expr) => {{
        let mut w = match $crate::drawers::idempotency::begin(&$ctx.db, &$req, &$caller, &$bytes).await? {
            $crate::drawers::idempotency::Begun::Replay(answer) => return Ok(answer),
            $crate::drawers::idempotency::Begun::Fresh(w) => w,
        };
        let $tx = &mut w.tx;
        let out = $call.await?;
        w.finish($status, out).await
    }};
}
pub(crate) use idempotent;

/// A write in progress: its transaction, and the key it answers under.
pub struct Write {
    pub tx: Transaction<'static, Postgres>,
    claim: Option<(String, String)>,
}

/// Either a fresh write to perform, or the stored answer to a retry.
pub enum Begun {
    Fresh(Write),
    Replay(HttpResponse),
}

/// Opens the request's transaction and claims its idempotency key, if any.
pub async fn begin(db: &PgPool, req: &HttpRequest, caller: &Caller, body: &[u8]) -> Result<Begun, ApiError> {
    let Some(key) = key_of(req)? else {
        return Ok(Begun::Fresh(Write { tx: db.begin().await?, claim: None }));
    };
    let scope = caller.idempotency_scope();
    let request_hash = {
        let mut material = format!("{} {}\n", req.method(), req.path()).into_bytes();
        material.extend_from_slice(body);
        sha256_hex(&material)
    };
    // A claimer that rolled back frees the key between our insert and read;
    // one more round then claims it.
    for _ in 0..3 {
        let mut tx = db.begin().await?;
        sqlx::query!(
            "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND created_at < now() - interval '24 hours'",
            scope,
            key
        )
        .execute(&mut *tx)
        .await?;
        let claimed = sqlx::query!(
            "INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            scope,
            key,
            request_hash
        )
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if claimed {
            return Ok(Begun::Fresh(Write { tx, claim: Some((scope, key)) }));
        }
        tx.rollback().await?;
        let stored = sqlx::query!(
            "SELECT request_hash, status_code, response FROM idempotency_keys
             WHERE scope = $1 AND key = $2 AND created_at >= now() - interval '24 hours'",
            scope,
            key
        )
        .fetch_optional(db)
        .await?;
        let Some(stored) = stored else { continue };
        if stored.request_hash != request_hash {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different request in the last 24 hours",
            ));
        }
        let status = stored.status_code.and_then(|s| StatusCode::from_u16(s as u16).ok()).unwrap_or(StatusCode::OK);
        let mut answer = HttpResponse::build(status);
        answer.insert_header(("Idempotent-Replayed", "true"));
        return Ok(Begun::Replay(match stored.response {
            Some(body) => answer.json(body),
            None => answer.finish(),
        }));
    }
    Err(ApiError::conflict("a request with this Idempotency-Key is still in progress; retry"))
}

impl Write {
    /// Stores the answer under the key (if any), commits, and answers.
    pub async fn finish<T: Serialize>(mut self, status: StatusCode, body: T) -> Result<HttpResponse, ApiError> {
        if let Some((scope, key)) = &self.claim {
            sqlx::query!(
                "UPDATE idempotency_keys SET status_code = $3, response = $4 WHERE scope = $1 AND key = $2",
                scope,
                key,
                i32::from(status.as_u16()),
                Json(&body) as _
            )
            .execute(&mut *self.tx)
            .await?;
        }
        self.tx.commit().await?;
        Ok(HttpResponse::build(status).json(body))
    }
}

fn key_of(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(raw) = req.headers().get(HEADER) else { return Ok(None) };
    raw.to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
        .map(|k| Some(k.to_string()))
        .ok_or_else(|| ApiError::validation("Idempotency-Key: 1 to 255 printable ASCII characters"))
}

/// Forgets keys older than 24 hours, a bounded batch at a time, so the table
/// stays small without a dedicated sweeper.
pub async fn prune(db: &PgPool) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "DELETE FROM idempotency_keys WHERE ctid IN (
             SELECT ctid FROM idempotency_keys WHERE created_at < now() - interval '24 hours' LIMIT 500)"
    )
    .execute(db)
    .await?
    .rows_affected())
}
