use clap::Parser;

#[tokio::main]
async fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = cashdesk::cli::Cli::parse();
    if let Err(err) = cashdesk::cli::run(cli).await {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
