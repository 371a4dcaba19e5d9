//! The set-up of a block's cycles from the parameters: tclean's iteration control, and each
//! plane's deconvolver, clean mask and start model.

use super::iteration::StopReason;
use super::major_minor::BlockSetup;
use super::masking::{AutoMask, MaskKind, PlaneMasker};
use crate::error::EngineError;
use crate::exec::block::BlockInputs;
use pclean_core::params::{ImagingParams, UseMask};
use pclean_core::Beam;

/// tclean's wording of a stop reason.
pub fn stop_text(s: StopReason) -> String {
    match s {
        StopReason::IterationLimit => "iteration limit (niter)",
        StopReason::Threshold => "threshold reached",
        StopReason::NoProgress => "no progress: peak residual unchanged",
        StopReason::Diverged => "diverging: peak residual rose above 3x its minimum",
        StopReason::ZeroMask => "zero mask",
        StopReason::NSigma => "n-sigma threshold reached",
        StopReason::NoData => "no unflagged data",
        StopReason::NMajor => "major cycle limit (nmajor)",
    }
    .to_string()
}

/// Deconvolvers, maskers and start models of the planes of block `chans`: the user mask and the
/// start model are read here for the block's channels only.
pub fn block_setup(
    p: &ImagingParams,
    chans: &std::ops::Range<usize>,
    inp: &BlockInputs,
    beams: &[Beam],
    mosaic_pbs: &[Option<ndarray::Array2<f32>>],
) -> Result<BlockSetup, EngineError> {
    let nst = p.stokes.0.len();
    let d = &p.deconv;
    let scales: Vec<f32> = d.scales.iter().map(|s| *s as f32).collect();
    let mut deconvolvers = Vec::new();
    let mut maskers = Vec::new();
    let dim = (p.ny, p.nx);
    let mut user_masks = match inp.user_mask {
        Some(m) => Some(m.block(chans.clone(), nst, dim)?.into_iter()),
        None => None,
    };
    for (i, k) in chans.clone().enumerate() {
        // Computed per channel and dropped once its masks exist (a mosaic's from its weights).
        let pb = match mosaic_pbs.get(i) {
            Some(Some(pb)) => pb.clone(),
            _ => inp.pb(k),
        };
        for _ in 0..nst {
            // mtmfs runs its own multi-term cycle (`cycles::mtmfs`): only its masker is made here.
            if d.deconvolver != pclean_core::params::Deconvolver::Mtmfs {
                let dec = pclean_deconv::factory::make_deconvolver(
                    d.deconvolver.name(),
                    &scales,
                    d.smallscalebias as f32,
                )
                .map_err(|e| EngineError::param_source("deconvolver", "deconvolver", e))?;
                deconvolvers.push(dec);
            }
            // Statistics (nsigma's robust rms) inside pb > pbmask when pbmask is set (tclean's
            // calcRobustRMS(pbmask)), else inside the pblimit region.
            let lim = match &d.usemask {
                UseMask::User { pbmask, .. } | UseMask::Pb { pbmask } if *pbmask > 0.0 => {
                    *pbmask as f32
                }
                UseMask::AutoMultiThresh(a) if a.pbmask > 0.0 => a.pbmask as f32,
                _ => p.pblimit.abs() as f32,
            };
            let stats = (lim > 0.0).then(|| pb.mapv(|v| v > lim));
            let kind = match &d.usemask {
                UseMask::User { pbmask, .. } => match user_masks.as_mut() {
                    Some(m) => {
                        let mut plane = m.next().expect("one user mask per plane");
                        // tclean's makePBMask(combined): a user mask is cut to pb > pbmask.
                        if *pbmask > 0.0 {
                            let within = pclean_deconv::masks::pb_mask(pb.view(), *pbmask as f32);
                            pclean_deconv::masks::intersect_into(&mut plane, within.view());
                        }
                        MaskKind::Fixed(plane)
                    }
                    None => MaskKind::Everywhere,
                },
                UseMask::Pb { pbmask } => {
                    MaskKind::Fixed(pclean_deconv::masks::pb_mask(pb.view(), *pbmask as f32))
                }
                UseMask::AutoMultiThresh(a) => MaskKind::Auto(Box::new(AutoMask::new(
                    a,
                    pb.clone(),
                    p.pblimit as f32,
                    p.cell_x_rad,
                    p.cell_y_rad,
                ))),
            };
            maskers.push(PlaneMasker::new(kind, stats));
        }
    }
    let start_models = match inp.start_model {
        Some(m) => Some(m.block(chans.clone(), nst, dim)?),
        None => None,
    };
    Ok(BlockSetup {
        beams: beams.to_vec(),
        deconvolvers,
        maskers,
        start_models,
        residual_is_current: false,
        cycle_checkpoint: inp.cycle_checkpoint.clone(),
    })
}
