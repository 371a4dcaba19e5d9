//! The header cards and the `BEAMS` table of a FITS image as CASA's `exportfits` writes them (see
//! the parent module).

use super::raw::{cstr, RawFits, BINARY_TBL, FLOAT_IMG, TFLOAT, TINT};
use crate::error::ImageIoError;
use crate::meta::{Beams, ImageMeta, MiscValue};
use crate::time::{mjd_to_iso, now_mjd};
use fitsio::sys as fs;
use pclean_core::{Beam, Correlation, StokesParam, SPEED_OF_LIGHT};
use std::ffi::c_void;
use std::os::raw::{c_char, c_int, c_long};

/// FITS `STOKES` axis code of a Stokes parameter (AIPS convention: I..V = 1..4, RR, LL, RL, LR =
/// -1..-4, XX, YY, XY, YX = -5..-8).
pub fn fits_stokes_code(p: StokesParam) -> i32 {
    match p {
        StokesParam::I | StokesParam::PseudoI => 1,
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

/// `(CRVAL, CDELT)` of the STOKES axis; an error when the codes are not evenly spaced.
pub(super) fn stokes_axis(meta: &ImageMeta) -> Result<(f64, f64), ImageIoError> {
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

/// `BMAJ`, `BMIN`, `BPA` (degrees) of a single restoring beam.
pub(super) fn single_beam_cards(raw: &mut RawFits, b: &Beam) -> Result<(), ImageIoError> {
    raw.key("BMAJ", b.major_rad.to_degrees(), "")?;
    raw.key("BMIN", b.minor_rad.to_degrees(), "")?;
    raw.key("BPA", b.pa_rad.to_degrees(), "")
}

/// `CASAMBM = T`: per-plane beams in a `BEAMS` table.
pub(super) fn multi_beam_card(raw: &mut RawFits) -> Result<(), ImageIoError> {
    raw.key("CASAMBM", true, "CASA multiple BEAMS table present")
}

/// Every card of the primary header of an image described by `meta`, in CASA's order, after
/// creating the 4-D `BITPIX=-32` primary image.
/// `stokes` is the STOKES axis' `(CRVAL, CDELT)` from [`stokes_axis`].
pub(super) fn write_primary_header(
    raw: &mut RawFits,
    meta: &ImageMeta,
    (stokes_crval, stokes_cdelt): (f64, f64),
) -> Result<(), ImageIoError> {
    let c = &meta.coords;
    let mut naxes: [c_long; 4] = [
        c.nx as c_long,
        c.ny as c_long,
        c.spectral.nchan as c_long,
        c.stokes.len() as c_long,
    ];
    // SAFETY: open file, 4-element axis array.
    raw.call("creating primary image", |ptr, status| unsafe {
        fs::ffcrim(ptr, FLOAT_IMG, 4, naxes.as_mut_ptr(), status);
    })?;

    raw.key("BSCALE", 1.0, "PHYSICAL = PIXEL*BSCALE + BZERO")?;
    raw.key("BZERO", 0.0, "")?;
    if let Beams::Single(b) = &meta.beams {
        single_beam_cards(raw, b)?;
    }
    raw.key("BTYPE", &meta.image_type, "")?;
    raw.key("OBJECT", &meta.object_name, "")?;
    raw.key("BUNIT", &meta.units, "Brightness (pixel) unit")?;
    let (radesys, equinox) = c.reference.frame.fits_radesys_equinox();
    if let Some(e) = equinox {
        raw.key("EQUINOX", e, "")?;
    }
    if let Some(r) = radesys {
        raw.key("RADESYS", r, "")?;
    }
    raw.key("LONPOLE", 180.0, "")?;
    raw.key("LATPOLE", c.reference.dec_rad.to_degrees(), "")?;
    for j in 1..=4 {
        for i in 1..=4 {
            raw.key(&format!("PC{i}_{j}"), if i == j { 1.0 } else { 0.0 }, "")?;
        }
    }
    let sp = &c.spectral;
    // CTYPE: the frame's FITS axis name padded with '-' to 4 characters, then "-SIN".
    let [lon_name, lat_name] = c.reference.frame.fits_axis_names();
    let ctype = |stem: &str| format!("{stem:-<4}-{}", c.projection);
    let (lon_ctype, lat_ctype) = (ctype(lon_name), ctype(lat_name));
    let axes: [(&str, f64, f64, f64, &str); 4] = [
        (
            &lon_ctype,
            c.reference.ra_rad.to_degrees(),
            c.cdelt_rad[0].to_degrees(),
            c.crpix[0] + 1.0,
            "deg",
        ),
        (
            &lat_ctype,
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
        raw.key(&format!("CTYPE{n}"), *ctype, "")?;
        raw.key(&format!("CRVAL{n}"), *crval, "")?;
        raw.key(&format!("CDELT{n}"), *cdelt, "")?;
        raw.key(&format!("CRPIX{n}"), *crpix, "")?;
        raw.key(&format!("CUNIT{n}"), *cunit, "")?;
    }
    raw.key("PV2_1", 0.0, "")?;
    raw.key("PV2_2", 0.0, "")?;
    let (specsys, velref) = specsys_velref(&sp.frame);
    if sp.restfreq_hz > 0.0 {
        raw.key("RESTFRQ", sp.restfreq_hz, "Rest Frequency (Hz)")?;
        raw.key("SPECSYS", specsys, "Spectral reference frame")?;
        // Radio velocity of the reference channel (FITSSpectralUtil::toFITSHeader).
        let altrval = -SPEED_OF_LIGHT * (sp.crval_hz / sp.restfreq_hz - 1.0);
        raw.key("ALTRVAL", altrval, "Alternate frequency reference value")?;
        raw.key(
            "ALTRPIX",
            sp.crpix + 1.0,
            "Alternate frequency reference pixel",
        )?;
        raw.key("VELREF", velref + 256, "1 LSR, 2 HEL, 3 OBS, +256 Radio")?;
        raw.comment("casacore non-standard usage: 4 LSD, 5 GEO, 6 SOU, 7 GAL")?;
    } else {
        raw.key("SPECSYS", specsys, "Spectral reference frame")?;
    }
    raw.key("TELESCOP", &c.telescope, "")?;
    raw.key("OBSERVER", &c.observer, "")?;
    raw.key("DATE-OBS", &mjd_to_iso(c.obsdate_mjd_utc_days), "")?;
    raw.key("TIMESYS", "UTC", "")?;
    raw.key("OBSRA", c.reference.ra_rad.to_degrees(), "")?;
    raw.key("OBSDEC", c.reference.dec_rad.to_degrees(), "")?;
    if let Some(p) = c.telescope_position_itrf_m {
        raw.key("OBSGEO-X", p[0], "")?;
        raw.key("OBSGEO-Y", p[1], "")?;
        raw.key("OBSGEO-Z", p[2], "")?;
    }
    misc_cards(raw, &meta.misc)?;
    let now = mjd_to_iso(now_mjd());
    raw.key("DATE", &now, "Date FITS file was written")?;
    raw.key("ORIGIN", concat!("pclean ", env!("CARGO_PKG_VERSION")), "")?;
    if matches!(meta.beams, Beams::PerPlane { .. }) {
        multi_beam_card(raw)?;
    }
    Ok(())
}

/// The `miscinfo` entries as header cards (names upper-cased, at most 8 characters).
pub(super) fn misc_cards(
    raw: &mut RawFits,
    misc: &[(String, MiscValue)],
) -> Result<(), ImageIoError> {
    for (k, v) in misc {
        let k = k.to_ascii_uppercase();
        match v {
            MiscValue::Bool(b) => raw.key(&k, *b, "")?,
            MiscValue::Int(i) => raw.key(&k, *i, "")?,
            MiscValue::Float(x) => raw.key(&k, *x, "")?,
            MiscValue::Str(s) => raw.key(&k, s, "")?,
            // No array cards in FITS: one element is its value; more get numbered keys (those
            // that fit in 8 characters).
            MiscValue::FloatArray(v) if v.len() == 1 => raw.key(&k, v[0] as f64, "")?,
            MiscValue::FloatArray(v) => {
                for (i, x) in v.iter().enumerate() {
                    let ki = format!("{k}{}", i + 1);
                    if ki.len() <= 8 {
                        raw.key(&ki, *x as f64, "")?;
                    }
                }
            }
        }
    }
    Ok(())
}

pub(super) fn write_beams_table(
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
    // SAFETY: open file; 5 column descriptions whose strings outlive the call (cfitsio only reads).
    raw.call("creating BEAMS table", |ptr, status| unsafe {
        fs::ffcrtb(
            ptr,
            BINARY_TBL,
            nrow as i64,
            5,
            p_names.as_mut_ptr(),
            p_forms.as_mut_ptr(),
            p_units.as_mut_ptr(),
            ext.as_ptr(),
            status,
        );
    })?;
    raw.key("EXTVER", 1i64, "")?;
    raw.key("NCHAN", nchan as i64, "")?;
    raw.key("NPOL", nstokes as i64, "")?;
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
    let mut put = |col: c_int, dtype: c_int, data: *mut c_void| {
        // SAFETY: open file; `data` holds `nrow` values of `dtype`.
        raw.call("writing BEAMS table", |ptr, status| unsafe {
            fs::ffpcl(ptr, dtype, col, 1, 1, nrow as i64, data, status);
        })
    };
    put(1, TFLOAT, bmaj.as_mut_ptr() as *mut c_void)?;
    put(2, TFLOAT, bmin.as_mut_ptr() as *mut c_void)?;
    put(3, TFLOAT, bpa.as_mut_ptr() as *mut c_void)?;
    put(4, TINT, chan.as_mut_ptr() as *mut c_void)?;
    put(5, TINT, pol.as_mut_ptr() as *mut c_void)?;
    Ok(())
}
