//! Config documents: parameters from JSON/YAML values with errors that name the key, presets
//! shipped with pclean, and the canonical YAML form (what `to_yaml` writes reads back identically).

use crate::params::{ParamError, RawParams};

/// Presets shipped with pclean: `(name, YAML)`. A preset is a config layer below the user's file
/// and flags.
pub const PRESETS: &[(&str, &str)] = &[("vlass", include_str!("presets/vlass.yaml"))];

/// The parameters of preset `name`.
pub fn preset(name: &str) -> Result<RawParams, ParamError> {
    match PRESETS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
    {
        Some((_, text)) => from_yaml(text),
        None => Err(ParamError::Invalid {
            param: "preset",
            value: format!("{name:?}"),
            why: format!(
                "unknown preset; available: {}",
                PRESETS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

pub use crate::schema::schema;

/// Parameters from a JSON object. Each key is checked on its own, so an error names the key:
/// an unknown key ([`ParamError::Unknown`]) or a value of the wrong type ([`ParamError::Type`]).
pub fn from_value(value: serde_json::Value) -> Result<RawParams, ParamError> {
    let map = match value {
        // The seed system's sectioned layout (`selection:`, `image:`, ..., `cluster:`).
        serde_json::Value::Object(m) if crate::seed_layout::is_sectioned(&m) => {
            crate::seed_layout::flatten(m)?
        }
        serde_json::Value::Object(m) => m,
        serde_json::Value::Null => return Ok(RawParams::default()),
        other => {
            return Err(ParamError::Type {
                param: "config".into(),
                why: format!("expected a mapping of parameter names to values, got {other}"),
            })
        }
    };
    let mut raw = RawParams::default();
    for (k, v) in map {
        let known = raw.set(&k, v.clone()).map_err(|e| ParamError::Type {
            param: k.clone(),
            why: format!("{v} is not a valid value ({e})"),
        })?;
        if !known {
            return Err(ParamError::Unknown {
                suggestion: crate::schema::closest(&k),
                key: k,
            });
        }
    }
    Ok(raw)
}

/// Parameters from a text in `format` ("JSON", "YAML") read by `parse`.
fn from_text<E: std::fmt::Display>(
    text: &str,
    format: &str,
    parse: impl FnOnce(&str) -> Result<serde_json::Value, E>,
) -> Result<RawParams, ParamError> {
    let v = parse(text).map_err(|e| ParamError::Type {
        param: "config".into(),
        why: format!("not valid {format}: {e}"),
    })?;
    from_value(v)
}

/// Parameters from a JSON text.
pub fn from_json(text: &str) -> Result<RawParams, ParamError> {
    from_text(text, "JSON", |t| serde_json::from_str(t))
}

/// Parameters from a YAML text.
pub fn from_yaml(text: &str) -> Result<RawParams, ParamError> {
    from_text(text, "YAML", |t| serde_norway::from_str(t))
}

/// The `cluster: submit:` section of a config in the seed's sectioned layout (the coordinator job
/// of `python -m pclean submit`; no imaging parameter), `Null` when absent.
pub fn seed_submit_section(text: &str) -> Result<serde_json::Value, ParamError> {
    let v: serde_json::Value = serde_norway::from_str(text).map_err(|e| ParamError::Type {
        param: "config".into(),
        why: format!("not valid YAML: {e}"),
    })?;
    Ok(v.get(crate::seed_layout::CLUSTER_SECTION)
        .and_then(|c| c.get("submit"))
        .cloned()
        .unwrap_or(serde_json::Value::Null))
}

/// The keys that are set, as a JSON object (unset keys left out).
pub fn to_value(raw: &RawParams) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(raw) {
        Ok(serde_json::Value::Object(m)) => m.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        _ => unreachable!("RawParams serialises to a map"),
    }
}

/// The keys that are set, as YAML; [`from_yaml`] reads it back to the same parameters.
pub fn to_yaml(raw: &RawParams) -> String {
    serde_norway::to_string(&to_value(raw)).expect("parameters serialise to YAML")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vlass_preset_validates_and_round_trips() {
        let mut p = preset("vlass").unwrap();
        assert_eq!(p.imsize, Some(vec![7290]));
        assert_eq!(p.robust, Some(1.0));
        assert_eq!(from_yaml(&to_yaml(&p)).unwrap(), p);
        p.vis = Some(vec!["a.ms".into()]);
        p.imagename = Some("x".into());
        crate::params::ImagingParams::from_raw(&p).unwrap();
        assert!(preset("nope").unwrap_err().to_string().contains("vlass"));
    }

    #[test]
    fn errors_name_the_key() {
        let e = from_json(r#"{"imsize": 10, "robustt": 1}"#).unwrap_err();
        assert!(
            e.to_string().contains("'robustt'") && e.to_string().contains("robust"),
            "{e}"
        );
        let e = from_json(r#"{"niter": "many"}"#).unwrap_err();
        assert_eq!(e.param(), "niter");
        let full = to_yaml(&RawParams::default().with_defaults());
        assert_eq!(
            from_yaml(&full).unwrap(),
            RawParams::default().with_defaults()
        );
    }
}
