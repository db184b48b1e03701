//! The OpenAPI 3.1 description of the service, generated from the
//! `#[utoipa::path]` annotations on the handlers themselves, served at
//! `GET /openapi.json` and rendered at `GET /docs` by Swagger UI, whose files
//! are compiled into the binary (the `vendored` build of
//! `utoipa-swagger-ui`), so the docs need nothing from the internet.
//!
//! Every registered route must appear here and the reverse: a test compares
//! this document with [`crate::routes::table`].

pub mod schemas;

use crate::error::ApiError;
use crate::routes::Routes;
use crate::{admin, checkout, drawers, hooks, orders, sales, startup};
use actix_web::{HttpResponse, web};
use std::sync::{Arc, LazyLock};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

pub fn routes(r: &mut Routes) {
    r.get("/openapi.json", openapi_json).get("/docs", docs_index).get("/docs/{file:.*}", docs_file);
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "cashdesk",
        description = "Pay for an online basket at the store's cash register or by phone, run the store's cash drawers, \
            and serve outside sales tools. The contract is SPEC.md; money is exact decimal everywhere.\n\n\
            **Hooks** (`/hooks/…`) answer HTTP 200 for every outcome, with the outcome in the body; every other API \
            answers with an HTTP status and `{\"error_code\", \"message\", \"request_id\"}`. Every response carries \
            `X-Request-Id`; request bodies over 64 KiB are refused (413).",
    ),
    modifiers(&Security),
    tags(
        (name = "checkout", description = "Checkout sessions and their pre-orders (SPEC §4)"),
        (name = "cash register hooks", description = "POS terminals (SPEC §5); HTTP 200 always, the outcome in the body"),
        (name = "IVR hooks", description = "Phone payments (SPEC §6); HTTP 200 always, the outcome in the body"),
        (name = "orders", description = "Orders created from payments and sales"),
        (name = "cash drawers", description = "Store cash drawers (SPEC §8); `Authorization: Bearer <associate token>` or the admin token"),
        (name = "sales", description = "Sales web service for outside tools (SPEC §9); shops authenticate with `shop_id` and `key`"),
        (name = "admin", description = "Admin API (SPEC §7): `Authorization: Bearer $ADMIN_TOKEN`, or the admin page's session cookie \
            with `X-CSRF-Token` on state-changing requests"),
        (name = "admin page", description = "The operators' web page and its sign-in"),
        (name = "operations", description = "Health, metrics and this description"),
    ),
    paths(
        startup::live, startup::ready, startup::metrics,
        openapi_json, docs_index, docs_file,
        checkout::routes::create, checkout::routes::read, checkout::routes::update,
        hooks::cash_register::get_order_number, hooks::cash_register::pre_order, hooks::cash_register::complete,
        hooks::ivr::pre_order, hooks::ivr::complete,
        orders::routes::get_order,
        sales::record::record_sale, sales::sales_report, sales::sales_report_schema, sales::catalog, sales::invoice::get_invoice,
        admin::page::to_index, admin::page::index, admin::page::asset,
        admin::session::sign_in, admin::session::current, admin::session::sign_out,
        admin::settings::list, admin::settings::get, admin::settings::put, admin::settings::history,
        admin::catalog::put_department, admin::catalog::put_product, admin::catalog::put_customer,
        admin::catalog::put_payment_option, admin::catalog::put_shipping_option, admin::catalog::put_card,
        admin::lockouts::list, admin::lockouts::clear,
        admin::associates::create, admin::associates::delete,
        admin::shops::create_shop,
        admin::recent::payments, admin::recent::orders, admin::recent::drawers, admin::recent::deliveries, admin::recent::replay,
        drawers::routes::put_config, drawers::routes::get_config, drawers::routes::list_types, drawers::routes::put_types,
        drawers::routes::list_drawers, drawers::routes::create_drawer, drawers::routes::get_drawer, drawers::routes::update_drawer,
        drawers::routes::decommission, drawers::routes::start_sale, drawers::routes::start_non_sale, drawers::routes::start_count,
        drawers::routes::track_activity, drawers::routes::activate, drawers::routes::deactivate, drawers::routes::daily_reports,
        drawers::routes::verify_ledger, drawers::routes::get_transaction, drawers::routes::finish_transaction,
        drawers::routes::record_count, drawers::routes::count_action, drawers::routes::store_report,
    ),
    components(schemas(schemas::ErrorBody))
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("ADMIN_TOKEN")).build()),
        );
        components.add_security_scheme(
            "admin_session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                admin::session::COOKIE,
                "The admin page's session (POST /admin/session); state-changing requests also need X-CSRF-Token",
            ))),
        );
        components.add_security_scheme(
            "associate_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An associate token (POST /admin/api/associates/), or ADMIN_TOKEN"))
                    .build(),
            ),
        );
    }
}

/// The document, built once.
pub static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| ApiDoc::openapi().to_pretty_json().unwrap_or_else(|err| format!("{{\"error\": \"{err}\"}}")));

/// This description.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(DOCUMENT.as_str())
}

/// Readable docs: Swagger UI over `/openapi.json`.
#[utoipa::path(get, path = "/docs", tag = "operations",
    responses((status = 308, description = "Redirect to `/docs/`, where the page's relative links work")))]
pub async fn docs_index() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header(("Location", "/docs/")).finish()
}

static SWAGGER_CONFIG: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> =
    LazyLock::new(|| Arc::new(utoipa_swagger_ui::Config::from("/openapi.json")));

/// The Swagger UI files, served from the binary.
#[utoipa::path(get, path = "/docs/{file}", tag = "operations",
    params(("file" = String, Path, description = "empty for the page, else one of its files, e.g. `swagger-ui.css`")),
    responses(
        (status = 200, description = "The file", content_type = "text/html"),
        (status = 404, description = "No such file", body = schemas::ErrorBody),
    ))]
pub async fn docs_file(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    match utoipa_swagger_ui::serve(&file, Arc::clone(&SWAGGER_CONFIG)) {
        Ok(Some(found)) => Ok(HttpResponse::Ok().content_type(found.content_type).body(found.bytes.into_owned())),
        Ok(None) => Err(ApiError::not_found("no such docs file")),
        Err(err) => Err(ApiError::internal(anyhow::anyhow!("swagger ui: {err}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_error_answers_refer_to_the_error_body() {
        let doc: serde_json::Value = serde_json::from_str(&DOCUMENT).unwrap();
        let conflict = &doc["paths"]["/v0/cash-drawers"]["post"]["responses"]["409"];
        assert_eq!(conflict["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody", "{conflict}");
        let security = &doc["components"]["securitySchemes"];
        assert_eq!(security["admin_session"]["in"], "cookie");
        assert_eq!(security["admin_token"]["scheme"], "bearer");
    }
}
