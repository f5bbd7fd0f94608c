//! Lambda's deployment size limits, on apparent sizes: the function's code
//! and all its layers unzipped together at most 262,144,000 bytes, and a
//! zip uploaded directly at most 52,428,800 bytes.

use crate::report::model::{CheckLevel, Finding, FindingKind, FunctionCheck, Scope};
use crate::report::model::{LayerSize, SizeReport};

/// Code and layers, unzipped.
pub const UNZIPPED_LIMIT: u64 = 262_144_000;
/// A zip uploaded directly (not through S3).
pub const ZIPPED_DIRECT_UPLOAD_LIMIT: u64 = 52_428_800;

/// One measured part.
pub struct Measured {
    /// Unzipped size, when measured in full.
    pub unzipped: Option<u64>,
    /// Zip size, for a zip.
    pub zipped: Option<u64>,
}

/// The size report of a function from its code and its layers (`None`
/// for a part that could not be measured).
pub fn report(code: Option<&Measured>, layers: &[(String, Option<Measured>)]) -> SizeReport {
    let mut total = 0u64;
    let mut complete = true;
    match code.and_then(|c| c.unzipped) {
        Some(n) => total = total.saturating_add(n),
        None => complete = false,
    }
    let mut out_layers = Vec::new();
    for (id, m) in layers {
        let unzipped = m.as_ref().and_then(|m| m.unzipped);
        match unzipped {
            Some(n) => total = total.saturating_add(n),
            None => complete = false,
        }
        out_layers.push(LayerSize {
            id: id.clone(),
            unzipped_bytes: unzipped,
            zipped_bytes: m.as_ref().and_then(|m| m.zipped),
        });
    }
    let zipped = code.and_then(|c| c.zipped);
    SizeReport {
        function_unzipped_bytes: code.and_then(|c| c.unzipped),
        function_zipped_bytes: zipped,
        layers: out_layers,
        total_unzipped_bytes: total,
        complete,
        exceeds_unzipped_limit: total > UNZIPPED_LIMIT,
        exceeds_zipped_direct_upload: zipped.map(|z| z > ZIPPED_DIRECT_UPLOAD_LIMIT),
    }
}

/// The size findings of a function.
pub fn findings(function: &str, size: &SizeReport) -> Vec<Finding> {
    let mut out = Vec::new();
    let make = |rule: &str, level: CheckLevel, bytes: u64, limit: u64, why: String| {
        let mut f = Finding::new(FindingKind::Size, Scope::Lambda, function, None);
        f.reason = Some(why);
        f.check = Some(FunctionCheck {
            function: function.to_string(),
            rule: rule.into(),
            level,
            deprecation_date: None,
            block_create_date: None,
            block_update_date: None,
            expected: None,
            found: None,
            files: Vec::new(),
            bytes: Some(bytes),
            limit: Some(limit),
        });
        f
    };
    if size.exceeds_unzipped_limit {
        let parts = size.layers.len();
        out.push(make(
            "size-unzipped-over-limit",
            CheckLevel::Error,
            size.total_unzipped_bytes,
            UNZIPPED_LIMIT,
            format!(
                "code and {parts} layer(s) unzipped are {} bytes, over Lambda's limit of {UNZIPPED_LIMIT}: the deployment is refused",
                size.total_unzipped_bytes
            ),
        ));
    }
    if size.exceeds_zipped_direct_upload == Some(true)
        && let Some(z) = size.function_zipped_bytes
    {
        out.push(make(
            "size-zipped-over-direct-upload-limit",
            CheckLevel::Warning,
            z,
            ZIPPED_DIRECT_UPLOAD_LIMIT,
            format!(
                "the code's zip is {z} bytes, over the {ZIPPED_DIRECT_UPLOAD_LIMIT}-byte limit of a direct upload: it must go through S3"
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        let code = Measured {
            unzipped: Some(200_000_000),
            zipped: Some(60_000_000),
        };
        let layer = Measured {
            unzipped: Some(70_000_000),
            zipped: None,
        };
        let r = report(
            Some(&code),
            &[("L".into(), Some(layer)), ("arn".into(), None)],
        );
        assert_eq!(r.total_unzipped_bytes, 270_000_000);
        assert!(!r.complete);
        assert!(r.exceeds_unzipped_limit);
        assert_eq!(r.exceeds_zipped_direct_upload, Some(true));
        let f = findings("Fn", &r);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].check.as_ref().unwrap().limit, Some(UNZIPPED_LIMIT));
        let dir = Measured {
            unzipped: Some(UNZIPPED_LIMIT),
            zipped: None,
        };
        let r = report(Some(&dir), &[]);
        assert!(!r.exceeds_unzipped_limit && r.exceeds_zipped_direct_upload.is_none());
        assert!(findings("Fn", &r).is_empty());
    }
}
