//! `/hooks/ivr/…` (SPEC §6): phone payments on the same pre-orders, with
//! their own credentials and camelCase answers.

use actix_web::post;
use super::{body_bytes, ok_json, HookFields};
use crate::openapi::schemas as doc;
use crate::checkout::{check_pre_order, PreOrderCheck, Session};
use crate::context::AppContext;
use crate::credentials;
use crate::lockouts::{self, Login, Protocol};
use crate::order_number::OrderNumber;
use crate::payments::{self, NewPayment, Outcome, Source};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

const INPUT_INVALID: &str = "Input invalid";
const USER_INVALID: &str = "User invalid";
const ORDER_NOT_FOUND_IN_CACHE: &str = "Order not found";
const ORDER_NOT_FOUND: &str = "Order Not Found";
const PAYMENT_OPTION_NULL: &str = "PaymentOption is null";
const PAYMENT_OPTION_INVALID: &str = "PaymentOption is not valid...";
const BASKET_CHANGED: &str = "Basket Changed";
const UNAVAILABLE: &str = "Service unavailable";

fn pre_order_failure(message: &str) -> HttpResponse {
    ok_json(format!(
        r#"{{"result":{{"success":false,"message":{}}},"productlist":[],"orderprice":0.0}}"#,
        Value::from(message)
    ))
}

/// `POST /hooks/ivr/pre_order/`: like the cash register's, one Redis round
/// trip and a product-list fragment rendered when the basket was saved.
#[utoipa::path(operation_id = "getIvrPreOrder", tag = "IVR hooks",
    request_body(description = "JSON or form-encoded", content((doc::IvrPreOrderRequest = "application/json"), (doc::IvrPreOrderRequest = "application/x-www-form-urlencoded"))),
    description = "Credentials are IVR_USERNAME / IVR_PASSWORD. Failure messages, checked in this order (`productlist` `[]`, `orderprice` `0.0`): `Input invalid` → `User invalid` → `Order number invalid` → `Order not found` (not in cache) → `Order Not Found` (session gone) → `PaymentOption is null` → `PaymentOption is not valid...` → `Basket Changed`; `Service unavailable` (retry).",
    responses(
        (status = 200, description = "Always 200: result.success and the product list, or result.message", body = doc::IvrPreOrderAnswer),
    ))]
#[post("/hooks/ivr/pre_order/")]
pub async fn pre_order(ctx: web::Data<AppContext>, req: HttpRequest, body: Result<web::Bytes, actix_web::Error>) -> HttpResponse {
    let fields = body_bytes(body).and_then(|b| HookFields::parse(&req, &b));
    let parsed = fields.as_ref().and_then(|f| Some((f.text("username")?, f.text("password")?, f.text("orderNumber")?)));
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
        return match lockouts::is_locked(&ctx, &login).await {
            Ok(true) => {
                lockouts::record_failure(&ctx, &login).await;
                pre_order_failure(USER_INVALID)
            }
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
        if matches!(lockouts::is_locked(&ctx, &login).await, Ok(true)) {
            lockouts::record_failure(&ctx, &login).await;
            return pre_order_failure(USER_INVALID);
        }
        return pre_order_failure(ORDER_NOT_FOUND_IN_CACHE);
    };
    match check_pre_order(&ctx, &order_number, &login, &["ivr"]).await {
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
            ok_json(format!(r#"{{"result":{{"success":true,"message":""}},{}}}"#, found.fields[0]))
        }
        Err(err) => {
            log::error!("ivr pre_order: redis: {err}");
            pre_order_failure(UNAVAILABLE)
        }
    }
}

/// The answer of `/hooks/ivr/complete/`.
fn complete_answer(success: bool, message: &str, order_number: Option<&str>, reference: Option<&str>) -> Value {
    json!({"orderResultResponse": {
        "result": {"success": success, "message": message},
        "orderNumber": order_number,
        "referenceNumber": reference,
    }})
}

/// `POST /hooks/ivr/complete/`: records the payment through the same durable
/// path as the cash register, with the reference number as transaction id.
#[utoipa::path(operation_id = "completeIvrPayment", tag = "IVR hooks",
    request_body(description = "JSON or form-encoded", content((doc::IvrCompleteRequest = "application/json"), (doc::IvrCompleteRequest = "application/x-www-form-urlencoded"))),
    description = "Records a phone payment (reference number as transaction id) with the same money-safety rules as the cash register. Failure messages in order: `Input invalid` → `User invalid` → `Success must be true` → `Order Not Found` (not in cache, or session gone) → `PaymentOption is null` → `PaymentOption is not valid...` → `Amount mismatch` → `Basket Changed`; `Service unavailable` (retry).",
    responses(
        (status = 200, description = "Always 200: orderResultResponse.result.success, or its message", body = doc::IvrCompleteAnswer),
    ))]
#[post("/hooks/ivr/complete/")]
pub async fn complete(ctx: web::Data<AppContext>, req: HttpRequest, body: Result<web::Bytes, actix_web::Error>) -> HttpResponse {
    let fields = body_bytes(body).and_then(|b| HookFields::parse(&req, &b));
    let (message, answer) = complete_inner(&ctx, &req, fields.as_ref()).await;
    let label = if message.is_empty() { "success" } else { message };
    ctx.metrics.payments.with_label_values(&["ivr", label]).inc();
    ok_json(answer.to_string())
}

/// Returns the failure message (empty on success) and the answer.
async fn complete_inner(ctx: &AppContext, req: &HttpRequest, fields: Option<&HookFields>) -> (&'static str, Value) {
    let Some(f) = fields else {
        return (INPUT_INVALID, complete_answer(false, INPUT_INVALID, None, None));
    };
    let order_number = f.text("orderNumber").map(str::trim);
    let reference = f.text("referenceNumber").map(str::trim);
    let failure = |message: &'static str| (message, complete_answer(false, message, order_number, reference));

    let (Some(username), Some(password), Some(order_number), Some(reference)) =
        (f.text("username"), f.text("password"), order_number, reference)
    else {
        return failure(INPUT_INVALID);
    };
    let (Some(success), Ok(Some(amount)), Ok(staff_id)) = (f.boolean("success"), f.decimal("amount"), f.integer("staffId"))
    else {
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
        return match lockouts::is_locked(ctx, &login).await {
            Ok(true) => {
                lockouts::record_failure(ctx, &login).await;
                failure(USER_INVALID)
            }
            Ok(false) => failure("Success must be true"),
            Err(err) => {
                log::error!("ivr complete: redis: {err}");
                failure(UNAVAILABLE)
            }
        };
    }
    // Once paid, a pre-order leaves the cache: the same reference gets its success again.
    let replay_or_not_found = || async {
        match payments::existing(ctx, order_number, Source::Ivr, reference).await {
            Ok(Outcome::Replay(stored)) => ("", stored),
            Ok(_) => failure(ORDER_NOT_FOUND),
            Err(err) => {
                log::error!("ivr complete {order_number}: {err}");
                failure(UNAVAILABLE)
            }
        }
    };
    let Some(number) = OrderNumber::parse(order_number) else {
        // Mistyped, or of an earlier form: Redis cannot know it; only a
        // payment recorded under it before is answered.
        if matches!(lockouts::is_locked(ctx, &login).await, Ok(true)) {
            lockouts::record_failure(ctx, &login).await;
            return failure(USER_INVALID);
        }
        return replay_or_not_found().await;
    };
    let order_number = number.as_str();
    let mut found = match check_pre_order(ctx, &number, &login, &["state", "doc"]).await {
        Ok(PreOrderCheck::LockedOut) => {
            lockouts::record_failure(ctx, &login).await;
            return failure(USER_INVALID);
        }
        Ok(PreOrderCheck::NotInCache | PreOrderCheck::SessionGone) => return replay_or_not_found().await,
        Ok(PreOrderCheck::NoPaymentOption) => return failure(PAYMENT_OPTION_NULL),
        Ok(PreOrderCheck::NotCashRegister) => return failure(PAYMENT_OPTION_INVALID),
        Ok(PreOrderCheck::Usable(found)) => found,
        Err(err) => {
            log::error!("ivr complete {order_number}: redis: {err}");
            return failure(UNAVAILABLE);
        }
    };
    let Ok(session) = serde_json::from_str::<Session>(&found.fields[0]) else {
        log::error!("ivr complete {order_number}: unreadable session state");
        return failure(UNAVAILABLE);
    };
    let unpaid = session.unpaid_amount();
    if amount != unpaid {
        return failure("Amount mismatch");
    }
    if found.basket_changed() {
        return failure(BASKET_CHANGED);
    }
    let success = complete_answer(true, "", Some(order_number), Some(reference));
    let staff_id = staff_id.or(session.staff.staff_id);
    let payment = NewPayment {
        order_number: order_number.to_string(),
        session_id: found.session_id,
        source: Source::Ivr,
        transaction_id: reference.to_string(),
        amount,
        paid_amount: unpaid,
        discounted_amount: None,
        promotions: json!([]),
        pre_order: found.fields.swap_remove(1),
        terminal_code: None,
        staff_id,
        staff_email: session.staff.staff_email,
        store_id: session.staff.store_id,
        response: success.clone(),
    };
    match payments::record(ctx, payment).await {
        Ok(Outcome::Recorded) => {
            payments::enqueue(ctx, order_number).await;
            ("", success)
        }
        Ok(Outcome::Replay(stored)) => ("", stored),
        Ok(_) => failure(ORDER_NOT_FOUND),
        Err(err) => {
            log::error!("ivr complete {order_number}: {err}");
            failure(UNAVAILABLE)
        }
    }
}
