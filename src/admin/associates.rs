//! `POST /admin/api/associates/` issues an associate's bearer token for the
//! cash drawer API (shown once); `DELETE /admin/api/associates/{associate_id}/`
//! revokes it at once.

use super::AdminAuth;
use super::AdminWriteErrors;
use crate::context::AppContext;
use crate::drawers::{issue_token, revoke_token, AssociateRole};
use crate::error::{ApiError, ErrorBody};
use crate::fields::Text;
use crate::json_body::StrictJson;
use crate::openapi::Register;
use actix_web::{delete, post};
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn routes(cfg: &mut impl Register) {
    cfg.service(create).service(delete);
}

/// `POST /admin/api/associates/`
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"associate_id": "alice", "name": "Alice", "store_ids": ["store-1"], "role": "manager"}))]
pub struct AssociateWrite {
    /// At most 128 characters.
    pub associate_id: Text,
    pub name: Text,
    /// The stores the token acts on, at least one.
    #[schema(min_items = 1)]
    pub store_ids: Vec<Text>,
    /// `associate` (left out) or `manager`: a manager's token approves counts over a store's variance tolerance.
    pub role: Option<AssociateRole>,
}

/// The new associate and its token, shown once (stored as a hash).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"associate_id": "alice", "name": "Alice", "store_ids": ["store-1"], "role": "associate", "token": "cdk_assoc_0123…"}))]
pub struct AssociateCreated {
    pub associate_id: String,
    pub name: String,
    pub store_ids: Vec<String>,
    pub role: AssociateRole,
    pub token: String,
}

#[utoipa::path(operation_id = "createAssociate", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    request_body = AssociateWrite,
    responses(
        (status = 201, description = "The token, shown once", body = AssociateCreated),
        (status = 409, description = "The associate already has a token", body = ErrorBody),
        AdminWriteErrors,
    ))]
#[post("/admin/api/associates/")]
pub async fn create(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    body: StrictJson<AssociateWrite>,
) -> Result<HttpResponse, ApiError> {
    let StrictJson(write) = body;
    if write.associate_id.len() > 128 {
        return Err(ApiError::validation("associate_id: at most 128 characters"));
    }
    if write.store_ids.is_empty() {
        return Err(ApiError::validation("store_ids: must be a non-empty array of store ids"));
    }
    let (associate_id, name) = (String::from(write.associate_id), String::from(write.name));
    let store_ids: Vec<String> = write.store_ids.into_iter().map(String::from).collect();
    let role = write.role.unwrap_or(AssociateRole::Associate);
    match issue_token(&ctx.db, &associate_id, &name, &store_ids, role).await? {
        Some(token) => {
            Ok(HttpResponse::Created().json(AssociateCreated { associate_id, name, store_ids, role, token }))
        }
        None => Err(ApiError::conflict(format!(
            "associate {associate_id} already has a token; DELETE it first to re-issue"
        ))),
    }
}

#[utoipa::path(operation_id = "deleteAssociate", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("associate_id" = String, Path, description = "The associate")),
    responses(
        (status = 204, description = "Revoked at once"),
        (status = 401, description = "Admin token or page session missing or wrong, or ADMIN_TOKEN unset", body = ErrorBody),
        (status = 403, description = "Page session without its X-CSRF-Token", body = ErrorBody),
        (status = 404, description = "No such associate with an active token", body = ErrorBody),
    ))]
#[delete("/admin/api/associates/{associate_id}/")]
pub async fn delete(
    _: AdminAuth,
    ctx: web::Data<AppContext>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if revoke_token(&ctx.db, &path).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found("no such associate with an active token"))
    }
}
