//! The parts of every report: the PSF's central region with its sidelobe level, and the residual
//! histogram against a Gaussian.

use crate::figure::ColourScale;
use crate::html::{Figure, Section};
use crate::maps::{draw_map, MapSpec};
use crate::plots::histogram_plot;
use crate::scan::{psf_lobes, HIST_SPAN};
use crate::{open, Products, ReportError};
use std::path::Path;

/// The residual histogram figure (`hist` from the scan) with `what` in its caption.
pub(crate) fn residual_histogram(
    dir: &Path,
    hist: &[u64],
    what: &str,
) -> Result<Figure, ReportError> {
    histogram_plot(&dir.join("residual_hist.png"), -HIST_SPAN, HIST_SPAN, hist)?;
    Ok(Figure {
        file: "residual_hist.png".into(),
        caption: format!("{what}, against a standard Gaussian of the same count"),
    })
}

/// The PSF's central region of channel `chan` and its sidelobe level.
pub(crate) fn psf_figure(p: &Products, chan: usize, dir: &Path) -> Result<Section, ReportError> {
    let mut s = Section {
        title: "PSF and residual statistics".into(),
        notes: Vec::new(),
        figures: Vec::new(),
    };
    let Some(path) = &p.psf else {
        s.notes.push("No PSF image.".into());
        return Ok(s);
    };
    let mut psf = open(path)?;
    let meta = psf.meta().clone();
    let chan = chan.min(psf.shape()[3] - 1);
    let plane = psf.get_plane(chan, 0)?;
    let lobes = psf_lobes(&plane);
    let (ny, nx) = plane.dim();
    // Half-width: 4 main-lobe widths (the lobe's area as a disc), at least 16 pixels.
    let half =
        ((lobes.main_lobe_pixels as f64 / std::f64::consts::PI).sqrt() * 4.0).max(16.0) as usize;
    let (px, py) = lobes.peak_xy;
    let window = [
        px.saturating_sub(half),
        py.saturating_sub(half),
        (px + half + 1).min(nx),
        (py + half + 1).min(ny),
    ];
    let lo = if lobes.sidelobe_level.is_finite() {
        -lobes.sidelobe_level.clamp(0.05, 1.0)
    } else {
        -1.0
    };
    draw_map(
        &dir.join("psf.png"),
        &meta.coords,
        &plane,
        &MapSpec {
            title: format!(
                "PSF centre, channel {chan}: sidelobe level {:.3}",
                lobes.sidelobe_level
            ),
            unit: "PSF (peak 1)".into(),
            scale: ColourScale {
                lo,
                hi: 1.0,
                stretch: 0.0,
            },
            beam: meta.beams.beam(chan, 0),
            mask: None,
            window: Some(window),
        },
    )?;
    s.figures.push(Figure {
        file: "psf.png".into(),
        caption: format!(
            "PSF central region of channel {chan}; largest |PSF| outside the main lobe = {:.4} of the peak (linear scale)",
            lobes.sidelobe_level
        ),
    });
    s.notes.push(format!(
        "PSF sidelobe level (channel {chan}): {:.4}",
        lobes.sidelobe_level
    ));
    Ok(s)
}
