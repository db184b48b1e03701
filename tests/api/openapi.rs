//! The published API description: it covers exactly the routes the app
//! registers (both ways, and each documented route answers as a served route
//! does), it is OpenAPI 3.1 with schemas and examples, the hooks document
//! their codes, and `/docs` renders it from files the service serves itself.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::BTreeSet;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(app: &TestApp) -> Value {
    let res = app.get("/openapi.json").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    res.json().await.unwrap()
}

/// (METHOD, path) of every operation in the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

#[tokio::test]
async fn operation_ids_are_unique_and_readable_and_the_seed_hooks_keep_theirs() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut ids = BTreeSet::new();
    for (method, path) in operations(&doc) {
        let id = doc["paths"][&path][method.to_lowercase()]["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no id"));
        assert!(
            id.len() > 3
                && id.chars().all(|c| c.is_ascii_alphanumeric())
                && id.starts_with(|c: char| c.is_ascii_lowercase()),
            "{id}"
        );
        assert!(ids.insert(id.to_string()), "{id} is used twice");
    }
    // Far more than the admin routes: the document really is the whole app.
    assert!(ids.len() > 60, "only {} operations", ids.len());
    for (path, method, id) in [
        ("/hooks/cash_register/get_order_number/", "get", "getCashRegisterOrderNumber"),
        ("/hooks/cash_register/pre_order/", "post", "getCashRegisterPreOrder"),
        ("/hooks/cash_register/complete/", "post", "completeCashRegisterPayment"),
        ("/v0/cash-drawers", "get", "listCashDrawers"),
    ] {
        assert_eq!(doc["paths"][path][method]["operationId"], id);
    }
}

#[tokio::test]
async fn a_method_a_path_does_not_serve_answers_405_with_allow_and_the_error_body() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        (Method::PUT, "/api/v1/checkout/", "POST, GET, PATCH"),
        (Method::DELETE, "/v0/cash-drawers", "GET, POST"),
        (Method::GET, "/hooks/ivr/pre_order/", "POST"),
        (Method::PATCH, "/v0/cash-drawers/D1/counts/c1/_submit", "POST"),
        (Method::HEAD, "/health/live", "GET"),
    ] {
        let res = app.client.request(method.clone(), app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        let mut allowed: Vec<String> =
            res.headers()["allow"].to_str().unwrap().split(", ").map(str::to_string).collect();
        let mut expected: Vec<String> = allow.split(", ").map(str::to_string).collect();
        allowed.sort();
        expected.sort();
        assert_eq!(allowed, expected, "{method} {path}");
        if method != Method::HEAD {
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error_code"], "method_not_allowed", "{body}");
            assert!(body["request_id"].as_str().is_some_and(|id| !id.is_empty()), "{body}");
        }
    }
    assert_eq!(app.get("/no/such/route").await.status(), StatusCode::NOT_FOUND);
}

/// A documented path with sample values for its parameters.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("closing brace") + start;
        let name = &rest[start + 1..end];
        out.push_str(match name {
            "order_internal_id" | "delivery_id" => "1",
            "key" => "CASH_REGISTER_AUTH_CONF",
            "file" => "app.js",
            "action" => "_submit",
            "protocol" => "ivr",
            "kind" => "items",
            _ => "x1",
        });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Asks the running app for every documented operation: none may fall
/// through to the "no such route" answer of unregistered paths. This catches
/// a route documented (or recorded) but not actually wired into the server.
#[tokio::test]
async fn every_documented_operation_is_answered_by_a_route_of_the_running_app() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    // The probe itself can tell a missing route apart.
    let res = app.get("/no/such/route").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.json::<Value>().await.unwrap()["message"], "no such route");
    for (method, path) in operations(&doc) {
        let url = app.url(&concrete(&path));
        let res = app.client.request(Method::from_bytes(method.as_bytes()).unwrap(), &url).send().await.unwrap();
        let status = res.status();
        let body = res.text().await.unwrap();
        assert!(
            !(status == StatusCode::NOT_FOUND && body.contains("no such route")),
            "{method} {path} is documented but not served"
        );
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(status.as_u16() < 500 || status == StatusCode::SERVICE_UNAVAILABLE, "{method} {path}: {status} {body}");
    }
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_schemas_examples_and_the_hooks_codes() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for name in [
        "ErrorBody",
        "CompleteRequest",
        "CheckoutAnswer",
        "ProductWrite",
        "CardWrite",
        "DrawerCreate",
        "Monetary",
        "SettingWrite",
    ] {
        assert!(schemas.contains_key(name), "schema {name} missing");
        assert!(schemas[name]["properties"].is_object(), "{name} has no properties");
        assert!(schemas[name]["example"].is_object(), "{name} has no example");
    }
    assert!(schemas["CompleteRequest"]["example"]["transaction_id"].is_string(), "request examples are given");
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path} has no responses");
            if ["put", "patch"].contains(&method) && !path.contains("/counts/")
                || path == "/admin/session" && method == "post"
            {
                assert!(op.get("requestBody").is_some(), "{method} {path} documents no request body");
            }
        }
    }
    // Hooks answer 200 for every outcome: each documents its codes or messages.
    let hook = |path: &str| doc["paths"][path]["post"].clone();
    let complete = hook("/hooks/cash_register/complete/");
    let text = complete["description"].as_str().unwrap();
    for code in ["402", "403", "404", "411", "407", "408", "412", "405", "500"] {
        assert!(text.contains(&format!("`{code}`")), "complete does not document {code}");
    }
    // Hooks answer 200 for every outcome; only the edge shared by every route
    // answers otherwise (a body over 64 KiB, a NUL in the URL).
    let statuses: Vec<&String> = complete["responses"].as_object().unwrap().keys().collect();
    assert_eq!(statuses, ["200", "400", "413"], "hooks answer 200 but at the shared edge");
    // Bodies are documented as JSON only (SPEC §15); the form encoding is named.
    let content = complete["requestBody"]["content"].as_object().unwrap();
    assert_eq!(content.keys().collect::<Vec<_>>(), ["application/json"]);
    assert!(complete["requestBody"]["description"].as_str().unwrap().contains("x-www-form-urlencoded"));
    let pre_order = hook("/hooks/cash_register/pre_order/")["description"].as_str().unwrap().to_string();
    for code in ["403", "409", "410", "411", "407", "408", "402"] {
        assert!(pre_order.contains(&format!("`{code}`")), "pre_order does not document {code}");
    }
    let ivr = hook("/hooks/ivr/complete/")["description"].as_str().unwrap().to_string();
    for message in ["Input invalid", "User invalid", "Success must be true", "Amount mismatch", "Basket Changed"] {
        assert!(ivr.contains(message), "IVR complete does not document {message:?}");
    }
    // The catalog admin bodies of SPEC §7 are described.
    let product = &doc["paths"]["/admin/api/products/{sku}/"]["put"];
    assert!(product["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap()
        .ends_with("ProductWrite"));
    assert!(product["responses"]["201"].is_object() && product["responses"]["400"].is_object());
}

#[tokio::test]
async fn docs_render_the_document_with_files_served_by_the_service() {
    let app = spawn_app().await;
    let res = app.get("/docs").await;
    assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(res.headers()["location"], "/docs/");
    let res = app.get("/docs/").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    // Every file the page loads comes from here, none from the internet.
    let mut loaded = 0;
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            let target = &part[..part.find('"').unwrap()];
            assert!(!target.contains("//"), "the docs page loads {target} from elsewhere");
            let res = app.get(&format!("/docs/{}", target.trim_start_matches("./"))).await;
            assert_eq!(res.status(), StatusCode::OK, "{target}");
            loaded += 1;
        }
    }
    assert!(loaded >= 3, "the page should load its script and styles ({loaded})");
    let init = app.get("/docs/swagger-initializer.js").await.text().await.unwrap();
    assert!(init.contains("/openapi.json"), "{init}");
    assert!(!init.contains("https://"), "{init}");
    assert_eq!(app.get("/docs/no-such-file.js").await.status(), StatusCode::NOT_FOUND);
}
