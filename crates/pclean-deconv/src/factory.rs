//! Build a minor-cycle deconvolver from tclean's `deconvolver`, `scales` and `smallscalebias`.

use crate::clark::ClarkClean;
use crate::hogbom::HogbomClean;
use crate::minor::Deconvolver;
use crate::multiscale::MultiScaleClean;

/// Why a deconvolver could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DeconvError {
    /// `deconvolver` is not one we implement.
    #[error(
        "deconvolver '{name}' is not supported: use 'hogbom', 'clark', 'clarkstokes' or 'multiscale'"
    )]
    UnknownDeconvolver { name: String },
    /// A `scales` entry is negative or not finite.
    #[error("scales[{index}] = {value} is invalid: scale sizes must be finite and >= 0 pixels")]
    InvalidScale { index: usize, value: f32 },
    /// `smallscalebias` is outside tclean's accepted range.
    #[error("smallscalebias = {value} is invalid: it must lie in [-1, 1]")]
    InvalidSmallScaleBias { value: f32 },
}

/// A deconvolver for one plane. `name`: tclean's `deconvolver` (case-insensitive; `clark` cleans
/// the Stokes planes of a channel together, `clarkstokes` each on its own: the same on one
/// plane); `scales` (pixels; empty means `[0]`) and `smallscalebias` are
/// used by `multiscale` and validated for it.
pub fn make_deconvolver(
    name: &str,
    scales: &[f32],
    smallscalebias: f32,
) -> Result<Box<dyn Deconvolver>, DeconvError> {
    match name.to_ascii_lowercase().as_str() {
        "hogbom" => Ok(Box::new(HogbomClean::new())),
        "clark" => Ok(Box::new(ClarkClean::joint(None))),
        "clarkstokes" => Ok(Box::new(ClarkClean::new(None))),
        "multiscale" => {
            if let Some((index, &value)) = scales
                .iter()
                .enumerate()
                .find(|(_, a)| !(a.is_finite() && **a >= 0.0))
            {
                return Err(DeconvError::InvalidScale { index, value });
            }
            if !(-1.0..=1.0).contains(&smallscalebias) {
                return Err(DeconvError::InvalidSmallScaleBias {
                    value: smallscalebias,
                });
            }
            Ok(Box::new(MultiScaleClean::new(
                scales.to_vec(),
                smallscalebias,
            )))
        }
        _ => Err(DeconvError::UnknownDeconvolver {
            name: name.to_string(),
        }),
    }
}
