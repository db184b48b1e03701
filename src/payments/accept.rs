//! The one "pay a pre-order" use case, for both hook protocols (SPEC §5, §6):
//! check that the pre-order of an order number can be paid with what the till
//! or the phone line offers, record the payment durably and queue its order.
//! Each hook maps a [`Refusal`] to its own codes and messages; the checks run
//! in the order both protocols share.

use super::promotions::{self, Promotion};
use super::{enqueue, existing, record, NewPayment, Outcome, Source};
use crate::checkout::{check_pre_order, Mirror, PreOrderCheck, Session};
use crate::context::AppContext;
use crate::lockouts::Login;
use crate::order_number::OrderNumber;
use rust_decimal::Decimal;
use serde_json::Value;

/// What a hook offers to pay an order number with.
pub struct Offer<'a> {
    pub source: Source,
    pub order_number: &'a OrderNumber,
    /// The till's transaction id, or the phone payment's reference.
    pub transaction_id: &'a str,
    /// What the till or phone says it took.
    pub amount: Decimal,
    /// With promotions: what the till says is due after them (compared instead of `amount`).
    pub discounted_amount: Option<Decimal>,
    pub promotions: &'a [Promotion],
    pub terminal_code: Option<&'a str>,
    /// Overrides the session's staff id (the IVR's `staffId`).
    pub staff_id: Option<i64>,
}

/// Why a payment was not accepted, in the order the checks run.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The caller is locked out after failed logins.
    LockedOut,
    /// The order number is not (or no longer) registered, and not paid by this transaction.
    NotInCache,
    /// The number's checkout session is gone, and it is not paid by this transaction.
    SessionGone,
    NoPaymentOption,
    NotCashRegister,
    /// A promotion cannot be applied; the reason.
    Offer(String),
    /// What was offered is not what is due.
    AmountMismatch {
        offered: Decimal,
        unpaid: Decimal,
    },
    /// The basket differs from when the number was issued.
    BasketChanged,
    /// Another transaction paid the order number.
    PaidByAnother,
    /// The session was paid under another order number.
    SessionAlreadyPaid,
    /// Postgres or Redis could not be reached: nothing was recorded; retry.
    Unavailable,
}

/// Pays the pre-order of `offer.order_number`, or says why not. `answer`
/// builds the success answer from the session (it is stored with the
/// payment, so a retry of the same transaction gets it again, word for word,
/// even after the pre-order has left the cache). Only after the payment is
/// committed does this return the answer; then the order's job is queued.
pub async fn accept(
    ctx: &AppContext,
    login: &Login,
    offer: Offer<'_>,
    answer: impl FnOnce(&Session) -> Value,
) -> Result<Value, Refusal> {
    let number = offer.order_number.as_str();
    let unavailable = |err: &dyn std::fmt::Display| {
        log::error!("{} complete {number}: {err}", offer.source.as_str());
        Refusal::Unavailable
    };
    let found = match check_pre_order(ctx, offer.order_number, login, &[Mirror::State, Mirror::Doc]).await {
        Err(err) => return Err(unavailable(&err)),
        Ok(PreOrderCheck::LockedOut) => return Err(Refusal::LockedOut),
        Ok(PreOrderCheck::NotInCache) => {
            return replayed(ctx, offer.source, number, offer.transaction_id, Refusal::NotInCache).await
        }
        Ok(PreOrderCheck::SessionGone) => {
            return replayed(ctx, offer.source, number, offer.transaction_id, Refusal::SessionGone).await
        }
        Ok(PreOrderCheck::NoPaymentOption) => return Err(Refusal::NoPaymentOption),
        Ok(PreOrderCheck::NotCashRegister) => return Err(Refusal::NotCashRegister),
        Ok(PreOrderCheck::Usable(found)) => found,
    };
    let session: Session =
        serde_json::from_str(found.state.as_deref().unwrap_or_default()).map_err(|e| unavailable(&e))?;
    let applied = promotions::apply(&session.lines, offer.promotions).map_err(Refusal::Offer)?;
    let unpaid = session.unpaid_amount() - promotions::total(&applied);
    let offered = offer.discounted_amount.filter(|_| !offer.promotions.is_empty()).unwrap_or(offer.amount);
    if offered != unpaid {
        return Err(Refusal::AmountMismatch { offered, unpaid });
    }
    if found.basket_changed() {
        return Err(Refusal::BasketChanged);
    }
    let success = answer(&session);
    let payment = NewPayment {
        order_number: number.to_string(),
        session_id: found.session_id,
        source: offer.source,
        transaction_id: offer.transaction_id.to_string(),
        amount: offer.amount,
        paid_amount: unpaid,
        discounted_amount: offer.discounted_amount,
        promotions: serde_json::to_value(&applied).map_err(|e| unavailable(&e))?,
        pre_order: found.doc.unwrap_or_default(),
        terminal_code: offer.terminal_code.map(str::to_string),
        staff_id: offer.staff_id.or(session.staff.staff_id),
        staff_email: session.staff.staff_email,
        store_id: session.staff.store_id,
        response: success.clone(),
    };
    match record(ctx, payment).await.map_err(|e| unavailable(&e))? {
        Outcome::Recorded => {
            enqueue(ctx, number).await;
            Ok(success)
        }
        Outcome::Replay(stored) => Ok(stored),
        Outcome::PaidByAnother | Outcome::Unpaid => Err(Refusal::PaidByAnother),
        Outcome::SessionAlreadyPaid => Err(Refusal::SessionAlreadyPaid),
        // Cancelled or expired a moment before: as if it had left the cache first.
        Outcome::Ended => Err(Refusal::NotInCache),
    }
}

/// Once paid, a pre-order leaves the cache: the same transaction gets its
/// stored success again; another transaction learns the number is paid;
/// otherwise `refusal` stands. `order_number` may be any text a hook was sent
/// (a till retrying a payment recorded under an earlier number form).
pub async fn replayed(
    ctx: &AppContext,
    source: Source,
    order_number: &str,
    transaction_id: &str,
    refusal: Refusal,
) -> Result<Value, Refusal> {
    match existing(ctx, order_number, source, transaction_id).await {
        Ok(Outcome::Replay(stored)) => Ok(stored),
        Ok(Outcome::PaidByAnother) => Err(Refusal::PaidByAnother),
        Ok(_) => Err(refusal),
        Err(err) => {
            log::error!("{} complete {order_number}: {err}", source.as_str());
            Err(Refusal::Unavailable)
        }
    }
}
