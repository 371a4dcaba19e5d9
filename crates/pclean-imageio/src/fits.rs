//! FITS images written as CASA's `exportfits` (casacore `ImageFITSConverter`, default
//! `stokeslast=True`) writes them: a 4-D `BITPIX=-32` primary HDU with axes
//! `NAXIS1=RA, NAXIS2=DEC, NAXIS3=FREQ, NAXIS4=STOKES`, the same WCS cards (PC matrix, SIN with
//! `PV2_1/PV2_2`, `LONPOLE/LATPOLE`, 1-based `CRPIX`, degrees for directions, Hz for frequency,
//! `SPECSYS`, `RESTFRQ`, `ALTRVAL/ALTRPIX/VELREF`), the ObsInfo cards (`TELESCOP`, `OBSERVER`,
//! `DATE-OBS`, `TIMESYS`, `OBSRA/OBSDEC`, `OBSGEO-X/Y/Z`), the `miscinfo` cards, and the beam:
//! `BMAJ/BMIN/BPA` (degrees) for a single beam, or `CASAMBM = T` plus a `BEAMS` binary table
//! (`BMAJ`, `BMIN` arcsec, `BPA` deg as `1E`; `CHAN`, `POL` as `1J`; header `EXTVER`, `NCHAN`,
//! `NPOL`) for per-plane beams.
//!
//! Plane by plane: [`FitsWriter`] holds one plane at a time. It writes to `<path>.pclean_partial`
//! and renames it onto `path` in [`FitsWriter::finish`], so an unfinished write never appears at
//! (or destroys an existing file at) the final path.
//!
//! cfitsio is used through `fitsio::sys` for exact control of the card order and number format
//! (`E` with 12 decimals, as CASA).

use crate::casa::CasaImage;
use crate::error::ImageIoError;
use crate::meta::{Beams, ImageMeta, MiscValue};
use crate::time::{mjd_to_iso, now_mjd};
use fitsio::sys as fs;
use ndarray::{Array2, ArrayView2};
use pclean_core::{Correlation, DirectionFrame, StokesParam, SPEED_OF_LIGHT};
use std::ffi::{c_void, CString};
use std::os::raw::{c_char, c_int, c_long};
use std::path::{Path, PathBuf};

const TFLOAT: c_int = 42;
const TINT: c_int = 31;
const BINARY_TBL: c_int = 2;
const FLOAT_IMG: c_int = -32;
/// Decimals of `E`-format floating-point cards (CASA writes `2.400000000000E+02`).
const DECIMALS: c_int = 12;

/// FITS `STOKES` axis code of a Stokes parameter (AIPS convention: I..V = 1..4, RR, LL, RL, LR =
/// -1..-4, XX, YY, XY, YX = -5..-8).
pub fn fits_stokes_code(p: StokesParam) -> i32 {
    match p {
        StokesParam::I => 1,
        StokesParam::Q => 2,
        StokesParam::U => 3,
        StokesParam::V => 4,
        StokesParam::Corr(c) => match c {
            Correlation::RR => -1,
            Correlation::LL => -2,
            Correlation::RL => -3,
            Correlation::LR => -4,
            Correlation::XX => -5,
            Correlation::YY => -6,
            Correlation::XY => -7,
            Correlation::YX => -8,
        },
    }
}

/// `(SPECSYS, VELREF without the radio offset)` for a casacore frame name
/// (`FITSSpectralUtil::specsysFromFrame` / `tagFromFrame`).
fn specsys_velref(frame: &str) -> (&'static str, i64) {
    match frame {
        "LSRK" => ("LSRK", 1),
        "BARY" => ("BARYCENT", 2),
        "TOPO" => ("TOPOCENT", 3),
        "LSRD" => ("LSRD", 4),
        "GEO" => ("GEOCENTR", 5),
        "REST" => ("SOURCE", 6),
        "GALACTO" => ("GALACTOC", 7),
        "LGROUP" => ("LOCALGRP", 3),
        "CMB" => ("CMBDIPOL", 3),
        _ => ("", 3),
    }
}

/// A cfitsio file handle with error mapping. Closed on drop.
struct RawFits {
    ptr: *mut fs::fitsfile,
    path: PathBuf,
}

fn cstr(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).expect("NUL removed")
}

impl RawFits {
    fn check(&self, status: c_int, what: &str) -> Result<(), ImageIoError> {
        if status == 0 {
            return Ok(());
        }
        let mut buf = [0 as c_char; 81];
        // SAFETY: ffgerr writes at most 31 characters plus NUL into the buffer.
        unsafe { fs::ffgerr(status, buf.as_mut_ptr()) };
        // SAFETY: NUL-terminated by ffgerr (buffer zero-initialised).
        let message = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        Err(ImageIoError::Fits {
            path: self.path.clone(),
            what: what.to_string(),
            status,
            message,
        })
    }

    fn create(path: &Path) -> Result<Self, ImageIoError> {
        // SAFETY: valid C string and out-pointers.
        Self::open_with(path, "creating file", |ptr, c, status| unsafe {
            fs::ffinit(ptr, c, status);
        })
    }

    /// Open an existing FITS file for reading and writing.
    fn open_rw(path: &Path) -> Result<Self, ImageIoError> {
        // SAFETY: valid C string and out-pointers; 1 = READWRITE.
        Self::open_with(path, "opening file", |ptr, c, status| unsafe {
            fs::ffopen(ptr, c, 1, status);
        })
    }

    /// Run a cfitsio open/create call `open(&mut ptr, path, &mut status)` on `path`.
    fn open_with(
        path: &Path,
        what: &str,
        open: impl FnOnce(&mut *mut fs::fitsfile, *const c_char, &mut c_int),
    ) -> Result<Self, ImageIoError> {
        let s = path.to_str().ok_or_else(|| ImageIoError::Unwritable {
            path: path.to_path_buf(),
            source: std::io::Error::other("path is not valid UTF-8"),
        })?;
        let c = cstr(s);
        let mut ptr = std::ptr::null_mut();
        let mut status = 0;
        open(&mut ptr, c.as_ptr(), &mut status);
        let mut raw = RawFits {
            ptr,
            path: path.to_path_buf(),
        };
        if status != 0 {
            raw.ptr = std::ptr::null_mut();
            raw.check(status, what)?;
        }
        Ok(raw)
    }

    fn flush(&mut self) -> Result<(), ImageIoError> {
        let mut status = 0;
        // SAFETY: open file.
        unsafe { fs::ffflus(self.ptr, &mut status) };
        self.check(status, "flushing")
    }

    fn key_f64(&mut self, name: &str, v: f64, comment: &str) -> Result<(), ImageIoError> {
        let mut status = 0;
        // SAFETY: open file, valid C strings.
        unsafe {
            fs::ffukyd(
                self.ptr,
                cstr(name).as_ptr(),
                v,
                DECIMALS,
                cstr(comment).as_ptr(),
                &mut status,
            )
        };
        self.check(status, &format!("writing {name}"))
    }

    fn key_str(&mut self, name: &str, v: &str, comment: &str) -> Result<(), ImageIoError> {
        let mut status = 0;
        // SAFETY: open file, valid C strings.
        unsafe {
            fs::ffukys(
                self.ptr,
                cstr(name).as_ptr(),
                cstr(v).as_ptr(),
                cstr(comment).as_ptr(),
                &mut status,
            )
        };
        self.check(status, &format!("writing {name}"))
    }

    fn key_bool(&mut self, name: &str, v: bool, comment: &str) -> Result<(), ImageIoError> {
        let mut status = 0;
        // SAFETY: open file, valid C strings.
        unsafe {
            fs::ffukyl(
                self.ptr,
                cstr(name).as_ptr(),
                c_int::from(v),
                cstr(comment).as_ptr(),
                &mut status,
            )
        };
        self.check(status, &format!("writing {name}"))
    }

    fn key_int(&mut self, name: &str, v: i64, comment: &str) -> Result<(), ImageIoError> {
        let mut status = 0;
        // SAFETY: open file, valid C strings.
        unsafe {
            fs::ffukyj(
                self.ptr,
                cstr(name).as_ptr(),
                v,
                cstr(comment).as_ptr(),
                &mut status,
            )
        };
        self.check(status, &format!("writing {name}"))
    }

    fn comment(&mut self, text: &str) -> Result<(), ImageIoError> {
        let mut status = 0;
        // SAFETY: open file, valid C string.
        unsafe { fs::ffpcom(self.ptr, cstr(text).as_ptr(), &mut status) };
        self.check(status, "writing COMMENT")
    }

    fn close(mut self) -> Result<(), ImageIoError> {
        let mut status = 0;
        // SAFETY: open file, closed once; Drop sees a null pointer afterwards.
        unsafe { fs::ffclos(self.ptr, &mut status) };
        self.ptr = std::ptr::null_mut();
        self.check(status, "closing")
    }
}

impl Drop for RawFits {
    fn drop(&mut self) {
        if !self.ptr.is_null() {
            let mut status = 0;
            // SAFETY: open file, closed once.
            unsafe { fs::ffclos(self.ptr, &mut status) };
        }
    }
}

/// Writes a FITS image plane by plane (see the module docs for the layout).
pub struct FitsWriter {
    raw: RawFits,
    path: PathBuf,
    partial: PathBuf,
    meta: ImageMeta,
    overwrite: bool,
}

// SAFETY: the cfitsio handle is owned exclusively and used only through `&mut self`; cfitsio
// handles are not tied to the creating thread.
unsafe impl Send for FitsWriter {}

fn stokes_axis(meta: &ImageMeta) -> Result<(f64, f64), ImageIoError> {
    let codes: Vec<i32> = meta
        .coords
        .stokes
        .iter()
        .map(|p| fits_stokes_code(*p))
        .collect();
    let step = if codes.len() > 1 {
        codes[1] - codes[0]
    } else {
        1
    };
    if step == 0 || codes.windows(2).any(|w| w[1] - w[0] != step) {
        return Err(ImageIoError::InvalidMeta {
            field: "stokes".into(),
            why: format!("Stokes codes {codes:?} are not evenly spaced, so no FITS STOKES axis can describe them"),
        });
    }
    Ok((codes[0] as f64, step as f64))
}

impl FitsWriter {
    /// Create the FITS file for `meta` (primary header written now; pixels start at zero).
    /// Errors as [`crate::CasaImageWriter::create`]; an existing `path` is only replaced by
    /// [`finish`](Self::finish), and only with `overwrite`.
    pub fn create(
        path: impl AsRef<Path>,
        meta: &ImageMeta,
        overwrite: bool,
    ) -> Result<Self, ImageIoError> {
        let path = path.as_ref().to_path_buf();
        meta.validate()?;
        let (stokes_crval, stokes_cdelt) = stokes_axis(meta)?;
        match std::fs::symlink_metadata(&path) {
            Ok(md) if md.is_dir() => {
                return Err(ImageIoError::Io {
                    path,
                    source: std::io::Error::other(
                        "is a directory; refusing to replace it with a FITS file",
                    ),
                })
            }
            Ok(_) if !overwrite => return Err(ImageIoError::AlreadyExists { path }),
            _ => {}
        }
        let partial = partial_path(&path);
        match std::fs::remove_file(&partial) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(ImageIoError::Unwritable {
                    path: partial,
                    source,
                })
            }
        }
        // Probe writability so the error names the path and the OS reason.
        std::fs::File::create(&partial)
            .and_then(|_| std::fs::remove_file(&partial))
            .map_err(|source| ImageIoError::Unwritable {
                path: path.clone(),
                source,
            })?;
        let mut raw = RawFits::create(&partial)?;
        let c = &meta.coords;
        let mut naxes: [c_long; 4] = [
            c.nx as c_long,
            c.ny as c_long,
            c.spectral.nchan as c_long,
            c.stokes.len() as c_long,
        ];
        let mut status = 0;
        // SAFETY: open file, 4-element axis array.
        unsafe { fs::ffcrim(raw.ptr, FLOAT_IMG, 4, naxes.as_mut_ptr(), &mut status) };
        raw.check(status, "creating primary image")?;

        raw.key_f64("BSCALE", 1.0, "PHYSICAL = PIXEL*BSCALE + BZERO")?;
        raw.key_f64("BZERO", 0.0, "")?;
        if let Beams::Single(b) = &meta.beams {
            raw.key_f64("BMAJ", b.major_rad.to_degrees(), "")?;
            raw.key_f64("BMIN", b.minor_rad.to_degrees(), "")?;
            raw.key_f64("BPA", b.pa_rad.to_degrees(), "")?;
        }
        raw.key_str("BTYPE", &meta.image_type, "")?;
        raw.key_str("OBJECT", &meta.object_name, "")?;
        raw.key_str("BUNIT", &meta.units, "Brightness (pixel) unit")?;
        match c.reference.frame {
            DirectionFrame::J2000 => {
                raw.key_f64("EQUINOX", 2000.0, "")?;
                raw.key_str("RADESYS", "FK5", "")?;
            }
            DirectionFrame::Icrs => raw.key_str("RADESYS", "ICRS", "")?,
        }
        raw.key_f64("LONPOLE", 180.0, "")?;
        raw.key_f64("LATPOLE", c.reference.dec_rad.to_degrees(), "")?;
        for j in 1..=4 {
            for i in 1..=4 {
                raw.key_f64(&format!("PC{i}_{j}"), if i == j { 1.0 } else { 0.0 }, "")?;
            }
        }
        let sp = &c.spectral;
        let axes: [(&str, f64, f64, f64, &str); 4] = [
            (
                "RA---SIN",
                c.reference.ra_rad.to_degrees(),
                c.cdelt_rad[0].to_degrees(),
                c.crpix[0] + 1.0,
                "deg",
            ),
            (
                "DEC--SIN",
                c.reference.dec_rad.to_degrees(),
                c.cdelt_rad[1].to_degrees(),
                c.crpix[1] + 1.0,
                "deg",
            ),
            ("FREQ", sp.crval_hz, sp.cdelt_hz, sp.crpix + 1.0, "Hz"),
            ("STOKES", stokes_crval, stokes_cdelt, 1.0, ""),
        ];
        for (k, (ctype, crval, cdelt, crpix, cunit)) in axes.iter().enumerate() {
            let n = k + 1;
            raw.key_str(&format!("CTYPE{n}"), ctype, "")?;
            raw.key_f64(&format!("CRVAL{n}"), *crval, "")?;
            raw.key_f64(&format!("CDELT{n}"), *cdelt, "")?;
            raw.key_f64(&format!("CRPIX{n}"), *crpix, "")?;
            raw.key_str(&format!("CUNIT{n}"), cunit, "")?;
        }
        raw.key_f64("PV2_1", 0.0, "")?;
        raw.key_f64("PV2_2", 0.0, "")?;
        let (specsys, velref) = specsys_velref(&sp.frame);
        if sp.restfreq_hz > 0.0 {
            raw.key_f64("RESTFRQ", sp.restfreq_hz, "Rest Frequency (Hz)")?;
            raw.key_str("SPECSYS", specsys, "Spectral reference frame")?;
            // Radio velocity of the reference channel (FITSSpectralUtil::toFITSHeader).
            let altrval = -SPEED_OF_LIGHT * (sp.crval_hz / sp.restfreq_hz - 1.0);
            raw.key_f64("ALTRVAL", altrval, "Alternate frequency reference value")?;
            raw.key_f64(
                "ALTRPIX",
                sp.crpix + 1.0,
                "Alternate frequency reference pixel",
            )?;
            raw.key_int("VELREF", velref + 256, "1 LSR, 2 HEL, 3 OBS, +256 Radio")?;
            raw.comment("casacore non-standard usage: 4 LSD, 5 GEO, 6 SOU, 7 GAL")?;
        } else {
            raw.key_str("SPECSYS", specsys, "Spectral reference frame")?;
        }
        raw.key_str("TELESCOP", &c.telescope, "")?;
        raw.key_str("OBSERVER", &c.observer, "")?;
        raw.key_str("DATE-OBS", &mjd_to_iso(c.obsdate_mjd_utc_days), "")?;
        raw.key_str("TIMESYS", "UTC", "")?;
        raw.key_f64("OBSRA", c.reference.ra_rad.to_degrees(), "")?;
        raw.key_f64("OBSDEC", c.reference.dec_rad.to_degrees(), "")?;
        if let Some(p) = c.telescope_position_itrf_m {
            raw.key_f64("OBSGEO-X", p[0], "")?;
            raw.key_f64("OBSGEO-Y", p[1], "")?;
            raw.key_f64("OBSGEO-Z", p[2], "")?;
        }
        for (k, v) in &meta.misc {
            let k = k.to_ascii_uppercase();
            match v {
                MiscValue::Bool(b) => raw.key_bool(&k, *b, "")?,
                MiscValue::Int(i) => raw.key_int(&k, *i, "")?,
                MiscValue::Float(x) => raw.key_f64(&k, *x, "")?,
                MiscValue::Str(s) => raw.key_str(&k, s, "")?,
            }
        }
        let now = mjd_to_iso(now_mjd());
        raw.key_str("DATE", &now, "Date FITS file was written")?;
        raw.key_str("ORIGIN", concat!("pclean ", env!("CARGO_PKG_VERSION")), "")?;
        if matches!(meta.beams, Beams::PerPlane { .. }) {
            raw.key_bool("CASAMBM", true, "CASA multiple BEAMS table present")?;
        }
        Ok(FitsWriter {
            raw,
            path,
            partial,
            meta: meta.clone(),
            overwrite,
        })
    }

    /// Reopen the unfinished file of an interrupted writer of `path` (its `.pclean_partial`) to
    /// write the remaining planes; `meta` must describe the same image (it is what the interrupted
    /// writer was created with). Error [`ImageIoError::NotAnImage`] when there is no such file.
    pub fn reopen(
        path: impl AsRef<Path>,
        meta: &ImageMeta,
        overwrite: bool,
    ) -> Result<Self, ImageIoError> {
        let path = path.as_ref().to_path_buf();
        meta.validate()?;
        let partial = partial_path(&path);
        if !partial.is_file() {
            return Err(ImageIoError::NotAnImage {
                path: partial,
                why: "no unfinished FITS file to resume".into(),
            });
        }
        let raw = RawFits::open_rw(&partial)?;
        Ok(FitsWriter {
            raw,
            path,
            partial,
            meta: meta.clone(),
            overwrite,
        })
    }

    /// Write everything buffered so far to the file (the planes written survive a crash of this
    /// process after this; fsync the file of [`file_path`](Self::file_path) for power loss).
    pub fn flush(&mut self) -> Result<(), ImageIoError> {
        self.raw.flush()
    }

    /// The file being written (the `.pclean_partial` until [`finish`](Self::finish)).
    pub fn file_path(&self) -> &Path {
        &self.partial
    }

    /// Read back plane `(chan, stokes)` as `plane_yx[[y, x]]`.
    pub fn get_plane(&mut self, chan: usize, stokes: usize) -> Result<Array2<f32>, ImageIoError> {
        let c = &self.meta.coords;
        let (nx, ny) = (c.nx, c.ny);
        self.check_plane(chan, stokes, [ny, nx])?;
        let c = &self.meta.coords;
        let npix = (nx * ny) as i64;
        let first = 1 + (chan + c.spectral.nchan * stokes) as i64 * npix;
        let mut out = Array2::<f32>::zeros((ny, nx));
        let mut nul: f32 = 0.0;
        let mut anynul: c_int = 0;
        let mut status = 0;
        // SAFETY: open file; `out` holds exactly nx*ny floats, filled in FITS (x fastest) order.
        unsafe {
            fs::ffgpv(
                self.raw.ptr,
                TFLOAT,
                first,
                npix,
                &mut nul as *mut f32 as *mut c_void,
                out.as_mut_ptr() as *mut c_void,
                &mut anynul,
                &mut status,
            )
        };
        self.raw.check(
            status,
            &format!("reading plane chan {chan} stokes {stokes}"),
        )?;
        Ok(out)
    }

    fn check_plane(&self, chan: usize, stokes: usize, got: [usize; 2]) -> Result<(), ImageIoError> {
        let c = &self.meta.coords;
        let [ny, nx] = got;
        if chan >= c.spectral.nchan || stokes >= c.stokes.len() || nx != c.nx || ny != c.ny {
            return Err(ImageIoError::PlaneOutOfRange {
                path: self.path.clone(),
                chan,
                stokes,
                got,
                nx: c.nx,
                ny: c.ny,
                nstokes: c.stokes.len(),
                nchan: c.spectral.nchan,
            });
        }
        Ok(())
    }

    /// Write plane `(chan, stokes)` from `plane_yx[[y, x]]` (shape `[ny, nx]`).
    pub fn put_plane(
        &mut self,
        chan: usize,
        stokes: usize,
        plane_yx: ArrayView2<f32>,
    ) -> Result<(), ImageIoError> {
        let (ny, nx) = plane_yx.dim();
        self.check_plane(chan, stokes, [ny, nx])?;
        let c = &self.meta.coords;
        let plane = plane_yx.as_standard_layout();
        let npix = (nx * ny) as i64;
        // The plane is contiguous in the file: axes [x, y, freq, stokes], x fastest.
        let first = 1 + (chan + c.spectral.nchan * stokes) as i64 * npix;
        let mut status = 0;
        // SAFETY: open file; the buffer holds exactly nx*ny floats in FITS (x fastest) order and
        // cfitsio only reads it.
        unsafe {
            fs::ffppr(
                self.raw.ptr,
                TFLOAT,
                first,
                npix,
                plane.as_ptr() as *mut c_void,
                &mut status,
            )
        };
        self.raw.check(
            status,
            &format!("writing plane chan {chan} stokes {stokes}"),
        )
    }

    /// Replace the beams (written by [`finish`](Self::finish); single-beam cards are updated now).
    pub fn set_beams(&mut self, beams: &Beams) -> Result<(), ImageIoError> {
        beams.validate(
            self.meta.coords.spectral.nchan,
            self.meta.coords.stokes.len(),
        )?;
        match beams {
            Beams::Single(b) => {
                self.raw.key_f64("BMAJ", b.major_rad.to_degrees(), "")?;
                self.raw.key_f64("BMIN", b.minor_rad.to_degrees(), "")?;
                self.raw.key_f64("BPA", b.pa_rad.to_degrees(), "")?;
            }
            Beams::PerPlane { .. } => {
                self.raw
                    .key_bool("CASAMBM", true, "CASA multiple BEAMS table present")?
            }
            Beams::None => {}
        }
        self.meta.beams = beams.clone();
        Ok(())
    }

    /// Write the `BEAMS` table (per-plane beams), close, and move the file onto its final path.
    pub fn finish(mut self) -> Result<(), ImageIoError> {
        if let Beams::PerPlane {
            nchan,
            nstokes,
            beams,
        } = &self.meta.beams
        {
            write_beams_table(&mut self.raw, *nchan, *nstokes, beams)?;
        }
        let FitsWriter {
            raw,
            path,
            partial,
            overwrite,
            ..
        } = self;
        raw.close()?;
        if !overwrite && path.exists() {
            return Err(ImageIoError::AlreadyExists { path });
        }
        std::fs::rename(&partial, &path).map_err(|source| ImageIoError::Io { path, source })
    }
}

/// The file an unfinished writer of `path` writes to.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".pclean_partial");
    PathBuf::from(partial)
}

fn write_beams_table(
    raw: &mut RawFits,
    nchan: usize,
    nstokes: usize,
    beams: &[pclean_core::Beam],
) -> Result<(), ImageIoError> {
    let names = ["BMAJ", "BMIN", "BPA", "CHAN", "POL"].map(cstr);
    let forms = ["1E", "1E", "1E", "1J", "1J"].map(cstr);
    let units = ["arcsec", "arcsec", "deg", "", ""].map(cstr);
    let mut p_names: Vec<*mut c_char> = names.iter().map(|s| s.as_ptr() as *mut c_char).collect();
    let mut p_forms: Vec<*mut c_char> = forms.iter().map(|s| s.as_ptr() as *mut c_char).collect();
    let mut p_units: Vec<*mut c_char> = units.iter().map(|s| s.as_ptr() as *mut c_char).collect();
    let nrow = beams.len();
    let ext = cstr("BEAMS");
    let mut status = 0;
    // SAFETY: open file; 5 column descriptions whose strings outlive the call (cfitsio only reads).
    unsafe {
        fs::ffcrtb(
            raw.ptr,
            BINARY_TBL,
            nrow as i64,
            5,
            p_names.as_mut_ptr(),
            p_forms.as_mut_ptr(),
            p_units.as_mut_ptr(),
            ext.as_ptr(),
            &mut status,
        )
    };
    raw.check(status, "creating BEAMS table")?;
    raw.key_int("EXTVER", 1, "")?;
    raw.key_int("NCHAN", nchan as i64, "")?;
    raw.key_int("NPOL", nstokes as i64, "")?;
    let mut bmaj = Vec::with_capacity(nrow);
    let mut bmin = Vec::with_capacity(nrow);
    let mut bpa = Vec::with_capacity(nrow);
    let mut chan = Vec::with_capacity(nrow);
    let mut pol = Vec::with_capacity(nrow);
    for (i, b) in beams.iter().enumerate() {
        bmaj.push((b.major_rad.to_degrees() * 3600.0) as f32);
        bmin.push((b.minor_rad.to_degrees() * 3600.0) as f32);
        bpa.push(b.pa_rad.to_degrees() as f32);
        chan.push((i % nchan) as c_int);
        pol.push((i / nchan) as c_int);
    }
    let put = |col: c_int, dtype: c_int, ptr: *mut c_void| {
        let mut status = 0;
        // SAFETY: open file; `ptr` holds `nrow` values of `dtype`.
        unsafe { fs::ffpcl(raw.ptr, dtype, col, 1, 1, nrow as i64, ptr, &mut status) };
        raw.check(status, "writing BEAMS table")
    };
    put(1, TFLOAT, bmaj.as_mut_ptr() as *mut c_void)?;
    put(2, TFLOAT, bmin.as_mut_ptr() as *mut c_void)?;
    put(3, TFLOAT, bpa.as_mut_ptr() as *mut c_void)?;
    put(4, TINT, chan.as_mut_ptr() as *mut c_void)?;
    put(5, TINT, pol.as_mut_ptr() as *mut c_void)?;
    Ok(())
}

/// Write a whole FITS image, asking `plane(chan, stokes)` for each plane (`plane_yx[[y, x]]`) in
/// turn, so only one plane is in memory at a time.
pub fn write_fits(
    path: impl AsRef<Path>,
    meta: &ImageMeta,
    mut plane: impl FnMut(usize, usize) -> Result<Array2<f32>, ImageIoError>,
    overwrite: bool,
) -> Result<(), ImageIoError> {
    let mut w = FitsWriter::create(path, meta, overwrite)?;
    for s in 0..meta.coords.stokes.len() {
        for c in 0..meta.coords.spectral.nchan {
            let p = plane(c, s)?;
            w.put_plane(c, s, p.view())?;
        }
    }
    w.finish()
}

/// Convert a (complete) CASA image to FITS, plane by plane; pixels its mask marks invalid are NaN.
pub fn export_casa_to_fits(
    casa_path: impl AsRef<Path>,
    fits_path: impl AsRef<Path>,
    overwrite: bool,
) -> Result<(), ImageIoError> {
    let mut img = CasaImage::open(casa_path)?;
    let meta = img.meta().clone();
    // Masked pixels become NaN (FITS' blank for floats), as CASA's exportfits writes them.
    write_fits(
        fits_path,
        &meta,
        |c, s| {
            let mut plane = img.get_plane(c, s)?;
            if let Some(valid) = img.get_mask_plane(c, s)? {
                plane.zip_mut_with(&valid, |v, &ok| {
                    if !ok {
                        *v = f32::NAN;
                    }
                });
            }
            Ok(plane)
        },
        overwrite,
    )
}
