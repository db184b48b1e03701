//! Orders: created from accepted payments by the worker (and from outside
//! sales by the sales web service), and the orders API.

mod create;
mod routes;

pub use create::{from_payment, insert, NewDiscount, NewLine, NewOrder, PaymentRow};
pub use routes::{find, routes};
