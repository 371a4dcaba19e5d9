//! The keyword records of a CASA image (`coords`, `imageinfo`, `miscinfo`), built and parsed with
//! rubbl's `TableRecord`, exactly as casacore's `CoordinateSystem::save`, `ImageInfo::toRecord` and
//! `MeasureHolder::toRecord` write them (casacore 3.5 sources: `coordinates/Coordinates/*.cc`,
//! `images/Images/ImageInfo.cc`, `images/Images/ImageBeamSet.cc`, `scimath/Mathematics/GaussianBeam.cc`).
//!
//! The coordinate system always has three coordinates in image-axis order: `direction0` (axes 0, 1),
//! `stokes1` (axis 2), `spectral2` (axis 3).

use crate::meta::{
    itrf_xyz_to_spherical, spherical_to_itrf_xyz, Beams, ImageCoords, MiscValue, SpectralAxis,
};
use ndarray::Array2;
use pclean_casacore::rubbl_casatables::{CasacoreError, GlueDataType, TableError, TableRecord};
use pclean_core::{Beam, Correlation, Direction, DirectionFrame, StokesParam};

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
        &vec!["Right Ascension".to_string(), "Declination".to_string()],
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
        }
    }
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// Parsing (lenient about numeric types, since CASA and other writers differ)

/// Why a record could not be understood.
pub(crate) type ParseResult<T> = Result<T, String>;

fn field_type(r: &mut TableRecord, name: &str) -> ParseResult<GlueDataType> {
    let all = r
        .keyword_names_types_reprs()
        .map_err(|e: CasacoreError| e.to_string())?;
    all.into_iter()
        .find(|(n, _, _)| n == name)
        .map(|(_, t, _)| t)
        .ok_or_else(|| format!("field '{name}' missing"))
}

pub(crate) fn has_field(r: &mut TableRecord, name: &str) -> bool {
    r.keyword_names()
        .map(|v| v.iter().any(|n| n == name))
        .unwrap_or(false)
}

pub(crate) fn get_rec(r: &mut TableRecord, name: &str) -> ParseResult<TableRecord> {
    r.get_field::<TableRecord>(name)
        .map_err(|e| format!("field '{name}': {e}"))
}

pub(crate) fn get_str(r: &mut TableRecord, name: &str) -> ParseResult<String> {
    r.get_field::<String>(name)
        .map_err(|e| format!("field '{name}': {e}"))
}

pub(crate) fn get_f64(r: &mut TableRecord, name: &str) -> ParseResult<f64> {
    let e = |e: TableError| format!("field '{name}': {e}");
    Ok(match field_type(r, name)? {
        GlueDataType::TpDouble => r.get_field::<f64>(name).map_err(e)?,
        GlueDataType::TpFloat => r.get_field::<f32>(name).map_err(e)? as f64,
        GlueDataType::TpInt => r.get_field::<i32>(name).map_err(e)? as f64,
        GlueDataType::TpUInt => r.get_field::<u32>(name).map_err(e)? as f64,
        GlueDataType::TpInt64 => r.get_field::<i64>(name).map_err(e)? as f64,
        t => return Err(format!("field '{name}' has type {t}, expected a number")),
    })
}

/// A spectral axis from a `TabularCoordinate` table (`pixelvalues` -> `worldvalues`, Hz): every
/// channel's frequency, interpolated linearly between the entries (extrapolated from the end
/// entries), as casacore evaluates it.
fn tabular_axis(
    frame: String,
    restfreq_hz: f64,
    nchan: usize,
    pixels: &[f64],
    world: &[f64],
) -> ParseResult<SpectralAxis> {
    if pixels.len() != world.len() || pixels.len() < 2 {
        return Err(format!(
            "tabular spectral coordinate needs at least 2 pixel and world values of equal \
             number (has {} and {})",
            pixels.len(),
            world.len()
        ));
    }
    if nchan == 0 {
        return Err("tabular spectral coordinate on an axis of no channels".into());
    }
    if !pixels.windows(2).all(|w| w[1] > w[0]) {
        return Err("tabular spectral coordinate: pixel values must increase".into());
    }
    let at = |p: f64| {
        let k = pixels
            .partition_point(|&x| x <= p)
            .clamp(1, pixels.len() - 1)
            - 1;
        world[k] + (p - pixels[k]) * (world[k + 1] - world[k]) / (pixels[k + 1] - pixels[k])
    };
    let freqs: Vec<f64> = (0..nchan).map(|k| at(k as f64)).collect();
    let cdelt_hz = if nchan > 1 {
        freqs[1] - freqs[0]
    } else {
        at(1.0) - at(0.0)
    };
    Ok(SpectralAxis {
        frame,
        crval_hz: freqs[0],
        cdelt_hz,
        crpix: 0.0,
        restfreq_hz,
        nchan,
        chan_freqs_hz: Some(freqs),
    })
}

fn get_f64_vec(r: &mut TableRecord, name: &str) -> ParseResult<Vec<f64>> {
    let e = |e: TableError| format!("field '{name}': {e}");
    Ok(match field_type(r, name)? {
        GlueDataType::TpArrayDouble => r.get_field::<Vec<f64>>(name).map_err(e)?,
        GlueDataType::TpArrayFloat => r
            .get_field::<Vec<f32>>(name)
            .map_err(e)?
            .into_iter()
            .map(f64::from)
            .collect(),
        GlueDataType::TpDouble | GlueDataType::TpFloat => vec![get_f64(r, name)?],
        t => return Err(format!("field '{name}' has type {t}, expected numbers")),
    })
}

fn quantity_in(r: &mut TableRecord, name: &str, want: &str) -> ParseResult<f64> {
    let mut q = get_rec(r, name)?;
    let v = get_f64(&mut q, "value")?;
    let unit = get_str(&mut q, "unit")?;
    let factor = match (unit.as_str(), want) {
        (u, w) if u == w => 1.0,
        ("arcsec", "rad") => (1.0f64 / 3600.0).to_radians(),
        ("arcmin", "rad") => (1.0f64 / 60.0).to_radians(),
        ("deg", "rad") => 1.0f64.to_radians(),
        ("mas", "rad") => (1.0f64 / 3.6e6).to_radians(),
        ("s", "d") => 1.0 / 86400.0,
        ("km", "m") => 1000.0,
        _ => {
            return Err(format!(
                "field '{name}' has unit '{unit}', cannot convert to {want}"
            ))
        }
    };
    Ok(v * factor)
}

fn parse_beam(r: &mut TableRecord) -> ParseResult<Beam> {
    Ok(Beam {
        major_rad: quantity_in(r, "major", "rad")?,
        minor_rad: quantity_in(r, "minor", "rad")?,
        pa_rad: quantity_in(r, "positionangle", "rad")?,
    })
}

/// Parse `imageinfo` into `(beams, image_type, object_name)`.
pub(crate) fn parse_imageinfo(r: &mut TableRecord) -> ParseResult<(Beams, String, String)> {
    let image_type = if has_field(r, "imagetype") {
        get_str(r, "imagetype")?
    } else {
        String::new()
    };
    let object = if has_field(r, "objectname") {
        get_str(r, "objectname")?
    } else {
        String::new()
    };
    let beams = if has_field(r, "perplanebeams") {
        let mut p = get_rec(r, "perplanebeams")?;
        let nchan = get_f64(&mut p, "nChannels")? as usize;
        let nstokes = get_f64(&mut p, "nStokes")? as usize;
        let mut beams = Vec::with_capacity(nchan * nstokes);
        for i in 0..nchan * nstokes {
            let mut b = get_rec(&mut p, &format!("*{i}"))?;
            beams.push(parse_beam(&mut b)?);
        }
        Beams::PerPlane {
            nchan,
            nstokes,
            beams,
        }
    } else if has_field(r, "restoringbeam") {
        let mut b = get_rec(r, "restoringbeam")?;
        Beams::Single(parse_beam(&mut b)?)
    } else {
        Beams::None
    };
    Ok((beams, image_type, object))
}

/// Parse `miscinfo` scalars (other field types are skipped).
pub(crate) fn parse_miscinfo(r: &mut TableRecord) -> ParseResult<Vec<(String, MiscValue)>> {
    let fields = r.keyword_names_types_reprs().map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (name, t, _) in fields {
        let e = |e: TableError| format!("miscinfo field '{name}': {e}");
        let v = match t {
            GlueDataType::TpBool => MiscValue::Bool(r.get_field::<bool>(&name).map_err(e)?),
            GlueDataType::TpInt => MiscValue::Int(r.get_field::<i32>(&name).map_err(e)? as i64),
            GlueDataType::TpInt64 => MiscValue::Int(r.get_field::<i64>(&name).map_err(e)?),
            GlueDataType::TpUInt => MiscValue::Int(r.get_field::<u32>(&name).map_err(e)? as i64),
            GlueDataType::TpFloat => MiscValue::Float(r.get_field::<f32>(&name).map_err(e)? as f64),
            GlueDataType::TpDouble => MiscValue::Float(r.get_field::<f64>(&name).map_err(e)?),
            GlueDataType::TpString => MiscValue::Str(r.get_field::<String>(&name).map_err(e)?),
            _ => continue,
        };
        out.push((name, v));
    }
    Ok(out)
}

fn stokes_from_name(n: &str) -> ParseResult<StokesParam> {
    Ok(match n {
        "I" => StokesParam::I,
        "Q" => StokesParam::Q,
        "U" => StokesParam::U,
        "V" => StokesParam::V,
        other => StokesParam::Corr(
            (5..=12)
                .filter_map(Correlation::from_casa_code)
                .find(|c| c.name() == other)
                .ok_or_else(|| format!("unsupported Stokes '{other}'"))?,
        ),
    })
}

/// Parse `coords` for an image of shape `[nx, ny, nstokes, nchan]`. Only the layout pclean writes
/// (and tclean writes) is accepted: direction, Stokes and spectral coordinates on axes 0-1, 2, 3.
pub(crate) fn parse_coords(cs: &mut TableRecord, shape: [usize; 4]) -> ParseResult<ImageCoords> {
    let names = cs.keyword_names().map_err(|e| e.to_string())?;
    let find = |prefix: &str| {
        names
            .iter()
            .find(|n| {
                n.strip_prefix(prefix).is_some_and(|rest| {
                    !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit())
                })
            })
            .cloned()
            .ok_or_else(|| format!("no {prefix} coordinate"))
    };
    let (dname, sname, fname) = (find("direction")?, find("stokes")?, find("spectral")?);
    let axes_of = |cs: &mut TableRecord, coord: &str, prefix: &str| -> ParseResult<Vec<f64>> {
        let idx = &coord[prefix.len()..];
        get_f64_vec_int(cs, &format!("pixelmap{idx}"))
    };
    if axes_of(cs, &dname, "direction")? != [0.0, 1.0]
        || axes_of(cs, &sname, "stokes")? != [2.0]
        || axes_of(cs, &fname, "spectral")? != [3.0]
    {
        return Err("axis order is not [direction, direction, stokes, spectral]".into());
    }

    let telescope = if has_field(cs, "telescope") {
        get_str(cs, "telescope")?
    } else {
        String::new()
    };
    let observer = if has_field(cs, "observer") {
        get_str(cs, "observer")?
    } else {
        String::new()
    };
    let obsdate = if has_field(cs, "obsdate") {
        let mut e = get_rec(cs, "obsdate")?;
        quantity_in(&mut e, "m0", "d")?
    } else {
        0.0
    };
    let telpos = if has_field(cs, "telescopeposition") {
        let mut p = get_rec(cs, "telescopeposition")?;
        Some(spherical_to_itrf_xyz(
            quantity_in(&mut p, "m0", "rad")?,
            quantity_in(&mut p, "m1", "rad")?,
            quantity_in(&mut p, "m2", "m")?,
        ))
    } else {
        None
    };

    let mut d = get_rec(cs, &dname)?;
    let system = get_str(&mut d, "system")?;
    let frame = match system.as_str() {
        "J2000" => DirectionFrame::J2000,
        "ICRS" => DirectionFrame::Icrs,
        other => return Err(format!("direction system '{other}' is not supported")),
    };
    let units: Vec<String> = d
        .get_field::<Vec<String>>("units")
        .map_err(|e| format!("direction units: {e}"))?;
    let to_rad = |u: &str| -> ParseResult<f64> {
        Ok(match u {
            "rad" => 1.0,
            "deg" => 1.0f64.to_radians(),
            "'" | "arcmin" => (1.0f64 / 60.0).to_radians(),
            "\"" | "arcsec" => (1.0f64 / 3600.0).to_radians(),
            other => return Err(format!("direction unit '{other}' is not supported")),
        })
    };
    let crval = get_f64_vec(&mut d, "crval")?;
    let cdelt = get_f64_vec(&mut d, "cdelt")?;
    let crpix = get_f64_vec(&mut d, "crpix")?;
    if crval.len() != 2 || cdelt.len() != 2 || crpix.len() != 2 || units.len() != 2 {
        return Err("direction coordinate needs 2 values per field".into());
    }
    let (u0, u1) = (to_rad(&units[0])?, to_rad(&units[1])?);
    let reference = Direction {
        frame,
        ra_rad: (crval[0] * u0).rem_euclid(2.0 * std::f64::consts::PI),
        dec_rad: crval[1] * u1,
    };
    let projection = get_str(&mut d, "projection")?;

    let mut s = get_rec(cs, &sname)?;
    let stokes = s
        .get_field::<Vec<String>>("stokes")
        .map_err(|e| format!("stokes names: {e}"))?
        .iter()
        .map(|n| stokes_from_name(n))
        .collect::<ParseResult<Vec<_>>>()?;

    let mut f = get_rec(cs, &fname)?;
    let frame_name = get_str(&mut f, "system")?;
    let restfreq = if has_field(&mut f, "restfreq") {
        get_f64(&mut f, "restfreq")?
    } else {
        0.0
    };
    let spectral = if has_field(&mut f, "wcs") {
        let mut w = get_rec(&mut f, "wcs")?;
        SpectralAxis {
            frame: frame_name,
            crval_hz: get_f64(&mut w, "crval")?,
            cdelt_hz: get_f64(&mut w, "cdelt")?,
            crpix: get_f64(&mut w, "crpix")?,
            restfreq_hz: restfreq,
            nchan: shape[3],
            chan_freqs_hz: None,
        }
    } else if has_field(&mut f, "tabular") {
        let mut t = get_rec(&mut f, "tabular")?;
        let pixels = get_f64_vec(&mut t, "pixelvalues")?;
        let world = get_f64_vec(&mut t, "worldvalues")?;
        tabular_axis(frame_name, restfreq, shape[3], &pixels, &world)?
    } else {
        return Err("spectral coordinate has neither a 'wcs' nor a 'tabular' record".into());
    };
    if stokes.len() != shape[2] {
        return Err(format!(
            "{} Stokes names for a Stokes axis of length {}",
            stokes.len(),
            shape[2]
        ));
    }
    Ok(ImageCoords {
        nx: shape[0],
        ny: shape[1],
        reference,
        crpix: [crpix[0], crpix[1]],
        cdelt_rad: [cdelt[0] * u0, cdelt[1] * u1],
        projection,
        stokes,
        spectral,
        telescope,
        observer,
        obsdate_mjd_utc_days: obsdate,
        telescope_position_itrf_m: telpos,
    })
}

fn get_f64_vec_int(r: &mut TableRecord, name: &str) -> ParseResult<Vec<f64>> {
    let e = |e: TableError| format!("field '{name}': {e}");
    Ok(match field_type(r, name)? {
        GlueDataType::TpArrayInt => r
            .get_field::<Vec<i32>>(name)
            .map_err(e)?
            .into_iter()
            .map(f64::from)
            .collect(),
        _ => get_f64_vec(r, name)?,
    })
}
