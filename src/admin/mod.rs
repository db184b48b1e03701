//! The operators' side: the admin API (settings, catalog) behind `ADMIN_TOKEN`.

mod auth;
mod catalog;
mod settings;
mod shops;

pub use auth::AdminAuth;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(settings::routes).configure(catalog::routes).configure(shops::routes);
}
