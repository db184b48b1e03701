//! Webhooks: outbox, signing, retries.
