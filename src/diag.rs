//! Diagnostics: one problem in a spec, with its spec path and `line:column`.

use serde::Serialize;
use std::fmt::Write as _;

/// How bad a diagnostic is: errors make a spec invalid, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in a spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Spec path such as `tls.acme.email` or `admins[1]`; empty for the document itself.
    pub path: String,
    /// 1-based line, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error at `path`; its position is filled in later from the source index.
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, path.into(), message.into())
    }

    /// A warning at `path`.
    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, path.into(), message.into())
    }

    fn new(severity: Severity, path: String, message: String) -> Self {
        Self {
            severity,
            path,
            line: None,
            column: None,
            message,
            hint: None,
        }
    }

    /// Adds a hint ("did you mean ...?").
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Sets the position.
    #[must_use]
    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// Whether this is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// One human line, `file:line:col: error: path: message (hint)`, coloured when asked.
    pub fn human(&self, file: &str, colour: bool) -> String {
        let mut out = String::new();
        out.push_str(file);
        if let (Some(line), Some(col)) = (self.line, self.column) {
            let _ = write!(out, ":{line}:{col}");
        }
        let (label, code) = match self.severity {
            Severity::Error => ("error", "31"),
            Severity::Warning => ("warning", "33"),
        };
        if colour {
            let _ = write!(out, ": \x1b[1;{code}m{label}\x1b[0m: ");
        } else {
            let _ = write!(out, ": {label}: ");
        }
        if !self.path.is_empty() {
            let _ = write!(out, "{}: ", self.path);
        }
        out.push_str(&self.message);
        if let Some(hint) = &self.hint {
            let _ = write!(out, " ({hint})");
        }
        out
    }
}

/// Sorts diagnostics by position, then path, so output is stable.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (a.line, a.column, &a.path, a.severity, &a.message)
            .cmp(&(b.line, b.column, &b.path, b.severity, &b.message))
    });
}
