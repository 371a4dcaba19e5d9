//! The awproject gridder of a run (`gridder='awproject'`): the parallactic angle of every
//! selected integration, tclean's A-term bins (`computepastep`, `rotatepastep`), and the
//! A-stacking gridder over them (`pclean_grid::awproj::gridder`). Its images are normalised by
//! the weight image as a mosaic's (`super::mosaic`: `normtype`, `.pb`, `.weight`).
//!
//! Several fields (an A-projection mosaic, as tclean's VLASS-style imaging): every field a
//! pointing, its beams centred on the field's direction (tclean's phase gradient on the
//! convolution functions), one grid set per field and bin; each integration's parallactic angle
//! from its own field's direction, all integrations binned together (tclean keys its functions by
//! angle only; measured: one set of functions at the first integration's angle, "Phase Grad" per
//! field).

use super::gridder::RunGridder;
use crate::error::EngineError;
use crate::source::Source;
use pclean_core::direction::SkyContext;
use pclean_core::params::ImagingParams;
use pclean_core::Direction;
use pclean_grid::awproj::band_geometry;
use pclean_grid::awproj::gridder::{AwGridder, AwInner, AwPointing};
use pclean_grid::awproj::pa::{bin_parallactic_angles, parallactic_angle};

/// The A-stacking gridder for `sources` (one MS or several: `check_sources`; one field, or
/// several: an A-projection mosaic),
/// its rows gridded by `base` (the ES gridder, or the w-gridder with `wprojplanes` other than
/// 1), the beams at `freq_hz`, each field's centred on its direction in the image about `centre`.
pub fn aw_gridder(
    params: &ImagingParams,
    base: RunGridder,
    sources: &[Source],
    centre: &Direction,
    sky: &SkyContext,
    freq_hz: f64,
) -> Result<AwGridder, EngineError> {
    check_sources(params, sources, centre, sky)?;
    let src = &sources[0];
    let meta = src.ms.meta();
    // The selected fields of every MS (the same FIELD_ID is the same direction in each:
    // `check_sources`), each once.
    let mut fields: Vec<usize> = Vec::new();
    for s in sources {
        for f in &s.selected.field_ids {
            if !fields.contains(f) {
                fields.push(*f);
            }
        }
    }
    let fields = &fields;
    let mfs = params.specmode == pclean_core::params::SpecMode::Mfs;
    let telescope = meta.observatory.name.as_str();
    // aterm=False needs no aperture model (tclean's unit A-term).
    let geom = band_geometry(telescope, freq_hz).filter(|_| params.awproject.aterm);
    if params.awproject.aterm && geom.is_none() {
        return Err(EngineError::param(
            "gridder",
            format!(
                "gridder='awproject' has aperture models for the VLA/EVLA only (as CASA's); \
                 telescope '{telescope}' at {:.4} GHz has none (aterm=False with psterm=True \
                 needs none)",
                freq_hz / 1e9
            ),
        ));
    }
    let inner = match base {
        RunGridder::Es(g) => AwInner::Es(g),
        RunGridder::W(g) => AwInner::W(g),
        _ => {
            return Err(EngineError::param(
                "kernel",
                "gridder='awproject' uses kernel='es'",
            ))
        }
    };
    if fields.is_empty() {
        return Err(EngineError::internal("awproject: no selected field"));
    }
    // Each field a pointing: its direction's pixel in the image (as the mosaic gridder's).
    let mut pointings = Vec::with_capacity(fields.len());
    for &f in fields {
        let owner = sources
            .iter()
            .find(|s| s.selected.field_ids.contains(&f))
            .unwrap_or(src);
        let field = owner.ms.meta().fields.get(f).ok_or_else(|| {
            EngineError::internal(format!("selected field {f} is not in the FIELD table"))
        })?;
        let d = field.phase_dir.to_frame(centre.frame, sky).map_err(|e| {
            EngineError::param(
                "gridder",
                format!(
                    "awproject: field '{}' cannot be converted to the image frame: {e}",
                    field.name
                ),
            )
        })?;
        let [l, m, _] = centre.lmn_of(&d);
        pointings.push(AwPointing {
            field_id: f as i32,
            centre_px: [
                (params.nx / 2) as f64 - l / params.cell_x_rad,
                (params.ny / 2) as f64 + m / params.cell_y_rad,
            ],
        });
    }
    // usepointing=True: each baseline's beams on its antennas' POINTING directions instead.
    let by_baseline = if params.mosaic.usepointing {
        let (p, table) = super::awproject_pointing::baseline_pointings(
            params,
            &src.ms,
            &src.selected,
            centre,
            sky,
            freq_hz,
        )?;
        tracing::info!(
            "awproject: usepointing=True: {} distinct baseline beam centres (the mean of both \
             antennas' POINTING directions), pixel(s) {}",
            p.len(),
            p.iter()
                .map(|q| format!("({:.2}, {:.2})", q.centre_px[0], q.centre_px[1]))
                .collect::<Vec<_>>()
                .join(", ")
        );
        pointings = p;
        Some(table)
    } else {
        None
    };
    let aw = &params.awproject;
    // Each MS's antennas' mean position: tclean's angle is the mean of the antennas' feed angles.
    let itrf_of: Vec<[f64; 3]> = sources
        .iter()
        .map(|s| {
            let ants: Vec<_> =
                s.ms.meta()
                    .antennas
                    .iter()
                    .filter(|a| !a.flag_row)
                    .collect();
            let mut itrf = [0.0; 3];
            for a in &ants {
                for (k, x) in itrf.iter_mut().enumerate() {
                    *x += a.position_itrf_m[k] / ants.len().max(1) as f64;
                }
            }
            itrf
        })
        .collect();
    // Every selected integration (TIME, FIELD_ID, MS) of every MS, in time order, its angle from
    // its field and its MS's antennas (an integration in two MSs counted once).
    let mut times3: Vec<(f64, usize, usize)> = sources
        .iter()
        .enumerate()
        .flat_map(|(k, s)| {
            s.selected
                .groups
                .iter()
                .flat_map(|g| g.epochs.iter().copied())
                .filter(|(_, f)| s.selected.field_ids.contains(f))
                .map(move |(t, f)| (t, f, k))
        })
        .collect();
    times3.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    times3.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    let times: Vec<(f64, usize)> = times3.iter().map(|(t, f, _)| (*t, *f)).collect();
    let Some(geom) = geom else {
        tracing::info!(
            "awproject: aterm=False, psterm=True: tclean's AWProjectFT with a unit A-term (the \
             spheroidal alone in its functions: in the PSF, weight image and .pb; no kernel-sum \
             flux scale), one grid set per pointing (no parallactic-angle bins), wbawp={} and \
             conjbeams={} change nothing without the aperture",
            aw.wbawp,
            aw.conjbeams
        );
        let times = times.iter().map(|(t, f)| (*t, *f as i32)).collect();
        let mut g = AwGridder::mosaic_without_aterm(inner, 0, pointings, times, freq_hz)
            .map_err(EngineError::Grid)?
            .with_psterm(aw.psterm);
        if let Some(table) = by_baseline {
            g = g
                .with_baseline_pointings(table)
                .map_err(EngineError::Grid)?;
        }
        return Ok(g);
    };
    let pas = times3
        .iter()
        .map(|(t, f, k)| {
            let field = &sources[*k].ms.meta().fields[*f];
            parallactic_angle(&field.phase_dir, *t, itrf_of[*k], sky.dut1_s).map_err(|e| {
                EngineError::param(
                    "gridder",
                    format!(
                        "awproject: the parallactic angle of field '{}': {e}",
                        field.name
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bins = bin_parallactic_angles(&pas, aw.bin_step_deg().to_radians());
    let counts = bins.counts();
    tracing::info!(
        "gridder awproject: {} parallactic-angle bins (computepastep {} deg, rotatepastep {} \
         deg; A-term of the {telescope} at {:.4} GHz, ray-traced aperture): angles {} deg, \
         integrations per bin {:?}",
        bins.pa_rad.len(),
        aw.computepastep_deg,
        aw.rotatepastep_deg,
        freq_hz / 1e9,
        bins.pa_rad
            .iter()
            .map(|p| format!("{:.3}", p.to_degrees()))
            .collect::<Vec<_>>()
            .join(", "),
        counts
    );
    if !aw.cfcache.trim().is_empty() {
        tracing::info!(
            "cfcache '{}': pclean computes its beams at run time (image-domain A-stacking) and \
             neither reads nor writes convolution functions there",
            aw.cfcache
        );
    }
    tracing::info!(
        "awproject: wbawp={} (cubes: the A-term at each image plane's frequency; mfs: at each \
         spectral window's), conjbeams={} (with wbawp over several windows: the conjugate \
         A-terms below; otherwise no effect), \
         psterm={}, aterm=True",
        aw.wbawp,
        aw.conjbeams,
        if aw.psterm {
            "True (tclean's spheroidal over the field of view in the convolution functions: in \
             the PSF, weight image and .pb; no kernel-sum flux scale)"
        } else {
            "False"
        }
    );
    let time_bin = times
        .iter()
        .zip(bins.bin_of.iter())
        .map(|((t, f), b)| (*t, *f as i32, *b))
        .collect();
    if pointings.len() > 1 && by_baseline.is_none() {
        tracing::info!(
            "awproject: {} fields, an A-projection mosaic: each field's beams centred on its \
             direction, pixel(s) {} (a grid set per field and bin)",
            pointings.len(),
            pointings
                .iter()
                .map(|p| format!("({:.2}, {:.2})", p.centre_px[0], p.centre_px[1]))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut g = AwGridder::mosaic(inner, 0, geom, bins.pa_rad, pointings, time_bin, freq_hz)
        .map_err(EngineError::Grid)?
        .with_psterm(aw.psterm);
    if aw.wbawp && mfs {
        let (beam_freqs, chan_beam) = wideband_beams_of(sources);
        let conj = beam_freqs.len() > 1 && aw.conjbeams;
        if conj {
            // tclean's conjugate frequency `sqrt(2 nu0^2 - nu^2)` has no value above
            // `sqrt(2) nu0`.
            let top = chan_beam_max(sources);
            if top > std::f64::consts::SQRT_2 * freq_hz {
                return Err(EngineError::param(
                    "conjbeams",
                    format!(
                        "conjbeams=True: the channel at {:.4} GHz is above sqrt(2) times the \
                         image frequency ({:.4} GHz), where tclean's conjugate frequency \
                         sqrt(2 nu0^2 - nu^2) has no value; select a narrower band or use \
                         conjbeams=False",
                        top / 1e9,
                        freq_hz / 1e9
                    ),
                ));
            }
            g = g.with_conjugate_beams(freq_hz).map_err(EngineError::Grid)?;
        }
        // One window: its A-term stays at the image frequency (measured on awproj_small.ms:
        // tclean's wbawp=True .pb is 3.2e-3 from pclean's there, 7.1e-3 from the window's
        // highest frequency's; docs/decisions.md (s16-wbawp)).
        if beam_freqs.len() > 1 {
            for f in &beam_freqs {
                let band = band_geometry(telescope, *f).map(|b| b.name);
                if band != Some(geom.name) {
                    return Err(EngineError::param(
                        "wbawp",
                        format!(
                            "wbawp=True: the A-term at {:.4} GHz is not in the {} band of the \
                             image frequency ({:.4} GHz); image each band apart or use \
                             wbawp=False",
                            f / 1e9,
                            geom.name,
                            freq_hz / 1e9
                        ),
                    ));
                }
            }
            tracing::info!(
                "awproject: wbawp=True in mfs: A-terms at {} frequencies (each spectral \
                 window's highest selected channel, as tclean's AWConvFunc; every channel \
                 through the nearest): {} GHz (a grid set per frequency, pointing and bin)",
                beam_freqs.len(),
                beam_freqs
                    .iter()
                    .map(|f| format!("{:.4}", f / 1e9))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            g = g
                .with_beam_frequencies(beam_freqs, chan_beam)
                .map_err(EngineError::Grid)?;
            if conj {
                let f = g.beam_frequencies().to_vec();
                tracing::info!(
                    "awproject: conjbeams=True: each channel gridded (PSF, residual, weight) \
                     through the A-term nearest its conjugate frequency sqrt(2 nu0^2 - nu^2) \
                     about nu0 = {:.4} GHz, each A-term's weight functions paired with the \
                     A-term nearest its own conjugate frequency ({}); prediction through each \
                     channel's nearest (tclean's CFBuffer::initMaps, AWConvFunc)",
                    freq_hz / 1e9,
                    f.iter()
                        .map(|x| {
                            let c = g.conjugate_frequency(*x).unwrap_or(*x);
                            let p = f
                                .iter()
                                .copied()
                                .min_by(|a, b| (a - c).abs().total_cmp(&(b - c).abs()))
                                .unwrap_or(*x);
                            format!("{:.4} with {:.4} GHz", x / 1e9, p / 1e9)
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
    }
    if let Some(table) = by_baseline {
        g = g
            .with_baseline_pointings(table)
            .map_err(EngineError::Grid)?;
    }
    if g.psterm() {
        return Ok(g);
    }
    tracing::info!(
        "awproject: tclean's convolution-function sum over the sub-cell phases, mean {:.4} \
         (per bin: the flux scale of tclean's awproject images, applied per visibility)",
        g.kernel_sum_means().iter().sum::<f64>() / g.nbins().max(1) as f64
    );
    Ok(g)
}

/// Several MSs with awproject (tclean images them through the same functions): the same
/// telescope, no `usepointing` (its baseline table is keyed by TIME and antennas, which two MSs
/// may share), and a FIELD_ID selected in several MSs at the same direction in each (the grid
/// sets are keyed by it); refused otherwise, named.
fn check_sources(
    params: &ImagingParams,
    sources: &[Source],
    centre: &Direction,
    sky: &SkyContext,
) -> Result<(), EngineError> {
    let Some(first) = sources.first() else {
        return Err(EngineError::internal("awproject: no MeasurementSet"));
    };
    if sources.len() == 1 {
        return Ok(());
    }
    if params.mosaic.usepointing {
        return Err(EngineError::param(
            "usepointing",
            "usepointing=True with gridder='awproject' and several MeasurementSets is not \
             supported by pclean yet; image one MS, or concatenate them (CASA's concat)",
        ));
    }
    let telescope = &first.ms.meta().observatory.name;
    let mut seen: Vec<(usize, [f64; 3])> = Vec::new();
    for s in sources {
        let meta = s.ms.meta();
        if !meta.observatory.name.eq_ignore_ascii_case(telescope) {
            return Err(EngineError::param(
                "vis",
                format!(
                    "gridder='awproject' over several MeasurementSets needs one telescope (its \
                     aperture model); '{}' and '{telescope}' differ: image them apart",
                    meta.observatory.name
                ),
            ));
        }
        for &f in &s.selected.field_ids {
            let Some(field) = meta.fields.get(f) else {
                continue;
            };
            let Ok(d) = field.phase_dir.to_frame(centre.frame, sky) else {
                continue;
            };
            let lmn = centre.lmn_of(&d);
            match seen.iter().find(|(g, _)| *g == f) {
                // A thousandth of a pixel: the same direction.
                Some((_, o))
                    if (o[0] - lmn[0]).hypot(o[1] - lmn[1]) > 1e-3 * params.cell_x_rad.abs() =>
                {
                    return Err(EngineError::param(
                        "vis",
                        format!(
                            "gridder='awproject' over several MeasurementSets: FIELD_ID {f} has \
                             different directions in them (pclean keys its A-term grid sets by \
                             FIELD_ID); concatenate them (CASA's concat) or select the same \
                             fields"
                        ),
                    ))
                }
                Some(_) => {}
                None => seen.push((f, lmn)),
            }
        }
    }
    Ok(())
}

/// [`wideband_beams`] over every MS's selection: the union of their A-term frequencies.
/// The highest selected channel frequency of `sources` (Hz).
fn chan_beam_max(sources: &[Source]) -> f64 {
    sources
        .iter()
        .flat_map(|s| s.selected.groups.iter())
        .flat_map(|g| g.chan_freq_hz.iter().copied())
        .fold(0.0, f64::max)
}

fn wideband_beams_of(sources: &[Source]) -> (Vec<f64>, Vec<(f64, usize)>) {
    let mut freqs: Vec<f64> = sources
        .iter()
        .flat_map(|s| wideband_beams(&s.selected).0)
        .collect();
    freqs.sort_by(f64::total_cmp);
    freqs.dedup();
    let nearest = freqs.iter().enumerate().map(|(i, f)| (*f, i)).collect();
    (freqs, nearest)
}

/// tclean's `wbawp=True` A-terms of an mfs plane, ascending (CASA's
/// `AWConvFunc::makeFreqValList`: one per selected spectral window, at its highest selected
/// frequency), and the beam of a channel: the A-term nearest its frequency, whichever window it
/// belongs to (`CFBuffer::nearestFreqNdx`; measured, docs/decisions.md (s16-wbawp)), as the
/// `(frequency, beam)` table [`AwGridder::with_beam_frequencies`] takes.
pub fn wideband_beams(selected: &pclean_ms::SelectedData) -> (Vec<f64>, Vec<(f64, usize)>) {
    let mut spws: Vec<(usize, f64)> = Vec::new();
    for g in &selected.groups {
        let hi = g.chan_freq_hz.iter().fold(f64::MIN, |m, f| m.max(*f));
        match spws.iter_mut().find(|(s, _)| *s == g.spw_id) {
            Some((_, h)) => *h = h.max(hi),
            None => spws.push((g.spw_id, hi)),
        }
    }
    let mut freqs: Vec<f64> = spws.iter().map(|(_, f)| *f).collect();
    freqs.sort_by(f64::total_cmp);
    freqs.dedup();
    let nearest = freqs.iter().enumerate().map(|(i, f)| (*f, i)).collect();
    (freqs, nearest)
}
