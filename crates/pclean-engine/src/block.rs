//! One channel block, start to finish: read only the data channels it needs, weight, image plane
//! by plane, fit beams, deconvolve, restore; every plane goes to the products as soon as it is final
//! and is freed (docs/memory.md: what is alive when).

use crate::deconvolve::{deconvolve_block, FirstImages};
use crate::error::EngineError;
use crate::imaging::{ImagingContext, Source};
use crate::iteration::IterationSettings;
use crate::plan::SpectralPlan;
use crate::stages::{block_setup, fit_beam, stop_text, Reused};
use ndarray::{Array2, ArrayView2};
use pclean_core::params::{ImagingParams, RestoringBeam};
use pclean_core::{Beam, Direction};
use pclean_deconv::restore::{pbcor, restore_plane};
use pclean_grid::pb::{pb_image, pb_limit_in_place, PbModel};
use pclean_grid::weighting::ImagingWeighter;
use pclean_ms::DdRows;
use std::ops::Range;

/// Where a block's final planes go: `put(product, image channel, stokes, plane)`.
pub type PutPlane<'a> =
    dyn Fn(&'static str, usize, usize, ArrayView2<f32>) -> Result<(), EngineError> + Sync + 'a;

/// What a block reports besides its planes (already written): per plane `i * nstokes + s`, its
/// numbers and fitted beam, and warnings.
pub struct BlockResult {
    pub chans: Range<usize>,
    pub planes: Vec<PlaneSummary>,
    pub beams: Vec<Beam>,
    pub warnings: Vec<String>,
}

/// The numbers of one written plane.
pub struct PlaneSummary {
    pub sumwt: f64,
    pub iterations: usize,
    pub major_cycles: usize,
    pub stop_reason: String,
    /// Peak |residual| over the image.
    pub peak_residual: f64,
    /// Sum of the model, Jy.
    pub model_flux_jy: f64,
}

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
    /// Whether the products include `.mask`.
    pub mask_product: bool,
    /// One weighting density over every channel (cube with `perchanweightdensity=false`),
    /// computed once for all blocks.
    pub shared_weighter: Option<&'a ImagingWeighter>,
}

impl BlockInputs<'_> {
    /// The primary beam of image channel `k`, zeroed at and below |pblimit| (as tclean, whatever
    /// pblimit's sign). Computed when needed rather than kept: it is cheap next to imaging.
    pub fn pb(&self, k: usize) -> Array2<f32> {
        let p = self.ctx.params;
        let mut pb = pb_image(
            self.pb_model,
            p.nx,
            p.ny,
            p.cell_x_rad,
            p.cell_y_rad,
            self.ctx.plan.freqs_hz[k],
        );
        pb_limit_in_place(pb.view_mut(), p.pblimit);
        pb
    }
}

/// Image (and deconvolve and restore) image channels `chans` on the calling rayon pool; each
/// final plane is handed to `put` and freed.
pub fn run_block(
    inp: &BlockInputs,
    chans: Range<usize>,
    put: &PutPlane,
) -> Result<BlockResult, EngineError> {
    let params = inp.ctx.params;
    let plan = inp.ctx.plan;
    let ctx = inp.ctx;
    let nst = params.stokes.0.len();
    let mut warnings = Vec::new();
    let sources = restrict_sources(inp.sources, plan, &chans)?;
    let mut owned = None;
    if inp.shared_weighter.is_none() {
        owned = Some(ctx.weighters(&sources, chans.clone())?);
    }
    let weighter = |i: usize| -> &ImagingWeighter {
        match (inp.shared_weighter, &owned) {
            (Some(w), _) => w,
            (None, Some(ws)) => &ws[i.min(ws.len() - 1)],
            (None, None) => unreachable!("weighters are made when none is shared"),
        }
    };
    let deconvolve = params.niter > 0 || inp.start_models.is_some();
    let mut beams: Vec<Beam> = Vec::with_capacity(chans.len() * nst);
    let mut firsts: Vec<FirstImages> = Vec::new();
    let mut summaries = Vec::new();
    for (i, k) in chans.clone().enumerate() {
        for s in 0..nst {
            let idx = k * nst + s;
            let (psf, weights) = match &inp.reused.psf {
                Some(r) => (
                    r[idx].clone(),
                    ctx.plane_weights(&sources, k, s, weighter(i))?,
                ),
                None => {
                    let (psf, _, weights) = ctx.psf_plane(&sources, k, s, weighter(i))?;
                    (psf, weights)
                }
            };
            let (residual, sumwt) = match (&inp.reused.residual, &inp.reused.sumwt) {
                (Some(r), Some(w)) => (r[idx].clone(), w[idx]),
                _ => ctx.residual_plane(&sources, k, s, &weights, None)?,
            };
            // A plane whose fit fails takes the block's first good beam of the same Stokes.
            let fallback = (0..i)
                .map(|j| beams[j * nst + s])
                .find(|b: &Beam| b.is_valid())
                .unwrap_or_default();
            let beam = fit_beam(
                params,
                &psf,
                sumwt,
                k,
                s,
                &mut |w| warnings.push(w),
                fallback,
            );
            beams.push(beam);
            put("psf", k, s, psf.view())?;
            if deconvolve {
                firsts.push(FirstImages {
                    residual,
                    psf,
                    sumwt,
                    weights,
                });
            } else {
                drop((psf, weights));
                let model = Array2::zeros(residual.dim());
                let out = FinalPlane {
                    residual,
                    model,
                    mask: None,
                    sumwt,
                    iterations: 0,
                    major_cycles: 0,
                    stop_reason: "no deconvolution (niter=0)".into(),
                };
                summaries.push(write_plane(inp, k, s, beam, out, put)?);
            }
        }
    }
    // Every plane has its weights: the densities are no longer needed.
    drop(owned);
    if deconvolve {
        let setup = block_setup(params, &chans, inp, &beams, inp.start_models, inp.centre)?;
        let planes = deconvolve_block(ctx, &sources, chans.clone(), firsts, setup, inp.it)?;
        // PSFs, imaging weights and deconvolvers are freed before anything is restored.
        let finals: Vec<FinalPlane> = planes
            .into_iter()
            .map(|p| FinalPlane {
                stop_reason: p.progress.stop.map_or("none".to_string(), stop_text),
                iterations: p.progress.iterations,
                major_cycles: p.progress.major_cycles,
                residual: p.residual,
                model: p.model,
                mask: p.mask,
                sumwt: p.sumwt,
            })
            .collect();
        for (idx, out) in finals.into_iter().enumerate() {
            let (i, s) = (idx / nst, idx % nst);
            summaries.push(write_plane(inp, chans.start + i, s, beams[idx], out, put)?);
        }
    }
    Ok(BlockResult {
        chans,
        planes: summaries,
        beams,
        warnings,
    })
}

/// A plane after deconvolution (its PSF is already written).
struct FinalPlane {
    residual: Array2<f32>,
    model: Array2<f32>,
    mask: Option<Array2<bool>>,
    sumwt: f64,
    iterations: usize,
    major_cycles: usize,
    stop_reason: String,
}

/// Write a final plane's products (residual, model, mask, restored image and its pbcor, pb,
/// weight, sumwt), freeing each as soon as it is written.
fn write_plane(
    inp: &BlockInputs,
    k: usize,
    s: usize,
    fitted: Beam,
    p: FinalPlane,
    put: &PutPlane,
) -> Result<PlaneSummary, EngineError> {
    let params = inp.ctx.params;
    let summary = PlaneSummary {
        sumwt: p.sumwt,
        iterations: p.iterations,
        major_cycles: p.major_cycles,
        stop_reason: p.stop_reason,
        peak_residual: p.residual.iter().fold(0.0f64, |m, v| m.max(v.abs() as f64)),
        model_flux_jy: p.model.iter().map(|v| *v as f64).sum(),
    };
    put("residual", k, s, p.residual.view())?;
    put("model", k, s, p.model.view())?;
    put(
        "sumwt",
        k,
        s,
        Array2::from_elem((1, 1), p.sumwt as f32).view(),
    )?;
    if inp.mask_product {
        let m = match &p.mask {
            Some(m) => m.mapv(|v| if v { 1.0f32 } else { 0.0 }),
            None => Array2::<f32>::ones((params.ny, params.nx)),
        };
        put("mask", k, s, m.view())?;
    }
    drop(p.mask);
    let mut pb = None;
    if params.deconv.restoringbeam != RestoringBeam::Common {
        let beam = match params.deconv.restoringbeam {
            RestoringBeam::User(b) => b,
            _ => fitted,
        };
        let image = if p.model.iter().all(|v| *v == 0.0) {
            // .image == .residual exactly when the model is empty.
            drop(p.model);
            p.residual
        } else {
            let image = restore(&p.model, &p.residual, &beam, params)?;
            drop((p.model, p.residual));
            image
        };
        put("image", k, s, image.view())?;
        if inp.pbcor {
            let b = pb.insert(inp.pb(k));
            let corrected = pbcor_plane(&image, b, params.pblimit)?;
            drop(image);
            put("image.pbcor", k, s, corrected.view())?;
        }
    }
    let pb = pb.unwrap_or_else(|| inp.pb(k));
    put("pb", k, s, pb.view())?;
    let w = p.sumwt as f32;
    let weight = pb.mapv(|v| w * v * v);
    drop(pb);
    put("weight", k, s, weight.view())?;
    Ok(summary)
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
    .map_err(|e| EngineError::param_source("restoringbeam", "restoration", e))
}

/// `.image.pbcor`: image / pb inside the primary-beam limit, NaN (blanked) outside.
pub fn pbcor_plane(
    image: &Array2<f32>,
    pb: &Array2<f32>,
    pblimit: f64,
) -> Result<Array2<f32>, EngineError> {
    pbcor(image.view(), pb.view(), pblimit as f32)
        .map_err(|e| EngineError::param_source("pbcor", "pbcor", e))
}
