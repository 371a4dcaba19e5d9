//! Checking that images can be concatenated along the spectral axis, and the metadata of the result.
//!
//! What must agree (always an error otherwise): the shape of the non-spectral axes, the Stokes planes,
//! the spectral frame, the sky frame and projection, the direction coordinates to within
//! [`RELAXED_PIXEL_TOL`] pixel, and the frequencies: every input must continue the linear spectral
//! axis of the first input to within [`CONTIGUITY_TOL`] of a channel (casacore's own contiguity
//! test, `ImageConcat::_checkContiguous`, uses the same 1%).
//!
//! What `relax` tolerates, following casacore's `ImageConcat::setImage(image, relax)`, where every
//! check below is an exception without `relax` and a warning with it: direction coordinates that
//! differ by more than rounding ([`STRICT_PIXEL_TOL`]) but less than [`RELAXED_PIXEL_TOL`] pixel, and
//! inputs of which some have restoring beams and others not (the result then has no beam, as
//! casacore's `ImageInfo::combineBeams`). Differences casacore never refuses are warnings in both
//! modes: brightness units, rest frequency, object name, image type, telescope, and `miscinfo` keys
//! whose values differ (the first input's value is kept).

use crate::error::ConcatError;
use pclean_imageio::{Beams, CasaImage, ImageMeta, MiscValue};
use std::f64::consts::PI;
use std::path::{Path, PathBuf};

/// The image axis that is concatenated: pclean's and tclean's images are `[RA, Dec, Stokes, Freq]`.
pub const SPECTRAL_AXIS: usize = 3;

/// Largest frequency mismatch, in channels, between an input's channels and the concatenated linear
/// axis (casacore `ImageConcat`: `0.01 * |increment|`).
pub const CONTIGUITY_TOL: f64 = 0.01;

/// Direction-coordinate differences up to this many pixels are rounding and accepted silently.
pub const STRICT_PIXEL_TOL: f64 = 1e-6;

/// With `relax`, direction-coordinate differences up to this many pixels are accepted with a
/// warning; larger ones are always an error (the planes would not line up on the sky).
pub const RELAXED_PIXEL_TOL: f64 = 0.01;

/// One input image: its path and metadata (the image itself is not held open).
#[derive(Debug, Clone)]
pub(crate) struct InputImage {
    pub path: PathBuf,
    pub meta: ImageMeta,
    pub shape: [usize; 4],
}

/// A checked concatenation: the inputs in order, where each starts on the output's spectral axis,
/// and the output's metadata.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub inputs: Vec<InputImage>,
    pub chan_offsets: Vec<usize>,
    pub meta: ImageMeta,
    pub warnings: Vec<String>,
}

/// Check `axis` (-1 means the spectral axis) and return the axis index.
pub(crate) fn resolve_axis(axis: i64) -> Result<usize, ConcatError> {
    if axis == -1 || axis == SPECTRAL_AXIS as i64 {
        Ok(SPECTRAL_AXIS)
    } else {
        Err(ConcatError::BadAxis { axis })
    }
}

fn read_input(index: usize, path: &Path) -> Result<InputImage, ConcatError> {
    if std::fs::symlink_metadata(path).is_err() {
        return Err(ConcatError::InputMissing {
            index,
            path: path.to_path_buf(),
        });
    }
    let img = CasaImage::open(path).map_err(|source| ConcatError::Open {
        index,
        path: path.to_path_buf(),
        source,
    })?;
    Ok(InputImage {
        path: path.to_path_buf(),
        meta: img.meta().clone(),
        shape: img.shape(),
    })
}

/// Open every input (one at a time, closing each), check them, and work out the output.
pub(crate) fn plan(inputs: &[PathBuf], relax: bool) -> Result<Plan, ConcatError> {
    if inputs.len() < 2 {
        return Err(ConcatError::TooFewInputs { n: inputs.len() });
    }
    let mut imgs = Vec::with_capacity(inputs.len());
    for (i, p) in inputs.iter().enumerate() {
        imgs.push(read_input(i + 1, p)?);
    }
    let mut warnings = Vec::new();
    let mut chan_offsets = Vec::with_capacity(imgs.len());
    let mut nchan = 0usize;
    for (i, img) in imgs.iter().enumerate() {
        if i > 0 {
            check_pair(&imgs[0], img, i + 1, nchan, relax, &mut warnings)?;
        }
        chan_offsets.push(nchan);
        nchan += img.shape[SPECTRAL_AXIS];
    }
    let mut meta = imgs[0].meta.clone();
    meta.coords.spectral.nchan = nchan;
    meta.beams = combine_beams(&imgs, nchan, relax, &mut warnings)?;
    meta.misc = merge_misc(&imgs, &mut warnings);
    Ok(Plan {
        inputs: imgs,
        chan_offsets,
        meta,
        warnings,
    })
}

fn mismatch(first: &InputImage, img: &InputImage, index: usize, what: String) -> ConcatError {
    ConcatError::Mismatch {
        index,
        path: img.path.clone(),
        first: first.path.clone(),
        what,
    }
}

/// Check input `img` (1-based `index`, starting at output channel `offset`) against the first.
fn check_pair(
    first: &InputImage,
    img: &InputImage,
    index: usize,
    offset: usize,
    relax: bool,
    warnings: &mut Vec<String>,
) -> Result<(), ConcatError> {
    let err = |what: String| mismatch(first, img, index, what);
    let names = ["nx", "ny", "nstokes"];
    for (ax, name) in names.iter().enumerate() {
        if img.shape[ax] != first.shape[ax] {
            return Err(err(format!(
                "{name} is {} but input 1 has {} (shape {:?} vs {:?}, [nx, ny, nstokes, nchan])",
                img.shape[ax], first.shape[ax], img.shape, first.shape
            )));
        }
    }
    let (c0, c) = (&first.meta.coords, &img.meta.coords);
    if c0.spectral.chan_freqs_hz.is_some() || c.spectral.chan_freqs_hz.is_some() {
        return Err(err(
            "a tabular (non-linear) spectral axis, e.g. channels in equal optical-velocity \
             steps, cannot be concatenated (its channels have no common linear axis); image the \
             whole cube in one run instead"
                .into(),
        ));
    }
    if c.stokes != c0.stokes {
        return Err(err(format!(
            "Stokes planes {:?} differ from input 1's {:?}",
            c.stokes, c0.stokes
        )));
    }
    if c.spectral.frame != c0.spectral.frame {
        return Err(err(format!(
            "spectral frame {} differs from input 1's {}",
            c.spectral.frame, c0.spectral.frame
        )));
    }
    if c.reference.frame != c0.reference.frame {
        return Err(err(format!(
            "sky frame {} differs from input 1's {}",
            c.reference.frame.casa_name(),
            c0.reference.frame.casa_name()
        )));
    }
    if c.projection != c0.projection {
        return Err(err(format!(
            "projection {} differs from input 1's {}",
            c.projection, c0.projection
        )));
    }
    if let Some((what, pixels)) = direction_difference(first, img) {
        let msg = format!("{what} (a difference of {pixels:.3e} pixel)");
        if pixels > RELAXED_PIXEL_TOL || !relax {
            let limit = if relax {
                format!("; pclean accepts at most {RELAXED_PIXEL_TOL} pixel even with relax")
            } else {
                "; relax=true accepts differences below 0.01 pixel".to_string()
            };
            return Err(err(format!("{msg}{limit}")));
        }
        warnings.push(format!(
            "input {index} ({}): {msg}; using input 1's coordinates",
            img.path.display()
        ));
    }
    check_contiguous(first, img, index, offset)?;
    let mut note = |what: &str, a: &str, b: &str| {
        warnings.push(format!(
            "input {index} ({}): {what} '{a}' differs from input 1's '{b}'; input 1's is kept",
            img.path.display()
        ))
    };
    let (m0, m) = (&first.meta, &img.meta);
    if m.units != m0.units {
        note("brightness unit", &m.units, &m0.units);
    }
    if m.image_type != m0.image_type {
        note("image type", &m.image_type, &m0.image_type);
    }
    if m.object_name != m0.object_name {
        note("object name", &m.object_name, &m0.object_name);
    }
    if c.telescope != c0.telescope {
        note("telescope", &c.telescope, &c0.telescope);
    }
    if c.spectral.restfreq_hz != c0.spectral.restfreq_hz {
        note(
            "rest frequency (Hz)",
            &c.spectral.restfreq_hz.to_string(),
            &c0.spectral.restfreq_hz.to_string(),
        );
    }
    Ok(())
}

/// The largest difference between two images' direction coordinates, expressed in pixels, with a
/// description; `None` when within [`STRICT_PIXEL_TOL`].
fn direction_difference(first: &InputImage, img: &InputImage) -> Option<(String, f64)> {
    let (c0, c) = (&first.meta.coords, &img.meta.coords);
    let cell = [c0.cdelt_rad[0].abs(), c0.cdelt_rad[1].abs()];
    let mut dra = c.reference.ra_rad - c0.reference.ra_rad;
    dra = (dra + PI).rem_euclid(2.0 * PI) - PI;
    let ddec = c.reference.dec_rad - c0.reference.dec_rad;
    let edge = c0.nx.max(c0.ny) as f64;
    let candidates = [
        (
            format!(
                "reference direction ({:.12}, {:.12}) rad differs from input 1's ({:.12}, {:.12})",
                c.reference.ra_rad, c.reference.dec_rad, c0.reference.ra_rad, c0.reference.dec_rad
            ),
            (dra * c0.reference.dec_rad.cos() / cell[0])
                .abs()
                .max((ddec / cell[1]).abs()),
        ),
        (
            format!(
                "reference pixel {:?} differs from input 1's {:?}",
                c.crpix, c0.crpix
            ),
            (c.crpix[0] - c0.crpix[0])
                .abs()
                .max((c.crpix[1] - c0.crpix[1]).abs()),
        ),
        (
            // A relative increment error e moves the image edge by e * (size) pixels.
            format!(
                "cell size {:?} rad differs from input 1's {:?}",
                c.cdelt_rad, c0.cdelt_rad
            ),
            ((c.cdelt_rad[0] - c0.cdelt_rad[0]).abs() / cell[0])
                .max((c.cdelt_rad[1] - c0.cdelt_rad[1]).abs() / cell[1])
                * edge,
        ),
    ];
    candidates
        .into_iter()
        .filter(|(_, px)| px.is_nan() || *px > STRICT_PIXEL_TOL)
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// Every channel of `img` must lie on input 1's linear axis at output channel `offset + chan`.
fn check_contiguous(
    first: &InputImage,
    img: &InputImage,
    index: usize,
    offset: usize,
) -> Result<(), ConcatError> {
    let s0 = &first.meta.coords.spectral;
    let s = &img.meta.coords.spectral;
    let width = s0.cdelt_hz;
    let n = img.shape[SPECTRAL_AXIS];
    // Both axes are linear, so checking the two ends checks every channel.
    for chan in [0, n - 1] {
        let got = s.freq_hz(chan as f64);
        let expected = s0.freq_hz((offset + chan) as f64);
        // NaN frequencies fail too.
        let on_axis = (got - expected).abs() <= CONTIGUITY_TOL * width.abs();
        if !on_axis {
            return Err(ConcatError::NotContiguous {
                index,
                path: img.path.clone(),
                chan,
                got_hz: got,
                expected_hz: expected,
                width_hz: width,
            });
        }
    }
    Ok(())
}

/// The output's beams (casacore `ImageInfo::combineBeams` along the spectral axis): none if no input
/// has beams; one beam if every input has the same single beam; otherwise per-plane beams, each
/// input's planes in order. Inputs with and without beams: error, or with `relax` no beams.
fn combine_beams(
    imgs: &[InputImage],
    nchan: usize,
    relax: bool,
    warnings: &mut Vec<String>,
) -> Result<Beams, ConcatError> {
    let with: Vec<bool> = imgs
        .iter()
        .map(|i| !matches!(i.meta.beams, Beams::None))
        .collect();
    if with.iter().all(|b| !b) {
        return Ok(Beams::None);
    }
    if let Some(k) = with.iter().position(|b| *b != with[0]) {
        let (has, lacks) = if with[0] { (0, k) } else { (k, 0) };
        let what = format!(
            "input {} ({}) has restoring beams but input {} ({}) has none",
            has + 1,
            imgs[has].path.display(),
            lacks + 1,
            imgs[lacks].path.display()
        );
        if !relax {
            return Err(mismatch(
                &imgs[0],
                &imgs[k],
                k + 1,
                format!("{what}; relax=true concatenates them without beams"),
            ));
        }
        warnings.push(format!("{what}; the concatenation has no beam"));
        return Ok(Beams::None);
    }
    if let Beams::Single(b0) = imgs[0].meta.beams {
        if imgs
            .iter()
            .all(|i| matches!(i.meta.beams, Beams::Single(b) if b == b0))
        {
            return Ok(Beams::Single(b0));
        }
    }
    let nstokes = imgs[0].shape[2];
    let mut beams = Vec::with_capacity(nchan * nstokes);
    for s in 0..nstokes {
        for img in imgs {
            for c in 0..img.shape[SPECTRAL_AXIS] {
                // Every input with beams has one per plane or a single one (validated on read).
                beams.push(img.meta.beams.beam(c, s).expect("input has beams"));
            }
        }
    }
    Ok(Beams::PerPlane {
        nchan,
        nstokes,
        beams,
    })
}

/// `miscinfo` of the output: input 1's keys, then keys of later inputs not seen before. A key whose
/// value differs keeps the first value, with a warning (casacore renames such duplicates instead,
/// which would break FITS keyword names).
fn merge_misc(imgs: &[InputImage], warnings: &mut Vec<String>) -> Vec<(String, MiscValue)> {
    let mut out: Vec<(String, MiscValue)> = Vec::new();
    for (i, img) in imgs.iter().enumerate() {
        for (k, v) in &img.meta.misc {
            match out.iter().find(|(k0, _)| k0 == k) {
                None => out.push((k.clone(), v.clone())),
                Some((_, v0)) if v0 != v => warnings.push(format!(
                    "input {} ({}): miscinfo '{k}' = {v:?} differs from {v0:?}; the first is kept",
                    i + 1,
                    img.path.display()
                )),
                Some(_) => {}
            }
        }
    }
    out
}
