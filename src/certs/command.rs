//! What `deploy certs`, `deploy certs renew` and `deploy dh generate` print: kept here so the
//! binary only wires arguments, and so `apply` can print the same lines.

use super::{Action, CertInfo, CertsError, Options, Outcome, StateDir, layout};
use crate::model::{CertSource, Model};
use std::io::Write;
use std::path::Path;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `deploy certs SPEC`: the certificate in place, one field a line; `Ok(false)` when none.
pub fn show(
    model: &Model,
    state_dir: Option<&Path>,
    out: &mut impl Write,
) -> Result<bool, CertsError> {
    let dir = super::state_dir(model, state_dir.map(Path::to_path_buf).as_ref());
    let state = StateDir::open(&dir)?;
    let path = state.path(layout::FULLCHAIN);
    let source = match &model.tls.certificates {
        CertSource::Acme { directory, .. } => format!("acme ({directory})"),
        CertSource::LocalCa => "local-ca".to_owned(),
        CertSource::Files { certificate, .. } => format!("files ({})", certificate.display()),
    };
    let wanted = super::wanted_names(model);
    let io = |e: std::io::Error| CertsError::Write {
        path: "stdout".into(),
        source: e,
    };
    writeln!(out, "source:    {source}").map_err(io)?;
    writeln!(out, "needs:     {}", wanted.join(", ")).map_err(io)?;
    if matches!(model.tls.certificates, CertSource::LocalCa) {
        let ca = state.path(layout::CA_CERT);
        // Clients must trust the development CA: say where it is every time.
        writeln!(out, "trust CA:  {}", ca.display()).map_err(io)?;
    }
    match super::current(&state)? {
        None => {
            writeln!(
                out,
                "no certificate at {} (run `deploy certs renew`)",
                path.display()
            )
            .map_err(io)?;
            Ok(false)
        }
        Some(info) => {
            write_info(&info, out).map_err(io)?;
            let missing: Vec<&String> =
                wanted.iter().filter(|n| !info.names.contains(*n)).collect();
            if !missing.is_empty() {
                let missing: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
                writeln!(out, "missing:   {}", missing.join(", ")).map_err(io)?;
            }
            Ok(true)
        }
    }
}

/// Names, issuer, serial, not-after and days left.
pub fn write_info(info: &CertInfo, out: &mut impl Write) -> std::io::Result<()> {
    let now = super::inspect::now();
    let names: Vec<&str> = info.names.iter().map(String::as_str).collect();
    writeln!(out, "names:     {}", names.join(", "))?;
    writeln!(out, "issuer:    {}", info.issuer)?;
    writeln!(out, "serial:    {}", info.serial)?;
    writeln!(out, "not after: {}", rfc3339(info.not_after))?;
    writeln!(out, "days left: {}", info.days_left(now))
}

fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

/// `deploy certs renew SPEC`: runs the step and reports what it did.
pub fn renew(
    model: &Model,
    options: &Options,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<Outcome, CertsError> {
    let outcome = super::renew(model, options)?;
    let io = |e: std::io::Error| CertsError::Write {
        path: "stdout".into(),
        source: e,
    };
    for note in &outcome.notes {
        writeln!(err, "note: {note}").map_err(io)?;
    }
    match &outcome.action {
        Action::Kept { days_left } => {
            writeln!(out, "certificate kept: {days_left} days left").map_err(io)?
        }
        Action::Issued { reason } => {
            writeln!(out, "certificate issued ({reason})").map_err(io)?;
        }
    }
    write_info(&outcome.info, out).map_err(io)?;
    if outcome.changed() {
        for hint in super::reload_hints() {
            writeln!(
                err,
                "reload {}: send SIG{} (or run `{}`)",
                hint.consumer,
                hint.signal,
                hint.command.join(" ")
            )
            .map_err(io)?;
        }
    }
    Ok(outcome)
}
