//! The end of a run: restoration to the common beam (when asked), beams, MODEL_DATA, side files
//! and the summary; the checkpoint is removed once every product is complete.

use super::coordinator::Coordinator;
use super::resources::peak_rss_mib;
use super::sink::Sink;
use super::thread_pool;
use crate::alloc_count;
use crate::error::EngineError;
use crate::plan::memory::MIB;
use crate::products::{restoring_beams, write_side_files, RunSummary};
use pclean_core::params::RestoringBeam;
use pclean_core::Beam;
use pclean_imageio::Beams;
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
        let mut warnings = self.warnings;
        for w in &ckpt.warnings {
            warn!("{w}");
            warnings.push(w.clone());
        }
        let beams = fill_null_beams(ckpt.beams.clone(), nchan);
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
        let saved_models = if params.deconv.savemodel_column {
            let mut v = Vec::with_capacity(nchan);
            for k in 0..nchan {
                v.push(
                    (0..nst)
                        .map(|s| out.get("model", k, s))
                        .collect::<Result<Vec<_>, _>>()?,
                );
            }
            Some(v)
        } else {
            None
        };
        let products = out.finish(&to_set(&beams), &to_set(&image_beams))?;
        if let Some(models) = saved_models {
            let pool = thread_pool(nthreads)?;
            let rows = pool.install(|| self.setup.save_model_column(&models))?;
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
            memory_estimate_mib: (sched.estimate_bytes
                + if self.cached_mib > 0.0 {
                    self.cache_bytes
                } else {
                    0
                }) as f64
                / MIB,
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
            nthreads,
        };
        write_side_files(params, &self.effective, &summary)?;
        // Every product is complete: the checkpoint has done its job.
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

/// tclean's beam of a plane without one (no data, or a failed fit in a block whose earlier planes
/// had none either): the cube's first valid beam of the same Stokes (tclean 6.7 writes channel 0's
/// beam for evla_lband_pb's blank channels 2-7 of its spw='0,1' cube, and for vla_wideband's
/// blank channel 8). Only the recorded beam changes: such a plane is zero or was restored with its
/// block's fallback. `beams` is laid out `k + nchan * s`.
fn fill_null_beams(mut beams: Vec<pclean_core::Beam>, nchan: usize) -> Vec<pclean_core::Beam> {
    if nchan == 0 {
        return beams;
    }
    for plane in beams.chunks_mut(nchan) {
        if let Some(first) = plane.iter().copied().find(|b| b.is_valid()) {
            for b in plane.iter_mut().filter(|b| !b.is_valid()) {
                *b = first;
            }
        }
    }
    beams
}

#[cfg(test)]
mod tests {
    use super::fill_null_beams;
    use pclean_core::Beam;

    #[test]
    fn a_plane_without_a_beam_takes_the_first_valid_one_of_its_stokes() {
        let b = |maj: f64| Beam {
            major_rad: maj,
            minor_rad: maj / 2.0,
            pa_rad: 0.1,
        };
        let null = Beam::default();
        let got = fill_null_beams(vec![null, b(2.0), null, b(3.0), null, null], 3);
        assert_eq!(got, vec![b(2.0), b(2.0), b(2.0), b(3.0), b(3.0), b(3.0)]);
    }
}
