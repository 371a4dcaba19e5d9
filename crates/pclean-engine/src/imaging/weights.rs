//! Imaging weights: the weighting density pass (uniform/Briggs, per channel or shared), and each
//! plane's imaging weights (density factor times uv taper), kept per visibility for its passes.

use super::ImagingContext;
use crate::error::EngineError;
use crate::source::{Prepared, Source};
use ndarray::{Array2, Axis};
use pclean_core::params::{GridKernel, Gridder, ImagingParams, SpecMode, Weighting};
use pclean_grid::weighting::{
    fractional_bandwidth, CellRounding, DensityGrid, ImagingWeighter, WeightingScheme,
};
use rayon::prelude::*;

/// A plane's imaging weights, one `(rows, columns of the plane)` array per visibility chunk.
pub type PlaneWeights = Vec<Array2<f32>>;

/// The weighting densities of one weighter: one for all fields ([`ALL_FIELDS`]), or one per
/// FIELD_ID (a mosaic's `mosweight`).
pub type FieldDensities = Vec<(i32, DensityGrid)>;

/// The field key of a density shared by every field.
const ALL_FIELDS: i32 = -1;

/// Which weighting density a run makes (tclean's choice between `BriggsCubeWeightor` and
/// `VisImagingWeight` in `SynthesisImagerVi2::weight`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DensityLayout {
    /// Natural weighting: no density.
    None,
    /// One density per image channel (cubes with `perchanweightdensity`; not superuniform).
    PerChannel,
    /// One density for every channel: mfs, cubes without `perchanweightdensity`, and
    /// superuniform (tclean always uses `VisImagingWeight` for it).
    Shared,
}

impl DensityLayout {
    /// The layout of a run with parameters `p`.
    pub fn of(p: &ImagingParams) -> Self {
        match p.weighting {
            Weighting::Natural => DensityLayout::None,
            Weighting::SuperUniform { .. } => DensityLayout::Shared,
            _ if p.specmode != SpecMode::Mfs && p.perchanweightdensity => DensityLayout::PerChannel,
            _ => DensityLayout::Shared,
        }
    }
}

/// The weighting scheme of the run; `freqs_hz` are all the image channels of the run (the
/// `briggsbwtaper` taper uses the whole cube's fractional bandwidth, whatever a block holds).
pub fn scheme(w: &Weighting, freqs_hz: &[f64]) -> Result<Option<WeightingScheme>, EngineError> {
    Ok(match *w {
        Weighting::Natural => None,
        Weighting::Uniform | Weighting::SuperUniform { .. } => Some(WeightingScheme::Uniform),
        Weighting::Briggs { robust } => Some(WeightingScheme::Briggs { robust }),
        Weighting::BriggsAbs { robust, noise_jy } => {
            Some(WeightingScheme::BriggsAbs { robust, noise_jy })
        }
        Weighting::BriggsBwTaper { robust } => {
            let (first, last) = match freqs_hz {
                [first, .., last] => (*first, *last),
                _ => (0.0, 0.0),
            };
            let frac_bw = fractional_bandwidth(first, last);
            if frac_bw == 0.0 {
                return Err(EngineError::Param {
                    param: "weighting",
                    message: format!(
                        "weighting='briggsbwtaper' tapers by the cube's fractional bandwidth, which is 0 for this {}-channel cube (tclean stops too: 'fractional bandwidth is not a valid value'); image more than one channel or use weighting='briggs'",
                        freqs_hz.len()
                    ),
                });
            }
            Some(WeightingScheme::BriggsBwTaper { robust, frac_bw })
        }
    })
}

/// An empty density of the run: superuniform's box density, else the mfs density (truncating) or
/// the cube's (rounding to nearest).
fn empty_density(p: &ImagingParams) -> DensityGrid {
    if let Weighting::SuperUniform { half_box } = p.weighting {
        return DensityGrid::with_box(p.nx, p.ny, p.cell_x_rad, p.cell_y_rad, half_box);
    }
    // VisImagingWeight (mfs, and cubes' shared density) truncates; BriggsCubeWeightor rounds.
    let rounding = if DensityLayout::of(p) == DensityLayout::Shared {
        CellRounding::Truncate
    } else {
        CellRounding::Nearest
    };
    let d = DensityGrid::new(p.nx, p.ny, p.cell_x_rad, p.cell_y_rad, rounding, p.npixels);
    match p.kernel {
        GridKernel::Casa => d.with_gridder_positions(p.cell_x_rad, p.cell_y_rad),
        GridKernel::Es => d,
    }
}

impl ImagingContext<'_> {
    /// The imaging weighters of image channels `chans`: one per channel, or one shared by all (mfs,
    /// or `perchanweightdensity` off). With row partitions, their densities summed first.
    pub fn weighters(
        &self,
        sources: &[Source],
        chans: std::ops::Range<usize>,
    ) -> Result<Vec<ImagingWeighter>, EngineError> {
        if scheme(&self.params.weighting, &self.plan.freqs_hz)?.is_none() {
            return Ok(vec![ImagingWeighter::natural()]);
        }
        let dens = match self.rows {
            Some(rows) => rows.densities(self, chans)?,
            None => self.density_partials(sources, chans)?,
        };
        self.finish_densities(dens)
    }

    /// The weighting densities of `sources` in image channels `chans` (see
    /// [`ImagingContext::weighters`]): one per channel or one for all, each one per field or
    /// one for all fields. Densities of disjoint rows add up ([`merge_densities`]).
    pub fn density_partials(
        &self,
        sources: &[Source],
        chans: std::ops::Range<usize>,
    ) -> Result<Vec<FieldDensities>, EngineError> {
        let n = chans.len();
        let p = self.params;
        let per_chan = DensityLayout::of(p) == DensityLayout::PerChannel;
        let ndens = if per_chan { n } else { 1 };
        let new_density = || self.new_density();
        // tclean's mosweight: a mosaic's densities are per field (made as its fields appear).
        let per_field = p.gridder == Gridder::Mosaic && p.mosaic.mosweight;
        let mut dens: Vec<FieldDensities> = (0..ndens).map(|_| Vec::new()).collect();
        self.vis().for_each_chunk(sources, &chans, |prep| {
            let add = |d: &mut FieldDensities, cols: &[usize], freqs: &[f64]| {
                // tclean's cube weightor (`BriggsCubeWeightor::init`) grids its per-channel
                // densities through `GridFT::put`, i.e. at the uvw rotated to the image centre,
                // also a mosaic's per-field ones (measured on alma_mosaic, docs/
                // decisions.md (s16-ch0)), and looks them up at the data's own uvw
                // (`weightUniform`); `VisImagingWeight` (mfs, shared cube densities) uses the
                // data's own uvw for both.
                let uvw = if per_chan {
                    prep.uvw_m.view()
                } else {
                    prep.weighting_uvw()
                };
                let w = prep.density_weights(cols);
                add_samples(
                    d,
                    per_field,
                    &new_density,
                    uvw,
                    &prep.field_r,
                    freqs,
                    w.view(),
                );
            };
            if per_chan {
                dens.par_iter_mut().enumerate().for_each(|(i, d)| {
                    if let Some((cols, freqs)) = prep.columns(chans.start + i) {
                        add(d, &cols, &freqs);
                    }
                });
            } else if let Some(ds) = &prep.shared_density {
                // A regridded cube's shared density: every data channel at its own converted
                // frequency (`VisImagingWeight` sums the visibility buffer's channels at
                // `getFrequency(row, chan)`), not the regridded image columns.
                let (uvw, w) = (ds.uvw_m.view(), ds.weight.view());
                add_samples(
                    &mut dens[0],
                    per_field,
                    &new_density,
                    uvw,
                    &prep.field_r,
                    &ds.freq_hz,
                    w,
                );
            } else {
                // All imaged channels go into one density.
                let cols: Vec<usize> = (0..prep.image_chan.len())
                    .filter(|j| prep.image_chan[*j].is_some())
                    .collect();
                if !cols.is_empty() {
                    let freqs: Vec<f64> = cols.iter().map(|j| prep.freq_hz[*j]).collect();
                    add(&mut dens[0], &cols, &freqs);
                }
            }
            Ok(())
        })?;
        Ok(dens)
    }

    /// An empty weighting density of this run.
    fn new_density(&self) -> DensityGrid {
        empty_density(self.params)
    }

    /// The weighters of densities made by [`ImagingContext::density_partials`] (natural weighting:
    /// one natural weighter).
    pub fn finish_densities(
        &self,
        dens: Vec<FieldDensities>,
    ) -> Result<Vec<ImagingWeighter>, EngineError> {
        let Some(scheme) = scheme(&self.params.weighting, &self.plan.freqs_hz)? else {
            return Ok(vec![ImagingWeighter::natural()]);
        };
        let per_field = self.params.gridder == Gridder::Mosaic && self.params.mosaic.mosweight;
        // Each density (f64) is freed as soon as its weighter (f32) exists.
        Ok(dens
            .into_iter()
            .map(|d| {
                if !per_field {
                    let d = d.into_iter().next().map(|(_, d)| d);
                    return d.unwrap_or_else(|| self.new_density()).finish(&scheme);
                }
                let fields = d.into_iter().map(|(f, d)| (f, d.finish(&scheme)));
                ImagingWeighter::per_field(fields.collect())
            })
            .collect())
    }

    /// The imaging weights of image channel `k`, Stokes plane `s`, one array per visibility chunk
    /// that has columns of `k` (4 bytes per visibility): computed once from the weighting density
    /// and the taper, then reused by every pass over this plane, so that the density (4 bytes per
    /// pixel per channel) is freed after a block's first imaging pass.
    pub fn plane_weights(
        &self,
        sources: &[Source],
        k: usize,
        s: usize,
        weighter: &ImagingWeighter,
    ) -> Result<PlaneWeights, EngineError> {
        match self.rows {
            Some(rows) => rows.plane_weights(self, k, s, weighter),
            None => self.plane_weights_of(sources, k, s, weighter),
        }
    }

    /// [`ImagingContext::plane_weights`] of `sources` (a row partition's: not dispatched).
    pub fn plane_weights_of(
        &self,
        sources: &[Source],
        k: usize,
        s: usize,
        weighter: &ImagingWeighter,
    ) -> Result<PlaneWeights, EngineError> {
        let sources = &crate::source::restrict_sources(sources, self.plan, &(k..k + 1))?;
        let mut out = Vec::new();
        self.vis().for_each_chunk(sources, &(k..k + 1), |prep| {
            if let Some((cols, freqs)) = prep.columns(k) {
                out.push(self.imaging_weights(prep, s, &cols, &freqs, weighter));
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Imaging weights of Stokes plane `s` in columns `cols` of a prepared chunk: natural weights
    /// times the weighting density's factor and the uv taper, both at the data's own uv (as
    /// tclean's `VisImagingWeight`, before any rotation to the image phase centre).
    pub(super) fn imaging_weights(
        &self,
        prep: &Prepared,
        s: usize,
        cols: &[usize],
        freqs: &[f64],
        weighter: &ImagingWeighter,
    ) -> Array2<f32> {
        let mut wgt = crate::source::select_columns(&prep.stokes[s].1, cols);
        match &prep.weight_dfreq {
            None => weighter.apply_rows(prep.weighting_uvw(), freqs, &prep.field_r, wgt.view_mut()),
            Some(d) => apply_at_offsets(weighter, prep, cols, freqs, d, wgt.view_mut()),
        }
        if let Some(t) = &self.taper {
            t.apply(prep.weighting_uvw(), freqs, wgt.view_mut());
        }
        // tclean's gridder drops what leaves its padded grid after weighting: those samples
        // count in no image and no weight sum (the gridder's positions: the rotated uvw).
        self.gridder
            .drop_unreached(prep.uvw_m.view(), freqs, wgt.view_mut());
        wgt
    }
}

/// The density lookup of [`ImagingContext::imaging_weights`] where each sample is weighed at its
/// own frequency (`freqs[j] + dfreq[r, cols[j]]`): one weighter call per run of consecutive rows
/// with the same frequencies (the rows of one integration share their Doppler factor).
fn apply_at_offsets(
    weighter: &ImagingWeighter,
    prep: &Prepared,
    cols: &[usize],
    freqs: &[f64],
    dfreq: &Array2<f32>,
    mut wgt: ndarray::ArrayViewMut2<f32>,
) {
    let uvw = prep.weighting_uvw();
    let row_freqs = |r: usize| -> Vec<f64> {
        cols.iter()
            .zip(freqs)
            .map(|(j, f)| f + dfreq[[r, *j]] as f64)
            .collect()
    };
    let nrow = wgt.nrows();
    let mut r0 = 0;
    while r0 < nrow {
        let f0 = row_freqs(r0);
        let mut r1 = r0 + 1;
        while r1 < nrow && row_freqs(r1) == f0 {
            r1 += 1;
        }
        let s = ndarray::s![r0..r1, ..];
        weighter.apply_rows(uvw.slice(s), &f0, &prep.field_r[r0..r1], wgt.slice_mut(s));
        r0 = r1;
    }
}

/// Add samples (`uvw` `(nrow, 3)`, `w` `(nrow, freqs.len())`, rows of fields `field_r`) to the
/// density `d`: the one of all fields, or (`per_field`) each row's field's, made by `new_density`
/// as fields appear.
fn add_samples(
    d: &mut FieldDensities,
    per_field: bool,
    new_density: &dyn Fn() -> DensityGrid,
    uvw: ndarray::ArrayView2<f64>,
    field_r: &[i32],
    freqs: &[f64],
    w: ndarray::ArrayView2<f32>,
) {
    if !per_field {
        if d.is_empty() {
            d.push((ALL_FIELDS, new_density()));
        }
        d[0].1.add(uvw, freqs, w);
        return;
    }
    let mut ids: Vec<i32> = field_r.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for f in ids {
        let rows: Vec<usize> = (0..field_r.len()).filter(|r| field_r[*r] == f).collect();
        let i = match d.iter().position(|(g, _)| *g == f) {
            Some(i) => i,
            None => {
                d.push((f, new_density()));
                d.len() - 1
            }
        };
        let uvw = uvw.select(Axis(0), &rows);
        let wf = w.select(Axis(0), &rows);
        d[i].1.add(uvw.view(), freqs, wf.view());
    }
}

/// Add the densities `from` (of other rows, made by the same run's
/// [`ImagingContext::density_partials`]) to `into`, field by field.
pub fn merge_densities(
    into: &mut [FieldDensities],
    from: Vec<FieldDensities>,
) -> Result<(), EngineError> {
    if into.len() != from.len() {
        return Err(EngineError::internal(
            "row partitions made different densities",
        ));
    }
    for (a, b) in into.iter_mut().zip(from) {
        for (f, d) in b {
            match a.iter_mut().find(|(g, _)| *g == f) {
                Some((_, mine)) => mine
                    .merge(&d)
                    .map_err(|e| EngineError::internal(format!("weighting density: {e}")))?,
                None => a.push((f, d)),
            }
        }
    }
    Ok(())
}
