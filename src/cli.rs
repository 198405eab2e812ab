//! Command-line interface (clap wiring only).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Deploy the xmppd XMPP server from one YAML spec.
#[derive(Debug, Parser)]
#[command(name = "deploy", version, about)]
pub struct Cli {
    /// Where state lives (ACME account, certificates, DH groups); overrides `runtime.state_dir`.
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
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
    /// Show the deployment's certificate (names, issuer, not-after, days left); `renew` obtains
    /// or renews it.
    Certs(CertsArgs),
    /// Diffie-Hellman parameters.
    #[command(subcommand)]
    Dh(DhCommand),
    /// Container images, built on this machine (no registry needed).
    #[command(subcommand)]
    Images(ImagesCommand),
    /// Show what `apply` would change (`+` create, `~` update in place, `±` replace, `-` delete).
    Plan {
        /// Spec file.
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = Output::Human)]
        output: Output,
        /// Exit 0 when there is nothing to do, 2 when there are changes, 1 on error.
        #[arg(long)]
        detailed_exitcode: bool,
        #[command(flatten)]
        images: ImageArgs,
    },
    /// Make the running containers match the spec (a second apply changes nothing).
    Apply {
        /// Spec file.
        file: PathBuf,
        /// Seconds a container may take to become healthy.
        #[arg(long, default_value_t = 90)]
        health_timeout: u64,
        #[command(flatten)]
        images: ImageArgs,
    },
    /// Containers, health, images, ports, uptime, certificate expiry and xmppd version.
    Status {
        /// Spec file.
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = Output::Human)]
        output: Output,
    },
    /// Remove the containers and the network; volumes and state stay unless --purge.
    Destroy {
        /// Spec file.
        file: PathBuf,
        /// Also remove the volumes (accounts, messages, uploads) and the state directory.
        #[arg(long)]
        purge: bool,
        /// Do not ask before purging (needed for --purge when stdin is not a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Accounts in the running xmppd (passwords are read from stdin).
    User {
        #[arg(value_enum)]
        action: UserAction,
        /// Spec file.
        file: PathBuf,
        /// The account (not for `list`).
        jid: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UserAction {
    Add,
    Passwd,
    Del,
    List,
}

/// Where the xmppd image's binary comes from.
#[derive(Debug, Args)]
pub struct ImageArgs {
    /// Use this static xmppd binary instead of building one with cargo.
    #[arg(long, value_name = "PATH", env = "XMPPD_STATIC_BINARY")]
    pub xmppd_binary: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ImagesCommand {
    /// Build the images a spec needs (without SPEC: the xmppd and nginx images). An image whose
    /// content-hash tag exists is not built again; upstream images the spec names are checked.
    Build {
        /// Spec file.
        file: Option<PathBuf>,
        /// Use this static xmppd binary instead of building one with cargo.
        #[arg(long, value_name = "PATH")]
        xmppd_binary: Option<PathBuf>,
        /// Cargo workspace to build xmppd in (default: the one deploy was built from).
        #[arg(long, value_name = "DIR", conflicts_with = "xmppd_binary")]
        workspace: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CertsArgs {
    #[command(subcommand)]
    pub command: Option<CertsCommand>,
    /// Spec file.
    pub file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CertsCommand {
    /// Obtain or renew certificates only (renews when less than a third of the lifetime is left).
    Renew {
        /// Spec file.
        file: PathBuf,
        /// Renew even when the certificate is good.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DhCommand {
    /// Generate a fresh safe-prime DH group (PKCS#3 PEM), on every core, with a progress bar.
    Generate {
        /// Prime size in bits.
        #[arg(long, default_value_t = 2048)]
        bits: u32,
        /// Where to write the PEM.
        #[arg(long)]
        out: PathBuf,
        /// Worker threads (default: every core).
        #[arg(long)]
        threads: Option<usize>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Human,
    Json,
}
