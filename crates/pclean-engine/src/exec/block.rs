//! One channel block, start to finish: read only the data channels it needs, weight, image plane
//! by plane, fit beams, deconvolve, restore; every plane goes to the products as soon as it is final
//! and is freed (docs/memory.md: what is alive when).

use crate::cycles::{block_setup, deconvolve_block, stop_text, FirstImages};
use crate::error::EngineError;
use crate::imaging::mosaic::pb_from_weight;
use crate::imaging::weights::DensityLayout;
use crate::imaging::ImagingContext;
use crate::products::{fit_beam, write_restored, Reused};
use crate::source::{prepare_block, restrict_sources, Source};
use ndarray::{Array2, ArrayView2};
use pclean_core::params::DeconvParams;
use pclean_core::params::RestoringBeam;
use pclean_core::{Beam, Direction};
use pclean_grid::pb::{pb_add_at, pb_limit_in_place, PbModel};
use pclean_grid::weighting::ImagingWeighter;
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
    /// `None`: no primary beam (only when nothing needs one, see `plan::primary_beam`).
    pub pb_model: Option<&'a PbModel>,
    /// Where each beam of the `.pb` points (pixels; see `plan::primary_beam::pb_pointings`).
    pub pb_pointings: &'a [[f64; 2]],
    pub reused: &'a Reused,
    pub start_model: Option<&'a crate::products::StartModel>,
    pub user_mask: Option<&'a crate::cycles::user_mask::UserMask>,
    pub it: &'a DeconvParams,
    pub centre: &'a Direction,
    pub pbcor: bool,
    /// Whether the products include `.mask`.
    pub mask_product: bool,
    /// Whether the products include `.model` (not with `restoration=false` and nothing to
    /// deconvolve, as tclean).
    pub model_product: bool,
    /// specmode='mvc': whether the products include the `.model` cube.
    pub mvc_model_cube: bool,
    /// One weighting density over every channel (cube with `perchanweightdensity=false`),
    /// computed once for all blocks.
    pub shared_weighter: Option<&'a ImagingWeighter>,
    /// Where the coordinator records an mfs run's state after each major cycle and resumes from
    /// (`cycles::cycle_ckpt`); `None` on a remote worker and for cubes.
    pub cycle_checkpoint: Option<std::path::PathBuf>,
    /// A deconvolved cube block of more channels than its threads holds only one channel per
    /// thread in memory, the others' planes in a scratch file, preparing its visibilities this
    /// many channels at a time (`super::block_paged`, `plan::memory::BlockShape::paged_data_chans`);
    /// 0: every plane of the block in memory.
    pub paged_data_chans: usize,
}

impl BlockInputs<'_> {
    /// The primary beam of image channel `k`, zeroed at and below |pblimit| (as tclean, whatever
    /// pblimit's sign): the sum of the beams at the selected fields' phase centres, divided by its
    /// peak when that exceeds 1 (tclean's standard gridder). Computed when needed rather than kept:
    /// it is cheap next to imaging.
    /// Without a model (nothing needs the beam then, see `plan::primary_beam`) a plane of zeros:
    /// the `.pb` tclean writes for a telescope it has no beam for.
    pub fn pb(&self, k: usize) -> Array2<f32> {
        let mut pb = self.pb_at(self.ctx.plan.freqs_hz[k]);
        pb_limit_in_place(pb.view_mut(), self.ctx.params.pblimit);
        pb
    }

    /// The primary beam at frequency `freq` (Hz), without `pblimit` (zeros without a model).
    pub fn pb_at(&self, freq: f64) -> Array2<f32> {
        let p = self.ctx.params;
        let Some(model) = self.pb_model else {
            return Array2::zeros((p.ny, p.nx));
        };
        let cells = [p.cell_x_rad, p.cell_y_rad];
        let centre = [(p.nx / 2) as f64, (p.ny / 2) as f64];
        let mut pb = Array2::zeros((p.ny, p.nx));
        for c in self.pb_pointings {
            pb_add_at(model, cells, freq, *c, pb.view_mut());
        }
        if self.pb_pointings.is_empty() {
            pb_add_at(model, cells, freq, centre, pb.view_mut());
        }
        pb
    }

    /// The primary beam of a plane of image channel `k`: from the plane's weight image for a
    /// mosaic (`imaging::mosaic::pb_from_weight`), else [`BlockInputs::pb`].
    pub fn plane_pb(&self, k: usize, pb_weight: Option<&Array2<f32>>) -> Array2<f32> {
        match pb_weight {
            Some(w) => pb_from_weight(w, self.ctx.params.pblimit),
            None => self.pb(k),
        }
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
    if params.deconv.deconvolver == pclean_core::params::Deconvolver::Mtmfs {
        return crate::cycles::mtmfs::run_block(inp, chans, put);
    }
    // Channels whose planes a paged block holds: `cube_resident_chans`, else one per thread.
    let resident = match params.cube_resident_chans {
        0 => rayon::current_num_threads(),
        r => r,
    };
    if super::block_paged::pages(inp, &chans, resident) {
        return super::block_paged::run_block_paged(inp, chans, put, resident);
    }
    let plan = inp.ctx.plan;
    let ctx = inp.ctx;
    let nst = params.stokes.0.len();
    let mut warnings = Vec::new();
    let sources = restrict_sources(inp.sources, plan, &chans)?;
    // A cube's block prepares its chunks once for all its passes (`source::prepare_block`); a
    // row partition's passes are gathered elsewhere.
    let sources = if ctx.rows.is_none() && !plan.mfs {
        prepare_block(&ctx.vis(), sources, &chans)?
    } else {
        sources
    };
    // The block's own weighters (one per channel, or one for all), each freed after the last
    // plane that uses it has its imaging weights. Per-channel densities are made one channel at
    // a time, just before the channel's planes (`lazy`): a block then holds one density instead
    // of one per channel (the same weights: a channel's density sees only its own columns).
    let lazy = inp.shared_weighter.is_none()
        && ctx.rows.is_none()
        && DensityLayout::of(params) == DensityLayout::PerChannel;
    let mut owned: Vec<Option<ImagingWeighter>> = Vec::new();
    if lazy {
        owned = (0..chans.len()).map(|_| None).collect();
    } else if inp.shared_weighter.is_none() {
        owned = ctx
            .weighters(&sources, chans.clone())?
            .into_iter()
            .map(Some)
            .collect();
    }
    let nweighters = owned.len();
    let weighter_index = move |i: usize| i.min(nweighters.saturating_sub(1));
    let deconvolve = params.niter > 0 || inp.start_model.is_some();
    let mosaic = matches!(
        params.gridder,
        pclean_core::params::Gridder::Mosaic | pclean_core::params::Gridder::AwProject
    );
    // PSF and dirty image in one pass (not through row partitions: they gather each pass).
    let joint = ctx.rows.is_none() && crate::imaging::joint_first_pass(params);
    // Reused products: only this block's planes, read here (in the process running the block).
    let mut reused = inp.reused.block(chans.clone(), nst)?;
    let mut beams: Vec<Beam> = Vec::with_capacity(chans.len() * nst);
    let mut firsts: Vec<FirstImages> = Vec::new();
    let mut summaries = Vec::new();
    for (i, k) in chans.clone().enumerate() {
        let wi = weighter_index(i);
        if lazy {
            owned[wi] = ctx.weighters(&sources, k..k + 1)?.into_iter().next();
        }
        for s in 0..nst {
            let weighter = match (inp.shared_weighter, owned.get(wi)) {
                (Some(w), _) => w,
                (None, Some(Some(w))) => w,
                _ => {
                    return Err(EngineError::Internal(format!(
                        "no imaging weighter for block channel {i}"
                    )))
                }
            };
            // The block's plane i * nst + s of a reused product, taken (each is taken once).
            let idx = i * nst + s;
            let take =
                |v: &mut Option<Vec<Option<Array2<f32>>>>| v.as_mut().and_then(|v| v[idx].take());
            let reused_psf = take(&mut reused.psf);
            let reused_res = match (take(&mut reused.residual), &reused.sumwt) {
                (Some(r), Some(w)) => Some((r, w[idx])),
                _ => None,
            };
            // Once this plane has its imaging weights, its weighter is freed if no later plane
            // uses it.
            let last_user = i + 1 == chans.len() || weighter_index(i + 1) != wi;
            let release = s + 1 == nst && last_user;
            let release_weighter = |owned: &mut Vec<Option<ImagingWeighter>>| {
                if let (true, Some(w)) = (release, owned.get_mut(wi)) {
                    *w = None;
                }
            };
            // A plane's beam, fitted to its PSF (a plane whose fit fails takes the block's first
            // good beam of the same Stokes), and the PSF written.
            let mut fit_and_put = |psf: &Array2<f32>, sumwt: f64, beams: &[Beam]| {
                let fallback = (0..i)
                    .map(|j| beams[j * nst + s])
                    .find(|b: &Beam| b.is_valid())
                    .unwrap_or_default();
                let beam = fit_beam(
                    params,
                    psf,
                    sumwt,
                    k,
                    s,
                    &mut |w| warnings.push(w),
                    fallback,
                );
                put("psf", k, s, psf.view()).map(|()| beam)
            };
            let (psf, weights, pb_weight, residual, sumwt, beam) =
                if joint && reused_psf.is_none() && reused_res.is_none() {
                    let (p, (residual, sumwt)) =
                        ctx.psf_and_dirty_plane(&sources, k, s, weighter)?;
                    release_weighter(&mut owned);
                    let beam = fit_and_put(&p.psf, sumwt, &beams)?;
                    (Some(p.psf), p.weights, p.pb_weight, residual, sumwt, beam)
                } else {
                    // A mosaic's weight image comes from the PSF pass, made also when the PSF is
                    // reused.
                    let (psf, weights, pb_weight, psf_sumwt) = match reused_psf {
                        Some(r) if !mosaic => {
                            let w = ctx.plane_weights(&sources, k, s, weighter)?;
                            (r, w, None, None)
                        }
                        r => {
                            let p = ctx.psf_plane(&sources, k, s, weighter)?;
                            (r.unwrap_or(p.psf), p.weights, p.pb_weight, Some(p.sumwt))
                        }
                    };
                    release_weighter(&mut owned);
                    // A dirty plane's PSF is fitted, written and freed before its residual pass
                    // (the residual's grid is then the only plane alive); its PSF pass summed
                    // the same weights as the residual pass will.
                    let kept = match psf_sumwt {
                        Some(w) if !deconvolve && reused_res.is_none() => {
                            let beam = fit_and_put(&psf, w, &beams)?;
                            drop(psf);
                            Err(beam)
                        }
                        _ => Ok(psf),
                    };
                    let (residual, sumwt) = match reused_res {
                        Some(r) => r,
                        None => ctx.residual_plane(&sources, k, s, &weights, None, None)?,
                    };
                    let (psf, beam) = match kept {
                        Ok(psf) => {
                            let beam = fit_and_put(&psf, sumwt, &beams)?;
                            (Some(psf), beam)
                        }
                        Err(beam) => (None, beam),
                    };
                    (psf, weights, pb_weight, residual, sumwt, beam)
                };
            beams.push(beam);
            if deconvolve {
                // (Only a dirty plane's PSF is written and freed early.)
                let psf = psf.ok_or_else(|| {
                    EngineError::Internal("a deconvolved plane's PSF was not kept".into())
                })?;
                firsts.push(FirstImages {
                    residual,
                    psf,
                    sumwt,
                    weights,
                    pb_weight,
                });
            } else {
                drop((psf, weights));
                let model = Array2::zeros(residual.dim());
                let out = FinalPlane {
                    residual,
                    model,
                    mask: None,
                    pb_weight,
                    sumwt,
                    iterations: 0,
                    major_cycles: 0,
                    stop_reason: "no deconvolution (niter=0)".into(),
                };
                summaries.push(write_plane(inp, k, s, beam, out, put)?);
                // The plane's grid and images lie in the heap below the other block's live
                // buffers: returned now, the resident set stays near the live heap with several
                // blocks in flight (measured, docs/decisions.md (s16-cube)).
                crate::alloc_count::release_free_heap();
            }
        }
    }
    // Every plane has its weights: the densities are no longer needed.
    drop(owned);
    crate::alloc_count::release_free_heap();
    if deconvolve {
        // Per block channel, the mosaic's primary beam (of its first Stokes plane's weights).
        let pbs: Vec<Option<Array2<f32>>> = (0..chans.len())
            .map(|i| {
                let w = firsts[i * nst].pb_weight.as_ref();
                w.map(|w| pb_from_weight(w, params.pblimit))
            })
            .collect();
        let setup = block_setup(params, &chans, inp, &beams, &pbs)?;
        drop(pbs);
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
                pb_weight: p.pb_weight,
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

/// A plane's first images (PSF, imaging weights, a mosaic's weight image, residual, sum of
/// weights): from the block's reused products where given (plane `idx` of `reused`, taken), else
/// imaged, in one joint pass when `joint` and nothing is reused.
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
pub(crate) fn first_images(
    ctx: &ImagingContext,
    sources: &[Source],
    weighter: &ImagingWeighter,
    reused: &mut crate::products::ReusedBlock,
    idx: usize,
    k: usize,
    s: usize,
    joint: bool,
) -> Result<
    (
        Array2<f32>,
        crate::imaging::PlaneWeights,
        Option<Array2<f32>>,
        Array2<f32>,
        f64,
    ),
    EngineError,
> {
    let mosaic = matches!(
        ctx.params.gridder,
        pclean_core::params::Gridder::Mosaic | pclean_core::params::Gridder::AwProject
    );
    // Plane `idx` of the reused products, taken (each is taken once).
    let take = |v: &mut Option<Vec<Option<Array2<f32>>>>| v.as_mut().and_then(|v| v[idx].take());
    let reused_psf = take(&mut reused.psf);
    let reused_res = match (take(&mut reused.residual), &reused.sumwt) {
        (Some(r), Some(w)) => Some((r, w[idx])),
        _ => None,
    };
    Ok(if joint && reused_psf.is_none() && reused_res.is_none() {
        let (p, (residual, sumwt)) = ctx.psf_and_dirty_plane(sources, k, s, weighter)?;
        (p.psf, p.weights, p.pb_weight, residual, sumwt)
    } else {
        // A mosaic's weight image comes from the PSF pass, made also when the PSF is
        // reused.
        let (psf, weights, pb_weight) = match reused_psf {
            Some(r) if !mosaic => (r, ctx.plane_weights(sources, k, s, weighter)?, None),
            r => {
                let p = ctx.psf_plane(sources, k, s, weighter)?;
                (r.unwrap_or(p.psf), p.weights, p.pb_weight)
            }
        };
        let (residual, sumwt) = match reused_res {
            Some(r) => r,
            None => ctx.residual_plane(sources, k, s, &weights, None, None)?,
        };
        (psf, weights, pb_weight, residual, sumwt)
    })
}

/// A plane after deconvolution (its PSF is already written).
pub(super) struct FinalPlane {
    pub(super) residual: Array2<f32>,
    pub(super) model: Array2<f32>,
    pub(super) mask: Option<Array2<bool>>,
    /// A mosaic's weight image (`None`: the beam is [`BlockInputs::pb`]).
    pub(super) pb_weight: Option<Array2<f32>>,
    pub(super) sumwt: f64,
    pub(super) iterations: usize,
    pub(super) major_cycles: usize,
    pub(super) stop_reason: String,
}

/// Write a final plane's products (residual, model, mask, restored image and its pbcor, pb,
/// weight, sumwt), freeing each as soon as it is written.
pub(super) fn write_plane(
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
    if inp.model_product {
        put("model", k, s, p.model.view())?;
    }
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
    // With tclean's common beam, restoration waits until every plane is done (the finish);
    // `restoration=false` writes no restored image.
    let mut pb = None;
    if params.deconv.restoration && params.deconv.restoringbeam != RestoringBeam::Common {
        let beam = match params.deconv.restoringbeam {
            RestoringBeam::User(b) => b,
            _ => fitted,
        };
        pb = write_restored(
            p.model,
            p.residual,
            &beam,
            params,
            || Ok(inp.pbcor.then(|| inp.plane_pb(k, p.pb_weight.as_ref()))),
            &mut |ext, plane| put(ext, k, s, plane),
        )?;
    }
    let pb = pb.unwrap_or_else(|| inp.plane_pb(k, p.pb_weight.as_ref()));
    put("pb", k, s, pb.view())?;
    // A mosaic's `.weight` is its weight image; the standard gridder's the sum of weights
    // times pb^2.
    // (The standard gridder's is made in the pb's own memory.)
    let weight = match p.pb_weight {
        Some(w) => {
            drop(pb);
            w
        }
        None => {
            let w = p.sumwt as f32;
            let mut weight = pb;
            weight.mapv_inplace(|v| w * v * v);
            weight
        }
    };
    put("weight", k, s, weight.view())?;
    Ok(summary)
}
