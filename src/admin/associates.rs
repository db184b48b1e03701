//! `POST /admin/api/associates/` issues an associate's bearer token for the
//! cash drawer API (shown once); `DELETE /admin/api/associates/{associate_id}/`
//! revokes it at once.

use actix_web::{delete, post};
use super::AdminAuth;
use crate::openapi::schemas as doc;
use crate::context::AppContext;
use crate::drawers::{issue_token, revoke_token, Fields};
use crate::error::ApiError;
use crate::json_body::StrictJson;
use utoipa_actix_web::service_config::ServiceConfig;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(delete);
}

#[utoipa::path(operation_id = "createAssociate", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    request_body(content = doc::AssociateWrite, content_type = "application/json"),
    responses(
        (status = 201, description = "The token, shown once", body = doc::AssociateCreated),
        (status = 409, description = "The associate already has a token", body = doc::ErrorBody),
        doc::AdminWriteErrors,
    ))]
#[post("/admin/api/associates/")]
pub async fn create(_: AdminAuth, ctx: web::Data<AppContext>, body: StrictJson) -> Result<HttpResponse, ApiError> {
    let fields = Fields::of(&body)?;
    let associate_id = fields.required_text("associate_id", 128)?;
    let name = fields.required_text("name", 256)?;
    let store_ids: Vec<String> = match fields.get("store_ids") {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|s| match s {
                Value::String(s) if !s.trim().is_empty() && s.len() <= 256 => Ok(s.trim().to_string()),
                _ => Err(ApiError::validation("store_ids: each must be a non-empty string")),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(ApiError::validation("store_ids: must be a non-empty array of store ids")),
    };
    match issue_token(&ctx.db, &associate_id, &name, &store_ids).await? {
        Some(token) => Ok(HttpResponse::Created()
            .json(json!({"associate_id": associate_id, "name": name, "store_ids": store_ids, "token": token}))),
        None => Err(ApiError::conflict(format!("associate {associate_id} already has a token; DELETE it first to re-issue"))),
    }
}

#[utoipa::path(operation_id = "deleteAssociate", tag = "admin",
    security(("admin_token" = []), ("admin_session" = [])),
    params(("associate_id" = String, Path, description = "The associate")),
    responses(
        (status = 204, description = "Revoked at once"),
        (status = 401, description = "Admin token or page session missing or wrong, or ADMIN_TOKEN unset", body = doc::ErrorBody),
        (status = 403, description = "Page session without its X-CSRF-Token", body = doc::ErrorBody),
        (status = 404, description = "No such associate with an active token", body = doc::ErrorBody),
    ))]
#[delete("/admin/api/associates/{associate_id}/")]
pub async fn delete(_: AdminAuth, ctx: web::Data<AppContext>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    if revoke_token(&ctx.db, &path).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found("no such associate with an active token"))
    }
}
