//! Building the keyword records of a CASA image (see the parent module).

use crate::meta::{itrf_xyz_to_spherical, Beams, ImageCoords, MiscValue};
use ndarray::Array2;
use pclean_casacore::rubbl_casatables::{TableError, TableRecord};
use pclean_core::{Beam, Direction};

type RecResult<T> = Result<T, TableError>;

fn rec() -> RecResult<TableRecord> {
    TableRecord::new()
}

fn quantity(value: f64, unit: &str) -> RecResult<TableRecord> {
    let mut q = rec()?;
    q.put_field("value", &value)?;
    q.put_field("unit", &unit.to_string())?;
    Ok(q)
}

/// `MeasureHolder::toRecord` of an MEpoch: `{type: epoch, refer, m0: {value, unit: d}}`.
fn epoch_measure(refer: &str, mjd_days: f64) -> RecResult<TableRecord> {
    let mut r = rec()?;
    r.put_field("type", &"epoch".to_string())?;
    r.put_field("refer", &refer.to_string())?;
    r.put_field("m0", &quantity(mjd_days, "d")?)?;
    Ok(r)
}

/// An MPosition: `{type: position, refer: ITRF, m0: lon rad, m1: lat rad, m2: radius m}`.
fn position_measure(xyz: [f64; 3]) -> RecResult<TableRecord> {
    let (lon, lat, r) = itrf_xyz_to_spherical(xyz);
    let mut m = rec()?;
    m.put_field("type", &"position".to_string())?;
    m.put_field("refer", &"ITRF".to_string())?;
    m.put_field("m0", &quantity(lon, "rad")?)?;
    m.put_field("m1", &quantity(lat, "rad")?)?;
    m.put_field("m2", &quantity(r, "m")?)?;
    Ok(m)
}

fn direction_measure(d: &Direction) -> RecResult<TableRecord> {
    let mut m = rec()?;
    m.put_field("type", &"direction".to_string())?;
    m.put_field("refer", &d.frame.casa_name().to_string())?;
    m.put_field("m0", &quantity(d.ra_rad, "rad")?)?;
    m.put_field("m1", &quantity(d.dec_rad, "rad")?)?;
    Ok(m)
}

fn identity(n: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, n), |(i, j)| if i == j { 1.0 } else { 0.0 })
}

/// The `coords` keyword (`CoordinateSystem::save`).
pub(crate) fn coords_record(c: &ImageCoords) -> RecResult<TableRecord> {
    let mut cs = rec()?;
    // ObsInfo::toRecord
    cs.put_field("telescope", &c.telescope)?;
    cs.put_field("observer", &c.observer)?;
    cs.put_field("obsdate", &epoch_measure("UTC", c.obsdate_mjd_utc_days)?)?;
    let mut pc = rec()?;
    pc.put_field("value", &vec![c.reference.ra_rad, c.reference.dec_rad])?;
    pc.put_field("initial", &false)?;
    cs.put_field("pointingcenter", &pc)?;
    if let Some(p) = c.telescope_position_itrf_m {
        cs.put_field("telescopeposition", &position_measure(p)?)?;
    }

    // direction0 (DirectionCoordinate::save)
    let frame = c.reference.frame.casa_name().to_string();
    let mut d = rec()?;
    d.put_field("system", &frame)?;
    d.put_field("projection", &c.projection)?;
    d.put_field("projection_parameters", &vec![0.0f64, 0.0])?;
    d.put_field("crval", &vec![c.reference.ra_rad, c.reference.dec_rad])?;
    d.put_field("crpix", &c.crpix.to_vec())?;
    d.put_field("cdelt", &c.cdelt_rad.to_vec())?;
    d.put_field("pc", &identity(2))?;
    d.put_field(
        "axes",
        &c.reference.frame.axis_names().map(String::from).to_vec(),
    )?;
    d.put_field("units", &vec!["rad".to_string(), "rad".to_string()])?;
    d.put_field("conversionSystem", &frame)?;
    d.put_field("longpole", &180.0f64)?; // degrees (wcs lonpole for a zenithal projection)
    d.put_field("latpole", &c.reference.dec_rad.to_degrees())?; // degrees
    cs.put_field("direction0", &d)?;
    // CoordinateSystem::addCoordinate: pixel replacement 0, world replacement = toWorld(pixel 0).
    let (ra0, dec0) = c.pixel_to_radec(0.0, 0.0);
    put_maps(&mut cs, 0, &[0, 1], &[ra0, dec0], &[0.0, 0.0])?;

    // stokes1 (StokesCoordinate::save)
    let codes: Vec<i32> = c.stokes.iter().map(|s| s.casa_code()).collect();
    let mut s = rec()?;
    s.put_field("axes", &vec!["Stokes".to_string()])?;
    s.put_field(
        "stokes",
        &c.stokes
            .iter()
            .map(|p| p.name().to_string())
            .collect::<Vec<_>>(),
    )?;
    s.put_field("crval", &vec![codes[0] as f64])?;
    s.put_field("crpix", &vec![0.0f64])?;
    s.put_field("cdelt", &vec![1.0f64])?;
    s.put_field("pc", &identity(1))?;
    cs.put_field("stokes1", &s)?;
    put_maps(&mut cs, 1, &[2], &[codes[0] as f64], &[0.0])?;

    // spectral2 (SpectralCoordinate::save)
    let sp = &c.spectral;
    let mut f = rec()?;
    f.put_field("version", &2i32)?;
    f.put_field("system", &sp.frame)?;
    f.put_field("restfreq", &sp.restfreq_hz)?;
    let restfreqs: Vec<f64> = if sp.restfreq_hz > 0.0 {
        vec![sp.restfreq_hz]
    } else {
        Vec::new()
    };
    f.put_field("restfreqs", &restfreqs)?;
    f.put_field("velType", &0i32)?; // MDoppler::RADIO
    f.put_field("nativeType", &0i32)?; // SpectralCoordinate::FREQ
    f.put_field("velUnit", &"km/s".to_string())?;
    f.put_field("waveUnit", &"mm".to_string())?;
    f.put_field("formatUnit", &String::new())?;
    match sp.chan_freqs_hz.as_deref() {
        // TabularCoordinate::save: the "average" linear axis through the first and last entries,
        // and the table (casacore interpolates between its entries).
        Some(t) if t.len() > 1 => {
            let n = t.len();
            let mut tab = rec()?;
            tab.put_field("crval", &vec![t[0]])?;
            tab.put_field("crpix", &vec![0.0f64])?;
            tab.put_field("cdelt", &vec![(t[n - 1] - t[0]) / (n - 1) as f64])?;
            tab.put_field("pc", &identity(1))?;
            tab.put_field("axes", &vec!["Frequency".to_string()])?;
            tab.put_field("units", &vec!["Hz".to_string()])?;
            tab.put_field("pixelvalues", &(0..n).map(|k| k as f64).collect::<Vec<_>>())?;
            tab.put_field("worldvalues", &t.to_vec())?;
            f.put_field("tabular", &tab)?;
        }
        _ => {
            let mut wcs = rec()?;
            wcs.put_field("crval", &sp.crval_hz)?;
            wcs.put_field("crpix", &sp.crpix)?;
            wcs.put_field("cdelt", &sp.cdelt_hz)?;
            wcs.put_field("pc", &1.0f64)?;
            wcs.put_field("ctype", &"FREQ".to_string())?;
            f.put_field("wcs", &wcs)?;
        }
    }
    f.put_field("unit", &"Hz".to_string())?;
    f.put_field("name", &"Frequency".to_string())?;
    let mut conv = rec()?;
    conv.put_field("direction", &direction_measure(&c.reference)?)?;
    conv.put_field(
        "position",
        &position_measure(c.telescope_position_itrf_m.unwrap_or([0.0; 3]))?,
    )?;
    conv.put_field("epoch", &epoch_measure("UTC", c.obsdate_mjd_utc_days)?)?;
    conv.put_field("system", &sp.frame)?;
    f.put_field("conversion", &conv)?;
    cs.put_field("spectral2", &f)?;
    put_maps(&mut cs, 2, &[3], &[sp.freq_hz(0.0)], &[0.0])?;
    Ok(cs)
}

fn put_maps(
    cs: &mut TableRecord,
    i: usize,
    axes: &[i32],
    world_replace: &[f64],
    pixel_replace: &[f64],
) -> RecResult<()> {
    cs.put_field(&format!("worldmap{i}"), &axes.to_vec())?;
    cs.put_field(&format!("worldreplace{i}"), &world_replace.to_vec())?;
    cs.put_field(&format!("pixelmap{i}"), &axes.to_vec())?;
    cs.put_field(&format!("pixelreplace{i}"), &pixel_replace.to_vec())?;
    Ok(())
}

/// `GaussianBeam::toRecord`, with axes in arcsec and the position angle in degrees (as tclean).
fn beam_record(b: &Beam) -> RecResult<TableRecord> {
    let mut r = rec()?;
    r.put_field(
        "major",
        &quantity(b.major_rad.to_degrees() * 3600.0, "arcsec")?,
    )?;
    r.put_field(
        "minor",
        &quantity(b.minor_rad.to_degrees() * 3600.0, "arcsec")?,
    )?;
    r.put_field("positionangle", &quantity(b.pa_rad.to_degrees(), "deg")?)?;
    Ok(r)
}

/// The `imageinfo` keyword (`ImageInfo::toRecord`).
pub(crate) fn imageinfo_record(
    beams: &Beams,
    image_type: &str,
    object_name: &str,
) -> RecResult<TableRecord> {
    let mut r = rec()?;
    if let Beams::Single(b) = beams {
        r.put_field("restoringbeam", &beam_record(b)?)?;
    }
    r.put_field("imagetype", &image_type.to_string())?;
    r.put_field("objectname", &object_name.to_string())?;
    if let Beams::PerPlane {
        nchan,
        nstokes,
        beams,
    } = beams
    {
        let mut p = rec()?;
        p.put_field("nChannels", &(*nchan as u32))?;
        p.put_field("nStokes", &(*nstokes as u32))?;
        for (i, b) in beams.iter().enumerate() {
            p.put_field(&format!("*{i}"), &beam_record(b)?)?;
        }
        r.put_field("perplanebeams", &p)?;
    }
    Ok(r)
}

/// The `miscinfo` keyword: one field per entry.
pub(crate) fn miscinfo_record(misc: &[(String, MiscValue)]) -> RecResult<TableRecord> {
    let mut r = rec()?;
    for (k, v) in misc {
        match v {
            MiscValue::Bool(b) => r.put_field(k, b)?,
            // rubbl records take Int (i32), not Int64; larger values are stored as Double.
            MiscValue::Int(i) => match i32::try_from(*i) {
                Ok(v) => r.put_field(k, &v)?,
                Err(_) => r.put_field(k, &(*i as f64))?,
            },
            MiscValue::Float(x) => r.put_field(k, x)?,
            MiscValue::Str(s) => r.put_field(k, s)?,
            MiscValue::FloatArray(v) => r.put_field(k, v)?,
        }
    }
    Ok(r)
}
