//! tclean's `mosaic` gridder (`mosaicft`) through the seam: [`MosaicGridder`].
//!
//! - residual and PSF passes: every visibility is gridded as tclean's `MosaicFT` grids it
//!   (`mosaic/ftgrid.rs`): onto the unpadded image grid with the transform of its baseline beam
//!   (`VP_a VP_b`, tclean's `HetArrayConvFunc`), moved to its pointing by a phase gradient,
//!   truncated to tclean's support and resampled as tclean resamples it; one grid for all
//!   pointings, its image divided by tclean's sinc correction. For one dish type this is each
//!   pointing's dirty image times its primary beam `PB_p`, folded at the image edges and
//!   band-limited as tclean's (measured: docs/decisions.md (s15-mosedge)); with `psfphasecenter`
//!   the PSF's beams are placed as if that direction were the image centre (tclean images the
//!   PSF about it);
//! - the weight image ([`VisGridder::weight_image`]): `sum_p W_p B_p`, `W_p` the sum of the
//!   weights gridded for pointing `p` and `B_p` tclean's band-limited PB^2 (its gridded weight
//!   kernel, `weight.rs`), centred on the pointing (tclean's `.weight` before the scale);
//! - prediction: per pointing the model times `PB_p`, transformed once by the ES gridder
//!   ([`VisGridder::model_planes`]), and each row predicted from its pointing's grid.
//!
//! Normalisation by the weight image (`normtype`, `pblimit`) belongs to the caller, as tclean's
//! normaliser. The beam is evaluated at the plane's frequency ([`VisGridder::at_frequency`]),
//! or, given the data's beam frequencies ([`MosaicGridder::with_beam_frequencies`], an mfs plane
//! over a wide band), per data channel as tclean's `findUsefulChannels`: each channel's
//! visibilities are gridded with the kernel of its nearest beam frequency, and the weight image
//! and prediction use the beam at that frequency.

use crate::gridder::{GridError, GridStats, Gridder, Precision, UvGrid};
use crate::pb::{pb_image_at, vp_pair_add_at, PbModel};
use crate::seam::{GridPlanes, GridResult, LinearImages, Pass, VisBatch, VisGridder};
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, CowArray, Ix2, Zip};
use num_complex::Complex32;
use pclean_fft::with_pool;

/// One pointing of a mosaic: the key of the rows it holds (`VisBatch::field_r`: the FIELD_ID, or
/// for a mosaic of different dishes a key per field and dish pair), where its beam is centred and
/// which baseline beam it has ([`MosaicGridder::with_baseline_beams`]; 0 for one dish type).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pointing {
    pub field_id: i32,
    /// Pixel position `(x, y)` of the pointing centre in the image (fractional; the reference
    /// pixel is `(nx/2, ny/2)`).
    pub centre_px: [f64; 2],
    pub beam: usize,
}

/// tclean's `mosaic` gridder (see the module docs).
#[derive(Clone, Debug)]
pub struct MosaicGridder {
    gridder: Gridder,
    nthreads: usize,
    /// The baseline beams `(VP_a, VP_b)` (one `(pb, pb)` for identical antennas).
    beams: Vec<(PbModel, PbModel)>,
    /// The dish (index into the dish models of [`MosaicGridder::with_dishes`]) of each antenna;
    /// empty: every row has beam 0.
    dish_of_antenna: Vec<usize>,
    /// The number of dish models (1 for one dish type).
    ndish: usize,
    pointings: Vec<Pointing>,
    /// Pixel position of the PSF's phase centre (`psfphasecenter`, else the image centre).
    psf_centre_px: [f64; 2],
    freq_hz: f64,
    /// The beam frequencies of the data channels (empty: one, the plane's `freq_hz`); grid
    /// `slot * nbands + band` holds pointing `slot`'s channels nearest to beam frequency `band`.
    band_freqs: Vec<f64>,
    /// tclean's `conjbeams` (`conj.rs`): image beams at each band's conjugate frequency.
    conj: bool,
    /// The gridding kernels (`ftgrid.rs`) made so far, by (beam frequency, kernel frequency).
    ft_cache: FtCache,
}

impl MosaicGridder {
    /// A mosaic of `pointings` imaged with the ES `gridder` on `nthreads` threads per call, the
    /// beam `pb` evaluated at `freq_hz` (see [`VisGridder::at_frequency`]).
    pub fn new(
        gridder: Gridder,
        nthreads: usize,
        pb: PbModel,
        pointings: Vec<Pointing>,
        psf_centre_px: [f64; 2],
        freq_hz: f64,
    ) -> Self {
        MosaicGridder {
            gridder,
            nthreads,
            beams: vec![(pb.clone(), pb)],
            dish_of_antenna: Vec::new(),
            ndish: 1,
            pointings,
            psf_centre_px,
            freq_hz,
            band_freqs: Vec::new(),
            conj: false,
            ft_cache: FtCache::default(),
        }
    }

    /// The same mosaic with the data channels' beams at `freqs_hz` (tclean's beams per data
    /// channel for an mfs plane: each channel uses the nearest of them). Empty, or one frequency:
    /// the plane's.
    pub fn with_beam_frequencies(mut self, freqs_hz: Vec<f64>) -> Self {
        self.band_freqs = if freqs_hz.len() > 1 {
            freqs_hz
        } else {
            Vec::new()
        };
        self
    }

    /// The number of beam frequencies: grids per pointing in a pass and a model (1 without
    /// [`MosaicGridder::with_beam_frequencies`]).
    pub fn nbands(&self) -> usize {
        self.band_freqs.len().max(1)
    }

    /// Beam frequency `band`.
    fn band_freq(&self, band: usize) -> f64 {
        self.band_freqs.get(band).copied().unwrap_or(self.freq_hz)
    }

    /// The same gridder running its calls on `nthreads` threads (0 = all cores).
    pub fn with_threads(&self, nthreads: usize) -> Self {
        MosaicGridder {
            nthreads,
            ..self.clone()
        }
    }

    /// The ES gridder of every pointing.
    pub fn gridder(&self) -> &Gridder {
        &self.gridder
    }

    /// The pointings, in plane order.
    pub fn pointings(&self) -> &[Pointing] {
        &self.pointings
    }

    /// The same mosaic with the baseline beams `beams` (`(VP_a, VP_b)`: a baseline between
    /// dishes `a` and `b` sees the sky through `VP_a VP_b`, tclean's `HetArrayConvFunc`), indexed
    /// by [`Pointing::beam`]. An index beyond `beams` is an error.
    pub fn with_baseline_beams(
        mut self,
        beams: Vec<(PbModel, PbModel)>,
    ) -> Result<Self, GridError> {
        if let Some(p) = self.pointings.iter().find(|p| p.beam >= beams.len()) {
            return Err(GridError::Shape {
                what: "Pointing::beam (an index into the baseline beams)",
                expected: vec![beams.len()],
                got: vec![p.beam],
            });
        }
        self.beams = beams;
        self.ft_cache = FtCache::default();
        Ok(self)
    }

    /// The same mosaic of antennas of different dishes: `dish_of_antenna[a]` the dish of
    /// antenna `a` among `models` (their voltage patterns). Every pointing becomes one per dish
    /// pair `(i <= j)` with the beam `VP_i VP_j`, and each row is gridded into its field's
    /// pointing of its two antennas' pair (the batches must then carry ANTENNA1/2).
    pub fn with_dishes(mut self, dish_of_antenna: Vec<usize>, models: Vec<PbModel>) -> Self {
        let n = models.len();
        let mut beams = Vec::new();
        for i in 0..n {
            for j in i..n {
                beams.push((models[i].clone(), models[j].clone()));
            }
        }
        let mut pointings = Vec::new();
        for p in &self.pointings {
            for beam in 0..beams.len() {
                pointings.push(Pointing { beam, ..*p });
            }
        }
        self.beams = beams;
        self.ft_cache = FtCache::default();
        self.pointings = pointings;
        self.dish_of_antenna = dish_of_antenna;
        self.ndish = n;
        self
    }

    /// The baseline beam of a row between antennas `a1` and `a2` (0 for one dish type).
    fn row_beam(&self, a1: i32, a2: i32) -> Result<usize, GridError> {
        if self.dish_of_antenna.is_empty() {
            return Ok(0);
        }
        let dish = |a: i32| {
            usize::try_from(a)
                .ok()
                .and_then(|a| self.dish_of_antenna.get(a).copied())
                .ok_or(GridError::Shape {
                    what: "antennas_r (an antenna without a dish)",
                    expected: vec![self.dish_of_antenna.len()],
                    got: vec![a.max(0) as usize],
                })
        };
        let (d1, d2) = (dish(a1)?, dish(a2)?);
        let (i, j) = (d1.min(d2), d1.max(d2));
        // The pairs (i <= j) in order: row i starts after sum_{k < i} (ndish - k) pairs.
        let ndish = self.ndish;
        Ok((0..i).map(|k| ndish - k).sum::<usize>() + (j - i))
    }

    /// Baseline beam `beam` (the power pattern for identical dishes, else `VP_a VP_b`) centred
    /// on `centre_px`, at this gridder's frequency.
    pub fn beam_at(&self, centre_px: [f64; 2], beam: usize) -> Array2<f32> {
        self.beam_at_freq(centre_px, beam, self.freq_hz)
    }

    /// [`MosaicGridder::beam_at`] at frequency `freq_hz`.
    fn beam_at_freq(&self, centre_px: [f64; 2], beam: usize, freq_hz: f64) -> Array2<f32> {
        let s = self.gridder.spec();
        let cells = [s.cell_x_rad, s.cell_y_rad];
        let (a, b) = &self.beams[beam];
        if a == b {
            return pb_image_at(a, s.nx, s.ny, cells, freq_hz, centre_px);
        }
        let mut out = Array2::<f32>::zeros((s.ny, s.nx));
        vp_pair_add_at(a, b, cells, freq_hz, centre_px, out.view_mut());
        out
    }

    /// Pointing and beam frequency of grid `i`.
    fn grid_slot(&self, i: usize) -> (&Pointing, f64) {
        let nb = self.nbands();
        (&self.pointings[i / nb], self.band_freq(i % nb))
    }

    /// tclean's weight image of pointings with weight sums `sums` (`[W_p, _]`), times `scale`:
    /// `sum_p W_p B_p`, `B_p` the band-limited PB^2 of pointing p's baseline beam (`weight.rs`).
    /// With several beam frequencies, the sum of each frequency's (`sums` per grid).
    fn band_limited_weight(&self, sums: &[[f64; 2]], scale: f64) -> Array2<f64> {
        let (ny, nx) = self.image_shape();
        let s = self.gridder.spec();
        let nb = self.nbands();
        let mut total = Array2::<f64>::zeros((ny, nx));
        for band in 0..nb {
            let entries: Vec<([f64; 2], f64, usize)> = self
                .pointings
                .iter()
                .zip(sums.iter().skip(band).step_by(nb))
                .filter(|(_, sum)| sum[0] != 0.0)
                .map(|(p, sum)| (p.centre_px, sum[0] * scale, p.beam))
                .collect();
            if entries.is_empty() {
                continue;
            }
            let kernels = WeightKernels::new(
                &self.beams,
                nx,
                ny,
                [s.cell_x_rad, s.cell_y_rad],
                self.band_freq(band),
                self.conj_of(self.band_freq(band)),
            );
            total += &kernels.image(nx, ny, &entries);
        }
        total
    }

    /// The pointing index of FIELD_ID `f` with baseline beam `beam`.
    fn slot(&self, f: i32, beam: usize) -> Result<usize, GridError> {
        self.pointings
            .iter()
            .position(|p| p.field_id == f && p.beam == beam)
            .ok_or(GridError::Shape {
                what: "field_r (a FIELD_ID without a mosaic pointing)",
                expected: vec![],
                got: vec![f.max(0) as usize],
            })
    }

    /// The rows of `batch` grouped by pointing: `(pointing, rows)`; `None` for rows when every row
    /// is of the one pointing (no copy needed).
    fn groups(&self, batch: &VisBatch) -> Result<Vec<RowGroup>, GridError> {
        let field_r = batch.field_r.ok_or(GridError::Shape {
            what: "field_r (required by the mosaic gridder)",
            expected: vec![batch.uvw_m.nrows()],
            got: vec![],
        })?;
        let antennas = match (self.dish_of_antenna.is_empty(), batch.antennas_r) {
            (true, _) => None,
            (false, Some(a)) => Some(a),
            (false, None) => {
                return Err(GridError::Shape {
                    what: "antennas_r (required by a mosaic of different dishes)",
                    expected: vec![batch.uvw_m.nrows()],
                    got: vec![],
                })
            }
        };
        let mut slots: Vec<usize> = Vec::with_capacity(field_r.len());
        for (r, f) in field_r.iter().enumerate() {
            let beam = match antennas {
                Some((a1, a2)) => self.row_beam(a1[r], a2[r])?,
                None => 0,
            };
            slots.push(self.slot(*f, beam)?);
        }
        let first = slots.first().copied();
        if let Some(s0) = first {
            if slots.iter().all(|s| *s == s0) {
                return Ok(vec![(s0, None)]);
            }
        }
        let mut out: Vec<RowGroup> = Vec::new();
        for (r, s) in slots.iter().enumerate() {
            match out.iter_mut().find(|(k, _)| k == s) {
                Some((_, Some(rows))) => rows.push(r),
                _ => out.push((*s, Some(vec![r]))),
            }
        }
        Ok(out)
    }
}

/// `sum w f` over the weights `w` the gridder counts (`> 0`, finite) and their factors `f`.
fn factor_sum(w: ArrayView2<f32>, f: ArrayView2<f32>) -> f64 {
    let mut sum = 0.0;
    Zip::from(&w).and(&f).for_each(|w, f| {
        if *w > 0.0 && w.is_finite() {
            sum += *w as f64 * *f as f64;
        }
    });
    sum
}

/// The rows of one pointing in a batch: `(pointing, rows)`, `None` for every row of the batch.
type RowGroup = (usize, Option<Vec<usize>>);

/// Rows `rows` of a `(nrow, n)` view (the view itself for `None`).
fn take<'a, T: Clone>(a: ArrayView2<'a, T>, rows: &Option<Vec<usize>>) -> CowArray<'a, T, Ix2> {
    match rows {
        Some(r) => CowArray::from(a.select(Axis(0), r)),
        None => CowArray::from(a),
    }
}

impl VisGridder for MosaicGridder {
    fn name(&self) -> &'static str {
        "mosaic"
    }

    fn image_shape(&self) -> (usize, usize) {
        let s = self.gridder.spec();
        (s.ny, s.nx)
    }

    fn nplanes(&self, _: Pass) -> usize {
        1
    }

    fn planes_bytes(&self, _: Pass) -> usize {
        let (ny, nx) = self.image_shape();
        nx * ny * Precision::Double.bytes_per_cell()
    }

    /// One grid of the image's size (tclean's unpadded mosaic grid) for every pointing, with
    /// the weight sums per pointing and beam frequency.
    fn new_planes(&self, pass: Pass) -> GridPlanes {
        let (ny, nx) = self.image_shape();
        let n = self.pointings.len() * self.nbands();
        GridPlanes::with_sums(pass, vec![UvGrid::double_zeros(ny, nx)], vec![[0.0; 2]; n])
    }

    fn grid(&self, planes: &mut GridPlanes, batch: &VisBatch) -> GridResult {
        let pass = planes.pass();
        let mut total = GridStats::default();
        let groups = self.groups(batch)?;
        let (ny, nx) = self.image_shape();
        let (grids, sums) = planes.parts_mut();
        let ngrids = grids.len();
        let mut grid = match grids {
            [g] if g.shape() == (ny, nx) => g.as_double_mut(),
            _ => None,
        }
        .ok_or(GridError::PlaneCount {
            expected: 1,
            got: ngrids,
        })?;
        let nb = self.nbands();
        let bands = channel_bands(&self.band_freqs, batch.freq_hz);
        let ft = self.ft_grid();
        let centre = |p: &Pointing| match pass {
            // The PSF's beams sit where they would with `psfphasecenter` at the image centre.
            Pass::Psf => [
                p.centre_px[0] - self.psf_centre_px[0] + (nx / 2) as f64,
                p.centre_px[1] - self.psf_centre_px[1] + (ny / 2) as f64,
            ],
            Pass::Residual => p.centre_px,
        };
        for (slot, rows) in groups {
            let uvw = take(batch.uvw_m, &rows);
            let wgt_rows = take(batch.weight_rc, &rows);
            let vis_rows = match (pass, batch.vis_rc) {
                // A PSF pass grids the visibilities it is given (an mtmfs mosaic's PSF terms,
                // `((nu - nu0)/nu0)^t`, about `psfphasecenter` as term 0), else the weights.
                (Pass::Psf, vis) => vis.map(|v| take(v, &rows)),
                (Pass::Residual, Some(vis)) => Some(take(vis, &rows)),
                (Pass::Residual, None) => {
                    return Err(GridError::Shape {
                        what: "vis_rc (required by the residual pass)",
                        expected: vec![batch.uvw_m.nrows(), batch.freq_hz.len()],
                        got: vec![],
                    })
                }
            };
            let p = self.pointings[slot];
            for (band, cols) in &bands {
                let freqs = columns_of(batch.freq_hz, cols);
                let wgt = take_cols(wgt_rows.view(), cols);
                let vis = vis_rows.as_ref().map(|v| take_cols(v.view(), cols));
                let kernels = self.ft_kernels(*band);
                let i = slot * nb + band;
                let st = with_pool(self.nthreads, || {
                    ft.grid(
                        grid.view_mut(),
                        uvw.view(),
                        &freqs,
                        vis.as_ref().map(|v| v.view()),
                        wgt.view(),
                        &kernels,
                        p.beam,
                        centre(&p),
                    )
                })?;
                sums[i][0] += st.sum_weights;
                sums[i][1] += match batch.weight_factor_rc {
                    None => st.sum_weights,
                    Some(f) => {
                        let f_rows = take(f, &rows);
                        let f = take_cols(f_rows.view(), cols);
                        factor_sum(wgt.view(), f.view())
                    }
                };
                total += st;
            }
        }
        Ok(total)
    }

    fn images(&self, planes: GridPlanes, scale: f64) -> GridResult<Vec<Array2<f32>>> {
        Ok(self.linear_images(planes, scale)?.0)
    }

    /// The image of the grid (times `scale`) and the per-pointing weight sums.
    fn linear_images(&self, planes: GridPlanes, scale: f64) -> GridResult<LinearImages> {
        let sums: Vec<[f64; 2]> = planes.sums().to_vec();
        let mut grids = planes.into_grids();
        let (ny, nx) = self.image_shape();
        let grid = match grids.pop() {
            Some(g) if grids.is_empty() && g.shape() == (ny, nx) => g.into_double(),
            _ => None,
        }
        .ok_or(GridError::PlaneCount {
            expected: 1,
            got: grids.len() + 1,
        })?;
        let s = if sums.iter().any(|s| s[0] > 0.0) {
            scale
        } else {
            0.0
        };
        let ft = self.ft_grid();
        let img = with_pool(self.nthreads, || ft.image(grid, s))?;
        Ok((vec![img], sums))
    }

    /// `sum_p W_p B_p` with `W_p` the sums of the weights times their factors
    /// ([`VisBatch::weight_factor_rc`]; without: the weights gridded).
    fn weight_image(&self, planes: &GridPlanes, scale: f64) -> GridResult<Option<Array2<f32>>> {
        let sums: Vec<[f64; 2]> = planes.sums().iter().map(|s| [s[1], 0.0]).collect();
        let w = self.band_limited_weight(&sums, scale);
        Ok(Some(w.mapv(|v| v as f32)))
    }

    fn at_frequency(&self, freq_hz: f64) -> Option<Box<dyn VisGridder>> {
        let mut g = self.clone();
        g.freq_hz = freq_hz;
        Some(Box::new(g))
    }

    fn model_planes(&self, model_yx: &[ArrayView2<f32>]) -> GridResult<GridPlanes> {
        if model_yx.len() != 1 {
            return Err(GridError::PlaneCount {
                expected: 1,
                got: model_yx.len(),
            });
        }
        let grids = (0..self.pointings.len() * self.nbands())
            .map(|i| {
                let (p, f) = self.grid_slot(i);
                let mut seen = model_yx[0].to_owned();
                let beam = self.beam_at_freq(p.centre_px, p.beam, f);
                Zip::from(&mut seen).and(&beam).for_each(|m, b| *m *= *b);
                self.gridder.model_grid(seen.view(), self.nthreads)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(GridPlanes::from_grids(Pass::Residual, grids))
    }

    fn predict(
        &self,
        model: &GridPlanes,
        batch: &VisBatch,
        mut out: ArrayViewMut2<Complex32>,
    ) -> GridResult {
        let grids = model.grids();
        let nb = self.nbands();
        if grids.len() != self.pointings.len() * nb {
            return Err(GridError::PlaneCount {
                expected: self.pointings.len() * nb,
                got: grids.len(),
            });
        }
        let mut total = GridStats::default();
        let bands = channel_bands(&self.band_freqs, batch.freq_hz);
        for (slot, rows) in self.groups(batch)? {
            let uvw = take(batch.uvw_m, &rows);
            let wgt_rows = take(batch.weight_rc, &rows);
            for (band, cols) in &bands {
                let freqs = columns_of(batch.freq_hz, cols);
                let wgt = take_cols(wgt_rows.view(), cols);
                let mut pred = Array2::<Complex32>::zeros((uvw.nrows(), freqs.len()));
                total += self.gridder.degrid(
                    &grids[slot * nb + band],
                    uvw.view(),
                    &freqs,
                    Some(wgt.view()),
                    pred.view_mut(),
                    self.nthreads,
                )?;
                let all: Vec<usize>;
                let cols = match cols {
                    Some(c) => c,
                    None => {
                        all = (0..freqs.len()).collect();
                        &all
                    }
                };
                for (i, r) in row_indices(&rows, uvw.nrows()).enumerate() {
                    for (j, c) in cols.iter().enumerate() {
                        out[[r, *c]] = pred[[i, j]];
                    }
                }
            }
        }
        Ok(total)
    }
}

mod bands;
mod conj;
pub use conj::{conjugate_band_error, conjugate_freq};
mod ftgrid;
mod weight;

use bands::{channel_bands, row_indices};
pub(crate) use bands::{columns_of, take_cols};
use ftgrid::FtCache;
use weight::WeightKernels;

#[cfg(test)]
mod tests;
