//! One channel block, start to finish: read only the data channels it needs, image, fit beams,
//! deconvolve, restore; the result is handed to the writer as finished planes.

use crate::deconvolve::deconvolve_block;
use crate::error::EngineError;
use crate::imaging::{BlockImages, ImagingContext, Source};
use crate::iteration::IterationSettings;
use crate::plan::SpectralPlan;
use crate::stages::{block_setup, fit_beam, PlaneOut, Reused};
use ndarray::Array2;
use pclean_core::params::{ImagingParams, RestoringBeam};
use pclean_core::{Beam, Direction};
use pclean_deconv::restore::{pbcor, restore_plane};
use pclean_grid::pb::{pb_image, pb_limit_in_place, PbModel};
use pclean_grid::weighting::ImagingWeighter;
use pclean_ms::DdRows;
use std::ops::Range;

/// What a block produces: planes `i * nstokes + s`, their primary beams (per channel), fitted
/// beams (same order as the planes), restored images (unless restoration waits for the common
/// beam), and warnings.
pub struct BlockResult {
    pub chans: Range<usize>,
    pub planes: Vec<PlaneOut>,
    pub pbs: Vec<Array2<f32>>,
    pub beams: Vec<Beam>,
    pub images: Option<Vec<Restored>>,
    pub warnings: Vec<String>,
}

/// A restored plane and, with pbcor, its primary-beam corrected version.
pub type Restored = (Array2<f32>, Option<Array2<f32>>);

/// Everything a block needs besides its channels.
pub struct BlockInputs<'a> {
    pub ctx: &'a ImagingContext<'a>,
    pub sources: &'a [Source],
    pub pb_model: &'a PbModel,
    pub reused: &'a Reused,
    pub start_models: Option<&'a [Array2<f32>]>,
    pub it: &'a IterationSettings,
    pub centre: &'a Direction,
    pub pbcor: bool,
    /// One weighting density over every channel (cube with `perchanweightdensity=false`),
    /// computed once for all blocks.
    pub shared_weighter: Option<&'a ImagingWeighter>,
}

/// Image (and deconvolve and restore) image channels `chans`; runs on the calling rayon pool.
pub fn run_block(inp: &BlockInputs, chans: Range<usize>) -> Result<BlockResult, EngineError> {
    let params = inp.ctx.params;
    let plan = inp.ctx.plan;
    let nst = params.stokes.0.len();
    let mut warnings = Vec::new();
    let pbs: Vec<Array2<f32>> = chans
        .clone()
        .map(|k| {
            let mut pb = pb_image(
                inp.pb_model,
                params.nx,
                params.ny,
                params.cell_x_rad,
                params.cell_y_rad,
                plan.freqs_hz[k],
            );
            // tclean zeroes the primary beam at and below |pblimit| (whatever pblimit's sign).
            pb_limit_in_place(pb.view_mut(), params.pblimit);
            pb
        })
        .collect();
    let sources = restrict_sources(inp.sources, plan, &chans)?;
    let ctx = inp.ctx;
    let weighters = match inp.shared_weighter {
        Some(w) => vec![w.clone(); chans.len()],
        None => ctx.weighters(&sources, chans.clone())?,
    };
    let mut first = if params.deconv.calcres || params.deconv.calcpsf {
        ctx.image_pass(
            &sources,
            chans.clone(),
            &weighters,
            None,
            None,
            params.deconv.calcpsf,
        )?
    } else {
        BlockImages::empty(chans.len(), nst)
    };
    inp.reused.apply(&mut first, &chans, nst);
    let mut beams = Vec::with_capacity(chans.len() * nst);
    for (i, k) in chans.clone().enumerate() {
        for s in 0..nst {
            // A plane whose fit fails takes the block's first good beam of the same Stokes.
            let fallback = (0..i)
                .map(|j| beams[j * nst + s])
                .find(|b: &Beam| b.is_valid())
                .unwrap_or_default();
            let b = fit_beam(
                params,
                &first.psf[i][s],
                first.sumwt[i][s],
                k,
                s,
                &mut |w| warnings.push(w),
                fallback,
            );
            beams.push(b);
        }
    }
    let planes: Vec<PlaneOut> = if params.niter == 0 && inp.start_models.is_none() {
        PlaneOut::from_dirty(first)
    } else {
        let setup = block_setup(params, &chans, &pbs, &beams, inp.start_models, inp.centre)?;
        deconvolve_block(
            ctx,
            &sources,
            chans.clone(),
            &weighters,
            first,
            setup,
            inp.it,
        )?
        .into_iter()
        .map(PlaneOut::from_plane)
        .collect()
    };
    drop(weighters);
    let images = if params.deconv.restoringbeam == RestoringBeam::Common {
        None
    } else {
        let mut v = Vec::with_capacity(planes.len());
        for (idx, plane) in planes.iter().enumerate() {
            let beam = match params.deconv.restoringbeam {
                RestoringBeam::User(b) => b,
                _ => beams[idx],
            };
            let image = restore(&plane.model, &plane.residual, &beam, params)?;
            let corrected = inp
                .pbcor
                .then(|| pbcor_plane(&image, &pbs[idx / nst], params.pblimit))
                .transpose()?;
            v.push((image, corrected));
        }
        Some(v)
    };
    Ok(BlockResult {
        chans,
        planes,
        pbs,
        beams,
        images,
        warnings,
    })
}

/// The sources with each selection narrowed to the data channels that can contribute to image
/// channels `chans`, so a block reads only those.
pub fn restrict_sources(
    sources: &[Source],
    plan: &SpectralPlan,
    chans: &Range<usize>,
) -> Result<Vec<Source>, EngineError> {
    let mut out = Vec::with_capacity(sources.len());
    for src in sources {
        let mut selected = src.selected.clone();
        let (t0, t1) = src.ms.meta().time_range_mjd_s;
        let mut first_two_hz = src.first_two_hz.clone();
        for g in selected.groups.iter_mut() {
            if g.chan_freq_hz.len() >= 2 {
                first_two_hz
                    .entry(g.ddid)
                    .or_insert([g.chan_freq_hz[0], g.chan_freq_hz[1]]);
            }
            let keep = data_channels_for(plan, src.index, g, chans, (t0, t1))?;
            let (ids, freqs): (Vec<usize>, Vec<f64>) = g
                .chan_ids
                .iter()
                .zip(&g.chan_freq_hz)
                .filter(|(c, f)| keep(**c, **f))
                .map(|(c, f)| (*c, *f))
                .unzip();
            g.chan_ids = ids;
            g.chan_freq_hz = freqs;
        }
        selected.groups.retain(|g| !g.chan_ids.is_empty());
        out.push(Source {
            index: src.index,
            ms: src.ms.clone(),
            selected,
            column: src.column,
            cache: src.cache.clone(),
            first_two_hz,
        });
    }
    Ok(out)
}

/// A predicate on (data channel id, its frequency) saying whether the channel can contribute to
/// image channels `chans`.
fn data_channels_for(
    plan: &SpectralPlan,
    ms_index: usize,
    g: &DdRows,
    chans: &Range<usize>,
    times: (f64, f64),
) -> Result<Box<dyn Fn(usize, f64) -> bool>, EngineError> {
    let Some(conv) = &plan.conversion else {
        let map = plan
            .chan_map
            .get(&(ms_index, g.spw_id))
            .cloned()
            .unwrap_or_default();
        let chans = chans.clone();
        return Ok(Box::new(move |c, _| {
            map.get(c)
                .copied()
                .flatten()
                .is_some_and(|k| chans.contains(&k))
        }));
    };
    // Another frame: the block's image frequencies (widened by one image channel on each side)
    // seen in the data frame at any time of the observation, widened by three data channels
    // (the interpolation stencil). The factor changes slowly and monotonically over hours;
    // sampling 17 times bounds it with margin to spare.
    let mut fmin = f64::INFINITY;
    let mut fmax = f64::NEG_INFINITY;
    let step = plan.cdelt_hz.abs();
    for k in [chans.start, chans.end - 1] {
        fmin = fmin.min(plan.freqs_hz[k] - step);
        fmax = fmax.max(plan.freqs_hz[k] + step);
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for i in 0..=16 {
        let t = times.0 + (times.1 - times.0) * i as f64 / 16.0;
        let fac = conv.factor(t)?;
        lo = lo.min(fmin / fac);
        hi = hi.max(fmax / fac);
    }
    let dw = g
        .chan_freq_hz
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0f64, f64::max);
    let (lo, hi) = (lo - 3.0 * dw, hi + 3.0 * dw);
    Ok(Box::new(move |_, f| f >= lo && f <= hi))
}

/// `.image` = model convolved with the restoring beam + residual (the residual itself when the
/// model is empty, so niter=0 gives image == residual exactly).
pub fn restore(
    model: &Array2<f32>,
    residual: &Array2<f32>,
    beam: &Beam,
    p: &ImagingParams,
) -> Result<Array2<f32>, EngineError> {
    if model.iter().all(|v| *v == 0.0) {
        return Ok(residual.clone());
    }
    restore_plane(
        model.view(),
        residual.view(),
        beam,
        p.cell_x_rad,
        p.cell_y_rad,
    )
    .map_err(|e| EngineError::Param(format!("restoration: {e}")))
}

/// `.image.pbcor`: image / pb inside the primary-beam limit, NaN (blanked) outside.
pub fn pbcor_plane(
    image: &Array2<f32>,
    pb: &Array2<f32>,
    pblimit: f64,
) -> Result<Array2<f32>, EngineError> {
    pbcor(image.view(), pb.view(), pblimit as f32)
        .map_err(|e| EngineError::Param(format!("pbcor: {e}")))
}
