//! Orders: created from accepted payments by the worker (and from outside
//! sales by the sales web service), and the orders API.

mod create;
pub mod read;
pub(crate) mod routes;
pub mod vat;

pub use create::{from_payment, insert, insert_all, NewDiscount, NewLine, NewOrder};
pub use read::{StoredLine, StoredOrder};
pub use routes::{find, routes};

use crate::order_number::{Bucket, OrderNumber};

/// Draws the next order number from the durable sequence: unique forever,
/// across instances, restarts and Redis flushes. `bucket` places it in its
/// checkout session's Redis slot (see `order_number.rs`).
pub async fn next_order_number(db: impl sqlx::PgExecutor<'_>, bucket: Bucket) -> Result<OrderNumber, sqlx::Error> {
    let n = sqlx::query_scalar!(r#"SELECT nextval('order_number_seq') AS "n!""#).fetch_one(db).await?;
    Ok(OrderNumber::issue(n, bucket))
}
