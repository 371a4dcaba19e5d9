//! The parameter schema: every parameter declared once ([`table`]), with what is made from it:
//! the defaults map ([`schema`]), the specs as data ([`PARAMS`], [`specs_json`]), "did you mean"
//! ([`closest`]), how a default is shown ([`default_text`]) and docs/usage.md's table
//! ([`markdown_table`]).

mod declare;
pub mod kinds;
mod sections;
mod spec;
pub mod table;

pub use kinds::ValueKind;
pub use sections::{help_section, HELP_SECTIONS};
pub use spec::{CliSpec, Group, ParamSpec};
pub use table::{EffectiveParams, RawParams, DEFAULT_EPSILON, PARAMS};

use serde_json::Value;

impl<'de> serde::Deserialize<'de> for RawParams {
    /// Through [`crate::config::from_value`]: unknown keys and wrong types are errors naming the key.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        crate::config::from_value(v).map_err(serde::de::Error::custom)
    }
}

/// Every parameter with its default, in declaration order (`RawParams::with_defaults` of
/// nothing): the config schema.
pub fn schema() -> serde_json::Map<String, Value> {
    match serde_json::to_value(RawParams::default().with_defaults()) {
        Ok(Value::Object(m)) => m,
        _ => unreachable!("RawParams serialises to a map"),
    }
}

/// The declaration of parameter `name`.
pub fn spec(name: &str) -> Option<&'static ParamSpec> {
    PARAMS.iter().find(|p| p.name == name)
}

/// Every parameter's declaration with its default, as JSON (what `pclean._native.params()` gives
/// Python): `[{"name", "kind", "default", "help", "default_text", "choices", "group", ...}]`.
pub fn specs_json() -> Vec<Value> {
    let defaults = schema();
    PARAMS
        .iter()
        .map(|p| {
            let mut v = serde_json::to_value(p).expect("specs serialise");
            let m = v.as_object_mut().expect("a spec is a map");
            m.insert("default".into(), defaults[p.name].clone());
            m.insert("default_text".into(), default_text(p).into());
            v
        })
        .collect()
}

/// The closest parameter name to `key` (for "did you mean" hints), within two edits.
pub fn closest(key: &str) -> Option<&'static str> {
    fn dist(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut cur = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                cur.push(
                    (prev[j] + usize::from(ca != *cb))
                        .min(prev[j + 1] + 1)
                        .min(cur[j] + 1),
                );
            }
            prev = cur;
        }
        prev[b.len()]
    }
    let key = key.to_ascii_lowercase().replace('-', "_");
    PARAMS
        .iter()
        .map(|p| (dist(&key, p.name), p.name))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k)
}

/// A default value as written on the command line: text as is (`''` when empty), lists joined
/// with ',' (`[]` when empty), numbers and booleans as JSON writes them.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() => "''".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Array(a) => a.iter().map(value_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// How the default of `p` is shown (CLI help, docs): its value, then what it means if declared.
pub fn default_text(p: &ParamSpec) -> String {
    let v = value_text(&schema()[p.name]);
    if p.default_meaning.is_empty() {
        v
    } else {
        format!("{v} ({})", p.default_meaning)
    }
}

/// The help line of `p` with its allowed values and default, as `pclean image --help` shows it.
pub fn help_line(p: &ParamSpec) -> String {
    let mut s = p.help.to_string();
    if !p.choices.is_empty() && !p.help.contains(p.choices[0]) {
        s.push_str(": ");
        s.push_str(&p.choices.join(", "));
    }
    format!("{s} [default: {}]", default_text(p))
}

fn md_row(p: &ParamSpec) -> String {
    let mut meaning = p.help.to_string();
    if !p.choices.is_empty() {
        let c: Vec<String> = p.choices.iter().map(|c| format!("`{c}`")).collect();
        meaning.push_str(&format!(" ({})", c.join(", ")));
    }
    if !p.doc.is_empty() {
        meaning.push_str("; ");
        meaning.push_str(p.doc);
    }
    let v = value_text(&schema()[p.name]);
    let mut default = format!("`{v}`");
    if !p.default_meaning.is_empty() {
        default.push_str(&format!(" ({})", p.default_meaning));
    }
    format!(
        "| `{}` | `--{}` | {} | {} |",
        p.name,
        p.flag(),
        default,
        meaning.replace('|', "\\|").replace('<', "\\<")
    )
}

/// The parameter tables of docs/usage.md (one per group), generated from the declaration
/// (`pclean params --markdown` prints it; a test keeps docs/usage.md equal to it).
pub fn markdown_table() -> String {
    let mut out = String::new();
    for (group, title) in [
        (Group::Imaging, "Imaging"),
        (Group::Parallel, "Distributed run (Dask)"),
    ] {
        out.push_str(&format!(
            "\n### {title}\n\n| parameter | flag | default | meaning |\n|---|---|---|---|\n"
        ));
        for p in PARAMS.iter().filter(|p| p.group == group) {
            out.push_str(&md_row(p));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests;
