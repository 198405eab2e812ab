//! Command-line wiring only; each subcommand lives in its own module.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// A fast, safe XMPP server.
#[derive(Debug, Parser)]
#[command(name = "xmppd", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a config: valid, certificates cover every domain and are not expiring, ports free.
    Check {
        /// The server config (TOML).
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Print version, build and supported protocols.
    About,
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check { config } => crate::check::run(&config),
        Command::About => {
            print!("{}", about());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn about() -> String {
    format!(
        "xmppd {}\nTLS: rustls {} with aws-lc-rs (TLS 1.2 and 1.3, AEAD and forward secrecy only)\n",
        env!("CARGO_PKG_VERSION"),
        "0.23",
    )
}
