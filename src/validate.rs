//! The validation pipeline: YAML with positions -> JSON schema -> serde -> semantic checks.
//! Each stage reports every problem it finds; a later stage runs only when the earlier ones
//! found no error, so one mistake is never reported twice.

use crate::diag::{self, Diagnostic};
use crate::error::DeployError;
use crate::model::Model;
use crate::schema_check::SchemaChecker;
use crate::source;
use crate::spec::Spec;
use serde_json::Value;
use std::path::Path;

/// The outcome of validating a spec.
#[derive(Debug)]
pub struct Validated {
    /// The model, when the spec has no error.
    pub model: Option<Model>,
    /// Errors and warnings, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Validated {
    /// Whether the spec has no error (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.model.is_some()
    }

    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// Validates spec `text`; relative paths in it resolve against `base` (the spec's folder).
pub fn validate_text(text: &str, base: &Path) -> Result<Validated, DeployError> {
    let finish = |model: Option<Model>, mut diagnostics: Vec<Diagnostic>| {
        diag::sort(&mut diagnostics);
        Ok(Validated { model, diagnostics })
    };
    let parsed = match source::parse(text) {
        Ok(p) => p,
        Err(d) => return finish(None, vec![d]),
    };
    let checker = SchemaChecker::new(Spec::json_schema_value())?;
    let mut diags = parsed.problems;
    diags.extend(checker.check(&parsed.value, &parsed.index));
    if diags.iter().any(Diagnostic::is_error) {
        // Report semantic problems elsewhere in the same run: drop what the schema refused and,
        // if the rest is a valid spec, check it too (skipping paths already reported).
        let mut pruned = parsed.value.clone();
        for d in &diags {
            remove_path(&mut pruned, &d.path);
        }
        if checker.check(&pruned, &parsed.index).is_empty()
            && let Ok(spec) = serde_json::from_value::<Spec>(pruned)
        {
            let more = match Model::build(&spec, base) {
                Ok((_, warnings)) => warnings,
                Err(all) => all,
            };
            let reported: Vec<String> = diags.iter().map(|d| d.path.clone()).collect();
            let related = |p: &str| {
                reported.iter().any(|r| {
                    r.is_empty()
                        || p == r
                        || p.starts_with(&format!("{r}."))
                        || r.starts_with(&format!("{p}."))
                        || r.starts_with(&format!("{p}["))
                })
            };
            diags.extend(
                more.into_iter()
                    .filter(|d| !related(&d.path))
                    .map(|d| parsed.index.locate(d)),
            );
        }
        return finish(None, diags);
    }
    let spec: Spec = match serde_yaml::from_str(text) {
        Ok(spec) => spec,
        Err(e) => {
            // The schema should catch everything serde refuses; this is the safety net.
            let mut d = Diagnostic::error("", e.to_string());
            if let Some(loc) = e.location() {
                d = d.at(loc.line(), loc.column());
            }
            return finish(None, vec![d]);
        }
    };
    match Model::build(&spec, base) {
        Ok((model, warnings)) => {
            let located = warnings
                .into_iter()
                .map(|d| parsed.index.locate(d))
                .collect();
            finish(Some(model), located)
        }
        Err(all) => finish(
            None,
            all.into_iter().map(|d| parsed.index.locate(d)).collect(),
        ),
    }
}

/// Removes the value at a spec path (`a.b[2].c`) from a JSON value, if present.
fn remove_path(value: &mut Value, path: &str) {
    let mut segments: Vec<Segment> = Vec::new();
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        if !key.is_empty() {
            segments.push(Segment::Key(key));
        }
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                segments.push(Segment::Index(i));
            }
        }
    }
    let Some((last, parents)) = segments.split_last() else {
        return;
    };
    let mut node = value;
    for seg in parents {
        let next = match (seg, node) {
            (Segment::Key(k), Value::Object(m)) => m.get_mut(*k),
            (Segment::Index(i), Value::Array(a)) => a.get_mut(*i),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return,
        }
    }
    match (last, node) {
        (Segment::Key(k), Value::Object(m)) => {
            m.remove(*k);
        }
        (Segment::Index(i), Value::Array(a)) if *i < a.len() => {
            a.remove(*i);
        }
        _ => {}
    }
}

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// Reads and validates a spec file, or stdin for `-` (paths then resolve against the current
/// folder).
pub fn validate_file(path: &Path) -> Result<Validated, DeployError> {
    let read_err = |source| DeployError::ReadSpec {
        path: path.to_path_buf(),
        source,
    };
    if path == Path::new("-") {
        let text = std::io::read_to_string(std::io::stdin()).map_err(read_err)?;
        return validate_text(&text, Path::new("."));
    }
    let text = std::fs::read_to_string(path).map_err(read_err)?;
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    validate_text(&text, base)
}
