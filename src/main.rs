//! `deploy` binary: wires the CLI to the library.

mod cli;

use anyhow::Context as _;
use clap::Parser as _;
use cli::{CertsArgs, CertsCommand, Cli, Command, DhCommand, ImagesCommand, Output};
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
    let state_dir = cli.state_dir;
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
        Command::Certs(args) => certs(args, state_dir),
        Command::Dh(DhCommand::Generate { bits, out, threads }) => {
            let threads = threads.unwrap_or_else(deploy::dh::threads);
            let start = std::time::Instant::now();
            let p = deploy::dh::generate(bits, threads, std::io::stderr().is_terminal())?;
            deploy::certs::store::write_atomic(
                &out,
                deploy::dh::to_pem(&p).as_bytes(),
                deploy::certs::store::PUBLIC_MODE,
            )?;
            eprintln!(
                "{bits}-bit DH group written to {} in {:.1} s on {threads} thread(s)",
                out.display(),
                start.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Images(ImagesCommand::Build {
            file,
            xmppd_binary,
            workspace,
        }) => images_build(file, xmppd_binary, workspace),
    }
}

/// `deploy images build [SPEC] [--xmppd-binary PATH | --workspace DIR]`.
fn images_build(
    file: Option<std::path::PathBuf>,
    xmppd_binary: Option<std::path::PathBuf>,
    workspace: Option<std::path::PathBuf>,
) -> anyhow::Result<ExitCode> {
    use deploy::images::{Options, XmppdSource};
    let validated = file.as_deref().map(validate_file).transpose()?;
    if let (Some(file), Some(v)) = (&file, &validated)
        && v.model.is_none()
    {
        report(file, v, Output::Human)?;
        return Ok(ExitCode::FAILURE);
    }
    let mut options = Options::from_workspace(std::io::stderr().is_terminal());
    if let Some(path) = xmppd_binary {
        options.xmppd = XmppdSource::Binary(path);
    } else if let Some(workspace) = workspace {
        options.xmppd = XmppdSource::Build { workspace };
    }
    let model = validated.as_ref().and_then(|v| v.model.as_ref());
    deploy::images::command::build(model, &options, &mut std::io::stdout().lock())?;
    Ok(ExitCode::SUCCESS)
}

/// `deploy certs SPEC` and `deploy certs renew SPEC [--force]`.
fn certs(args: CertsArgs, state_dir: Option<std::path::PathBuf>) -> anyhow::Result<ExitCode> {
    let (file, force, show) = match (args.command, args.file) {
        (Some(CertsCommand::Renew { file, force }), _) => (file, force, false),
        (None, Some(file)) => (file, false, true),
        (None, None) => anyhow::bail!("usage: deploy certs SPEC | deploy certs renew SPEC"),
    };
    let validated = validate_file(&file)?;
    let Some(model) = &validated.model else {
        report(&file, &validated, Output::Human)?;
        return Ok(ExitCode::FAILURE);
    };
    let mut out = std::io::stdout().lock();
    if show {
        deploy::certs::command::show(model, state_dir.as_deref(), &mut out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let options = deploy::certs::Options {
        state_dir,
        force,
        progress: std::io::stderr().is_terminal(),
        acme_timeout: None,
        now: None,
    };
    deploy::certs::command::renew(model, &options, &mut out, &mut std::io::stderr())?;
    Ok(ExitCode::SUCCESS)
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
