//! `/hooks/cash_register/…` (SPEC §5): order numbers, pre-order look-ups and
//! payment completion for POS terminals.

use super::body::{self, Field};
use super::{body_bytes, ok_json};
use crate::checkout::model::{CardView, PreOrder};
use crate::checkout::store::Registered;
use crate::checkout::{self, check_pre_order, Mirror, PreOrderCheck, Session};
use crate::context::AppContext;
use crate::credentials;
use crate::lockouts::{self, Login, Protocol};
use crate::money::fmt2;
use crate::order_number::{Bucket, OrderNumber};
use crate::order_numbers;
use crate::payments::promotions::{Promotion, DEFAULT_DESCRIPTION, MAX_DESCRIPTION};
use crate::payments::{self, Offer, Refusal, Source};
use actix_web::{get, post};
use actix_web::{web, HttpRequest, HttpResponse};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

const INVALID_CREDENTIALS: &str = "Invalid credentials";
const NOT_IN_CACHE: &str = "Order number not found in the pre-order cache";
const SESSION_GONE: &str = "Pre-order session not found";
const NO_PAYMENT_OPTION: &str = "No payment option is set on the pre-order";
const NOT_CASH_REGISTER: &str = "Payment option is not of cash register type";
const BASKET_CHANGED: &str = "Basket has changed since the pre-order was created";
const UNAVAILABLE: &str = "Service temporarily unavailable; retry";

/// `POST /hooks/cash_register/pre_order/`
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"order_number": "0000015933", "username": "cashier01", "password": "secret"}))]
pub struct PreOrderRequest {
    #[serde(default)]
    #[schema(value_type = String)]
    pub order_number: Field<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub username: Field<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub password: Field<String>,
}

/// `POST /hooks/cash_register/complete/`
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"transaction_id": "TXN-1", "order_number": "0000015933", "username": "cashier01", "password": "secret",
    "amount": "249.99", "discounted_amount": "239.99", "terminal_code": "TERM-001",
    "promotions": [{"benefit_amount": "10.00", "description": "Cash Register Offer", "affected_basket_items": [1]}]}))]
pub struct CompleteRequest {
    /// At most 128 characters; a retry with the same one answers the same success.
    #[serde(default)]
    #[schema(value_type = String)]
    pub transaction_id: Field<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub order_number: Field<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub username: Field<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub password: Field<String>,
    /// A decimal string, e.g. `"249.99"` (an exact JSON number is accepted too).
    #[serde(default)]
    #[schema(value_type = String)]
    pub amount: Field<Decimal>,
    /// Required with promotions: what is paid after them.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub discounted_amount: Field<Decimal>,
    /// At most 128 characters.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub terminal_code: Field<String>,
    /// POS promotions (a form sends them as JSON text).
    #[serde(default)]
    #[schema(value_type = Option<Vec<PromotionWrite>>)]
    pub promotions: Field<Vec<PromotionWrite>>,
}

/// A promotion the POS applied.
#[derive(Deserialize, ToSchema)]
pub struct PromotionWrite {
    /// A decimal string, e.g. `"10.00"`.
    #[serde(default)]
    #[schema(value_type = String)]
    pub benefit_amount: Field<Decimal>,
    /// At most 512 characters; default `Cash Register Offer`.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 512)]
    pub description: Field<String>,
    /// The basket item ids it applies to; empty or absent: every item.
    #[serde(default)]
    #[schema(value_type = Option<Vec<i64>>)]
    pub affected_basket_items: Field<Vec<i64>>,
}

/// A failed answer of `get_order_number` and `pre_order`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"error_code": "410", "error_message": "Order number not found in the pre-order cache"}))]
pub struct HookError {
    pub error_code: String,
    pub error_message: String,
}

/// The answer of `get_order_number` (HTTP 200 always).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum OrderNumberAnswer {
    Issued(OrderNumberIssued),
    NotCashRegister(OrderNumberNotRegistered),
    Refused(HookError),
}

/// A new order number, mapped to the session's pre-order for exactly 24 hours.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"order_number": "0000015933", "expires_at": "2026-11-28T12:00:00Z"}))]
pub struct OrderNumberIssued {
    pub order_number: String,
    /// When the number's mapping ends (RFC 3339, UTC): it then answers not found.
    #[serde(serialize_with = "rfc3339_seconds")]
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

fn rfc3339_seconds<S: serde::Serializer>(at: &chrono::DateTime<chrono::Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// `408`: the payment option is not of cash register type; the number drawn is not registered.
#[derive(Serialize, ToSchema)]
pub struct OrderNumberNotRegistered {
    pub order_number: String,
    pub error_code: String,
    pub error_message: String,
}

/// The answer of `pre_order` (HTTP 200 always).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum PreOrderAnswer {
    Found(Box<PreOrderFound>),
    Refused(HookError),
}

/// The pre-order of a number (spliced from the stored pre-order bytes, in this shape).
#[derive(Serialize, ToSchema)]
pub struct PreOrderFound {
    pub order_number: String,
    pub pre_order: PreOrder,
    /// When installments are enabled and the pre-order has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card: Option<CardView>,
}

/// `"0"`: paid.
#[derive(Serialize, ToSchema)]
pub enum Paid {
    #[serde(rename = "0")]
    Zero,
}

/// `result` of a complete: `"0"` (a string) when paid, else the integer code.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum CompleteResult {
    Paid(Paid),
    Refused(u16),
}

/// The answer of `complete` (HTTP 200 always), every key present.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"transaction_id": "TXN-1", "order_number": "0000015933", "result": "0", "error_message": "", "amount": "199.98",
    "staff_id": 17, "staff_email": "a@b.c", "store_id": "IST-01", "shipping_sku": "SHIP-01"}))]
pub struct CompleteAnswer {
    pub transaction_id: Option<String>,
    /// Null for 402-payload, 403 and 404.
    pub order_number: Option<String>,
    pub result: CompleteResult,
    pub error_message: String,
    pub amount: Option<String>,
    pub staff_id: Option<i64>,
    pub staff_email: Option<String>,
    pub store_id: Option<String>,
    pub shipping_sku: Option<String>,
}

/// A cash register answer code (SPEC §5): text (`"410"`) in the answers of
/// `get_order_number` and `pre_order`, a number in `complete`'s `result`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Code(u16);

impl Code {
    /// An invalid payload (complete), or a basket changed since the number was issued.
    pub const BAD_PAYLOAD_OR_BASKET: Code = Code(402);
    pub const CREDENTIALS: Code = Code(403);
    /// Complete: the number is not in the cache, or paid by another transaction.
    pub const NOT_FOUND: Code = Code(404);
    pub const AMOUNT_MISMATCH: Code = Code(405);
    pub const NO_PAYMENT_OPTION: Code = Code(407);
    pub const NOT_CASH_REGISTER: Code = Code(408);
    pub const NUMBER_MISSING: Code = Code(409);
    /// Pre-order: the number is not in the cache.
    pub const NOT_IN_CACHE: Code = Code(410);
    pub const SESSION_GONE: Code = Code(411);
    pub const OFFER: Code = Code(412);
    /// Postgres or Redis unavailable: nothing recorded; retry.
    pub const UNAVAILABLE: Code = Code(500);

    pub fn number(self) -> u16 {
        self.0
    }
}

fn error(code: Code, message: &str) -> HttpResponse {
    let answer = HookError { error_code: code.0.to_string(), error_message: message.to_string() };
    ok_json(serde_json::to_string(&answer).unwrap_or_default())
}

/// True when `username`/`password` were sent as text and are an active `CASH_REGISTER_AUTH_CONF` pair.
async fn authorized(ctx: &AppContext, username: &Field<String>, password: &Field<String>, login: &Login) -> bool {
    let (Some(username), Some(password)) = (username.given(), password.given()) else {
        return false;
    };
    credentials::cash_register(ctx, login, username, password).await
}

/// The credential error, counted as a failed login (also for a locked-out
/// caller with the right password).
async fn refuse_login(ctx: &AppContext, login: &Login) -> HttpResponse {
    lockouts::record_failure(ctx, login).await;
    error(Code::CREDENTIALS, INVALID_CREDENTIALS)
}

/// `GET /hooks/cash_register/get_order_number/`
#[utoipa::path(operation_id = "getCashRegisterOrderNumber", tag = "cash register hooks",
    params(("X-Checkout-Session" = Option<String>, Header, description = "The session id (or the checkout_session cookie)")),
    description = "Generates an order number unique forever and maps it to the session's pre-order for exactly 24 hours.\n\nAnswers (HTTP 200 always): `{\"order_number\", \"expires_at\"}` (RFC 3339, UTC: when the mapping ends); `411` `Pre-order session not found`; `407` no payment option; `408` payment option not cash register.",
    responses(
        (status = 200, description = "Always 200. Success: {order_number, expires_at}. Failures: 411 no or unknown session; 407 no payment option; 408 payment option not cash register (order_number given, not registered); 500 service unavailable, retry", body = OrderNumberAnswer, example = json!({"order_number": "0000015933", "expires_at": "2026-11-28T12:00:00Z"})),
    ))]
#[get("/hooks/cash_register/get_order_number/")]
pub async fn get_order_number(ctx: web::Data<AppContext>, req: HttpRequest) -> HttpResponse {
    let Some(session_id) = checkout::session_id_from(&req) else {
        return error(Code::SESSION_GONE, SESSION_GONE);
    };
    let (payment_type, session) = match checkout::store::issue_facts(&ctx, &session_id).await {
        Ok(Some(facts)) => facts,
        Ok(None) => return error(Code::SESSION_GONE, SESSION_GONE),
        Err(err) => {
            log::error!("get_order_number: redis: {err}");
            return error(Code::UNAVAILABLE, UNAVAILABLE);
        }
    };
    if payment_type.is_empty() {
        return error(Code::NO_PAYMENT_OPTION, NO_PAYMENT_OPTION);
    }
    let cash_register = payment_type == crate::catalog::CASH_REGISTER;
    let snapshot = order_numbers::Snapshot::of(&session);
    let ttl = i64::try_from(ctx.config.order_number_ttl_seconds).unwrap_or(i64::MAX);
    // A number is drawn twice only when the sequence went back (a failover to
    // an asynchronous standby that had not seen the latest draws). A number
    // recorded already (live, paid or ended: its row is kept) or still live
    // in Redis is skipped, never overwritten, and the next one drawn.
    let bucket = Bucket::of_session(&session_id);
    for _ in 0..ORDER_NUMBER_ATTEMPTS {
        // One statement draws the number and records it, with its expiry and basket.
        let drawn = match order_numbers::draw(&ctx.db, bucket, &session_id, ttl, cash_register, &snapshot).await {
            Ok(Some(drawn)) => drawn,
            Ok(None) => {
                log::error!("get_order_number: the sequence drew a number recorded already; drawing another");
                continue;
            }
            Err(err) => {
                log::error!("get_order_number: cannot draw an order number: {err}");
                return error(Code::UNAVAILABLE, UNAVAILABLE);
            }
        };
        let order_number = drawn.number;
        if !cash_register {
            let answer = OrderNumberAnswer::NotCashRegister(OrderNumberNotRegistered {
                order_number: order_number.to_string(),
                error_code: Code::NOT_CASH_REGISTER.number().to_string(),
                error_message: NOT_CASH_REGISTER.into(),
            });
            return ok_json(serde_json::to_string(&answer).unwrap_or_default());
        }
        let registered = checkout::store::register_order_number(&ctx, &order_number, &session_id).await;
        if !matches!(registered, Ok(Registered::Registered)) {
            // Never mapped: it must not be announced as expired later.
            void(&ctx, &order_number).await;
        }
        match registered {
            Ok(Registered::Registered) => {
                let answer = OrderNumberAnswer::Issued(OrderNumberIssued {
                    order_number: order_number.to_string(),
                    expires_at: drawn.expires_at,
                });
                return ok_json(serde_json::to_string(&answer).unwrap_or_default());
            }
            Ok(Registered::SessionGone) => return error(Code::SESSION_GONE, SESSION_GONE),
            Ok(Registered::NumberTaken) => {
                log::error!("get_order_number: {order_number} is live already; drawing another")
            }
            Err(err) => {
                log::error!("get_order_number: redis: {err}");
                return error(Code::UNAVAILABLE, UNAVAILABLE);
            }
        }
    }
    log::error!("get_order_number: {ORDER_NUMBER_ATTEMPTS} numbers drawn in a row were live already");
    error(Code::UNAVAILABLE, UNAVAILABLE)
}

/// Numbers drawn for one `get_order_number` before it gives up with the
/// retry answer (each skipped number was live or paid already).
pub const ORDER_NUMBER_ATTEMPTS: usize = 5;

/// Records that a drawn number was not mapped after all (a failure is only
/// logged: the number then gets an expiry notice nobody expects, no harm to money).
async fn void(ctx: &AppContext, order_number: &OrderNumber) {
    if let Err(err) = order_numbers::void(&ctx.db, order_number).await {
        log::error!("get_order_number: {order_number} not marked void: {err}");
    }
}

/// `POST /hooks/cash_register/pre_order/`: the hot path. One Redis round trip,
/// no Postgres, and the stored pre-order bytes spliced into the answer.
#[utoipa::path(operation_id = "getCashRegisterPreOrder", tag = "cash register hooks",
    request_body(content = PreOrderRequest, description = "JSON; a form (`application/x-www-form-urlencoded`) with the same fields is accepted too"),
    description = "Fetches the pre-order of an order number at the till. Checks in this order, the first failure answers `{\"error_code\", \"error_message\"}`: `403` bad credentials (also a missing or unparseable body, or a locked-out login) → `409` order number missing or empty → `410` not in the order-number cache (also a mistyped number: a wrong Luhn check digit, answered without a look-up) → `411` pre-order session gone → `407` no payment option → `408` payment option not cash register → `402` basket changed; `500` service unavailable (retry). Success: `{\"order_number\", \"pre_order\"}` plus `card` when installments are enabled and selected.",
    responses(
        (status = 200, description = "Always 200: the pre-order, or error_code and error_message", body = PreOrderAnswer, example = json!({"error_code": "410", "error_message": "Order number not found"})),
    ))]
#[post("/hooks/cash_register/pre_order/")]
pub async fn look_up_pre_order(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
) -> HttpResponse {
    let request = body_bytes(body).and_then(|b| body::read::<PreOrderRequest>(&req, &b));
    let username = request.as_ref().and_then(|r| r.username.given()).map(String::as_str);
    let login = Login::new(&ctx, Protocol::CashRegister, &req, username);
    let request = match request {
        Some(r) if authorized(&ctx, &r.username, &r.password, &login).await => r,
        _ => return refuse_login(&ctx, &login).await,
    };
    let Some(order_number) = request.order_number.given().map(|n| n.trim()).filter(|n| !n.is_empty()) else {
        // A locked-out caller learns nothing, not even that its password was right.
        return match lockouts::refuse_if_locked(&ctx, &login).await {
            Ok(true) => error(Code::CREDENTIALS, INVALID_CREDENTIALS),
            Ok(false) => error(Code::NUMBER_MISSING, "Order number is missing"),
            Err(err) => {
                log::error!("pre_order: redis: {err}");
                error(Code::UNAVAILABLE, UNAVAILABLE)
            }
        };
    };
    let Some(order_number) = OrderNumber::parse(order_number) else {
        // Mistyped (a wrong check digit) or not a number at all: it names no
        // order, and no look-up is needed to say so. A locked-out caller
        // still learns nothing.
        return match lockouts::refuse_if_locked(&ctx, &login).await {
            Ok(true) => error(Code::CREDENTIALS, INVALID_CREDENTIALS),
            _ => error(Code::NOT_IN_CACHE, NOT_IN_CACHE),
        };
    };
    let found = match check_pre_order(&ctx, &order_number, &login, &[Mirror::Doc, Mirror::Card]).await {
        Ok(PreOrderCheck::LockedOut) => return refuse_login(&ctx, &login).await,
        Ok(PreOrderCheck::NotInCache) => return error(Code::NOT_IN_CACHE, NOT_IN_CACHE),
        Ok(PreOrderCheck::SessionGone) => return error(Code::SESSION_GONE, SESSION_GONE),
        Ok(PreOrderCheck::NoPaymentOption) => return error(Code::NO_PAYMENT_OPTION, NO_PAYMENT_OPTION),
        Ok(PreOrderCheck::NotCashRegister) => return error(Code::NOT_CASH_REGISTER, NOT_CASH_REGISTER),
        Ok(PreOrderCheck::Usable(found)) if found.basket_changed() => {
            return error(Code::BAD_PAYLOAD_OR_BASKET, BASKET_CHANGED)
        }
        Ok(PreOrderCheck::Usable(found)) => found,
        Err(err) => {
            log::error!("pre_order: redis: {err}");
            return error(Code::UNAVAILABLE, UNAVAILABLE);
        }
    };
    let (doc, card) = (found.doc.unwrap_or_default(), found.card.unwrap_or_default());
    let with_card =
        !card.is_empty() && ctx.settings.snapshot().cash_register.as_ref().is_some_and(|c| c.installment_enabled);
    let number = Value::from(order_number.as_str()).to_string();
    let mut out = String::with_capacity(doc.len() + card.len() + number.len() + 40);
    out.push_str(r#"{"order_number":"#);
    out.push_str(&number);
    out.push_str(r#","pre_order":"#);
    out.push_str(&doc);
    if with_card {
        out.push_str(r#","card":"#);
        out.push_str(&card);
    }
    out.push('}');
    ok_json(out)
}

/// A validated complete request.
struct Complete {
    transaction_id: String,
    order_number: String,
    amount: Decimal,
    discounted_amount: Option<Decimal>,
    terminal_code: Option<String>,
    promotions: Vec<Promotion>,
}

/// A failed complete: the result code and its message.
struct Failure {
    code: Code,
    message: String,
    /// Echoed once the order number was found in the cache.
    order_number: Option<String>,
}

fn fail(code: Code, message: impl Into<String>) -> Failure {
    Failure { code, message: message.into(), order_number: None }
}

impl Failure {
    fn with_number(mut self, order_number: &str) -> Self {
        self.order_number = Some(order_number.to_string());
        self
    }

    fn answer(self) -> HttpResponse {
        let answer = CompleteAnswer {
            transaction_id: None,
            order_number: self.order_number,
            result: CompleteResult::Refused(self.code.number()),
            error_message: self.message,
            amount: None,
            staff_id: None,
            staff_email: None,
            store_id: None,
            shipping_sku: None,
        };
        ok_json(serde_json::to_string(&answer).unwrap_or_default())
    }
}

fn validate(request: &CompleteRequest) -> Result<Complete, String> {
    let required = |name: &str, field: &Field<String>| {
        field
            .given()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or(format!("{name} is required"))
    };
    let transaction_id = required("transaction_id", &request.transaction_id)?;
    let order_number = required("order_number", &request.order_number)?;
    required("username", &request.username)?;
    required("password", &request.password)?;
    if transaction_id.len() > 128 {
        return Err("transaction_id must be at most 128 characters".into());
    }
    let amount = match &request.amount {
        Field::Given(amount) => *amount,
        Field::Absent => return Err("amount is required".into()),
        Field::Invalid(_) => return Err("amount must be a decimal string".into()),
    };
    let discounted_amount = match &request.discounted_amount {
        Field::Given(amount) => Some(*amount),
        Field::Absent => None,
        Field::Invalid(_) => return Err("discounted_amount must be a decimal string".into()),
    };
    if amount < Decimal::ZERO || discounted_amount.is_some_and(|d| d < Decimal::ZERO) {
        return Err("amounts must not be negative".into());
    }
    let terminal_code = match &request.terminal_code {
        Field::Given(t) if t.len() > 128 => return Err("terminal_code must be at most 128 characters".into()),
        Field::Given(t) => Some(t.clone()),
        Field::Invalid(_) => return Err("terminal_code must be a string".into()),
        Field::Absent => None,
    };
    let promotions = match &request.promotions {
        Field::Absent => Vec::new(),
        Field::Given(items) => items.iter().enumerate().map(|(i, p)| promotion(i, p)).collect::<Result<_, _>>()?,
        Field::Invalid(why) if why.starts_with('[') => return Err(format!("promotions{why}")),
        Field::Invalid(why) => return Err(format!("promotions {why}")),
    };
    if !promotions.is_empty() && discounted_amount.is_none() {
        return Err("discounted_amount is required with promotions".into());
    }
    Ok(Complete { transaction_id, order_number, amount, discounted_amount, terminal_code, promotions })
}

fn promotion(i: usize, sent: &PromotionWrite) -> Result<Promotion, String> {
    let benefit_amount =
        *sent.benefit_amount.given().ok_or(format!("promotions[{i}].benefit_amount must be a decimal string"))?;
    let description = match &sent.description {
        Field::Absent => DEFAULT_DESCRIPTION.to_string(),
        Field::Given(s) if s.chars().count() > MAX_DESCRIPTION => {
            return Err(format!("promotions[{i}].description is longer than {MAX_DESCRIPTION} characters"))
        }
        Field::Given(s) if s.is_empty() => DEFAULT_DESCRIPTION.to_string(),
        Field::Given(s) => s.clone(),
        Field::Invalid(_) => return Err(format!("promotions[{i}].description must be a string")),
    };
    let affected_basket_items = match &sent.affected_basket_items {
        Field::Absent => Vec::new(),
        Field::Given(ids) => ids.clone(),
        Field::Invalid(why) => return Err(format!("promotions[{i}].affected_basket_items: {why}")),
    };
    Ok(Promotion { benefit_amount, description, affected_basket_items })
}

/// `POST /hooks/cash_register/complete/`: checks in the SPEC's order, then
/// records the payment durably before answering `"0"`.
#[utoipa::path(operation_id = "completeCashRegisterPayment", tag = "cash register hooks",
    request_body(content = CompleteRequest, description = "JSON; a form (`application/x-www-form-urlencoded`) with the same fields is accepted too (`promotions` as JSON text)"),
    description = "Records the payment (committed in Postgres before `\"0\"` is answered); the order is created in the background, exactly once. Checks in this order: `402` invalid payload (missing field, non-decimal amount, promotions without `discounted_amount`, description too long) → `403` credentials → `404` order number not in the cache (or paid by another transaction) → `411` session gone → `407` no payment option → `408` not cash register → `412` `Error occurred while applying offer: <reason>` → `405` amount (or `discounted_amount` with promotions) differs from the unpaid amount → `402` basket changed; `500` service unavailable (nothing recorded; retry with the same transaction_id). A repeated call with the same transaction_id after success answers the same success again. On failure `transaction_id`, `amount`, `staff_id`, `staff_email`, `store_id`, `shipping_sku` are null and `order_number` is null for 402-payload, 403 and 404.",
    responses(
        (status = 200, description = "Always 200, every key present: result \"0\" on success, else the integer code", body = CompleteAnswer, example = json!({"transaction_id": "TXN-1", "order_number": "0000015933", "result": "0", "error_message": "", "amount": "199.98", "staff_id": 17, "staff_email": "a@b.c", "store_id": "IST-01", "shipping_sku": "SHIP-01"})),
    ))]
#[post("/hooks/cash_register/complete/")]
pub async fn complete_payment(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
) -> HttpResponse {
    let answer = match complete_inner(&ctx, &req, body).await {
        Ok(success) => {
            ctx.metrics.payments.with_label_values(&["cash_register", "0"]).inc();
            return ok_json(success.to_string());
        }
        Err(failure) => failure,
    };
    ctx.metrics.payments.with_label_values(&["cash_register", &answer.code.number().to_string()]).inc();
    answer.answer()
}

async fn complete_inner(
    ctx: &AppContext,
    req: &HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
) -> Result<Value, Failure> {
    let sent = body_bytes(body).and_then(|b| body::read::<CompleteRequest>(req, &b)).ok_or_else(|| {
        fail(Code::BAD_PAYLOAD_OR_BASKET, "Invalid request payload: the body must be a JSON object or a form")
    })?;
    let request =
        validate(&sent).map_err(|why| fail(Code::BAD_PAYLOAD_OR_BASKET, format!("Invalid request payload: {why}")))?;
    let login = Login::new(ctx, Protocol::CashRegister, req, sent.username.given().map(String::as_str));
    if !authorized(ctx, &sent.username, &sent.password, &login).await {
        lockouts::record_failure(ctx, &login).await;
        return Err(fail(Code::CREDENTIALS, INVALID_CREDENTIALS));
    }
    let Some(order_number) = OrderNumber::parse(&request.order_number) else {
        if matches!(lockouts::refuse_if_locked(ctx, &login).await, Ok(true)) {
            return Err(fail(Code::CREDENTIALS, INVALID_CREDENTIALS));
        }
        // Not a number in today's form: no look-up in Redis can find it, but
        // a till retrying a payment recorded before the form changed still
        // hears its success.
        let replay = payments::replayed(
            ctx,
            Source::CashRegister,
            &request.order_number,
            &request.transaction_id,
            Refusal::NotInCache,
        );
        return replay.await.map_err(|refusal| refused(refusal, &request.order_number));
    };
    let shipping_sku = ctx.settings.snapshot().cash_register.as_ref().and_then(|c| c.shipping_sku.clone());
    let offer = Offer {
        source: Source::CashRegister,
        order_number: &order_number,
        transaction_id: &request.transaction_id,
        amount: request.amount,
        discounted_amount: request.discounted_amount,
        promotions: &request.promotions,
        terminal_code: request.terminal_code.as_deref(),
        staff_id: None,
    };
    let success = |session: &Session| {
        serde_json::to_value(CompleteAnswer {
            transaction_id: Some(request.transaction_id.clone()),
            order_number: Some(order_number.to_string()),
            result: CompleteResult::Paid(Paid::Zero),
            error_message: String::new(),
            amount: Some(request.amount.to_string()),
            staff_id: session.staff.staff_id,
            staff_email: session.staff.staff_email.clone(),
            store_id: session.staff.store_id.clone(),
            shipping_sku,
        })
        .unwrap_or_default()
    };
    match payments::accept(ctx, &login, offer, success).await {
        Ok(answer) => Ok(answer),
        Err(Refusal::LockedOut) => {
            lockouts::record_failure(ctx, &login).await;
            Err(fail(Code::CREDENTIALS, INVALID_CREDENTIALS))
        }
        Err(refusal) => Err(refused(refusal, order_number.as_str())),
    }
}

/// The cash register's code and message for a refused payment of `number`.
fn refused(refusal: Refusal, number: &str) -> Failure {
    match refusal {
        Refusal::LockedOut => fail(Code::CREDENTIALS, INVALID_CREDENTIALS),
        Refusal::NotInCache | Refusal::PaidByAnother => fail(Code::NOT_FOUND, NOT_IN_CACHE),
        Refusal::SessionGone | Refusal::SessionAlreadyPaid => {
            fail(Code::SESSION_GONE, SESSION_GONE).with_number(number)
        }
        Refusal::NoPaymentOption => fail(Code::NO_PAYMENT_OPTION, NO_PAYMENT_OPTION).with_number(number),
        Refusal::NotCashRegister => fail(Code::NOT_CASH_REGISTER, NOT_CASH_REGISTER).with_number(number),
        Refusal::Offer(why) => {
            fail(Code::OFFER, format!("Error occurred while applying offer: {why}")).with_number(number)
        }
        Refusal::AmountMismatch { offered, unpaid } => {
            fail(Code::AMOUNT_MISMATCH, format!("Amount {offered} does not match the unpaid amount {}", fmt2(unpaid)))
                .with_number(number)
        }
        Refusal::BasketChanged => fail(Code::BAD_PAYLOAD_OR_BASKET, BASKET_CHANGED).with_number(number),
        Refusal::Unavailable => fail(Code::UNAVAILABLE, UNAVAILABLE),
    }
}
