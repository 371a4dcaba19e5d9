//! Lenient deserialisation of [`RawParams`](crate::params::RawParams) fields: the value types
//! tclean accepts. A config file (YAML/TOML/JSON), the CLI and Python all go through these, so
//! `imsize: 256` and `imsize: [256, 256]`, `cell: 15arcsec` and `cell: [15arcsec]`, `start: 5` and
//! `start: "5"` mean the same everywhere. Stored values are always the canonical form (lists of
//! strings / integers, strings), so a dumped config reads back to the same value.

use serde::{Deserialize, Deserializer};

/// A scalar as it may appear in a config: text, integer, real or boolean.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Int(i64),
    Real(f64),
    Bool(bool),
    Text(String),
}

impl Scalar {
    /// The value as text; a bare number gets `unit` appended (tclean's unit for bare numbers).
    fn into_text(self, unit: &str) -> String {
        match self {
            Scalar::Text(s) => s,
            Scalar::Int(i) => format!("{i}{unit}"),
            Scalar::Real(r) => format!("{r:?}{unit}"),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    Many(Vec<T>),
    One(T),
}

fn one_or_many<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Vec<T>>, D::Error> {
    Ok(Option::<OneOrMany<T>>::deserialize(d)?.map(|v| match v {
        OneOrMany::Many(v) => v,
        OneOrMany::One(x) => vec![x],
    }))
}

/// A string, or a number written without quotes (`start: 5`, `spw: 0`).
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Scalar>::deserialize(d)?.map(|s| s.into_text("")))
}

/// A flux density: a bare number is Jy (tclean's `threshold=0.001`).
pub fn flux<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Scalar>::deserialize(d)?.map(|s| s.into_text("Jy")))
}

/// One string or a list of strings (numbers become text).
pub fn texts<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    Ok(one_or_many::<D, Scalar>(d)?.map(|v| v.into_iter().map(|s| s.into_text("")).collect()))
}

/// One angle or a list of angles; a bare number is arcsec (tclean's `cell=0.5`).
pub fn angles<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    Ok(
        one_or_many::<D, Scalar>(d)?
            .map(|v| v.into_iter().map(|s| s.into_text("arcsec")).collect()),
    )
}

/// true or false, or the integers 0 and 1 (CASA 5's tclean took `interactive=0`).
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum BoolOrInt {
        Bool(bool),
        Int(i64),
    }
    match Option::<BoolOrInt>::deserialize(d)? {
        None => Ok(None),
        Some(BoolOrInt::Bool(b)) => Ok(Some(b)),
        Some(BoolOrInt::Int(0)) => Ok(Some(false)),
        Some(BoolOrInt::Int(1)) => Ok(Some(true)),
        Some(BoolOrInt::Int(i)) => Err(serde::de::Error::custom(format!(
            "{i}: expected true or false (or 0 / 1)"
        ))),
    }
}

/// A selection: one string (or bare number) for every MS, or a list of one per MS.
pub fn per_ms<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<crate::selection::PerMs>, D::Error> {
    Ok(one_or_many::<D, Scalar>(d)?
        .map(|v| crate::selection::PerMs(v.into_iter().map(|s| s.into_text("")).collect())))
}

/// One integer or a list of integers (`imsize: 256`).
pub fn ints<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<i64>>, D::Error> {
    one_or_many(d)
}

#[cfg(test)]
mod tests {
    use crate::params::RawParams;

    #[test]
    fn tclean_value_types() {
        let r: RawParams = serde_json::from_str(
            r#"{"vis":"a.ms","imsize":256,"cell":0.5,"start":5,"width":"2","threshold":0.001,
                "restfreq":"1420MHz","scales":[0,5]}"#,
        )
        .unwrap();
        assert_eq!(r.vis, Some(vec!["a.ms".to_string()]));
        assert_eq!(r.imsize, Some(vec![256]));
        assert_eq!(r.cell, Some(vec!["0.5arcsec".to_string()]));
        assert_eq!(r.start.as_deref(), Some("5"));
        assert_eq!(r.width.as_deref(), Some("2"));
        assert_eq!(r.threshold.as_deref(), Some("0.001Jy"));
        assert_eq!(r.restfreq, Some(vec!["1420MHz".to_string()]));
        assert_eq!(r.scales, Some(vec![0, 5]));
        let y: RawParams =
            serde_norway::from_str("imsize: [256, 128]\ncell: 15arcsec\nstart: 5\n").unwrap();
        assert_eq!(y.imsize, Some(vec![256, 128]));
        assert_eq!(y.cell, Some(vec!["15arcsec".to_string()]));
        assert_eq!(y.start.as_deref(), Some("5"));
    }

    /// The ALMA pipeline's forms: per-MS selection lists and CASA 5's `interactive=0`.
    #[test]
    fn pipeline_value_types() {
        use crate::selection::PerMs;
        let r: RawParams = serde_json::from_str(
            r#"{"spw":["22","24"],"scan":3,"field":"J0006-0623","interactive":0,"verbose":true}"#,
        )
        .unwrap();
        assert_eq!(r.spw, Some(PerMs(vec!["22".into(), "24".into()])));
        assert_eq!(r.scan, Some(PerMs::one("3")));
        assert_eq!(r.interactive, Some(false));
        assert_eq!(r.verbose, Some(true));
        let e = serde_json::from_str::<RawParams>(r#"{"interactive":2}"#).unwrap_err();
        assert!(e.to_string().contains("interactive"), "{e}");
        // One value is written back as a string, a list as a list.
        let v = crate::config::to_value(&r);
        assert_eq!(v["field"], serde_json::json!("J0006-0623"));
        assert_eq!(v["spw"], serde_json::json!(["22", "24"]));
    }
}
