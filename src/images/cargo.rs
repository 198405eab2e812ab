//! The static build of the xmppd binary: `cargo build --release` for the glibc target with
//! `+crt-static` (a static-pie that runs in an empty root), with a spinner showing cargo's
//! current line. The executable's path comes from cargo's JSON messages, so any target folder
//! (`CARGO_TARGET_DIR`, `build.target-dir`) works.

use super::ImagesError;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::VecDeque;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The target triple of the static build (glibc, statically linked).
pub const TARGET: &str = "x86_64-unknown-linux-gnu";

/// Lines of cargo's stderr kept for the error message when the build fails.
const TAIL_LINES: usize = 30;

/// Builds xmppd in the workspace at `source_dir`; returns the executable's path.
/// Blocking: call it from `spawn_blocking` in async code.
pub fn build_xmppd(source_dir: &Path, progress: bool) -> Result<PathBuf, ImagesError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // Appended, not replaced, so a caller's own flags stay; the flag applies to the target
    // only (with --target, build scripts and proc-macros stay dynamic, as they must).
    let rustflags = match std::env::var("RUSTFLAGS") {
        Ok(f) if !f.trim().is_empty() => format!("{f} -C target-feature=+crt-static"),
        _ => "-C target-feature=+crt-static".to_owned(),
    };
    let mut child = Command::new(cargo)
        .current_dir(source_dir)
        .args(["build", "--release", "--locked", "--target", TARGET])
        .args(["-p", "xmppd", "--bin", "xmppd"])
        .arg("--message-format=json-render-diagnostics")
        .env("RUSTFLAGS", rustflags)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| ImagesError::SpawnCargo {
            dir: source_dir.to_path_buf(),
            source,
        })?;
    let spinner = spinner(progress);
    let stderr = child.stderr.take().map(BufReader::new);
    let stdout = child.stdout.take().map(BufReader::new);
    // stderr (human lines) on its own thread so neither pipe can fill up and stall cargo.
    let bar = spinner.clone();
    let tail = std::thread::spawn(move || {
        let mut tail = VecDeque::with_capacity(TAIL_LINES);
        for line in stderr
            .into_iter()
            .flat_map(|r| r.lines())
            .map_while(Result::ok)
        {
            bar.set_message(line.trim().to_owned());
            if tail.len() == TAIL_LINES {
                tail.pop_front();
            }
            tail.push_back(line);
        }
        tail.into_iter().collect::<Vec<_>>().join("\n")
    });
    let mut executable = None;
    for line in stdout
        .into_iter()
        .flat_map(|r| r.lines())
        .map_while(Result::ok)
    {
        if let Some(path) = artifact(&line) {
            executable = Some(path);
        }
    }
    let status = child.wait().map_err(|source| ImagesError::SpawnCargo {
        dir: source_dir.to_path_buf(),
        source,
    })?;
    let tail = tail.join().unwrap_or_default();
    spinner.finish_and_clear();
    if !status.success() {
        return Err(ImagesError::CargoBuild {
            status: status.to_string(),
            tail,
        });
    }
    executable.ok_or(ImagesError::CargoNoArtifact)
}

fn spinner(progress: bool) -> ProgressBar {
    if !progress {
        return ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} building xmppd (static) [{elapsed}] {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// The executable of a `compiler-artifact` message for the xmppd binary, if `line` is one.
fn artifact(line: &str) -> Option<PathBuf> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    if v.get("reason")?.as_str()? != "compiler-artifact"
        || v.pointer("/target/name")?.as_str()? != "xmppd"
    {
        return None;
    }
    v.get("executable")?.as_str().map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::artifact;
    use std::path::PathBuf;

    #[test]
    fn finds_the_xmppd_executable_in_cargo_messages() {
        let bin = r#"{"reason":"compiler-artifact","target":{"name":"xmppd","kind":["bin"]},"executable":"t/release/xmppd"}"#;
        let lib = r#"{"reason":"compiler-artifact","target":{"name":"xmppd_core","kind":["lib"]},"executable":null}"#;
        let done = r#"{"reason":"build-finished","success":true}"#;
        assert_eq!(artifact(bin), Some(PathBuf::from("t/release/xmppd")));
        assert_eq!(artifact(lib), None);
        assert_eq!(artifact(done), None);
        assert_eq!(artifact("not json"), None);
    }
}
