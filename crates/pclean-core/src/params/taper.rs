//! tclean's `uvtaper`, parsed in validation: `[]` or `['']` no taper; `[maj]` circular;
//! `[maj, min]`; `[maj, min, pa]`. Sizes are angles (image-plane FWHM) or uv distances
//! (wavelengths, `klambda`, `Mlambda`; a bare number is in wavelengths, as tclean documents);
//! major and minor are of one kind; the position angle needs an angle unit.

use super::ParamError;
use crate::units::split_number_unit;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// The Gaussian taper's FWHM sizes: both image-plane angles (radians) or both uv distances
/// (wavelengths).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum TaperSizes {
    Angle { major_rad: f64, minor_rad: f64 },
    Lambda { major: f64, minor: f64 },
}

/// A validated `uvtaper`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UvTaperSpec {
    pub sizes: TaperSizes,
    /// Position angle, radians (0 when not given).
    pub pa_rad: f64,
}

enum Size {
    Angle(f64),
    Lambda(f64),
}

fn bad(index: usize, text: &str, why: &str) -> ParamError {
    ParamError::Invalid {
        param: "uvtaper",
        value: format!("{text:?} (value {})", index + 1),
        why: why.to_string(),
    }
}

fn size(index: usize, text: &str) -> Result<Size, ParamError> {
    let (value, unit) = split_number_unit(text).ok_or_else(|| {
        bad(
            index,
            text,
            "expected a number with a unit, e.g. '10arcsec' or '5klambda'",
        )
    })?;
    if !(value.is_finite() && value > 0.0) {
        return Err(bad(index, text, "the taper size must be positive"));
    }
    Ok(match unit {
        "" | "lambda" => Size::Lambda(value),
        "klambda" => Size::Lambda(value * 1e3),
        "Mlambda" => Size::Lambda(value * 1e6),
        "rad" => Size::Angle(value),
        "deg" => Size::Angle(value * PI / 180.0),
        "arcmin" => Size::Angle(value * PI / 180.0 / 60.0),
        "arcsec" => Size::Angle(value * PI / 180.0 / 3600.0),
        "mas" | "marcsec" => Size::Angle(value * PI / 180.0 / 3.6e6),
        _ => {
            return Err(bad(
                index,
                text,
                "unknown unit (accepted: lambda, klambda, Mlambda, rad, deg, arcmin, arcsec, mas)",
            ))
        }
    })
}

/// Parse tclean's `uvtaper` list (`None`: no taper).
pub fn parse_uvtaper(values: &[String]) -> Result<Option<UvTaperSpec>, ParamError> {
    let vals: Vec<&str> = values.iter().map(|s| s.trim()).collect();
    if vals.is_empty() || vals[0].is_empty() {
        return Ok(None);
    }
    if vals.len() > 3 {
        return Err(bad(
            3,
            &vals[3..].join(","),
            "at most three values [bmaj, bmin, bpa]",
        ));
    }
    let maj = size(0, vals[0])?;
    let min = match vals.get(1) {
        Some(t) if !t.is_empty() => size(1, t)?,
        _ => size(0, vals[0])?,
    };
    let pa_rad = match vals.get(2) {
        Some(t) if !t.is_empty() => crate::parse_angle_rad(t)
            .ok()
            .filter(|_| split_number_unit(t).is_some_and(|(_, u)| !u.is_empty()))
            .ok_or_else(|| bad(2, t, "the position angle needs an angle unit, e.g. '30deg'"))?,
        _ => 0.0,
    };
    let sizes = match (maj, min) {
        (Size::Angle(a), Size::Angle(b)) => TaperSizes::Angle {
            major_rad: a,
            minor_rad: b,
        },
        (Size::Lambda(a), Size::Lambda(b)) => TaperSizes::Lambda { major: a, minor: b },
        _ => {
            return Err(bad(
                1,
                vals[1],
                "bmaj and bmin must both be angles or both uv sizes",
            ))
        }
    };
    Ok(Some(UvTaperSpec { sizes, pa_rad }))
}
