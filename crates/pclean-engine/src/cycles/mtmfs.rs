//! `deconvolver='mtmfs'`: one mfs block of Taylor terms start to finish, as tclean. The Taylor
//! PSFs and residuals come from one pass each over the visibilities (`imaging::taylor`); the
//! major/minor loop runs tclean's iteration control on the tt0 residual (peak, masks with
//! auto-multithresh on tt0, tt0's PSF sidelobe for the cycle threshold) with the multi-term
//! minor cycle (`pclean_deconv::mtmfs`), and each major cycle predicts from every Taylor model.
//! Restored images are `model_t * beam + (H^-1 R)_t` (the principal solution of the residuals,
//! as tclean's), then `.alpha`, `.alpha.error`, `.beta` (see [`spectral_index`]).

use super::cycle_ckpt::{record_views, take_over, CycleCheckpoint, PlaneView};
use super::iteration::{noise_stats, IterationControl, PlaneProgress, StopReason};
use super::masking::MaskInputs;
use super::mvc::MvcImaging;
use super::{block_setup, stop_text};
use crate::error::EngineError;
use crate::exec::block::{BlockInputs, BlockResult, PlaneSummary, PutPlane};
use crate::imaging::mosaic;
use crate::imaging::taylor::TaylorPsfs;
use crate::products::{fit_beam, pbcor_plane, restored_image};
use crate::source::restrict_sources;
use ndarray::{Array2, ArrayView2};
use pclean_core::params::RestoringBeam;
use pclean_core::Beam;
use pclean_deconv::automask::psf_sidelobe_level;
use pclean_deconv::minor::masked_peak;
use pclean_deconv::mtmfs::{MultiTermClean, TermImages};
use std::ops::Range;
use tracing::info;

/// Product names of Taylor term `t` (at most 2 x 4 - 1 terms).
pub const PSF: [&str; 7] = [
    "psf.tt0", "psf.tt1", "psf.tt2", "psf.tt3", "psf.tt4", "psf.tt5", "psf.tt6",
];
pub const SUMWT: [&str; 7] = [
    "sumwt.tt0",
    "sumwt.tt1",
    "sumwt.tt2",
    "sumwt.tt3",
    "sumwt.tt4",
    "sumwt.tt5",
    "sumwt.tt6",
];
pub const RESIDUAL: [&str; 4] = [
    "residual.tt0",
    "residual.tt1",
    "residual.tt2",
    "residual.tt3",
];
pub const MODEL: [&str; 4] = ["model.tt0", "model.tt1", "model.tt2", "model.tt3"];
pub const IMAGE: [&str; 4] = ["image.tt0", "image.tt1", "image.tt2", "image.tt3"];
/// With `pbcor`, tclean 6.7 divides every restored Taylor term by `.pb.tt0` and writes the pb's
/// higher Taylor terms `.pb.tt1..` as zeros (no mask) beside `.pb.tt0` (measured: standard
/// gridder, nterms 2 and 3; `scripts/dev/make_interop_refs.py`).
pub const IMAGE_PBCOR: [&str; 4] = [
    "image.tt0.pbcor",
    "image.tt1.pbcor",
    "image.tt2.pbcor",
    "image.tt3.pbcor",
];
pub const PB: [&str; 4] = ["pb.tt0", "pb.tt1", "pb.tt2", "pb.tt3"];
/// A mosaic's weight image of every PSF term (tclean 6.7 writes `.weight.tt0 .. tt(2 nterms - 2)`
/// for `gridder='mosaic'`; the other gridders `.weight.tt0` alone in pclean).
pub const WEIGHT: [&str; 7] = [
    "weight.tt0",
    "weight.tt1",
    "weight.tt2",
    "weight.tt3",
    "weight.tt4",
    "weight.tt5",
    "weight.tt6",
];

/// Image and deconvolve the mfs channel (`chans` is `0..1`) of an mtmfs run.
pub fn run_block(
    inp: &BlockInputs,
    chans: Range<usize>,
    put: &PutPlane,
) -> Result<BlockResult, EngineError> {
    let ctx = inp.ctx;
    let p = ctx.params;
    let d = &p.deconv;
    let (k, s) = (chans.start, 0);
    let n = d.nterms;
    let reffreq = ctx.plan.freqs_hz[k];
    let mut warnings = Vec::new();
    let sources = restrict_sources(inp.sources, ctx.plan, &chans)?;
    let weighter = ctx.weighters(&sources, chans.clone())?.remove(0);
    // specmode='mvc': tclean's `.gridwt`, the weighting density (`products::set::GRIDWT`).
    if d.mvc.is_some() && crate::products::set::writes_gridwt(p) {
        let (density, _, _) = weighter.density().ok_or_else(|| {
            EngineError::internal("specmode='mvc' .gridwt without a weighting density")
        })?;
        put(crate::products::set::GRIDWT, k, s, density)?;
    }
    // specmode='mvc': the terms come from a cube major cycle (`super::mvc`).
    let mut mvc = match d.mvc {
        Some(nchan) => Some(MvcImaging::new(ctx, nchan, reffreq)?),
        None => None,
    };
    // calcpsf=false / calcres=false: the existing `.psf.ttN` (with `.sumwt.ttN`) and
    // `.residual.ttN`, read here (the imaging weights are still made for the major cycles).
    // A mosaic's PSF pass is made also when its PSF terms are reused: it makes the terms'
    // weight images (as the single-term mosaic's, `exec::block`), and the reused terms replace
    // its PSFs and sums of weights.
    let reused = inp.reused.terms(chans.clone())?;
    use pclean_core::params::Gridder;
    let mosaic_grid = matches!(p.gridder, Gridder::Mosaic | Gridder::AwProject);
    let mut tp = match (mvc.as_mut(), reused.psfs) {
        (Some(m), _) => m.psfs(ctx, inp, &sources, s, &weighter, n, put)?,
        (None, Some((psfs, sumwt))) if mosaic_grid => TaylorPsfs {
            psfs,
            sumwt,
            ..ctx.taylor_psfs(&sources, s, &weighter, n, reffreq)?
        },
        (None, Some((psfs, sumwt))) => TaylorPsfs {
            weights: ctx.plane_weights(&sources, k, s, &weighter)?,
            psfs,
            sumwt,
            pb_weights: Vec::new(),
            held: None,
        },
        (None, None) => ctx.taylor_psfs(&sources, s, &weighter, n, reffreq)?,
    };
    drop(weighter);
    // A mosaic (`imaging::taylor`'s module docs): the weight image of each PSF term; every
    // residual term divided by term 0's (tclean's `SIImageStoreMultiTerm`), every model term
    // turned into sky brightness with it before prediction.
    let pb_weights = std::mem::take(&mut tp.pb_weights);
    let (normtype, pblimit) = (p.mosaic.normtype, p.pblimit);
    // tclean's multi-term store zeroes a mosaic's residual terms where `.weight.tt0` is at or
    // below pblimit times its peak (not the beam: measured on the bundled wideband_mosaic.ms,
    // its residuals are 0 exactly where weight.tt0 / max <= 0.2 = pblimit, i.e. pb <= 0.447), so
    // the residual's beam limit is sqrt(pblimit) (docs/decisions.md (s14-mtmos)); awproject's
    // are 0 where the beam is at or below pblimit, as its mfs residual (measured on the bundled
    // awproj_wb.ms: non-zero from weight.tt0 / max 0.0400 = 0.2^2 up, wbawp True and False;
    // docs/decisions.md (s17-awmt)).
    let residual_limit = if p.gridder == Gridder::Mosaic {
        pblimit.abs().sqrt()
    } else {
        pblimit
    };
    let residuals_of = |models: Option<&[Array2<f32>]>| -> Result<_, EngineError> {
        let sky: Option<Vec<Array2<f32>>> = match (pb_weights.first(), models) {
            (Some(w), Some(m)) => Some(
                m.iter()
                    .map(|m| mosaic::model_to_sky(m, w, normtype, pblimit))
                    .collect(),
            ),
            _ => None,
        };
        let models = sky.as_deref().or(models);
        let mut out = match mvc.as_ref() {
            Some(m) => m.residuals(ctx, inp, &sources, s, &tp.weights, n, models, put),
            None => match &tp.held {
                Some(h) => ctx.taylor_residuals_held(h, &tp.weights, reffreq, n, models),
                None => ctx.taylor_residuals(&sources, s, &tp.weights, reffreq, n, models),
            },
        }?;
        if let Some(w) = pb_weights.first() {
            for r in out.0.iter_mut() {
                mosaic::normalise_residual(r, w, normtype, residual_limit);
            }
        }
        Ok(out)
    };
    let sumwt0 = tp.sumwt[0];
    let fitted = fit_beam(
        p,
        &tp.psfs[0],
        sumwt0,
        k,
        s,
        &mut |w| warnings.push(w),
        Beam::default(),
    );
    for (t, psf) in tp.psfs.iter().enumerate() {
        put(PSF[t], k, s, psf.view())?;
        let w = Array2::from_elem((1, 1), tp.sumwt[t] as f32);
        put(SUMWT[t], k, s, w.view())?;
    }
    // restart (the earlier run's `.model.ttN`) or startmodel (one image per Taylor term): the
    // Taylor models (one plane per term) whose prediction the first residuals subtract (tclean's
    // calcres=true); otherwise zeros.
    let start = match inp.start_model {
        Some(m) => Some(m.block(chans.clone(), 1, (p.ny, p.nx))?),
        None => None,
    };
    if start.as_ref().is_some_and(|v| v.len() != n) {
        return Err(EngineError::internal(
            "mtmfs start model without one plane per term",
        ));
    }
    // calcres=false: the reused residuals are those of the start (restart's) models already.
    let mut residuals = match reused.residuals {
        Some(r) => r,
        None => residuals_of(start.as_deref())?.0,
    };
    let scales: Vec<f32> = d.scales.iter().map(|v| *v as f32).collect();
    let mut mt = MultiTermClean::new(n, scales, d.smallscalebias as f32);
    let mut models = start.unwrap_or_else(|| vec![Array2::<f32>::zeros((p.ny, p.nx)); n]);
    let mut progress = PlaneProgress::new();
    let mut mask = None;
    let deconvolve = p.niter > 0;
    if deconvolve && sumwt0 > 0.0 {
        // A mosaic's masks (usemask='pb', pbmask, auto-multithresh's pb region) use its own
        // primary beam, sqrt(weight.tt0 / max) (`.pb.tt0`), as the single-term mosaic's
        // (`exec::block`); not the beam model's (of every pointing's `PB(nu_0)`), which put the
        // pbmask 0.4 edge up to 6 pixels inside tclean's on the wideband mosaic with conjbeams
        // (its mask had 6210 pixels, tclean's 7068).
        // An mvc mosaic's: its `.pb.tt0` (from the channels' weight images, `super::mvc`).
        let mosaic_pb = match (&mvc, pb_weights.first()) {
            (Some(m), _) if mosaic_grid => Some(m.pb_tt0(pblimit)),
            (_, w) => w.map(|w| inp.plane_pb(k, Some(w))),
        };
        let setup = block_setup(p, &chans, inp, &[fitted], &[mosaic_pb])?;
        let mut masker = setup
            .maskers
            .into_iter()
            .next()
            .ok_or_else(|| EngineError::internal("no mask set up for the mtmfs plane"))?;
        let sidelobe = if fitted.is_valid() {
            psf_sidelobe_level(tp.psfs[0].view(), &fitted, p.cell_x_rad, p.cell_y_rad)
        } else {
            0.0
        };
        let mut used_mask: Option<Array2<bool>> = None;
        let ckpt = inp.cycle_checkpoint.as_deref();
        if let Some(path) = ckpt {
            let autos = [masker.is_auto()];
            let shape = [p.ny, p.nx];
            let c = CycleCheckpoint::load(path, [chans.start, chans.end], shape, n, &autos)?;
            if let Some(st) = c.and_then(|c| c.planes.into_iter().next()) {
                // The residuals of the recorded models, as the uninterrupted run had them.
                models = take_over(st, &mut progress, &mut mask, &mut masker);
                residuals = residuals_of(Some(&models))?.0;
            }
        }
        loop {
            let (cyclethreshold, _) = d.cycle_limits(&progress, sidelobe);
            let (median, rms) = noise_stats(
                residuals[0].view(),
                masker.stats_region(),
                mask.as_ref().map(|m: &Array2<bool>| m.view()),
                d.fastnoise,
            );
            let threshold_reached =
                progress.peak.is_finite() && cyclethreshold <= d.global_threshold();
            let previous = if masker.is_auto() {
                used_mask = mask.take();
                None
            } else {
                mask.take()
            };
            let at = MaskInputs {
                residual: residuals[0].view(),
                beam: &fitted,
                sidelobe_level: sidelobe,
                iter_done: progress.iterations,
                threshold_reached,
            };
            mask = masker.update(&at, previous)?;
            let peak = masked_peak(residuals[0].view(), mask.as_ref().map(|m| m.view()))
                .map_or(0.0, |v| v.0);
            progress.median = median;
            progress.observe(peak, rms);
            let empty = mask.as_ref().is_some_and(|m| !m.iter().any(|v| *v));
            progress.stop = d.check(&progress, empty);
            if progress.stop.is_some() {
                if let Some(m) = used_mask.take() {
                    mask = Some(m);
                }
                break;
            }
            let (threshold, cycleniter) = d.cycle_limits(&progress, sidelobe);
            let out = mt
                .minor_cycle(
                    TermImages {
                        residuals: residuals.iter_mut().map(|r| r.view_mut()).collect(),
                        models: models.iter_mut().map(|m| m.view_mut()).collect(),
                        psfs: tp.psfs.iter().map(|x| x.view()).collect(),
                        mask: mask.as_ref().map(|m| m.view()),
                    },
                    d.loop_gain(),
                    threshold,
                    cycleniter,
                )
                .map_err(|e| EngineError::param("nterms", e))?;
            progress.iterations += out.iterations;
            progress.channel_iterations += out.iterations;
            progress.last_cycle_iterations = out.iterations;
            progress.model_flux += out.flux_added;
            // The minor cycle's state is made again from the PSFs next cycle: freed here, it
            // does not sit beside the major cycle's grid.
            mt.release();
            // The old residuals are not needed for the new ones: freed before the grids are made.
            drop(std::mem::take(&mut residuals));
            let (r, _) = residuals_of(Some(&models))?;
            residuals = r;
            progress.major_cycles += 1;
            if let Some(path) = ckpt {
                let view = PlaneView {
                    models: models.iter().collect(),
                    progress: &progress,
                    mask: mask.as_ref(),
                    masker: &masker,
                };
                record_views(path, &chans, &[view], true)?;
            }
            info!(
                iterations = progress.iterations,
                peak = out.end_peak,
                "mtmfs major cycle done"
            );
        }
    }
    drop(tp.weights);
    drop(tp.held);
    let psf_views: Vec<ArrayView2<f32>> = tp.psfs.iter().map(|x| x.view()).collect();
    let principal = mt
        .principal_solution(
            &residuals.iter().map(|r| r.view()).collect::<Vec<_>>(),
            &psf_views,
        )
        .map_err(|e| EngineError::param("nterms", e))?;
    let summary = PlaneSummary {
        sumwt: sumwt0,
        iterations: progress.iterations,
        major_cycles: progress.major_cycles,
        stop_reason: match (deconvolve, progress.stop) {
            (false, _) => "no deconvolution (niter=0)".into(),
            (true, Some(r)) => stop_text(r),
            (true, None) => stop_text(StopReason::NoData),
        },
        peak_residual: residuals[0]
            .iter()
            .fold(0.0f64, |m, v| m.max(v.abs() as f64)),
        model_flux_jy: models[0].iter().map(|v| *v as f64).sum(),
    };
    // The spectral-index threshold: a tenth of the largest value (signed) of the principal
    // solution's tt0 residual `(H^-1 R)_0` (tclean's "peakresidual/10": on vla_wideband's dirty,
    // nterms 2 clean and nterms 3 clean runs tclean's cut lies within 2e-8 Jy of it, where
    // 0.1 x max |R_0| is 0.3%, 12% and 27% off).
    let alpha_threshold = 0.1 * principal[0].iter().fold(f32::MIN, |m, v| m.max(*v));
    for (t, r) in residuals.iter().enumerate() {
        put(RESIDUAL[t], k, s, r.view())?;
    }
    drop(residuals);
    if inp.model_product {
        for (t, m) in models.iter().enumerate() {
            put(MODEL[t], k, s, m.view())?;
        }
    }
    if let (Some(m), true) = (mvc.as_ref(), inp.mvc_model_cube) {
        m.write_model_cube(&models, s, put)?;
    }
    if inp.mask_product {
        let m = match &mask {
            Some(m) => m.mapv(|v| if v { 1.0f32 } else { 0.0 }),
            None => Array2::<f32>::ones((p.ny, p.nx)),
        };
        put("mask", k, s, m.view())?;
    }
    let pb = match (&mvc, pb_weights.first()) {
        (Some(m), _) => m.pb_tt0(p.pblimit),
        (None, Some(w)) => inp.plane_pb(k, Some(w)),
        (None, None) => inp.pb(k),
    };
    if d.restoration {
        let beam = match d.restoringbeam {
            RestoringBeam::User(b) => b,
            _ => fitted,
        };
        let mut images = Vec::with_capacity(n);
        let parts: Vec<Array2<f32>> = principal.iter().take(2).cloned().collect();
        for (m, r) in models.into_iter().zip(principal) {
            let img = restored_image(m, r, &beam, p)?;
            images.push(img);
        }
        for (t, img) in images.iter().enumerate() {
            put(IMAGE[t], k, s, img.view())?;
        }
        if inp.pbcor {
            for (t, img) in images.iter().enumerate() {
                put(
                    IMAGE_PBCOR[t],
                    k,
                    s,
                    pbcor_plane(img, &pb, p.pblimit)?.view(),
                )?;
            }
        }
        if n >= 2 {
            let (alpha, err, beta) = spectral_index(&images, &parts, alpha_threshold);
            put("alpha", k, s, alpha.view())?;
            put("alpha.error", k, s, err.view())?;
            if let Some(b) = beta {
                put("beta", k, s, b.view())?;
            }
        }
    }
    put(PB[0], k, s, pb.view())?;
    if inp.pbcor {
        let zero = Array2::<f32>::zeros(pb.dim());
        for name in &PB[1..n] {
            put(name, k, s, zero.view())?;
        }
    }
    // An mvc mosaic writes its channels' weight images (the `.weight` cube, `super::mvc`) and
    // no `.weight.ttN`, as tclean 6.7.
    if pb_weights.is_empty() && !(mvc.is_some() && mosaic_grid) {
        let weight = pb.mapv(|v| sumwt0 as f32 * v * v);
        put(WEIGHT[0], k, s, weight.view())?;
    }
    for (t, w) in pb_weights.iter().enumerate() {
        let aw = p.gridder == Gridder::AwProject;
        put(WEIGHT[t], k, s, weight_term(t, w, sumwt0, aw).view())?;
    }
    Ok(BlockResult {
        chans,
        planes: vec![summary],
        beams: vec![fitted],
        warnings,
    })
}

/// A mosaic's `.weight.ttN` from PSF term t's weight image `w` (divided by term 0's sum of
/// weights `sumwt0`): as tclean 6.7 writes them, term 0 so divided, the others not (measured on
/// the bundled wideband_mosaic.ms: `.weight.tt2` is `sumwt.tt0` times 0.01 times `.weight.tt0`
/// where every sample has `((nu - nu0)/nu0)^2 = 0.01`; docs/decisions.md (s14-mtmos)).
/// awproject's (`aw`): the same, its terms above 0 divided by the reported (kernel-sum)
/// `sumwt0` (`imaging::taylor`'s `term_scales`), and written as magnitudes: tclean 6.7's
/// `.weight.tt1` is positive where `sum w ((nu - nu0)/nu0) P_R P_L` is negative (measured on the
/// bundled awproj_wb.ms, wbawp True and False: 4278.86 at the centre, `|sum w f|` there;
/// docs/decisions.md (s17-awmt); whether it is the magnitude or the negation where the sum
/// changes sign over the image is not measured).
fn weight_term(t: usize, w: &Array2<f32>, sumwt0: f64, aw: bool) -> Array2<f32> {
    if t == 0 {
        w.clone()
    } else if aw {
        w.mapv(|v| (v as f64 * sumwt0).abs() as f32)
    } else {
        w.mapv(|v| (v as f64 * sumwt0) as f32)
    }
}

/// tclean's spectral index from the restored Taylor images, where `image.tt0 > threshold`
/// (NaN elsewhere): `alpha = I1 / I0`, its error `|alpha| sqrt((R0/I0)^2 + (R1/I1)^2)` with
/// `R_t` the restored images' residual parts `residual` (measured on tclean's dirty run, where
/// they equal the images: error = sqrt(2) |alpha|), and for three or more terms
/// `beta = I2 / I0 - alpha (alpha - 1) / 2`.
pub fn spectral_index(
    images: &[Array2<f32>],
    residual: &[Array2<f32>],
    threshold: f32,
) -> (Array2<f32>, Array2<f32>, Option<Array2<f32>>) {
    let dim = images[0].dim();
    let mut alpha = Array2::from_elem(dim, f32::NAN);
    let mut err = Array2::from_elem(dim, f32::NAN);
    let mut beta = (images.len() >= 3).then(|| Array2::from_elem(dim, f32::NAN));
    for ((y, x), &i0) in images[0].indexed_iter() {
        if i0.is_nan() || i0 <= threshold {
            continue;
        }
        let i1 = images[1][[y, x]];
        let a = i1 / i0;
        alpha[[y, x]] = a;
        let (r0, r1) = (residual[0][[y, x]], residual[1][[y, x]]);
        err[[y, x]] = a.abs() * ((r0 / i0).powi(2) + (r1 / i1).powi(2)).sqrt();
        if let Some(b) = beta.as_mut() {
            b[[y, x]] = images[2][[y, x]] / i0 - a * (a - 1.0) / 2.0;
        }
    }
    (alpha, err, beta)
}
