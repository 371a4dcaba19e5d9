//! Quick-look statistics of a cube, gathered plane by plane: by the engine while it writes the
//! products (saved beside them as `IMAGENAME.quicklook`, so that `pclean report` need not read
//! the cube again), or by the report itself reading the products (older runs, resumed runs).
//! The same accumulation code serves both, so the two give the same report.
//!
//! First Stokes plane only. `IMAGENAME.quicklook` is written only when every channel was seen
//! by the run that finished the products.

use crate::meta::ImageMeta;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Histogram of residual / rms: bins over `[-HIST_SPAN, HIST_SPAN)`.
pub const HIST_SPAN: f64 = 8.0;
pub const HIST_BINS: usize = 64;

/// Scale from the median absolute deviation to a Gaussian's standard deviation.
const MAD_TO_SIGMA: f64 = 1.482_602_218_505_602;

/// Values the robust rms and the histogram look at per plane at most: a regular subsample of a
/// bigger plane (the MAD of 65536 Gaussian values is within ~0.5% of the whole plane's).
const RMS_SAMPLE: usize = 1 << 16;

const C_KM_S: f64 = 299_792.458;

/// The `p`-th percentile (nearest rank) of `v`, reordering it.
pub fn percentile(v: &mut [f32], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let k = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
    let k = k.min(v.len() - 1);
    let (_, x, _) = v.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
    *x as f64
}

/// The finite values of a regular subsample of at most [`RMS_SAMPLE`] of `values`.
fn sample(values: &[f32]) -> Vec<f32> {
    let stride = values.len().div_ceil(RMS_SAMPLE).max(1);
    values
        .iter()
        .step_by(stride)
        .copied()
        .filter(|x| x.is_finite())
        .collect()
}

/// The robust rms (1.4826 x median absolute deviation from the median) of finite values.
fn rms_of_sample(mut v: Vec<f32>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let med = percentile(&mut v, 50.0) as f32;
    for x in v.iter_mut() {
        *x = (*x - med).abs();
    }
    percentile(&mut v, 50.0) * MAD_TO_SIGMA
}

/// The robust rms of the finite values (of a regular subsample of at most 65536 of them).
pub fn robust_rms(values: &[f32]) -> f64 {
    rms_of_sample(sample(values))
}

/// Channel `c`'s width for the moment-0 sum: km/s with a rest frequency, else MHz; and the
/// unit's name.
pub fn channel_width(meta: &ImageMeta, c: usize) -> (f64, &'static str) {
    let sp = &meta.coords.spectral;
    let dnu = (sp.freq_hz(c as f64 + 0.5) - sp.freq_hz(c as f64 - 0.5)).abs();
    if sp.restfreq_hz > 0.0 {
        (C_KM_S * dnu / sp.restfreq_hz, "km/s")
    } else {
        (dnu / 1e6, "MHz")
    }
}

/// What the image (and mask) planes give: moment-0 and peak maps, the mask's union, the image
/// summed over each channel's mask.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageStats {
    pub nx: usize,
    pub ny: usize,
    /// Channel widths multiplying the planes in `mom0` ([`channel_width`]).
    pub widths: Vec<f64>,
    /// Sum over channels of image x width, `y * nx + x`.
    pub mom0: Vec<f32>,
    /// Largest value over channels per pixel (-inf where never finite).
    pub peak: Vec<f32>,
    /// Pixels inside the mask in any channel (`None`: no mask).
    pub mask_union: Option<Vec<bool>>,
    /// Per channel: the finite image values summed over that channel's mask (NaN: no mask).
    pub mask_sum: Vec<f64>,
    /// Channels whose image plane was added.
    pub seen: Vec<bool>,
    /// Mask planes waiting for their channel's image plane, and image planes for their mask's
    /// (the engine writes the mask before `.image` but after `.residual`).
    pending_masks: HashMap<usize, Vec<bool>>,
    pending_images: HashMap<usize, Vec<f32>>,
}

fn masked_sum(plane: &[f32], inside: &[bool]) -> f64 {
    plane
        .iter()
        .zip(inside)
        .filter(|(v, m)| **m && v.is_finite())
        .map(|(v, _)| *v as f64)
        .sum()
}

impl ImageStats {
    pub fn new(nx: usize, ny: usize, widths: Vec<f64>, has_mask: bool) -> Self {
        let nchan = widths.len();
        ImageStats {
            nx,
            ny,
            mom0: vec![0.0; nx * ny],
            peak: vec![f32::NEG_INFINITY; nx * ny],
            mask_union: has_mask.then(|| vec![false; nx * ny]),
            mask_sum: vec![f64::NAN; nchan],
            seen: vec![false; nchan],
            widths,
            pending_masks: HashMap::new(),
            pending_images: HashMap::new(),
        }
    }

    /// Channel `c`'s mask plane (values > 0.5 inside), before or after its image plane.
    pub fn add_mask(&mut self, c: usize, mask: &[f32]) {
        let inside: Vec<bool> = mask.iter().map(|m| *m > 0.5).collect();
        if let Some(u) = self.mask_union.as_mut() {
            for (u, m) in u.iter_mut().zip(&inside) {
                *u |= *m;
            }
        }
        match self.pending_images.remove(&c) {
            Some(img) => self.mask_sum[c] = masked_sum(&img, &inside),
            None => {
                self.pending_masks.insert(c, inside);
            }
        }
    }

    /// Channel `c`'s image plane (`y * nx + x`).
    pub fn add_image(&mut self, c: usize, plane: &[f32]) {
        let w = self.widths[c] as f32;
        // One pass over the plane for both maps. A NaN (blanked pixel) adds nothing and fails the
        // comparison: neither map changes there. The compare-and-select forms vectorise.
        for ((m, p), v) in self.mom0.iter_mut().zip(self.peak.iter_mut()).zip(plane) {
            *m += if v.is_finite() { v * w } else { 0.0 };
            *p = if *v > *p { *v } else { *p };
        }
        self.seen[c] = true;
        match self.pending_masks.remove(&c) {
            Some(inside) => self.mask_sum[c] = masked_sum(plane, &inside),
            None if self.mask_union.is_some() => {
                self.pending_images.insert(c, plane.to_vec());
            }
            None => {}
        }
    }

    /// The brightest pixel `(x, y)` of the peak map.
    pub fn brightest(&self) -> (usize, usize) {
        let (mut best, mut at) = (f32::NEG_INFINITY, 0);
        for (k, v) in self.peak.iter().enumerate() {
            if *v > best {
                (best, at) = (*v, k);
            }
        }
        (at % self.nx.max(1), at / self.nx.max(1))
    }
}

/// What the residual planes give: per-channel robust rms and peak |residual|, and the histogram
/// of residual / rms (from the same regular subsample as the rms).
#[derive(Clone, Debug, PartialEq)]
pub struct ResidualStats {
    pub rms: Vec<f64>,
    pub peak: Vec<f64>,
    /// Counts of residual / rms over [`HIST_SPAN`] in [`HIST_BINS`] bins.
    pub hist: Vec<u64>,
    /// Channels whose residual plane was added.
    pub seen: Vec<bool>,
}

impl ResidualStats {
    pub fn new(nchan: usize) -> Self {
        ResidualStats {
            rms: vec![f64::NAN; nchan],
            peak: vec![f64::NAN; nchan],
            hist: vec![0; HIST_BINS],
            seen: vec![false; nchan],
        }
    }

    /// Channel `c`'s residual plane.
    pub fn add(&mut self, c: usize, plane: &[f32]) {
        let peak = abs_max(plane);
        let v = sample(plane);
        let rms = rms_of_sample(v.clone());
        if rms > 0.0 {
            let scale = HIST_BINS as f64 / (2.0 * HIST_SPAN);
            let (inv, off) = ((scale / rms) as f32, (HIST_SPAN * scale) as f32);
            for x in &v {
                let k = x * inv + off;
                if k >= 0.0 && k < HIST_BINS as f32 {
                    self.hist[k as usize] += 1;
                }
            }
        }
        (self.rms[c], self.peak[c], self.seen[c]) = (rms, peak as f64, true);
    }
}

/// The largest |value| (0 for none; NaN fails every comparison and is skipped). Sixteen
/// running maxima, so that the loop vectorises (a single running maximum is a serial chain).
fn abs_max(v: &[f32]) -> f32 {
    const L: usize = 16;
    let mut acc = [0.0f32; L];
    let chunks = v.chunks_exact(L);
    let tail = chunks.remainder();
    for ch in chunks {
        for (a, x) in acc.iter_mut().zip(ch) {
            let x = x.abs();
            *a = if x > *a { x } else { *a };
        }
    }
    tail.iter()
        .chain(&acc)
        .fold(0.0f32, |a, x| if x.abs() > a { x.abs() } else { a })
}

/// Both, as saved beside the products.
#[derive(Clone, Debug, PartialEq)]
pub struct CubeStats {
    pub image: ImageStats,
    /// `None`: the run has no `.residual`.
    pub residual: Option<ResidualStats>,
}

const MAGIC: &[u8; 8] = b"PCLQLK01";

/// Where a run's statistics are saved: `IMAGENAME.quicklook`.
pub fn stats_path(imagename: &str) -> PathBuf {
    PathBuf::from(format!("{imagename}.quicklook"))
}

fn put_f64s(out: &mut Vec<u8>, v: &[f64]) {
    v.iter().for_each(|x| out.extend(x.to_le_bytes()));
}

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (a, b) = self.0.split_at_checked(N)?;
        self.0 = b;
        a.try_into().ok()
    }
    fn u64(&mut self) -> Option<u64> {
        self.take::<8>().map(u64::from_le_bytes)
    }
    fn f64s(&mut self, n: usize) -> Option<Vec<f64>> {
        (0..n)
            .map(|_| self.take::<8>().map(f64::from_le_bytes))
            .collect()
    }
    fn f32s(&mut self, n: usize) -> Option<Vec<f32>> {
        (0..n)
            .map(|_| self.take::<4>().map(f32::from_le_bytes))
            .collect()
    }
    fn bools(&mut self, n: usize) -> Option<Vec<bool>> {
        (0..n)
            .map(|_| self.take::<1>().map(|b| b[0] != 0))
            .collect()
    }
}

impl CubeStats {
    /// Whether every channel's planes were added.
    pub fn complete(&self) -> bool {
        self.image.seen.iter().all(|s| *s)
            && self.image.pending_masks.is_empty()
            && self.image.pending_images.is_empty()
            && self
                .residual
                .as_ref()
                .is_none_or(|r| r.seen.iter().all(|s| *s))
    }

    /// Save to `path` (little-endian binary: magic, sizes, per-channel vectors, maps).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let im = &self.image;
        let nchan = im.widths.len();
        let mut out = Vec::with_capacity(16 * im.nx * im.ny / 2 + 64 * nchan);
        out.extend(MAGIC);
        for n in [im.nx, im.ny, nchan] {
            out.extend((n as u64).to_le_bytes());
        }
        out.push(im.mask_union.is_some() as u8);
        out.push(self.residual.is_some() as u8);
        put_f64s(&mut out, &im.widths);
        put_f64s(&mut out, &im.mask_sum);
        if let Some(r) = &self.residual {
            put_f64s(&mut out, &r.rms);
            put_f64s(&mut out, &r.peak);
            r.hist.iter().for_each(|h| out.extend(h.to_le_bytes()));
        }
        for map in [&im.mom0, &im.peak] {
            map.iter().for_each(|x| out.extend(x.to_le_bytes()));
        }
        if let Some(u) = &im.mask_union {
            out.extend(u.iter().map(|b| *b as u8));
        }
        let tmp = PathBuf::from(format!("{}.tmp", path.display()));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&out)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    }

    /// Read what [`CubeStats::save`] wrote; `None` when `path` is missing or not such a file.
    pub fn load(path: &Path) -> Option<Self> {
        let mut data = Vec::new();
        std::fs::File::open(path)
            .ok()?
            .read_to_end(&mut data)
            .ok()?;
        let mut b = Bytes(data.strip_prefix(MAGIC)?);
        let (nx, ny, nchan) = (b.u64()? as usize, b.u64()? as usize, b.u64()? as usize);
        let npix = nx.checked_mul(ny)?;
        // A map of more than 16 GiB, or more than 2^24 channels, is not one this code wrote.
        if npix > 1 << 32 || nchan > 1 << 24 {
            return None;
        }
        let [has_mask, has_residual] = b.take::<2>()?;
        let widths = b.f64s(nchan)?;
        let mask_sum = b.f64s(nchan)?;
        let residual = if has_residual != 0 {
            let (rms, peak) = (b.f64s(nchan)?, b.f64s(nchan)?);
            let hist = (0..HIST_BINS).map(|_| b.u64()).collect::<Option<_>>()?;
            let seen = vec![true; nchan];
            Some(ResidualStats {
                rms,
                peak,
                hist,
                seen,
            })
        } else {
            None
        };
        let (mom0, peak) = (b.f32s(npix)?, b.f32s(npix)?);
        let mask_union = if has_mask != 0 {
            Some(b.bools(npix)?)
        } else {
            None
        };
        if !b.0.is_empty() {
            return None;
        }
        let image = ImageStats {
            nx,
            ny,
            widths,
            mom0,
            peak,
            mask_union,
            mask_sum,
            seen: vec![true; nchan],
            pending_masks: HashMap::new(),
            pending_images: HashMap::new(),
        };
        Some(CubeStats { image, residual })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_round_trip_and_either_plane_order() {
        let (nx, ny) = (5, 3);
        let plane = |c: usize| -> Vec<f32> { (0..nx * ny).map(|k| (k * (c + 1)) as f32).collect() };
        let mask = |c: usize| -> Vec<f32> {
            (0..nx * ny)
                .map(|k| (k + c).is_multiple_of(3) as u8 as f32)
                .collect()
        };
        let mut a = CubeStats {
            image: ImageStats::new(nx, ny, vec![1.0, 2.0], true),
            residual: Some(ResidualStats::new(2)),
        };
        let mut b = a.clone();
        for c in 0..2 {
            // The engine's order (mask first) and the other one.
            a.image.add_mask(c, &mask(c));
            a.image.add_image(c, &plane(c));
            b.image.add_image(c, &plane(c));
            assert!(!b.complete());
            b.image.add_mask(c, &mask(c));
            for s in [&mut a, &mut b] {
                s.residual.as_mut().unwrap().add(c, &plane(c));
            }
        }
        assert!(a.complete() && a == b);
        // Channel 1 (width 2) doubles plane 1 = 2 k: mom0 = k + 4 k.
        assert_eq!(a.image.mom0[3], 15.0);
        assert_eq!(a.image.peak[3], 6.0);
        // Channel 0's mask: k = 0, 3, 6, 9, 12 -> sum 30.
        assert_eq!(a.image.mask_sum[0], 30.0);
        assert_eq!(a.image.brightest(), (4, 2));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.quicklook");
        a.save(&p).unwrap();
        assert_eq!(CubeStats::load(&p), Some(a.clone()));
        // Truncated or foreign files are not statistics.
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() - 1]).unwrap();
        assert_eq!(CubeStats::load(&p), None);
        std::fs::write(&p, b"PCLQLK01garbage").unwrap();
        assert_eq!(CubeStats::load(&p), None);
    }

    #[test]
    fn abs_max_skips_nan_and_sees_the_tail() {
        let mut v: Vec<f32> = (0..37).map(|k| k as f32 * 0.5).collect();
        v[3] = f32::NAN;
        v[20] = -40.0;
        assert_eq!(abs_max(&v), 40.0);
        v[36] = 41.0;
        assert_eq!(abs_max(&v), 41.0);
        assert_eq!(abs_max(&[f32::NAN]), 0.0);
    }

    #[test]
    fn robust_rms_of_a_gaussian_sample() {
        // A deterministic normal sample (Box-Muller on a lattice) with sigma 2 and one outlier.
        let n = 200;
        let mut v = Vec::new();
        for i in 0..n {
            for j in 0..n {
                let u1 = (i as f64 + 0.5) / n as f64;
                let u2 = (j as f64 + 0.5) / n as f64;
                v.push((2.0 * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32);
            }
        }
        v.push(1e6);
        // 40000 lattice points: the MAD estimate is within 1% of sigma.
        assert!((robust_rms(&v) - 2.0).abs() < 0.02, "{}", robust_rms(&v));
    }
}
