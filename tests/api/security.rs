//! Secrets kept out of answers (lockouts: `lockouts.rs`).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_admin_token_and_ivr_password_are_held_only_as_digests() {
    let app = spawn_app().await;
    assert!(app.ctx.config.admin_token.is_none() && app.ctx.config.ivr_password.is_none());
    assert!(app.ctx.admin_token_hash.is_some() && app.ctx.ivr_credentials.is_some());
    assert_eq!(app.admin_get("/admin/api/settings/").await.status(), StatusCode::OK);
    let ivr =
        app.hook("/hooks/ivr/pre_order/", &json!({"username": IVR.0, "password": IVR.1, "orderNumber": "ORD-1"})).await;
    assert_eq!(ivr["result"]["message"], "Order not found", "the IVR credentials still work");
}
