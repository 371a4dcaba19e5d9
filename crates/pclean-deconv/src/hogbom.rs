//! Högbom CLEAN, as tclean's `hogbom` deconvolver.
//!
//! # Source
//! `SDAlgorithmHogbomClean::takeOneStep` (LibRA/CASA `synthesis/ImagerObjects`) calling the Fortran
//! `hclean` over the whole image with the mask: each iteration finds the largest |residual| inside
//! the mask, adds `gain * peak` to the model at that pixel and subtracts `gain * peak` times the
//! PSF, shifted so its peak lands on that pixel and clipped to the image, from the residual.
//!
//! # Differences from tclean
//! - tclean stops when the peak is `< threshold`; we stop at `<= threshold` (the engine's contract).
//! - The peak search is restricted to the mask's bounding box (same result, less work), and it
//!   keeps each row's peak, refreshed for the rows a PSF subtraction changes (`peaks::RowPeaks`),
//!   so an iteration scans one value per row and one row instead of the box.

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::minor::{Deconvolver, MinorControls, MinorOutcome, MinorStop, PlaneImages};
use crate::peaks::RowPeaks;
use crate::planeops::{mask_bbox, PixelBox};

/// tclean's `hogbom` deconvolver. Stateless between minor cycles.
#[derive(Debug, Clone, Default)]
pub struct HogbomClean {}

impl HogbomClean {
    /// A Högbom deconvolver.
    pub fn new() -> Self {
        HogbomClean {}
    }
}

/// A plane's images taken apart, with the search box (see [`PlaneImages::open`]).
pub(crate) type OpenedImages<'a> = (
    ArrayViewMut2<'a, f32>,
    ArrayViewMut2<'a, f32>,
    ArrayView2<'a, f32>,
    Option<ArrayView2<'a, bool>>,
    PixelBox,
);

impl<'a> PlaneImages<'a> {
    /// `(residual, model, psf, mask, search box)`: the search box is the mask's bounding box, or
    /// the whole image without a mask; `None` for an empty mask.
    pub(crate) fn open(self) -> Option<OpenedImages<'a>> {
        let (ny, nx) = self.residual.dim();
        let bbox = match self.mask {
            Some(m) => mask_bbox(m)?,
            None => PixelBox::full(ny, nx),
        };
        Some((self.residual, self.model, self.psf, self.mask, bbox))
    }
}

impl MinorOutcome {
    /// The outcome of a cycle that ran: `start_peak` is the first peak it saw (`None`: the end
    /// peak).
    pub(crate) fn after(
        iterations: usize,
        start_peak: Option<f32>,
        end_peak: f32,
        flux_added: f64,
        stop: MinorStop,
    ) -> Self {
        MinorOutcome {
            iterations,
            start_peak: start_peak.unwrap_or(end_peak),
            end_peak,
            flux_added,
            stop,
        }
    }
}

/// The outcome of a cycle on an empty mask.
pub(crate) fn zero_mask_outcome() -> MinorOutcome {
    MinorOutcome {
        iterations: 0,
        start_peak: 0.0,
        end_peak: 0.0,
        flux_added: 0.0,
        stop: MinorStop::ZeroMask,
    }
}

impl Deconvolver for HogbomClean {
    fn minor_cycle(&mut self, images: PlaneImages<'_>, controls: &MinorControls) -> MinorOutcome {
        let Some((mut residual, mut model, psf, mask, bbox)) = images.open() else {
            return zero_mask_outcome();
        };
        let (ny, nx) = residual.dim();
        let centre = (ny / 2, nx / 2);
        let mut iterations = 0usize;
        let mut flux_added = 0.0f64;
        let mut start_peak = None;
        let mut peaks = RowPeaks::new(residual.view(), mask, bbox);
        let (end_peak, stop) = loop {
            let Some((value, y, x)) = peaks.peak(residual.view(), mask) else {
                return zero_mask_outcome();
            };
            let peak = value.abs();
            start_peak.get_or_insert(peak);
            if peak <= controls.threshold {
                break (peak, MinorStop::Threshold);
            }
            if iterations >= controls.max_iterations {
                break (peak, MinorStop::IterationLimit);
            }
            let component = controls.gain * value;
            model[[y, x]] += component;
            peaks.add_shifted(&mut residual, mask, psf, centre, (y, x), -component);
            flux_added += component as f64;
            iterations += 1;
        };
        MinorOutcome::after(iterations, start_peak, end_peak, flux_added, stop)
    }

    fn name(&self) -> &'static str {
        "hogbom"
    }
}
