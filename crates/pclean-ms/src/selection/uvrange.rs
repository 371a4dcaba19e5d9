//! `uvrange`: a comma-separated list of `N0~N1UNIT` (closed interval), `>NUNIT`, `<NUNIT` (strict) or
//! `NUNIT` (exact match, as CASA). UNIT is `m` (the default), `km`, `lambda`/`λ`, `klambda`/`kλ` or
//! `Mlambda`/`Mλ`; in a range the unit may be given once at the end.
//!
//! The uv distance of a row is `sqrt(u² + v²)` from its UVW column (metres). Wavelength units follow
//! CASA's MSSelection: they are converted to metres per row with the REF_FREQUENCY of the row's
//! spectral window (`metres = wavelengths · c / ref_freq`), so a row is either selected or not,
//! for all its channels.

use super::common::{parse_err, split_list};
use crate::error::SelectionError;
use pclean_core::units::split_number_unit;
use pclean_core::SPEED_OF_LIGHT;

const P: &str = "uvrange";

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum UvUnit {
    Metres,
    Wavelengths,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum UvBound {
    Between(f64, f64),
    Above(f64),
    Below(f64),
    Exactly(f64),
}

/// One item, with its limits in `unit` (metres or wavelengths).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct UvItem {
    pub(crate) bound: UvBound,
    pub(crate) unit: UvUnit,
}

impl UvItem {
    /// Whether a row with uv distance `uvdist_m` (metres) in a window of reference frequency
    /// `ref_freq_hz` is selected.
    pub(crate) fn contains(&self, uvdist_m: f64, ref_freq_hz: f64) -> bool {
        let d = match self.unit {
            UvUnit::Metres => uvdist_m,
            UvUnit::Wavelengths => uvdist_m * ref_freq_hz / SPEED_OF_LIGHT,
        };
        match self.bound {
            UvBound::Between(a, b) => d >= a && d <= b,
            UvBound::Above(a) => d > a,
            UvBound::Below(a) => d < a,
            UvBound::Exactly(a) => d == a,
        }
    }
}

/// `(scale, unit)` of a unit string; `None` when unknown.
fn unit_of(u: &str) -> Option<(f64, UvUnit)> {
    Some(match u {
        "" | "m" => (1.0, UvUnit::Metres),
        "km" | "Km" | "KM" => (1e3, UvUnit::Metres),
        "lambda" | "LAMBDA" | "λ" => (1.0, UvUnit::Wavelengths),
        "klambda" | "Klambda" | "kLAMBDA" | "KLAMBDA" | "kλ" => (1e3, UvUnit::Wavelengths),
        "Mlambda" | "MLAMBDA" | "Mλ" => (1e6, UvUnit::Wavelengths),
        _ => return None,
    })
}

/// A non-negative number and its optional unit.
fn value(text: &str, s: &str) -> Result<(f64, Option<(f64, UvUnit)>), SelectionError> {
    let (v, u) = split_number_unit(s).ok_or_else(|| {
        parse_err(
            P,
            text,
            format!("'{}' is not a number with an optional unit", s.trim()),
        )
    })?;
    if v < 0.0 {
        return Err(parse_err(
            P,
            text,
            format!("'{}': uv distances are not negative", s.trim()),
        ));
    }
    let unit = if u.is_empty() {
        None
    } else {
        Some(unit_of(u).ok_or_else(|| {
            parse_err(
                P,
                text,
                format!("unknown unit '{u}' (use m, km, lambda, klambda or Mlambda)"),
            )
        })?)
    };
    Ok((v, unit))
}

/// Resolve the expression; `None` selects every uv distance.
pub(crate) fn resolve(text: &str) -> Result<Option<Vec<UvItem>>, SelectionError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for item in split_list(P, t, ',')? {
        if item.contains('%') {
            return Err(parse_err(
                P,
                text,
                "percentage ranges ('N%') are not supported",
            ));
        }
        let make = |v: f64, u: Option<(f64, UvUnit)>| {
            let (scale, unit) = u.unwrap_or((1.0, UvUnit::Metres));
            (v * scale, unit)
        };
        let parsed = if let Some(r) = item.strip_prefix('>') {
            let (v, u) = value(text, r)?;
            let (v, unit) = make(v, u);
            UvItem {
                bound: UvBound::Above(v),
                unit,
            }
        } else if let Some(r) = item.strip_prefix('<') {
            let (v, u) = value(text, r)?;
            let (v, unit) = make(v, u);
            UvItem {
                bound: UvBound::Below(v),
                unit,
            }
        } else if let Some((a, b)) = item.split_once('~') {
            let (va, ua) = value(text, a)?;
            let (vb, ub) = value(text, b)?;
            let (lo, unit) = make(va, ua.or(ub));
            let (hi, unit_b) = make(vb, ub);
            if unit != unit_b {
                return Err(parse_err(
                    P,
                    text,
                    format!("'{item}' mixes metres and wavelengths"),
                ));
            }
            UvItem {
                bound: UvBound::Between(lo.min(hi), lo.max(hi)),
                unit,
            }
        } else {
            let (v, u) = value(text, item)?;
            let (v, unit) = make(v, u);
            UvItem {
                bound: UvBound::Exactly(v),
                unit,
            }
        };
        out.push(parsed);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let item = |bound, unit| UvItem { bound, unit };
        let r = resolve("0~100m").unwrap().unwrap();
        assert_eq!(r, vec![item(UvBound::Between(0.0, 100.0), UvUnit::Metres)]);
        let r = resolve("<2km").unwrap().unwrap();
        assert_eq!(r[0].bound, UvBound::Below(2000.0));
        let r = resolve(">5klambda").unwrap().unwrap();
        assert_eq!(r[0], item(UvBound::Above(5000.0), UvUnit::Wavelengths));
        let r = resolve("1~2Mλ, 100").unwrap().unwrap();
        assert_eq!(r[0].bound, UvBound::Between(1e6, 2e6));
        assert_eq!(r[1], item(UvBound::Exactly(100.0), UvUnit::Metres));
        let r = resolve("1km~2000m").unwrap().unwrap();
        assert_eq!(r[0].bound, UvBound::Between(1000.0, 2000.0));
        // 1000 m at 1.4 GHz is ~4670 wavelengths.
        let above = resolve(">4klambda").unwrap().unwrap()[0];
        assert!(above.contains(1000.0, 1.4e9) && !above.contains(800.0, 1.4e9));
    }

    #[test]
    fn errors() {
        for bad in ["abc", "5parsec", "1m~2lambda", "10%", "-5m", "1~", ">"] {
            let e = resolve(bad).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("cannot parse uvrange='{bad}'")),
                "{e}"
            );
        }
    }
}
