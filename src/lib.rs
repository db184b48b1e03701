//! cashdesk: pay-at-the-till and phone payments for online baskets, and store cash drawers.

pub mod admin;
pub mod catalog;
pub mod checkout;
pub mod cli;
pub mod config;
pub mod context;
pub mod demo;
pub mod drawers;
pub mod error;
pub mod hooks;
pub mod json_body;
pub mod keys;
pub mod metrics;
pub mod middleware;
pub mod money;
pub mod openapi;
pub mod orders;
pub mod payments;
pub mod routes;
pub mod sales;
pub mod secrets;
pub mod settings;
pub mod startup;
pub mod webhooks;
pub mod worker;
