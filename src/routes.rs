//! The route table. Every route is registered through [`Routes`], which
//! also records its method and path: actix keeps no public list of what it
//! serves, and the OpenAPI document must cover exactly what is registered
//! (tests compare the two both ways).

use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, Responder};

/// One registered route: its method and actix path pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteEntry {
    pub method: Method,
    pub pattern: String,
}

impl RouteEntry {
    /// The pattern as OpenAPI writes it: `{id:\d+}` becomes `{id}`.
    pub fn openapi_path(&self) -> String {
        let mut out = String::with_capacity(self.pattern.len());
        let (mut depth, mut in_regex) = (0usize, false);
        for c in self.pattern.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth = depth.saturating_sub(1),
                ':' if depth == 1 && !in_regex => in_regex = true,
                _ => {}
            }
            if in_regex && depth == 0 {
                in_regex = false;
            }
            if !in_regex {
                out.push(c);
            }
        }
        out
    }
}

/// Registers routes on an actix `ServiceConfig` (or nowhere, when only the
/// table is wanted) and records each one.
pub struct Routes<'a> {
    cfg: Option<&'a mut web::ServiceConfig>,
    table: Vec<RouteEntry>,
}

impl<'a> Routes<'a> {
    pub fn new(cfg: &'a mut web::ServiceConfig) -> Self {
        Routes { cfg: Some(cfg), table: Vec::new() }
    }

    /// A table that registers nothing: what [`Routes::new`] would register.
    pub fn recording() -> Routes<'static> {
        Routes { cfg: None, table: Vec::new() }
    }

    pub fn table(&self) -> &[RouteEntry] {
        &self.table
    }

    /// Registers `handler` for `method` on `path`.
    pub fn route<F, Args>(&mut self, method: Method, path: &str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.table.push(RouteEntry { method: method.clone(), pattern: path.to_string() });
        if let Some(cfg) = self.cfg.as_deref_mut() {
            cfg.route(path, web::method(method).to(handler));
        }
        self
    }

    pub fn get<F, Args>(&mut self, path: &str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::GET, path, handler)
    }

    pub fn post<F, Args>(&mut self, path: &str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::POST, path, handler)
    }

    pub fn put<F, Args>(&mut self, path: &str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::PUT, path, handler)
    }

    pub fn patch<F, Args>(&mut self, path: &str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::PATCH, path, handler)
    }

    pub fn delete<F, Args>(&mut self, path: &str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::DELETE, path, handler)
    }

    /// Lets a module register its own routes: `routes.configure(hooks::routes)`.
    pub fn configure(&mut self, f: impl FnOnce(&mut Self)) -> &mut Self {
        f(self);
        self
    }
}

/// Every route the application registers, in registration order.
pub fn table() -> Vec<RouteEntry> {
    let mut routes = Routes::recording();
    crate::startup::routes(&mut routes);
    routes.table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_segments_are_dropped_from_openapi_paths() {
        let entry = |p: &str| RouteEntry { method: Method::GET, pattern: p.to_string() }.openapi_path();
        assert_eq!(entry(r"/ws/v1/invoices/{order_internal_id:\d+}.pdf"), "/ws/v1/invoices/{order_internal_id}.pdf");
        assert_eq!(entry("/v0/cash-drawers/{drawer_id}/counts/{count_id}"), "/v0/cash-drawers/{drawer_id}/counts/{count_id}");
        assert_eq!(entry("/docs/{file:.*}"), "/docs/{file}");
        assert_eq!(entry("/health/live"), "/health/live");
    }
}
