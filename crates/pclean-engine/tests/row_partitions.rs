//! Row-parallel continuum imaging (`row_partitions`, `exec::rows`): an mfs run cut into 1, 2 and 4
//! row partitions gives the products of the single-process run, under natural, uniform and Briggs
//! weighting, with hogbom and multiscale cleaning through several major cycles, and mtmfs (every
//! Taylor term's PSF and residual summed over the partitions, every model term predicted by them).
//!
//! The tolerance is 1e-6 of each product's peak |value| (issue 16): the partitions' passes add
//! the same visibilities' contributions in another order (partial grids, each divided by its own
//! sum of weights, combined by their shares of the summed weights), which changes an f32 image
//! by a few ulp of its peak (~1e-7), and the minor cycle then picks the same components. One
//! partition is held to bit-for-bit equality (its share is exactly 1). Uniform and Briggs weights made from each partition's own density
//! (the seed system's continuum imager) change the products by far more than this (the cells'
//! counts differ by the partition's share of the rows): this test fails for them.

#[path = "../../pclean-ms/tests/support/mod.rs"]
mod support;

use pclean_core::params::{ImagingParams, RawParams};
use pclean_imageio::CasaImage;
use std::path::Path;

const PRODUCTS: [&str; 7] = ["psf", "residual", "model", "image", "pb", "weight", "sumwt"];

fn run_with(
    dir: &Path,
    name: &str,
    weighting: &[&str],
    deconvolver: &str,
    parts: i64,
    more: impl Fn(&mut RawParams),
) -> String {
    let imagename = dir.join(name).display().to_string();
    let mut raw = RawParams {
        vis: Some(vec![support::alma().display().to_string()]),
        imagename: Some(imagename.clone()),
        imsize: Some(vec![128]),
        cell: Some(vec!["0.2arcsec".into()]),
        specmode: Some("mfs".into()),
        weighting: Some(weighting[0].into()),
        deconvolver: Some(deconvolver.into()),
        // Three major cycles at least: 60 components in cycles of at most 20.
        niter: Some(60),
        cycleniter: Some(20),
        nthreads: Some(2),
        row_partitions: Some(parts),
        ..Default::default()
    };
    if let Some(r) = weighting.get(1) {
        raw.robust = Some(r.parse().unwrap());
    }
    if deconvolver == "multiscale" {
        raw.scales = Some(vec![0, 3, 8]);
    }
    if deconvolver == "mtmfs" {
        // The bundled wideband subset (1-2 GHz, sources with spectral indices; test_mtmfs.py).
        let ms = support::ms("vla_wideband_small.ms", "vla_wideband_small.ms.tar.gz").unwrap();
        raw.vis = Some(vec![ms.display().to_string()]);
        raw.cell = Some(vec!["7.5arcsec".into()]);
        raw.reffreq = Some("1.5GHz".into());
        raw.nterms = Some(2);
    }
    more(&mut raw);
    let params = ImagingParams::from_raw(&raw).unwrap();
    let effective = raw.clone();
    let summary = pclean_engine::run_image(&params, &effective).unwrap();
    assert!(
        summary.channels[0].major_cycles >= 3,
        "{:?}",
        summary.channels
    );
    match parts {
        0 => assert!(summary.row_partitions.is_none()),
        n => {
            let rows = summary.row_partitions.expect("row partitions reported");
            assert_eq!(rows.partitions.len() as i64, n);
            let total: usize = rows.partitions.iter().map(|p| p.rows).sum();
            assert_eq!(total as u64, summary.rows_read);
        }
    }
    imagename
}

fn read(prefix: &str, ext: &str) -> ndarray::Array4<f32> {
    CasaImage::open(format!("{prefix}.{ext}"))
        .unwrap()
        .read_all()
        .unwrap()
}

fn check(weighting: &[&str], deconvolver: &str) {
    check_with(weighting, deconvolver, &[1, 2, 4], |_| {});
}

fn check_with(weighting: &[&str], deconvolver: &str, parts: &[i64], more: impl Fn(&mut RawParams)) {
    check_products(&PRODUCTS, weighting, deconvolver, parts, 1e-6, more);
}

/// mtmfs's products of `nterms` Taylor terms (`.alpha` is compared where both are set: it is
/// NaN below its threshold, which the equal `.image.tt0` and `.residual.tt0` fix).
fn mtmfs_products(nterms: usize) -> Vec<String> {
    let mut v: Vec<String> = (0..2 * nterms - 1)
        .flat_map(|t| [format!("psf.tt{t}"), format!("sumwt.tt{t}")])
        .collect();
    for t in 0..nterms {
        v.extend(["residual", "model", "image"].map(|p| format!("{p}.tt{t}")));
    }
    v.extend(["pb.tt0", "weight.tt0", "alpha"].map(String::from));
    v
}

/// `solved`: the tolerance of the products made through mtmfs's Hessian solve (`.model.ttN`,
/// `.image.ttN`, `.alpha`, `.beta`), 1e-6 of their peak for nterms 2 (measured: at most 4e-7) but
/// looser for nterms 3 (see its test); every gridded product (PSFs, residuals, sums of weights,
/// pb, weight) is held to 1e-6.
fn check_products<S: AsRef<str>>(
    products: &[S],
    weighting: &[&str],
    deconvolver: &str,
    parts: &[i64],
    solved: f64,
    more: impl Fn(&mut RawParams),
) {
    let tolerance = |ext: &str| {
        let through_solve = ["model.tt", "image.tt", "alpha", "beta"];
        if ext.starts_with("alpha") || ext.starts_with("beta") {
            // A ratio of the restored terms (tt1/tt0), kept down to tclean's cut at 0.1 of tt0's
            // peak: an error of `solved` of tt0's peak in each term is up to 10x that relative
            // error at the cut, for each of the two terms, so 20x `solved` of the alpha peak
            // (measured 1.2e-6 after the samples beyond tclean's grid left the weights; the
            // Dask test bounds .alpha at the same 2e-5).
            20.0 * solved as f32
        } else if through_solve.iter().any(|p| ext.starts_with(p)) {
            solved as f32
        } else {
            1e-6
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let base = run_with(dir.path(), "single", weighting, deconvolver, 0, &more);
    let refs: Vec<_> = products.iter().map(|e| read(&base, e.as_ref())).collect();
    for &parts in parts {
        let name = format!("p{parts}");
        let p = run_with(dir.path(), &name, weighting, deconvolver, parts, &more);
        for (ext, want) in products.iter().zip(&refs) {
            let ext = ext.as_ref();
            let got = read(&p, ext);
            let finite = |v: &f32| v.is_finite();
            let peak = want
                .iter()
                .filter(|v| finite(v))
                .fold(0.0f32, |m, v| m.max(v.abs()));
            let mut diff = 0.0f32;
            for (g, w) in got.iter().zip(want.iter()) {
                match (finite(g), finite(w)) {
                    (true, true) => diff = diff.max((g - w).abs()),
                    (false, false) => {}
                    _ => diff = f32::INFINITY,
                }
            }
            // One partition is the single pass bit for bit (its images divided by its own sum of
            // weights, combined with a factor of exactly 1: `exec::rows::combine_images`).
            let bound = if parts == 1 {
                0.0
            } else {
                tolerance(ext) * peak
            };
            assert!(
                peak > 0.0 && diff <= bound,
                "{weighting:?} {deconvolver} {parts} partitions: .{ext} differs by {diff} (peak {peak})"
            );
        }
    }
}

#[test]
fn hogbom_natural_partitions_equal_single_process() {
    check(&["natural"], "hogbom");
}

#[test]
fn hogbom_uniform_partitions_equal_single_process() {
    check(&["uniform"], "hogbom");
}

#[test]
fn hogbom_briggs_partitions_equal_single_process() {
    check(&["briggs", "0.5"], "hogbom");
}

#[test]
fn multiscale_briggs_partitions_equal_single_process() {
    check(&["briggs", "-0.5"], "multiscale");
}

/// Multiscale under natural and uniform weighting too (issue 16 names every weighting for each
/// of hogbom, multiscale and mtmfs).
///
/// Natural weighting with the default single-precision uv grids: 4 partitions differ from the
/// single run by 1.47e-6 of the final residual's own peak (0.28 of the image's peak; PSF 7e-7,
/// model 6e-7, image 2.3e-7), but the single run itself is 1.54e-6 from its double-precision-grid
/// run and the 4-partition run only 2.8e-7 from it: the difference is the single run's f32 grid
/// rounding (the 2048^2 case of docs/issue16-evidence.md, here at 128 px). With double-precision
/// grids (`epsilon` 9e-7, below the gridder's single-precision floor of 1e-6; the same kernel)
/// the partitions' difference is 1.4e-7, the accumulation order's, and the 1e-6 bound tests
/// the partitioning itself. Measured with `pclean image` (scripts: docs/issue16-evidence.md).
#[test]
fn multiscale_natural_partitions_equal_single_process() {
    check_with(&["natural"], "multiscale", &[1, 2, 4], |r| {
        r.epsilon = Some(9e-7);
    });
}

#[test]
fn multiscale_uniform_partitions_equal_single_process() {
    check(&["uniform"], "multiscale");
}

/// mtmfs (nterms 2): every Taylor PSF (tt0..tt2), residual, model and restored term, the sums of
/// weights and the spectral index equal the single-process run's at 1, 2 and 4 partitions.
#[test]
fn mtmfs_natural_partitions_equal_single_process() {
    check_products(
        &mtmfs_products(2),
        &["natural"],
        "mtmfs",
        &[1, 2, 4],
        1e-6,
        |_| {},
    );
}

#[test]
fn mtmfs_uniform_partitions_equal_single_process() {
    check_products(
        &mtmfs_products(2),
        &["uniform"],
        "mtmfs",
        &[1, 2, 4],
        1e-6,
        |_| {},
    );
}

#[test]
fn mtmfs_briggs_partitions_equal_single_process() {
    check_products(
        &mtmfs_products(2),
        &["briggs", "0.5"],
        "mtmfs",
        &[1, 2, 4],
        1e-6,
        |_| {},
    );
}

/// specmode='mvc' (nterms 2, Briggs: the one density summed over the partitions): each
/// partition's channel PSFs and residuals, each channel divided by the partition's own sum of
/// weights in it, combined per channel by the partitions' shares of that channel's summed weight
/// before the Taylor sums (`exec::rows::mvc`). Every Taylor product and every cube product
/// (`.psf`, `.residual`, `.pb`, `.sumwt`, `.model` channel planes) equals the single-process run's
/// within 1e-6 of its peak at 2 and 4 partitions (the same f32 reordering as plain mtmfs: the
/// cube adds no step that amplifies it), bit for bit at 1.
#[test]
fn mvc_briggs_partitions_equal_single_process() {
    let mut products = mtmfs_products(2);
    products.extend(["psf", "residual", "pb", "sumwt", "model"].map(String::from));
    check_products(
        &products,
        &["briggs", "0.5"],
        "mtmfs",
        &[1, 2, 4],
        1e-6,
        |r| {
            r.specmode = Some("mvc".into());
        },
    );
}

/// nterms 3 with scales: five PSF terms, three residual and model terms through the partitions.
/// The gridded products agree to 1e-6 of their peaks (measured at most 4.0e-7: psf.tt0..tt4,
/// residual.tt0..tt2; sumwt exactly), but the Taylor coefficients are solved from them through
/// the inverse of the 3 x 3 Hessian, whose conditioning amplifies those f32 rounding differences
/// in the highest term: measured `.model.tt2` 6.0e-6 (2 partitions) and 2.1e-6 (4) of its peak,
/// `.image.tt2` 1.8e-6, `.alpha` 1.0e-6 (its peak, 12, is at a faint pixel), every lower term
/// within 4.1e-7. 2e-5 leaves a factor 3 over the worst; per-partition densities change the
/// PSFs themselves by percents.
#[test]
fn mtmfs_three_terms_multiscale_partitions_equal_single_process() {
    let products = [mtmfs_products(3), vec!["beta".to_string()]].concat();
    check_products(&products, &["briggs", "0.5"], "mtmfs", &[2, 4], 2e-5, |r| {
        r.nterms = Some(3);
        r.scales = Some(vec![0, 3]);
    });
}

/// Two MeasurementSets (the same one listed twice: its rows count twice, in the single run as
/// in the partitions) cut by MS: each partition images one whole MS, with the one summed Briggs
/// density.
#[test]
fn two_ms_partitioned_by_ms_equal_single_process() {
    check_with(&["briggs", "0.5"], "hogbom", &[2], |r| {
        let ms = support::alma().display().to_string();
        r.vis = Some(vec![ms.clone(), ms]);
        r.row_partition_by = Some("ms".into());
    });
}

/// A mosaic's residual carries tclean's band-limited weight response (`W_band / W_exact`, a
/// per-pixel ratio of per-pointing sums), which is not linear in the rows: summed partial
/// residuals differed from the single-process run by 1.1e-3 of the peak (3 partitions, briggs,
/// mosweight). Until the partials carry both weight images, a mosaic is refused, not approximated.
/// A joint mosaic (`gridder='mosaic'`, the bundled 7-pointing ALMA subset, Briggs with per-field
/// densities, flatnoise, hogbom through 3 major cycles) at 1, 2 and 4 row partitions equals the
/// single-process run: each partition returns its residual before the band response with its
/// per-pointing weight sums, and the response is made once from the summed sums. Partitions by
/// rows hold different pointings (the mosaic is observed pointing after pointing), so a response
/// made from each partition's own sums differs (the test of the old refusal measured 1.1e-3).
#[test]
fn mosaic_partitions_equal_single_process() {
    let ms = support::ms("mosaic_small.ms", "alma_mosaic_small.ms.tar.gz").unwrap();
    check_with(&["briggs", "0.5"], "hogbom", &[1, 2, 4], |raw| {
        raw.vis = Some(vec![ms.display().to_string()]);
        raw.gridder = Some("mosaic".into());
        raw.imsize = Some(vec![128]);
        raw.cell = Some(vec!["1.0arcsec".into()]);
        raw.phasecenter = Some("J2000 16h00m00.0s -30d00m00.0s".into());
        raw.pblimit = Some(0.2);
    });
}

/// An mtmfs mosaic (`gridder='mosaic'`, `deconvolver='mtmfs'`, nterms 2; the bundled
/// wideband_mosaic.ms: two pointings 25" apart, two 1 GHz windows at 90 and 110 GHz; natural,
/// flatsky, pblimit 0.2, mtmfs through 3 major cycles) at 1, 2 and 4 row partitions, and at 2
/// partitions by spectral window (each partition one window, so every Taylor factor of a
/// partition has one sign), equals the single-process run: each partition returns its Taylor
/// PSF terms before the division by term 0's peak, the terms' weight images and its residual
/// terms, each divided by its own tt0 sum of weights; the coordinator combines them with the tt0
/// shares, divides the PSF terms by the combined peak and the residual terms by the combined
/// `.weight.tt0` once (`exec::rows::taylor`). Every Taylor PSF, residual, model, restored term,
/// weight image, sum of weights, pb and alpha within 1e-6 of its peak, bit for bit at 1 partition.
/// reffreq 95 GHz (not tclean's 100 GHz, at which the two windows' Taylor factors are +-0.1 and
/// `.sumwt.tt1` is a cancellation to ~1e-8 of `.sumwt.tt0`: its own peak would then bound the
/// f64 summation order, not the partitioning). Normalised per partition instead, the products
/// are percents off (`row_negative.rs::mtmfs_mosaic_normalised_per_partition_fails_the_bound`).
#[test]
fn mtmfs_mosaic_partitions_equal_single_process() {
    let ms = support::ms("wideband_mosaic.ms", "wideband_mosaic.ms.tar.gz").unwrap();
    let mut products = mtmfs_products(2);
    products.extend(["weight.tt1", "weight.tt2"].map(String::from));
    let mosaic = |by: Option<&str>| {
        let vis = ms.display().to_string();
        let by = by.map(String::from);
        move |raw: &mut RawParams| {
            raw.vis = Some(vec![vis.clone()]);
            raw.gridder = Some("mosaic".into());
            raw.cell = Some(vec!["1.0arcsec".into()]);
            raw.phasecenter = Some("J2000 16h00m00.0s -30d00m00.0s".into());
            raw.reffreq = Some("95GHz".into());
            raw.normtype = Some("flatsky".into());
            raw.pblimit = Some(0.2);
            raw.row_partition_by = by.clone();
        }
    };
    check_products(
        &products,
        &["natural"],
        "mtmfs",
        &[1, 2, 4],
        1e-6,
        mosaic(None),
    );
    check_products(
        &products,
        &["natural"],
        "mtmfs",
        &[2],
        1e-6,
        mosaic(Some("spw")),
    );
}

/// specmode='mvc' with an mtmfs mosaic (s18-rows; the bundled wideband_mosaic.ms as
/// `mtmfs_mosaic_partitions_equal_single_process`: tclean's cube of 3 channels over the two
/// windows, each channel a mosaic with its own weight image) at 1, 2 and 4 row partitions and 2
/// by spectral window equals the single-process run: each partition returns its channel PSFs and
/// residuals before the mosaic's normalisation and (PSF pass) its channel weight images, each
/// divided by its own sum of weights in the channel; the coordinator combines every channel with
/// the partitions' shares of that channel's summed weight, then normalises each channel by its
/// combined weight image and forms the Taylor sums once (`exec::rows::mvc`, `cycles::mvc`). Every
/// Taylor product and every cube product (`.psf`, `.residual`, `.pb`, `.sumwt`, `.model`,
/// `.weight`) within 1e-6 of its peak (the same f32 reordering as the mtmfs mosaic: the cube's
/// normalisation is a division by the weight image, which adds no amplification where the pb is
/// above pblimit), bit for bit at 1 partition. Measured: 2 partitions (by rows or by window) are
/// bit for bit too (each cube channel's rows lie in one partition), 4 by rows share channels
/// between partitions: residual.tt0 6.4e-7, residual 5.0e-7, alpha 5.4e-7, image.tt1 4.7e-7,
/// weight 7.2e-8 of their peaks.
#[test]
fn mvc_mosaic_partitions_equal_single_process() {
    let ms = support::ms("wideband_mosaic.ms", "wideband_mosaic.ms.tar.gz").unwrap();
    let mut products: Vec<String> = mtmfs_products(2)
        .into_iter()
        .filter(|p| p != "weight.tt0")
        .collect();
    products.extend(["psf", "residual", "pb", "sumwt", "model", "weight"].map(String::from));
    let mosaic = |by: Option<&str>| {
        let vis = ms.display().to_string();
        let by = by.map(String::from);
        move |raw: &mut RawParams| {
            raw.vis = Some(vec![vis.clone()]);
            raw.gridder = Some("mosaic".into());
            raw.specmode = Some("mvc".into());
            raw.cell = Some(vec!["1.0arcsec".into()]);
            raw.phasecenter = Some("J2000 16h00m00.0s -30d00m00.0s".into());
            raw.reffreq = Some("95GHz".into());
            raw.normtype = Some("flatsky".into());
            raw.pblimit = Some(0.2);
            raw.row_partition_by = by.clone();
        }
    };
    check_products(
        &products,
        &["natural"],
        "mtmfs",
        &[1, 2, 4],
        1e-6,
        mosaic(None),
    );
    check_products(
        &products,
        &["natural"],
        "mtmfs",
        &[2],
        1e-6,
        mosaic(Some("spw")),
    );
}

/// `gridder='awproject'` (the bundled 4-hour VLA observation, parallactic-angle bins every 5
/// degrees, Briggs, hogbom through 3 major cycles) at 1, 2 and 4 row partitions equals the
/// single-process run: its pass (each bin's dirty image through its beam, the weight image from
/// the bins' weight sums) is linear in the rows, so the partitions' images combine as any
/// gridder's, and partitions by rows hold different bins.
#[test]
fn awproject_partitions_equal_single_process() {
    let ms = support::ms("awproj_small.ms", "awproj_small.ms.tar.gz").unwrap();
    check_with(&["briggs", "0.5"], "hogbom", &[1, 2, 4], |raw| {
        raw.vis = Some(vec![ms.display().to_string()]);
        raw.gridder = Some("awproject".into());
        raw.imsize = Some(vec![128]);
        raw.cell = Some(vec!["24arcsec".into()]);
        raw.phasecenter = Some("J2000 16h00m00.0s 30d00m00.0s".into());
        raw.pblimit = Some(0.2);
        raw.wbawp = Some(false);
        raw.computepastep = Some(5.0);
        raw.rotatepastep = Some(5.0);
    });
}

/// mtmfs with `gridder='awproject'` (s18-rows; the bundled awproj_wb.ms: two windows of two
/// channels at 1.1 / 1.3 and 1.55 / 1.95 GHz, wbawp=True, nterms 2, natural, parallactic-angle
/// bins every 5 degrees, mtmfs through 3 major cycles) at 1, 2 and 4 row partitions and 2 by
/// spectral window equals the single-process run. Its passes divide by two tt0 sums (the PSF terms
/// and `.weight.tt0` by the plain sum of the weights, the residual terms and the weight images
/// above term 0 by the kernel-scaled sum) and report the scaled sums: each partition sends the
/// normaliser of every image and the coordinator combines each image with the shares of its own
/// (`exec::rows::taylor`). Every Taylor PSF, residual, model, restored term, weight image, sum of
/// weights and pb within 1e-6 of its peak (alpha 2e-5, `check_products`), bit for bit at 1
/// partition. Measured (2 by rows, 2 by window, 4 by rows): residual.tt1 6.7e-7 / 6.7e-7 / 2.4e-7,
/// residual.tt0 5.7e-7 / 5.7e-7 / 6.4e-7, model.tt1 5.0e-7 / 5.0e-7 / 1.7e-7, psf.tt1 3.9e-7 /
/// 3.9e-7 / 2.0e-7, weight.tt1 2.3e-7, alpha 2.9e-6 / 2.9e-6 / 3.8e-6; sumwt.tt0..tt2 exact.
#[test]
fn mtmfs_awproject_partitions_equal_single_process() {
    let ms = support::ms("awproj_wb.ms", "awproj_wb.ms.tar.gz").unwrap();
    let mut products = mtmfs_products(2);
    products.extend(["weight.tt1", "weight.tt2"].map(String::from));
    let aw = |by: Option<&str>| {
        let vis = ms.display().to_string();
        let by = by.map(String::from);
        move |raw: &mut RawParams| {
            raw.vis = Some(vec![vis.clone()]);
            raw.gridder = Some("awproject".into());
            raw.imsize = Some(vec![64]);
            raw.cell = Some(vec!["24arcsec".into()]);
            raw.phasecenter = Some("J2000 16h00m00.0s 30d00m00.0s".into());
            raw.reffreq = Some("1.5GHz".into());
            raw.pblimit = Some(0.2);
            raw.wbawp = Some(true);
            raw.computepastep = Some(5.0);
            raw.rotatepastep = Some(5.0);
            raw.row_partition_by = by.clone();
        }
    };
    check_products(&products, &["natural"], "mtmfs", &[1, 2, 4], 1e-6, aw(None));
    check_products(
        &products,
        &["natural"],
        "mtmfs",
        &[2],
        1e-6,
        aw(Some("spw")),
    );
}

#[test]
fn row_partitions_refused_for_a_cube() {
    let raw = RawParams {
        vis: Some(vec!["x.ms".into()]),
        imagename: Some("x".into()),
        specmode: Some("cube".into()),
        row_partitions: Some(2),
        ..Default::default()
    };
    let e = ImagingParams::from_raw(&raw)
        .expect_err("refused")
        .to_string();
    assert!(e.contains("row_partitions") && e.contains("mfs"), "{e}");
}

/// Every selected row's MODEL_DATA of `ms`, in row order.
fn model_data(ms: &Path) -> Vec<num_complex::Complex32> {
    use pclean_ms::{DataColumn, MeasurementSet, Selection};
    let ms = MeasurementSet::open(ms).unwrap();
    let data = ms.select(&Selection::default()).unwrap();
    let mut out = Vec::new();
    for chunk in data.chunks(&ms, DataColumn::Model, 100_000) {
        out.extend(chunk.unwrap().vis_rcp.iter().copied());
    }
    out
}

/// `savemodel='modelcolumn'` with row partitions: MODEL_DATA (predicted from the final model at
/// the finish, over the rows the partitions hold) equals the single-process run's to 1e-6 of its
/// peak amplitude (the models agree to 1e-6 of their peak, and prediction is linear).
#[test]
fn model_column_with_partitions_equals_single_process() {
    let dir = tempfile::tempdir().unwrap();
    let mut copies = Vec::new();
    for name in ["single", "parts"] {
        let ms = dir.path().join(format!("{name}.ms"));
        let st = std::process::Command::new("cp")
            .arg("-r")
            .arg(support::alma())
            .arg(&ms)
            .status()
            .unwrap();
        assert!(st.success());
        copies.push(ms);
    }
    for (ms, parts) in copies.iter().zip([0, 2]) {
        let vis = ms.display().to_string();
        run_with(
            dir.path(),
            &format!("m{parts}"),
            &["briggs", "0.5"],
            "hogbom",
            parts,
            |r| {
                r.vis = Some(vec![vis.clone()]);
                r.savemodel = Some("modelcolumn".into());
            },
        );
    }
    let (want, got) = (model_data(&copies[0]), model_data(&copies[1]));
    assert_eq!(want.len(), got.len());
    let peak = want.iter().fold(0.0f32, |m, v| m.max(v.norm()));
    let diff = want
        .iter()
        .zip(&got)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).norm()));
    assert!(
        peak > 0.0 && diff <= 1e-6 * peak,
        "MODEL_DATA differs by {diff} (peak {peak})"
    );
}
