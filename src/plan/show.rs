//! A plan for people (`+ ~ - ±`, coloured on a terminal) and for programs (JSON).

use super::{Action, Plan};
use std::fmt::Write as _;

fn symbol(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::Create => ("+", "\x1b[32m"),
        Action::Update => ("~", "\x1b[33m"),
        Action::Replace => ("±", "\x1b[35m"),
        Action::Delete => ("-", "\x1b[31m"),
    }
}

/// One line per change and a summary line.
pub fn human(plan: &Plan, colour: bool) -> String {
    let mut out = String::new();
    if plan.is_empty() {
        let _ = writeln!(out, "{}: no changes", plan.deployment);
        return out;
    }
    let _ = writeln!(out, "{}: {} change(s)", plan.deployment, plan.changes.len());
    for c in &plan.changes {
        let (sym, ansi) = symbol(c.action);
        let kind = serde_json::to_value(c.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let head = format!("{sym} {kind} {}", c.name);
        if colour {
            let _ = writeln!(out, "{ansi}{head}\x1b[0m  ({})", c.reason);
        } else {
            let _ = writeln!(out, "{head}  ({})", c.reason);
        }
    }
    out
}

pub fn json(plan: &Plan) -> String {
    serde_json::to_string_pretty(plan).unwrap_or_default()
}
