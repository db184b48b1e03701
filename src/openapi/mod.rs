//! The OpenAPI 3.1 description of the service, served at `GET /openapi.json`
//! and rendered at `GET /docs` by Swagger UI, whose files are compiled into
//! the binary (the `vendored` build of `utoipa-swagger-ui`), so the docs need
//! nothing from the internet.
//!
//! The document is not written beside the code: every route is registered
//! with `utoipa-actix-web` (`startup::routes`), which collects each handler's
//! `#[utoipa::path]` and the types it names while registering it, so what is
//! served and what is described are one list. The same document tells which
//! methods a path serves ([`Published::allowed`]) for the 405 answer.

use crate::admin;
use crate::error::{ApiError, ErrorBody};
use actix_web::dev::{HttpServiceFactory, ResourceDef};
use actix_web::http::Method;
use actix_web::{get, web, HttpResponse};
use std::sync::{Arc, LazyLock};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::OpenApiFactory;

pub fn routes(cfg: &mut impl Register) {
    cfg.service(openapi_json).service(docs_index).service(docs_file);
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
        (name = "deposits", description = "Store deposits and the store ledger (SPEC §13); the cash drawer API's tokens"),
        (name = "sales", description = "Sales web service for outside tools (SPEC §9); shops authenticate with `shop_id` and `key`"),
        (name = "admin", description = "Admin API (SPEC §7): `Authorization: Bearer $ADMIN_TOKEN`, or the admin page's session cookie \
            with `X-CSRF-Token` on state-changing requests"),
        (name = "admin page", description = "The operators' web page and its sign-in"),
        (name = "operations", description = "Health, metrics and this description"),
    ),
    components(schemas(ErrorBody))
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("ADMIN_TOKEN")).build(),
            ),
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

/// Where the routes are registered: every handler is added once, through
/// this, either with its description (`utoipa-actix-web`'s config, which
/// collects the document) or without (an HTTP worker's actix config: each
/// worker builds its own app, and collecting the document there would cost
/// every worker the whole schema tree in memory and start-up time).
pub trait Register {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static;

    fn configure(&mut self, routes: impl FnOnce(&mut Self)) -> &mut Self {
        routes(self);
        self
    }
}

impl Register for utoipa_actix_web::service_config::ServiceConfig<'_> {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static,
    {
        utoipa_actix_web::service_config::ServiceConfig::service(self, factory)
    }
}

impl Register for actix_web::web::ServiceConfig {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static,
    {
        actix_web::web::ServiceConfig::service(self, factory)
    }
}

/// The base of the document: what is not collected from the handlers.
pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Paths that touch neither Postgres nor Redis: they never answer 503.
const STATIC_PATHS: [&str; 8] = [
    "/health/live",
    "/openapi.json",
    "/docs",
    "/docs/{file}",
    "/admin",
    "/admin/",
    "/admin/assets/{file}",
    "/ws/v1/reports/sales.xsd",
];

/// Documents on every operation the answers that come from the layers every
/// route shares rather than from its handler: 413 (a body over 64 KiB,
/// `middleware::limit_body`), 400 (a NUL character in the URL,
/// `middleware::observe`), 415 (a JSON body sent as something else,
/// `json_body::StrictJson`) and 503 (Postgres or Redis unavailable, the
/// `ApiError` of their errors). Hooks answer 200 with their own codes for
/// all but the first two.
pub fn add_shared_answers(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
            .build()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let hook = path.starts_with("/hooks/");
        let touches_stores = !hook && !STATIC_PATHS.contains(&path.as_str());
        for operation in
            [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten()
        {
            let takes_json =
                operation.request_body.as_ref().is_some_and(|b| b.content.contains_key("application/json"));
            let responses = &mut operation.responses.responses;
            let mut add = |status: &str, description: &str| {
                responses.entry(status.to_string()).or_insert_with(|| error(description).into());
            };
            add("413", "The body is over 64 KiB (refused without being read)");
            add("400", "The URL carries a NUL character (%00), or a query parameter is malformed");
            if takes_json && !hook {
                add("415", "The body is not sent as application/json");
            }
            if touches_stores {
                add("503", "Postgres or Redis is unavailable; retry shortly");
            }
        }
    }
}

/// The document as served, and the methods each documented path serves.
/// Built on first use (a request for it, or for a method a path does not
/// serve), not at start: building it walks every schema of the API, which
/// would make every instance start slower and hold that memory from the start.
pub struct Published {
    build: fn() -> utoipa::openapi::OpenApi,
    built: std::sync::OnceLock<Built>,
}

struct Built {
    json: String,
    paths: Vec<(ResourceDef, Vec<Method>)>,
}

impl Published {
    /// The document `build` makes, when first asked for.
    pub fn new(build: fn() -> utoipa::openapi::OpenApi) -> Self {
        Published { build, built: std::sync::OnceLock::new() }
    }

    fn built(&self) -> &Built {
        self.built.get_or_init(|| {
            let doc = (self.build)();
            let json = doc.to_pretty_json().unwrap_or_else(|err| format!("{{\"error\": \"{err}\"}}"));
            let paths = doc
                .paths
                .paths
                .iter()
                .map(|(path, item)| {
                    let served = [
                        (&item.get, Method::GET),
                        (&item.put, Method::PUT),
                        (&item.post, Method::POST),
                        (&item.delete, Method::DELETE),
                        (&item.patch, Method::PATCH),
                    ];
                    let methods = served.into_iter().filter(|(op, _)| op.is_some()).map(|(_, m)| m).collect();
                    (ResourceDef::new(path.as_str()), methods)
                })
                .collect();
            Built { json, paths }
        })
    }

    /// The methods served on `path`, when some route serves it at all.
    pub fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        let mut methods: Vec<Method> = self
            .built()
            .paths
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .flat_map(|(_, m)| m.iter().cloned())
            .collect();
        methods.dedup();
        (!methods.is_empty()).then_some(methods)
    }

    pub fn json(&self) -> &str {
        &self.built().json
    }
}

/// This description.
#[utoipa::path(operation_id = "getOpenApiDocument", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
#[get("/openapi.json")]
pub async fn openapi_json(published: web::Data<Published>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(published.json().to_string())
}

/// Readable docs: Swagger UI over `/openapi.json`.
#[utoipa::path(operation_id = "getApiDocs", tag = "operations",
    responses((status = 308, description = "Redirect to `/docs/`, where the page's relative links work")))]
#[get("/docs")]
pub async fn docs_index() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header(("Location", "/docs/")).finish()
}

static SWAGGER_CONFIG: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> =
    LazyLock::new(|| Arc::new(utoipa_swagger_ui::Config::from("/openapi.json")));

/// The Swagger UI files, served from the binary.
#[utoipa::path(operation_id = "getApiDocsFile", tag = "operations",
    params(("file" = String, Path, description = "empty for the page, else one of its files, e.g. `swagger-ui.css`")),
    responses(
        (status = 200, description = "The file", content_type = "text/html"),
        (status = 404, description = "No such file", body = ErrorBody),
    ))]
#[get("/docs/{file:.*}")]
pub async fn docs_file(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    match utoipa_swagger_ui::serve(&file, Arc::clone(&SWAGGER_CONFIG)) {
        Ok(Some(found)) => Ok(HttpResponse::Ok().content_type(found.content_type).body(found.bytes.into_owned())),
        Ok(None) => Err(ApiError::not_found("no such docs file")),
        Err(err) => Err(ApiError::internal(anyhow::anyhow!("swagger ui: {err}"))),
    }
}
