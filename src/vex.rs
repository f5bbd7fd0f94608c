//! VEX in: OpenVEX documents (`scan --vex FILE`, `[[vex]]` in the invoking
//! configuration) applied as ignores.
//!
//! A statement applies to a finding when its vulnerability (name or any
//! alias) is the finding's id or one of its aliases, and one of its
//! products is the package's purl (a purl without a version names every
//! version). Statements whose products are not packages of depwarden's
//! ecosystems are for other products and are skipped. Of the statements
//! that apply, the latest (by timestamp, the statement's or else the
//! document's; later in the files on a tie) decides: `not_affected` and
//! `fixed` suppress the finding, `affected` and `under_investigation`
//! leave it open. A suppressed finding keeps its place in every report
//! with the statement's author and timestamp.
//!
//! A file that is not a valid OpenVEX document is an error naming the file
//! (and the statement), never a partial application.

use std::path::{Path, PathBuf};

use serde_json::Value;
use thiserror::Error;

use crate::policy::VexEntry;
use crate::purl::Purl;
use crate::report::model::{Finding, Justification, Suppression, VexFileReport, VexSource};

/// Largest VEX document read, in bytes.
pub const MAX_VEX_SIZE: u64 = 64 * 1024 * 1024;

/// A VEX file that cannot be used; each names the file.
#[derive(Debug, Error)]
pub enum VexError {
    /// The file could not be read.
    #[error("cannot read VEX file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid OpenVEX document.
    #[error("VEX file {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong and where.
        message: String,
    },
}

/// The status of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The product is not affected.
    NotAffected,
    /// The product is affected.
    Affected,
    /// The product version contains the fix.
    Fixed,
    /// Not known yet.
    UnderInvestigation,
}

impl Status {
    fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "not_affected" => Status::NotAffected,
            "affected" => Status::Affected,
            "fixed" => Status::Fixed,
            "under_investigation" => Status::UnderInvestigation,
            _ => return None,
        })
    }

    /// The OpenVEX name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotAffected => "not_affected",
            Status::Affected => "affected",
            Status::Fixed => "fixed",
            Status::UnderInvestigation => "under_investigation",
        }
    }
}

/// One statement, reduced to what matching needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The vulnerability's name and aliases.
    pub vulnerabilities: Vec<String>,
    /// Products that are packages of depwarden's ecosystems.
    pub products: Vec<Purl>,
    /// The status.
    pub status: Status,
    /// The justification (`not_affected`).
    pub justification: Option<Justification>,
    /// Impact statement, else status notes.
    pub text: Option<String>,
    /// The statement's timestamp, else the document's.
    pub timestamp: String,
    /// [`Statement::timestamp`] in Unix seconds.
    at: u64,
}

/// A loaded OpenVEX document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexDocument {
    /// The file as given.
    pub file: String,
    /// The document's author.
    pub author: String,
    /// The document's timestamp.
    pub timestamp: String,
    /// Its statements (all of them, for the count).
    pub statements: Vec<Statement>,
}

/// Reads and checks one OpenVEX document; `shown` is the name used in
/// reports (the path as given).
pub fn load(path: &Path) -> Result<VexDocument, VexError> {
    let read = |source| VexError::Read {
        path: path.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(path).map_err(read)?.len();
    if len > MAX_VEX_SIZE {
        return Err(invalid(
            path,
            format!("{len} bytes, over the {MAX_VEX_SIZE}-byte limit"),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(read)?;
    parse(&text, path)
}

fn invalid(path: &Path, message: String) -> VexError {
    VexError::Invalid {
        path: path.to_path_buf(),
        message,
    }
}

/// Parses an OpenVEX document's text; `path` names it in errors.
pub fn parse(text: &str, path: &Path) -> Result<VexDocument, VexError> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| invalid(path, format!("not JSON: {e}")))?;
    let str_field = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let context = str_field(&doc, "@context").unwrap_or_default();
    if !context.starts_with("https://openvex.dev/ns") {
        return Err(invalid(
            path,
            format!(
                "not an OpenVEX document (@context is {context:?}, expected https://openvex.dev/ns/v0.2.0)"
            ),
        ));
    }
    let author = str_field(&doc, "author")
        .filter(|a| !a.trim().is_empty())
        .ok_or_else(|| invalid(path, "the document has no author".into()))?;
    let timestamp = str_field(&doc, "timestamp")
        .ok_or_else(|| invalid(path, "the document has no timestamp".into()))?;
    let doc_at = crate::clock::parse_instant(&timestamp).ok_or_else(|| {
        invalid(
            path,
            format!("timestamp {timestamp:?} is not an RFC 3339 date-time"),
        )
    })?;
    let raw = doc
        .get("statements")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid(path, "the document has no statements array".into()))?;
    let mut statements = Vec::with_capacity(raw.len());
    for (i, s) in raw.iter().enumerate() {
        let at = |msg: String| invalid(path, format!("statement {}: {msg}", i + 1));
        let vuln = s
            .get("vulnerability")
            .ok_or_else(|| at("no vulnerability".into()))?;
        let name = str_field(vuln, "name")
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| at("the vulnerability has no name".into()))?;
        let mut vulnerabilities = vec![name];
        for a in vuln
            .get("aliases")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let a = a
                .as_str()
                .ok_or_else(|| at("an alias is not a string".into()))?;
            vulnerabilities.push(a.to_string());
        }
        let status_text = str_field(s, "status").unwrap_or_default();
        let status = Status::parse(&status_text).ok_or_else(|| {
            at(format!(
                "status {status_text:?} is not one of not_affected, affected, fixed, under_investigation"
            ))
        })?;
        let justification = match s.get("justification") {
            None => None,
            Some(j) => Some(
                serde_json::from_value::<Justification>(j.clone())
                    .map_err(|_| at(format!("unknown justification {j}")))?,
            ),
        };
        let text = str_field(s, "impact_statement").or_else(|| str_field(s, "status_notes"));
        if status == Status::NotAffected && justification.is_none() && text.is_none() {
            return Err(at(
                "not_affected needs a justification or an impact_statement".into(),
            ));
        }
        let (timestamp, at_secs) = match str_field(s, "timestamp") {
            Some(t) => {
                let secs = crate::clock::parse_instant(&t)
                    .ok_or_else(|| at(format!("timestamp {t:?} is not an RFC 3339 date-time")))?;
                (t, secs)
            }
            None => (timestamp.clone(), doc_at),
        };
        let products_raw = s
            .get("products")
            .and_then(Value::as_array)
            .ok_or_else(|| at("no products".into()))?;
        let products = products_raw
            .iter()
            .filter_map(|p| {
                p.get("identifiers")
                    .and_then(|i| i.get("purl"))
                    .or_else(|| p.get("@id"))
                    .and_then(Value::as_str)
                    .and_then(crate::purl::parse)
            })
            .collect();
        statements.push(Statement {
            vulnerabilities,
            products,
            status,
            justification,
            text,
            timestamp,
            at: at_secs,
        });
    }
    Ok(VexDocument {
        file: path.display().to_string(),
        author,
        timestamp,
        statements,
    })
}

/// Loads the VEX files of a scan: `[[vex]]` entries of the invoking
/// configuration (relative to its directory) and `--vex` files (relative
/// to the working directory), in that order.
pub fn load_all(
    config_dir: Option<&Path>,
    configured: &[VexEntry],
    given: &[PathBuf],
) -> Result<Vec<VexDocument>, VexError> {
    let mut out = Vec::new();
    for e in configured {
        let p = Path::new(&e.file);
        let full = match config_dir {
            Some(d) if p.is_relative() => d.join(p),
            _ => p.to_path_buf(),
        };
        out.push(load(&full)?);
    }
    for p in given {
        out.push(load(p)?);
    }
    Ok(out)
}

/// The suppression the VEX documents give `f`, if the latest statement
/// that applies to it says `not_affected` or `fixed`.
pub fn suppression(docs: &[VexDocument], f: &Finding) -> Option<Suppression> {
    let id = f.id.as_deref()?;
    let eco = f.ecosystem.ecosystem()?;
    let names_it = |n: &String| {
        n.eq_ignore_ascii_case(id) || f.aliases.iter().any(|a| a.eq_ignore_ascii_case(n))
    };
    let mut latest: Option<(&VexDocument, &Statement)> = None;
    for d in docs {
        for s in &d.statements {
            if s.vulnerabilities.iter().any(names_it)
                && s.products
                    .iter()
                    .any(|p| p.matches(eco, &f.package, f.version.as_deref()))
                && latest.is_none_or(|(_, l)| s.at >= l.at)
            {
                latest = Some((d, s));
            }
        }
    }
    let (d, s) = latest?;
    if !matches!(s.status, Status::NotAffected | Status::Fixed) {
        return None;
    }
    let reason = s
        .text
        .clone()
        .unwrap_or_else(|| match (s.status, s.justification) {
            (Status::Fixed, _) => "fixed in this version".to_string(),
            (_, Some(j)) => j.as_str().replace('_', " "),
            _ => String::new(),
        });
    Some(Suppression {
        reason,
        expires: None,
        justification: s.justification,
        vex: Some(VexSource {
            file: d.file.clone(),
            author: d.author.clone(),
            timestamp: Some(s.timestamp.clone()),
            status: s.status.as_str().to_string(),
        }),
    })
}

/// The report entry of each document, with how many findings it
/// suppressed (counted from the finished findings).
pub fn file_reports<'a>(
    docs: &[VexDocument],
    findings: impl Iterator<Item = &'a Finding>,
) -> Vec<VexFileReport> {
    let mut reports: Vec<VexFileReport> = docs
        .iter()
        .map(|d| VexFileReport {
            file: d.file.clone(),
            author: d.author.clone(),
            timestamp: d.timestamp.clone(),
            statements: d.statements.len(),
            applied: 0,
        })
        .collect();
    for f in findings {
        if let Some(v) = f.ignored.as_ref().and_then(|s| s.vex.as_ref())
            && let Some(r) = reports.iter_mut().find(|r| r.file == v.file)
        {
            r.applied += 1;
        }
    }
    reports
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
