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

use utoipa_actix_web::service_config::ServiceConfig;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.configure(page::routes)
        .configure(session::routes)
        .configure(settings::routes)
        .configure(catalog::routes)
        .configure(lockouts::routes)
        .configure(associates::routes)
        .configure(shops::routes)
        .configure(recent::routes);
}
