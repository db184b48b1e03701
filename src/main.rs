use clap::Parser;

/// mimalloc: request handling allocates many small short-lived buffers,
/// where it beats the system allocator (see docs/PERFORMANCE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = cashdesk::cli::Cli::parse();
    if let Err(err) = cashdesk::cli::run(cli).await {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
