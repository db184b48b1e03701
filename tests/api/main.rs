//! Black-box tests: each test starts the real app on a free port against its
//! own Postgres database and Redis key prefix, and drives it over HTTP.

mod helpers;

mod admin_page;
mod browser;
mod cash_register;
mod checkout;
mod cluster;
mod deposits;
mod drawer_cash_ops;
mod drawers;
mod failover;
mod faults;
mod foundation;
mod hostile_input;
mod ivr;
mod lockouts;
mod logs;
mod openapi;
mod order_numbers;
mod sales;
mod security;
mod settings;
mod webhooks;
mod worker;
