//! `deploy` binary: wires the CLI to the library.

mod cli;

use anyhow::Context as _;
use clap::Parser as _;
use cli::{CertsArgs, CertsCommand, Cli, Command, DhCommand, ImageArgs, ImagesCommand, Output};
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
        Command::Plan {
            file,
            output,
            detailed_exitcode,
            images,
        } => {
            let Some(model) = load(&file)? else {
                return Ok(ExitCode::FAILURE);
            };
            let format = match output {
                Output::Json => deploy::ops::Format::Json,
                Output::Human => deploy::ops::Format::Human {
                    colour: std::io::stdout().is_terminal(),
                },
            };
            let options = apply_options(state_dir, &images, 90);
            let plan = deploy::ops::plan(model, &options, format, &mut std::io::stdout().lock())?;
            Ok(if detailed_exitcode && !plan.is_empty() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Apply {
            file,
            health_timeout,
            images,
        } => {
            let Some(model) = load(&file)? else {
                return Ok(ExitCode::FAILURE);
            };
            let options = apply_options(state_dir, &images, health_timeout);
            let colour = std::io::stdout().is_terminal();
            let plan = deploy::ops::apply(model, &options, colour, &mut std::io::stdout())?;
            if !plan.is_empty() {
                println!("applied {} change(s)", plan.changes.len());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { file, output } => {
            let Some(model) = load(&file)? else {
                return Ok(ExitCode::FAILURE);
            };
            let format = match output {
                Output::Json => deploy::ops::Format::Json,
                Output::Human => deploy::ops::Format::Human { colour: false },
            };
            let dir = absolute_state(&model, state_dir)?;
            deploy::ops::status::status(&model, &dir, format, &mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Destroy { file, purge, yes } => {
            let Some(model) = load(&file)? else {
                return Ok(ExitCode::FAILURE);
            };
            let dir = absolute_state(&model, state_dir)?;
            if purge && !yes && !confirm(&model.name)? {
                anyhow::bail!("not purging: confirm on a terminal, or pass --yes");
            }
            deploy::ops::destroy::destroy(&model, &dir, purge, &mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::User { action, file, jid } => {
            let Some(model) = load(&file)? else {
                return Ok(ExitCode::FAILURE);
            };
            use deploy::ops::user::UserAction as A;
            let action = match action {
                cli::UserAction::Add => A::Add,
                cli::UserAction::Passwd => A::Passwd,
                cli::UserAction::Del => A::Del,
                cli::UserAction::List => A::List,
            };
            let password = if matches!(action, A::Add | A::Passwd) {
                if std::io::stdin().is_terminal() {
                    eprint!("password: ");
                }
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                Some(line)
            } else {
                None
            };
            let (code, out) =
                deploy::ops::user::run(&model, action, jid.as_deref(), password.as_deref())?;
            print!("{out}");
            Ok(if code == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// Validates a spec; prints the diagnostics and returns `None` when it is invalid.
fn load(file: &Path) -> anyhow::Result<Option<deploy::Model>> {
    let validated = validate_file(file)?;
    if validated.model.is_none() || validated.warnings() > 0 {
        report(file, &validated, Output::Human)?;
    }
    Ok(validated.model)
}

fn apply_options(
    state_dir: Option<std::path::PathBuf>,
    images: &ImageArgs,
    health_timeout: u64,
) -> deploy::apply::Options {
    let progress = std::io::stderr().is_terminal();
    let mut image_options = deploy::images::Options::from_workspace(progress);
    if let Some(path) = &images.xmppd_binary {
        image_options.xmppd = deploy::images::XmppdSource::Binary(path.clone());
    }
    deploy::apply::Options {
        state_dir,
        images: image_options,
        health_timeout: std::time::Duration::from_secs(health_timeout),
    }
}

fn absolute_state(
    model: &deploy::Model,
    state_dir: Option<std::path::PathBuf>,
) -> anyhow::Result<std::path::PathBuf> {
    let dir = deploy::certs::state_dir(model, state_dir.as_ref());
    Ok(std::path::absolute(dir)?)
}

/// Asks on a terminal before deleting data; never says yes without one.
fn confirm(name: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    eprint!("purge deletes every account, message and upload of `{name}`; type its name: ");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim() == name)
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
