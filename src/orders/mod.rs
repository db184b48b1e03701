//! Orders: created from accepted payments by the worker (and from outside
//! sales by the sales web service), and the orders API.

mod create;
pub mod read;
pub(crate) mod routes;
pub mod vat;

pub use create::{from_payment, insert, insert_all, NewDiscount, NewLine, NewOrder, PaymentRow};
pub use read::{StoredLine, StoredOrder};
pub use routes::{find, routes};

use chrono::{Datelike, Utc};

/// Draws the next order number from the durable sequence: unique forever,
/// across instances, restarts and Redis flushes.
pub async fn next_order_number(db: impl sqlx::PgExecutor<'_>) -> Result<String, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT nextval('order_number_seq')").fetch_one(db).await?;
    Ok(format!("ORD-{}-{:06}", Utc::now().year(), n))
}
