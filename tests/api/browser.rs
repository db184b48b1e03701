//! The admin page in a real browser: headless Chromium driven over the W3C
//! WebDriver protocol by `chromedriver` (Debian packages `chromium` and
//! `chromium-driver`; `scripts/test.sh` installs them). An operator signs in,
//! rotates a cash register credential, sees validation messages next to the
//! fields and the change in the history; the hooks then accept the new
//! credential over HTTP. The test fails, never skips, when the browser cannot
//! run: CI must not go green without it.
//!
//! The WebDriver client is the few calls this test needs, over reqwest.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const WAIT: Duration = Duration::from_secs(30);

fn chromium_binary() -> String {
    std::env::var("CHROMIUM_BIN").unwrap_or_else(|_| "/usr/bin/chromium".to_string())
}

fn chromedriver_binary() -> String {
    std::env::var("CHROMEDRIVER_BIN").unwrap_or_else(|_| "chromedriver".to_string())
}

/// A chromedriver process and one browser session; both end when dropped.
struct Browser {
    http: reqwest::Client,
    base: String,
    port: u16,
    session: String,
    driver: std::process::Child,
    profile: std::path::PathBuf,
}

impl Browser {
    async fn start() -> Browser {
        let binary = chromium_binary();
        assert!(
            std::path::Path::new(&binary).exists(),
            "{binary} not found: install Debian's chromium and chromium-driver (scripts/test.sh does) or set CHROMIUM_BIN"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = std::process::Command::new(chromedriver_binary())
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start chromedriver ({e}): install Debian's chromium-driver (scripts/test.sh does)")
            });
        let profile = std::env::temp_dir().join(format!("cashdesk-chromium-{}", uuid::Uuid::new_v4().simple()));
        let http = reqwest::Client::builder().timeout(Duration::from_secs(90)).build().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + WAIT;
        loop {
            let ready = match http.get(format!("{base}/status")).send().await {
                Ok(res) => res.json::<Value>().await.map(|v| v["value"]["ready"] == true).unwrap_or(false),
                Err(_) => false,
            };
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not become ready on port {port}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,1000",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([format!("--user-data-dir={}", profile.display())])
        .collect::<Vec<_>>();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": binary, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let res = http.post(format!("{base}/session")).json(&capabilities).send().await.expect("new WebDriver session");
        let body: Value = res.json().await.unwrap();
        let session = body["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("Chromium did not start under chromedriver: {body}"))
            .to_string();
        Browser { http, base, port, session, driver, profile }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut req = self.http.request(method, url);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("WebDriver request");
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "WebDriver {path}: {status} {body}");
        body["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None).await.as_str().unwrap().to_string()
    }

    async fn script(&self, script: &str, args: Value) -> Value {
        self.call(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": args}))).await
    }

    /// The first visible element matching `css`, waiting for it.
    async fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let found = self
                .script(
                    "const e = document.querySelector(arguments[0]); return e && e.getClientRects().length > 0 ? e : null;",
                    json!([css]),
                )
                .await;
            if let Some(id) = found.get(ELEMENT).and_then(Value::as_str) {
                return id.to_string();
            }
            if !found.is_null() {
                panic!("unexpected element reference {found}");
            }
            if Instant::now() > deadline {
                let state = self.script("return [document.readyState, document.body ? document.body.innerText.slice(0, 300) : null, String(document.querySelector(arguments[0]))];", json!([css])).await;
                panic!("no visible element {css} ({state}); the page logged {:?}", self.console().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/clear"), Some(json!({}))).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({"text": text}))).await;
    }

    async fn text_of(&self, css: &str) -> String {
        self.script("const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", json!([css]))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits until the text of `css` contains `expected`.
    async fn wait_text(&self, css: &str, expected: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self.text_of(css).await;
            if text.contains(expected) {
                return text;
            }
            if Instant::now() > deadline {
                panic!("{css} says {text:?}, not {expected:?}; the page logged {:?}", self.console().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn count(&self, css: &str) -> u64 {
        self.script("return document.querySelectorAll(arguments[0]).length;", json!([css])).await.as_u64().unwrap()
    }

    async fn screenshot(&self, path: &std::path::Path) {
        use base64::Engine;
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    /// Messages the page logged to the console (CSP violations show up here).
    async fn console(&self) -> Vec<String> {
        let log = self.call(reqwest::Method::POST, "/se/log", Some(json!({"type": "browser"}))).await;
        log.as_array()
            .map(|l| l.iter().map(|e| e["message"].as_str().unwrap_or("").to_string()).collect())
            .unwrap_or_default()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ends the session (and Chromium with it) even when the test failed.
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let request = format!(
                "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                self.session, self.port
            );
            if stream.write_all(request.as_bytes()).is_ok() {
                let _ = stream.read_to_end(&mut Vec::new());
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// The pre_order hook's code for these credentials and no order number:
/// "409" when they are accepted, "403" when not.
async fn hook_login(app: &TestApp, username: &str, password: &str) -> String {
    let answer = app
        .hook(
            "/hooks/cash_register/pre_order/",
            &json!({"username": username, "password": password, "order_number": ""}),
        )
        .await;
    answer["error_code"].as_str().unwrap().to_string()
}

const XSS_USER: &str = "<img src=x id=xss onerror=document.title='pwned'>";

#[tokio::test]
async fn an_operator_rotates_a_cash_register_credential_in_the_browser() {
    let app = spawn_app().await;
    app.seed().await;
    // A hostile-looking value an operator once typed: it must show as text, never run.
    app.set_cash_register_conf(json!({
        "credentials": [{"username": CASHIER.0, "password": "********"}, {"username": XSS_USER, "password": "x"}],
        "installment_enabled": false, "shipping_sku": "SHIP-01",
    }))
    .await;
    let (_, number) = app.pre_order(json!([{"sku": "SKU-1", "quantity": 1}])).await;
    assert_eq!(app.complete(&number, "TXN-BROWSER", "99.99").await["result"], "0");

    let browser = Browser::start().await;
    browser.goto(&app.url("/admin/")).await;

    // Sign in: a wrong token is refused next to the field, the right one lets us in.
    browser.type_into("#token", "not-the-admin-token").await;
    browser.click("#sign-in-button").await;
    browser.wait_text("#sign-in-error", "not the admin token").await;
    browser.type_into("#token", ADMIN_TOKEN).await;
    browser.click("#sign-in-button").await;
    browser.find("#cr-rows tr").await;
    assert!(!browser.url().await.contains(ADMIN_TOKEN), "the token never goes into a URL");
    assert_eq!(browser.count("#cr-rows tr").await, 2);
    let cookie_visible = browser.script("return document.cookie;", json!([])).await;
    assert!(!cookie_visible.as_str().unwrap_or("").contains("cashdesk_admin"), "the session cookie is HttpOnly");

    // Add cashier02 without a password: the page says so next to that field.
    browser.click("#cr-add").await;
    browser.type_into("#cr-rows tr:nth-child(3) .username", "cashier02").await;
    browser.click("#cr-save").await;
    browser.wait_text("[data-field=\"credentials[2].password\"]", "password is required").await;

    // With the password it saves; the other pairs keep their stored passwords untouched.
    browser.type_into("#cr-rows tr:nth-child(3) .password", "rotated-secret").await;
    browser.click("#cr-save").await;
    browser.wait_text("#cr-form .form-ok", "Saved: version").await;
    let history = browser
        .wait_text("details[data-key=CASH_REGISTER_AUTH_CONF] .history-entry", "added credential cashier02")
        .await;
    assert!(history.contains("admin-page"), "{history}");
    assert_eq!(hook_login(&app, "cashier02", "rotated-secret").await, "409", "the hooks accept the new pair");
    assert_eq!(hook_login(&app, CASHIER.0, CASHIER.1).await, "409", "the old pair still works during the rotation");

    // Finish the rotation: remove the old pair.
    browser.click("#cr-rows tr:nth-child(1) button.remove").await;
    browser.click("#cr-save").await;
    browser.wait_text("details[data-key=CASH_REGISTER_AUTH_CONF] .history-entry", "removed credential cashier01").await;
    assert_eq!(hook_login(&app, CASHIER.0, CASHIER.1).await, "403", "the removed pair is refused");
    assert_eq!(hook_login(&app, "cashier02", "rotated-secret").await, "409");

    // Every value is text: the hostile username shows literally and creates no element.
    let page_text = browser.text_of("details[data-key=CASH_REGISTER_AUTH_CONF] .history-list").await;
    assert!(page_text.contains(XSS_USER), "{page_text}");
    assert_eq!(browser.count("#xss").await, 0);
    assert_ne!(browser.script("return document.title;", json!([])).await, "pwned");

    // A server-side validation message lands next to its field.
    browser.click("#wh-add").await;
    browser.type_into("#wh-rows tr:nth-child(1) .url", "ftp://example.com/hook").await;
    browser.type_into("#wh-rows tr:nth-child(1) .secret", "whsec_c2hvcnQ=").await;
    browser.click("#wh-save").await;
    browser.wait_text("[data-field=\"endpoints[0].url\"]", "must be an http:// or https:// URL").await;

    // The lists: the payment made at the till shows up.
    browser.click("#tabs button[data-tab=payments]").await;
    browser.wait_text("#payments-table", &number).await;
    browser.click("#tabs button[data-tab=drawers]").await;
    browser.wait_text("#drawers-table", "No cash drawers yet").await;

    // Lockouts: a machine guessing passwords shows up (its username as text) and is cleared.
    let attacker = client_from("127.0.0.2");
    for _ in 0..cashdesk::lockouts::MAX_FAILURES_PER_PAIR {
        let guess = json!({"username": XSS_USER, "password": "guess", "order_number": "1"});
        assert_eq!(app.hook_from(&attacker, "/hooks/cash_register/pre_order/", &guess).await["error_code"], "403");
    }
    browser.click("#tabs button[data-tab=lockouts]").await;
    let row = browser.wait_text("#lockouts-table", "127.0.0.2").await;
    assert!(row.contains(XSS_USER), "{row}");
    assert_eq!(browser.count("#xss").await, 0);
    browser.click("#lockouts-table button.clear").await;
    browser.wait_text("#lockouts-table", "Nobody is locked out").await;
    assert!(app.admin_get("/admin/api/lockouts/").await.json::<Value>().await.unwrap()["lockouts"]
        .as_array()
        .unwrap()
        .is_empty());

    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("admin-page.png");
    browser.click("#tabs button[data-tab=settings]").await;
    browser.find("#cr-rows tr").await;
    browser.screenshot(&shot).await;

    let csp_errors: Vec<String> = browser
        .console()
        .await
        .into_iter()
        .filter(|m| m.contains("Content Security Policy") || m.contains("Refused"))
        .collect();
    assert!(csp_errors.is_empty(), "the page breaks its own policy: {csp_errors:?}");

    // Signing out ends the session for every request.
    browser.click("#sign-out").await;
    browser.find("#token").await;
    let settings = app.client.get(app.url("/admin/api/settings/")).send().await.unwrap();
    assert_eq!(settings.status(), StatusCode::UNAUTHORIZED);
}
