//! `run_image`: the whole dirty-imaging run, from parameters to products and summary.

use crate::error::EngineError;
use crate::imaging::{make_gridder, ImagingContext, Source};
use crate::plan::{phase_centre, spectral_plan, SpectralPlan, SpwSelection};
use crate::products::{check_products_absent, product_path, ProductLock, ProductWriter, PRODUCTS};
use crate::progress::Progress;
use crate::resources::{peak_rss_mib, total_memory_bytes};
use crate::summary::{ChannelSummary, RunSummary};
use ndarray::Array2;
use pclean_core::params::{DataColumnChoice, ImagingParams, RawParams};
use pclean_core::{Beam, Direction};
use pclean_deconv::beamfit::fit_psf_beam;
use pclean_grid::pb::{pb_image, pb_limit_in_place, pb_model_for};
use pclean_grid::weighting::UvTaper;
use pclean_imageio::{Beams, ImageCoords, ImageMeta, SpectralAxis};
use pclean_ms::{DataColumn, MeasurementSet, Selection};
use std::time::Instant;
use tracing::{info, warn};

const ARCSEC_PER_RAD: f64 = 206_264.806_247_096_36;

/// Make the dirty-image products described by `params`. `effective` (the merged raw parameters
/// with defaults) is saved next to the products for reproducibility.
pub fn run_image(params: &ImagingParams, effective: &RawParams) -> Result<RunSummary, EngineError> {
    let t0 = Instant::now();
    if params.niter > 0 {
        return Err(EngineError::Param(format!(
            "niter={}: this build makes dirty images only; use --niter 0",
            params.niter
        )));
    }
    let mut warnings: Vec<String> = Vec::new();
    let mut note = |w: String| {
        warn!("{w}");
        warnings.push(w);
    };

    // 1. Open every MS and resolve its selection: all user errors surface here, before heavy work.
    let selection = Selection {
        field: params.field.clone(),
        spw: params.spw.clone(),
        timerange: params.timerange.clone(),
        uvrange: params.uvrange.clone(),
        antenna: params.antenna.clone(),
        scan: params.scan.clone(),
        observation: params.observation.clone(),
        intent: params.intent.clone(),
    };
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
        let selected = ms.select(&selection)?;
        sources.push(Source {
            index,
            ms,
            selected,
            column,
        });
    }

    // 2. Phase centre and spectral axis.
    let ms0 = &sources[0];
    let field_dirs: Vec<Direction> = ms0.ms.meta().fields.iter().map(|f| f.phase_dir).collect();
    let first_field = ms0.selected.field_ids.first().copied().unwrap_or(0);
    let centre = phase_centre(params, &field_dirs, first_field)?;
    let mut spw_sels = Vec::new();
    for src in &sources {
        for (spw_id, channels) in src.selected.spw_channels() {
            let spw = &src.ms.meta().spectral_windows[spw_id];
            spw_sels.push(SpwSelection {
                ms_index: src.index,
                spw_id,
                channels,
                chan_freq_hz: spw.chan_freq_hz.clone(),
                chan_width_hz: spw.chan_width_hz.clone(),
                frame: spw.frame.name().to_string(),
            });
        }
    }
    let plan = spectral_plan(params, &spw_sels)?;
    let taper = UvTaper::parse(&params.uvtaper)?;
    let gridder = make_gridder(params)?;

    // 3. Products: refuse to clobber, take the lock, create every product up front.
    check_products_absent(&params.imagename, params.format, params.overwrite)?;
    let _lock = ProductLock::acquire(&params.imagename)?;
    let coords = image_coords(params, &plan, &centre, ms0.ms.meta());
    let nthreads = if params.nthreads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        params.nthreads
    };
    let nchan = plan.nchan();
    let nst = params.stokes.0.len();
    let mut writers = Vec::new();
    for ext in PRODUCTS {
        let mut meta = ImageMeta::new(if ext == "sumwt" {
            sumwt_coords(&coords)
        } else {
            coords.clone()
        });
        meta.units = match ext {
            "residual" | "image" => "Jy/beam",
            "model" => "Jy/pixel",
            _ => "",
        }
        .to_string();
        meta.object_name = ms0
            .ms
            .meta()
            .fields
            .get(first_field)
            .map(|f| f.name.clone())
            .unwrap_or_default();
        let path = product_path(&params.imagename, ext, params.format);
        writers.push((
            ext,
            ProductWriter::create(&path, &meta, params.format, params.overwrite)?,
        ));
    }
    let writer = |name: &str, ws: &mut Vec<(&str, ProductWriter)>| -> usize {
        ws.iter()
            .position(|(e, _)| *e == name)
            .expect("product list is static")
    };

    // 4. Image channel blocks.
    let (gu, gv) = gridder.grid_shape();
    let per_chan_bytes = (2 * nst * gu * gv * std::mem::size_of::<num_complex::Complex64>()
        + 4 * nst * params.nx * params.ny * 4) as u64;
    let budget = total_memory_bytes().map_or(4 << 30, |t| (t / 4).min(16 << 30));
    let block = ((budget / per_chan_bytes.max(1)) as usize).clamp(1, nchan);
    let max_chans = spw_sels
        .iter()
        .map(|s| s.channels.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let chunk_rows = ((64usize << 20) / (max_chans * (4 * 13 + nst * 12))).clamp(256, 100_000);
    info!(
        nchan,
        block,
        nthreads,
        kernel_support = gridder.kernel_support(),
        oversampling = gridder.oversampling(),
        "imaging {} MS(s) into {}x{} x {} channel(s) x {} Stokes",
        sources.len(),
        params.nx,
        params.ny,
        nchan,
        nst
    );
    let ctx = ImagingContext {
        params,
        plan: &plan,
        phase_centre: centre,
        gridder,
        taper,
        nthreads,
        chunk_rows,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(nthreads)
        .build()
        .map_err(|e| EngineError::Grid(format!("cannot start {nthreads} threads: {e}")))?;
    let mut progress = Progress::new(nchan, "dirty imaging");
    let mut beams = vec![
        Beam {
            major_rad: 0.0,
            minor_rad: 0.0,
            pa_rad: 0.0
        };
        nchan * nst
    ];
    let mut channels = Vec::with_capacity(nchan);
    let zero_plane = Array2::<f32>::zeros((params.ny, params.nx));
    let mut start = 0;
    while start < nchan {
        let chans = start..(start + block).min(nchan);
        let imgs = pool.install(|| -> Result<_, EngineError> {
            let weighters = ctx.weighters(&sources, chans.clone())?;
            ctx.image_block(&sources, chans.clone(), &weighters)
        })?;
        for (i, k) in chans.clone().enumerate() {
            for s in 0..nst {
                let psf = &imgs.psf[i][s];
                let dirty = &imgs.dirty[i][s];
                let b = if imgs.sumwt[i][s] > 0.0 {
                    match fit_psf_beam(
                        psf.view(),
                        params.cell_x_rad,
                        params.cell_y_rad,
                        params.psfcutoff,
                    ) {
                        Ok(b) => b,
                        Err(e) => {
                            note(format!(
                                "channel {k} stokes {s}: restoring beam fit failed: {e}"
                            ));
                            beams[k]
                        }
                    }
                } else {
                    note(format!(
                        "channel {k} stokes {s}: no unflagged visibilities; the plane is zero"
                    ));
                    beams[k]
                };
                beams[k + nchan * s] = b;
                for name in ["psf", "residual", "image"] {
                    let w = writer(name, &mut writers);
                    let plane = if name == "psf" { psf } else { dirty };
                    writers[w].1.put_plane(k, s, plane.view())?;
                }
                let w = writer("model", &mut writers);
                writers[w].1.put_plane(k, s, zero_plane.view())?;
                let sw = Array2::from_elem((1, 1), imgs.sumwt[i][s] as f32);
                let w = writer("sumwt", &mut writers);
                writers[w].1.put_plane(k, s, sw.view())?;
            }
            let b0 = beams[k];
            channels.push(ChannelSummary {
                channel: k,
                freq_hz: plan.freqs_hz[k],
                sumwt: imgs.sumwt[i][0],
                beam_arcsec_deg: (b0.major_rad > 0.0).then(|| {
                    [
                        b0.major_rad * ARCSEC_PER_RAD,
                        b0.minor_rad * ARCSEC_PER_RAD,
                        b0.pa_rad.to_degrees(),
                    ]
                }),
                peak_residual: imgs.dirty[i][0]
                    .iter()
                    .fold(0.0f64, |m, v| m.max(v.abs() as f64)),
                stop_reason: "no deconvolution (niter=0)".into(),
            });
        }
        progress.advance(chans.len());
        start = chans.end;
    }
    progress.finish();

    // 5. Primary beam and weight images (per channel frequency).
    let meta0 = ms0.ms.meta();
    let dish = meta0
        .antennas
        .iter()
        .find(|a| !a.flag_row)
        .map_or(0.0, |a| a.dish_diameter_m);
    let model = pb_model_for(&meta0.observatory.name, dish);
    for (k, chan) in channels.iter().enumerate() {
        let mut pb = pb_image(
            &model,
            params.nx,
            params.ny,
            params.cell_x_rad,
            params.cell_y_rad,
            plan.freqs_hz[k],
        );
        // tclean zeroes the primary beam at and below |pblimit| (whatever pblimit's sign).
        pb_limit_in_place(pb.view_mut(), params.pblimit);
        for s in 0..nst {
            let w = writer("pb", &mut writers);
            writers[w].1.put_plane(k, s, pb.view())?;
            let sumwt = chan.sumwt as f32;
            let weight = pb.mapv(|p| sumwt * p * p);
            let w = writer("weight", &mut writers);
            writers[w].1.put_plane(k, s, weight.view())?;
        }
    }

    // 6. Beams, then close every product (each is marked complete only now).
    let beam_set = if plan.mfs && nst == 1 {
        Beams::Single(beams[0])
    } else {
        Beams::PerPlane {
            nchan,
            nstokes: nst,
            beams: beams.clone(),
        }
    };
    let mut products = Vec::new();
    for (ext, mut w) in writers {
        if matches!(ext, "psf" | "residual" | "image") {
            w.set_beams(&beam_set)?;
        }
        w.finish()?;
        products.push(
            product_path(&params.imagename, ext, params.format)
                .display()
                .to_string(),
        );
    }

    let (support, sigma) = (ctx.gridder.kernel_support(), ctx.gridder.oversampling());
    let summary = RunSummary {
        pclean_version: env!("CARGO_PKG_VERSION").to_string(),
        imagename: params.imagename.clone(),
        products,
        specmode: format!("{:?}", params.specmode).to_lowercase(),
        nchan,
        stokes: params.stokes.label(),
        imsize: [params.nx, params.ny],
        phasecenter: centre.to_casa_string(),
        spectral_frame: plan.frame.clone(),
        gridder: "standard".into(),
        kernel_support: support,
        oversampling: sigma,
        visibilities_gridded: 0,
        rows_read: sources.iter().map(|s| s.selected.n_rows() as u64).sum(),
        channels,
        warnings,
        wall_time_s: t0.elapsed().as_secs_f64(),
        peak_rss_mib: peak_rss_mib(),
        nthreads,
    };
    write_side_files(params, effective, &summary)?;
    info!(
        wall_time_s = format!("{:.2}", summary.wall_time_s),
        peak_rss_mib = format!("{:.0}", summary.peak_rss_mib),
        "wrote {} products with prefix {}",
        summary.products.len(),
        params.imagename
    );
    Ok(summary)
}

fn write_side_files(
    params: &ImagingParams,
    effective: &RawParams,
    summary: &RunSummary,
) -> Result<(), EngineError> {
    let io = |context: String| move |source| EngineError::Io { context, source };
    let path = format!("{}.summary.json", params.imagename);
    let text = serde_json::to_string_pretty(summary).expect("summary serialises");
    std::fs::write(&path, text).map_err(io(format!("cannot write '{path}'")))?;
    let path = format!("{}.config.json", params.imagename);
    let text = serde_json::to_string_pretty(effective).expect("config serialises");
    std::fs::write(&path, text).map_err(io(format!("cannot write '{path}'")))?;
    Ok(())
}

fn image_coords(
    params: &ImagingParams,
    plan: &SpectralPlan,
    centre: &Direction,
    meta: &pclean_ms::MsMeta,
) -> ImageCoords {
    let crval = plan.freqs_hz[0];
    let restfreq = params
        .restfreq_hz
        .unwrap_or(plan.freqs_hz[plan.nchan() / 2]);
    ImageCoords {
        nx: params.nx,
        ny: params.ny,
        reference: *centre,
        crpix: [(params.nx / 2) as f64, (params.ny / 2) as f64],
        cdelt_rad: [-params.cell_x_rad, params.cell_y_rad],
        projection: "SIN".into(),
        stokes: params.stokes.0.clone(),
        spectral: SpectralAxis {
            frame: plan.frame.clone(),
            crval_hz: crval,
            cdelt_hz: plan.cdelt_hz,
            crpix: 0.0,
            restfreq_hz: restfreq,
            nchan: plan.nchan(),
        },
        telescope: meta.observatory.name.clone(),
        observer: meta
            .observations
            .first()
            .map(|o| o.observer.clone())
            .unwrap_or_default(),
        obsdate_mjd_utc_days: meta.time_range_mjd_s.0 / 86400.0,
        telescope_position_itrf_m: Some(meta.observatory.position_itrf_m),
    }
}

/// The `.sumwt` image: one pixel per plane, covering the whole field.
fn sumwt_coords(c: &ImageCoords) -> ImageCoords {
    let mut s = c.clone();
    s.nx = 1;
    s.ny = 1;
    s.crpix = [0.0, 0.0];
    s.cdelt_rad = [c.cdelt_rad[0] * c.nx as f64, c.cdelt_rad[1] * c.ny as f64];
    s
}
