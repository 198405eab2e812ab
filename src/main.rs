//! `deploy` binary: wires the CLI to the library.

mod cli;

use anyhow::Context as _;
use clap::Parser as _;
use cli::{Cli, Command, Output};
use deploy::validate::{Validated, validate_file};
use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("deploy: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Schema { xmppd } => {
            let schema = if xmppd {
                xmppd_config::Config::json_schema()
            } else {
                deploy::Spec::json_schema()
            };
            write!(std::io::stdout().lock(), "{schema}")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { file, output } => {
            let validated = validate_file(&file)?;
            report(&file, &validated, output)?;
            Ok(exit(&validated))
        }
        Command::Render { file, out, root } => {
            let validated = validate_file(&file)?;
            report(&file, &validated, Output::Human)?;
            let Some(model) = &validated.model else {
                return Ok(ExitCode::FAILURE);
            };
            let files = deploy::render::render(model, &deploy::render::Options { root })
                .context("rendering")?;
            let mut stdout = std::io::stdout().lock();
            for path in deploy::render::write(&files, &out)? {
                writeln!(stdout, "{}", path.display())?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn exit(v: &Validated) -> ExitCode {
    if v.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Prints diagnostics (stderr, coloured on a terminal) or JSON (stdout).
fn report(file: &Path, v: &Validated, output: Output) -> anyhow::Result<()> {
    let name = if file == Path::new("-") {
        "<stdin>".to_owned()
    } else {
        file.display().to_string()
    };
    match output {
        Output::Json => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", serde_json::to_string_pretty(&v.diagnostics)?)?;
        }
        Output::Human => {
            let colour = std::io::stderr().is_terminal();
            for d in &v.diagnostics {
                eprintln!("{}", d.human(&name, colour));
            }
            if v.is_valid() {
                eprintln!("{name}: valid ({} warning(s))", v.warnings());
            } else {
                eprintln!(
                    "{name}: invalid: {} error(s), {} warning(s)",
                    v.errors(),
                    v.warnings()
                );
            }
        }
    }
    Ok(())
}
