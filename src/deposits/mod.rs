//! Store deposits (SPEC §13): the cash a store takes to the bank in a
//! numbered bag, made from its drawers' submitted counts, `prepared` →
//! `in_transit` → `banked` (with what the bank counted, and the variance).
//!
//! Every step is a row of the store ledger, an append-only hash chain per
//! store like a drawer's ledger (`crate::hash_chain`); a deposit's current
//! state is kept beside it for listing, and can be rebuilt from those rows.
//! Writes to one store are serialised by locking its chain head; auth and
//! `Idempotency-Key` are the drawer API's (`crate::drawers`).

mod deposit;
mod ledger;
mod model;
pub(crate) mod routes;

pub use deposit::not_banked;
pub use model::{Deposit, DepositError, DepositStatus};
pub use routes::routes;
