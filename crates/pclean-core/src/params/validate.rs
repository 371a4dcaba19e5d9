//! `ImagingParams::from_raw`: every check that needs no data, on the effective values.

use super::choices::{
    DataColumnChoice, GridKernel, Gridder, ImageFormat, Interpolation, Projection, SpecMode,
    VelType, WeightingKind, OUTFRAMES,
};
use super::{
    invalid, memory_param, EffectiveParams, ImagingParams, ParamError, PhaseCenter, RawParams,
    SpectralValue, Weighting,
};
use crate::direction::Direction;
use crate::stokes::StokesSet;
use crate::units::{parse_angle_rad, parse_flux_jy, parse_freq_hz};

pub(super) fn angle(param: &'static str, s: &str) -> Result<f64, ParamError> {
    parse_angle_rad(s).map_err(|source| ParamError::Quantity { param, source })
}

pub(super) fn flux(param: &'static str, s: &str) -> Result<f64, ParamError> {
    parse_flux_jy(s).map_err(|source| ParamError::Quantity { param, source })
}

/// A count where 0 means "automatic" (or "all").
fn count(param: &'static str, v: i64, why: &str) -> Result<usize, ParamError> {
    usize::try_from(v).map_err(|_| invalid(param, v, why))
}

fn spectral_value(param: &'static str, s: &str) -> Result<SpectralValue, ParamError> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(SpectralValue::Default);
    }
    if let Ok(c) = t.parse::<i64>() {
        return Ok(SpectralValue::Channel(c));
    }
    if let Some((v, unit)) = crate::units::split_number_unit(t) {
        let scale = match unit {
            "m/s" => Some(1.0),
            "km/s" => Some(1e3),
            _ => None,
        };
        if let Some(scale) = scale {
            return Ok(SpectralValue::VelocityMps(v * scale));
        }
    }
    parse_freq_hz(t)
        .map(SpectralValue::FrequencyHz)
        .map_err(|source| ParamError::Quantity { param, source })
}

/// `(nx, ny)` from `imsize`.
fn image_size(imsize: &[i64]) -> Result<(usize, usize), ParamError> {
    let (nx, ny) = match imsize {
        [n] => (*n, *n),
        [a, b] => (*a, *b),
        _ => return Err(invalid("imsize", imsize, "give one or two sizes in pixels")),
    };
    if nx <= 0 || ny <= 0 {
        return Err(invalid("imsize", imsize, "image sizes must be positive"));
    }
    if nx > 65536 || ny > 65536 {
        return Err(invalid(
            "imsize",
            imsize,
            "image sizes above 65536 pixels are not supported",
        ));
    }
    Ok((nx as usize, ny as usize))
}

/// `(x, y)` cell sizes in radians from `cell`.
fn cell_size(cell: &[String]) -> Result<(f64, f64), ParamError> {
    let (x, y) = match cell {
        [c] => (angle("cell", c)?, angle("cell", c)?),
        [a, b] => (angle("cell", a)?, angle("cell", b)?),
        _ => {
            return Err(invalid(
                "cell",
                cell,
                "give one or two angles, e.g. '15arcsec'",
            ))
        }
    };
    if !(x > 0.0 && y > 0.0) {
        return Err(invalid("cell", cell, "cell sizes must be positive"));
    }
    Ok((x, y))
}

fn phase_center(pc: &str) -> Result<PhaseCenter, ParamError> {
    Ok(if pc.trim().is_empty() {
        PhaseCenter::FirstField
    } else if let Ok(id) = pc.trim().parse::<usize>() {
        PhaseCenter::FieldId(id)
    } else if pc.trim().eq_ignore_ascii_case("TRACKFIELD") {
        PhaseCenter::TrackField
    } else if let Some(body) = solar_system_body(pc) {
        // tclean 6.7 tracks the body (the direction after its name is ignored): it re-phases every
        // row to casacore's topocentric position of the body (JPL DE200) at the row's time and
        // writes the image in ICRS at that position at the first integration (measured on a
        // simulated Mars observation: docs/decisions.md (s10-ch13)); the engine does the same.
        PhaseCenter::Body(body)
    } else if is_comet_or_table(pc) {
        return Err(invalid(
            "phasecenter",
            pc.trim(),
            format!(
                "phasecenter='{}': a comet or an ephemeris table given in phasecenter is not \
                 supported by pclean; attach the ephemeris to the field (casatasks fixplanets) and \
                 use phasecenter='TRACKFIELD', name a body (MERCURY..PLUTO, SUN, MOON), or give a \
                 fixed direction ('J2000 12h30m00s +12d20m00s', any casacore sky frame) or a field \
                 id",
                pc.trim()
            ),
        ));
    } else {
        let dir = Direction::parse(pc).map_err(|source| ParamError::Direction {
            param: "phasecenter",
            source,
        })?;
        if dir.frame.is_terrestrial() {
            // tclean keeps a centre given in a frame fixed on the Earth (HADEC, AZEL*, ITRF) fixed
            // on the Earth, re-evaluated at every row's time, so the sky drifts through the image
            // (measured with tclean 6.7 on b1950vla.ms, 60 x 1 min: a 1 Jy source imaged at
            // 0.02 Jy for HADEC, AZEL, AZELSW, AZELGEO and ITRF; the first minute alone gives it
            // at 0.98 Jy at the centre; docs/decisions.md (s10-ch13)). pclean would convert the
            // direction once and keep it fixed on the sky: a different product, so it is refused.
            return Err(invalid(
                "phasecenter",
                pc.trim(),
                format!(
                    "a phase centre in {} is fixed on the Earth, not on the sky: tclean keeps it \
                     fixed on the Earth while the sky drifts through it (a smeared image), which \
                     pclean does not do; give the direction in a celestial frame (J2000, ICRS, \
                     B1950, BMEAN, APP, ...) or a field id",
                    dir.frame.casa_name()
                ),
            ));
        }
        PhaseCenter::Direction(dir)
    })
}

/// The body `phasecenter` names (`'MARS'`, or `'MARS 0deg 0deg'`: tclean ignores the direction
/// then), as casacore's upper-case name; COMET is not a body of the JPL ephemeris.
fn solar_system_body(pc: &str) -> Option<String> {
    let first = pc.split_whitespace().next()?.to_ascii_uppercase();
    (first != "COMET" && crate::direction::SOLAR_SYSTEM_FRAMES.contains(&first.as_str()))
        .then_some(first)
}

/// Whether `phasecenter` names COMET (a frame of a FIELD ephemeris table, not a body) or an
/// ephemeris table (`'*.tab'`).
fn is_comet_or_table(pc: &str) -> bool {
    let first = pc.split_whitespace().next().unwrap_or("");
    first.eq_ignore_ascii_case("COMET") || pc.trim().to_ascii_lowercase().ends_with(".tab")
}

/// `specmode='cubesource'`: tclean refuses it without `phasecenter='TRACKFIELD'` ("Cannot be in
/// cubesource without tracking a moving source"); its axis is the data channels in the source's
/// frame (labelled REST), so pclean takes channel `start`/`width` only and no `outframe`.
fn cubesource_compat(
    phasecenter: &PhaseCenter,
    start: &SpectralValue,
    width: &SpectralValue,
    outframe: &str,
) -> Result<(), ParamError> {
    if let PhaseCenter::Body(b) = phasecenter {
        return Err(invalid(
            "specmode",
            "cubesource",
            format!(
                "specmode='cubesource' with phasecenter='{b}' (a cube in the rest frame of a body \
                 of the JPL ephemeris) is not supported by pclean; use specmode='cube', or attach \
                 the body's ephemeris to the field (casatasks fixplanets) and use \
                 phasecenter='TRACKFIELD'"
            ),
        ));
    }
    if *phasecenter != PhaseCenter::TrackField {
        return Err(invalid(
            "specmode",
            "cubesource",
            "specmode='cubesource' images a moving source in its own rest frame and needs \
             phasecenter='TRACKFIELD' (tclean: \"Cannot be in cubesource without tracking a moving \
             source\")",
        ));
    }
    for (name, v) in [("start", start), ("width", width)] {
        if matches!(
            v,
            SpectralValue::FrequencyHz(_) | SpectralValue::VelocityMps(_)
        ) {
            return Err(invalid(
                name,
                format!("{v:?}"),
                "specmode='cubesource' takes channel numbers for start and width in pclean (a \
                 frequency or velocity in the source frame is not supported yet)",
            ));
        }
    }
    if !outframe.is_empty() {
        return Err(invalid(
            "outframe",
            outframe,
            "specmode='cubesource' makes its axis in the source's frame (labelled REST); leave \
             outframe empty",
        ));
    }
    Ok(())
}

/// `(nchan, start, width)` of the spectral axis.
fn spectral_axis(
    e: &EffectiveParams,
) -> Result<(Option<usize>, SpectralValue, SpectralValue), ParamError> {
    let nchan = match e.nchan {
        -1 => None,
        n if n >= 1 => Some(n as usize),
        n => {
            return Err(invalid(
                "nchan",
                n,
                "use -1 (all channels) or a positive number",
            ))
        }
    };
    let start = spectral_value("start", &e.start)?;
    let width = spectral_value("width", &e.width)?;
    if let SpectralValue::Channel(w) = width {
        if w < 1 {
            return Err(invalid("width", w, "a width in channels must be >= 1"));
        }
    }
    if let SpectralValue::Channel(s) = start {
        if s < 0 {
            return Err(invalid("start", s, "a start channel must be >= 0"));
        }
    }
    Ok((nchan, start, width))
}

fn outframe(e: &EffectiveParams) -> Result<String, ParamError> {
    let f = e.outframe.trim().to_ascii_uppercase();
    if !f.is_empty() && !OUTFRAMES.contains(&f.as_str()) {
        return Err(ParamError::Choice {
            param: "outframe",
            value: e.outframe.clone(),
            allowed: OUTFRAMES,
        });
    }
    Ok(f)
}

fn weighting(e: &EffectiveParams) -> Result<Weighting, ParamError> {
    let robust = e.robust;
    if !(-2.0..=2.0).contains(&robust) {
        return Err(invalid("robust", robust, "robust must lie in [-2, 2]"));
    }
    let npixels = count("npixels", e.npixels, "npixels must be >= 0")?;
    Ok(match super::tclean::weighting(&e.weighting)? {
        WeightingKind::Natural => Weighting::Natural,
        WeightingKind::Uniform => Weighting::Uniform,
        WeightingKind::Briggs => Weighting::Briggs { robust },
        WeightingKind::BriggsAbs => {
            let noise_jy = flux("noise", &e.noise)?;
            if robust == 0.0 && noise_jy == 0.0 {
                // tclean: "Absolute Briggs formula does not allow for robust 0 and estimated
                // noise per visibility 0" (every weight would be divided by 0).
                return Err(invalid(
                    "noise",
                    &e.noise,
                    "weighting='briggsabs' with robust=0 needs a noise > 0 (the weights would be divided by 0)",
                ));
            }
            Weighting::BriggsAbs { robust, noise_jy }
        }
        WeightingKind::BriggsBwTaper => {
            // tclean 6.7 (task_tclean.py) stops without imaging for the first two and warns
            // "not compatible" for the third, then weights uniformly: all refused here.
            // specmode='mvc' runs a cube major cycle, where tclean takes it.
            if super::tclean::specmode(&e.specmode)? == SpecMode::Mfs
                && !super::tclean::is_mvc(&e.specmode)
            {
                return Err(invalid(
                    "weighting",
                    &e.weighting,
                    "briggsbwtaper is a cube weighting: tclean 6.7 refuses it with specmode='mfs' or 'cont' (with deconvolver='mtmfs' it takes it through specmode='mvc'); use specmode='cube', specmode='mvc' or weighting='briggs'",
                ));
            }
            if npixels != 0 {
                return Err(invalid(
                    "npixels",
                    e.npixels,
                    "weighting='briggsbwtaper' takes no npixels (tclean refuses npixels != 0 with it); use npixels=0",
                ));
            }
            if !e.perchanweightdensity {
                return Err(invalid(
                    "perchanweightdensity",
                    false,
                    "weighting='briggsbwtaper' needs a density per channel: tclean only warns ('not compatible with perchanweightdensity=False') and then weights exactly as weighting='uniform' (measured: the same .sumwt); use perchanweightdensity=True, or weighting='uniform' for tclean's result",
                ));
            }
            Weighting::BriggsBwTaper { robust }
        }
        WeightingKind::SuperUniform => Weighting::SuperUniform {
            half_box: if npixels == 0 { 3 } else { npixels },
        },
    })
}

/// `wprojplanes` of the w-correcting gridders: `None` = automatic (tclean's -1), else the least
/// number of w planes; not read by the 2-D gridders `standard` and `mosaic` (as tclean).
fn wprojplanes(e: &EffectiveParams, gridder: Gridder) -> Result<Option<usize>, ParamError> {
    if !matches!(
        gridder,
        Gridder::WProject | Gridder::WideField | Gridder::AwProject
    ) {
        return Ok(None);
    }
    match e.wprojplanes {
        -1 => Ok(None),
        n if n >= 1 => Ok(Some(n as usize)),
        n => Err(invalid(
            "wprojplanes",
            n,
            "use -1 (automatic: as many w planes as epsilon needs) or a positive least number \
             of w planes",
        )),
    }
}

fn gridder(e: &EffectiveParams) -> Result<(Gridder, f64), ParamError> {
    let gridder = super::tclean::gridder(&e.gridder)?;
    let epsilon = e.epsilon;
    if !(1e-7..=1e-2).contains(&epsilon) {
        return Err(invalid(
            "epsilon",
            epsilon,
            "use a gridding accuracy between 1e-7 and 1e-2",
        ));
    }
    Ok((gridder, epsilon))
}

fn required(e: &EffectiveParams) -> Result<(), ParamError> {
    if e.vis.is_empty() || e.vis.iter().any(|v| v.trim().is_empty()) {
        return Err(ParamError::Missing {
            param: "vis",
            hint: "give one or more MeasurementSet paths, e.g. --vis ngc5921.ms",
        });
    }
    if e.imagename.trim().is_empty() {
        return Err(ParamError::Missing {
            param: "imagename",
            hint: "give the prefix of the output products, e.g. --imagename out/n5921",
        });
    }
    Ok(())
}

/// The selection of every MS: each parameter one string for all, or a list of one per MS.
fn selections(e: &EffectiveParams) -> Result<Vec<crate::Selection>, ParamError> {
    let n = e.vis.len();
    let pick = |param: &'static str, v: &crate::selection::PerMs, i: usize| {
        v.for_ms(i, n)
            .map(str::to_string)
            .map_err(|why| invalid(param, &v.0, why))
    };
    (0..n)
        .map(|i| {
            Ok(crate::Selection {
                field: pick("field", &e.field, i)?,
                spw: pick("spw", &e.spw, i)?,
                timerange: pick("timerange", &e.timerange, i)?,
                uvrange: pick("uvrange", &e.uvrange, i)?,
                antenna: pick("antenna", &e.antenna, i)?,
                scan: pick("scan", &e.scan, i)?,
                observation: pick("observation", &e.observation, i)?,
                intent: pick("intent", &e.intent, i)?,
            })
        })
        .collect()
}

impl ImagingParams {
    /// Validate raw parameters. Checks everything that can be checked without opening data.
    pub fn from_raw(raw: &RawParams) -> Result<Self, ParamError> {
        let e = raw.effective();
        required(&e)?;
        super::tclean::check_compat(&e)?;
        let datacolumn = DataColumnChoice::parse("datacolumn", &e.datacolumn)?;
        let selections = selections(&e)?;
        let (nx, ny) = image_size(&e.imsize)?;
        let (cell_x_rad, cell_y_rad) = cell_size(&e.cell)?;
        let phasecenter = phase_center(&e.phasecenter)?;
        Projection::parse("projection", &e.projection)
            .map_err(|_| invalid("projection", &e.projection, "only 'SIN' is supported"))?;
        let stokes = StokesSet::parse(&e.stokes)?;
        let specmode = super::tclean::specmode(&e.specmode)?;
        let (nchan, start, width) = spectral_axis(&e)?;
        let outframe = outframe(&e)?;
        if specmode == SpecMode::CubeSource {
            cubesource_compat(&phasecenter, &start, &width, &outframe)?;
        }
        let veltype = VelType::parse("veltype", &e.veltype)?;
        let restfreq_hz = match e.restfreq.first() {
            Some(s) if !s.trim().is_empty() => {
                Some(parse_freq_hz(s).map_err(|source| ParamError::Quantity {
                    param: "restfreq",
                    source,
                })?)
            }
            _ => None,
        };
        let interpolation = Interpolation::parse("interpolation", &e.interpolation)?;
        let (gridder, epsilon) = gridder(&e)?;
        let wprojplanes = wprojplanes(&e, gridder)?;
        let weighting = match weighting(&e)? {
            // tclean's mvc turns the per-channel density off (`usecubebriggs=False`), and
            // briggsbwtaper without it weights exactly as uniform (measured, tclean 6.7:
            // identical .sumwt per channel for mvc with briggsbwtaper and with uniform, and for
            // a cube with briggsbwtaper and perchanweightdensity=False; docs/decisions.md (s10-mvc)).
            Weighting::BriggsBwTaper { .. } if super::tclean::is_mvc(&e.specmode) => {
                Weighting::Uniform
            }
            w => w,
        };
        let npixels = count("npixels", e.npixels, "npixels must be >= 0")?;
        let pblimit = e.pblimit;
        if pblimit.is_nan() || pblimit.abs() >= 1.0 {
            return Err(invalid(
                "pblimit",
                pblimit,
                "use a value with |pblimit| < 1",
            ));
        }
        let psfcutoff = e.psfcutoff;
        if psfcutoff.is_nan() || psfcutoff <= 0.0 || psfcutoff >= 1.0 {
            return Err(invalid("psfcutoff", psfcutoff, "use a value in (0, 1)"));
        }
        let niter = count("niter", e.niter, "niter must be >= 0")?;
        let deconv = super::deconv::deconv_params(&e, niter)?;
        let format = ImageFormat::parse("format", &e.format)?;
        let nthreads = count(
            "nthreads",
            e.nthreads,
            "use 0 (all cores) or a positive number",
        )?;
        let memory_limit_bytes = memory_param("memory_limit", &e.memory_limit)?;
        const AUTO: &str = "use 0 (automatic) or a positive number";
        let cube_chunksize = count("cube_chunksize", e.cube_chunksize, AUTO)?;
        let threads_per_block = count("threads_per_block", e.threads_per_block, AUTO)?;
        let blocks_in_flight = count("blocks_in_flight", e.blocks_in_flight, AUTO)?;
        let cube_resident_chans = count("cube_resident_chans", e.cube_resident_chans, AUTO)?;
        let row_partitions = count("row_partitions", e.row_partitions, AUTO)?;
        if row_partitions > 0 && specmode != SpecMode::Mfs {
            return Err(invalid(
                "row_partitions",
                row_partitions,
                "row partitions are for specmode='mfs'; a cube is split by channel blocks (cube_chunksize)",
            ));
        }
        let parallel = crate::parallel::ParallelParams::from_effective(&e)?;
        let mosaic = super::MosaicParams::from_effective(&e, gridder)?;
        let awproject = super::AwProjectParams::from_effective(&e, gridder, deconv.deconvolver)?;
        let p = ImagingParams {
            vis: e.vis,
            imagename: e.imagename,
            datacolumn,
            selections,
            nx,
            ny,
            cell_x_rad,
            cell_y_rad,
            phasecenter,
            stokes,
            specmode,
            nchan,
            start,
            width,
            outframe,
            restfreq_hz,
            interpolation,
            veltype,
            perchanweightdensity: e.perchanweightdensity,
            gridder,
            wprojplanes,
            facets: if gridder == Gridder::WideField {
                e.facets.max(1) as usize
            } else {
                1
            },
            epsilon,
            kernel: GridKernel::parse("kernel", &e.kernel)?,
            weighting,
            npixels,
            uvtaper: super::parse_uvtaper(&e.uvtaper)?,
            pblimit,
            mosaic,
            awproject,
            vptable: (!e.vptable.trim().is_empty()).then(|| e.vptable.trim().to_string()),
            psfcutoff,
            niter,
            deconv,
            format,
            overwrite: e.overwrite,
            nthreads,
            memory_limit_bytes,
            cube_chunksize,
            threads_per_block,
            blocks_in_flight,
            cube_resident_chans,
            row_partitions,
            row_partition_by: super::RowPartitionBy::parse(
                "row_partition_by",
                &e.row_partition_by,
            )?,
            parallel,
        };
        super::mtmfs::check_combination(&p)?;
        Ok(p)
    }
}
