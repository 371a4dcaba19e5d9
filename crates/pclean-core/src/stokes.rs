//! Correlation products stored in MeasurementSets and the Stokes parameters images are made of.

use serde::{Deserialize, Serialize};

/// A correlation product, with casacore's `Stokes::StokesTypes` codes (POLARIZATION::CORR_TYPE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Correlation {
    RR,
    RL,
    LR,
    LL,
    XX,
    XY,
    YX,
    YY,
}

impl Correlation {
    /// Map casacore's CORR_TYPE code to a correlation; `None` for codes that are not feed products.
    pub fn from_casa_code(code: i32) -> Option<Self> {
        Some(match code {
            5 => Correlation::RR,
            6 => Correlation::RL,
            7 => Correlation::LR,
            8 => Correlation::LL,
            9 => Correlation::XX,
            10 => Correlation::XY,
            11 => Correlation::YX,
            12 => Correlation::YY,
            _ => return None,
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Correlation::RR => "RR",
            Correlation::RL => "RL",
            Correlation::LR => "LR",
            Correlation::LL => "LL",
            Correlation::XX => "XX",
            Correlation::XY => "XY",
            Correlation::YX => "YX",
            Correlation::YY => "YY",
        }
    }

    fn is_circular(&self) -> bool {
        matches!(
            self,
            Correlation::RR | Correlation::RL | Correlation::LR | Correlation::LL
        )
    }
}

/// One plane of the Stokes axis of an output image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StokesParam {
    I,
    Q,
    U,
    V,
    Corr(Correlation),
}

impl StokesParam {
    /// casacore's Stokes code (I=1 .. V=4, RR=5 .. YY=12), used in image coordinate records.
    pub fn casa_code(&self) -> i32 {
        match self {
            StokesParam::I => 1,
            StokesParam::Q => 2,
            StokesParam::U => 3,
            StokesParam::V => 4,
            StokesParam::Corr(c) => match c {
                Correlation::RR => 5,
                Correlation::RL => 6,
                Correlation::LR => 7,
                Correlation::LL => 8,
                Correlation::XX => 9,
                Correlation::XY => 10,
                Correlation::YX => 11,
                Correlation::YY => 12,
            },
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            StokesParam::I => "I",
            StokesParam::Q => "Q",
            StokesParam::U => "U",
            StokesParam::V => "V",
            StokesParam::Corr(c) => c.name(),
        }
    }

    /// How to form this parameter from the correlations `corrs` present in the data:
    /// a list of `(index into corrs, complex coefficient as (re, im))`. `None` when the data lack
    /// the correlations needed. Stokes I from a single parallel hand uses that hand alone.
    pub fn coefficients(&self, corrs: &[Correlation]) -> Option<Vec<(usize, (f64, f64))>> {
        let idx = |c: Correlation| corrs.iter().position(|x| *x == c);
        let circular = corrs.iter().any(|c| c.is_circular());
        let pair = |a: Correlation, ca: (f64, f64), b: Correlation, cb: (f64, f64)| {
            Some(vec![(idx(a)?, ca), (idx(b)?, cb)])
        };
        let half = (0.5, 0.0);
        let mhalf = (-0.5, 0.0);
        match self {
            StokesParam::Corr(c) => Some(vec![(idx(*c)?, (1.0, 0.0))]),
            StokesParam::I => {
                let (a, b) = if circular {
                    (Correlation::RR, Correlation::LL)
                } else {
                    (Correlation::XX, Correlation::YY)
                };
                match (idx(a), idx(b)) {
                    (Some(i), Some(j)) => Some(vec![(i, half), (j, half)]),
                    (Some(i), None) | (None, Some(i)) => Some(vec![(i, (1.0, 0.0))]),
                    (None, None) => None,
                }
            }
            StokesParam::V if circular => pair(Correlation::RR, half, Correlation::LL, mhalf),
            // V = (XY - YX) / (2i) = -i/2 XY + i/2 YX
            StokesParam::V => pair(Correlation::XY, (0.0, -0.5), Correlation::YX, (0.0, 0.5)),
            StokesParam::Q if circular => pair(Correlation::RL, half, Correlation::LR, half),
            StokesParam::Q => pair(Correlation::XX, half, Correlation::YY, mhalf),
            // U = (RL - LR) / (2i)
            StokesParam::U if circular => {
                pair(Correlation::RL, (0.0, -0.5), Correlation::LR, (0.0, 0.5))
            }
            StokesParam::U => pair(Correlation::XY, half, Correlation::YX, half),
        }
    }
}

/// The ordered list of planes on an image's Stokes axis (tclean's `stokes` parameter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StokesSet(pub Vec<StokesParam>);

/// A `stokes` value tclean does not accept.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("stokes='{0}' is not supported: use I, IV, IQUV, QU, IQ, UV, Q, U, V, or a correlation RR, LL, XX, YY, RRLL, XXYY")]
pub struct StokesParseError(pub String);

impl StokesSet {
    pub fn parse(text: &str) -> Result<Self, StokesParseError> {
        let t = text.trim().to_ascii_uppercase();
        let err = || StokesParseError(text.to_string());
        let params = match t.as_str() {
            "RR" | "LL" | "XX" | "YY" | "RL" | "LR" | "XY" | "YX" => {
                vec![StokesParam::Corr(corr_from_name(&t).ok_or_else(err)?)]
            }
            "RRLL" => vec![
                StokesParam::Corr(Correlation::RR),
                StokesParam::Corr(Correlation::LL),
            ],
            "XXYY" => vec![
                StokesParam::Corr(Correlation::XX),
                StokesParam::Corr(Correlation::YY),
            ],
            "I" | "Q" | "U" | "V" | "IV" | "IQ" | "QU" | "UV" | "IQUV" => t
                .chars()
                .map(|c| match c {
                    'I' => StokesParam::I,
                    'Q' => StokesParam::Q,
                    'U' => StokesParam::U,
                    _ => StokesParam::V,
                })
                .collect(),
            _ => return Err(err()),
        };
        Ok(StokesSet(params))
    }

    /// The parameter string as tclean writes it (`"IQUV"`).
    pub fn label(&self) -> String {
        self.0.iter().map(|p| p.name()).collect()
    }
}

fn corr_from_name(s: &str) -> Option<Correlation> {
    (5..=12)
        .filter_map(Correlation::from_casa_code)
        .find(|c| c.name() == s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_sets() {
        assert_eq!(StokesSet::parse("IQUV").unwrap().0.len(), 4);
        assert_eq!(
            StokesSet::parse("rr").unwrap().0,
            vec![StokesParam::Corr(Correlation::RR)]
        );
        assert!(StokesSet::parse("IQX").is_err());
    }

    #[test]
    fn stokes_i_from_circular_and_linear() {
        let circ = [Correlation::RR, Correlation::LL];
        let c = StokesParam::I.coefficients(&circ).unwrap();
        assert_eq!(c, vec![(0, (0.5, 0.0)), (1, (0.5, 0.0))]);
        let lin = [
            Correlation::XX,
            Correlation::XY,
            Correlation::YX,
            Correlation::YY,
        ];
        assert_eq!(
            StokesParam::I.coefficients(&lin).unwrap(),
            vec![(0, (0.5, 0.0)), (3, (0.5, 0.0))]
        );
        assert!(StokesParam::Q.coefficients(&circ).is_none());
        assert_eq!(
            StokesParam::V.coefficients(&circ).unwrap()[1],
            (1, (-0.5, 0.0))
        );
    }
}
