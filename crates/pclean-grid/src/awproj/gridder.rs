//! tclean's `awproject` gridder through the seam, by A-stacking: [`AwGridder`].
//!
//! tclean grids each visibility with the Fourier transform of its baseline's A-term at the
//! integration's parallactic-angle bin ([`super::pa`]); for identical antennas that is, per bin
//! `b`, the bin's dirty image `D_b` times the bin's beam, which is what this gridder does
//! (docs/decisions: A-stacking), with the w-term of each bin's rows corrected by the inner
//! gridder (the 2-D ES gridder, or the w-stacking gridder for `wprojplanes > 1`):
//! - residual pass: `sum_b D_b (P_R,b + P_L,b) / 2` (Stokes I from RR and LL, each hand through
//!   its own squinted power pattern; exact for an unpolarised sky); the PSF pass: `sum_b D_b P_R,b
//!   P_L,b` (tclean's PSF taper; measured off the image centre: docs/decisions.md (s15-awp));
//! - the weight image: `sum_b W_b P_R,b P_L,b` (tclean's weight functions pair each hand with the
//!   other), `W_b` the sum of the weights gridded in bin `b`;
//! - prediction: per bin the model times the bin's beam, each row predicted from its bin's grids
//!   (without the flux scale below).
//!
//! tclean's flux scale: its A-kernel (the aperture autocorrelation, support ~4 uv cells) is
//! normalised so that its samples at the zero sub-cell phase sum to 1, and a visibility at
//! sub-cell phase `f` is gridded (and predicted) with a kernel whose samples sum to `S(f)`,
//! 0.88 on average for the EVLA at L band (measured on tclean's `cfcache`). By Poisson's
//! summation `S(f) = sum_k P(k L) cos(2 pi k.f) / sum_k P(k L)`, `P` the power pattern and `L`
//! the image's field of view (the kernel's uv cell is `1 / L`): [`AliasTable`] evaluates it
//! from this gridder's own beams at tclean's 20 phases per cell and every visibility's weight
//! carries its `S` (real part, mean of the two hands) in the residual pass. The PSF pass does
//! not: tclean grids the PSF with its weight functions, whose kernel sums to 1 (measured: the
//! PSF of the bundled single-field case 1.2e-4 from tclean's without `S`, 1.5e-3 with it; the
//! wideband case 1.9e-4 against 7.4e-3; docs/decisions.md (s16-wbawp)). Prediction does not
//! either: tclean's cleaned awproject images converge to the true flux (measured: restored
//! peak 0.9993 for the 1 Jy source; with `S` also in prediction the clean converges to `1 /
//! mean S`, 1.132). The sum of weights returned is the plain sum, as tclean's.
//!
//! tclean's `psterm=True` ([`AwGridder::with_psterm`]): [`super::kernel`], centred per pointing.
//!
//! tclean's `aterm=False` ([`AwGridder::mosaic_without_aterm`]): unit beams, so that the spheroidal of
//! `psterm=True` (which tclean then requires) is all its functions carry.
//!
//! tclean's `wbawp=True` in an mfs plane ([`AwGridder::with_beam_frequencies`]): the A-terms at
//! several frequencies (tclean's: each spectral window's), each data channel gridded, imaged and
//! predicted through its own frequency's beams (a grid set per beam frequency, pointing and bin).
//! With tclean's `conjbeams=True` as well ([`AwGridder::with_conjugate_beams`]): the gridding
//! passes take a channel at `nu` through the beam nearest its conjugate frequency `sqrt(2 nu0^2 -
//! nu^2)` about the image frequency `nu0`, the weight beams pair each hand with the other hand
//! of the beam nearest the beam's own conjugate frequency, and prediction keeps each channel's
//! nearest beam (CASA's `CFBuffer::initMaps`, `AWConvFunc`; docs/decisions.md (s18-conj)).
//!
//! `deconvolver='mtmfs'` (the engine's Taylor passes): a PSF pass given visibilities (a PSF
//! term's Taylor factors) grids them through the PSF's beams, the weight image sums the weights
//! times their weight factors (`VisBatch::weight_factor_rc`, tclean's `.weight.ttN`), and every
//! call reports the weights times their factors and the kernel sum (`GridStats::
//! sum_scaled_weights`, tclean's mtmfs `.sumwt.ttN`; docs/decisions.md (s17-awmt)).

use super::geometry::BandGeometry;
pub use super::kernel::{ps_term, ps_term_at, AliasTable, CF_OVERSAMPLING};
use super::pointing::field_pointing;
pub use super::pointing::{AwPointing, BaselinePointings};
use crate::gridder::{GridError, GridStats, Gridder};
use crate::seam::{GridPlanes, GridResult, Pass, StandardGridder, VisBatch, VisGridder};
use crate::wgrid::WGridder;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, Zip};
use num_complex::Complex32;
use std::sync::Arc;

mod beams;
mod passes;
mod rows;
use rows::{columns_of, take_cols};

/// The gridder each bin's rows go through (w-term included or not).
#[derive(Clone, Debug)]
pub enum AwInner {
    /// The 2-D ES gridder (`wprojplanes = 1`: tclean's awproject without a w-term).
    Es(Gridder),
    /// w-stacking (`wprojplanes > 1` or -1).
    W(WGridder),
}

impl AwInner {
    fn seam(&self, nthreads: usize) -> Box<dyn VisGridder> {
        match self {
            AwInner::Es(g) => Box::new(StandardGridder::new(g.clone(), nthreads)),
            AwInner::W(g) => Box::new(g.with_threads(nthreads)),
        }
    }

    /// The 2-D ES gridder underneath.
    pub fn base(&self) -> &Gridder {
        match self {
            AwInner::Es(g) => g,
            AwInner::W(g) => g.base(),
        }
    }

    /// uv grids per bin (the w planes).
    pub fn grid_planes(&self) -> usize {
        match self {
            AwInner::Es(_) => 1,
            AwInner::W(g) => g.nplanes(),
        }
    }
}

/// What picks a row's grid set: TIME, FIELD_ID and (with baseline pointings) the antennas.
type RowKey = (f64, i32, Option<(i32, i32)>);

/// One A-term bin's beams at the gridder's frequency, for one pointing.
#[derive(Clone, Debug)]
struct BinBeams {
    /// `(P_R + P_L) / 2` on the image.
    image: Array2<f32>,
    /// `P_R P_L` on the image.
    weight: Array2<f32>,
    alias: AliasTable,
}

/// tclean's `awproject` gridder by A-stacking (see the module docs).
#[derive(Clone, Debug)]
pub struct AwGridder {
    inner: AwInner,
    nthreads: usize,
    /// The aperture model of the A-term (`None`: tclean's `aterm=False`, every beam 1).
    geom: Option<&'static BandGeometry>,
    /// Parallactic angle of each bin (radians).
    bins_pa_rad: Vec<f64>,
    /// The pointings; their grid sets are `pointing * nbins + bin`.
    pointings: Vec<AwPointing>,
    /// `(TIME, FIELD_ID, bin)` of every integration, ascending in time (FIELD_ID -1: any).
    time_bin: Vec<(f64, i32, usize)>,
    freq_hz: f64,
    /// The beams' frequencies (one: `freq_hz`); set `(beam * npointings + pointing) * nbins +
    /// bin`.
    beam_freqs: Vec<f64>,
    /// With several beam frequencies: `(channel frequency, beam)` of every channel, ascending.
    chan_beam: Arc<Vec<(f64, usize)>>,
    /// tclean's `conjbeams=True` with several beam frequencies: the image's reference frequency
    /// `nu0` (Hz). The gridding passes take a channel at `nu` through the beam nearest its
    /// conjugate frequency `sqrt(2 nu0^2 - nu^2)`, and beam `b`'s weight functions pair its
    /// hands with those of the beam nearest `b`'s conjugate frequency ([`Self::partner_of`]);
    /// prediction is unchanged (`None`: no conjugate beams).
    conj_ref_hz: Option<f64>,
    beams: Arc<Vec<BinBeams>>,
    /// tclean's `psterm=True`: the image-domain spheroidal of each pointing ([`ps_term_at`]).
    ps: Option<Arc<Vec<Array2<f32>>>>,
    /// `usepointing=True`: each row's pointing from its time and antennas, not its field.
    by_baseline: Option<Arc<BaselinePointings>>,
}

impl AwGridder {
    /// A-stacking over the bins at `bins_pa_rad` (radians), the integration at TIME `t` in bin
    /// `time_bin[..].1`, each bin's rows gridded by `inner`, the beams of `geom` at `freq_hz`.
    pub fn new(
        inner: AwInner,
        nthreads: usize,
        geom: &'static BandGeometry,
        bins_pa_rad: Vec<f64>,
        time_bin: Vec<(f64, usize)>,
        freq_hz: f64,
    ) -> Result<Self, GridError> {
        let spec = inner.base().spec();
        let centre = AwPointing {
            field_id: -1,
            centre_px: [(spec.nx / 2) as f64, (spec.ny / 2) as f64],
        };
        let time_bin = time_bin.into_iter().map(|(t, b)| (t, -1, b)).collect();
        Self::mosaic(
            inner,
            nthreads,
            geom,
            bins_pa_rad,
            vec![centre],
            time_bin,
            freq_hz,
        )
    }

    /// A-stacking over `pointings` (an A-projection mosaic) and the bins at `bins_pa_rad`: the
    /// integration at TIME `t` of field `f` in bin `b` for each `(t, f, b)` of `time_bin`.
    pub fn mosaic(
        inner: AwInner,
        nthreads: usize,
        geom: &'static BandGeometry,
        bins_pa_rad: Vec<f64>,
        pointings: Vec<AwPointing>,
        time_bin: Vec<(f64, i32, usize)>,
        freq_hz: f64,
    ) -> Result<Self, GridError> {
        Self::build(
            inner,
            nthreads,
            Some(geom),
            bins_pa_rad,
            pointings,
            time_bin,
            freq_hz,
        )
    }

    /// tclean's `aterm=False` over `pointings`: its AWProjectFT with a unit aperture, every beam
    /// 1, so that the spheroidal of [`Self::with_psterm`] (which tclean then requires) is all its
    /// functions carry, and no kernel-sum flux scale. One set per pointing (the parallactic angle
    /// changes nothing without the aperture): the integrations `(TIME, FIELD_ID)` of `times`.
    pub fn mosaic_without_aterm(
        inner: AwInner,
        nthreads: usize,
        pointings: Vec<AwPointing>,
        times: Vec<(f64, i32)>,
        freq_hz: f64,
    ) -> Result<Self, GridError> {
        let time_bin = times.into_iter().map(|(t, f)| (t, f, 0)).collect();
        Self::build(
            inner,
            nthreads,
            None,
            vec![0.0],
            pointings,
            time_bin,
            freq_hz,
        )
    }

    fn build(
        inner: AwInner,
        nthreads: usize,
        geom: Option<&'static BandGeometry>,
        bins_pa_rad: Vec<f64>,
        pointings: Vec<AwPointing>,
        mut time_bin: Vec<(f64, i32, usize)>,
        freq_hz: f64,
    ) -> Result<Self, GridError> {
        if pointings.is_empty() {
            return Err(GridError::Shape {
                what: "pointings (none)",
                expected: vec![1],
                got: vec![0],
            });
        }
        if let Some((_, _, b)) = time_bin.iter().find(|(_, _, b)| *b >= bins_pa_rad.len()) {
            return Err(GridError::Shape {
                what: "time_bin (a bin index beyond the bins)",
                expected: vec![bins_pa_rad.len()],
                got: vec![*b],
            });
        }
        time_bin.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut g = AwGridder {
            inner,
            nthreads,
            geom,
            bins_pa_rad,
            pointings,
            time_bin,
            freq_hz,
            beam_freqs: vec![freq_hz],
            chan_beam: Arc::new(Vec::new()),
            conj_ref_hz: None,
            beams: Arc::new(Vec::new()),
            ps: None,
            by_baseline: None,
        };
        g.beams = Arc::new(g.make_beams());
        Ok(g)
    }

    /// The same gridder with tclean's `psterm` (see the module docs).
    pub fn with_psterm(self, psterm: bool) -> Self {
        let ps = psterm.then(|| {
            let (ny, nx) = self.image_shape();
            let at = |p: &AwPointing| ps_term_at(ny, nx, p.centre_px);
            Arc::new(self.pointings.iter().map(at).collect())
        });
        AwGridder { ps, ..self }
    }

    /// Whether the convolution functions carry the A-term (tclean's `aterm`).
    pub fn aterm(&self) -> bool {
        self.geom.is_some()
    }

    /// The same gridder with each row's pointing from its TIME, ANTENNA1 and ANTENNA2 (tclean's
    /// `usepointing=True`; `table`'s indices into [`Self::pointings`]).
    pub fn with_baseline_pointings(self, table: BaselinePointings) -> Result<Self, GridError> {
        if let Some(p) = table.max_pointing().filter(|p| *p >= self.pointings.len()) {
            return Err(GridError::Shape {
                what: "baseline pointings (an index beyond the pointings)",
                expected: vec![self.pointings.len()],
                got: vec![p],
            });
        }
        Ok(AwGridder {
            by_baseline: Some(Arc::new(table)),
            ..self
        })
    }

    /// The spheroidal of grid set `k`'s pointing (`psterm=True`).
    fn ps_of(&self, k: usize) -> Option<&Array2<f32>> {
        self.ps
            .as_ref()
            .map(|ps| &ps[(k % self.per_beam()) / self.nbins()])
    }

    /// Whether the convolution functions carry tclean's prolate spheroidal (`psterm=True`).
    pub fn psterm(&self) -> bool {
        self.ps.is_some()
    }

    /// The same gridder running its calls on `nthreads` threads (0 = all cores).
    pub fn with_threads(&self, nthreads: usize) -> Self {
        AwGridder {
            nthreads,
            ..self.clone()
        }
    }

    /// The gridder of each bin's rows.
    pub fn inner(&self) -> &AwInner {
        &self.inner
    }

    /// The number of parallactic-angle bins.
    pub fn nbins(&self) -> usize {
        self.bins_pa_rad.len()
    }

    /// The pointings (one, at the image centre, unless a mosaic).
    pub fn pointings(&self) -> &[AwPointing] {
        &self.pointings
    }

    /// The grid sets: beam frequencies x pointings x bins.
    pub fn nsets(&self) -> usize {
        self.beam_freqs.len() * self.per_beam()
    }

    /// The mean of tclean's kernel sum over the sub-cell phases, per bin (of the first beam
    /// frequency's first pointing: it does not depend on the pointing).
    pub fn kernel_sum_means(&self) -> Vec<f64> {
        self.beams
            .iter()
            .take(self.nbins())
            .map(|b| b.alias.mean())
            .collect()
    }
}

impl VisGridder for AwGridder {
    fn name(&self) -> &'static str {
        "awproject"
    }

    fn image_shape(&self) -> (usize, usize) {
        let s = self.inner.base().spec();
        (s.ny, s.nx)
    }

    fn nplanes(&self, _: Pass) -> usize {
        1
    }

    fn planes_bytes(&self, pass: Pass) -> usize {
        self.inner.seam(1).planes_bytes(pass) * self.nsets()
    }

    fn new_planes(&self, pass: Pass) -> GridPlanes {
        let parts = (0..self.nsets())
            .map(|_| match &self.inner {
                AwInner::Es(_) => self.inner.seam(self.nthreads).new_planes(pass),
                // The w-gridder's plane sets start as a visibility buffer, which one flat list of
                // grids cannot carry: each bin's w planes up front (what `planes_bytes` counts).
                AwInner::W(g) => GridPlanes::from_grids(
                    pass,
                    (0..g.nplanes()).map(|_| g.base().new_grid()).collect(),
                ),
            })
            .collect();
        Self::join(pass, parts, vec![[0.0; 2]; self.nsets()])
    }

    fn grid(&self, planes: &mut GridPlanes, batch: &VisBatch) -> GridResult {
        self.check_planes(planes)?;
        let pass = planes.pass();
        let taken = std::mem::replace(planes, GridPlanes::from_grids(pass, Vec::new()));
        let (pass, mut parts, mut sums) = self.split(taken);
        let res = self.grid_bins(&mut parts, &mut sums, batch);
        *planes = Self::join(pass, parts, sums);
        res
    }

    fn images(&self, planes: GridPlanes, scale: f64) -> GridResult<Vec<Array2<f32>>> {
        self.check_planes(&planes)?;
        let (pass, parts, sums) = self.split(planes);
        let inner = self.inner.seam(self.nthreads);
        let mut acc = Array2::<f32>::zeros(self.image_shape());
        // tclean's PSF carries the spheroidal squared, its residual once (measured).
        let power = if pass == Pass::Psf { 2 } else { 1 };
        for (k, ((part, s), beams)) in parts
            .into_iter()
            .zip(&sums)
            .zip(self.beams.iter())
            .enumerate()
        {
            if s[0] <= 0.0 {
                continue;
            }
            let dirty = inner.images(part, scale)?;
            let dirty = dirty.first().ok_or(GridError::PlaneCount {
                expected: 1,
                got: 0,
            })?;
            let beam = if pass == Pass::Psf {
                &beams.weight
            } else {
                &beams.image
            };
            match self.ps_of(k) {
                Some(ps) => Zip::from(&mut acc)
                    .and(dirty)
                    .and(beam)
                    .and(ps)
                    .for_each(|a, d, b, p| *a += *d * *b * p.powi(power)),
                None => Zip::from(&mut acc)
                    .and(dirty)
                    .and(beam)
                    .for_each(|a, d, b| *a += *d * *b),
            }
        }
        Ok(vec![acc])
    }

    fn weight_image(&self, planes: &GridPlanes, scale: f64) -> GridResult<Option<Array2<f32>>> {
        let mut w = Array2::<f64>::zeros(self.image_shape());
        // `s[1]`: the weights times their factors (`VisBatch::weight_factor_rc`; without, the
        // weights: `s[0]`).
        for (k, (s, beams)) in planes.sums().iter().zip(self.beams.iter()).enumerate() {
            let f = s[1] * scale;
            match self.ps_of(k) {
                Some(ps) => Zip::from(&mut w)
                    .and(&beams.weight)
                    .and(ps)
                    .for_each(|a, b, p| *a += f * (*b * p * p) as f64),
                None => Zip::from(&mut w)
                    .and(&beams.weight)
                    .for_each(|a, b| *a += f * *b as f64),
            }
        }
        Ok(Some(w.mapv(|v| v as f32)))
    }

    fn at_frequency(&self, freq_hz: f64) -> Option<Box<dyn VisGridder>> {
        if (freq_hz - self.freq_hz).abs() <= 1e-9 * self.freq_hz {
            return Some(Box::new(self.clone()));
        }
        let mut g = self.clone();
        g.freq_hz = freq_hz;
        g.beam_freqs = vec![freq_hz];
        g.chan_beam = Arc::new(Vec::new());
        g.conj_ref_hz = None;
        g.beams = Arc::new(g.make_beams());
        Some(Box::new(g))
    }

    fn model_planes(&self, model_yx: &[ArrayView2<f32>]) -> GridResult<GridPlanes> {
        if model_yx.len() != 1 {
            return Err(GridError::PlaneCount {
                expected: 1,
                got: model_yx.len(),
            });
        }
        let inner = self.inner.seam(self.nthreads);
        let parts = self
            .beams
            .iter()
            .enumerate()
            .map(|(k, b)| {
                let mut seen = &model_yx[0] * &b.image;
                if let Some(ps) = self.ps_of(k) {
                    // tclean degrids through its functions with the spheroidal: the model it
                    // predicts from is divided by its `.pb`, which carries the spheroidal too.
                    seen *= ps;
                }
                inner.model_planes(&[seen.view()])
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::join(
            Pass::Residual,
            parts,
            vec![[0.0; 2]; self.nsets()],
        ))
    }

    fn predict(
        &self,
        model: &GridPlanes,
        batch: &VisBatch,
        mut out: ArrayViewMut2<Complex32>,
    ) -> GridResult {
        self.check_planes(model)?;
        let inner = self.inner.seam(self.nthreads);
        let m = self.inner.grid_planes();
        let mut total = GridStats::default();
        out.fill(Complex32::new(0.0, 0.0));
        let chans = self.channel_beams(batch.freq_hz, false);
        for (k, rows) in self.groups(batch)? {
            let uvw = batch.uvw_m.select(Axis(0), &rows);
            let wgt_rows = batch.weight_rc.select(Axis(0), &rows);
            for (beam, cols) in &chans {
                let b = beam * self.per_beam() + k;
                let freqs = columns_of(batch.freq_hz, cols);
                let wgt = take_cols(wgt_rows.view(), cols);
                let mut pred = Array2::<Complex32>::zeros((rows.len(), freqs.len()));
                total += match &self.inner {
                    AwInner::Es(g) => g.degrid(
                        &model.grids()[b],
                        uvw.view(),
                        &freqs,
                        Some(wgt.view()),
                        pred.view_mut(),
                        self.nthreads,
                    )?,
                    AwInner::W(_) => {
                        let grids = model.grids()[b * m..(b + 1) * m].to_vec();
                        let part = GridPlanes::from_grids(Pass::Residual, grids);
                        let sub = VisBatch::new(uvw.view(), &freqs, wgt.view());
                        inner.predict(&part, &sub, pred.view_mut())?
                    }
                };
                for (i, r) in rows.iter().enumerate() {
                    match cols {
                        None => out.row_mut(*r).assign(&pred.row(i)),
                        Some(c) => {
                            for (j, col) in c.iter().enumerate() {
                                out[[*r, *col]] = pred[[i, j]];
                            }
                        }
                    }
                }
            }
        }
        Ok(total)
    }
}
