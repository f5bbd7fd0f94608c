//! CloudFormation templates as data: YAML (with the short intrinsic tags
//! `!Ref`, `!GetAtt`, `!Sub`, `!If`, ...) or JSON, read into one JSON value
//! where every intrinsic has its long form (`{"Ref": "X"}`,
//! `{"Fn::GetAtt": ...}`). Nothing is evaluated: a value that is an
//! intrinsic stays one, and [`expr`] renders it for the report.

use serde_json::{Map, Value};

/// Reads a template's text (JSON or YAML) into a JSON value with long-form
/// intrinsics. YAML is measured by [`crate::yaml_guard`] first (nesting,
/// alias expansion), as every YAML the scan reads.
pub fn parse(text: &str) -> Result<Value, String> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        return serde_json::from_str(trimmed).map_err(|e| format!("not valid JSON: {e}"));
    }
    crate::yaml_guard::check(trimmed).map_err(|e| e.to_string())?;
    let yaml: serde_yaml::Value =
        serde_yaml::from_str(trimmed).map_err(|e| format!("not valid YAML: {e}"))?;
    Ok(from_yaml(yaml))
}

/// A YAML value as JSON: short-form intrinsic tags become their long form,
/// keys that are not strings are written as text.
pub fn from_yaml(v: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(from_yaml).collect()),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(scalar_text(&k), from_yaml(v));
            }
            Value::Object(out)
        }
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let key = match name {
                "Ref" | "Condition" => name.to_string(),
                _ => format!("Fn::{name}"),
            };
            let mut inner = from_yaml(t.value);
            // `!GetAtt A.B` is the short form of `["A", "B"]`.
            if name == "GetAtt"
                && let Value::String(s) = &inner
                && let Some((a, b)) = s.split_once('.')
            {
                inner = Value::Array(vec![Value::from(a), Value::from(b)]);
            }
            let mut out = Map::new();
            out.insert(key, inner);
            Value::Object(out)
        }
    }
}

fn scalar_text(k: &serde_yaml::Value) -> String {
    match k {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Null => "null".into(),
        other => serde_yaml::to_string(other)
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
    }
}

/// The intrinsic function a value is, if it is one: a one-key object whose
/// key is `Ref`, `Condition` or `Fn::*`.
pub fn intrinsic(v: &Value) -> Option<(&str, &Value)> {
    let obj = v.as_object()?;
    if obj.len() != 1 {
        return None;
    }
    let (k, inner) = obj.iter().next()?;
    (k == "Ref" || k == "Condition" || k.starts_with("Fn::")).then_some((k.as_str(), inner))
}

/// A value as the report shows an expression: `!Ref Stage`,
/// `!GetAtt Fn.Arn`, `!Sub arn:...`, else compact JSON.
pub fn expr(v: &Value) -> String {
    if let Some((name, inner)) = intrinsic(v) {
        let short = name.trim_start_matches("Fn::");
        let arg = match (short, inner) {
            (_, Value::String(s)) => s.clone(),
            ("GetAtt", Value::Array(parts)) => parts
                .iter()
                .map(|p| p.as_str().map(str::to_string).unwrap_or_else(|| expr(p)))
                .collect::<Vec<_>>()
                .join("."),
            _ => compact(inner),
        };
        return format!("!{short} {arg}");
    }
    match v {
        Value::String(s) => s.clone(),
        other => compact(other),
    }
}

fn compact(v: &Value) -> String {
    let s = serde_json::to_string(v).unwrap_or_default();
    // Long expressions are cut: the report needs to recognise it, not
    // hold a copy of the template.
    if s.chars().count() > 200 {
        let cut: String = s.chars().take(200).collect();
        format!("{cut}...")
    } else {
        s
    }
}

/// A plain string value, or `None` for anything else (intrinsics included).
pub fn text(v: &Value) -> Option<&str> {
    v.as_str()
}

/// The 1-based line of the first line at or after `from` (a line number)
/// that defines `key` as a mapping key (`  Key:` in YAML, `"Key":` in
/// JSON); 1 when not found.
pub fn key_line(text: &str, key: &str, from: u32) -> u32 {
    let quoted = format!("\"{key}\"");
    for (i, line) in text
        .lines()
        .enumerate()
        .skip(from.saturating_sub(1) as usize)
    {
        let t = line.trim_start();
        let yaml = t
            .strip_prefix(key)
            .or_else(|| t.strip_prefix(&format!("'{key}'")))
            .or_else(|| t.strip_prefix(&quoted))
            .is_some_and(|rest| rest.trim_start().starts_with(':'));
        if yaml {
            return u32::try_from(i + 1).unwrap_or(u32::MAX);
        }
    }
    1
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn short_tags_become_long_form() {
        let v = parse(
            "A: !Ref Stage\nB: !GetAtt Fn.Arn\nC: !Sub 'x-${Stage}'\nD: !If [IsProd, a, b]\nE: !Join ['', [a, !Ref B]]\n",
        )
        .unwrap();
        assert_eq!(v["A"], serde_json::json!({"Ref": "Stage"}));
        assert_eq!(v["B"], serde_json::json!({"Fn::GetAtt": ["Fn", "Arn"]}));
        assert_eq!(v["C"], serde_json::json!({"Fn::Sub": "x-${Stage}"}));
        assert_eq!(v["D"], serde_json::json!({"Fn::If": ["IsProd", "a", "b"]}));
        assert_eq!(expr(&v["A"]), "!Ref Stage");
        assert_eq!(expr(&v["B"]), "!GetAtt Fn.Arn");
        assert_eq!(expr(&v["C"]), "!Sub x-${Stage}");
        assert!(expr(&v["D"]).starts_with("!If [\"IsProd\""));
        assert!(intrinsic(&v["E"]).is_some());
    }

    #[test]
    fn json_and_lines() {
        let t = "{\n \"Resources\": {\n  \"Fn\": {\"Type\": \"x\"}\n }\n}";
        let v = parse(t).unwrap();
        assert_eq!(v["Resources"]["Fn"]["Type"], "x");
        assert_eq!(key_line(t, "Fn", 1), 3);
        let y = "Resources:\n  Fn:\n    Type: x\n  Other:\n";
        assert_eq!(key_line(y, "Other", 2), 4);
        assert_eq!(key_line(y, "Missing", 1), 1);
        assert!(parse("a: [unclosed").is_err());
        let deep = "a: ".to_string() + &"[".repeat(200) + &"]".repeat(200);
        assert!(parse(&deep).unwrap_err().contains("nested deeper"));
    }
}
