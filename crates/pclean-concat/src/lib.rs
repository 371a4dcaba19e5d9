//! Concatenation of CASA image cubes along the spectral axis, for sub-cubes made separately (by
//! pclean or elsewhere), as casatools' `ia.imageconcat`:
//!
//! - [`concat_images`]`(output, inputs, axis, relax, overwrite, mode)` joins images given in
//!   spectral order;
//! - [`concat_subcubes`]`(base, nparts, options)` joins `<base>.part<i>.<ext>` into `<base>.<ext>`
//!   for every product extension, several extensions at once.
//!
//! Modes ([`ConcatMode`]): `paged` writes a new CASA image (pixels copied plane by plane, coordinates
//! of the first input with the spectral axis spanning all inputs, per-plane beams concatenated);
//! `nomovevirtual` and `movevirtual` write casacore's own virtual concatenation (a directory holding
//! `imageconcat.json`, see [`virtual_concat`]) that casacore, python-casacore and CASA open as one
//! image, leaving the inputs in place or moving them inside it.
//!
//! The checks (which differences are errors, which `relax` tolerates) are described in [`plan`].
//! Only the spectral axis (image axis 3; `axis = -1`) can be concatenated.
//!
//! ```no_run
//! use pclean_concat::{concat_images, ConcatMode};
//! let report = concat_images(
//!     "cube.image",
//!     &["cube.part0.image", "cube.part1.image"],
//!     -1,
//!     true,
//!     false,
//!     ConcatMode::Paged,
//! )?;
//! println!("{} channels", report.shape[3]);
//! # Ok::<(), pclean_concat::ConcatError>(())
//! ```

pub mod error;
pub mod mode;
mod output;
mod paged;
pub mod plan;
mod subcubes;
pub mod virtual_concat;

pub use error::ConcatError;
pub use mode::ConcatMode;
pub use output::IMAGECONCAT_JSON;
pub use subcubes::{
    concat_subcubes, subcube_path, ExtensionReport, SubcubeOptions, SubcubesReport,
    DEFAULT_EXTENSIONS, DEFAULT_MAX_WORKERS,
};

use serde::Serialize;
use std::path::{Path, PathBuf};

/// What [`concat_images`] made.
#[derive(Debug, Clone, Serialize)]
pub struct ConcatReport {
    /// The output path.
    pub output: PathBuf,
    /// How the output is stored.
    pub mode: ConcatMode,
    /// Where the inputs are now (inside the output for movevirtual), in spectral order.
    pub members: Vec<PathBuf>,
    /// Channels contributed by each input.
    pub nchan_per_input: Vec<usize>,
    /// Shape of the concatenation, `[nx, ny, nstokes, nchan]`.
    pub shape: [usize; 4],
    /// Differences that were accepted (also logged as warnings).
    pub warnings: Vec<String>,
}

/// Concatenate `inputs` (CASA images, in spectral order) along the spectral axis into `output`.
///
/// - `axis`: `-1` (the spectral axis) or `3`; other axes are refused.
/// - `relax`: tolerate small coordinate differences and inputs with and without beams (see
///   [`plan`]); casatools' default is `true`.
/// - `overwrite`: replace an existing output (a CASA image, a virtual concatenation or a file).
/// - `mode`: see [`ConcatMode`].
///
/// All inputs are opened and checked before anything is written. Errors name the input (1-based)
/// and what differs.
pub fn concat_images<O: AsRef<Path>, P: AsRef<Path>>(
    output: O,
    inputs: &[P],
    axis: i64,
    relax: bool,
    overwrite: bool,
    mode: ConcatMode,
) -> Result<ConcatReport, ConcatError> {
    let output = output.as_ref();
    let inputs: Vec<PathBuf> = inputs.iter().map(|p| p.as_ref().to_path_buf()).collect();
    plan::resolve_axis(axis)?;
    let plan = plan::plan(&inputs, relax)?;
    if mode == ConcatMode::MoveVirtual {
        virtual_concat::check_unique_names(&inputs)?;
    }
    output::prepare_output(output, &inputs, overwrite)?;
    for w in &plan.warnings {
        tracing::warn!("concatenating into {}: {w}", output.display());
    }
    let members = match mode {
        ConcatMode::Paged => {
            paged::write_paged(&plan, output)?;
            inputs.clone()
        }
        ConcatMode::NoMoveVirtual | ConcatMode::MoveVirtual => {
            virtual_concat::write_virtual(&plan, output, mode)?
        }
    };
    Ok(ConcatReport {
        output: output.to_path_buf(),
        mode,
        members,
        nchan_per_input: plan.inputs.iter().map(|i| i.shape[3]).collect(),
        shape: plan.meta.coords.shape(),
        warnings: plan.warnings,
    })
}
