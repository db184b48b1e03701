//! Request and response shapes as the API description shows them. Most
//! handlers read bodies field by field (so every error names its field) and
//! answer with built JSON; these types describe those bodies for readers and
//! generated clients, with the SPEC's examples. `SignIn` and `Limit` are also
//! what their handlers parse.

#![allow(dead_code)]

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// The error body of every REST API (not the hooks).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"error_code": "validation_error", "message": "price: must be a decimal string like \"99.99\", at least 0", "request_id": "5f0c1e2a9b7d4c3e0000000000000007"}))]
pub struct ErrorBody {
    /// `bad_request`, `validation_error`, `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `payload_too_large`, `unsupported_media_type`, `too_many_requests`, `service_unavailable`, `internal_error`
    pub error_code: String,
    pub message: String,
    /// Also in the `X-Request-Id` header; quote it when reporting a problem.
    pub request_id: String,
}

// ---------------------------------------------------------------- operations

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Liveness {
    pub status: String,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok", "checks": {"postgres": "ok", "redis": "ok"}}))]
pub struct Readiness {
    /// `ok` or `unavailable`
    pub status: String,
    /// `postgres` (a write commits within 2 s), `redis` (`PING` answers) and,
    /// only when `DATABASE_READ_URL` is set, `postgres_read` (the replica
    /// answers; shown, but not part of `status`): each `ok` or `unavailable`
    pub checks: Value,
}

// ------------------------------------------------------------------ checkout

/// A checkout session and its pre-order (SPEC §4).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"session_id": "b2c4e0d1f3a54c6e8d7f9a0b1c2d3e4f", "pre_order": {
    "basket": {"id": "b2c4e0d1", "basketitem_set": [{"id": 1, "product": {"pk": 1, "sku": "SKU-1", "name": "Shirt", "base_code": "SHIRT",
        "price": "99.99", "department": "Men", "attributes": {}}, "quantity": 2, "unit_price": "99.99", "price": "199.98",
        "tax_rate": "20.00", "currency_type": "try", "discount_amount": "0.00", "total_amount": "199.98"}],
        "discounts": [], "total_quantity": 2, "total_product_amount": "199.98", "total_discount_amount": "0.00", "total_amount": "199.98"},
    "shipping_address": null, "billing_address": null,
    "payment_option": {"id": 1, "name": "Pay at store", "slug": "cash-register", "payment_type": "cash_register"},
    "shipping_option": {"id": 1, "name": "Store pickup", "slug": "pickup", "price": "0.00"},
    "installment": null, "shipping_amount": "0.00", "total_amount": "199.98", "unpaid_amount": "199.98",
    "currency_type_label": "TRY", "staff_id": 17, "staff_email": "a@b.c", "store_id": "IST-01"}}))]
pub struct CheckoutAnswer {
    pub session_id: String,
    /// The `pre_order` document of SPEC §4.
    pub pre_order: Value,
}

/// Any subset of these fields; `null` clears one.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"basket": {"items": [{"sku": "SKU-1", "quantity": 2}]}, "payment_option": "cash-register",
    "shipping_option": "pickup", "staff": {"staff_id": 17, "staff_email": "a@b.c", "store_id": "IST-01"}}))]
pub struct CheckoutPatch {
    /// `{"items": [{"sku", "quantity"}]}`: replaces the basket's contents.
    pub basket: Option<BasketInput>,
    pub shipping_address: Option<Value>,
    pub billing_address: Option<Value>,
    /// Slug of a shipping option.
    pub shipping_option: Option<String>,
    /// Slug of a payment option.
    pub payment_option: Option<String>,
    /// `{"card": "<card slug>", "installment_count": 3}`
    pub installment: Option<Value>,
    /// `{"staff_id": 17, "staff_email": "a@b.c", "store_id": "IST-01"}`
    pub staff: Option<Value>,
}

#[derive(Deserialize, ToSchema)]
pub struct BasketInput {
    pub items: Vec<BasketItemInput>,
}

#[derive(Deserialize, ToSchema)]
pub struct BasketItemInput {
    #[schema(example = "SKU-1")]
    pub sku: String,
    #[schema(minimum = 1, example = 2)]
    pub quantity: i64,
}

// --------------------------------------------------------------------- hooks

/// The cash register hooks' credentials and order number (JSON or form-encoded).
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"order_number": "0000015933", "username": "cashier01", "password": "demo-secret"}))]
pub struct CashRegisterPreOrderRequest {
    pub order_number: String,
    pub username: String,
    pub password: String,
}

/// `get_order_number` answer: `order_number` on success; otherwise `error_code` and `error_message`.
#[derive(Serialize, ToSchema)]
pub struct OrderNumberAnswer {
    /// Digits only, at least 10, the last a Luhn check digit over the others
    pub order_number: Option<String>,
    /// `411` no or unknown session, `407` no payment option, `408` payment option not cash register (the number is then not registered)
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// `pre_order` answer: the pre-order on success, or `error_code` and `error_message`.
#[derive(Serialize, ToSchema)]
pub struct CashRegisterPreOrderAnswer {
    pub order_number: Option<String>,
    pub pre_order: Option<Value>,
    /// Present when `installment_enabled` and an installment is selected.
    pub card: Option<Value>,
    /// In check order: `403` credentials (or unreadable body), `409` order number missing, `410` not in the
    /// order-number cache, `411` session gone, `407` no payment option, `408` not cash register, `402` basket
    /// changed; `500` service unavailable (retry).
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"benefit_amount": "10.00", "description": "Cash Register Offer", "affected_basket_items": [1]}))]
pub struct Promotion {
    /// Decimal string.
    pub benefit_amount: String,
    /// At most 512 characters; default `Cash Register Offer`.
    pub description: Option<String>,
    /// Basket item ids; empty or absent = all items.
    pub affected_basket_items: Option<Vec<i64>>,
}

/// Completing a payment at the till (JSON or form-encoded).
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"transaction_id": "TXN-1", "order_number": "0000015933", "username": "cashier01",
    "password": "demo-secret", "amount": "199.98", "terminal_code": "TERM-001"}))]
pub struct CompleteRequest {
    pub transaction_id: String,
    pub order_number: String,
    pub username: String,
    pub password: String,
    /// Decimal string, e.g. `"199.98"`.
    pub amount: String,
    /// Required with `promotions`: the unpaid amount after them.
    pub discounted_amount: Option<String>,
    pub terminal_code: Option<String>,
    pub promotions: Option<Vec<Promotion>>,
}

/// Every `complete` answer has all of these keys.
#[derive(Serialize, ToSchema)]
pub struct CompleteAnswer {
    pub transaction_id: Option<String>,
    pub order_number: Option<String>,
    /// `"0"` (a string) on success; otherwise the integer code, in check order: `402` invalid payload, `403`
    /// credentials, `404` order number not in the cache (or paid by another transaction), `411` session gone,
    /// `407` no payment option, `408` not cash register, `412` promotion cannot be applied, `405` amount differs
    /// from the unpaid amount, `402` basket changed; `500` service unavailable (nothing recorded; retry).
    pub result: Value,
    pub error_message: String,
    pub amount: Option<String>,
    pub staff_id: Option<i64>,
    pub staff_email: Option<String>,
    pub store_id: Option<String>,
    pub shipping_sku: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"username": "ivr_user", "password": "ivr_password", "orderNumber": "0000015933"}))]
pub struct IvrPreOrderRequest {
    pub username: String,
    pub password: String,
    #[serde(rename = "orderNumber")]
    #[schema(rename = "orderNumber")]
    pub order_number: String,
}

/// `{"success": bool, "message": "..."}`
#[derive(Serialize, ToSchema)]
pub struct IvrResult {
    pub success: bool,
    /// Empty on success; otherwise the failure message (see the operation).
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct IvrProduct {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    /// JSON number, exact decimal.
    pub price: f64,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"result": {"success": true, "message": ""}, "productlist": [{"sku": "SKU-1", "name": "Shirt", "quantity": 2, "price": 199.98}], "orderprice": 199.98}))]
pub struct IvrPreOrderAnswer {
    pub result: IvrResult,
    pub productlist: Vec<IvrProduct>,
    /// Total including discounts and shipping; `0.0` on failure.
    pub orderprice: f64,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"username": "ivr_user", "password": "ivr_password", "orderNumber": "0000015933",
    "success": true, "referenceNumber": "REF-1", "staffId": 17, "amount": 199.98}))]
pub struct IvrCompleteRequest {
    pub username: String,
    pub password: String,
    #[serde(rename = "orderNumber")]
    #[schema(rename = "orderNumber")]
    pub order_number: String,
    pub success: bool,
    #[serde(rename = "referenceNumber")]
    #[schema(rename = "referenceNumber")]
    pub reference_number: String,
    #[serde(rename = "staffId")]
    #[schema(rename = "staffId")]
    pub staff_id: i64,
    /// JSON number, read as an exact decimal.
    pub amount: f64,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"orderResultResponse": {"result": {"success": true, "message": ""}, "orderNumber": "0000015933", "referenceNumber": "REF-1"}}))]
pub struct IvrCompleteAnswer {
    /// `{"result": {"success", "message"}, "orderNumber", "referenceNumber"}`
    #[serde(rename = "orderResultResponse")]
    #[schema(rename = "orderResultResponse")]
    pub order_result_response: Value,
}

// -------------------------------------------------------------------- orders

/// An order (SPEC §5).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"order_number": "0000015933", "order_internal_id": 1, "status": "completed", "source": "cash_register",
    "created_at": "2026-03-01T10:00:00Z", "currency": "TRY", "shop_id": null, "customer_id": null, "customer": null,
    "lines": [{"basket_item_id": 1, "sku": "SKU-1", "name": "Shirt", "quantity": 2, "unit_price": "99.99", "price": "199.98",
        "tax_rate": "20.00", "discount_amount": "0.00", "total_amount": "199.98"}],
    "discounts": [], "shipping": {"option": {"slug": "pickup"}, "amount": "0.00", "address": null}, "billing_address": null,
    "total_quantity": 2, "total_product_amount": "199.98", "total_discount_amount": "0.00", "shipping_amount": "0.00",
    "total_amount": "199.98", "paid_amount": "199.98",
    "payment": {"payment_option": {"slug": "cash-register"}, "transaction_id": "TXN-1", "terminal_code": "TERM-001", "amount": "199.98"},
    "staff_id": 17, "staff_email": "a@b.c", "store_id": "IST-01", "cash_box_id": null, "is_refund": false}))]
pub struct Order {
    pub order_number: String,
    pub order_internal_id: i64,
    /// `completed` once paid in full
    pub status: String,
    pub lines: Vec<Value>,
    pub discounts: Vec<Value>,
    pub total_amount: String,
    pub payment: Value,
}

// --------------------------------------------------------------------- sales

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"shop_id": "IST-01", "key": "cdk_shop_…", "payment_method_id": "cash-register", "delivery_method_id": "pickup",
    "user_id": "u-7", "client_id": "C-1", "items": [{"sku": "SKU-1", "quantity": 1}], "date": 1772359200, "is_refund": false}))]
pub struct SaleRequest {
    pub shop_id: String,
    pub key: String,
    /// Slug of a payment option.
    pub payment_method_id: String,
    /// Slug of a shipping option.
    pub delivery_method_id: String,
    pub user_id: String,
    /// An existing customer, or give `client` instead.
    pub client_id: Option<String>,
    /// `{"name", "email", "phone", "address"}`: a new customer.
    pub client: Option<Value>,
    /// `[{"sku", "quantity", "price"?}]`
    pub items: Vec<Value>,
    /// Unix seconds; default now.
    pub date: Option<i64>,
    pub is_refund: Option<bool>,
    pub cash_box_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"order_id": "0000022087", "order_internal_id": 2}))]
pub struct SaleAnswer {
    pub order_id: String,
    pub order_internal_id: i64,
}

// --------------------------------------------------------------------- admin

/// Signing in to the admin page.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "the ADMIN_TOKEN"}))]
pub struct SignIn {
    /// The `ADMIN_TOKEN` of the service.
    pub token: String,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"csrf_token": "9f2c…", "expires_in_seconds": 28800}))]
pub struct AdminSessionAnswer {
    /// Send as `X-CSRF-Token` with every state-changing admin request of this session.
    pub csrf_token: String,
    pub expires_in_seconds: i64,
}

/// `limit` of a listing: 1 to 500, default 50.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Limit {
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// A dynamic setting as operators see it: secrets masked as `********`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"key": "CASH_REGISTER_AUTH_CONF", "value": {"credentials": [{"username": "cashier01", "password": "********"}],
    "installment_enabled": false, "shipping_sku": "SHIP-01"}, "version": 3, "updated_at": "2026-03-01T10:00:00Z", "updated_by": "admin-page"}))]
pub struct Setting {
    pub key: String,
    pub value: Value,
    /// 0 while never set.
    pub version: i64,
    pub updated_at: Option<String>,
    pub updated_by: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SettingList {
    pub settings: Vec<Setting>,
}

/// A new value. `CASH_REGISTER_AUTH_CONF`: `{"credentials": [{"username", "password"}], "installment_enabled",
/// "shipping_sku"}`; `ORDER_WEBHOOK_CONF`: `{"endpoints": [{"url", "secret": "whsec_…"}]}`. A password or
/// secret sent back as `********` keeps the stored one (credentials by username; endpoints by the
/// `secret_id` read with them, else by URL), so adding a pair or removing an old one never needs the
/// other secrets again.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"value": {"credentials": [{"username": "cashier01", "password": "********"},
    {"username": "cashier02", "password": "new-secret"}], "installment_enabled": false, "shipping_sku": "SHIP-01"}}))]
pub struct SettingWrite {
    pub value: Value,
}

#[derive(Serialize, ToSchema)]
pub struct HistoryEntry {
    pub version: i64,
    /// The value of this version, secrets masked.
    pub value: Value,
    pub updated_at: String,
    /// `admin-api`, `admin-page`, `cli`, `seed-demo`
    pub updated_by: String,
    /// What this version changed from the one before, e.g. `added credential cashier02`,
    /// `changed the password of credential cashier01`, `shipping_sku: "SHIP-01" → "SHIP-02"`. Secrets never appear.
    pub changes: Vec<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"key": "CASH_REGISTER_AUTH_CONF", "history": [{"version": 2, "value": {"credentials": [
    {"username": "cashier01", "password": "********"}, {"username": "cashier02", "password": "********"}],
    "installment_enabled": false, "shipping_sku": "SHIP-01"}, "updated_at": "2026-03-01T10:00:00Z", "updated_by": "admin-page",
    "changes": ["added credential cashier02"]}]}))]
pub struct SettingHistory {
    pub key: String,
    /// Newest first.
    pub history: Vec<HistoryEntry>,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "Men"}))]
pub struct DepartmentWrite {
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "Shirt", "price": "99.99", "currency": "TRY", "tax_rate": "20.00", "department": "men", "base_code": "SHIRT", "attributes": {}}))]
pub struct ProductWrite {
    pub name: String,
    /// Decimal string, at most 2 places, at least 0.
    pub price: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Percent, 0 to 100; default 0.
    pub tax_rate: Option<String>,
    /// Code of an existing department.
    pub department: Option<String>,
    pub base_code: Option<String>,
    pub attributes: Option<Value>,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+905550000000", "address": {"city": "Istanbul"}}))]
pub struct CustomerWrite {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<Value>,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "Pay at store", "payment_type": "cash_register"}))]
pub struct PaymentOptionWrite {
    pub name: String,
    /// `cash_register`, `credit_card`, `pay_on_delivery`, `bank_transfer` or `other`
    pub payment_type: String,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "Store pickup", "price": "0.00"}))]
pub struct ShippingOptionWrite {
    pub name: String,
    pub price: String,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "Bonus Card", "card_payment_type": "credit", "bank": {"name": "Garanti", "slug": "garanti"}, "installment_counts": [1, 3, 6]}))]
pub struct CardWrite {
    pub name: String,
    pub card_payment_type: String,
    /// `{"name", "slug"}`
    pub bank: Value,
    /// Whole numbers from 1 to 60.
    pub installment_counts: Vec<i64>,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"associate_id": "alice", "name": "Alice", "store_ids": ["store-1"]}))]
pub struct AssociateWrite {
    pub associate_id: String,
    pub name: String,
    pub store_ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"associate_id": "alice", "name": "Alice", "store_ids": ["store-1"], "token": "cdk_assoc_…"}))]
pub struct AssociateCreated {
    pub associate_id: String,
    pub name: String,
    pub store_ids: Vec<String>,
    /// Shown once; stored as a hash.
    pub token: String,
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"shop_id": "IST-01", "name": "Istanbul"}))]
pub struct ShopWrite {
    pub shop_id: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"shop_id": "IST-01", "name": "Istanbul", "key": "cdk_shop_…"}))]
pub struct ShopCreated {
    pub shop_id: String,
    pub name: String,
    /// Shown once; stored as a hash.
    pub key: String,
}

/// Every subject locked out now (SPEC §11), the latest to unlock first.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"lockouts": [{"protocol": "cash_register", "subject": "pair:5d41402abc4b2a76b9719d911017c592:203.0.113.7",
    "kind": "pair", "address": "203.0.113.7", "username": "cashier01", "failures": 12, "unlocks_at": "2026-11-27T09:45:00Z"}]}))]
pub struct LockoutList {
    pub lockouts: Vec<crate::lockouts::Lockout>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"payments": [{"id": 1, "order_number": "0000015933", "source": "cash_register", "transaction_id": "TXN-1",
    "amount": "199.98", "paid_amount": "199.98", "terminal_code": "TERM-001", "staff_id": 17, "store_id": "IST-01",
    "created_at": "2026-03-01T10:00:00Z", "order_created_at": "2026-03-01T10:00:01Z"}]}))]
pub struct PaymentSummaryList {
    /// Newest first.
    pub payments: Vec<Value>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"orders": [{"order_internal_id": 1, "order_number": "0000015933", "status": "completed", "source": "cash_register",
    "shop_id": null, "store_id": "IST-01", "currency": "TRY", "total_quantity": 2, "total_amount": "199.98", "created_at": "2026-03-01T10:00:01Z"}]}))]
pub struct OrderSummaryList {
    /// Newest first.
    pub orders: Vec<Value>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"day_start": "2026-03-01T00:00:00Z", "cash_drawers": [{"cash_drawer_id": "4G9OZ", "store_id": "store-1", "name": "Front till",
    "status": "active", "currency": "USD", "float": {"value": 200, "currency": "USD"}, "activated_at": "2026-03-01T08:00:00Z",
    "balance": {"value": 245, "currency": "USD"}, "today_cash_in": {"value": 45, "currency": "USD"}, "today_cash_out": {"value": 0, "currency": "USD"}}]}))]
pub struct DrawerOverviewList {
    /// Start of today (UTC) that `today_cash_in`/`today_cash_out` count from.
    pub day_start: String,
    /// `balance`: the cash an active drawer should hold now (float plus completed movements); null when inactive.
    pub cash_drawers: Vec<Value>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"deliveries": [{"id": 7, "event_id": 3, "event_type": "validated", "url": "https://example.com/hook",
    "state": "pending", "attempts": 1, "created_at": "2026-03-01T10:00:01Z", "next_attempt_at": "2026-03-01T10:00:11Z",
    "finished_at": null, "last_error": "HTTP 503", "attempt_log": [{"attempted_at": "2026-03-01T10:00:01Z", "status_code": 503,
    "latency_ms": 12, "error": null, "response_snippet": "busy"}]}]}))]
pub struct DeliveryList {
    /// Newest first. `state`: `pending`, `delivered`, `gone` (410), `expired` (24 h passed), `endpoint_removed`.
    pub deliveries: Vec<Value>,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": 7, "state": "pending"}))]
pub struct ReplayAnswer {
    pub id: i64,
    pub state: String,
}

// ------------------------------------------------------ shared error answers

/// The error answers every admin write may give.
#[derive(utoipa::IntoResponses)]
pub enum AdminWriteErrors {
    #[response(status = 400, description = "Invalid body; the message names the field")]
    Invalid(ErrorBody),
    #[response(status = 401, description = "Admin token or page session missing or wrong, or ADMIN_TOKEN unset")]
    Unauthorized(ErrorBody),
    #[response(status = 403, description = "Page session without its X-CSRF-Token")]
    Forbidden(ErrorBody),
    #[response(status = 413, description = "Body over 64 KiB")]
    TooLarge(ErrorBody),
}
