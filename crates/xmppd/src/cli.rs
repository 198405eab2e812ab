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
    /// Run the server in the foreground; SIGHUP re-reads certificates, SIGTERM stops.
    Run {
        /// The server config (TOML).
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Create an account; the password is read from standard input, never from arguments.
    Adduser {
        #[arg(long, short)]
        config: PathBuf,
        /// The account, e.g. alice@example.org.
        jid: String,
    },
    /// Change an account's password (read from standard input).
    Passwd {
        #[arg(long, short)]
        config: PathBuf,
        jid: String,
    },
    /// Delete an account and everything stored for it.
    Deluser {
        #[arg(long, short)]
        config: PathBuf,
        jid: String,
    },
    /// List the accounts of every hosted domain.
    Users {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Check a config: valid, certificates cover every domain and are not expiring, ports free.
    Check {
        /// The server config (TOML).
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Print version, build and supported protocols.
    About,
    /// Health probe for containers: exit 0 when the running server answers on its listeners.
    Health {
        #[arg(long, short)]
        config: PathBuf,
    },
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run { config } => crate::serve::run(&config),
        Command::Adduser { config, jid } => crate::users::add(&config, &jid),
        Command::Passwd { config, jid } => crate::users::passwd(&config, &jid),
        Command::Deluser { config, jid } => crate::users::delete(&config, &jid),
        Command::Users { config } => crate::users::list(&config),
        Command::Check { config } => crate::check::run(&config),
        Command::Health { config } => crate::health::run(&config),
        Command::About => {
            print!("{}", about());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn about() -> String {
    let mut out = format!("xmppd {}\n", env!("CARGO_PKG_VERSION"));
    out.push_str(
        "TLS: rustls with aws-lc-rs; TLS 1.2 and 1.3, AEAD suites with forward secrecy only\n",
    );
    out.push_str("SASL: SCRAM-SHA-1/256/512 and -PLUS (tls-exporter, tls-server-end-point); PLAIN only over TLS when allowed\n");
    out.push_str("Storage: SQLite (embedded), PostgreSQL\n");
    out.push_str("Protocols: RFC 6120, RFC 6121, XEP-0012, 0030, 0049, 0054, 0077, 0092, 0115, 0160, 0199, 0202, 0237, 0368\n");
    out
}
