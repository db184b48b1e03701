//! Store cash drawers (SPEC §8): configuration, drawers and their state
//! machine, sales and non-sale transactions, counts, reports, and the
//! append-only, hash-chained ledger every balance and report is derived from.
//!
//! Every write locks its drawer row first, so writes to one drawer are
//! serialised and the ledger chain stays linear; writes to different drawers
//! run in parallel.

mod auth;
mod counts;
mod drawer;
mod for_deposits;
pub(crate) mod idempotency;
mod ledger;
mod model;
mod reports;
pub(crate) mod routes;
mod stores;
mod transactions;

pub use auth::{issue_token, revoke as revoke_token, Caller};
pub use for_deposits::{counts_of_store, store_cash, CountOfStore, StoreCash};
pub use model::{AssociateRole, DrawerError};
pub use reports::{overview, DrawerBalance, Page, PageQuery};
pub use routes::routes;
