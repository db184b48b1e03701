//! Dynamic settings: values operators change at run time (hook credentials,
//! webhook endpoints), stored in Postgres with their full history, cached in
//! memory on every instance and refreshed within 2 s of a change anywhere.

mod cache;
mod store;
mod values;

pub use cache::{CashRegisterAuth, DynamicSettings, Snapshot, WebhookEndpoint};
pub use store::{get, history, list, notify_change, set, HistoryEntry, SettingRow};
pub use values::{describe_changes, masked, prepare_write, KNOWN_KEYS, MASK};

pub const CASH_REGISTER_AUTH_CONF: &str = "CASH_REGISTER_AUTH_CONF";
pub const ORDER_WEBHOOK_CONF: &str = "ORDER_WEBHOOK_CONF";

/// Why a settings write was refused.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("unknown setting {0:?}; known settings: {known}", known = KNOWN_KEYS.join(", "))]
    UnknownKey(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}
