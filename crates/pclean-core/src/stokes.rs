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
    /// tclean's `stokes='pseudoI'`: a Stokes I plane (labelled I) made from whichever parallel
    /// hands are unflagged in each sample, instead of dropping a sample with any flagged
    /// correlation as every other value does.
    PseudoI,
    Corr(Correlation),
}

impl StokesParam {
    /// casacore's Stokes code (I=1 .. V=4, RR=5 .. YY=12), used in image coordinate records.
    pub fn casa_code(&self) -> i32 {
        match self {
            StokesParam::I | StokesParam::PseudoI => 1,
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

    /// The plane's label on the image's Stokes axis (`pseudoI` is labelled I, as tclean does).
    pub fn name(&self) -> &'static str {
        match self {
            StokesParam::I | StokesParam::PseudoI => "I",
            StokesParam::Q => "Q",
            StokesParam::U => "U",
            StokesParam::V => "V",
            StokesParam::Corr(c) => c.name(),
        }
    }

    /// How to form this parameter from the correlations `corrs` present in the data:
    /// a list of `(index into corrs, complex coefficient as (re, im))`. `None` when the data lack
    /// the correlations needed. Stokes I (and pseudoI) from a single parallel hand uses that hand
    /// alone. Conventions (CASA's, checked against tclean's images of simulated polarised
    /// sources): circular I = (RR+LL)/2, Q = (RL+LR)/2, U = (RL-LR)/2i, V = (RR-LL)/2; linear
    /// I = (XX+YY)/2, Q = (XX-YY)/2, U = (XY+YX)/2, V = (XY-YX)/2i.
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
            StokesParam::I | StokesParam::PseudoI => {
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
#[error("stokes='{0}' is not supported: use I, Q, U, V, IV, QU, IQ, UV, IQUV, pseudoI, or a correlation RR, LL, XX, YY, RRLL, XXYY")]
pub struct StokesParseError(pub String);

impl StokesSet {
    pub fn parse(text: &str) -> Result<Self, StokesParseError> {
        let t = text.trim().to_ascii_uppercase();
        let err = || StokesParseError(text.to_string());
        let params = match t.as_str() {
            "RR" | "LL" | "XX" | "YY" | "RL" | "LR" | "XY" | "YX" => {
                vec![StokesParam::Corr(corr_from_name(&t).ok_or_else(err)?)]
            }
            "PSEUDOI" => vec![StokesParam::PseudoI],
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

    /// The parameter string as tclean takes it (`"IQUV"`, `"pseudoI"`).
    pub fn label(&self) -> String {
        if self.0 == [StokesParam::PseudoI] {
            return "pseudoI".to_string();
        }
        self.0.iter().map(|p| p.name()).collect()
    }

    /// Whether the image has a single Stokes I plane (not pseudoI). CASA then grids both
    /// parallel hands into that one plane, so its sum of weights counts each sample once per hand.
    pub fn is_i_only(&self) -> bool {
        self.0 == [StokesParam::I]
    }
}

/// Every `stokes` value tclean accepts, in its documentation's order.
pub const TCLEAN_STOKES_VALUES: [&str; 16] = [
    "I", "Q", "U", "V", "IV", "QU", "IQ", "UV", "IQUV", "RR", "LL", "XX", "YY", "RRLL", "XXYY",
    "pseudoI",
];

impl StokesSet {
    /// The first plane that the correlations `corrs` cannot form, if any.
    pub fn unformable(&self, corrs: &[Correlation]) -> Option<StokesParam> {
        self.0
            .iter()
            .copied()
            .find(|p| p.coefficients(corrs).is_none())
    }

    /// The tclean `stokes` values that `corrs` can form.
    pub fn formable_values(corrs: &[Correlation]) -> Vec<&'static str> {
        TCLEAN_STOKES_VALUES
            .iter()
            .copied()
            .filter(|v| StokesSet::parse(v).is_ok_and(|set| set.unformable(corrs).is_none()))
            .collect()
    }
}

/// The feeds a set of correlations comes from, in words (`"circular feeds (RR, LL)"`).
pub fn describe_feeds(corrs: &[Correlation]) -> String {
    let names: Vec<&str> = corrs.iter().map(|c| c.name()).collect();
    let circ = corrs.iter().filter(|c| c.is_circular()).count();
    let kind = match (circ, corrs.len() - circ) {
        (0, 0) => "no feed",
        (_, 0) => "circular feeds",
        (0, _) => "linear feeds",
        _ => "mixed circular and linear feeds",
    };
    format!("{kind} ({})", names.join(", "))
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
    fn pseudo_i_is_labelled_i() {
        let s = StokesSet::parse("pseudoI").unwrap();
        assert_eq!(s.0, vec![StokesParam::PseudoI]);
        assert_eq!(s.label(), "pseudoI");
        assert_eq!(s.0[0].name(), "I");
        assert_eq!(s.0[0].casa_code(), 1);
        assert!(!s.is_i_only());
        assert!(StokesSet::parse("I").unwrap().is_i_only());
    }

    #[test]
    fn every_tclean_value_parses() {
        for v in TCLEAN_STOKES_VALUES {
            assert!(StokesSet::parse(v).is_ok(), "{v}");
        }
    }

    #[test]
    fn formable_values_by_feed() {
        use Correlation::*;
        let circ = [RR, RL, LR, LL];
        let lin = [XX, XY, YX, YY];
        assert_eq!(
            StokesSet::formable_values(&circ),
            vec!["I", "Q", "U", "V", "IV", "QU", "IQ", "UV", "IQUV", "RR", "LL", "RRLL", "pseudoI"]
        );
        assert_eq!(
            StokesSet::formable_values(&lin),
            vec!["I", "Q", "U", "V", "IV", "QU", "IQ", "UV", "IQUV", "XX", "YY", "XXYY", "pseudoI"]
        );
        assert_eq!(
            StokesSet::formable_values(&[RR, LL]),
            vec!["I", "V", "IV", "RR", "LL", "RRLL", "pseudoI"]
        );
        assert_eq!(
            StokesSet::parse("XX").unwrap().unformable(&circ),
            Some(StokesParam::Corr(XX))
        );
        assert_eq!(describe_feeds(&circ), "circular feeds (RR, RL, LR, LL)");
        assert_eq!(describe_feeds(&[XX, YY]), "linear feeds (XX, YY)");
    }

    #[test]
    fn signs_of_each_parameter() {
        use Correlation::*;
        // Coefficients as CASA defines them (RR = I+V, RL = Q+iU, XX = I+Q, XY = U+iV).
        let c = |p: StokesParam, corrs: &[Correlation]| p.coefficients(corrs).unwrap();
        let circ = [RR, RL, LR, LL];
        assert_eq!(
            c(StokesParam::Q, &circ),
            vec![(1, (0.5, 0.0)), (2, (0.5, 0.0))]
        );
        assert_eq!(
            c(StokesParam::U, &circ),
            vec![(1, (0.0, -0.5)), (2, (0.0, 0.5))]
        );
        assert_eq!(
            c(StokesParam::V, &circ),
            vec![(0, (0.5, 0.0)), (3, (-0.5, 0.0))]
        );
        let lin = [XX, XY, YX, YY];
        assert_eq!(
            c(StokesParam::Q, &lin),
            vec![(0, (0.5, 0.0)), (3, (-0.5, 0.0))]
        );
        assert_eq!(
            c(StokesParam::U, &lin),
            vec![(1, (0.5, 0.0)), (2, (0.5, 0.0))]
        );
        assert_eq!(
            c(StokesParam::V, &lin),
            vec![(1, (0.0, -0.5)), (2, (0.0, 0.5))]
        );
        assert_eq!(c(StokesParam::PseudoI, &[YY]), vec![(0, (1.0, 0.0))]);
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
