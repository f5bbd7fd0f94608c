//! `scan --format cyclonedx`: a CycloneDX 1.5 JSON SBOM of the scan: every
//! package of every source as a component (purl, hashes where the source
//! records them), the dependency graph, and the vulnerabilities found.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::model::{FindingKind, ScanReport};
use crate::discover::relative_display;
use crate::graph::{Package, PackageSource};
use crate::scan::Inventory;
use crate::severity::Severity;

/// Renders the SBOM (with a trailing newline).
pub fn render(report: &ScanReport, inv: &Inventory) -> Result<String, serde_json::Error> {
    let mut components = Vec::new();
    let mut dependencies = Vec::new();
    // (deployment, ecosystem, name, version) → component refs, for
    // `affects`.
    let mut refs: BTreeMap<(String, &str, String, String), BTreeSet<String>> = BTreeMap::new();
    let mut used_refs = BTreeSet::new();
    for d in &inv.deployments {
        let dep_path = d.deployment.display_path();
        for s in &d.sources {
            let Ok(parsed) = &s.result else { continue };
            let src = relative_display(&d.deployment.scan_root, &s.source.path);
            let ids: Vec<String> = parsed
                .graph
                .iter()
                .map(|(_, p)| {
                    let base = format!("{src}#{}@{}", p.name, p.version.as_deref().unwrap_or(""));
                    let mut r = base.clone();
                    let mut n = 1;
                    while !used_refs.insert(r.clone()) {
                        n += 1;
                        r = format!("{base}~{n}");
                    }
                    r
                })
                .collect();
            for ((id, p), bom_ref) in parsed.graph.iter().zip(&ids) {
                components.push(component(
                    p,
                    bom_ref,
                    &src,
                    parsed.facts.resolution.as_ref().map(|r| r.cutoff.as_str()),
                ));
                refs.entry((
                    dep_path.clone(),
                    p.ecosystem.as_str(),
                    p.name.clone(),
                    p.version.clone().unwrap_or_default(),
                ))
                .or_default()
                .insert(bom_ref.clone());
                let depends: BTreeSet<&String> = parsed
                    .graph
                    .dependencies(id)
                    .iter()
                    .filter_map(|(to, _)| ids.get(to.index()))
                    .collect();
                dependencies.push(json!({"ref": bom_ref, "dependsOn": depends}));
            }
        }
    }
    // Functions: an application component each, depending on the
    // components of the packages it loads.
    for f in &report.functions {
        let fref = format!("function:{}#{}", f.template, f.name);
        let parts: Vec<&String> = f
            .code
            .deployments
            .iter()
            .chain(f.layers.iter().flat_map(|l| l.deployments.iter()))
            .collect();
        let mut depends: BTreeSet<&String> = BTreeSet::new();
        for p in f.packages.iter().filter(|p| p.effective) {
            for d in &parts {
                let key = (
                    (*d).clone(),
                    p.ecosystem.as_str(),
                    p.name.clone(),
                    p.version.clone().unwrap_or_default(),
                );
                depends.extend(refs.get(&key).into_iter().flatten());
            }
        }
        let prop = |k: &str, v: Option<&str>| json!({"name": format!("depwarden:{k}"), "value": v.unwrap_or("")});
        components.push(json!({
            "type": "application",
            "bom-ref": fref,
            "name": f.name,
            "properties": [
                prop("framework", Some(&f.framework)),
                prop("template", Some(&f.template)),
                prop("runtime", f.runtime.as_deref()),
                prop("architecture", f.architecture.as_deref()),
                prop("package_type", Some(&f.package_type)),
            ],
        }));
        dependencies.push(json!({"ref": fref, "dependsOn": depends}));
    }
    let mut vulnerabilities: BTreeMap<String, Value> = BTreeMap::new();
    // Per advisory: the VEX statement that suppressed it, while every
    // finding of it was suppressed by one (CycloneDX `analysis`).
    let mut vex: BTreeMap<String, Option<String>> = BTreeMap::new();
    for d in &report.deployments {
        for f in &d.findings {
            if !matches!(f.kind, FindingKind::Vulnerability | FindingKind::Malicious) {
                continue;
            }
            let Some(id) = &f.id else { continue };
            let by_vex = f
                .ignored
                .as_ref()
                .filter(|s| s.vex.is_some())
                .map(|s| s.describe());
            let slot = vex.entry(id.clone()).or_insert_with(|| by_vex.clone());
            if by_vex.is_none() {
                *slot = None;
            }
            let key = (
                d.path.clone(),
                f.ecosystem.as_str(),
                f.package.clone(),
                f.version.clone().unwrap_or_default(),
            );
            let affects: Vec<Value> = refs
                .get(&key)
                .into_iter()
                .flatten()
                .map(|r| json!({"ref": r}))
                .collect();
            let entry = vulnerabilities.entry(id.clone()).or_insert_with(|| {
                let mut v = json!({
                    "bom-ref": format!("vuln:{id}"),
                    "id": id,
                    "source": {"name": "OSV", "url": format!("https://osv.dev/vulnerability/{id}")},
                    "affects": [],
                });
                if let Some(map) = v.as_object_mut() {
                    if let Some(s) = &f.summary {
                        map.insert("description".into(), json!(s));
                    }
                    let refs: Vec<Value> = f
                        .aliases
                        .iter()
                        .map(|a| json!({"id": a, "source": {"name": "OSV", "url": format!("https://osv.dev/vulnerability/{a}")}}))
                        .collect();
                    if !refs.is_empty() {
                        map.insert("references".into(), json!(refs));
                    }
                    let mut rating = json!({"severity": severity_name(f.severity)});
                    if let (Some(score), Some(r)) = (f.cvss_score, rating.as_object_mut()) {
                        r.insert("score".into(), json!(score));
                    }
                    map.insert("ratings".into(), json!([rating]));
                    if let Some(v) = f.fix.as_ref().and_then(|x| x.version.as_ref()) {
                        map.insert("recommendation".into(), json!(format!("Upgrade {} to {v}", f.package)));
                    }
                    if f.kind == FindingKind::Malicious {
                        map.insert("detail".into(), json!("Malicious package"));
                    }
                }
                v
            });
            if let Some(list) = entry.get_mut("affects").and_then(Value::as_array_mut) {
                for a in affects {
                    if !list.contains(&a) {
                        list.push(a);
                    }
                }
            }
        }
    }
    for (id, detail) in vex {
        if let (Some(detail), Some(map)) = (
            detail,
            vulnerabilities.get_mut(&id).and_then(Value::as_object_mut),
        ) {
            map.insert(
                "analysis".into(),
                json!({"state": "not_affected", "detail": detail}),
            );
        }
    }
    let bom = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": serial_number(report),
        "version": 1,
        "metadata": {
            "timestamp": crate::clock::now_rfc3339(),
            "tools": {"components": [{
                "type": "application",
                "name": "depwarden",
                "version": report.tool.version,
            }]},
            "component": {"type": "application", "bom-ref": "scan", "name": "scanned deployments"},
        },
        "components": components,
        "dependencies": dependencies,
        "vulnerabilities": vulnerabilities.into_values().collect::<Vec<_>>(),
    });
    // GitHub renders these texts: every string in its visible form.
    super::escape::to_json(&bom, super::escape::JsonMode::Visible)
}

fn component(p: &Package, bom_ref: &str, src: &str, cutoff: Option<&str>) -> Value {
    let mut c = json!({
        "type": if p.root { "application" } else { "library" },
        "bom-ref": bom_ref,
        "name": p.name,
    });
    let Some(map) = c.as_object_mut() else {
        return c;
    };
    if let Some(v) = &p.version {
        map.insert("version".into(), json!(v));
        if p.source.is_registry_like() && !p.root {
            map.insert("purl".into(), json!(purl(p, v)));
        }
    }
    if let Some(h) = p.checksum.as_deref().and_then(hash) {
        map.insert("hashes".into(), json!([h]));
    }
    if p.dev {
        map.insert("scope".into(), json!("excluded"));
    } else if p.optional {
        map.insert("scope".into(), json!("optional"));
    }
    let mut props = vec![json!({"name": "depwarden:source", "value": src})];
    if p.resolved {
        // Predicted by resolving a manifest, not read from a lockfile.
        props.push(json!({"name": "depwarden:resolved", "value": "true"}));
        if let Some(c) = cutoff {
            props.push(json!({"name": "depwarden:resolve_cutoff", "value": c}));
        }
    }
    if let PackageSource::Git { url, rev } = &p.source {
        props.push(json!({"name": "depwarden:git", "value": format!("{url}{}", rev.as_ref().map(|r| format!("#{r}")).unwrap_or_default())}));
    }
    map.insert("properties".into(), json!(props));
    c
}

/// The package URL of a registry package.
pub fn purl(p: &Package, version: &str) -> String {
    crate::purl::format(p.ecosystem, &p.name, version)
}

/// A CycloneDX hash from a recorded checksum: npm `sha512-<base64>`
/// integrity, `sha256:<hex>`, or a bare 64-hex SHA-256 (Cargo.lock).
fn hash(checksum: &str) -> Option<Value> {
    let (alg, hex) = if let Some(b64) = checksum.strip_prefix("sha512-") {
        ("SHA-512", to_hex(&base64(b64)?))
    } else if let Some(b64) = checksum.strip_prefix("sha1-") {
        ("SHA-1", to_hex(&base64(b64)?))
    } else if let Some(h) = checksum.strip_prefix("sha256:") {
        ("SHA-256", h.to_ascii_lowercase())
    } else if checksum.len() == 64 && checksum.chars().all(|c| c.is_ascii_hexdigit()) {
        ("SHA-256", checksum.to_ascii_lowercase())
    } else {
        return None;
    };
    let ok_len = matches!(hex.len(), 40 | 64 | 128);
    (ok_len && hex.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| json!({"alg": alg, "content": hex}))
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Standard base64 (padding optional); `None` on any other character.
fn base64(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.trim_end_matches('=').bytes() {
        acc = (acc << 6) | val(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn severity_name(s: Option<Severity>) -> &'static str {
    match s {
        Some(Severity::Critical) => "critical",
        Some(Severity::High) => "high",
        Some(Severity::Medium) => "medium",
        Some(Severity::Low) => "low",
        _ => "unknown",
    }
}

/// A version-4-shaped UUID derived from the scan (time and contents).
fn serial_number(report: &ScanReport) -> String {
    uuid_urn(&format!(
        "{}{:?}",
        crate::clock::now_rfc3339(),
        report.summary
    ))
}

/// A `urn:uuid:` of version-4 shape derived from `seed` (the same seed
/// gives the same id).
pub(crate) fn uuid_urn(seed: &str) -> String {
    let mut h1: u64 = 0xcbf2_9ce4_8422_2325;
    let mut h2: u64 = 0x8422_2325_cbf2_9ce4;
    for b in seed.bytes() {
        h1 = (h1 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        h2 = (h2 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3 | 1 << 40);
    }
    let hex = format!("{h1:016x}{h2:016x}");
    format!(
        "urn:uuid:{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}
