//! The operators' side: the admin API (settings, catalog, associates) behind `ADMIN_TOKEN`.

mod associates;
mod auth;
mod catalog;
mod lockouts;
mod settings;
mod shops;

pub use auth::{bearer, is_admin_token, AdminAuth};

use crate::routes::Routes;

pub fn routes(r: &mut Routes) {
    r.configure(settings::routes)
        .configure(catalog::routes)
        .configure(lockouts::routes)
        .configure(associates::routes)
        .configure(shops::routes);
}
