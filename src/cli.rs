//! Command-line interface (clap wiring only).

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Deploy the xmppd XMPP server from one YAML spec.
#[derive(Debug, Parser)]
#[command(name = "deploy", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the JSON schema of the spec (or, with --xmppd, of the xmppd config).
    Schema {
        /// Print the schema of the rendered xmppd config instead.
        #[arg(long)]
        xmppd: bool,
    },
    /// Check a spec and report every problem with its line:column. Exit 0 valid, 1 invalid.
    Validate {
        /// Spec file, or `-` for stdin.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Output::Human)]
        output: Output,
    },
    /// Render the files a deployment uses (xmppd config, nginx config, DNS records).
    Render {
        /// Spec file, or `-` for stdin.
        file: PathBuf,
        /// Folder to write the files into.
        #[arg(long)]
        out: PathBuf,
        /// Folder where the rendered files will live when nginx reads them.
        #[arg(long, default_value = "/deploy")]
        root: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Human,
    Json,
}
