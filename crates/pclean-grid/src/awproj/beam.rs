//! The (E)VLA primary beams of A-projection from the ray-traced aperture illumination
//! ([`super::raytrace`]): the voltage pattern of each circular hand is the Fourier transform of
//! its co-polar aperture illumination, evaluated straight at the image pixels (a separable
//! direct transform: exact at any pixel, no interpolation), and the power patterns follow.
//!
//! For an unpolarised sky imaged in Stokes I from RR and LL, tclean grids RR with the R hand's
//! power pattern `P_R` and LL with `P_L` (squinted in opposite directions), and accumulates the
//! weight image with `P_R P_L` (its weight functions pair each hand with the other). Then
//! - the Stokes I image sees `(P_R + P_L) / 2` ([`AwBeams::image_beam`]): exact for
//!   `RR = LL` (no circular polarisation) with the same weights on both hands;
//! - the weight image is `P_R P_L` ([`AwBeams::weight_beam`]); tclean's `.pb` is its square root.

use super::geometry::BandGeometry;
use super::raytrace::{aperture, Optics};
use ndarray::{Array2, Axis};
use num_complex::Complex64;
use std::f64::consts::PI;

/// Aperture sampling (metres) of [`AwBeams::new`]: 1/50 of the dish diameter.
pub const APERTURE_CELL_M: f64 = 0.5;
/// Sub-samples per aperture cell and axis (CASA's: 3).
pub const APERTURE_OVERSAMPLE: usize = 3;

/// The power patterns of both circular hands of one antenna type at one frequency and
/// parallactic angle, on an image grid.
#[derive(Clone, Debug)]
pub struct AwBeams {
    /// `P_R`, normalised so that the larger of the two hands' voltage peaks is 1.
    pub r: Array2<f32>,
    /// `P_L`, same normalisation.
    pub l: Array2<f32>,
}

/// The image grid a beam is evaluated on: `(ny, nx)` pixels of `cell_rad` (x, y), the reference
/// pixel `(nx/2, ny/2)` and the beam centred at pixel `centre_px` `(x, y)`.
#[derive(Clone, Copy, Debug)]
pub struct BeamGrid {
    pub nx: usize,
    pub ny: usize,
    pub cell_rad: [f64; 2],
    pub centre_px: [f64; 2],
}

impl AwBeams {
    /// The beams of `geom` at `freq_hz` and parallactic angle `pa_rad` on `grid`.
    pub fn new(geom: &BandGeometry, freq_hz: f64, pa_rad: f64, grid: &BeamGrid) -> Self {
        Aperture::new(geom, freq_hz, pa_rad).beams(grid)
    }

    /// The beams of `geom` at `freq_hz` and `pa_rad` on each of `grids` (one ray trace): the
    /// pointings of an A-projection mosaic, each grid's beam centred on its `centre_px`. Every
    /// beam is normalised as the one centred on its grid's reference pixel `(nx/2, ny/2)` would
    /// be (so that a beam centred off the image, or between pixels, keeps the scale).
    pub fn pointed(
        geom: &BandGeometry,
        freq_hz: f64,
        pa_rad: f64,
        grids: &[BeamGrid],
    ) -> Vec<Self> {
        let ap = Aperture::new(geom, freq_hz, pa_rad);
        grids.iter().map(|g| ap.beams(g)).collect()
    }

    /// The Stokes I image's beam `(P_R + P_L) / 2` (module docs).
    pub fn image_beam(&self) -> Array2<f32> {
        (&self.r + &self.l) * 0.5
    }

    /// The weight image's beam `P_R P_L` (module docs).
    pub fn weight_beam(&self) -> Array2<f32> {
        &self.r * &self.l
    }

    /// The weight beam of conjugate beams: each hand paired with the other hand of `other` (the
    /// beams at the conjugate frequency), both pairings averaged: `(P_R P'_L + P_L P'_R) / 2`
    /// (equal to [`Self::weight_beam`] when `other` is these beams).
    pub fn weight_beam_with(&self, other: &AwBeams) -> Array2<f32> {
        (&self.r * &other.l + &self.l * &other.r) * 0.5
    }
}

/// Both hands' ray-traced aperture illuminations at one frequency and parallactic angle.
struct Aperture {
    r: Array2<Complex64>,
    l: Array2<Complex64>,
    lambda: f64,
}

impl Aperture {
    fn new(geom: &BandGeometry, freq_hz: f64, pa_rad: f64) -> Self {
        let optics = Optics::new(geom, freq_hz);
        let n = 2 * ((super::geometry::DISH_RADIUS_M / APERTURE_CELL_M).ceil() as usize + 2);
        let (r, l) = aperture(&optics, n, APERTURE_CELL_M, APERTURE_OVERSAMPLE, pa_rad);
        Aperture {
            r,
            l,
            lambda: pclean_core::SPEED_OF_LIGHT / freq_hz,
        }
    }

    /// The power patterns on `grid`, normalised so that the larger of the two hands' voltage
    /// peaks on the same grid centred on its reference pixel is 1.
    fn beams(&self, grid: &BeamGrid) -> AwBeams {
        let dx = APERTURE_CELL_M;
        let vr = voltage(&self.r, dx, self.lambda, grid);
        let vl = voltage(&self.l, dx, self.lambda, grid);
        let peak_of = |a: &Array2<Complex64>, b: &Array2<Complex64>| {
            a.iter()
                .chain(b.iter())
                .fold(0.0f64, |m, v| m.max(v.norm()))
        };
        let centred = BeamGrid {
            centre_px: [(grid.nx / 2) as f64, (grid.ny / 2) as f64],
            ..*grid
        };
        let peak = if centred.centre_px == grid.centre_px {
            peak_of(&vr, &vl)
        } else {
            peak_of(
                &voltage(&self.r, dx, self.lambda, &centred),
                &voltage(&self.l, dx, self.lambda, &centred),
            )
        };
        let power = |v: &Array2<Complex64>| v.mapv(|c| (c.norm_sqr() / (peak * peak)) as f32);
        AwBeams {
            r: power(&vr),
            l: power(&vl),
        }
    }
}

/// The voltage pattern of aperture `ap` (`[[a, b]]`, cells `dx` metres centred on `n/2`) on
/// `grid`: `V[y, x] = sum A[a, b] exp(-2 pi i (y_a eta_y + x_b xi_x) / lambda)`, with `xi`, `eta`
/// the pixel offsets from the beam centre times the cell (CASA's forward transform of the
/// aperture image, pixel axes to pixel axes).
fn voltage(ap: &Array2<Complex64>, dx: f64, lambda: f64, grid: &BeamGrid) -> Array2<Complex64> {
    let n = ap.nrows();
    let half = (n / 2) as f64;
    let phasor = |offset_px: f64, cell: f64, k: usize| {
        let pos = (k as f64 - half) * dx;
        Complex64::from_polar(1.0, -2.0 * PI * pos * offset_px * cell / lambda)
    };
    // Rows of the aperture that hold anything (most of the square is outside the rim).
    let rows: Vec<usize> = (0..n)
        .filter(|a| ap.row(*a).iter().any(|v| v.norm_sqr() > 0.0))
        .collect();
    let cols: Vec<usize> = (0..n)
        .filter(|b| ap.column(*b).iter().any(|v| v.norm_sqr() > 0.0))
        .collect();
    let sub = ap.select(Axis(0), &rows).select(Axis(1), &cols);
    let ey = Array2::from_shape_fn((grid.ny, rows.len()), |(y, i)| {
        phasor(y as f64 - grid.centre_px[1], grid.cell_rad[1], rows[i])
    });
    let ex = Array2::from_shape_fn((cols.len(), grid.nx), |(j, x)| {
        phasor(x as f64 - grid.centre_px[0], grid.cell_rad[0], cols[j])
    });
    ey.dot(&sub).dot(&ex)
}
