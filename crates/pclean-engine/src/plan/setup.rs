//! What every participant of a run opens and plans identically from the parameters: the
//! MeasurementSets and their selections, the phase centre, the spectral axis, the gridder, the
//! memory model's inputs, the products the run makes and what it reuses (start models, existing
//! PSF/residual). The coordinator and every remote worker build one [`Setup`] the same way, so a
//! block computed anywhere is the same block.

use super::field_checks::{check_fields, log_multi_field};
use super::memory::BlockShape;
use super::shape::{block_shape, chunk_rows, row_bytes, DataSide, ImageSide};
use super::spectral::{phase_centre, spectral_plan, FrameContext, SpectralPlan, SpwSelection};
use crate::cycles::user_mask::{self, UserMask};
use crate::error::EngineError;
use crate::exec::block::BlockInputs;
use crate::imaging::gridder::RunGridder;
use crate::imaging::weights::DensityLayout;
use crate::imaging::{make_gridder, ImagingContext};
use crate::products::{product_list, read_start_model, Reused, StartModel};
use crate::source::Source;
use pclean_core::direction::SkyContext;
use pclean_core::params::{DataColumnChoice, Gridder, ImagingParams, PhaseCenter};
use pclean_core::stokes::describe_feeds;
use pclean_core::{Correlation, Direction, DirectionFrame, StokesSet};
use pclean_grid::pb::PbModel;
use pclean_grid::weighting::{ImagingWeighter, UvTaper};
use pclean_ms::{DataColumn, MeasurementSet};
use tracing::warn;

/// A run opened and planned (see the module documentation).
pub struct Setup {
    pub params: ImagingParams,
    pub sources: Vec<Source>,
    pub centre: Direction,
    /// Epoch (the first integration), UT1 - UTC and observatory of direction conversions.
    pub sky: SkyContext,
    pub first_field: usize,
    pub plan: SpectralPlan,
    pub taper: Option<UvTaper>,
    pub gridder: RunGridder,
    /// Threads of the whole run (0 in the parameters = every core).
    pub nthreads: usize,
    pub chunk_rows: usize,
    /// Bytes one selected row takes in a visibility chunk (every selected channel).
    pub row_bytes: usize,
    /// Visibilities gridded into one image plane.
    pub nvis_per_chan: usize,
    pub shape: BlockShape,
    /// The primary-beam model (`None`: the telescope has none and nothing needs one; the `.pb`
    /// is then zero, as tclean's).
    pub pb_model: Option<PbModel>,
    /// The pixel of each primary beam the `.pb` sums (one per selected field and MS, at the
    /// field's phase centre: [`super::primary_beam::pb_pointings`]); empty without a model.
    pub pb_pointings: Vec<[f64; 2]>,
    /// The products of the run, in writing order.
    pub exts: Vec<&'static str>,
    /// specmode='mvc''s cube (the channels of its cube products).
    pub mvc_axis: Option<crate::imaging::mvc::MvcAxis>,
    /// `startmodel` (read per block) or, with `restart`, the existing model.
    pub start_model: Option<StartModel>,
    /// usemask='user': the region or mask image, checked here (before any gridding).
    pub user_mask: Option<UserMask>,
    /// Existing products reused (`calcpsf=false`, `calcres=false`), read before any is rewritten.
    pub reused: Reused,
    /// Warnings found while opening (MS metadata, column fallback).
    pub warnings: Vec<String>,
}

/// The MSs of a run with their resolved selections, and the warnings found opening them.
fn open_sources(params: &ImagingParams) -> Result<(Vec<Source>, Vec<String>), EngineError> {
    let mut warnings = Vec::new();
    let mut note = |w: String| {
        warn!("{w}");
        warnings.push(w);
    };
    params.parallel.notes.iter().cloned().for_each(&mut note);
    let column = match params.datacolumn {
        DataColumnChoice::Data => DataColumn::Data,
        DataColumnChoice::Corrected => DataColumn::Corrected,
        DataColumnChoice::Model => DataColumn::Model,
    };
    let mut sources = Vec::new();
    for (index, path) in params.vis.iter().enumerate() {
        let ms = MeasurementSet::open(path)?;
        for w in &ms.meta().warnings {
            note(w.clone());
        }
        let resolved = ms.resolve_column(column)?;
        if let Some(w) = resolved.warning {
            note(w);
        }
        let selected = ms.select(&params.selections[index])?;
        if let Some(w) = check_stokes(&params.stokes, path, &selected)? {
            note(w);
        }
        sources.push(Source {
            index,
            ms: std::sync::Arc::new(ms),
            selected,
            column,
            cache: None,
            first_two_hz: Default::default(),
            moving: None,
            prepared: None,
            keys: None,
        });
    }
    Ok((sources, warnings))
}

/// Error unless every selected data description of `path` can form every plane of `stokes`
/// (tclean makes an all-zero image with a sum of weights of 0 for a Stokes value the feeds
/// cannot make, such as `XX` from circular feeds; pclean refuses it before any work). A warning
/// for the pairs that tclean leaves empty although the feeds make them (`IQ`, `UV` from circular
/// feeds, `IV`, `QU` from linear ones), which pclean makes from all four correlations.
fn check_stokes(
    stokes: &StokesSet,
    path: &str,
    selected: &pclean_ms::SelectedData,
) -> Result<Option<String>, EngineError> {
    let mut warning = None;
    for g in &selected.groups {
        let circ = g.corrs.iter().all(|c| {
            matches!(
                c,
                Correlation::RR | Correlation::RL | Correlation::LR | Correlation::LL
            )
        });
        let empty_in_tclean: &[&str] = if circ { &["IQ", "UV"] } else { &["IV", "QU"] };
        if empty_in_tclean.contains(&stokes.label().as_str()) {
            warning = Some(format!(
                "stokes='{}' from {} of {}: tclean writes all-zero planes (sum of weights 0) for this pair; pclean forms both planes from the four correlations (the same values as those planes of stokes='IQUV')",
                stokes.label(),
                describe_feeds(&g.corrs),
                path
            ));
        }
        if let Some(p) = stokes.unformable(&g.corrs) {
            return Err(EngineError::param(
                "stokes",
                format!(
                    "stokes='{}': the {} plane cannot be made from {} (data description {}, spectral window {}) with {}; with these feeds use one of {}",
                    stokes.label(),
                    p.name(),
                    path,
                    g.ddid,
                    g.spw_id,
                    describe_feeds(&g.corrs),
                    StokesSet::formable_values(&g.corrs).join(", ")
                ),
            ));
        }
    }
    Ok(warning)
}

/// The selected channels of every (MS, spectral window).
fn spw_selections(sources: &[Source]) -> Vec<SpwSelection> {
    let mut out = Vec::new();
    for src in sources {
        for (spw_id, channels) in src.selected.spw_channels() {
            let spw = &src.ms.meta().spectral_windows[spw_id];
            out.push(SpwSelection {
                ms_index: src.index,
                spw_id,
                channels,
                chan_freq_hz: spw.chan_freq_hz.clone(),
                chan_width_hz: spw.chan_width_hz.clone(),
                frame: spw.frame.name().to_string(),
                epochs: spw_epochs(&src.selected, spw_id),
            });
        }
    }
    out
}

/// The distinct (TIME, FIELD_ID) pairs of the selected rows of spectral window `spw_id` (over
/// its data descriptions), ascending.
fn spw_epochs(selected: &pclean_ms::SelectedData, spw_id: usize) -> Vec<(f64, usize)> {
    let mut e: Vec<(f64, usize)> = selected
        .groups
        .iter()
        .filter(|g| g.spw_id == spw_id)
        .flat_map(|g| g.epochs.iter().copied())
        .collect();
    e.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    e.dedup();
    e
}

/// The data side of the memory model: chunk rows, the data channels the image channels draw on
/// and the visibilities gridded into one image plane.
fn data_side(
    params: &ImagingParams,
    sources: &[Source],
    spw_sels: &[SpwSelection],
    plan: &SpectralPlan,
) -> (DataSide, usize) {
    let nchan = plan.nchan();
    let max_chans = spw_sels
        .iter()
        .map(|s| s.channels.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let ncorr = sources
        .iter()
        .flat_map(|s| s.selected.groups.iter().map(|g| g.corrs.len()))
        .max()
        .unwrap_or(1);
    let row_bytes = row_bytes(max_chans, ncorr, params.stokes.0.len());
    // Data channels the image channels draw on: the image bandwidth in data channels (mfs: all).
    let data_width = spw_sels
        .iter()
        .filter_map(|s| s.chan_width_hz.first().map(|w| w.abs()))
        .fold(f64::INFINITY, f64::min);
    let used_chans = if plan.mfs || !data_width.is_finite() || data_width <= 0.0 {
        max_chans
    } else {
        ((nchan as f64 * plan.cdelt_hz.abs() / data_width).ceil() as usize).clamp(1, max_chans)
    };
    // Visibilities gridded into one image plane: selected rows x data channels per image
    // channel (the kernel is chosen for it: the smallest grid for large images).
    let per_image = if plan.mfs {
        usize::MAX
    } else {
        used_chans.div_ceil(nchan).max(1)
    };
    let nvis_per_chan: usize = sources
        .iter()
        .flat_map(|s| s.selected.groups.iter())
        .map(|g| g.rows.len() * g.chan_ids.len().min(per_image))
        .sum::<usize>()
        .max(1);
    // A cube block prepares its selected rows once (`source::prepare_block`); mfs (and its row
    // partitions) and mtmfs do not.
    let mtmfs = params.deconv.deconvolver == pclean_core::params::Deconvolver::Mtmfs;
    let prepared_rows = if plan.mfs || mtmfs {
        0
    } else {
        sources
            .iter()
            .flat_map(|s| s.selected.groups.iter())
            .map(|g| g.rows.len())
            .sum()
    };
    let data = DataSide {
        chunk_rows: chunk_rows(row_bytes),
        data_chans: used_chans,
        image_chans: nchan,
        spw_chans: max_chans,
        ncorr,
        nvis_per_chan,
        prepared_rows,
        streamed: plan.mfs && params.row_partitions == 0,
    };
    (data, row_bytes)
}

impl Setup {
    /// Open every MS and resolve its selection (all user errors surface here, before heavy
    /// work), then plan the phase centre, the spectral axis and the block shape, and read what
    /// the run reuses.
    pub fn open(params: ImagingParams) -> Result<Self, EngineError> {
        // Reused products (restart, calcres/calcpsf = false) work under the Dask driver too: the
        // coordinator copies them aside before rewriting them and each block, in whichever
        // process runs it, reads its own planes from the copy (products::PlaneSource;
        // tests/python/test_distributed.py::test_reused_products_under_dask_equal_local_run).
        let d = &params.deconv;
        let (mut sources, mut warnings) = open_sources(&params)?;
        let (earth, earth_note) = pclean_ms::measures::load_earth_orientation();
        tracing::info!("{earth_note}");
        let earth = std::sync::Arc::new(earth);
        let moving = super::ephemeris::open_all(&sources, &params, &earth)?;
        for (s, m) in sources.iter_mut().zip(&moving) {
            s.moving = m.clone();
        }
        let ms0 = sources[0].ms.clone();
        let meta0 = ms0.meta();
        // An ephemeris field's direction is the ephemeris's at FIELD TIME (its PHASE_DIR is an
        // offset from it), as casacore gives it to tclean.
        let mut field_dirs: Vec<Direction> = meta0.fields.iter().map(|f| f.phase_dir).collect();
        if let Some(m) = &moving[0] {
            for (fid, d) in field_dirs.iter_mut().enumerate() {
                if let Some(e) = m.field_direction(fid)? {
                    *d = e;
                }
            }
        }
        // tclean's first field is that of its first visibility chunk, and its iterator sorts by
        // FIELD_ID: the lowest selected field of the first MS, whatever the row order (checked
        // with tclean 6.7 on a copy of vla_multifield.ms sorted by descending FIELD_ID).
        let first_field = sources[0]
            .selected
            .field_ids
            .iter()
            .min()
            .copied()
            .unwrap_or(0);
        let first_time_mjd_s = sources
            .iter()
            .map(|s| s.ms.meta().time_range_mjd_s.0)
            .fold(f64::INFINITY, f64::min);
        let centre = match (&params.phasecenter, &moving[0]) {
            // TRACKFIELD: the moving source's topocentric direction at the first integration, in
            // ICRS (tclean's image centre).
            // A body (phasecenter='MARS'): its topocentric direction then, in ICRS, as tclean.
            (PhaseCenter::TrackField | PhaseCenter::Body(_), Some(m)) => {
                m.tracked_direction(DirectionFrame::Icrs, first_time_mjd_s)?
            }
            _ => phase_centre(&params, &field_dirs, first_field)?,
        };
        let sky = earth.sky_context(first_time_mjd_s, meta0.observatory.position_itrf_m);
        check_fields(&sources, &centre, &sky)?;
        log_multi_field(&sources, &centre, params.gridder);
        let spw_sels = spw_selections(&sources);
        // tclean's output channel grid is converted at the first integration of the *selected*
        // rows (measured with tclean 6.7 on the shared alma_mosaic cube with `field=N`: crval
        // moves with each field's first integration, by 1.4-8.5 kHz), not the MS's first one.
        let grid_time_mjd_s = sources
            .iter()
            .flat_map(|s| s.selected.field_first_time_mjd_s.iter().copied())
            .fold(f64::INFINITY, f64::min);
        let frame_ctx = FrameContext {
            observatory_itrf_m: meta0.observatory.position_itrf_m,
            direction: centre,
            first_time_mjd_s: if grid_time_mjd_s.is_finite() {
                grid_time_mjd_s
            } else {
                first_time_mjd_s
            },
            // The first MS's with its ephemeris fields' directions at FIELD TIME.
            field_dirs: std::iter::once(field_dirs.clone())
                .chain(
                    sources[1..]
                        .iter()
                        .map(|s| s.ms.meta().fields.iter().map(|f| f.phase_dir).collect()),
                )
                .collect(),
            source_restfreq_hz: spw_sels
                .first()
                .and_then(|s| meta0.source_rest_frequency_hz(first_field, s.spw_id)),
            earth,
            ephemeris: moving[0].clone(),
        };
        let plan = spectral_plan(&params, &spw_sels, &frame_ctx)?;
        // A weighting that cannot be made for this spectral axis fails here, before any work.
        crate::imaging::weights::scheme(&params.weighting, &plan.freqs_hz)?;
        if plan.conversion.is_some() && params.deconv.savemodel_column {
            return Err(EngineError::param("savemodel", format!(
                "savemodel='modelcolumn' with outframe={}: writing a model made in another frame back \
                 into the data's channels is not supported yet; use savemodel='none' or the data's frame",
                plan.frame
            )));
        }
        let taper = params.uvtaper.as_ref().map(UvTaper::new);
        let nthreads = if params.nthreads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            params.nthreads
        };
        let (data, row_bytes) = data_side(&params, &sources, &spw_sels, &plan);
        let wmax = crate::imaging::gridder::max_w_lambda(&sources, &spw_sels);
        let gridder = make_gridder(&params, data.nvis_per_chan, wmax)?;
        let ms_name = sources[0].ms.path().display().to_string();
        let freq0 = plan.freqs_hz.first().copied().unwrap_or(0.0);
        let (pb_model, pb_warnings) =
            super::primary_beam::choose_pb_model(&params, meta0, &ms_name, freq0)?;
        for w in pb_warnings {
            warn!("{w}");
            warnings.push(w);
        }
        let mut pb_pointings = Vec::new();
        if let Some(m) = &pb_model {
            tracing::info!("primary beam: {}", m.label);
            pb_pointings = super::primary_beam::pb_pointings(&params, &sources, &centre, &sky)?;
            let (cx, cy) = (params.nx / 2, params.ny / 2);
            if pb_pointings.iter().any(|c| *c != [cx as f64, cy as f64]) {
                tracing::info!(
                    "primary beam centred on the selected fields' phase centres, as tclean's \
                     standard gridder: pixel(s) {}",
                    pb_pointings
                        .iter()
                        .map(|[x, y]| format!("({x:.2}, {y:.2})"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        let gridder = match (params.gridder, gridder) {
            (Gridder::Mosaic, RunGridder::Es(es)) => {
                let m = crate::imaging::mosaic::mosaic_gridder(
                    &params,
                    es,
                    &mut sources,
                    &centre,
                    &sky,
                    pb_model.clone(),
                    freq0,
                )?;
                let m = if params.specmode == pclean_core::params::SpecMode::Mfs {
                    let freqs = crate::imaging::mosaic::beam_frequencies(&sources[0].selected);
                    tracing::info!(
                        "mosaic beams at {} frequencies (a grid per pointing each; \
                         `pclean estimate --beam-freqs`)",
                        freqs.len().max(1)
                    );
                    if params.mosaic.conjbeams {
                        if let Some(why) = pclean_grid::mosaic::conjugate_band_error(&freqs, freq0)
                        {
                            return Err(EngineError::param(
                                "conjbeams",
                                format!("conjbeams=True: {why}; use conjbeams=False"),
                            ));
                        }
                    }
                    m.with_beam_frequencies(freqs)
                        .with_conjugate_beams(params.mosaic.conjbeams)
                } else {
                    m
                };
                RunGridder::Mosaic(m)
            }
            (Gridder::AwProject, g) => RunGridder::Aw(crate::imaging::awproject::aw_gridder(
                &params,
                g,
                &mut sources,
                &centre,
                &sky,
                freq0,
            )?),
            (_, g) => g,
        };
        let mut image = ImageSide::of(&params);
        let mut mvc_axis = None;
        if let (Some(n), Some((lo, hi))) = (d.mvc, plan.mfs_band_hz) {
            let axis = crate::imaging::mvc::MvcAxis::over_band(lo, hi, n, d.nterms);
            tracing::info!(
                "specmode='mvc': a cube of {} channels of {:.6} MHz from {:.6} MHz (LSRK)",
                axis.nchan,
                axis.width_hz / 1e6,
                axis.lo_hz / 1e6
            );
            image.mvc_chans = axis.nchan;
            mvc_axis = Some(axis);
        }
        let mut shape = block_shape(image, &gridder, data);
        let nchan = plan.nchan();
        let weight_images = matches!(params.gridder, Gridder::Mosaic | Gridder::AwProject);
        shape.paged_data_chans = super::memory::paged_data_chans(&shape, &plan, weight_images);
        shape.paged_resident = params.cube_resident_chans;
        // Every deconvolution input is checked here, before any visibility is gridded: the
        // deconvolver's settings, the user mask (region syntax, mask image grid, channels,
        // Stokes, units) and the start model.
        // (mtmfs runs its own multi-term cycle, `cycles::mtmfs`.)
        if d.deconvolver != pclean_core::params::Deconvolver::Mtmfs {
            pclean_deconv::factory::make_deconvolver(
                d.deconvolver.name(),
                &d.scales.iter().map(|s| *s as f32).collect::<Vec<_>>(),
                d.smallscalebias as f32,
            )
            .map_err(|e| EngineError::param_source("deconvolver", "deconvolver", e))?;
        }
        let user_mask = user_mask::open(&params, &centre, &plan)?;
        let start_model = read_start_model(&params, &centre, &plan)?;
        let reused = Reused::load(&params, nchan)?;
        Ok(Setup {
            exts: product_list(&params),
            mvc_axis,
            sources,
            centre,
            sky,
            first_field,
            plan,
            taper,
            gridder,
            nthreads,
            chunk_rows: data.chunk_rows,
            row_bytes,
            nvis_per_chan: data.nvis_per_chan,
            shape,
            pb_model,
            pb_pointings,
            start_model,
            user_mask,
            reused,
            warnings,
            params,
        })
    }

    /// The inputs of one block, wherever it runs: this run's sources, beams, iteration settings,
    /// start models and reused products with the given context and weighting density.
    pub fn block_inputs<'a>(
        &'a self,
        ctx: &'a ImagingContext<'a>,
        shared_weighter: Option<&'a ImagingWeighter>,
    ) -> BlockInputs<'a> {
        BlockInputs {
            shared_weighter,
            ctx,
            sources: &self.sources,
            pb_model: self.pb_model.as_ref(),
            pb_pointings: &self.pb_pointings,
            reused: &self.reused,
            start_model: self.start_model.as_ref(),
            user_mask: self.user_mask.as_ref(),
            it: &self.params.deconv,
            centre: &self.centre,
            pbcor: self.exts.contains(&"image.pbcor") || self.exts.contains(&"image.tt0.pbcor"),
            mask_product: self.exts.contains(&"mask"),
            model_product: self.exts.contains(&"model") || self.exts.contains(&"model.tt0"),
            mvc_model_cube: self.mvc_axis.is_some() && self.exts.contains(&"model"),
            cycle_checkpoint: None,
            paged_data_chans: self.shape.paged_data_chans,
        }
    }

    /// The coordinates of the products of `params` (this run's, or a partial's with another
    /// imagename) and the object name (the first imaged field's).
    pub fn product_coords(&self, params: &ImagingParams) -> (pclean_imageio::ImageCoords, String) {
        let meta = self.sources[0].ms.meta();
        let coords = crate::products::image_coords(params, &self.plan, &self.centre, meta);
        let object = meta
            .fields
            .get(self.first_field)
            .map(|f| f.name.clone())
            .unwrap_or_default();
        (coords, object)
    }

    /// The coordinates of specmode='mvc''s cube products: the image's (`coords`) with mvc's
    /// channels as the spectral axis (tclean's: the first channel's centre at pixel 0, the
    /// channel width as the increment, the image's frame); `None` for other runs.
    pub fn mvc_cube_coords(
        &self,
        coords: &pclean_imageio::ImageCoords,
    ) -> Option<pclean_imageio::ImageCoords> {
        let axis = self.mvc_axis.as_ref()?;
        let mut c = coords.clone();
        c.spectral.crval_hz = axis.freq(0);
        c.spectral.cdelt_hz = axis.width_hz;
        c.spectral.crpix = 0.0;
        c.spectral.nchan = axis.nchan;
        c.spectral.chan_freqs_hz = None;
        Some(c)
    }

    /// The imaging context of blocks run with `nthreads` threads each.
    pub fn context(&self, nthreads: usize) -> ImagingContext<'_> {
        ImagingContext {
            params: &self.params,
            plan: &self.plan,
            phase_centre: self.centre,
            sky: self.sky,
            gridder: self.gridder.vis_gridder(nthreads),
            taper: self.taper,
            chunk_rows: self.chunk_rows,
            rows: None,
        }
    }

    /// The one weighting density of a cube with `perchanweightdensity=false` (made from every
    /// channel), or `None` when each block makes its own (or there is none).
    pub fn shared_weighter(&self, nthreads: usize) -> Result<Option<ImagingWeighter>, EngineError> {
        let params = &self.params;
        if self.plan.mfs || DensityLayout::of(params) != DensityLayout::Shared {
            return Ok(None);
        }
        let ctx = self.context(nthreads);
        let pool = crate::exec::thread_pool(nthreads)?;
        Ok(pool
            .install(|| ctx.weighters(&self.sources, 0..self.plan.nchan()))?
            .into_iter()
            .next())
    }

    /// The existing products this run reuses (restart's model, `calcpsf=false`/`calcres=false`
    /// products): each is copied aside before the run rewrites it, and its planes are read per
    /// block from that copy ([`crate::products::PlaneSource`]).
    pub fn reused_products(&self) -> Vec<&crate::products::PlaneSource> {
        let restart = self.start_model.as_ref().map_or(&[][..], |m| m.sources());
        restart.iter().chain(self.reused.sources()).collect()
    }

    /// Whether the run deconvolves (niter > 0, or a start model to subtract).
    pub fn deconvolves(&self) -> bool {
        self.params.niter > 0
            || !self.params.deconv.startmodel.is_empty()
            || self.params.deconv.restart
    }
}
