//! Checkout sessions, baskets and pre-orders (SPEC §4), and the one place that
//! decides whether an order number's pre-order can be paid at the till.

pub mod model;
mod patch;
pub(crate) mod routes;
pub mod store;

pub use model::{Line, Session};
pub use routes::{routes, session_id_from};
pub use store::{Found, Lookup, Mirror};

use crate::catalog::CASH_REGISTER;
use crate::context::AppContext;
use crate::lockouts::Login;
use crate::order_number::OrderNumber;

/// The state of a pre-order as the hooks see it, checked in the SPEC's order.
/// Each protocol maps these outcomes to its own codes or messages.
pub enum PreOrderCheck {
    /// The caller's address or (username, address) pair is locked out after failed logins.
    LockedOut,
    /// The order number is not (or no longer) registered.
    NotInCache,
    /// The order number is registered but its checkout session is gone.
    SessionGone,
    /// No payment option is set on the pre-order.
    NoPaymentOption,
    /// The payment option is not of the `cash_register` type.
    NotCashRegister,
    /// Payable at the till, unless [`Found::basket_changed`] says the basket moved.
    Usable(Found),
}

/// Looks `order_number` up and reads the `wanted` fields of its session in one Redis
/// round trip, deciding everything but the basket check, which each hook
/// makes at its own place in its check order.
pub async fn check_pre_order(
    ctx: &AppContext,
    order_number: &OrderNumber,
    login: &Login,
    wanted: &[Mirror],
) -> redis::RedisResult<PreOrderCheck> {
    Ok(match store::lookup(ctx, order_number, login, wanted).await? {
        Lookup::LockedOut => PreOrderCheck::LockedOut,
        Lookup::NotInCache => PreOrderCheck::NotInCache,
        Lookup::SessionGone => PreOrderCheck::SessionGone,
        Lookup::Found(found) if found.payment_type.is_empty() => PreOrderCheck::NoPaymentOption,
        Lookup::Found(found) if found.payment_type != CASH_REGISTER => PreOrderCheck::NotCashRegister,
        Lookup::Found(found) => PreOrderCheck::Usable(found),
    })
}
