//! The end of a run: restoration to the common beam (when asked), beams, MODEL_DATA, side files
//! and the summary; the checkpoint is removed once every product is complete.

use super::coordinator::Coordinator;
use super::resources::peak_rss_mib;
use super::sink::Sink;
use super::thread_pool;
use crate::alloc_count;
use crate::error::EngineError;
use crate::imaging::savemodel::SavedModel;
use crate::plan::memory::{self, MIB};
use crate::products::set::GRIDWT;
use crate::products::{fill_null_beams, restoring_beams, write_side_files, RunSummary};
use pclean_core::params::RestoringBeam;
use pclean_core::Beam;
use pclean_grid::weighting::{f2_d2_of, CellRounding};
use pclean_imageio::{Beams, MiscValue};
use tracing::{info, warn};

impl Coordinator {
    /// Restoration finishing steps (common beam), beams, MODEL_DATA, side files and the summary;
    /// removes the checkpoint. Every block must have been accepted.
    pub fn finish(self) -> Result<RunSummary, EngineError> {
        self.ready_to_finish()?;
        let params = &self.setup.params;
        let nchan = self.setup.plan.nchan();
        let nst = params.stokes.0.len();
        let nthreads = self.setup.nthreads;
        // A long final phase (restoring to the common beam, writing MODEL_DATA) first records
        // every block, so a run killed in it resumes there; otherwise the products are finished
        // right away.
        let sink = self.sink.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut sink = sink;
        if params.deconv.restoringbeam == RestoringBeam::Common || params.deconv.savemodel_column {
            sink.commit()?;
        }
        let Sink {
            mut out,
            ckpt,
            progress,
            path: ckpt_path,
            ..
        } = sink;
        progress.finish();
        for src in self.setup.reused_products() {
            src.remove_aside();
        }
        let mut warnings = self.warnings;
        for w in &ckpt.warnings {
            warn!("{w}");
            warnings.push(w.clone());
        }
        // Empty planes (no visibilities) carry tclean's beam for them, not a null one.
        let mut beams = ckpt.beams.clone();
        fill_null_beams(&mut beams);
        // Restoring beams: per plane, a user beam, or the common beam (every plane restored to it).
        let image_beams = restoring_beams(params, &beams, &mut out, nchan)?;
        let plan = &self.setup.plan;
        let to_set = |b: &[Beam]| {
            if plan.mfs && nst == 1 {
                Beams::Single(b[0])
            } else {
                Beams::PerPlane {
                    nchan,
                    nstokes: nst,
                    beams: b.to_vec(),
                }
            }
        };
        // MODEL_DATA: written here unless the row partitions wrote their own rows already.
        let saved = if params.deconv.savemodel_column && !self.model_column_written {
            Some(saved_model(
                params,
                nchan,
                self.setup.plan.freqs_hz[0],
                &mut out,
            )?)
        } else {
            None
        };
        if let Some(axis) = &self.setup.mvc_axis {
            let cube = mvc_cube_beams(params, axis.nchan, nst, &mut out, &mut warnings)?;
            out.set_cube_psf_beams(cube);
        }
        if out.has(GRIDWT) {
            let misc = gridwt_misc(&self.setup, &mut out)?;
            out.set_misc(GRIDWT, misc)?;
        }
        let products = out.finish(&to_set(&beams), &to_set(&image_beams))?;
        if let Some(model) = saved {
            let pool = thread_pool(nthreads)?;
            let setup = &self.setup;
            let rows = pool.install(|| setup.save_model_of(&setup.sources, &model))?;
            info!(rows, "wrote the model visibilities to MODEL_DATA");
        }
        let mut tasks = ckpt.tasks.clone();
        tasks.sort_by_key(|t| t.channels[0]);
        let mut channels = ckpt.channels.clone();
        channels.sort_by_key(|c| c.channel);
        let sched = &self.sched;
        let gridder = &self.setup.gridder;
        let (support, sigma) = (gridder.kernel_support(), gridder.oversampling());
        let summary = RunSummary {
            pclean_version: env!("CARGO_PKG_VERSION").to_string(),
            imagename: params.imagename.clone(),
            products,
            specmode: format!("{:?}", params.specmode).to_lowercase(),
            nchan,
            stokes: params.stokes.label(),
            imsize: [params.nx, params.ny],
            phasecenter: self.setup.centre.to_casa_string(),
            spectral_frame: plan.frame.clone(),
            gridder: params.gridder.name().into(),
            deconvolver: (params.niter > 0).then_some(params.deconv.deconvolver),
            kernel_support: support,
            oversampling: sigma,
            rows_read: self
                .setup
                .sources
                .iter()
                .map(|s| s.selected.n_rows() as u64)
                .sum(),
            nvis_per_channel: self.setup.nvis_per_chan as u64,
            chans_per_block: sched.chans_per_block,
            blocks_in_flight: sched.blocks_in_flight,
            threads_per_block: sched.threads_per_block,
            // The blocks beside what the one read of the visibilities left resident, or that
            // read's own peak when larger (`memory::CacheRead`); the blocks alone when the run
            // did not make the read.
            memory_estimate_mib: if self.cache_read {
                sched.estimate_bytes as f64 / MIB
            } else {
                (memory::BASE_BYTES + sched.blocks_bytes) as f64 / MIB
            },
            vis_cache_mib: self.cached_mib,
            vis_scratch_mib: self.scratch_mib,
            memory_limit_mib: self.budget as f64 / MIB,
            resumed_channels: self.resumed_channels_at_start,
            total_iterations: channels.iter().map(|c| c.iterations).sum(),
            channels,
            warnings,
            wall_time_s: self.t0.elapsed().as_secs_f64(),
            peak_rss_mib: peak_rss_mib(),
            idle_rss_mib: self.idle_rss_mib,
            idle_alloc_mib: self.idle_alloc_mib,
            peak_alloc_mib: alloc_count::peak_bytes().map(|v| v as f64 / MIB),
            tasks,
            row_partitions: self
                .rows_summary
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take(),
            nthreads,
        };
        write_side_files(params, &self.effective, &summary)?;
        // Every product is complete: the checkpoints have done their job.
        crate::cycles::cycle_ckpt::remove_cycle_checkpoint(&params.imagename);
        if let Err(e) = std::fs::remove_file(&ckpt_path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                warn!("cannot remove checkpoint '{}': {e}", ckpt_path.display());
            }
        }
        info!(
            wall_time_s = format!("{:.2}", summary.wall_time_s),
            peak_rss_mib = format!("{:.0}", summary.peak_rss_mib),
            "wrote {} products with prefix {}",
            summary.products.len(),
            params.imagename
        );
        Ok(summary)
    }
}

/// The final model of the products `out` that MODEL_DATA is predicted from: every plane's
/// `.model`, or mtmfs's Taylor terms about `reffreq_hz` (the mfs channel's frequency).
pub(super) fn saved_model(
    params: &pclean_core::params::ImagingParams,
    nchan: usize,
    reffreq_hz: f64,
    out: &mut crate::products::Products,
) -> Result<SavedModel, EngineError> {
    let nst = params.stokes.0.len();
    if params.deconv.deconvolver == pclean_core::params::Deconvolver::Mtmfs {
        let terms = crate::cycles::mtmfs::MODEL[..params.deconv.nterms]
            .iter()
            .map(|name| out.get(name, 0, 0))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(SavedModel::Taylor { terms, reffreq_hz });
    }
    let mut planes = Vec::with_capacity(nchan * nst);
    for k in 0..nchan {
        for s in 0..nst {
            planes.push(out.get("model", k, s)?);
        }
    }
    Ok(SavedModel::Planes {
        nstokes: nst,
        planes,
    })
}

/// tclean's `miscinfo` of specmode='mvc''s `.gridwt` (`VisImagingWeight::toImageInterface`, read
/// back by its image constructor): `d2` and `f2` (one per density: one here), `numfield` and
/// `multimapsize` (the entries of its map from each selected `<ms index>_<field id>` to its
/// density), the map as `key<k>` / `val<k>` in the map's (string) order. `f2`, `d2` are the
/// weighter's rules applied to the written density, its sum as the sum of weights (the f64 sum of
/// its f32 cells, tclean's double sum of the same weights: measured below 1e-6 apart,
/// `docs/decisions.md (s14-mvc)`).
fn gridwt_misc(
    setup: &crate::plan::Setup,
    out: &mut crate::products::Products,
) -> Result<Vec<(String, MiscValue)>, EngineError> {
    let density = out.get(GRIDWT, 0, 0)?;
    let scheme = crate::imaging::weights::scheme(&setup.params.weighting, &setup.plan.freqs_hz)?;
    let sum: f64 = density.iter().map(|v| *v as f64).sum();
    let (f2, d2) = scheme
        .and_then(|sc| f2_d2_of(density.view(), sum, &sc, CellRounding::Truncate))
        .ok_or_else(|| EngineError::internal("a .gridwt without a weighting density"))?;
    let mut keys: Vec<String> = setup
        .sources
        .iter()
        .flat_map(|s| {
            s.selected
                .field_ids
                .iter()
                .map(move |f| format!("{}_{f}", s.index))
        })
        .collect();
    keys.sort();
    keys.dedup();
    let n = keys.len() as i64;
    let mut misc = vec![
        ("d2".to_string(), MiscValue::FloatArray(vec![d2])),
        ("f2".to_string(), MiscValue::FloatArray(vec![f2])),
        ("numfield".to_string(), MiscValue::Int(n)),
    ];
    for (k, key) in keys.into_iter().enumerate() {
        misc.push((format!("key{k}"), MiscValue::Str(key)));
        misc.push((format!("val{k}"), MiscValue::Int(0)));
    }
    misc.push(("multimapsize".to_string(), MiscValue::Int(n)));
    Ok(misc)
}

/// The fitted beam of each channel of specmode='mvc''s `.psf` cube (tclean's per-channel beams),
/// read back from the written cube and its `.sumwt`.
fn mvc_cube_beams(
    params: &pclean_core::params::ImagingParams,
    nchan: usize,
    nstokes: usize,
    out: &mut crate::products::Products,
    warnings: &mut Vec<String>,
) -> Result<Beams, EngineError> {
    let mut beams = vec![Beam::default(); nchan * nstokes];
    for s in 0..nstokes {
        for c in 0..nchan {
            let psf = out.get("psf", c, s)?;
            let sumwt = out.get("sumwt", c, s)?[[0, 0]] as f64;
            let mut note = |w: String| warnings.push(format!("specmode='mvc' cube: {w}"));
            beams[c + nchan * s] =
                crate::products::fit_beam(params, &psf, sumwt, c, s, &mut note, Beam::default());
        }
    }
    fill_null_beams(&mut beams);
    Ok(Beams::PerPlane {
        nchan,
        nstokes,
        beams,
    })
}
