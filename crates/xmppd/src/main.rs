//! xmppd: wires config -> storage -> modules -> listeners, and the admin subcommands.

mod check;
mod cli;
mod health;
mod serve;
mod users;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("xmppd: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
