//! The `cashdesk` command line: `serve`, `worker`, `migrate`, `settings`, `seed-demo`.

use crate::config::Settings;
use crate::settings::{self as dynamic, masked};
use crate::startup::{self, Application, RunOptions};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::Read;

#[derive(Parser, Debug)]
#[command(name = "cashdesk", version, about = "Pay at the till, phone payments and store cash drawers")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the HTTP API (and run a worker in the same process unless --no-worker).
    Serve {
        #[arg(long)]
        no_worker: bool,
    },
    /// Run the background worker only.
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Read or change dynamic settings.
    Settings {
        #[command(subcommand)]
        action: SettingsAction,
    },
    /// Load a demo catalog, options and hook credentials (idempotent).
    SeedDemo,
}

#[derive(Subcommand, Debug)]
pub enum SettingsAction {
    /// Print the current value (secrets masked).
    Get { key: String },
    /// Set a value given as JSON, or `-` to read the JSON from standard input.
    Set { key: String, value: String },
    /// Print every past value, newest first (secrets masked).
    History { key: String },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    match cli.command {
        Command::Serve { no_worker } => {
            let app = Application::build(settings, RunOptions { worker: !no_worker }).await?;
            log::info!("cashdesk listening on port {}", app.port());
            app.run_until_stopped().await
        }
        Command::Worker => run_worker(settings).await,
        Command::Migrate => {
            let ctx = startup::connect(settings).await?;
            startup::migrate(&ctx.db).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Settings { action } => run_settings(settings, action).await,
        Command::SeedDemo => {
            let ctx = startup::connect(settings).await?;
            startup::migrate(&ctx.db).await?;
            crate::demo::seed(&ctx).await?;
            println!(
                "demo data ready: products SKU-1..SKU-5, payment option cash-register, shipping option pickup, \
                 cash register credentials {} / {} (unless already configured)",
                crate::demo::DEMO_USERNAME,
                crate::demo::DEMO_PASSWORD
            );
            Ok(())
        }
    }
}

async fn run_worker(settings: Settings) -> anyhow::Result<()> {
    let ctx = startup::connect(settings).await?;
    startup::migrate(&ctx.db).await?;
    // The webhook dispatcher reads its endpoints from the dynamic settings.
    ctx.settings.reload(&ctx.db).await.context("failed to load dynamic settings")?;
    let stop = tokio_util::sync::CancellationToken::new();
    let mut handles = crate::worker::spawn(ctx.clone(), stop.clone());
    handles.push((
        "settings follower",
        tokio::spawn(std::sync::Arc::clone(&ctx.settings).follow(
            ctx.db.clone(),
            ctx.config.redis_target(),
            ctx.keys.clone(),
            stop.clone(),
        )),
    ));
    log::info!("worker running");
    shutdown_signal().await;
    log::info!("stopping: finishing the jobs in hand");
    stop.cancel();
    for (name, handle) in handles {
        if let Err(err) = handle.await {
            log::error!("{name} died: {err}");
        }
    }
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

async fn run_settings(settings: Settings, action: SettingsAction) -> anyhow::Result<()> {
    let ctx = startup::connect(settings).await?;
    startup::migrate(&ctx.db).await?;
    match action {
        SettingsAction::Get { key } => {
            let row = dynamic::get(&ctx.db, &key).await?.with_context(|| format!("{key} is not set"))?;
            println!("{}", serde_json::to_string_pretty(&masked(&key, &row.value))?);
        }
        SettingsAction::Set { key, value } => {
            let text = if value == "-" {
                let mut buf = String::new();
                std::io::stdin().read_to_string(&mut buf).context("failed to read the value from standard input")?;
                buf
            } else {
                value
            };
            let json: serde_json::Value = serde_json::from_str(&text).context("the value is not valid JSON")?;
            let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
            let row = dynamic::set(&ctx.db, &key, &json, &format!("cli:{user}")).await?;
            let mut redis = ctx.redis();
            dynamic::notify_change(&mut redis, &ctx.keys, &key).await;
            println!("{key} is now at version {}", row.version);
        }
        SettingsAction::History { key } => {
            for entry in dynamic::history(&ctx.db, &key).await? {
                println!(
                    "v{} {} by {}: {}",
                    entry.version,
                    entry.updated_at.to_rfc3339(),
                    entry.updated_by,
                    masked(&key, &entry.value)
                );
            }
        }
    }
    Ok(())
}
