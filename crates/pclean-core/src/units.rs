//! Parsing of CASA-style quantity strings (`"15arcsec"`, `"1420.405752MHz"`, `"8mJy"`).

use std::f64::consts::PI;

/// A quantity string that could not be understood.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum QuantityError {
    /// The text has no leading number.
    #[error("'{text}' is not a {kind}: expected a number followed by a unit, e.g. {example}")]
    NoNumber {
        text: String,
        kind: &'static str,
        example: &'static str,
    },
    /// The unit is not one of the accepted units for this kind of quantity.
    #[error("'{text}': unknown {kind} unit '{unit}' (accepted: {accepted})")]
    BadUnit {
        text: String,
        kind: &'static str,
        unit: String,
        accepted: &'static str,
    },
}

/// Split `"12.5arcsec"` into `(12.5, "arcsec")`. Leading/trailing whitespace is ignored.
pub fn split_number_unit(text: &str) -> Option<(f64, &str)> {
    let t = text.trim();
    let bytes = t.as_bytes();
    let mut end = 0;
    let mut seen_digit = false;
    let mut seen_e = false;
    while end < bytes.len() {
        let c = bytes[end] as char;
        let ok = match c {
            '0'..='9' => {
                seen_digit = true;
                true
            }
            '+' | '-' => end == 0 || matches!(bytes[end - 1] as char, 'e' | 'E'),
            '.' => true,
            'e' | 'E' if seen_digit && !seen_e => {
                // Only an exponent if followed by a digit or sign+digit.
                let next = bytes.get(end + 1).map(|b| *b as char);
                let next2 = bytes.get(end + 2).map(|b| *b as char);
                let is_exp = matches!(next, Some('0'..='9'))
                    || (matches!(next, Some('+' | '-')) && matches!(next2, Some('0'..='9')));
                if is_exp {
                    seen_e = true;
                }
                is_exp
            }
            _ => false,
        };
        if !ok {
            break;
        }
        end += 1;
    }
    if !seen_digit {
        return None;
    }
    let value: f64 = t[..end].parse().ok()?;
    Some((value, t[end..].trim()))
}

/// A kind of quantity: how errors name it and the factor of each unit to the base unit.
struct QuantityKind {
    kind: &'static str,
    example: &'static str,
    accepted: &'static str,
    /// Whether a `/beam` suffix is allowed (and ignored).
    per_beam: bool,
    /// `(unit spellings, factor to the base unit)`.
    units: &'static [(&'static [&'static str], f64)],
}

const ANGLE: QuantityKind = QuantityKind {
    kind: "angle",
    example: "'15arcsec'",
    accepted: "rad, deg, arcmin, arcsec, mas",
    per_beam: false,
    units: &[
        (&["rad"], 1.0),
        (&["deg"], PI / 180.0),
        (&["arcmin", "'"], PI / 180.0 / 60.0),
        (&["arcsec", "\"", ""], PI / 180.0 / 3600.0),
        (&["mas", "marcsec"], PI / 180.0 / 3600.0 / 1000.0),
    ],
};

const FREQUENCY: QuantityKind = QuantityKind {
    kind: "frequency",
    example: "'1420.405752MHz'",
    accepted: "Hz, kHz, MHz, GHz, THz",
    per_beam: false,
    units: &[
        (&["Hz", ""], 1.0),
        (&["kHz"], 1e3),
        (&["MHz"], 1e6),
        (&["GHz"], 1e9),
        (&["THz"], 1e12),
    ],
};

const FLUX: QuantityKind = QuantityKind {
    kind: "flux density",
    example: "'8mJy'",
    accepted: "Jy, mJy, uJy, nJy (optionally /beam)",
    per_beam: true,
    units: &[
        (&["Jy", ""], 1.0),
        (&["mJy"], 1e-3),
        (&["uJy", "µJy"], 1e-6),
        (&["nJy"], 1e-9),
        (&["kJy"], 1e3),
    ],
};

/// Parse `text` as a quantity of `q` in its base unit.
fn parse_quantity(text: &str, q: &QuantityKind) -> Result<f64, QuantityError> {
    // `nan`, `inf` and overflowing values (`1e400`) parse as floats but are no quantity.
    let (v, unit) = split_number_unit(text)
        .filter(|(v, _)| v.is_finite())
        .ok_or_else(|| QuantityError::NoNumber {
            text: text.to_string(),
            kind: q.kind,
            example: q.example,
        })?;
    let base = match q.per_beam {
        true => unit.strip_suffix("/beam").unwrap_or(unit),
        false => unit,
    };
    let factor = q
        .units
        .iter()
        .find(|(names, _)| names.contains(&base))
        .map(|&(_, f)| f)
        .ok_or_else(|| QuantityError::BadUnit {
            text: text.to_string(),
            kind: q.kind,
            unit: unit.to_string(),
            accepted: q.accepted,
        })?;
    let value = v * factor;
    if !value.is_finite() {
        return Err(QuantityError::NoNumber {
            text: text.to_string(),
            kind: q.kind,
            example: q.example,
        });
    }
    Ok(value)
}

/// Parse an angle (`rad`, `deg`, `arcmin`, `arcsec`, `mas`; a bare number is arcsec as in tclean's `cell`).
pub fn parse_angle_rad(text: &str) -> Result<f64, QuantityError> {
    parse_quantity(text, &ANGLE)
}

/// Parse a frequency (`Hz`, `kHz`, `MHz`, `GHz`; a bare number is Hz).
pub fn parse_freq_hz(text: &str) -> Result<f64, QuantityError> {
    parse_quantity(text, &FREQUENCY)
}

/// Parse a flux density (`Jy`, `mJy`, `uJy`, `Jy/beam`, `mJy/beam`; a bare number is Jy).
pub fn parse_flux_jy(text: &str) -> Result<f64, QuantityError> {
    parse_quantity(text, &FLUX)
}

#[cfg(test)]
mod tests {
    /// Found by fuzzing (issue 20): `1e400deg` parsed to infinity and `nan` to NaN.
    #[test]
    fn regression_fuzz_non_finite_quantities_are_refused() {
        for text in ["1e400deg", "nan", "inf", "-infGHz", "NaNarcsec", "1e308GHz"] {
            let e = parse_angle_rad(text)
                .and(parse_freq_hz(text))
                .and(parse_flux_jy(text))
                .unwrap_err();
            assert!(e.to_string().contains(text), "{e}");
        }
    }

    use super::*;

    #[test]
    fn angles() {
        // Relative tolerance 1e-15: pure unit scaling of exactly representable inputs.
        let a = parse_angle_rad("15arcsec").unwrap();
        assert!((a - 15.0 * PI / 648000.0).abs() < 1e-18);
        assert!((parse_angle_rad("1deg").unwrap() - PI / 180.0).abs() < 1e-15);
        assert!((parse_angle_rad("0.1").unwrap() - 0.1 * PI / 648000.0).abs() < 1e-18);
        assert!(parse_angle_rad("abc").is_err());
        assert!(parse_angle_rad("3parsec").is_err());
    }

    #[test]
    fn freqs_and_flux() {
        assert_eq!(parse_freq_hz("1420.405752MHz").unwrap(), 1420.405752e6);
        assert_eq!(parse_freq_hz("1.5e9Hz").unwrap(), 1.5e9);
        assert_eq!(parse_flux_jy("8mJy").unwrap(), 8e-3);
        assert_eq!(parse_flux_jy("0.1Jy/beam").unwrap(), 0.1);
        assert!(parse_freq_hz("5 parsec").is_err());
    }
}
