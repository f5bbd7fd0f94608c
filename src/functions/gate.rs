//! The gate for functions' own findings (`runtime`, `platform`, `size`):
//! ignores apply to them as to any finding (by rule, `id =
//! "runtime-deprecated"`, optionally for one `package`), `[gate] runtime`,
//! `platform` and `size` decide which close the gate, and each function
//! whose findings close it gives one reason line.

use crate::report::model::{Finding, FindingKind, FunctionReport, Summary};

/// Gates the functions' own findings and counts them in `summary`:
/// `judge` applies the ignores and the gate to one finding, as the audit
/// does for every other finding.
pub fn apply(
    functions: &mut [FunctionReport],
    judge: &mut dyn FnMut(&mut Finding),
    summary: &mut Summary,
    reasons: &mut Vec<String>,
) {
    summary.functions = functions.len();
    for f in functions.iter_mut() {
        if !f.complete {
            summary.functions_incomplete += 1;
        }
        let mut closing = Vec::new();
        for ff in &mut f.findings {
            let x = &mut ff.finding;
            if x.id.is_none() {
                x.id = x.check.as_ref().map(|c| c.rule.clone());
            }
            judge(x);
            if x.ignored.is_some() {
                summary.ignored += 1;
            }
            match x.kind {
                FindingKind::Runtime => summary.runtime += 1,
                FindingKind::Platform => summary.platform += 1,
                FindingKind::Size => summary.size += 1,
                _ => {}
            }
            if x.closes_gate {
                closing.push(describe(x));
            }
        }
        closing.dedup();
        if !closing.is_empty() {
            reasons.push(format!("function {}: {}", f.name, closing.join(", ")));
        }
    }
}

/// One finding in a gate reason: `runtime python3.8 deprecated on
/// 2024-10-14`, `native-arch-mismatch (PyYAML 6.0.1)`.
fn describe(f: &Finding) -> String {
    let Some(c) = &f.check else {
        return f.package.clone();
    };
    match f.kind {
        FindingKind::Runtime => format!(
            "runtime {} deprecated on {}",
            f.package,
            c.deprecation_date.as_deref().unwrap_or("?")
        ),
        FindingKind::Size => format!(
            "{} ({} bytes, limit {})",
            c.rule,
            c.bytes.unwrap_or(0),
            c.limit.unwrap_or(0)
        ),
        _ => format!(
            "{} ({}{})",
            c.rule,
            f.package,
            f.version
                .as_deref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default()
        ),
    }
}
