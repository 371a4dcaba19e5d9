//! A deconvolved cube block holding only a few channels' planes at a time
//! ([`crate::cycles::paged`]): the first pass images each data group (its visibilities prepared
//! once) and pages each plane out as soon as it exists; the loop runs with tclean's cube-wide
//! figures over the whole block; each final plane is paged in, written and freed.

use super::block::{first_images, write_plane, BlockInputs, BlockResult, FinalPlane, PutPlane};
use crate::cycles::major_minor::Plane;
use crate::cycles::paged::{deconvolve_paged, Arrays, PagedInputs, PagedLayout};
use crate::cycles::plane_store::PlaneStore;
use crate::cycles::{block_setup, stop_text, FirstImages};
use crate::error::EngineError;
use crate::products::fit_beam;
use crate::source::{prepare_block, restrict_sources, Source};
use ndarray::Array2;
use pclean_core::params::Deconvolver as DeconvolverParam;
use pclean_core::Beam;
use pclean_grid::weighting::ImagingWeighter;
use std::ops::Range;

/// Whether a block of `chans` runs paged with `resident` channels in memory: the run allows it
/// (`BlockInputs::paged_data_chans` > 0: a cube deconvolved by Hogbom or Clark with one grid
/// per pass) and the block has more channels than that.
pub fn pages(inp: &BlockInputs, chans: &Range<usize>, resident: usize) -> bool {
    let deconvolve = inp.ctx.params.niter > 0 || inp.start_model.is_some();
    deconvolve && inp.paged_data_chans > 0 && chans.len() > resident.max(1)
}

/// [`super::block::run_block`] for a block that [`pages`].
pub fn run_block_paged(
    inp: &BlockInputs,
    chans: Range<usize>,
    put: &PutPlane,
    resident: usize,
) -> Result<BlockResult, EngineError> {
    let ctx = inp.ctx;
    let params = ctx.params;
    let plan = ctx.plan;
    let nst = params.stokes.0.len();
    let layout = PagedLayout::new(chans.clone(), inp.paged_data_chans, resident);
    let path = std::path::PathBuf::from(format!(
        "{}.planes{}-{}",
        params.imagename, chans.start, chans.end
    ));
    let store = PlaneStore::create(&path)?;
    let prepare = |g: &Range<usize>| -> Result<Vec<Source>, EngineError> {
        prepare_block(&ctx.vis(), restrict_sources(inp.sources, plan, g)?, g)
    };
    let joint = ctx.rows.is_none() && crate::imaging::joint_first_pass(params);
    let mut warnings = Vec::new();
    let mut beams: Vec<Beam> = Vec::with_capacity(chans.len() * nst);
    let mut planes: Vec<Plane> = Vec::with_capacity(chans.len() * nst);
    let mut any_model = false;
    for g in &layout.data_groups {
        let sources = prepare(g)?;
        let mut reused = inp.reused.block(g.clone(), nst)?;
        for r in layout.resident_groups(g) {
            // The resident group's weighting densities (one per channel: the same as from the
            // whole block's, each summed over the same chunks in the same order), freed with it.
            let owned = match inp.shared_weighter {
                Some(_) => None,
                None => Some(ctx.weighters(&sources, r.clone())?),
            };
            let weighter = |k: usize| -> &ImagingWeighter {
                match (inp.shared_weighter, &owned) {
                    (Some(w), _) => w,
                    (None, Some(ws)) => &ws[(k - r.start).min(ws.len() - 1)],
                    (None, None) => unreachable!("weighters are made when none is shared"),
                }
            };
            // The group's deconvolvers, maskers and start models (mosaics do not page: no
            // weight images).
            let setup = block_setup(params, &r, inp, &[], &[])?;
            let mut decs = setup.deconvolvers.into_iter();
            let mut maskers = setup.maskers.into_iter();
            let mut models = setup.start_models.map(|m| m.into_iter());
            for k in r.clone() {
                for s in 0..nst {
                    let idx = (k - g.start) * nst + s;
                    let (psf, weights, pb_weight, residual, sumwt) =
                        first_images(ctx, &sources, weighter(k), &mut reused, idx, k, s, joint)?;
                    // A plane whose fit fails takes the block's first good beam of the same
                    // Stokes.
                    let fallback = (0..k - chans.start)
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
                    let model = match models.as_mut() {
                        Some(m) => m.next().expect("one start model per plane"),
                        None => Array2::zeros((params.ny, params.nx)),
                    };
                    any_model |= model.iter().any(|v| *v != 0.0);
                    let first = FirstImages {
                        residual,
                        psf,
                        sumwt,
                        weights,
                        pb_weight,
                    };
                    let mut p = Plane::new(
                        ctx,
                        first,
                        beam,
                        model,
                        decs.next().expect("one deconvolver per plane"),
                        maskers.next().expect("one masker per plane"),
                    );
                    p.page_out(&store, planes.len(), Arrays::ALL)?;
                    store.empty_pool();
                    planes.push(p);
                    crate::alloc_count::release_free_heap();
                }
            }
            drop(owned);
            crate::alloc_count::release_free_heap();
        }
    }
    let d = &params.deconv;
    let scales: Vec<f32> = d.scales.iter().map(|s| *s as f32).collect();
    let fresh = || {
        pclean_deconv::factory::make_deconvolver(
            d.deconvolver.name(),
            &scales,
            d.smallscalebias as f32,
        )
        .map_err(|e| EngineError::param_source("deconvolver", "deconvolver", e))
    };
    let paged = PagedInputs {
        ctx,
        chans: chans.clone(),
        layout: &layout,
        store: &store,
        prepare: &prepare,
        // Hogbom keeps nothing between cycles; Clark's PSF patch and spectrum are remade.
        fresh: (d.deconvolver != DeconvolverParam::Hogbom).then_some(&fresh as _),
        any_model,
    };
    let planes = deconvolve_paged(&paged, planes, inp.it)?;
    let mut summaries = Vec::with_capacity(planes.len());
    for (idx, mut p) in planes.into_iter().enumerate() {
        let need = Arrays {
            residual: true,
            model: true,
            mask: true,
            used_mask: true,
            ..Arrays::default()
        };
        p.page_in(&store, idx, need)?;
        // The mask the last minor cycle used, as `deconvolve_block` returns it.
        if let Some(m) = p.used_mask.take() {
            p.mask = Some(m);
        }
        let out = FinalPlane {
            stop_reason: p.progress.stop.map_or("none".to_string(), stop_text),
            iterations: p.progress.iterations,
            major_cycles: p.progress.major_cycles,
            residual: std::mem::take(&mut p.residual),
            model: std::mem::take(&mut p.model),
            mask: p.mask.take(),
            pb_weight: p.pb_weight.take(),
            sumwt: p.sumwt,
        };
        drop(p);
        let (i, s) = (idx / nst, idx % nst);
        summaries.push(write_plane(inp, chans.start + i, s, beams[idx], out, put)?);
        crate::alloc_count::release_free_heap();
    }
    Ok(BlockResult {
        chans,
        planes: summaries,
        beams,
        warnings,
    })
}
