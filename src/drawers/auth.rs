//! Who is calling the drawer API: an associate (bearer token issued through the
//! admin API, scoped to stores) or an operator with the admin token (all stores).
//!
//! Tokens are looked up by their SHA-256 on every request, never cached, so a
//! revoked token stops working at once on every instance.

use super::model::{AssociateRole, DrawerError, DrawerResult};
use crate::admin::{bearer, is_admin_token};
use crate::context::AppContext;
use crate::error::ApiError;
use crate::secrets::{random_token, sha256_hex};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

/// The authenticated caller of a drawer API request.
#[derive(Debug, Clone)]
pub enum Caller {
    Admin,
    Associate { id: String, name: String, store_ids: Vec<String> },
}

impl Caller {
    /// 403 unless the caller may act on `store_id`.
    pub fn require_store(&self, store_id: &str) -> DrawerResult<()> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Associate { store_ids, .. } if store_ids.iter().any(|s| s == store_id) => Ok(()),
            Caller::Associate { .. } => {
                Err(DrawerError::Forbidden(format!("this token does not act on store {store_id}")))
            }
        }
    }

    pub fn require_admin(&self) -> DrawerResult<()> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Associate { .. } => Err(DrawerError::Forbidden("this operation needs the admin token".into())),
        }
    }

    /// The associate recorded on transactions and counts; `None` for operators.
    pub fn associate_id(&self) -> Option<&str> {
        match self {
            Caller::Admin => None,
            Caller::Associate { id, .. } => Some(id),
        }
    }

    /// The namespace of this caller's idempotency keys.
    pub fn idempotency_scope(&self) -> String {
        match self {
            Caller::Admin => "admin".to_string(),
            Caller::Associate { id, .. } => format!("associate:{id}"),
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ctx = req.app_data::<web::Data<AppContext>>().cloned();
        let token = bearer(req).map(str::to_string);
        Box::pin(async move {
            let ctx = ctx.ok_or_else(|| ApiError::internal(anyhow::anyhow!("application context missing")))?;
            let token = token.ok_or_else(|| {
                ApiError::unauthorized("missing bearer token (Authorization: Bearer <associate token>)")
            })?;
            if is_admin_token(&ctx, &token) {
                return Ok(Caller::Admin);
            }
            find_by_token(&ctx.db, &token)
                .await?
                .ok_or_else(|| ApiError::unauthorized("unknown or revoked associate token"))
        })
    }
}

async fn find_by_token(db: &sqlx::PgPool, token: &str) -> Result<Option<Caller>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT associate_id, name, store_ids FROM associates WHERE token_hash = $1 AND revoked_at IS NULL",
        sha256_hex(token.as_bytes())
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Caller::Associate { id: r.associate_id, name: r.name, store_ids: r.store_ids }))
}

/// The associate id behind `token` when it is an active manager's token of
/// `store_id` (the second person who approves a count over the tolerance).
pub async fn manager_of<'e>(
    db: impl sqlx::PgExecutor<'e>,
    token: &str,
    store_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT associate_id FROM associates
         WHERE token_hash = $1 AND revoked_at IS NULL AND role = 'manager' AND $2 = ANY(store_ids)",
        sha256_hex(token.as_bytes()),
        store_id
    )
    .fetch_optional(db)
    .await
}

/// Issues a token for a new associate (or one whose token was revoked) and
/// answers it; only its hash is stored. `None` when the associate exists and
/// is active: re-issuing silently would leave a lost token valid.
pub async fn issue_token(
    db: &sqlx::PgPool,
    associate_id: &str,
    name: &str,
    store_ids: &[String],
    role: AssociateRole,
) -> DrawerResult<Option<String>> {
    let token = random_token("cdk_assoc_");
    let issued = sqlx::query!(
        "INSERT INTO associates (associate_id, name, token_hash, store_ids, role) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (associate_id) DO UPDATE
             SET name = EXCLUDED.name, token_hash = EXCLUDED.token_hash, store_ids = EXCLUDED.store_ids,
                 role = EXCLUDED.role, created_at = now(), revoked_at = NULL
             WHERE associates.revoked_at IS NOT NULL",
        associate_id,
        name,
        sha256_hex(token.as_bytes()),
        store_ids,
        role.as_str()
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok((issued == 1).then_some(token))
}

/// Revokes an associate's token; `false` when there is no such active associate.
pub async fn revoke(db: &sqlx::PgPool, associate_id: &str) -> DrawerResult<bool> {
    let done = sqlx::query!(
        "UPDATE associates SET revoked_at = now() WHERE associate_id = $1 AND revoked_at IS NULL",
        associate_id
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(done == 1)
}
