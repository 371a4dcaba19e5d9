//! A cube's major/minor loop with tclean's cube-wide figures, holding only a few channels' planes
//! in memory at a time: the rest wait in a scratch file ([`PlaneStore`]).
//!
//! [`super::deconvolve_block`] couples its planes only through figures taken over all of them
//! between steps: before the loop, the largest PSF sidelobe and the common beam; each round, the
//! iterations done, whether any plane cleaned (for every plane's mask update and convergence
//! check), then the largest peak residual of the unconverged planes (every plane's cycle
//! threshold). Everything else a plane does depends on the plane alone. So the same loop runs here
//! with each round in two passes over the channel groups: the first updates masks and checks
//! convergence (image-plane work), after which the round's cube-wide peak is known; the second
//! runs each group's minor cycles at that peak's cycle threshold and its major cycle. Between the
//! passes only the planes' scalars stay in memory. The figures are the same numbers taken in the
//! same way (maxima, integer sums), each plane's steps run in the same order on the same inputs,
//! so the products are those of the whole cube held at once.
//!
//! Each major cycle prepares a data group's visibilities again (`source::prepare_block` over
//! `data_chans` channels, a multiple of the resident group), skipping groups with no unconverged
//! plane.

use super::major_minor::{major_cycle, minor_cycles, CubeWide, Plane};
use super::plane_store::{Field, PlaneStore};
use crate::error::EngineError;
use crate::imaging::ImagingContext;
use crate::source::Source;
use ndarray::Array2;
use pclean_core::params::DeconvParams;
use pclean_deconv::minor::Deconvolver;
use rayon::prelude::*;
use std::ops::Range;
use tracing::info;

/// How a paged cube is split: data groups (the channels whose visibilities are prepared together)
/// made of resident groups (the channels whose planes are in memory together).
#[derive(Debug, Clone)]
pub struct PagedLayout {
    pub data_groups: Vec<Range<usize>>,
    pub resident: usize,
}

impl PagedLayout {
    /// Channels `chans` in data groups of `data_chans` (rounded up to a multiple of `resident`)
    /// and resident groups of `resident`.
    pub fn new(chans: Range<usize>, data_chans: usize, resident: usize) -> Self {
        let resident = resident.max(1);
        let data = data_chans.max(1).div_ceil(resident) * resident;
        let data_groups = chans
            .clone()
            .step_by(data)
            .map(|a| a..(a + data).min(chans.end))
            .collect();
        PagedLayout {
            data_groups,
            resident,
        }
    }

    /// The resident groups of data group `g`.
    pub fn resident_groups(&self, g: &Range<usize>) -> Vec<Range<usize>> {
        g.clone()
            .step_by(self.resident)
            .map(|a| a..(a + self.resident).min(g.end))
            .collect()
    }

    /// Every resident group, in order.
    pub fn all_resident(&self) -> Vec<Range<usize>> {
        self.data_groups
            .iter()
            .flat_map(|g| self.resident_groups(g))
            .collect()
    }
}

/// Which of a plane's arrays a step needs (paging in) or changed (paging out).
#[derive(Debug, Clone, Copy, Default)]
pub struct Arrays {
    pub residual: bool,
    pub model: bool,
    pub psf: bool,
    pub mask: bool,
    /// The mask the last minor cycle used (auto-multithresh; written by the mask update).
    pub used_mask: bool,
    pub weights: bool,
    pub masker: bool,
}

impl Arrays {
    /// All of them.
    pub const ALL: Arrays = Arrays {
        residual: true,
        model: true,
        psf: true,
        mask: true,
        used_mask: true,
        weights: true,
        masker: true,
    };
    /// A round's mask update and convergence check: reads these, changes the masks.
    const PREPARE_IN: Arrays = Arrays {
        residual: true,
        mask: true,
        masker: true,
        model: false,
        psf: false,
        used_mask: false,
        weights: false,
    };
    const PREPARE_OUT: Arrays = Arrays {
        mask: true,
        used_mask: true,
        masker: true,
        residual: false,
        model: false,
        psf: false,
        weights: false,
    };
    /// A minor and a major cycle: read these, change the residual and the model.
    const CYCLE_IN: Arrays = Arrays {
        residual: true,
        model: true,
        psf: true,
        mask: true,
        weights: true,
        used_mask: false,
        masker: false,
    };
    const CYCLE_OUT: Arrays = Arrays {
        residual: true,
        model: true,
        psf: false,
        mask: false,
        used_mask: false,
        weights: false,
        masker: false,
    };
}

fn empty<T: Default + Clone>() -> Array2<T> {
    Array2::default((0, 0))
}

impl Plane {
    /// Read `what` of plane `idx` back from `store`.
    pub fn page_in(
        &mut self,
        store: &PlaneStore,
        idx: usize,
        what: Arrays,
    ) -> Result<(), EngineError> {
        let missing = |f: &str| EngineError::protocol(format!("plane {idx}'s {f} not stored"));
        if what.residual {
            self.residual = store
                .get(idx, Field::Residual)?
                .ok_or_else(|| missing("residual"))?;
        }
        if what.model {
            self.model = store
                .get(idx, Field::Model)?
                .ok_or_else(|| missing("model"))?;
        }
        if what.psf {
            self.psf = store.get(idx, Field::Psf)?.ok_or_else(|| missing("PSF"))?;
        }
        if what.mask {
            self.mask = store.get(idx, Field::Mask)?;
        }
        if what.used_mask {
            self.used_mask = store.get(idx, Field::UsedMask)?;
        }
        if what.weights {
            for (i, w) in self.weights.iter_mut().enumerate() {
                *w = store
                    .get(idx, Field::Weights(i))?
                    .ok_or_else(|| missing("weights"))?;
            }
        }
        if what.masker {
            self.masker.page_in(store, idx)?;
        }
        Ok(())
    }

    /// Write `changed` of plane `idx` to `store` and free every array (those not changed are
    /// already stored as they are).
    pub fn page_out(
        &mut self,
        store: &PlaneStore,
        idx: usize,
        changed: Arrays,
    ) -> Result<(), EngineError> {
        if changed.residual {
            store.put(idx, Field::Residual, &self.residual)?;
        }
        if changed.model {
            store.put(idx, Field::Model, &self.model)?;
        }
        if changed.psf {
            store.put(idx, Field::Psf, &self.psf)?;
        }
        if changed.mask {
            store.put_opt(idx, Field::Mask, self.mask.as_ref())?;
        }
        if changed.used_mask {
            store.put_opt(idx, Field::UsedMask, self.used_mask.as_ref())?;
        }
        if changed.weights {
            for (i, w) in self.weights.iter().enumerate() {
                store.put(idx, Field::Weights(i), w)?;
            }
        }
        if changed.masker {
            self.masker.page_out(store, idx)?;
        }
        // The arrays' memory is read into again by the next group's planes
        // (`PlaneStore::recycle`).
        store.recycle(std::mem::replace(&mut self.residual, empty()));
        store.recycle(std::mem::replace(&mut self.model, empty()));
        store.recycle(std::mem::replace(&mut self.psf, empty()));
        if let Some(m) = self.mask.take() {
            store.recycle(m);
        }
        if let Some(m) = self.used_mask.take() {
            store.recycle(m);
        }
        for w in self.weights.iter_mut() {
            store.recycle(std::mem::replace(w, empty()));
        }
        Ok(())
    }
}

/// Prepares a data group's visibilities for its passes.
pub type PrepareGroup<'a> = dyn Fn(&Range<usize>) -> Result<Vec<Source>, EngineError> + Sync + 'a;

/// Makes a fresh deconvolver.
pub type FreshDeconvolver<'a> = dyn Fn() -> Result<Box<dyn Deconvolver>, EngineError> + Sync + 'a;

/// What the paged loop needs from the run besides its planes.
pub struct PagedInputs<'a> {
    pub ctx: &'a ImagingContext<'a>,
    /// The block's channels (plane `i * nstokes + s` is block channel `i`).
    pub chans: Range<usize>,
    pub layout: &'a PagedLayout,
    pub store: &'a PlaneStore,
    /// The visibilities of a data group, prepared for its passes.
    pub prepare: &'a PrepareGroup<'a>,
    /// A fresh deconvolver (replacing one after its cycle: what Clark derives from the PSF is
    /// not kept between cycles); `None` for deconvolvers that keep nothing (Hogbom).
    pub fresh: Option<&'a FreshDeconvolver<'a>>,
    /// Whether any plane has a start model (then every plane's residual is remade first).
    pub any_model: bool,
}

/// [`super::deconvolve_block`] on planes held in `inp.store` (every plane paged out on entry and
/// on return, its scalars in memory).
pub fn deconvolve_paged(
    inp: &PagedInputs,
    mut planes: Vec<Plane>,
    it: &DeconvParams,
) -> Result<Vec<Plane>, EngineError> {
    let ctx = inp.ctx;
    let nst = ctx.params.stokes.0.len();
    let (store, chans) = (inp.store, &inp.chans);
    let rel = |r: &Range<usize>| (r.start - chans.start) * nst..(r.end - chans.start) * nst;
    // What a group's planes did not read into stays in the pool no longer than that.
    let page_in = |ps: &mut [Plane], first: usize, what: Arrays| -> Result<(), EngineError> {
        ps.iter_mut()
            .enumerate()
            .try_for_each(|(j, p)| p.page_in(store, first + j, what))?;
        store.empty_pool();
        Ok(())
    };
    // A data group's visibilities are prepared with no plane's arrays held.
    let prepare = |g: &Range<usize>| -> Result<Vec<Source>, EngineError> {
        store.empty_pool();
        crate::alloc_count::release_free_heap();
        (inp.prepare)(g)
    };
    // The freed planes' pages go back to the system (glibc keeps freed heap below live buffers:
    // planes read and freed every round would otherwise stay resident).
    let page_out = |ps: &mut [Plane], first: usize, what: Arrays| -> Result<(), EngineError> {
        ps.iter_mut()
            .enumerate()
            .try_for_each(|(j, p)| p.page_out(store, first + j, what))?;
        crate::alloc_count::release_free_heap();
        Ok(())
    };
    if inp.any_model {
        // A start model: every plane's first residual is data minus its prediction.
        for g in &inp.layout.data_groups {
            let sources = prepare(g)?;
            for r in inp.layout.resident_groups(g) {
                let idx = rel(&r);
                let ps = &mut planes[idx.clone()];
                let need = Arrays {
                    model: true,
                    weights: true,
                    ..Arrays::default()
                };
                page_in(ps, idx.start, need)?;
                major_cycle(ctx, &sources, r.clone(), ps, nst, true)?;
                page_out(
                    ps,
                    idx.start,
                    Arrays {
                        residual: true,
                        ..Arrays::default()
                    },
                )?;
            }
        }
    }
    // The cube's largest PSF sidelobe and common beam, as the loop over the whole cube takes them.
    let (sidelobe, common) = CubeWide::sidelobe_and_beam(&mut planes);
    let resident = inp.layout.all_resident();
    let busy = |ps: &[Plane]| ps.iter().any(|p| p.progress.stop.is_none());
    let mut cycling = false;
    loop {
        let cube = CubeWide::of(&planes, sidelobe, common, cycling);
        // Pass 1: masks and convergence, group by group (only planes that do more than forget
        // their last used mask are read).
        for r in &resident {
            let idx = rel(r);
            let ps = &mut planes[idx.clone()];
            let read: Vec<bool> = ps.iter().map(|p| p.prepares(&cube)).collect();
            for (j, p) in ps.iter_mut().enumerate() {
                if read[j] {
                    p.page_in(store, idx.start + j, Arrays::PREPARE_IN)?;
                } else {
                    store.forget(idx.start + j, Field::UsedMask);
                }
            }
            store.empty_pool();
            ps.par_iter_mut()
                .try_for_each(|p| p.prepare_cycle(it, &cube))?;
            for (j, p) in ps.iter_mut().enumerate() {
                if read[j] {
                    p.page_out(store, idx.start + j, Arrays::PREPARE_OUT)?;
                }
            }
            crate::alloc_count::release_free_heap();
        }
        let active = planes.iter().filter(|p| p.progress.stop.is_none()).count();
        if active == 0 {
            break;
        }
        cycling = true;
        let cube_peak = planes
            .iter()
            .filter(|p| p.progress.stop.is_none())
            .map(|p| p.progress.peak)
            .fold(0.0f32, f32::max);
        // Pass 2: the minor and major cycles of every group with an unconverged plane.
        for g in &inp.layout.data_groups {
            if !busy(&planes[rel(g)]) {
                continue;
            }
            let sources = prepare(g)?;
            for r in inp.layout.resident_groups(g) {
                let idx = rel(&r);
                let ps = &mut planes[idx.clone()];
                if !busy(ps) {
                    continue;
                }
                page_in(ps, idx.start, Arrays::CYCLE_IN)?;
                minor_cycles(ps, nst, it, cube_peak);
                major_cycle(ctx, &sources, r.clone(), ps, nst, false)?;
                page_out(ps, idx.start, Arrays::CYCLE_OUT)?;
                if let Some(fresh) = inp.fresh {
                    for p in ps.iter_mut() {
                        p.deconvolver = fresh()?;
                    }
                }
            }
        }
        let done: usize = planes.iter().map(|p| p.progress.iterations).sum();
        info!(
            channels = format!("{}..{}", chans.start, chans.end),
            active_planes = active,
            iterations = done,
            scratch_mib = store.file_bytes() >> 20,
            "major cycle done (channel groups paged)"
        );
    }
    store.empty_pool();
    crate::alloc_count::release_free_heap();
    Ok(planes)
}

#[cfg(test)]
mod tests {
    use super::PagedLayout;

    #[test]
    fn data_groups_are_whole_resident_groups() {
        // 8 data channels, 3 resident: data groups of 9 (a multiple of 3), the last short.
        let l = PagedLayout::new(5..25, 8, 3);
        assert_eq!(l.data_groups, vec![5..14, 14..23, 23..25]);
        assert_eq!(l.resident_groups(&(5..14)), vec![5..8, 8..11, 11..14]);
        assert_eq!(l.all_resident().len(), 7);
        assert_eq!(l.all_resident().last(), Some(&(23..25)));
    }
}
