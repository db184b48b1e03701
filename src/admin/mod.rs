//! The operators' side: the admin API (settings, catalog, associates, shops,
//! lockouts, recent activity) behind `ADMIN_TOKEN`, and the operators' page
//! with its sign-in sessions.

pub(crate) mod associates;
mod auth;
pub(crate) mod catalog;
pub(crate) mod lockouts;
pub(crate) mod page;
pub(crate) mod recent;
pub(crate) mod session;
pub(crate) mod settings;
pub(crate) mod shops;

pub use auth::{bearer, is_admin_token, AdminAuth, CSRF_HEADER};

use crate::error::ErrorBody;
use crate::openapi::Register;

/// The error answers every admin write may give.
#[derive(utoipa::IntoResponses)]
pub enum AdminWriteErrors {
    #[response(status = 400, description = "Invalid body; the message names the field")]
    Invalid(ErrorBody),
    #[response(status = 401, description = "Admin token or page session missing or wrong, or ADMIN_TOKEN unset")]
    Unauthorized(ErrorBody),
    #[response(status = 403, description = "Page session without its X-CSRF-Token")]
    Forbidden(ErrorBody),
}

pub fn routes(cfg: &mut impl Register) {
    cfg.configure(page::routes)
        .configure(session::routes)
        .configure(settings::routes)
        .configure(catalog::routes)
        .configure(lockouts::routes)
        .configure(associates::routes)
        .configure(shops::routes)
        .configure(recent::routes);
}
