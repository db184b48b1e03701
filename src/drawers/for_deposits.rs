//! What the store's deposits (`crate::deposits`) read from the drawer domain:
//! whether a store is configured, the currencies its drawers hold, and the
//! counts a deposit is made from. Read-only; the tables stay this module's.

use super::model::CountStatus;
use crate::money::Currency;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

/// A store's cash setup as a deposit sees it.
#[derive(Debug, Clone)]
pub struct StoreCash {
    /// The currencies of the store's drawers (decommissioned ones too: their
    /// last day's cash may still be on its way to the bank).
    pub currencies: Vec<Currency>,
}

/// `None` when the store has no cash drawer configuration.
pub async fn store_cash(conn: &mut PgConnection, store_id: &str) -> Result<Option<StoreCash>, sqlx::Error> {
    let configured = sqlx::query_scalar!("SELECT store_id FROM store_cash_config WHERE store_id = $1", store_id)
        .fetch_optional(&mut *conn)
        .await?;
    if configured.is_none() {
        return Ok(None);
    }
    let codes = sqlx::query_scalar!(
        "SELECT DISTINCT currency FROM cash_drawers WHERE store_id = $1 ORDER BY currency",
        store_id
    )
    .fetch_all(&mut *conn)
    .await?;
    let currencies = codes.into_iter().filter_map(|code| Currency::try_from(code).ok()).collect();
    Ok(Some(StoreCash { currencies }))
}

/// A count of one of the store's drawers, as a deposit needs it.
#[derive(Debug, Clone)]
pub struct CountOfStore {
    pub count_id: Uuid,
    pub drawer_id: String,
    pub currency: String,
    pub submitted: bool,
    pub counted_amount: Option<Decimal>,
}

/// The counts among `ids` taken on drawers of `store_id` (others are left out).
pub async fn counts_of_store(
    conn: &mut PgConnection,
    store_id: &str,
    ids: &[Uuid],
) -> Result<Vec<CountOfStore>, sqlx::Error> {
    let rows = sqlx::query!(
        "SELECT c.count_id, c.drawer_id, d.currency, c.status, c.counted_amount
         FROM cash_counts c JOIN cash_drawers d ON d.drawer_id = c.drawer_id
         WHERE d.store_id = $1 AND c.count_id = ANY($2)",
        store_id,
        ids
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| CountOfStore {
            count_id: r.count_id,
            drawer_id: r.drawer_id,
            currency: r.currency,
            submitted: CountStatus::parse(&r.status) == Some(CountStatus::Submitted),
            counted_amount: r.counted_amount,
        })
        .collect())
}
