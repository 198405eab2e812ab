//! Position-aware YAML reading: the spec text becomes a JSON value (for schema validation)
//! plus an index from spec path (`tls.acme.email`, `admins[1]`) to `line:column`.
//!
//! serde stops at its first error and forgets positions, so diagnostics are located with this
//! index; the typed [`crate::spec::Spec`] is still deserialised by serde_norway.
//! Scalars resolve by the YAML 1.2 core schema, as serde_norway does.

use crate::diag::Diagnostic;
use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A 1-based position in the spec text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl From<Marker> for Pos {
    fn from(m: Marker) -> Self {
        // yaml-rust2 counts lines from 1 and columns from 0.
        Self {
            line: m.line(),
            column: m.col() + 1,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    key: Option<Pos>,
    value: Pos,
}

/// Where each spec path was written.
#[derive(Debug, Default, Clone)]
pub struct SourceIndex {
    entries: HashMap<String, Entry>,
}

impl SourceIndex {
    /// Position of the value at `path`, or of its nearest written ancestor.
    pub fn value_pos(&self, path: &str) -> Option<Pos> {
        let mut p = path;
        loop {
            if let Some(e) = self.entries.get(p) {
                return Some(e.value);
            }
            p = parent_path(p)?;
        }
    }

    /// Position of the key of `path` (for unknown keys), falling back to the value position.
    pub fn key_pos(&self, path: &str) -> Option<Pos> {
        match self.entries.get(path) {
            Some(Entry { key: Some(k), .. }) => Some(*k),
            _ => self.value_pos(path),
        }
    }

    /// Fills in the position of a diagnostic from its path.
    pub fn locate(&self, diag: Diagnostic) -> Diagnostic {
        if diag.line.is_some() {
            return diag;
        }
        match self.value_pos(&diag.path) {
            Some(pos) => diag.at(pos.line, pos.column),
            None => diag,
        }
    }
}

/// The parent of a spec path: `a.b[2]` -> `a.b`, `a.b` -> `a`, `a` -> ``.
pub fn parent_path(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(&path[..cut])
}

/// `parent` joined with a key.
pub fn join_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// `parent` joined with an index.
pub fn join_index(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

enum Frame {
    Map {
        path: String,
        obj: Map<String, Value>,
        key: Option<(String, Pos)>,
        anchor: usize,
    },
    Seq {
        path: String,
        arr: Vec<Value>,
        anchor: usize,
    },
}

/// The YAML document read into a JSON value, its index, and non-fatal problems (duplicate keys).
#[derive(Debug)]
pub struct Parsed {
    pub value: Value,
    pub index: SourceIndex,
    pub problems: Vec<Diagnostic>,
}

/// Reads `text`; a YAML syntax error is returned as one located diagnostic.
pub fn parse(text: &str) -> Result<Parsed, Diagnostic> {
    let mut reader = Reader::default();
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, mark) = parser.next_token().map_err(|e| {
            let pos = Pos::from(*e.marker());
            Diagnostic::error("", format!("YAML syntax: {}", e.info())).at(pos.line, pos.column)
        })?;
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart => {
                reader.documents += 1;
                if reader.documents > 1 {
                    let pos = Pos::from(mark);
                    return Err(Diagnostic::error(
                        "",
                        "a spec is one YAML document, found a second",
                    )
                    .at(pos.line, pos.column));
                }
            }
            other => reader.event(other, Pos::from(mark))?,
        }
    }
    Ok(Parsed {
        value: reader.root.unwrap_or(Value::Null),
        index: reader.index,
        problems: reader.problems,
    })
}

#[derive(Default)]
struct Reader {
    stack: Vec<Frame>,
    root: Option<Value>,
    index: SourceIndex,
    anchors: HashMap<usize, Value>,
    problems: Vec<Diagnostic>,
    documents: usize,
}

impl Reader {
    fn event(&mut self, event: Event, pos: Pos) -> Result<(), Diagnostic> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                if let Some(Frame::Map {
                    key: key @ None, ..
                }) = self.stack.last_mut()
                {
                    *key = Some((text, pos));
                    return Ok(());
                }
                let quoted = style != TScalarStyle::Plain || tag.is_some_and(|t| t.suffix == "str");
                let value = if quoted {
                    Value::String(text)
                } else {
                    resolve_plain(&text)
                };
                self.value_start(pos)?;
                self.finish(value, anchor);
            }
            Event::Alias(id) => {
                self.value_start(pos)?;
                let value = self.anchors.get(&id).cloned().ok_or_else(|| {
                    Diagnostic::error("", "alias to an unknown anchor").at(pos.line, pos.column)
                })?;
                self.finish(value, 0);
            }
            Event::MappingStart(anchor, _) => {
                let path = self.value_start(pos)?;
                self.stack.push(Frame::Map {
                    path,
                    obj: Map::new(),
                    key: None,
                    anchor,
                });
            }
            Event::SequenceStart(anchor, _) => {
                let path = self.value_start(pos)?;
                self.stack.push(Frame::Seq {
                    path,
                    arr: Vec::new(),
                    anchor,
                });
            }
            Event::MappingEnd | Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Map { obj, anchor, .. }) => self.finish(Value::Object(obj), anchor),
                Some(Frame::Seq { arr, anchor, .. }) => self.finish(Value::Array(arr), anchor),
                None => {}
            },
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart => {}
            Event::DocumentEnd => {}
        }
        Ok(())
    }

    /// Records where the value about to start lives and returns its path.
    fn value_start(&mut self, pos: Pos) -> Result<String, Diagnostic> {
        let (path, key) = match self.stack.last() {
            None => (String::new(), None),
            Some(Frame::Map { path, key, .. }) => match key {
                Some((k, kpos)) => (join_key(path, k), Some(*kpos)),
                None => {
                    return Err(
                        Diagnostic::error(path.clone(), "keys must be plain strings")
                            .at(pos.line, pos.column),
                    );
                }
            },
            Some(Frame::Seq { path, arr, .. }) => (join_index(path, arr.len()), None),
        };
        self.index
            .entries
            .entry(path.clone())
            .or_insert(Entry { key, value: pos });
        Ok(path)
    }

    /// Attaches a finished value to its parent.
    fn finish(&mut self, value: Value, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq { arr, .. }) => arr.push(value),
            Some(Frame::Map { path, obj, key, .. }) => {
                if let Some((k, kpos)) = key.take() {
                    if obj.contains_key(&k) {
                        self.problems.push(
                            Diagnostic::error(join_key(path, &k), "key written twice")
                                .at(kpos.line, kpos.column),
                        );
                    }
                    obj.insert(k, value);
                }
            }
        }
    }
}

/// YAML 1.2 core schema resolution of an unquoted scalar, by the same rules as serde_norway
/// (so the schema sees what serde will see): leading zeros make a string, `0x`/`0o`/`0b`
/// prefixes and signs make integers, `.inf`/`.nan` have no JSON form and become null.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(i) = yaml_int(text) {
        if let Ok(n) = i64::try_from(i) {
            return Value::Number(n.into());
        }
        if let Ok(n) = u64::try_from(i) {
            return Value::Number(n.into());
        }
        return Value::String(text.to_owned());
    }
    if !digits_but_not_number(text) {
        let unsigned = text.strip_prefix('+').unwrap_or(text);
        if unsigned.starts_with(['+', '-']) && text.starts_with('+') {
            return Value::String(text.to_owned());
        }
        let special = [
            ".inf", ".Inf", ".INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN",
        ];
        if special.contains(&unsigned) {
            return Value::Null;
        }
        if let Some(n) = unsigned
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .and_then(Number::from_f64)
        {
            return Value::Number(n);
        }
    }
    Value::String(text.to_owned())
}

/// Leading zeros followed by digits only: a string in YAML 1.2 (`007`).
fn digits_but_not_number(text: &str) -> bool {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    t.len() > 1 && t.starts_with('0') && t[1..].bytes().all(|b| b.is_ascii_digit())
}

/// An integer in decimal, `0x` hex, `0o` octal or `0b` binary, with an optional sign.
fn yaml_int(text: &str) -> Option<i128> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (radix, digits) = if let Some(r) = body.strip_prefix("0x") {
        (16, r)
    } else if let Some(r) = body.strip_prefix("0o") {
        (8, r)
    } else if let Some(r) = body.strip_prefix("0b") {
        (2, r)
    } else {
        (10, body)
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    if radix == 10 && digits_but_not_number(text) {
        return None;
    }
    let value = i128::from_str_radix(digits, radix).ok()?;
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_nested_keys_values_and_items() {
        let text = "name: x\ntls:\n  acme:\n    email: a@b\nadmins:\n  - one\n  - two\n";
        let p = parse(text).expect("valid yaml");
        assert_eq!(p.index.value_pos("name"), Some(Pos { line: 1, column: 7 }));
        assert_eq!(
            p.index.key_pos("tls.acme.email"),
            Some(Pos { line: 4, column: 5 })
        );
        assert_eq!(
            p.index.value_pos("tls.acme.email"),
            Some(Pos {
                line: 4,
                column: 12
            })
        );
        assert_eq!(
            p.index.value_pos("admins[1]"),
            Some(Pos { line: 7, column: 5 })
        );
        // Unwritten paths fall back to the nearest written ancestor.
        assert_eq!(
            p.index.value_pos("tls.acme.directory"),
            p.index.value_pos("tls.acme")
        );
        assert_eq!(p.value["admins"][1], "two");
    }

    #[test]
    fn scalars_resolve_by_the_core_schema() {
        let p = parse("a: 1\nb: '1'\nc: true\nd: ~\ne: 1.5\nf: yes\ng: 0x10\n").expect("yaml");
        let v = &p.value;
        assert_eq!(v["a"], 1);
        assert_eq!(v["b"], "1");
        assert_eq!(v["c"], true);
        assert!(v["d"].is_null());
        assert_eq!(v["e"], 1.5);
        assert_eq!(v["f"], "yes");
        assert_eq!(v["g"], 16);
    }

    #[test]
    fn scalars_resolve_as_serde_norway_resolves_them() {
        let samples = [
            "1",
            "+1",
            "-1",
            "0x1F",
            "0o17",
            "017",
            "1e3",
            ".5",
            "1.",
            "-.inf",
            ".nan",
            "1_000",
            "yes",
            "on",
            "~",
            "Null",
            "TRUE",
            "tRue",
            "0b11",
            "+.5",
            "-0",
            "1.5e-3",
            "12:30",
            "0x",
            "+",
            ".",
            "e3",
            "1e",
            "0.1.2",
            "inf",
            "+12.5",
            "00",
            "-0x1",
            "-0o7",
            "+-1",
            "0x+1",
            "5000",
            "65536",
            "9223372036854775808",
            "1 MiB",
            "30d",
            "1.2",
            "'1'",
        ];
        for s in samples {
            same_as_serde(s);
        }
    }

    fn same_as_serde(scalar: &str) {
        let text = format!("k: {scalar}\n");
        let Ok(ours) = parse(&text) else { return };
        if let Ok(theirs) = serde_yaml::from_str::<Value>(&text) {
            assert_eq!(ours.value["k"], theirs["k"], "{scalar:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn random_scalars_resolve_as_serde_norway(s in "[-+0-9a-fA-Fxobe._~]{1,8}") {
            same_as_serde(&s);
        }
    }

    #[test]
    fn duplicate_keys_are_reported_at_the_second_key() {
        let p = parse("a: 1\nb: 2\na: 3\n").expect("yaml");
        assert_eq!(p.problems.len(), 1);
        assert_eq!(p.problems[0].path, "a");
        assert_eq!(p.problems[0].line, Some(3));
    }

    #[test]
    fn anchors_and_aliases_are_expanded() {
        let p = parse("x: &v [1, 2]\ny: *v\n").expect("yaml");
        assert_eq!(p.value["y"], serde_json::json!([1, 2]));
    }

    #[test]
    fn syntax_errors_carry_a_position() {
        let err = parse("a: [1, 2\nb: 3\n").expect_err("unterminated flow sequence");
        assert!(err.line.is_some(), "{err:?}");
        assert!(err.message.starts_with("YAML syntax"));
    }

    #[test]
    fn parent_paths() {
        assert_eq!(parent_path("a.b[2]"), Some("a.b"));
        assert_eq!(parent_path("a.b"), Some("a"));
        assert_eq!(parent_path("a"), Some(""));
        assert_eq!(parent_path(""), None);
    }
}
