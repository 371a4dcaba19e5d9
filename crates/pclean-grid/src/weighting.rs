//! Visibility imaging weights exactly as tclean computes them: natural, uniform, Briggs (`robust`),
//! Briggs absolute (`briggsabs`), Briggs bandwidth taper (`briggsbwtaper`), and the Gaussian `uvtaper`.
//!
//! # Where the rules come from
//! CASA has two implementations, and tclean picks one per run:
//! - **mfs, and cubes with `perchanweightdensity=False`**: `VisImagingWeight`
//!   (`msvis/MSVis/VisImagingWeight.cc`, the `VisImagingWeight(VisibilityIterator2&, ...)`
//!   constructor builds the density; `weightUniform` applies it). One density grid for all selected
//!   data; every (row, data channel) sample is scaled by its own channel frequency. Select this with
//!   [`CellRounding::Truncate`].
//! - **cubes with `perchanweightdensity=True`** (tclean's default for `specmode='cube'`):
//!   `BriggsCubeWeightor` (`synthesis/TransformMachines2/BriggsCubeWeightor.cc`, `init` builds one
//!   density per image channel with a box-kernel `GridFT`; `weightUniform`/`getWeightUniform` apply
//!   it). Use one [`DensityGrid`] per image channel with [`CellRounding::Nearest`].
//!
//! `SynthesisImagerVi2::weight` (`synthesis/ImagerObjects/SynthesisImagerVi2.cc`) chooses between
//! them (`useCubeBriggs`), maps `weighting='uniform'` to robust mode `"none"`, and sets the taper
//! with `VisImagingWeight::setFilter`.
//!
//! # The formulas (per density grid)
//! A sample with natural weight `w` at `(u, v)` (wavelengths) lands in cell
//! `(iu, iv) = (R(uscale*u + nx/2), R(vscale*v + ny/2))` with `uscale = nx*cell_x`,
//! `vscale = ny*cell_y` and `R` = truncation toward zero (mfs) or rounding half away from zero (cube).
//! CASA's signs are kept (mfs: `uscale < 0` from the negative RA increment; cube: the lookup uses
//! `-u, -v` with that increment, i.e. `vscale < 0`); with both conjugates in the density this only
//! decides which edge row/column is excluded.
//! Both `(u, v)` and `(-u, -v)` add `w` to the density `W` and to the weight sum `S`. Then
//! - uniform:        `w' = w / W`
//! - briggs:         `w' = w / (1 + W f2)`, `f2 = (5*10^-robust)^2 / (sum_cells W^2 / S)`
//! - briggsabs:      `w' = w / (W robust^2 + 2 noise^2)`
//! - briggsbwtaper:  `w' = w / (1 + W f2 / g)` with `g` from the uv distance in cells (CAS-13021)
//! - natural:        `w' = w`
//!
//! A sample whose cell lies outside the grid, on the first row or column (index 0), or in an empty
//! cell gets weight 0. CASA's arithmetic there is single precision (`Float u, v`, `Float uscale_p`,
//! `Float f2_p`), and we reproduce it so that samples land in exactly the same cells; the density
//! itself is accumulated in `f64` so that row partitions reduce exactly by summation.
//!
//! # `npixels`
//! - mfs (`SynthesisImagerVi2::weight`): `npixels > 0` replaces the density grid size: the grid is
//!   `npixels x npixels` with uv cell `1/(npixels*cell)` (coarser cells when `npixels < nx`).
//! - cube (`BriggsCubeWeightor`, `superUniformBox`): `npixels` is the half-width of a box: each
//!   sample adds its weight to the `(2*npixels+1)^2` cells around it (only when the whole box lies
//!   on the grid); the weight sum counts each sample once per conjugate point.

use ndarray::{Array2, ArrayView1, ArrayView2, ArrayViewMut2};
use pclean_core::SPEED_OF_LIGHT;

pub use crate::uvtaper::UvTaper;

/// Errors from weighting set-up.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum WeightingError {
    /// Two density grids with different geometry cannot be merged.
    #[error("cannot merge density grids of different geometry ({ours} vs {theirs})")]
    GeometryMismatch { ours: String, theirs: String },
    /// Array shapes passed in do not agree.
    #[error("shape mismatch: {what}")]
    Shape { what: String },
}

/// tclean's `weighting` choice with its numeric parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum WeightingScheme {
    /// `weighting='natural'`: imaging weight = visibility weight.
    Natural,
    /// `weighting='uniform'` (CASA robust mode `"none"`: `f2 = 1`, `d2 = 0`).
    Uniform,
    /// `weighting='briggs'` (CASA robust mode `"norm"`).
    Briggs { robust: f64 },
    /// `weighting='briggsabs'` (CASA robust mode `"abs"`); `noise_jy` is tclean's `noise`.
    BriggsAbs { robust: f64, noise_jy: f64 },
    /// `weighting='briggsbwtaper'` (CASA robust mode `"bwtaper"`, cube only); `frac_bw` is the
    /// fractional bandwidth of the whole image cube ([`fractional_bandwidth`]), whichever
    /// channels a block holds.
    BriggsBwTaper { robust: f64, frac_bw: f64 },
}

/// The fractional bandwidth `2 (f_max - f_min) / (f_max + f_min)` that `briggsbwtaper` tapers
/// with (`SynthesisImagerVi2::weight`, CAS-13021): `f_min`, `f_max` are the first and last
/// channel frequencies of the whole image cube (channel centres, absolute values, ordered), not
/// the data's band edges nor a block's channels. 0 for a single channel (tclean then stops with
/// "fractional bandwidth is not a valid value").
pub fn fractional_bandwidth(first_chan_hz: f64, last_chan_hz: f64) -> f64 {
    let (a, b) = (first_chan_hz.abs(), last_chan_hz.abs());
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    if hi == 0.0 {
        return 0.0;
    }
    2.0 * (hi - lo) / (hi + lo)
}

/// `briggsbwtaper`'s factor `g` at a sample `(u_cells, v_cells)` density cells from the uv
/// origin (CAS-13021, `BriggsCubeWeightor`): with `n = frac_bw sqrt(u_cells^2 + v_cells^2)`,
/// `g = n + 0.5`, or `(4 - n) / (4 - 2n)` where `n + 0.5 < 1.5`; the Briggs denominator becomes
/// `W f^2 / g + d^2`. `frac_bw` is [`fractional_bandwidth`] of the whole band imaged (a cube's
/// first and last channels). Public for the Taylor-term (mtmfs/mvc) weighting to reuse.
pub fn bwtaper_uv_factor(frac_bw: f64, u_cells: f64, v_cells: f64) -> f64 {
    let ncells = frac_bw * (u_cells * u_cells + v_cells * v_cells).sqrt();
    let factor = ncells + 0.5;
    if factor < 1.5 {
        (4.0 - ncells) / (4.0 - 2.0 * ncells)
    } else {
        factor
    }
}

/// How a uv coordinate is turned into a density-grid cell; also selects which CASA code path
/// (and hence which `npixels` and weight-sum rules) the grid follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CellRounding {
    /// `Int(x)` (truncation toward zero): `VisImagingWeight`, used for mfs and for cubes with
    /// `perchanweightdensity=False`.
    Truncate,
    /// `Int(std::round(x))`: `BriggsCubeWeightor`, cubes with `perchanweightdensity=True`.
    Nearest,
}

/// Single-precision `freq / c` as CASA computes it (`Float f = freq / C::c`).
#[inline]
fn inv_lambda_f32(freq_hz: f64) -> f32 {
    (freq_hz / SPEED_OF_LIGHT) as f32
}

/// A uv density grid (CASA's `gwt`), stored `[[iv, iu]]`. Serialisable: row partitions send
/// their partial densities to the coordinator (`pclean_engine::exec::rows::remote`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DensityGrid {
    nx: usize,
    ny: usize,
    /// Signed `nx * cell_x` and `ny * cell_y` in single precision (CASA's `uscale_p`,
    /// `vscale_p`, with the sign convention of the CASA code path; see [`DensityGrid::new`]).
    uscale: f32,
    vscale: f32,
    rounding: CellRounding,
    /// Box half-width (cube `npixels`); 0 for mfs.
    half_box: usize,
    #[serde(with = "crate::wire")]
    density_vu: Array2<f64>,
    sum_weight: f64,
    /// `Some((cell_x, cell_y))`: cube densities placed as tclean's gridder places them
    /// ([`DensityGrid::with_gridder_positions`]).
    gridder_cells: Option<(f64, f64)>,
}

impl DensityGrid {
    /// An empty density grid for an image of `nx x ny` pixels of `cell_x_rad x cell_y_rad`
    /// (absolute values; the RA sign convention is handled inside).
    ///
    /// `npixels` is tclean's parameter (0 = default); its meaning depends on `rounding`, see the
    /// module docs.
    pub fn new(
        nx: usize,
        ny: usize,
        cell_x_rad: f64,
        cell_y_rad: f64,
        rounding: CellRounding,
        npixels: usize,
    ) -> Self {
        let (gnx, gny, half_box) = match rounding {
            CellRounding::Truncate if npixels > 0 => (npixels, npixels, 0),
            CellRounding::Truncate => (nx, ny, 0),
            CellRounding::Nearest => (nx, ny, npixels),
        };
        // Sign conventions. VisImagingWeight: uscale_p = nx * increment[0] with CASA's negative RA
        // increment, so u maps to -|uscale| u. BriggsCubeWeightor::weightUniform looks up
        // u_c = -u, v_c = -v with the same negative RA increment, i.e. +|uscale| u and
        // -|vscale| v. We build the density with the same mapping as the lookup, so that the
        // cells excluded at the grid edge (index 0) are exactly CASA's.
        let (su, sv) = match rounding {
            CellRounding::Truncate => (-1.0f32, 1.0f32),
            CellRounding::Nearest => (1.0f32, -1.0f32),
        };
        DensityGrid {
            nx: gnx,
            ny: gny,
            uscale: su * (gnx as f64 * cell_x_rad.abs()) as f32,
            vscale: sv * (gny as f64 * cell_y_rad.abs()) as f32,
            rounding,
            half_box,
            density_vu: Array2::zeros((gny, gnx)),
            sum_weight: 0.0,
            gridder_cells: None,
        }
    }

    /// A `VisImagingWeight` density on the image's own uv grid (`nx x ny` cells of
    /// `1/(n cell)`, truncation) where each sample adds its weight to the `(2 half_box + 1)^2`
    /// cells around it: tclean's `weighting='superuniform'` (`SynthesisImagerVi2::weight` passes
    /// `npixels`, or 3 when `npixels <= 0`, as the box half-widths `uBox = vBox`), for mfs and
    /// cubes alike (it never uses the per-channel cube density).
    pub fn with_box(
        nx: usize,
        ny: usize,
        cell_x_rad: f64,
        cell_y_rad: f64,
        half_box: usize,
    ) -> Self {
        let mut d = DensityGrid::new(nx, ny, cell_x_rad, cell_y_rad, CellRounding::Truncate, 0);
        d.half_box = half_box;
        d
    }

    /// Place the samples of a cube density (`CellRounding::Nearest`) exactly where tclean's
    /// `BriggsCubeWeightor` puts them: it grids the density with a box-kernel `GridFT`, whose
    /// positions are double precision (`nint(nx cell u f / c + nx/2 + 1)`, 1-based, with the
    /// channel frequency in double precision), while the weight lookup
    /// ([`ImagingWeighter::apply`]) keeps the single-precision arithmetic. A sample near a cell
    /// boundary can thus be counted in one cell and look up its neighbour, as in tclean.
    /// Used with `kernel='casa'`; no effect on mfs densities.
    pub fn with_gridder_positions(mut self, cell_x_rad: f64, cell_y_rad: f64) -> Self {
        if self.rounding == CellRounding::Nearest {
            self.gridder_cells = Some((cell_x_rad.abs(), cell_y_rad.abs()));
        }
        self
    }

    /// The 0-based density cells of `(u, v)` metres at `freq_hz` as tclean's `GridFT` locates
    /// them (`locuvw`): `pos = scale u f (1/c) + n/2 + 1` in double precision with `scale = n
    /// cell` (u) and `-n cell` (v), `cell = nint(pos) - 1`.
    fn gridder_cell(&self, cells: (f64, f64), u_m: f64, v_m: f64, freq_hz: f64) -> (i64, i64) {
        let cinv = 1.0 / SPEED_OF_LIGHT;
        let sx = self.nx as f32 as f64 * cells.0;
        let sy = -(self.ny as f32 as f64 * cells.1);
        let px = sx * u_m * freq_hz * cinv + ((self.nx / 2) as f64 + 1.0);
        let py = sy * v_m * freq_hz * cinv + ((self.ny / 2) as f64 + 1.0);
        (px.round() as i64 - 1, py.round() as i64 - 1)
    }

    /// Grid size `(nx, ny)` of the density (differs from the image for mfs with `npixels > 0`).
    pub fn shape(&self) -> (usize, usize) {
        (self.nx, self.ny)
    }

    /// The accumulated density `W`, indexed `[[iv, iu]]` (cell `nx/2, ny/2` holds u = v = 0).
    pub fn density_vu(&self) -> ArrayView2<'_, f64> {
        self.density_vu.view()
    }

    /// The weight sum `S` used in the Briggs normalisation.
    pub fn sum_weight(&self) -> f64 {
        self.sum_weight
    }

    /// Cell of a scaled coordinate `s*u` (CASA: `Int(uscale_p*u + uorigin_p)`, single precision).
    #[inline]
    fn cell(&self, scaled: f32, n: usize) -> i64 {
        let x = scaled + (n / 2) as f32;
        match self.rounding {
            CellRounding::Truncate => x as i64,
            CellRounding::Nearest => x.round() as i64,
        }
    }

    /// Add one point; returns whether it was on the grid.
    #[inline]
    fn add_point(&mut self, u: f32, v: f32, w: f64) -> bool {
        let iu = self.cell(self.uscale * u, self.nx);
        let iv = self.cell(self.vscale * v, self.ny);
        self.add_cell(iu, iv, w)
    }

    /// Add one point at cell `(iu, iv)`; returns whether it was on the grid.
    #[inline]
    fn add_cell(&mut self, iu: i64, iv: i64, w: f64) -> bool {
        let b = self.half_box as i64;
        let (nx, ny) = (self.nx as i64, self.ny as i64);
        let inside = match self.rounding {
            // VisImagingWeight: ((ucell-uBox)>0) && ((ucell+uBox)<nx), same for v.
            CellRounding::Truncate => iu - b > 0 && iu + b < nx && iv - b > 0 && iv + b < ny,
            // GridFT with a box of support b: the whole box on the grid.
            CellRounding::Nearest => iu - b >= 0 && iu + b < nx && iv - b >= 0 && iv + b < ny,
        };
        if !inside {
            return false;
        }
        for jv in (iv - b)..=(iv + b) {
            for ju in (iu - b)..=(iu + b) {
                self.density_vu[[jv as usize, ju as usize]] += w;
            }
        }
        if self.rounding == CellRounding::Truncate {
            // VisImagingWeight adds the weight to sumwt once per box cell.
            self.sum_weight += w * ((2 * b + 1) * (2 * b + 1)) as f64;
        } else {
            // BriggsCubeWeightor uses 2 * GridFT's sum of weights: once per gridded sample.
            self.sum_weight += w;
        }
        true
    }

    /// Accumulate samples. `uvw_m` is `(nrow, 3)` in metres, `freq_hz` has one frequency per column
    /// of `weight_rc` `(nrow, nchan)`: the natural (Stokes-I) weight of each sample, 0 = flagged.
    ///
    /// # Panics
    /// If the shapes disagree (a programming error in the caller).
    pub fn add(&mut self, uvw_m: ArrayView2<f64>, freq_hz: &[f64], weight_rc: ArrayView2<f32>) {
        check_shapes(uvw_m, freq_hz, weight_rc.dim()).expect("DensityGrid::add");
        let inv_lambda: Vec<f32> = freq_hz.iter().map(|&f| inv_lambda_f32(f)).collect();
        for (uvw, wrow) in uvw_m.outer_iter().zip(weight_rc.outer_iter()) {
            for ((&w, &f), &freq) in wrow.iter().zip(&inv_lambda).zip(freq_hz) {
                if w.is_nan() || w <= 0.0 {
                    continue;
                }
                if let Some(cells) = self.gridder_cells {
                    for sign in [1.0, -1.0] {
                        let (iu, iv) = self.gridder_cell(cells, sign * uvw[0], sign * uvw[1], freq);
                        self.add_cell(iu, iv, w as f64);
                    }
                    continue;
                }
                // CASA: Float u = uvw(0,row) * f  (double product rounded to float).
                let u = (uvw[0] * f as f64) as f32;
                let v = (uvw[1] * f as f64) as f32;
                self.add_point(u, v, w as f64);
                self.add_point(-u, -v, w as f64);
            }
        }
    }

    /// Sum another partial density (from a disjoint set of rows) into this one.
    pub fn merge(&mut self, other: &DensityGrid) -> Result<(), WeightingError> {
        let same = self.nx == other.nx
            && self.ny == other.ny
            && self.uscale == other.uscale
            && self.vscale == other.vscale
            && self.rounding == other.rounding
            && self.half_box == other.half_box
            && self.gridder_cells == other.gridder_cells;
        if !same {
            return Err(WeightingError::GeometryMismatch {
                ours: self.describe(),
                theirs: other.describe(),
            });
        }
        self.density_vu += &other.density_vu;
        self.sum_weight += other.sum_weight;
        Ok(())
    }

    fn describe(&self) -> String {
        format!(
            "{}x{} cells, scale ({}, {}), {:?}, box {}",
            self.nx, self.ny, self.uscale, self.vscale, self.rounding, self.half_box
        )
    }

    /// Freeze the density into an imaging-weight calculator for `scheme`.
    ///
    /// `f2`/`d2` follow `VisImagingWeight`'s constructor (mfs) and `BriggsCubeWeightor::init`
    /// (cube): `norm`: `f2 = (5*10^-robust)^2 / (sum_{W>0} W^2 / S)`, `d2 = 1`; `abs`:
    /// `f2 = robust^2`, `d2 = 2 noise^2`; otherwise (uniform) `f2 = 1`, `d2 = 0`. For
    /// `briggsbwtaper` on an mfs grid CASA's `VisImagingWeight` has no rule and falls back to
    /// uniform; we do the same.
    pub fn finish(&self, scheme: &WeightingScheme) -> ImagingWeighter {
        if *scheme == WeightingScheme::Natural {
            return ImagingWeighter::natural();
        }
        let density = self.density_vu.mapv(|d| d as f32);
        let (f2, d2) =
            f2_d2_of(density.view(), self.sum_weight, scheme, self.rounding).unwrap_or((1.0, 0.0));
        let bw = match *scheme {
            WeightingScheme::BriggsBwTaper { frac_bw, .. }
                if self.rounding == CellRounding::Nearest =>
            {
                Some(frac_bw)
            }
            _ => None,
        };
        ImagingWeighter {
            inner: Inner::Density {
                density_vu: density,
                nx: self.nx,
                ny: self.ny,
                uscale: self.uscale,
                vscale: self.vscale,
                rounding: self.rounding,
                f2,
                d2,
                frac_bw: bw,
            },
        }
    }
}

/// `f2` and `d2` of `scheme` for a density grid (`density`, single precision, whose samples'
/// weights sum to `sum_weight`) built with `rounding` ([`DensityGrid::finish`]'s rules); `None`
/// for natural weighting. Also what tclean stores beside its `.gridwt` density.
pub fn f2_d2_of(
    density: ArrayView2<f32>,
    sum_weight: f64,
    scheme: &WeightingScheme,
    rounding: CellRounding,
) -> Option<(f32, f32)> {
    let robust_norm = |robust: f64| -> f32 {
        let sumlocwt: f64 = density
            .iter()
            .map(|&d| d as f64)
            .filter(|&d| d > 0.0)
            .map(|d| d * d)
            .sum();
        if sumlocwt > 0.0 && sum_weight > 0.0 {
            ((5.0 * 10f64.powf(-robust)).powi(2) / (sumlocwt / sum_weight)) as f32
        } else {
            1.0
        }
    };
    Some(match *scheme {
        WeightingScheme::Natural => return None,
        WeightingScheme::Uniform => (1.0, 0.0),
        WeightingScheme::Briggs { robust } => (robust_norm(robust), 1.0),
        WeightingScheme::BriggsAbs { robust, noise_jy } => {
            ((robust * robust) as f32, (2.0 * noise_jy * noise_jy) as f32)
        }
        WeightingScheme::BriggsBwTaper { robust, .. } => match rounding {
            CellRounding::Nearest => (robust_norm(robust), 1.0),
            CellRounding::Truncate => (1.0, 0.0),
        },
    })
}

fn check_shapes(
    uvw_m: ArrayView2<f64>,
    freq_hz: &[f64],
    (nrow, nchan): (usize, usize),
) -> Result<(), WeightingError> {
    if uvw_m.nrows() != nrow || uvw_m.ncols() < 2 || freq_hz.len() != nchan {
        return Err(WeightingError::Shape {
            what: format!(
                "uvw {:?}, {} frequencies, weights ({nrow}, {nchan})",
                uvw_m.dim(),
                freq_hz.len()
            ),
        });
    }
    Ok(())
}

/// Check the shapes (panicking with `what`), set the weights that are NaN or `<= 0` (flagged)
/// to 0, and call `f(w, uvw_row, chan)` on each of the others.
pub(crate) fn each_positive_weight(
    uvw_m: ArrayView2<f64>,
    freq_hz: &[f64],
    mut weight_rc: ArrayViewMut2<f32>,
    what: &str,
    mut f: impl FnMut(&mut f32, ArrayView1<f64>, usize),
) {
    check_shapes(uvw_m, freq_hz, weight_rc.dim()).expect(what);
    for (uvw, mut wrow) in uvw_m.outer_iter().zip(weight_rc.outer_iter_mut()) {
        for (c, w) in wrow.iter_mut().enumerate() {
            if *w > 0.0 {
                f(w, uvw, c);
            } else {
                *w = 0.0;
            }
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
enum Inner {
    Natural,
    /// tclean's `mosweight`: one weighter per FIELD_ID ([`fields`]).
    PerField(Vec<(i32, ImagingWeighter)>),
    Density {
        #[serde(with = "crate::wire")]
        density_vu: Array2<f32>,
        nx: usize,
        ny: usize,
        uscale: f32,
        vscale: f32,
        rounding: CellRounding,
        f2: f32,
        d2: f32,
        frac_bw: Option<f64>,
    },
}

/// Turns natural weights into imaging weights (CASA's `weightUniform` / `weightNatural`).
/// Serialisable: the coordinator sends it to remote row partitions.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ImagingWeighter {
    inner: Inner,
}

impl ImagingWeighter {
    /// The natural-weighting identity.
    pub fn natural() -> Self {
        ImagingWeighter {
            inner: Inner::Natural,
        }
    }

    /// `(f2, d2)` of the Briggs formula, `None` for natural weighting.
    /// The one density grid of a uniform-family weighter (`[[iv, iu]]`, single precision as the
    /// weights use it: CASA's `gwt`) with its `f2` and `d2`; `None` for natural weighting and for
    /// per-field densities (tclean's `mosweight`). tclean saves this grid as `<imagename>.gridwt`
    /// with specmode='mvc' (`VisImagingWeight::toImageInterface`).
    pub fn density(&self) -> Option<(ArrayView2<'_, f32>, f32, f32)> {
        match &self.inner {
            Inner::Density {
                density_vu, f2, d2, ..
            } => Some((density_vu.view(), *f2, *d2)),
            _ => None,
        }
    }

    pub fn f2_d2(&self) -> Option<(f32, f32)> {
        match &self.inner {
            Inner::Natural => None,
            Inner::PerField(f) => f.first().and_then(|(_, w)| w.f2_d2()),
            Inner::Density { f2, d2, .. } => Some((*f2, *d2)),
        }
    }

    /// Replace natural weights by imaging weights in place (`weight_rc`: `(nrow, nchan)`,
    /// 0 = flagged; `uvw_m`: `(nrow, 3)` metres; `freq_hz`: one per channel).
    ///
    /// # Panics
    /// If the shapes disagree, or for a per-field weighter ([`ImagingWeighter::per_field`]),
    /// which needs the rows' fields ([`ImagingWeighter::apply_rows`]).
    pub fn apply(&self, uvw_m: ArrayView2<f64>, freq_hz: &[f64], weight_rc: ArrayViewMut2<f32>) {
        const WHAT: &str = "ImagingWeighter::apply";
        if let Inner::PerField(_) = &self.inner {
            panic!("{WHAT}: a per-field weighter needs the rows' fields (apply_rows)");
        }
        let Inner::Density {
            density_vu,
            nx,
            ny,
            uscale,
            vscale,
            rounding,
            f2,
            d2,
            frac_bw,
        } = &self.inner
        else {
            // weightNatural: imaging weight = weight (flagged samples are already 0).
            each_positive_weight(uvw_m, freq_hz, weight_rc, WHAT, |_, _, _| {});
            return;
        };
        let inv_lambda: Vec<f32> = freq_hz.iter().map(|&f| inv_lambda_f32(f)).collect();
        let (nx, ny) = (*nx as i64, *ny as i64);
        each_positive_weight(uvw_m, freq_hz, weight_rc, WHAT, |w, uvw, c| {
            let f = inv_lambda[c];
            // weightUniform (both classes): Float u = uvw*f; cell = R(uscale_p*u + origin).
            let u = (uvw[0] * f as f64) as f32;
            let v = (uvw[1] * f as f64) as f32;
            let xu = uscale * u + (nx / 2) as f32;
            let xv = vscale * v + (ny / 2) as f32;
            let (iu, iv) = match rounding {
                CellRounding::Truncate => (xu as i64, xv as i64),
                CellRounding::Nearest => (xu.round() as i64, xv.round() as i64),
            };
            if !(iu > 0 && iu < nx && iv > 0 && iv < ny) {
                *w = 0.0;
                return;
            }
            let gwt = density_vu[[iv as usize, iu as usize]];
            if gwt.is_nan() || gwt <= 0.0 {
                *w = 0.0;
                return;
            }
            match frac_bw {
                None => *w /= gwt * f2 + d2,
                Some(fbw) => {
                    let factor = bwtaper_uv_factor(*fbw, (uscale * u) as f64, (vscale * v) as f64);
                    // CASA divides the Float weight by a Double denominator.
                    *w = (*w as f64 / ((gwt * f2) as f64 / factor + *d2 as f64)) as f32;
                }
            }
        });
    }
}

mod fields;
