//! Parsing the keyword records of a CASA image (see the parent module), lenient about numeric
//! types since CASA and other writers differ.

use crate::meta::{spherical_to_itrf_xyz, Beams, ImageCoords, MiscValue, SpectralAxis};
use pclean_casacore::rubbl_casatables::{GlueDataType, TableError, TableRecord};
use pclean_core::{Beam, Correlation, Direction, DirectionFrame, StokesParam};

/// Why a keyword record of an image could not be understood.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// A required field is absent.
    #[error("field '{field}' missing")]
    Missing { field: String },
    /// rubbl could not read a field (or list the fields, with `field` empty).
    #[error("field '{field}': {source}")]
    Field {
        field: String,
        #[source]
        source: TableError,
    },
    /// A field holds a type that cannot be read as what is needed.
    #[error("field '{field}' has type {found}, expected {expected}")]
    WrongType {
        field: String,
        found: GlueDataType,
        expected: &'static str,
    },
    /// The record is readable but describes something pclean does not support.
    #[error("{what}")]
    Unsupported { what: String },
}

/// Why a record could not be understood.
pub(crate) type ParseResult<T> = Result<T, RecordError>;

fn unsupported<T>(what: impl Into<String>) -> ParseResult<T> {
    Err(RecordError::Unsupported { what: what.into() })
}

/// A rubbl error on `field` as a [`RecordError`].
fn field_err<E: Into<TableError>>(field: &str) -> impl FnOnce(E) -> RecordError + '_ {
    move |e| RecordError::Field {
        field: field.to_string(),
        source: e.into(),
    }
}

fn field_type(r: &mut TableRecord, name: &str) -> ParseResult<GlueDataType> {
    let all = r.keyword_names_types_reprs().map_err(field_err(""))?;
    all.into_iter()
        .find(|(n, _, _)| n == name)
        .map(|(_, t, _)| t)
        .ok_or_else(|| RecordError::Missing {
            field: name.to_string(),
        })
}

fn wrong_type<T>(name: &str, found: GlueDataType, expected: &'static str) -> ParseResult<T> {
    Err(RecordError::WrongType {
        field: name.to_string(),
        found,
        expected,
    })
}

pub(crate) fn has_field(r: &mut TableRecord, name: &str) -> bool {
    r.keyword_names()
        .map(|v| v.iter().any(|n| n == name))
        .unwrap_or(false)
}

pub(crate) fn get_rec(r: &mut TableRecord, name: &str) -> ParseResult<TableRecord> {
    r.get_field::<TableRecord>(name).map_err(field_err(name))
}

fn get_str(r: &mut TableRecord, name: &str) -> ParseResult<String> {
    r.get_field::<String>(name).map_err(field_err(name))
}

/// The String field `name`, empty when absent.
pub(crate) fn get_str_or_empty(r: &mut TableRecord, name: &str) -> ParseResult<String> {
    if has_field(r, name) {
        get_str(r, name)
    } else {
        Ok(String::new())
    }
}

fn get_f64(r: &mut TableRecord, name: &str) -> ParseResult<f64> {
    let e = field_err::<TableError>(name);
    Ok(match field_type(r, name)? {
        GlueDataType::TpDouble => r.get_field::<f64>(name).map_err(e)?,
        GlueDataType::TpFloat => r.get_field::<f32>(name).map_err(e)? as f64,
        GlueDataType::TpInt => r.get_field::<i32>(name).map_err(e)? as f64,
        GlueDataType::TpUInt => r.get_field::<u32>(name).map_err(e)? as f64,
        GlueDataType::TpInt64 => r.get_field::<i64>(name).map_err(e)? as f64,
        t => return wrong_type(name, t, "a number"),
    })
}

fn widen<T: Into<f64>>(v: Vec<T>) -> Vec<f64> {
    v.into_iter().map(Into::into).collect()
}

/// A numeric array field (Int arrays too) as `f64`; a scalar gives one value.
fn get_f64_vec(r: &mut TableRecord, name: &str) -> ParseResult<Vec<f64>> {
    let e = field_err::<TableError>(name);
    Ok(match field_type(r, name)? {
        GlueDataType::TpArrayDouble => r.get_field::<Vec<f64>>(name).map_err(e)?,
        GlueDataType::TpArrayFloat => widen(r.get_field::<Vec<f32>>(name).map_err(e)?),
        GlueDataType::TpArrayInt => widen(r.get_field::<Vec<i32>>(name).map_err(e)?),
        GlueDataType::TpDouble | GlueDataType::TpFloat => vec![get_f64(r, name)?],
        t => return wrong_type(name, t, "numbers"),
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
        return unsupported(format!(
            "tabular spectral coordinate needs at least 2 pixel and world values of equal \
             number (has {} and {})",
            pixels.len(),
            world.len()
        ));
    }
    if nchan == 0 {
        return unsupported("tabular spectral coordinate on an axis of no channels");
    }
    if !pixels.windows(2).all(|w| w[1] > w[0]) {
        return unsupported("tabular spectral coordinate: pixel values must increase");
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
            return unsupported(format!(
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
    let image_type = get_str_or_empty(r, "imagetype")?;
    let object = get_str_or_empty(r, "objectname")?;
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
    let fields = r.keyword_names_types_reprs().map_err(field_err(""))?;
    let mut out = Vec::new();
    for (name, t, _) in fields {
        let e = field_err::<TableError>(&name);
        let v = match t {
            GlueDataType::TpBool => MiscValue::Bool(r.get_field::<bool>(&name).map_err(e)?),
            GlueDataType::TpInt => MiscValue::Int(r.get_field::<i32>(&name).map_err(e)? as i64),
            GlueDataType::TpInt64 => MiscValue::Int(r.get_field::<i64>(&name).map_err(e)?),
            GlueDataType::TpUInt => MiscValue::Int(r.get_field::<u32>(&name).map_err(e)? as i64),
            GlueDataType::TpFloat => MiscValue::Float(r.get_field::<f32>(&name).map_err(e)? as f64),
            GlueDataType::TpDouble => MiscValue::Float(r.get_field::<f64>(&name).map_err(e)?),
            GlueDataType::TpString => MiscValue::Str(r.get_field::<String>(&name).map_err(e)?),
            GlueDataType::TpArrayFloat => {
                MiscValue::FloatArray(r.get_field::<Vec<f32>>(&name).map_err(e)?)
            }
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
        other => match (5..=12)
            .filter_map(Correlation::from_casa_code)
            .find(|c| c.name() == other)
        {
            Some(c) => StokesParam::Corr(c),
            None => return unsupported(format!("unsupported Stokes '{other}'")),
        },
    })
}

/// The names of the coordinates of `cs` (`direction0`, `stokes1`, `spectral2` as pclean writes
/// them), checked to lie on the axes `[direction, direction, stokes, spectral]`.
fn coordinate_names(cs: &mut TableRecord) -> ParseResult<[String; 3]> {
    let names = cs.keyword_names().map_err(field_err(""))?;
    let mut out = Vec::with_capacity(3);
    for (prefix, axes) in [
        ("direction", &[0.0, 1.0][..]),
        ("stokes", &[2.0][..]),
        ("spectral", &[3.0][..]),
    ] {
        let Some(name) = names.iter().find(|n| {
            n.strip_prefix(prefix)
                .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()))
        }) else {
            return unsupported(format!("no {prefix} coordinate"));
        };
        out.push((name.clone(), prefix, axes));
    }
    for (name, prefix, axes) in &out {
        let idx = &name[prefix.len()..];
        if get_f64_vec(cs, &format!("pixelmap{idx}"))? != *axes {
            return unsupported("axis order is not [direction, direction, stokes, spectral]");
        }
    }
    let [d, s, f] = [0, 1, 2].map(|i| out[i].0.clone());
    Ok([d, s, f])
}

/// The direction coordinate record: its reference direction, `crpix`, `cdelt` (rad) and projection.
fn parse_direction(d: &mut TableRecord) -> ParseResult<(Direction, [f64; 2], [f64; 2], String)> {
    let system = get_str(d, "system")?;
    let Some(frame) = DirectionFrame::from_casa_name(&system) else {
        return unsupported(format!("direction system '{system}' is not supported"));
    };
    let units: Vec<String> = d
        .get_field::<Vec<String>>("units")
        .map_err(field_err("units"))?;
    let to_rad = |u: &str| -> ParseResult<f64> {
        Ok(match u {
            "rad" => 1.0,
            "deg" => 1.0f64.to_radians(),
            "'" | "arcmin" => (1.0f64 / 60.0).to_radians(),
            "\"" | "arcsec" => (1.0f64 / 3600.0).to_radians(),
            other => return unsupported(format!("direction unit '{other}' is not supported")),
        })
    };
    let crval = get_f64_vec(d, "crval")?;
    let cdelt = get_f64_vec(d, "cdelt")?;
    let crpix = get_f64_vec(d, "crpix")?;
    if crval.len() != 2 || cdelt.len() != 2 || crpix.len() != 2 || units.len() != 2 {
        return unsupported("direction coordinate needs 2 values per field");
    }
    let (u0, u1) = (to_rad(&units[0])?, to_rad(&units[1])?);
    let reference = Direction {
        frame,
        ra_rad: (crval[0] * u0).rem_euclid(2.0 * std::f64::consts::PI),
        dec_rad: crval[1] * u1,
    };
    let projection = get_str(d, "projection")?;
    Ok((
        reference,
        [crpix[0], crpix[1]],
        [cdelt[0] * u0, cdelt[1] * u1],
        projection,
    ))
}

/// The spectral coordinate record for an axis of `nchan` channels.
fn parse_spectral(f: &mut TableRecord, nchan: usize) -> ParseResult<SpectralAxis> {
    let frame_name = get_str(f, "system")?;
    let restfreq = if has_field(f, "restfreq") {
        get_f64(f, "restfreq")?
    } else {
        0.0
    };
    if has_field(f, "wcs") {
        let mut w = get_rec(f, "wcs")?;
        Ok(SpectralAxis {
            frame: frame_name,
            crval_hz: get_f64(&mut w, "crval")?,
            cdelt_hz: get_f64(&mut w, "cdelt")?,
            crpix: get_f64(&mut w, "crpix")?,
            restfreq_hz: restfreq,
            nchan,
            chan_freqs_hz: None,
        })
    } else if has_field(f, "tabular") {
        let mut t = get_rec(f, "tabular")?;
        let pixels = get_f64_vec(&mut t, "pixelvalues")?;
        let world = get_f64_vec(&mut t, "worldvalues")?;
        tabular_axis(frame_name, restfreq, nchan, &pixels, &world)
    } else {
        unsupported("spectral coordinate has neither a 'wcs' nor a 'tabular' record")
    }
}

/// Parse `coords` for an image of shape `[nx, ny, nstokes, nchan]`. Only the layout pclean writes
/// (and tclean writes) is accepted: direction, Stokes and spectral coordinates on axes 0-1, 2, 3.
pub(crate) fn parse_coords(cs: &mut TableRecord, shape: [usize; 4]) -> ParseResult<ImageCoords> {
    let [dname, sname, fname] = coordinate_names(cs)?;
    let telescope = get_str_or_empty(cs, "telescope")?;
    let observer = get_str_or_empty(cs, "observer")?;
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
    let (reference, crpix, cdelt_rad, projection) = parse_direction(&mut get_rec(cs, &dname)?)?;
    let stokes = get_rec(cs, &sname)?
        .get_field::<Vec<String>>("stokes")
        .map_err(field_err("stokes"))?
        .iter()
        .map(|n| stokes_from_name(n))
        .collect::<ParseResult<Vec<_>>>()?;
    let spectral = parse_spectral(&mut get_rec(cs, &fname)?, shape[3])?;
    if stokes.len() != shape[2] {
        return unsupported(format!(
            "{} Stokes names for a Stokes axis of length {}",
            stokes.len(),
            shape[2]
        ));
    }
    Ok(ImageCoords {
        nx: shape[0],
        ny: shape[1],
        reference,
        crpix,
        cdelt_rad,
        projection,
        stokes,
        spectral,
        telescope,
        observer,
        obsdate_mjd_utc_days: obsdate,
        telescope_position_itrf_m: telpos,
    })
}
