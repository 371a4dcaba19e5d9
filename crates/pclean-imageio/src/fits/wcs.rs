//! The primary header of a FITS image as [`ImageMeta`]: the cards CASA's `exportfits` writes
//! (see the parent module) and the common variants other tools write:
//!
//! - Axes 1 and 2 are the direction (`RA---SIN`/`DEC--SIN`, `GLON`/`GLAT`, `ELON`/`ELAT`,
//!   `SLON`/`SLAT`), SIN only (`PV2_1 = PV2_2 = 0`), no rotation (`PCi_j`/`CDi_j` diagonal,
//!   `CROTA2 = 0`). Increments from `CDELTi` (times `PCi_i`) or `CDi_i`; `CUNITi` deg (default),
//!   rad, arcmin, arcsec.
//! - The other axes in any order: a spectral axis (`FREQ` in Hz/kHz/MHz/GHz; `VRAD`, radio
//!   velocity, linear in frequency; `VOPT` or AIPS' `FELO-xxx`, optical velocity, becomes a
//!   tabular frequency axis; velocities need `RESTFRQ`/`RESTFREQ`), a `STOKES` axis (AIPS codes),
//!   and any other axis of length 1. A missing spectral axis is one channel (with no frequency,
//!   0 Hz); a missing Stokes axis is I.
//! - Frames: `RADESYS` (FK5, FK4, ICRS) and `EQUINOX` (or `EPOCH`); neither: J2000 (as casacore).
//!   `SPECSYS`, else `VELREF` (modulo 256), else the `FELO-xxx` suffix; none: LSRK.
//! - `BUNIT`, `BTYPE`, `OBJECT`, `TELESCOP`, `OBSERVER`, `DATE-OBS`, `OBSGEO-X/Y/Z`; the beam
//!   from `BMAJ/BMIN/BPA` (degrees) or, with `CASAMBM = T`, the `BEAMS` table (read by the
//!   caller).
//!
//! Anything else is refused with an error naming the file, the card and what is wrong.

use super::raw::RawFits;
use crate::error::ImageIoError;
use crate::meta::{Beams, ImageCoords, ImageMeta, SpectralAxis};
use crate::time::iso_to_mjd;
use pclean_core::{Beam, Correlation, Direction, DirectionFrame, StokesParam, SPEED_OF_LIGHT};
use std::path::Path;

/// The layout of a FITS image's pixels: how far apart (in pixels) consecutive channels and
/// Stokes planes are.
#[derive(Debug, Clone, Copy)]
pub(super) struct Layout {
    pub chan_stride: i64,
    pub stokes_stride: i64,
}

/// The header cards of the current HDU, read on demand, with errors naming the file and card.
pub(super) struct Cards<'a> {
    pub raw: &'a mut RawFits,
    pub path: &'a Path,
}

impl Cards<'_> {
    pub fn bad(&self, keyword: &str, why: impl Into<String>) -> ImageIoError {
        ImageIoError::FitsHeader {
            path: self.path.to_path_buf(),
            keyword: keyword.to_string(),
            why: why.into(),
        }
    }

    pub fn text(&mut self, name: &str) -> Result<Option<String>, ImageIoError> {
        self.raw.read_card(name)
    }

    /// A finite number (FITS allows a `D` exponent).
    pub fn num(&mut self, name: &str) -> Result<Option<f64>, ImageIoError> {
        let Some(t) = self.text(name)? else {
            return Ok(None);
        };
        match t.replace(['D', 'd'], "E").trim().parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(self.bad(name, format!("value '{t}' is not a finite number"))),
        }
    }

    pub fn num_or(&mut self, name: &str, default: f64) -> Result<f64, ImageIoError> {
        Ok(self.num(name)?.unwrap_or(default))
    }

    pub fn flag(&mut self, name: &str) -> Result<bool, ImageIoError> {
        Ok(matches!(
            self.text(name)?.as_deref().map(str::trim),
            Some("T")
        ))
    }

    fn string_or(&mut self, name: &str, default: &str) -> Result<String, ImageIoError> {
        Ok(self.text(name)?.unwrap_or_else(|| default.to_string()))
    }
}

/// One axis' `CTYPE`, `CRVAL`, `CDELT`, `CRPIX` (1-based) and `CUNIT`.
struct Axis {
    n: usize,
    len: usize,
    ctype: String,
    crval: f64,
    cdelt: f64,
    crpix: f64,
    cunit: String,
}

fn read_axis(cards: &mut Cards, n: usize, len: usize) -> Result<Axis, ImageIoError> {
    let ctype = cards
        .text(&format!("CTYPE{n}"))?
        .unwrap_or_default()
        .to_ascii_uppercase();
    let crval = cards.num_or(&format!("CRVAL{n}"), 0.0)?;
    let mut cdelt = cards.num_or(&format!("CDELT{n}"), 1.0)?;
    if let Some(cd) = cards.num(&format!("CD{n}_{n}"))? {
        cdelt = cd;
    } else {
        cdelt *= cards.num_or(&format!("PC{n}_{n}"), 1.0)?;
    }
    let crpix = cards.num_or(&format!("CRPIX{n}"), 1.0)?;
    let cunit = cards.text(&format!("CUNIT{n}"))?.unwrap_or_default();
    Ok(Axis {
        n,
        len,
        ctype,
        crval,
        cdelt,
        crpix,
        cunit: cunit.trim().to_string(),
    })
}

/// Radians per `unit` of a direction axis (`CUNITn`; empty = degrees).
fn angle_unit(cards: &Cards, axis: &Axis) -> Result<f64, ImageIoError> {
    let deg = std::f64::consts::PI / 180.0;
    match axis.cunit.to_ascii_lowercase().as_str() {
        "" | "deg" | "degree" | "degrees" => Ok(deg),
        "rad" => Ok(1.0),
        "arcmin" => Ok(deg / 60.0),
        "arcsec" => Ok(deg / 3600.0),
        u => Err(cards.bad(
            &format!("CUNIT{}", axis.n),
            format!("unit '{u}' of a direction axis is not deg, rad, arcmin or arcsec"),
        )),
    }
}

/// The direction frame of longitude/latitude stems `stem` (`RA`, `GLON`, ...) from `RADESYS`
/// and `EQUINOX`/`EPOCH`.
fn direction_frame(cards: &mut Cards, stem: &str) -> Result<DirectionFrame, ImageIoError> {
    match stem {
        "GLON" => return Ok(DirectionFrame::Galactic),
        "ELON" => return Ok(DirectionFrame::Ecliptic),
        "SLON" => return Ok(DirectionFrame::Supergal),
        _ => {}
    }
    let equinox = match cards.num("EQUINOX")? {
        Some(e) => Some(e),
        None => cards.num("EPOCH")?,
    };
    let radesys = cards
        .text("RADESYS")?
        .or(cards.text("RADECSYS")?)
        .map(|s| s.trim().to_ascii_uppercase());
    let eq = |v: f64| equinox.is_none_or(|e| (e - v).abs() < 1e-6);
    match radesys.as_deref() {
        Some("ICRS") => Ok(DirectionFrame::Icrs),
        Some("FK5") | None if eq(2000.0) => Ok(DirectionFrame::J2000),
        Some("FK4") | None if eq(1950.0) => Ok(DirectionFrame::B1950),
        Some("FK4") if eq(1979.9) => Ok(DirectionFrame::B1950Vla),
        Some(r) if !matches!(r, "FK5" | "FK4") => Err(cards.bad(
            "RADESYS",
            format!("'{r}' is not supported (FK5, FK4 or ICRS)"),
        )),
        _ => Err(cards.bad(
            "EQUINOX",
            format!(
                "{} is not supported (2000 for FK5, 1950 or 1979.9 for FK4)",
                equinox.unwrap_or(f64::NAN)
            ),
        )),
    }
}

/// Axes 1 and 2 as the image's direction: reference, 0-based reference pixel, increments.
fn direction(
    cards: &mut Cards,
    lon: &Axis,
    lat: &Axis,
) -> Result<(Direction, [f64; 2], [f64; 2]), ImageIoError> {
    let split = |ct: &str| -> (String, String) {
        let stem = ct.get(..4).unwrap_or(ct).trim_end_matches('-').to_string();
        let proj = ct.get(5..).unwrap_or("").trim().to_string();
        (stem, proj)
    };
    let (lon_stem, lon_proj) = split(&lon.ctype);
    let (lat_stem, lat_proj) = split(&lat.ctype);
    let pair = match lon_stem.as_str() {
        "RA" => "DEC",
        "GLON" => "GLAT",
        "ELON" => "ELAT",
        "SLON" => "SLAT",
        _ => {
            let why = if matches!(lon_stem.as_str(), "DEC" | "GLAT" | "ELAT" | "SLAT") {
                "is a latitude: the image's axes are transposed (axis 1 must be the longitude, \
                 axis 2 the latitude, as exportfits writes them)"
                    .to_string()
            } else {
                "is not a sky longitude (RA---SIN, GLON-SIN, ELON-SIN or SLON-SIN) as axis 1 \
                 must be"
                    .to_string()
            };
            return Err(cards.bad("CTYPE1", format!("'{}' {why}", lon.ctype)));
        }
    };
    if lat_stem != pair {
        return Err(cards.bad(
            "CTYPE2",
            format!(
                "'{}' is not the latitude ({pair}) paired with '{}'",
                lat.ctype, lon.ctype
            ),
        ));
    }
    for (axis, proj) in [(lon, &lon_proj), (lat, &lat_proj)] {
        if proj != "SIN" {
            return Err(cards.bad(
                &format!("CTYPE{}", axis.n),
                format!(
                    "projection '{proj}' of '{}' is not supported: pclean reads SIN images \
                     (what tclean writes); regrid it with imregrid first",
                    axis.ctype
                ),
            ));
        }
    }
    for k in ["PV2_1", "PV2_2"] {
        if cards.num_or(k, 0.0)? != 0.0 {
            return Err(cards.bad(k, "a slant (NCP-like) SIN projection is not supported"));
        }
    }
    let rot_cards = ["PC1_2", "PC2_1", "CD1_2", "CD2_1", "CROTA1", "CROTA2"];
    for k in rot_cards {
        if cards.num_or(k, 0.0)? != 0.0 {
            return Err(cards.bad(k, "a rotated sky grid is not supported (it must be 0)"));
        }
    }
    if let Some(lp) = cards.num("LONPOLE")? {
        if lp != 180.0 {
            return Err(cards.bad("LONPOLE", format!("{lp} is not supported (180 only)")));
        }
    }
    let frame = direction_frame(cards, &lon_stem)?;
    let (ulon, ulat) = (angle_unit(cards, lon)?, angle_unit(cards, lat)?);
    let dec = lat.crval * ulat;
    if dec.abs() > std::f64::consts::FRAC_PI_2 + 1e-12 {
        return Err(cards.bad(
            "CRVAL2",
            format!("latitude {} is beyond the poles", lat.crval),
        ));
    }
    let reference = Direction {
        frame,
        ra_rad: (lon.crval * ulon).rem_euclid(2.0 * std::f64::consts::PI),
        dec_rad: dec.clamp(-std::f64::consts::FRAC_PI_2, std::f64::consts::FRAC_PI_2),
    };
    for axis in [lon, lat] {
        if axis.cdelt == 0.0 {
            return Err(cards.bad(&format!("CDELT{}", axis.n), "the increment is 0"));
        }
    }
    Ok((
        reference,
        [lon.crpix - 1.0, lat.crpix - 1.0],
        [lon.cdelt * ulon, lat.cdelt * ulat],
    ))
}

/// casacore frame name of a FITS `SPECSYS` value, or of `VELREF` (modulo 256).
fn spectral_frame(cards: &mut Cards, ctype: &str) -> Result<String, ImageIoError> {
    if let Some(s) = cards.text("SPECSYS")? {
        let s = s.trim().to_ascii_uppercase();
        let frame = match s.as_str() {
            "LSRK" => "LSRK",
            "BARYCENT" | "HELIOCEN" => "BARY",
            "TOPOCENT" => "TOPO",
            "LSRD" => "LSRD",
            "GEOCENTR" => "GEO",
            "SOURCE" => "REST",
            "GALACTOC" => "GALACTO",
            "LOCALGRP" => "LGROUP",
            "CMBDIPOL" => "CMB",
            _ => {
                return Err(cards.bad(
                    "SPECSYS",
                    format!("'{s}' is not a spectral frame pclean knows (LSRK, BARYCENT, ...)"),
                ))
            }
        };
        return Ok(frame.into());
    }
    if let Some(v) = cards.num("VELREF")? {
        let frame = match (v as i64).rem_euclid(256) {
            1 => "LSRK",
            2 => "BARY",
            3 => "TOPO",
            4 => "LSRD",
            5 => "GEO",
            6 => "REST",
            7 => "GALACTO",
            k => return Err(cards.bad("VELREF", format!("{v} (frame code {k}) is not known"))),
        };
        return Ok(frame.into());
    }
    Ok(match ctype.get(5..) {
        Some("HEL") | Some("BAR") => "BARY",
        Some("OBS") => "TOPO",
        _ => "LSRK",
    }
    .into())
}

/// The spectral axis (`None`: no spectral axis in the file).
fn spectral(cards: &mut Cards, axis: Option<&Axis>) -> Result<SpectralAxis, ImageIoError> {
    let restfreq = match cards.num("RESTFRQ")? {
        Some(r) => r,
        None => cards.num_or("RESTFREQ", 0.0)?,
    };
    let Some(a) = axis else {
        return Ok(SpectralAxis {
            frame: "LSRK".into(),
            crval_hz: 0.0,
            cdelt_hz: 0.0,
            crpix: 0.0,
            restfreq_hz: restfreq,
            nchan: 1,
            chan_freqs_hz: None,
        });
    };
    let frame = spectral_frame(cards, &a.ctype)?;
    let key = format!("CUNIT{}", a.n);
    let stem = a.ctype.get(..4).unwrap_or(&a.ctype);
    let velocity = stem != "FREQ";
    let unit = match (velocity, a.cunit.as_str()) {
        (false, "" | "Hz" | "HZ") => 1.0,
        (false, "kHz") => 1e3,
        (false, "MHz") => 1e6,
        (false, "GHz") => 1e9,
        (true, "" | "m/s") => 1.0,
        (true, "km/s") => 1e3,
        (_, u) => return Err(cards.bad(&key, format!("unit '{u}' of '{}' is not known", a.ctype))),
    };
    if a.ctype != "FREQ" && !matches!(stem, "VRAD" | "VOPT" | "FELO") {
        return Err(cards.bad(
            &format!("CTYPE{}", a.n),
            format!(
                "spectral axis '{}' is not supported (FREQ, VRAD, VOPT or FELO-xxx)",
                a.ctype
            ),
        ));
    }
    if a.ctype.len() > 4 && stem != "FELO" {
        return Err(cards.bad(
            &format!("CTYPE{}", a.n),
            format!("non-linear spectral axis '{}' is not supported", a.ctype),
        ));
    }
    if velocity && restfreq <= 0.0 {
        return Err(cards.bad(
            "RESTFRQ",
            format!(
                "a velocity axis ('{}') needs a positive rest frequency",
                a.ctype
            ),
        ));
    }
    let world = |k: usize| a.crval * unit + (k as f64 + 1.0 - a.crpix) * a.cdelt * unit;
    let c = SPEED_OF_LIGHT;
    let freq = |k: usize| match stem {
        "FREQ" => world(k),
        "VRAD" => restfreq * (1.0 - world(k) / c),
        _ => restfreq / (1.0 + world(k) / c),
    };
    let freqs: Vec<f64> = (0..a.len).map(freq).collect();
    if freqs.iter().any(|f| !f.is_finite() || *f <= 0.0) && a.len > 1 {
        return Err(cards.bad(
            &format!("CRVAL{}", a.n),
            format!(
                "the axis '{}' gives non-positive or infinite frequencies",
                a.ctype
            ),
        ));
    }
    let step = if a.len > 1 {
        freqs[1] - freqs[0]
    } else {
        a.cdelt * unit
    };
    let tabular = matches!(stem, "VOPT" | "FELO") && a.len > 2;
    Ok(SpectralAxis {
        frame,
        crval_hz: if tabular {
            freqs[0]
        } else {
            freq_at_crpix(a, stem, unit, restfreq)
        },
        cdelt_hz: if stem == "VRAD" {
            -restfreq * a.cdelt * unit / c
        } else {
            step
        },
        crpix: if tabular { 0.0 } else { a.crpix - 1.0 },
        restfreq_hz: restfreq,
        nchan: a.len,
        chan_freqs_hz: tabular.then_some(freqs),
    })
}

/// The frequency at the reference pixel of a linear (FREQ or VRAD) axis, or of an optical one.
fn freq_at_crpix(a: &Axis, stem: &str, unit: f64, restfreq: f64) -> f64 {
    let v = a.crval * unit;
    match stem {
        "FREQ" => v,
        "VRAD" => restfreq * (1.0 - v / SPEED_OF_LIGHT),
        _ => restfreq / (1.0 + v / SPEED_OF_LIGHT),
    }
}

/// The Stokes parameter of AIPS code `code`.
fn stokes_of(code: i64) -> Option<StokesParam> {
    use Correlation as C;
    Some(match code {
        1 => StokesParam::I,
        2 => StokesParam::Q,
        3 => StokesParam::U,
        4 => StokesParam::V,
        -1 => StokesParam::Corr(C::RR),
        -2 => StokesParam::Corr(C::LL),
        -3 => StokesParam::Corr(C::RL),
        -4 => StokesParam::Corr(C::LR),
        -5 => StokesParam::Corr(C::XX),
        -6 => StokesParam::Corr(C::YY),
        -7 => StokesParam::Corr(C::XY),
        -8 => StokesParam::Corr(C::YX),
        _ => return None,
    })
}

fn stokes(cards: &Cards, axis: Option<&Axis>) -> Result<Vec<StokesParam>, ImageIoError> {
    let Some(a) = axis else {
        return Ok(vec![StokesParam::I]);
    };
    (0..a.len)
        .map(|k| {
            let v = a.crval + (k as f64 + 1.0 - a.crpix) * a.cdelt;
            let code = v.round() as i64;
            match stokes_of(code) {
                Some(s) if (v - code as f64).abs() < 1e-6 => Ok(s),
                _ => Err(cards.bad(
                    &format!("CRVAL{}", a.n),
                    format!("STOKES plane {k} has code {v}, not one of 1..4 or -1..-8"),
                )),
            }
        })
        .collect()
}

/// The image's metadata and pixel layout from the primary header (axis lengths `naxes`); the
/// beams are `Single` or `None` here (the caller reads a `BEAMS` table when `CASAMBM = T`).
pub(super) fn read_meta(
    cards: &mut Cards,
    naxes: &[usize],
) -> Result<(ImageMeta, Layout), ImageIoError> {
    if naxes.len() < 2 {
        return Err(cards.bad(
            "NAXIS",
            format!("{} axes: an image needs at least 2", naxes.len()),
        ));
    }
    let axes: Vec<Axis> = naxes
        .iter()
        .enumerate()
        .map(|(i, &len)| read_axis(cards, i + 1, len))
        .collect::<Result<_, _>>()?;
    let (reference, crpix, cdelt_rad) = direction(cards, &axes[0], &axes[1])?;
    let (mut spec, mut pol) = (None, None);
    let mut stride = (naxes[0] * naxes[1]) as i64;
    let (mut chan_stride, mut stokes_stride) = (0, 0);
    for a in &axes[2..] {
        let stem = a.ctype.get(..4).unwrap_or(&a.ctype);
        let is_spec = matches!(
            stem,
            "FREQ" | "VRAD" | "VOPT" | "FELO" | "VELO" | "WAVE" | "ZOPT"
        );
        let is_stokes = a.ctype == "STOKES";
        if is_stokes || is_spec {
            let (slot, at) = if is_stokes {
                (&mut pol, &mut stokes_stride)
            } else {
                (&mut spec, &mut chan_stride)
            };
            if slot.is_some() {
                return Err(cards.bad(
                    &format!("CTYPE{}", a.n),
                    format!("a second '{}' axis", a.ctype),
                ));
            }
            *slot = Some(a);
            *at = stride;
        } else if a.len != 1 {
            return Err(cards.bad(
                &format!("CTYPE{}", a.n),
                format!(
                    "axis '{}' of length {} is not a spectral or STOKES axis",
                    a.ctype, a.len
                ),
            ));
        }
        stride = stride.saturating_mul(a.len as i64);
    }
    let spectral = spectral(cards, spec)?;
    let stokes = stokes(cards, pol)?;
    let position = match (
        cards.num("OBSGEO-X")?,
        cards.num("OBSGEO-Y")?,
        cards.num("OBSGEO-Z")?,
    ) {
        (Some(x), Some(y), Some(z)) => Some([x, y, z]),
        _ => None,
    };
    let obsdate = match cards.text("DATE-OBS")? {
        None => 0.0,
        Some(d) => iso_to_mjd(&d).ok_or_else(|| {
            cards.bad(
                "DATE-OBS",
                format!("'{d}' is not a date YYYY-MM-DD[Thh:mm:ss]"),
            )
        })?,
    };
    let coords = ImageCoords {
        nx: naxes[0],
        ny: naxes[1],
        reference,
        crpix,
        cdelt_rad,
        projection: "SIN".into(),
        stokes,
        spectral,
        telescope: cards.string_or("TELESCOP", "")?,
        observer: cards.string_or("OBSERVER", "")?,
        obsdate_mjd_utc_days: obsdate,
        telescope_position_itrf_m: position,
    };
    let beams = match (cards.num("BMAJ")?, cards.num("BMIN")?, cards.num("BPA")?) {
        (Some(a), Some(b), pa) => {
            let beam = Beam {
                major_rad: a.to_radians(),
                minor_rad: b.to_radians(),
                pa_rad: pa.unwrap_or(0.0).to_radians(),
            };
            if !(a > 0.0 && b > 0.0) {
                return Err(cards.bad("BMAJ", format!("beam {a} x {b} deg is not positive")));
            }
            Beams::Single(beam)
        }
        _ => Beams::None,
    };
    let meta = ImageMeta {
        coords,
        units: cards.string_or("BUNIT", "")?,
        beams,
        object_name: cards.string_or("OBJECT", "")?,
        image_type: cards.string_or("BTYPE", "Intensity")?,
        misc: Vec::new(),
    };
    Ok((
        meta,
        Layout {
            chan_stride,
            stokes_stride,
        },
    ))
}
