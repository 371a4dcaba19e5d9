//! The parameters of tclean's `mosaic` gridder, validated ([`MosaicParams`]).

use super::choices::{Gridder, NormType};
use super::{invalid, EffectiveParams, ParamError};
use crate::direction::Direction;
use serde::{Deserialize, Serialize};

/// `normtype`, `mosweight`, `psfphasecenter`, `conjbeams` and `usepointing` as the mosaic gridder
/// uses them (with `gridder='standard'` tclean ignores them, and so does pclean).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MosaicParams {
    /// How the residual is normalised by the weight image (tclean's `normtype`).
    pub normtype: NormType,
    /// Briggs/uniform weight densities per field (tclean's `mosweight`).
    pub mosweight: bool,
    /// The PSF's pointing (`None`: the image centre), tclean's `psfphasecenter`.
    pub psfphasecenter: Option<Direction>,
    /// tclean's `conjbeams`: with `gridder='mosaic'` and mfs, each data channel imaged through
    /// its beam at the conjugate frequency (`pclean_grid::mosaic::conjugate_freq`), the model
    /// predicted through each channel's own beam (as tclean's `MosaicFT`, which asks for the
    /// conjugate kernels only when gridding); changes nothing for cubes (measured); passed on to
    /// `awproject`, which logs it.
    pub conjbeams: bool,
    /// tclean's `usepointing`: with `gridder='mosaic'`, each field's beam centred on the POINTING
    /// table's direction of the first row's `ANTENNA1` (as tclean; measured) instead of the
    /// field's PHASE_DIR; with `awproject`, every baseline's beams centred on the mean of the
    /// integration's antennas' POINTING directions (tclean's one antenna group with
    /// `pointingoffsetsigdev=[]`: measured, docs/decisions.md (s15-awp)).
    #[serde(default)]
    pub usepointing: bool,
    /// tclean's `pointingoffsetsigdev` (arcsec) with `awproject` and `usepointing=True`: the
    /// first value the bin by which the antennas are grouped by their POINTING offsets, each
    /// group's baselines through beams on the group's mean direction (CASA's
    /// `BaselineType::findAntennaGroups`, measured: docs/decisions.md (s17-awgrp)); empty: one
    /// group. Empty with the other gridders and without `usepointing` (tclean ignores it there).
    #[serde(default)]
    pub pointingoffsetsigdev_arcsec: Vec<f64>,
}

impl MosaicParams {
    /// Validate the mosaic parameters of `e` for `gridder`.
    pub(super) fn from_effective(
        e: &EffectiveParams,
        gridder: Gridder,
    ) -> Result<Self, ParamError> {
        let normtype = NormType::parse("normtype", &e.normtype)?;
        if !matches!(gridder, Gridder::Mosaic | Gridder::AwProject) {
            // Ignored by tclean with the other gridders (identical products): kept at the
            // defaults so that they change nothing, not even the written config's comparison.
            return Ok(MosaicParams {
                normtype: NormType::FlatNoise,
                mosweight: true,
                psfphasecenter: None,
                conjbeams: false,
                usepointing: false,
                pointingoffsetsigdev_arcsec: Vec::new(),
            });
        }
        let psfphasecenter = match e.psfphasecenter.trim() {
            "" => None,
            s => Some(Direction::parse(s).map_err(|source| ParamError::Direction {
                param: "psfphasecenter",
                source,
            })?),
        };
        if e.savemodel.trim().eq_ignore_ascii_case("modelcolumn") {
            return Err(invalid(
                "savemodel",
                "modelcolumn",
                format!(
                    "writing MODEL_DATA with gridder='{}' is not supported by pclean yet; use \
                     savemodel='none'",
                    gridder.name()
                ),
            ));
        }
        if e.kernel.trim().eq_ignore_ascii_case("casa") {
            return Err(invalid(
                "kernel",
                "casa",
                format!(
                    "kernel='casa' reproduces tclean's standard gridder only; gridder='{}' uses \
                     kernel='es'",
                    gridder.name()
                ),
            ));
        }
        let mut sigdev = Vec::new();
        if e.usepointing && gridder == Gridder::AwProject {
            let all = e.pointingoffsetsigdev.join(",");
            let bad = |why: &str| {
                invalid(
                    "pointingoffsetsigdev",
                    all.clone(),
                    format!(
                        "{why}: give [] (one antenna group) or one or two positive thresholds \
                         in arcsec, e.g. [60, 60]"
                    ),
                )
            };
            if e.pointingoffsetsigdev.len() > 2 {
                return Err(bad("more than two values"));
            }
            for v in &e.pointingoffsetsigdev {
                let t = v.trim();
                let t = t.strip_suffix("arcsec").unwrap_or(t).trim();
                match t.parse::<f64>() {
                    Ok(x) if x.is_finite() && x > 0.0 => sigdev.push(x),
                    _ => return Err(bad(&format!("'{v}' is not a positive number of arcsec"))),
                }
            }
        }
        Ok(MosaicParams {
            normtype,
            mosweight: e.mosweight,
            psfphasecenter,
            conjbeams: e.conjbeams,
            usepointing: e.usepointing,
            pointingoffsetsigdev_arcsec: sigdev,
        })
    }
}
