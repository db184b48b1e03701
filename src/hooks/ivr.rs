//! `/hooks/ivr/…` (SPEC §6): phone payments on the same pre-orders, with
//! their own credentials and camelCase answers.

use super::body::{self, Field};
use super::{body_bytes, ok_json};
use crate::checkout::{check_pre_order, Mirror, PreOrderCheck, Session};
use crate::context::AppContext;
use crate::credentials;
use crate::lockouts::{self, Login, Protocol};
use crate::order_number::OrderNumber;
use crate::payments::{self, Offer, Refusal, Source};
use actix_web::post;
use actix_web::{web, HttpRequest, HttpResponse};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

const INPUT_INVALID: &str = "Input invalid";
const USER_INVALID: &str = "User invalid";
const ORDER_NOT_FOUND_IN_CACHE: &str = "Order not found";
const ORDER_NOT_FOUND: &str = "Order Not Found";
const PAYMENT_OPTION_NULL: &str = "PaymentOption is null";
const PAYMENT_OPTION_INVALID: &str = "PaymentOption is not valid...";
const BASKET_CHANGED: &str = "Basket Changed";
const UNAVAILABLE: &str = "Service unavailable";

/// `POST /hooks/ivr/pre_order/`
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"username": "ivr_user", "password": "secret", "orderNumber": "0000015933"}))]
pub struct IvrPreOrderRequest {
    #[serde(default)]
    #[schema(value_type = String)]
    pub username: Field<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub password: Field<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub order_number: Field<String>,
}

/// `POST /hooks/ivr/complete/`
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"username": "ivr_user", "password": "secret", "orderNumber": "0000015933", "success": true,
    "referenceNumber": "REF-1", "staffId": 17, "amount": 199.98}))]
pub struct IvrCompleteRequest {
    #[serde(default)]
    #[schema(value_type = String)]
    pub username: Field<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub password: Field<String>,
    #[serde(default)]
    #[schema(value_type = String)]
    pub order_number: Field<String>,
    /// Must be true: the phone payment succeeded.
    #[serde(default)]
    #[schema(value_type = bool)]
    pub success: Field<bool>,
    /// The payment's reference (its transaction id), at most 128 characters.
    #[serde(default)]
    #[schema(value_type = String)]
    pub reference_number: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub staff_id: Field<i64>,
    /// A JSON number, read exactly.
    #[serde(default)]
    #[schema(value_type = f64)]
    pub amount: Field<Decimal>,
}

/// `result` of the IVR answers.
#[derive(Serialize, ToSchema)]
pub struct IvrResult {
    pub success: bool,
    /// Empty on success, else one of the documented messages.
    pub message: String,
}

/// One product of the IVR pre-order.
#[derive(Serialize, ToSchema)]
pub struct IvrProduct {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    /// The line's price (a JSON number).
    #[schema(value_type = f64)]
    pub price: Decimal,
}

/// The answer of the IVR pre_order (HTTP 200 always); the success is spliced
/// from a fragment rendered when the basket was saved, in this shape.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"result": {"success": true, "message": ""}, "productlist": [{"sku": "SKU-1", "name": "Shirt", "quantity": 2, "price": 199.98}], "orderprice": 199.98}))]
pub struct IvrPreOrderAnswer {
    pub result: IvrResult,
    /// `[]` on failure.
    pub productlist: Vec<IvrProduct>,
    /// The total including discounts and shipping (`0.0` on failure; a JSON number).
    #[schema(value_type = f64)]
    pub orderprice: Decimal,
}

/// The answer of the IVR complete (HTTP 200 always).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IvrCompleteAnswer {
    pub order_result_response: IvrOrderResult,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IvrOrderResult {
    pub result: IvrResult,
    pub order_number: Option<String>,
    pub reference_number: Option<String>,
}

fn pre_order_failure(message: &str) -> HttpResponse {
    ok_json(format!(
        r#"{{"result":{{"success":false,"message":{}}},"productlist":[],"orderprice":0.0}}"#,
        Value::from(message)
    ))
}

/// `POST /hooks/ivr/pre_order/`: like the cash register's, one Redis round
/// trip and a product-list fragment rendered when the basket was saved.
#[utoipa::path(operation_id = "getIvrPreOrder", tag = "IVR hooks",
    request_body(content = IvrPreOrderRequest, description = "JSON; a form (`application/x-www-form-urlencoded`) with the same fields is accepted too"),
    description = "Credentials are IVR_USERNAME / IVR_PASSWORD. Failure messages, checked in this order (`productlist` `[]`, `orderprice` `0.0`): `Input invalid` → `User invalid` → `Order number invalid` → `Order not found` (not in cache) → `Order Not Found` (session gone) → `PaymentOption is null` → `PaymentOption is not valid...` → `Basket Changed`; `Service unavailable` (retry).",
    responses(
        (status = 200, description = "Always 200: result.success and the product list, or result.message", body = IvrPreOrderAnswer),
    ))]
#[post("/hooks/ivr/pre_order/")]
pub async fn look_up_pre_order(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
) -> HttpResponse {
    let request = body_bytes(body).and_then(|b| body::read::<IvrPreOrderRequest>(&req, &b));
    let parsed =
        request.as_ref().and_then(|r| Some((r.username.given()?, r.password.given()?, r.order_number.given()?)));
    let Some((username, password, order_number)) = parsed else {
        return pre_order_failure(INPUT_INVALID);
    };
    let login = Login::new(&ctx, Protocol::Ivr, &req, Some(username));
    if !credentials::ivr(&ctx, username, password) {
        lockouts::record_failure(&ctx, &login).await;
        return pre_order_failure(USER_INVALID);
    }
    let order_number = order_number.trim();
    if order_number.is_empty() {
        // A locked-out caller learns nothing, not even that its password was right.
        return match lockouts::refuse_if_locked(&ctx, &login).await {
            Ok(true) => pre_order_failure(USER_INVALID),
            Ok(false) => pre_order_failure("Order number invalid"),
            Err(err) => {
                log::error!("ivr pre_order: redis: {err}");
                pre_order_failure(UNAVAILABLE)
            }
        };
    }
    let Some(order_number) = OrderNumber::parse(order_number) else {
        // Mistyped on the keypad (a wrong check digit): no look-up needed.
        // A locked-out caller still learns nothing.
        if matches!(lockouts::refuse_if_locked(&ctx, &login).await, Ok(true)) {
            return pre_order_failure(USER_INVALID);
        }
        return pre_order_failure(ORDER_NOT_FOUND_IN_CACHE);
    };
    match check_pre_order(&ctx, &order_number, &login, &[Mirror::Ivr]).await {
        Ok(PreOrderCheck::LockedOut) => {
            lockouts::record_failure(&ctx, &login).await;
            pre_order_failure(USER_INVALID)
        }
        Ok(PreOrderCheck::NotInCache) => pre_order_failure(ORDER_NOT_FOUND_IN_CACHE),
        Ok(PreOrderCheck::SessionGone) => pre_order_failure(ORDER_NOT_FOUND),
        Ok(PreOrderCheck::NoPaymentOption) => pre_order_failure(PAYMENT_OPTION_NULL),
        Ok(PreOrderCheck::NotCashRegister) => pre_order_failure(PAYMENT_OPTION_INVALID),
        Ok(PreOrderCheck::Usable(found)) if found.basket_changed() => pre_order_failure(BASKET_CHANGED),
        Ok(PreOrderCheck::Usable(found)) => {
            ok_json(format!(r#"{{"result":{{"success":true,"message":""}},{}}}"#, found.ivr.unwrap_or_default()))
        }
        Err(err) => {
            log::error!("ivr pre_order: redis: {err}");
            pre_order_failure(UNAVAILABLE)
        }
    }
}

/// The answer of `/hooks/ivr/complete/`.
fn complete_answer(success: bool, message: &str, order_number: Option<&str>, reference: Option<&str>) -> Value {
    serde_json::to_value(IvrCompleteAnswer {
        order_result_response: IvrOrderResult {
            result: IvrResult { success, message: message.to_string() },
            order_number: order_number.map(str::to_string),
            reference_number: reference.map(str::to_string),
        },
    })
    .unwrap_or_default()
}

/// `POST /hooks/ivr/complete/`: records the payment through the same durable
/// path as the cash register, with the reference number as transaction id.
#[utoipa::path(operation_id = "completeIvrPayment", tag = "IVR hooks",
    request_body(content = IvrCompleteRequest, description = "JSON; a form (`application/x-www-form-urlencoded`) with the same fields is accepted too"),
    description = "Records a phone payment (reference number as transaction id) with the same money-safety rules as the cash register. Failure messages in order: `Input invalid` → `User invalid` → `Success must be true` → `Order Not Found` (not in cache, or session gone) → `PaymentOption is null` → `PaymentOption is not valid...` → `Amount mismatch` → `Basket Changed`; `Service unavailable` (retry).",
    responses(
        (status = 200, description = "Always 200: orderResultResponse.result.success, or its message", body = IvrCompleteAnswer),
    ))]
#[post("/hooks/ivr/complete/")]
pub async fn complete_payment(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
) -> HttpResponse {
    let request = body_bytes(body).and_then(|b| body::read::<IvrCompleteRequest>(&req, &b));
    let (message, answer) = complete_inner(&ctx, &req, request.as_ref()).await;
    let label = if message.is_empty() { "success" } else { message };
    ctx.metrics.payments.with_label_values(&["ivr", label]).inc();
    ok_json(answer.to_string())
}

/// Returns the failure message (empty on success) and the answer.
async fn complete_inner(
    ctx: &AppContext,
    req: &HttpRequest,
    request: Option<&IvrCompleteRequest>,
) -> (&'static str, Value) {
    let Some(f) = request else {
        return (INPUT_INVALID, complete_answer(false, INPUT_INVALID, None, None));
    };
    let order_number = f.order_number.given().map(|n| n.trim());
    let reference = f.reference_number.given().map(|r| r.trim());
    let failure = |message: &'static str| (message, complete_answer(false, message, order_number, reference));

    let (Some(username), Some(password), Some(order_number), Some(reference)) =
        (f.username.given(), f.password.given(), order_number, reference)
    else {
        return failure(INPUT_INVALID);
    };
    let staff_id = match &f.staff_id {
        Field::Given(id) => Some(*id),
        Field::Absent => None,
        Field::Invalid(_) => return failure(INPUT_INVALID),
    };
    let (Some(&success), Some(&amount)) = (f.success.given(), f.amount.given()) else {
        return failure(INPUT_INVALID);
    };
    if order_number.is_empty() || reference.is_empty() || reference.len() > 128 {
        return failure(INPUT_INVALID);
    }
    let login = Login::new(ctx, Protocol::Ivr, req, Some(username));
    if !credentials::ivr(ctx, username, password) {
        lockouts::record_failure(ctx, &login).await;
        return failure(USER_INVALID);
    }
    if !success {
        // A locked-out caller learns nothing, not even that its password was right.
        return match lockouts::refuse_if_locked(ctx, &login).await {
            Ok(true) => failure(USER_INVALID),
            Ok(false) => failure("Success must be true"),
            Err(err) => {
                log::error!("ivr complete: redis: {err}");
                failure(UNAVAILABLE)
            }
        };
    }
    let Some(number) = OrderNumber::parse(order_number) else {
        // Mistyped, or of an earlier form: Redis cannot know it; only a
        // payment recorded under it before is answered.
        if matches!(lockouts::refuse_if_locked(ctx, &login).await, Ok(true)) {
            return failure(USER_INVALID);
        }
        return match payments::replayed(ctx, Source::Ivr, order_number, reference, Refusal::NotInCache).await {
            Ok(stored) => ("", stored),
            Err(refusal) => failure(refused(refusal)),
        };
    };
    let offer = Offer {
        source: Source::Ivr,
        order_number: &number,
        transaction_id: reference,
        amount,
        discounted_amount: None,
        promotions: &[],
        terminal_code: None,
        staff_id,
    };
    let success = |_: &Session| complete_answer(true, "", Some(number.as_str()), Some(reference));
    match payments::accept(ctx, &login, offer, success).await {
        Ok(answer) => ("", answer),
        Err(refusal) => {
            if refusal == Refusal::LockedOut {
                lockouts::record_failure(ctx, &login).await;
            }
            failure(refused(refusal))
        }
    }
}

/// The IVR's message for a refused payment.
fn refused(refusal: Refusal) -> &'static str {
    match refusal {
        Refusal::LockedOut => USER_INVALID,
        Refusal::NotInCache | Refusal::SessionGone | Refusal::PaidByAnother | Refusal::SessionAlreadyPaid => {
            ORDER_NOT_FOUND
        }
        Refusal::NoPaymentOption => PAYMENT_OPTION_NULL,
        Refusal::NotCashRegister => PAYMENT_OPTION_INVALID,
        Refusal::AmountMismatch { .. } => "Amount mismatch",
        Refusal::BasketChanged => BASKET_CHANGED,
        // Phone payments carry no promotions.
        Refusal::Offer(_) => INPUT_INVALID,
        Refusal::Unavailable => UNAVAILABLE,
    }
}
