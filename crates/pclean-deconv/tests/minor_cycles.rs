//! Minor cycles (hogbom, clark, multiscale) on synthetic skies with a known PSF.
//!
//! The PSF is that of a sparse, random uv coverage on a 128² grid: `K` uv points (uniform in
//! radius out to 16 cells, so denser at short spacings as real arrays are), each gridded as a
//! Gaussian blob of sigma 2 cells, plus their Hermitian mirrors. Its image is then analytic:
//! `psf(d) = exp(-2 pi² sigma² |d|² / N²) * mean_k cos(2 pi (u_k dy + v_k dx) / N)`, peak exactly 1
//! at `(N/2, N/2)`, a fitted beam of ~7–8 px FWHM, sidelobes up to ~10–25%, and a non-negative Fourier
//! transform (a sum of Gaussians), as a real PSF has. Its envelope is < 5e-4 beyond 40 px, so with
//! all emission within 25 px of the centre the dirty image `sky ⊛ psf`, computed here exactly as a
//! sum of shifted PSFs, equals the circular convolution the FFT-based updates assume to ~1e-6.

use std::sync::OnceLock;

use ndarray::{Array2, ArrayView2};
use pclean_deconv::clark::ClarkClean;
use pclean_deconv::factory::{make_deconvolver, DeconvError};
use pclean_deconv::hogbom::HogbomClean;
use pclean_deconv::minor::{
    masked_peak, Deconvolver, MinorControls, MinorOutcome, MinorStop, PlaneImages,
};
use pclean_deconv::multiscale::MultiScaleClean;

const N: usize = 128;
const C: usize = N / 2;

fn psf() -> &'static Array2<f32> {
    static PSF: OnceLock<Array2<f32>> = OnceLock::new();
    PSF.get_or_init(|| {
        const K: usize = 80;
        const UV_MAX: f64 = 16.0;
        const SIGMA_UV: f64 = 2.0;
        let mut s: u64 = 0x5eed_1234_abcd_0001;
        let mut rnd = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let uv: Vec<(f64, f64)> = (0..K)
            .map(|_| {
                let r = UV_MAX * rnd();
                let t = 2.0 * std::f64::consts::PI * rnd();
                (r * t.cos(), r * t.sin())
            })
            .collect();
        let n = N as f64;
        let tau = 2.0 * std::f64::consts::PI;
        Array2::from_shape_fn((N, N), |(y, x)| {
            let (dy, dx) = (y as f64 - C as f64, x as f64 - C as f64);
            let env = (-0.5 * (tau * SIGMA_UV / n).powi(2) * (dy * dy + dx * dx)).exp();
            let sum: f64 = uv
                .iter()
                .map(|&(u, v)| (tau * (u * dy + v * dx) / n).cos())
                .sum();
            (env * sum / K as f64) as f32
        })
    })
}

/// `sky ⊛ psf` as a sum of PSFs shifted to each non-zero sky pixel (clipped to the image).
fn dirty_of(sky: &Array2<f32>) -> Array2<f32> {
    let p = psf();
    let mut d = Array2::<f64>::zeros((N, N));
    for ((sy, sx), &f) in sky.indexed_iter() {
        if f == 0.0 {
            continue;
        }
        for y in 0..N {
            let py = y as isize - sy as isize + C as isize;
            if !(0..N as isize).contains(&py) {
                continue;
            }
            for x in 0..N {
                let px = x as isize - sx as isize + C as isize;
                if (0..N as isize).contains(&px) {
                    d[[y, x]] += f as f64 * p[[py as usize, px as usize]] as f64;
                }
            }
        }
    }
    d.mapv(|v| v as f32)
}

struct Run {
    residual: Array2<f32>,
    model: Array2<f32>,
    out: MinorOutcome,
}

fn run(
    dec: &mut dyn Deconvolver,
    dirty: &Array2<f32>,
    mask: Option<&Array2<bool>>,
    gain: f32,
    max_iterations: usize,
    threshold: f32,
) -> Run {
    let mut residual = dirty.clone();
    let mut model = Array2::<f32>::zeros((N, N));
    let controls = MinorControls {
        gain,
        max_iterations,
        threshold,
    };
    let out = dec.minor_cycle(
        PlaneImages {
            residual: residual.view_mut(),
            model: model.view_mut(),
            psf: psf().view(),
            mask: mask.map(|m| m.view()),
        },
        &controls,
    );
    Run {
        residual,
        model,
        out,
    }
}

/// Point sources `(y, x, flux)`, all within 20 px of the centre and >= 10 px apart.
const POINTS: [(usize, usize, f32); 4] = [
    (64, 64, 1.0),
    (52, 75, 0.6),
    (78, 52, 0.35),
    (70, 82, -0.25),
];

fn point_sky() -> Array2<f32> {
    let mut sky = Array2::<f32>::zeros((N, N));
    for &(y, x, f) in &POINTS {
        sky[[y, x]] = f;
    }
    sky
}

fn box_sum(img: ArrayView2<f32>, y: usize, x: usize, r: usize) -> f64 {
    let mut s = 0.0;
    for yy in y - r..=y + r {
        for xx in x - r..=x + r {
            s += img[[yy, xx]] as f64;
        }
    }
    s
}

fn rms(img: ArrayView2<f32>) -> f64 {
    (img.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / img.len() as f64).sqrt()
}

fn deconvolvers() -> Vec<Box<dyn Deconvolver>> {
    vec![
        Box::new(HogbomClean::new()),
        Box::new(ClarkClean::new(None)),
        Box::new(MultiScaleClean::new(vec![0.0, 6.0, 12.0], 0.0)),
    ]
}

/// Each deconvolver recovers the point sources: the largest model pixel near each source is the
/// source pixel, and the model flux within 2 px is the source flux to 1.5%.
///
/// Tolerance: cleaning to a 1 mJy threshold (0.1% of the brightest source) leaves at most
/// ~1 mJy/beam of residual around each source, i.e. ~1 mJy of unrecovered flux per source, which
/// is 0.4% of the faintest (0.25 Jy); cross-talk between sources through sidelobes of the
/// uncleaned residual adds a similar amount. 1.5% also covers multiscale, which may put a little
/// flux from scale 6 outside the 5x5 box; its scale-0 components carry almost all of it.
#[test]
fn point_sources_recovered_by_each_deconvolver() {
    let dirty = dirty_of(&point_sky());
    for mut dec in deconvolvers() {
        let r = run(dec.as_mut(), &dirty, None, 0.1, 3000, 1e-3);
        assert_eq!(
            r.out.stop,
            MinorStop::Threshold,
            "{}: {:?}",
            dec.name(),
            r.out
        );
        for &(y, x, f) in &POINTS {
            let local = r.model.slice(ndarray::s![y - 2..=y + 2, x - 2..=x + 2]);
            let (_, py, px) = masked_peak(local, None).unwrap();
            assert_eq!(
                (py, px),
                (2, 2),
                "{}: source at ({y}, {x}) misplaced",
                dec.name()
            );
            let got = box_sum(r.model.view(), y, x, 2);
            let err = (got - f as f64).abs() / (f.abs() as f64);
            eprintln!(
                "{}: source ({y},{x}) {f} -> {got:.5} (rel err {err:.2e})",
                dec.name()
            );
            assert!(
                err < 0.015,
                "{}: source ({y}, {x}) flux {got} vs {f}",
                dec.name()
            );
        }
        let total: f64 = POINTS.iter().map(|p| p.2 as f64).sum();
        // The rest of the model (outside the boxes) is small: < 1% of the total source flux.
        let inside: f64 = POINTS
            .iter()
            .map(|&(y, x, _)| box_sum(r.model.view(), y, x, 2))
            .sum();
        let outside = r.model.sum() as f64 - inside;
        assert!(
            outside.abs() < 0.01 * total,
            "{}: {outside} Jy outside boxes",
            dec.name()
        );
    }
}

/// Clark's model agrees with Högbom's on point sources: per-source fluxes within 0.5% + 1 mJy
/// (both clean to the same 1 mJy threshold, so each can leave ~1 mJy of a source uncleaned), and
/// residual rms within 2 mJy (twice the threshold).
#[test]
fn clark_agrees_with_hogbom_on_point_sources() {
    let dirty = dirty_of(&point_sky());
    let h = run(&mut HogbomClean::new(), &dirty, None, 0.1, 3000, 1e-3);
    let mut clark = ClarkClean::new(None);
    let c = run(&mut clark, &dirty, None, 0.1, 3000, 1e-3);
    eprintln!(
        "clark patch {:?} ext sidelobe {:?}; hogbom {:?}; clark {:?}",
        clark.psf_patch_size(),
        clark.max_exterior_sidelobe(),
        h.out,
        c.out
    );
    // tclean's patch: 3 * max(4, ceil(bmaj)) + 1, at least 13 px.
    assert!(clark.psf_patch_size().is_some_and(|p| p >= 13));
    for &(y, x, f) in &POINTS {
        let (hf, cf) = (
            box_sum(h.model.view(), y, x, 2),
            box_sum(c.model.view(), y, x, 2),
        );
        assert!(
            (hf - cf).abs() < 0.005 * f.abs() as f64 + 1e-3,
            "({y},{x}): {hf} vs {cf}"
        );
    }
    assert!((rms(h.residual.view()) - rms(c.residual.view())).abs() < 2e-3);
}

/// A mask confines the components; an empty mask cleans nothing.
#[test]
fn mask_restricts_components_and_empty_mask_stops() {
    let dirty = dirty_of(&point_sky());
    // A box around the second source only.
    let mut mask = Array2::from_elem((N, N), false);
    mask.slice_mut(ndarray::s![46..59, 69..82]).fill(true);
    let empty = Array2::from_elem((N, N), false);
    for mut dec in deconvolvers() {
        let r = run(dec.as_mut(), &dirty, Some(&mask), 0.1, 500, 1e-3);
        assert!(r.out.iterations > 0, "{}", dec.name());
        for ((y, x), &v) in r.model.indexed_iter() {
            assert!(
                v == 0.0 || mask[[y, x]],
                "{}: component at ({y}, {x})",
                dec.name()
            );
        }
        let e = run(dec.as_mut(), &dirty, Some(&empty), 0.1, 500, 1e-3);
        assert_eq!(e.out.stop, MinorStop::ZeroMask, "{}", dec.name());
        assert_eq!(e.out.iterations, 0);
        assert_eq!(e.out.flux_added, 0.0);
        assert!(e.model.iter().all(|&v| v == 0.0));
        assert_eq!(e.residual, dirty);
    }
}

/// Stop reasons and outcome fields are consistent for every deconvolver.
#[test]
fn stop_reasons_and_outcome_fields_are_consistent() {
    let dirty = dirty_of(&point_sky());
    let initial_peak = masked_peak(dirty.view(), None).unwrap().0;
    for mut dec in deconvolvers() {
        let name = dec.name();
        // Iteration limit.
        let r = run(dec.as_mut(), &dirty, None, 0.1, 7, 0.0);
        assert_eq!(r.out.stop, MinorStop::IterationLimit, "{name}");
        assert_eq!(r.out.iterations, 7, "{name}");
        check_fields(name, &dirty, &r, initial_peak);

        // Threshold: half the initial peak is reached well within 1000 iterations.
        let thr = 0.5 * initial_peak;
        let r = run(dec.as_mut(), &dirty, None, 0.1, 1000, thr);
        assert_eq!(r.out.stop, MinorStop::Threshold, "{name}");
        assert!(r.out.iterations > 0 && r.out.iterations < 1000, "{name}");
        check_fields(name, &dirty, &r, initial_peak);
        if name != "multiscale" {
            // Högbom and Clark test the residual peak itself; multiscale tests scale amplitudes.
            assert!(r.out.end_peak <= thr, "{name}: {:?}", r.out);
        }

        // No iterations allowed: nothing changes.
        let r = run(dec.as_mut(), &dirty, None, 0.1, 0, 0.0);
        assert_eq!(
            (r.out.stop, r.out.iterations),
            (MinorStop::IterationLimit, 0),
            "{name}"
        );
        assert_eq!(r.residual, dirty);
    }
}

/// flux_added is the model's change; start/end peaks are the masked residual peaks.
/// Tolerance: f32 accumulation of <= 1000 components of <= 1 Jy: ~1e-5 Jy.
fn check_fields(name: &str, dirty: &Array2<f32>, r: &Run, initial_peak: f32) {
    assert!(
        (r.out.flux_added - r.model.sum() as f64).abs() < 1e-4,
        "{name}: {:?}",
        r.out
    );
    assert_eq!(r.out.start_peak, initial_peak, "{name}");
    let end = masked_peak(r.residual.view(), None).unwrap().0;
    assert!(
        (r.out.end_peak - end).abs() <= 1e-6 * initial_peak,
        "{name}: {} vs {end}",
        r.out.end_peak
    );
    assert_ne!(&r.residual, dirty, "{name}");
}

/// An extended Gaussian (FWHM 10 px, 5 Jy): multiscale with scales [0, 6, 12] recovers its total
/// flux within 2% and leaves a lower residual rms than Högbom with the same iteration budget.
///
/// Tolerance: 2% is the requirement being tested. The threshold (0.2% of the dirty peak) bounds
/// the residual left in the source to ~0.2% of its peak brightness over its ~2-beam area, so the
/// model should hold > 99% of the flux; the iteration budget is never the limit.
#[test]
fn multiscale_recovers_extended_gaussian_flux() {
    let fwhm = 10.0f64;
    let sigma = fwhm / (8.0 * 2f64.ln()).sqrt();
    let mut sky = Array2::<f32>::zeros((N, N));
    for y in C - 25..=C + 25 {
        for x in C - 25..=C + 25 {
            let r2 = (y as f64 - C as f64).powi(2) + (x as f64 - C as f64).powi(2);
            sky[[y, x]] = (-r2 / (2.0 * sigma * sigma)).exp() as f32;
        }
    }
    let total = 5.0f64;
    let norm = total / sky.sum() as f64;
    sky.mapv_inplace(|v| (v as f64 * norm) as f32);
    let dirty = dirty_of(&sky);
    let thr = 0.002 * masked_peak(dirty.view(), None).unwrap().0;
    let niter = 3000;

    let ms = run(
        &mut MultiScaleClean::new(vec![0.0, 6.0, 12.0], 0.0),
        &dirty,
        None,
        0.1,
        niter,
        thr,
    );
    let hg = run(&mut HogbomClean::new(), &dirty, None, 0.1, niter, thr);
    let (ms_flux, hg_flux) = (ms.model.sum() as f64, hg.model.sum() as f64);
    let (ms_rms, hg_rms) = (rms(ms.residual.view()), rms(hg.residual.view()));
    eprintln!(
        "multiscale: {:?} flux {ms_flux:.4} rms {ms_rms:.3e}; hogbom: {:?} flux {hg_flux:.4} rms {hg_rms:.3e}",
        ms.out, hg.out
    );
    assert!(
        (ms_flux - total).abs() < 0.02 * total,
        "multiscale flux {ms_flux} vs {total}"
    );
    assert!(
        ms_rms < hg_rms,
        "multiscale rms {ms_rms} vs hogbom {hg_rms}"
    );
    // The larger scales were used: multiscale's model is spread over more pixels than Högbom's.
    let support = |m: &Array2<f32>| m.iter().filter(|&&v| v != 0.0).count();
    assert!(support(&ms.model) > 2 * support(&hg.model));
}

/// CASA's divergence test: with gain 3 a point source's residual flips to -2x its value, more
/// than 1.5x the first amplitude, so multiscale stops with NoProgress after one component.
#[test]
fn multiscale_reports_divergence_as_no_progress() {
    let mut sky = Array2::<f32>::zeros((N, N));
    sky[[C, C]] = 1.0;
    let dirty = dirty_of(&sky);
    let r = run(
        &mut MultiScaleClean::new(vec![0.0], 0.0),
        &dirty,
        None,
        3.0,
        100,
        0.0,
    );
    assert_eq!(r.out.stop, MinorStop::NoProgress, "{:?}", r.out);
    assert_eq!(r.out.iterations, 1);
}

#[test]
fn factory_builds_by_name_and_rejects_bad_values() {
    for (name, want) in [
        ("hogbom", "hogbom"),
        ("Clark", "clark"),
        ("clarkstokes", "clarkstokes"),
        ("multiscale", "multiscale"),
    ] {
        assert_eq!(
            make_deconvolver(name, &[0.0, 5.0], 0.0).unwrap().name(),
            want
        );
    }
    assert_eq!(
        make_deconvolver("mem", &[], 0.0).err(),
        Some(DeconvError::UnknownDeconvolver { name: "mem".into() })
    );
    assert_eq!(
        make_deconvolver("multiscale", &[0.0, -3.0], 0.0).err(),
        Some(DeconvError::InvalidScale {
            index: 1,
            value: -3.0
        })
    );
    assert!(matches!(
        make_deconvolver("multiscale", &[0.0], 1.5).err(),
        Some(DeconvError::InvalidSmallScaleBias { .. })
    ));
    let msg = make_deconvolver("multiscale", &[f32::NAN], 0.0)
        .err()
        .unwrap()
        .to_string();
    assert!(msg.contains("scales[0]"), "{msg}");
}

/// tclean's `clark` on I, Q, U, V planes together (`ClarkCleanLatModel` with four planes): every
/// component is taken at one pixel in all planes, at the pixel of largest `|I + |P||`, so the
/// four models have the same support; each plane's flux near each source is its Stokes value.
/// `clarkstokes` cleans the planes one by one and leaves each plane's own support.
///
/// Tolerance 2% of the source's I (0.02 x 0.35 Jy at worst = 7 mJy): cleaning to 1 mJy leaves
/// ~1 mJy per source per plane, and sidelobe cross-talk between sources adds about as much (see
/// `point_sources_recovered_by_each_deconvolver`).
#[test]
fn clark_cleans_stokes_planes_jointly_and_clarkstokes_separately() {
    use pclean_deconv::clark::stokes_peak_measure;
    // Stokes vectors (I, Q, U, V) of POINTS' first three sources, with signs that differ.
    let iquv: [[f32; 4]; 3] = [
        [1.0, 0.2, -0.15, 0.05],
        [0.6, -0.12, 0.09, -0.04],
        [0.35, 0.05, 0.1, 0.02],
    ];
    let dirty: Vec<Array2<f32>> = (0..4)
        .map(|p| {
            let mut sky = Array2::<f32>::zeros((N, N));
            for (k, &(y, x, _)) in POINTS.iter().take(3).enumerate() {
                sky[[y, x]] = iquv[k][p];
            }
            dirty_of(&sky)
        })
        .collect();
    let controls = MinorControls {
        gain: 0.1,
        max_iterations: 3000,
        threshold: 1e-3,
    };
    let clean = |dec: &mut ClarkClean, joint: bool| {
        let mut res = dirty.clone();
        let mut models: Vec<Array2<f32>> = (0..4).map(|_| Array2::zeros((N, N))).collect();
        if joint {
            let images = res
                .iter_mut()
                .zip(models.iter_mut())
                .map(|(r, m)| PlaneImages {
                    residual: r.view_mut(),
                    model: m.view_mut(),
                    psf: psf().view(),
                    mask: None,
                })
                .collect();
            assert!(dec.joint_stokes());
            dec.minor_cycle_stokes(images, &controls);
        } else {
            assert!(!dec.joint_stokes());
            for (r, m) in res.iter_mut().zip(models.iter_mut()) {
                let images = PlaneImages {
                    residual: r.view_mut(),
                    model: m.view_mut(),
                    psf: psf().view(),
                    mask: None,
                };
                dec.minor_cycle(images, &controls);
            }
        }
        models
    };
    let support = |m: &Array2<f32>| -> Vec<(usize, usize)> {
        m.indexed_iter()
            .filter(|(_, v)| **v != 0.0)
            .map(|(i, _)| i)
            .collect()
    };
    let joint = clean(&mut ClarkClean::joint(None), true);
    for p in 1..4 {
        assert_eq!(support(&joint[p]), support(&joint[0]), "plane {p}");
    }
    let separate = clean(&mut ClarkClean::new(None), false);
    assert_ne!(support(&separate[3]), support(&separate[0]));
    for models in [&joint, &separate] {
        for (k, &(y, x, _)) in POINTS.iter().take(3).enumerate() {
            for p in 0..4 {
                let got = box_sum(models[p].view(), y, x, 2);
                let want = iquv[k][p] as f64;
                assert!(
                    (got - want).abs() < 0.02 * iquv[k][0] as f64,
                    "source {k} plane {p}: {got} vs {want}"
                );
            }
        }
    }
    // CASA's measures: |a| for one plane, |I| + |V| for two, the largest eigenvalue for four.
    assert_eq!(stokes_peak_measure(&[-2.0]), 2.0);
    assert_eq!(stokes_peak_measure(&[1.0, -0.5]), 1.5);
    assert_eq!(stokes_peak_measure(&[1.0, 0.3, 0.0, -0.4]), 1.5);
}
