//! The cube's statistics the report shows: the moment-0 and peak maps, the mask's union, the
//! spectrum integrated over the mask, per-channel residual statistics and the histogram of
//! residuals in units of their channel's robust rms ([`pclean_imageio::quicklook`]): saved by
//! the run that wrote the products, or gathered here in one pass over the cube, plane by plane
//! (never the whole cube in memory). Also the PSF's main lobe and sidelobe level.

use crate::{Products, ReportError};
use ndarray::Array2;
use pclean_imageio::quicklook::{stats_path, CubeStats, ImageStats, ResidualStats};
use pclean_imageio::ImageReader;
use std::path::Path;
use std::time::SystemTime;

pub use pclean_imageio::quicklook::HIST_SPAN;

/// What the report shows of a cube's planes (first Stokes plane only).
pub struct CubeScan {
    /// Sum over channels of image x channel width, `plane_yx`.
    pub mom0: Array2<f32>,
    /// Largest value over channels per pixel (NaN where never finite).
    pub peak: Array2<f32>,
    /// Pixels inside the mask in any channel (`None`: no mask image).
    pub mask_union: Option<Array2<bool>>,
    /// Per channel: the image summed over that channel's mask, divided by the beam area in
    /// pixels (Jy); NaN without a mask or beam.
    pub mask_flux_jy: Vec<f64>,
    /// Per channel: robust rms of the residual (1.4826 x MAD), and peak |residual|.
    pub residual_rms: Vec<f64>,
    pub residual_peak: Vec<f64>,
    /// Counts of residual / rms over [`HIST_SPAN`] in `HIST_BINS` bins.
    pub hist: Vec<u64>,
    /// Brightest image pixel `(x, y)` over the cube.
    pub brightest: (usize, usize),
}

impl CubeScan {
    /// The report's view of gathered statistics; `beam_pixels(c)` is channel `c`'s beam area in
    /// pixels.
    pub fn from_stats(s: CubeStats, beam_pixels: impl Fn(usize) -> Option<f64>) -> Self {
        let im = s.image;
        let (nx, ny, nchan) = (im.nx, im.ny, im.widths.len());
        let brightest = im.brightest();
        let residual = s.residual.unwrap_or_else(|| ResidualStats::new(nchan));
        let mask_flux_jy = (0..nchan)
            .map(|c| beam_pixels(c).map_or(f64::NAN, |bp| im.mask_sum[c] / bp))
            .collect();
        let map = |v: Vec<f32>| Array2::from_shape_vec((ny, nx), v).expect("nx x ny values");
        let mut peak = map(im.peak);
        peak.mapv_inplace(|v| if v.is_finite() { v } else { f32::NAN });
        CubeScan {
            mom0: map(im.mom0),
            peak,
            mask_union: im
                .mask_union
                .map(|u| Array2::from_shape_vec((ny, nx), u).expect("nx x ny values")),
            mask_flux_jy,
            residual_rms: residual.rms,
            residual_peak: residual.peak,
            hist: residual.hist,
            brightest,
        }
    }
}

/// Scan `image` (and `residual`, `mask` where present) channel by channel, reading every plane
/// (products without the statistics their run saved). `widths[c]` multiplies channel `c` in the
/// moment-0 sum. The residual is read in a second thread, beside the image and mask (separate
/// files: their reads do not wait on each other).
pub fn scan_cube(
    image: &mut ImageReader,
    residual: Option<&mut ImageReader>,
    mask: Option<&mut ImageReader>,
    widths: Vec<f64>,
) -> Result<CubeStats, ReportError> {
    std::thread::scope(|scope| {
        let residual_pass = residual.map(|r| scope.spawn(move || scan_residual(r)));
        let image = scan_image(image, mask, widths)?;
        let residual = match residual_pass {
            Some(job) => Some(
                job.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?,
            ),
            None => None,
        };
        Ok(CubeStats { image, residual })
    })
}

/// The image and mask part of [`scan_cube`].
fn scan_image(
    image: &mut ImageReader,
    mut mask: Option<&mut ImageReader>,
    widths: Vec<f64>,
) -> Result<ImageStats, ReportError> {
    let [nx, ny, _, nchan] = image.shape();
    let mut s = ImageStats::new(nx, ny, widths, mask.is_some());
    let mut plane = Array2::zeros((ny, nx));
    let mut mplane = Array2::zeros((0, 0));
    for c in 0..nchan {
        if let Some(mk) = mask.as_deref_mut() {
            mk.get_plane_into(c, 0, &mut mplane)?;
            s.add_mask(c, mplane.as_slice().expect("standard layout"));
        }
        image.get_plane_into(c, 0, &mut plane)?;
        s.add_image(c, plane.as_slice().expect("standard layout"));
    }
    Ok(s)
}

fn scan_residual(res: &mut ImageReader) -> Result<ResidualStats, ReportError> {
    let nchan = res.shape()[3];
    let mut r = ResidualStats::new(nchan);
    let mut rplane = Array2::zeros((0, 0));
    for c in 0..nchan {
        res.get_plane_into(c, 0, &mut rplane)?;
        r.add(c, rplane.as_slice().expect("standard layout"));
    }
    Ok(r)
}

/// Newest modification time of the files of image tables `dirs` (their `table.lock`, which
/// readers touch, aside).
fn newest_write(dirs: &[&Path]) -> Option<SystemTime> {
    let mut newest = SystemTime::UNIX_EPOCH;
    for d in dirs {
        for e in std::fs::read_dir(d).ok()? {
            let e = e.ok()?;
            if e.file_name() == "table.lock" {
                continue;
            }
            newest = newest.max(e.metadata().ok()?.modified().ok()?);
        }
    }
    Some(newest)
}

/// The statistics the run saved beside `p` (`IMAGENAME.quicklook`), when they describe these
/// products: same shape, mask and residual, the same channel widths, and saved after the
/// products were last written (else `None`: the report reads the cube).
pub(crate) fn saved_stats(p: &Products, shape: [usize; 4], widths: &[f64]) -> Option<CubeStats> {
    let path = stats_path(&p.imagename);
    let saved = std::fs::metadata(&path).ok()?.modified().ok()?;
    let tables: Vec<&Path> = [&p.image, &p.residual, &p.mask]
        .into_iter()
        .flatten()
        .map(|t| t.as_path())
        .collect();
    if newest_write(&tables)? > saved {
        return None;
    }
    let s = CubeStats::load(&path)?;
    let im = &s.image;
    let same_widths = im.widths.len() == widths.len()
        && im
            .widths
            .iter()
            .zip(widths)
            .all(|(a, b)| (a - b).abs() <= 1e-9 * b.abs());
    (im.nx == shape[0]
        && im.ny == shape[1]
        && same_widths
        && im.mask_union.is_some() == p.mask.is_some()
        && s.residual.is_some() == p.residual.is_some())
    .then_some(s)
}

/// The PSF plane's peak `(x, y)`, its main lobe (grown from the peak through positive pixels
/// that do not rise again), and the sidelobe level: the largest |value| outside the main lobe
/// relative to the peak.
pub struct PsfLobes {
    pub peak_xy: (usize, usize),
    pub main_lobe_pixels: usize,
    pub sidelobe_level: f64,
}

pub fn psf_lobes(psf: &Array2<f32>) -> PsfLobes {
    let (ny, nx) = psf.dim();
    let (mut py, mut px, mut pv) = (0, 0, f32::NEG_INFINITY);
    for ((y, x), v) in psf.indexed_iter() {
        if *v > pv {
            (py, px, pv) = (y, x, *v);
        }
    }
    let mut lobe = Array2::from_elem((ny, nx), false);
    let mut stack = vec![(py, px)];
    lobe[[py, px]] = true;
    let mut count = 0;
    while let Some((y, x)) = stack.pop() {
        count += 1;
        let here = psf[[y, x]];
        for (dy, dx) in [(-1isize, 0isize), (1, 0), (0, -1), (0, 1)] {
            let (yy, xx) = (y as isize + dy, x as isize + dx);
            if yy < 0 || xx < 0 || yy >= ny as isize || xx >= nx as isize {
                continue;
            }
            let (yy, xx) = (yy as usize, xx as usize);
            let v = psf[[yy, xx]];
            if !lobe[[yy, xx]] && v > 0.0 && v <= here {
                lobe[[yy, xx]] = true;
                stack.push((yy, xx));
            }
        }
    }
    let side = psf
        .iter()
        .zip(lobe.iter())
        .filter(|(v, l)| !**l && v.is_finite())
        .fold(0.0f64, |a, (v, _)| a.max(v.abs() as f64));
    PsfLobes {
        peak_xy: (px, py),
        main_lobe_pixels: count,
        sidelobe_level: if pv > 0.0 { side / pv as f64 } else { f64::NAN },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psf_sidelobe_is_the_largest_value_outside_the_main_lobe() {
        // A Gaussian main lobe with a ring of -0.1 and a bump of 0.25 away from it.
        let n = 65;
        let psf = Array2::from_shape_fn((n, n), |(y, x)| {
            let r2 = ((x as f64 - 32.0).powi(2) + (y as f64 - 32.0).powi(2)) / 9.0;
            let mut v = (-r2).exp();
            if (6.0..7.0).contains(&r2.sqrt()) {
                v -= 0.1;
            }
            if (x, y) == (55, 32) {
                v = 0.25;
            }
            v as f32
        });
        let l = psf_lobes(&psf);
        assert_eq!(l.peak_xy, (32, 32));
        assert!((l.sidelobe_level - 0.25).abs() < 1e-6);
    }
}
