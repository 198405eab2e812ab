//! Validation of the spec (as a JSON value) against its generated JSON schema, turning every
//! schema error into a located [`Diagnostic`] with a readable message and a "did you mean" hint.

use crate::diag::Diagnostic;
use crate::error::DeployError;
use crate::source::{SourceIndex, join_index, join_key};
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

/// A compiled spec schema.
#[derive(Debug)]
pub struct SchemaChecker {
    schema: Value,
    validator: Validator,
}

impl SchemaChecker {
    /// Compiles `schema` (normally [`crate::Spec::json_schema_value`]).
    pub fn new(schema: Value) -> Result<Self, DeployError> {
        let validator =
            jsonschema::validator_for(&schema).map_err(|e| DeployError::CompileSchema {
                message: e.to_string(),
            })?;
        Ok(Self { schema, validator })
    }

    /// Every schema error in `value`, located with `index`.
    pub fn check(&self, value: &Value, index: &SourceIndex) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for error in self.validator.iter_errors(value) {
            self.convert(&error, index, &mut out);
        }
        out.dedup();
        out
    }

    fn convert(&self, error: &ValidationError<'_>, index: &SourceIndex, out: &mut Vec<Diagnostic>) {
        let path = spec_path(error);
        let schema_parent = self.schema_parent(error);
        let located = |d: Diagnostic| index.locate(d);
        match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let allowed = schema_parent
                    .and_then(|s| s.get("properties"))
                    .and_then(Value::as_object)
                    .map(|p| p.keys().cloned().collect::<Vec<_>>())
                    .unwrap_or_default();
                for key in unexpected {
                    let key_path = join_key(&path, key);
                    let mut d = Diagnostic::error(key_path.clone(), format!("unknown key `{key}`"));
                    d = d.with_hint(suggest(key, &allowed));
                    if let Some(pos) = index.key_pos(&key_path) {
                        d = d.at(pos.line, pos.column);
                    }
                    out.push(d);
                }
            }
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                out.push(located(Diagnostic::error(
                    path,
                    format!("missing required key `{name}`"),
                )));
            }
            ValidationErrorKind::Enum { options } => {
                let names: Vec<String> = options
                    .as_array()
                    .map(|a| a.iter().map(show).collect())
                    .unwrap_or_default();
                let found = show(error.instance());
                let d =
                    Diagnostic::error(path, format!("{found} is not one of: {}", names.join(", ")));
                let hint = error.instance().as_str().map(|s| suggest_value(s, options));
                out.push(located(match hint.flatten() {
                    Some(h) => d.with_hint(h),
                    None => d,
                }));
            }
            ValidationErrorKind::Type { kind } => {
                let expected = match kind {
                    TypeKind::Single(t) => t.to_string(),
                    TypeKind::Multiple(set) => set
                        .iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(" or "),
                };
                let found = json_type(error.instance());
                out.push(located(Diagnostic::error(
                    path,
                    format!("expected {expected}, found {found}"),
                )));
            }
            ValidationErrorKind::Pattern { .. } => {
                let what = schema_parent
                    .and_then(|s| s.get("description"))
                    .and_then(Value::as_str)
                    .unwrap_or("in the expected format");
                let found = show(error.instance());
                out.push(located(Diagnostic::error(
                    path,
                    format!("{found} is not {what}"),
                )));
            }
            ValidationErrorKind::Minimum { limit } => {
                out.push(located(Diagnostic::error(
                    path,
                    format!("must be at least {limit}"),
                )));
            }
            ValidationErrorKind::Maximum { limit } => {
                out.push(located(Diagnostic::error(
                    path,
                    format!("must be at most {limit}"),
                )));
            }
            ValidationErrorKind::AnyOf { context }
            | ValidationErrorKind::OneOfNotValid { context } => {
                self.convert_alternatives(error, &path, context, index, out);
            }
            _ => out.push(located(Diagnostic::error(path, error.to_string()))),
        }
    }

    /// `anyOf`/`oneOf` (optional sections, DH param forms): report the errors of the one
    /// alternative of the right shape; if none is, say what is expected.
    fn convert_alternatives(
        &self,
        error: &ValidationError<'_>,
        path: &str,
        context: &[Vec<ValidationError<'static>>],
        index: &SourceIndex,
        out: &mut Vec<Diagnostic>,
    ) {
        let is_shape_mismatch = |errs: &Vec<ValidationError<'static>>| {
            !errs.is_empty()
                && errs.iter().all(|e| {
                    spec_path(e) == path
                        && matches!(
                            e.kind(),
                            ValidationErrorKind::Type { .. } | ValidationErrorKind::Enum { .. }
                        )
                })
        };
        let fitting: Vec<_> = context
            .iter()
            .filter(|errs| !is_shape_mismatch(errs))
            .collect();
        if let [only] = fitting.as_slice() {
            for e in only.iter() {
                self.convert(e, index, out);
            }
            return;
        }
        let what = self
            .schema_parent(error)
            .and_then(|s| s.get("description"))
            .and_then(Value::as_str)
            .map(|d| format!(": expected {}", d.trim_end_matches('.')))
            .unwrap_or_default();
        let found = show(error.instance());
        out.push(index.locate(Diagnostic::error(
            path,
            format!("{found} is not valid here{what}"),
        )));
    }

    /// The schema object that owns the failed keyword (where `properties` and `description` are).
    fn schema_parent(&self, error: &ValidationError<'_>) -> Option<&Value> {
        let pointer = error.schema_path().as_str();
        let cut = pointer.rfind('/')?;
        let node = self.schema.pointer(&pointer[..cut])?;
        // A `$ref` owner points elsewhere; follow it for descriptions and properties.
        match node.get("$ref").and_then(Value::as_str) {
            Some(r) if node.get("properties").is_none() => self
                .schema
                .pointer(r.trim_start_matches('#'))
                .or(Some(node)),
            _ => Some(node),
        }
    }
}

/// The spec path of an error's instance: `tls.acme.email`, `admins[1]`.
fn spec_path(error: &ValidationError<'_>) -> String {
    let mut path = String::new();
    for segment in error.instance_path().iter() {
        path = match segment {
            LocationSegment::Property(p) => join_key(&path, &p),
            LocationSegment::Index(i) => join_index(&path, i),
        };
    }
    path
}

/// "did you mean `x`?" for the closest allowed key, else the list of allowed keys.
pub fn suggest(word: &str, allowed: &[String]) -> String {
    let best = allowed
        .iter()
        .map(|a| (strsim::jaro_winkler(word, a), a))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, a)) => format!("did you mean `{a}`?"),
        None if allowed.is_empty() => "remove it".to_owned(),
        None => format!("allowed keys: {}", allowed.join(", ")),
    }
}

fn suggest_value(word: &str, options: &Value) -> Option<String> {
    let options = options.as_array()?;
    options
        .iter()
        .filter_map(Value::as_str)
        .map(|o| {
            (
                strsim::jaro_winkler(&word.to_ascii_lowercase(), &o.to_ascii_lowercase()),
                o,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, o)| format!("did you mean `{o}`?"))
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        Value::Object(_) => "a mapping".to_owned(),
        Value::Array(_) => "a list".to_owned(),
        other => format!("`{other}`"),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_pick_the_closest_key() {
        let allowed = vec!["email".to_owned(), "directory".to_owned()];
        assert_eq!(suggest("emial", &allowed), "did you mean `email`?");
        assert_eq!(suggest("zzz", &allowed), "allowed keys: email, directory");
    }
}
