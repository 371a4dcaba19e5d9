//! [`FitsImage`]: a FITS image opened for reading plane by plane (masks, start models, the
//! quick-look report of `format='fits'` products). The header is read by [`super::wcs`]; pixels
//! of any `BITPIX` (8, 16, 32, 64, -32, -64) come back as f32 with `BSCALE`/`BZERO` applied and
//! blanks (`BLANK` of integer images, NaN of float ones) as NaN.

use super::raw::{cstr, RawFits, TFLOAT};
use super::wcs::{read_meta, Cards, Layout};
use crate::error::{check_plane, ImageIoError};
use crate::meta::{Beams, ImageMeta};
use fitsio::sys as fs;
use ndarray::Array2;
use pclean_core::Beam;
use std::ffi::c_void;
use std::os::raw::c_int;
use std::path::{Path, PathBuf};

/// cfitsio's `TDOUBLE` and `ANY_HDU`.
const TDOUBLE: c_int = 82;
const ANY_HDU: c_int = -1;

/// Whether `path` is a file that starts as a FITS file does (`SIMPLE  =`).
pub fn is_fits_file(path: &Path) -> bool {
    let mut head = [0u8; 9];
    path.is_file()
        && std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
            .is_ok()
        && &head == b"SIMPLE  ="
}

/// A FITS image opened for reading.
pub struct FitsImage {
    raw: RawFits,
    path: PathBuf,
    meta: ImageMeta,
    layout: Layout,
}

// SAFETY: the cfitsio handle is owned exclusively and used only through `&mut self`.
unsafe impl Send for FitsImage {}

impl FitsImage {
    /// Open `path` and read its header (see [`super::wcs`] for what is understood). A file whose
    /// header promises more data than it holds is refused here, before anything is allocated by
    /// its axis lengths.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ImageIoError> {
        let path = path.as_ref().to_path_buf();
        let mut raw = RawFits::open_ro(&path)?;
        let (bitpix, naxes) = raw.image_params()?;
        let mut cards = Cards {
            raw: &mut raw,
            path: &path,
        };
        let naxis = cards.num_or("NAXIS", 0.0)?;
        if naxis as usize != naxes.len() || naxis > 8.0 {
            return Err(cards.bad("NAXIS", format!("{naxis} axes (pclean reads 2 to 8)")));
        }
        if naxes.iter().any(|&n| n < 1) {
            return Err(cards.bad("NAXISn", format!("axis lengths {naxes:?} must be positive")));
        }
        let naxes: Vec<usize> = naxes.iter().map(|&n| n as usize).collect();
        let pixels = naxes.iter().try_fold(1u64, |a, &n| a.checked_mul(n as u64));
        let bytes = pixels.and_then(|p| p.checked_mul(u64::from(bitpix.unsigned_abs() / 8)));
        let (start, _) = cards.raw.data_span()?;
        let len = std::fs::metadata(&path)
            .map_err(|source| ImageIoError::Io {
                path: path.clone(),
                source,
            })?
            .len();
        let held = len.saturating_sub(start.max(0) as u64);
        match bytes {
            Some(b) if b <= held => {}
            _ => {
                return Err(cards.bad(
                    "NAXISn",
                    format!(
                        "axes {naxes:?} of BITPIX {bitpix} need {} bytes of data, the file \
                         holds {held} after its header: it is truncated or its header is damaged",
                        bytes.map_or("more than 2^64".to_string(), |b| b.to_string())
                    ),
                ))
            }
        }
        let (mut meta, layout) = read_meta(&mut cards, &naxes)?;
        if cards.flag("CASAMBM")? {
            let (nchan, nstokes) = (meta.coords.spectral.nchan, meta.coords.stokes.len());
            meta.beams = read_beams_table(&mut raw, &path, nchan, nstokes)?;
        }
        Ok(FitsImage {
            raw,
            path,
            meta,
            layout,
        })
    }

    pub fn meta(&self) -> &ImageMeta {
        &self.meta
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read `n` pixels from pixel `first` (0-based) into `out` (NaN for blanks).
    fn read(&mut self, first: i64, out: &mut [f32], what: &str) -> Result<(), ImageIoError> {
        let mut nul = f32::NAN;
        let mut anynul: c_int = 0;
        let n = out.len() as i64;
        let data = out.as_mut_ptr() as *mut c_void;
        // SAFETY: open file; `out` holds exactly `n` floats; the null value is one float.
        self.raw.call(what, |ptr, st| unsafe {
            fs::ffgpv(
                ptr,
                TFLOAT,
                first + 1,
                n,
                &mut nul as *mut f32 as *mut c_void,
                data,
                &mut anynul,
                st,
            );
        })
    }

    /// The first pixel (0-based) of plane `(chan, stokes)`, checked against the image.
    fn plane_start(
        &self,
        chan: usize,
        stokes: usize,
        got: [usize; 2],
    ) -> Result<i64, ImageIoError> {
        check_plane(&self.path, self.meta.coords.shape(), chan, stokes, got)?;
        Ok(chan as i64 * self.layout.chan_stride + stokes as i64 * self.layout.stokes_stride)
    }

    /// Plane `(chan, stokes)` as `plane_yx[[y, x]]` (blanks NaN).
    pub fn get_plane(&mut self, chan: usize, stokes: usize) -> Result<Array2<f32>, ImageIoError> {
        let c = &self.meta.coords;
        let mut out = Array2::<f32>::zeros((c.ny, c.nx));
        self.get_plane_into(chan, stokes, &mut out)?;
        Ok(out)
    }

    /// Plane `(chan, stokes)` into `out` (reshaped if needed).
    pub fn get_plane_into(
        &mut self,
        chan: usize,
        stokes: usize,
        out: &mut Array2<f32>,
    ) -> Result<(), ImageIoError> {
        let (nx, ny) = (self.meta.coords.nx, self.meta.coords.ny);
        let first = self.plane_start(chan, stokes, [ny, nx])?;
        if out.dim() != (ny, nx) || !out.is_standard_layout() {
            *out = Array2::zeros((ny, nx));
        }
        let what = format!("reading plane chan {chan} stokes {stokes}");
        self.read(first, out.as_slice_mut().expect("standard layout"), &what)
    }

    /// The spectrum of pixel `(x, y)` in Stokes plane `stokes` (one value per channel).
    pub fn get_spectrum(
        &mut self,
        x: usize,
        y: usize,
        stokes: usize,
    ) -> Result<Vec<f32>, ImageIoError> {
        let c = &self.meta.coords;
        let got = if x < c.nx && y < c.ny {
            [c.ny, c.nx]
        } else {
            [y, x]
        };
        let base = self.plane_start(0, stokes, got)? + (y * c.nx + x) as i64;
        let nchan = c.spectral.nchan;
        let mut out = vec![0f32; nchan];
        for (k, v) in out.iter_mut().enumerate() {
            let first = base + k as i64 * self.layout.chan_stride;
            self.read(first, std::slice::from_mut(v), "reading a spectrum")?;
        }
        Ok(out)
    }

    /// Plane `(chan, stokes)` of the blanking mask as `valid_yx[[y, x]]` (`false` where the
    /// pixel is blank, as CASA's `importfits` masks them).
    pub fn get_mask_plane(
        &mut self,
        chan: usize,
        stokes: usize,
    ) -> Result<Option<Array2<bool>>, ImageIoError> {
        Ok(Some(self.get_plane(chan, stokes)?.mapv(|v| !v.is_nan())))
    }
}

/// The per-plane beams of the `BEAMS` binary table (CASA's `exportfits`: `BMAJ`, `BMIN` in
/// `TUNIT` arcsec, `BPA` deg, `CHAN`, `POL`; header `NCHAN`, `NPOL`).
fn read_beams_table(
    raw: &mut RawFits,
    path: &Path,
    nchan: usize,
    nstokes: usize,
) -> Result<Beams, ImageIoError> {
    let name = cstr("BEAMS");
    // SAFETY: open file, valid C string (cfitsio only reads it).
    raw.call("finding the BEAMS table (CASAMBM = T)", |ptr, st| unsafe {
        fs::ffmnhd(ptr, ANY_HDU, name.as_ptr() as *mut _, 0, st);
    })?;
    let mut cards = Cards { raw, path };
    let bad = |cards: &Cards, k: &str, why: String| cards.bad(&format!("BEAMS table {k}"), why);
    let (tc, ts) = (cards.num_or("NCHAN", -1.0)?, cards.num_or("NPOL", -1.0)?);
    if tc != nchan as f64 || ts != nstokes as f64 {
        let why = format!("NCHAN = {tc}, NPOL = {ts}: the image has {nchan} x {nstokes} planes");
        return Err(bad(&cards, "NCHAN/NPOL", why));
    }
    let mut nrows: i64 = 0;
    // SAFETY: open file, valid out-pointer.
    cards
        .raw
        .call("reading the BEAMS table", |ptr, st| unsafe {
            fs::ffgnrwll(ptr, &mut nrows, st);
        })?;
    let planes = nchan * nstokes;
    if nrows as usize != planes {
        return Err(bad(
            &cards,
            "rows",
            format!("{nrows} rows for {planes} planes"),
        ));
    }
    let mut cols: Vec<Vec<f64>> = Vec::new();
    for (k, col) in ["BMAJ", "BMIN", "BPA", "CHAN", "POL"].iter().enumerate() {
        let mut num: c_int = 0;
        let t = cstr(col);
        // SAFETY: open file; valid C string; cfitsio reads `t` only.
        cards
            .raw
            .call(&format!("finding BEAMS column {col}"), |ptr, st| unsafe {
                fs::ffgcno(ptr, 0, t.as_ptr() as *mut _, &mut num, st);
            })?;
        let unit = cards.text(&format!("TUNIT{num}"))?.unwrap_or_default();
        let scale = match (k, unit.trim()) {
            (0 | 1, "" | "arcsec") => (1.0f64 / 3600.0).to_radians(),
            (0..=2, "deg") | (2, "") => 1f64.to_radians(),
            (0..=2, "rad") => 1.0,
            (0 | 1, "arcmin") => (1.0f64 / 60.0).to_radians(),
            (3 | 4, _) => 1.0,
            (_, u) => return Err(bad(&cards, col, format!("unit '{u}' is not known"))),
        };
        let mut v = vec![0f64; planes];
        let mut anynul: c_int = 0;
        let mut nul = f64::NAN;
        // SAFETY: open file; `v` holds `planes` doubles (= the table's rows).
        cards
            .raw
            .call(&format!("reading BEAMS column {col}"), |ptr, st| unsafe {
                fs::ffgcv(
                    ptr,
                    TDOUBLE,
                    num,
                    1,
                    1,
                    planes as i64,
                    &mut nul as *mut f64 as *mut c_void,
                    v.as_mut_ptr() as *mut c_void,
                    &mut anynul,
                    st,
                );
            })?;
        cols.push(v.into_iter().map(|x| x * scale).collect());
    }
    let mut beams: Vec<Option<Beam>> = vec![None; planes];
    for (r, (&c, &s)) in cols[3].iter().zip(&cols[4]).enumerate() {
        let idx = (c >= 0.0 && s >= 0.0 && (c as usize) < nchan && (s as usize) < nstokes)
            .then(|| c as usize + nchan * s as usize);
        let beam = Beam {
            major_rad: cols[0][r],
            minor_rad: cols[1][r],
            pa_rad: cols[2][r],
        };
        match idx {
            Some(i) if beams[i].is_none() && beam.major_rad.is_finite() => beams[i] = Some(beam),
            _ => {
                let why = format!("row {r}: CHAN {c}, POL {s} is outside the image or repeated");
                return Err(bad(&cards, "CHAN/POL", why));
            }
        }
    }
    let mut hdutype: c_int = 0;
    // SAFETY: open file, valid out-pointer; back to the primary HDU for the pixels.
    cards
        .raw
        .call("returning to the primary HDU", |ptr, st| unsafe {
            fs::ffmahd(ptr, 1, &mut hdutype, st);
        })?;
    Ok(Beams::PerPlane {
        nchan,
        nstokes,
        beams: beams
            .into_iter()
            .map(|b| b.expect("every plane set"))
            .collect(),
    })
}
