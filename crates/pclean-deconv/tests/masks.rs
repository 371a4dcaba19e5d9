//! Masks: auto-multithresh on synthetic residuals, CASA region text, pb masks.

use ndarray::Array2;
use pclean_core::{Beam, Direction};
use pclean_deconv::automask::{
    auto_multithresh, plane_statistics, psf_sidelobe_level, AutoMaskInputs, AutoMaskParams,
    AutoMaskReport, AutoMaskState, NoiseMethod, ThresholdKind,
};
use pclean_deconv::masks;
use pclean_deconv::regions::{
    crtf_mask, parse_crtf, region_mask, region_masks_per_stokes, PixelShape, RegionError,
    SkyGeometry,
};

const N: usize = 128;
const CELL: f64 = 1e-5; // rad
/// Beam FWHM 4 pixels: beam area 18.1 px, prune size 0.3 x 18.1 = 5.4 px.
const BEAM_PIX: f64 = 4.0;

fn beam() -> Beam {
    Beam {
        major_rad: BEAM_PIX * CELL,
        minor_rad: BEAM_PIX * CELL,
        pa_rad: 0.0,
    }
}

/// Deterministic unit-variance Gaussian noise (xorshift64 + Box-Muller).
fn noise(seed: u64) -> Array2<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        ((s >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    Array2::from_shape_simple_fn((N, N), || {
        let (u1, u2) = (next(), next());
        ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
    })
}

fn add_gauss(img: &mut Array2<f32>, x0: f64, y0: f64, fwhm_pix: f64, peak: f64) {
    let k = 4.0 * std::f64::consts::LN_2 / (fwhm_pix * fwhm_pix);
    for ((y, x), v) in img.indexed_iter_mut() {
        let r2 = (x as f64 - x0).powi(2) + (y as f64 - y0).powi(2);
        *v += (peak * (-k * r2).exp()) as f32;
    }
}

/// The first auto-multithresh cycle on `res` with default parameters: the state and the report.
fn first_cycle(res: &Array2<f32>) -> (AutoMaskState, AutoMaskReport) {
    let mut st = AutoMaskState::new(N, N);
    let rep = auto_multithresh(
        res.view(),
        &inputs(0, false),
        &AutoMaskParams::default(),
        &mut st,
    )
    .unwrap();
    (st, rep)
}

fn inputs<'a>(iter_done: u64, threshold_reached: bool) -> AutoMaskInputs<'a> {
    AutoMaskInputs {
        pb_yx: None,
        pblimit: 0.2,
        beam: beam(),
        cell_x_rad: CELL,
        cell_y_rad: CELL,
        // Sidelobe threshold = 3 x 0.05 x 20 (peak) = 3 sigma < noise threshold 5 sigma: the
        // noise threshold governs, as for most real data.
        sidelobe_level: 0.05,
        iter_done,
        threshold_reached,
    }
}

/// Pixels of `m` farther than `r` from every centre.
fn stray_pixels(m: &Array2<bool>, centres: &[(f64, f64)], r: f64) -> usize {
    m.indexed_iter()
        .filter(|((y, x), &v)| {
            v && centres
                .iter()
                .all(|&(cx, cy)| (*x as f64 - cx).hypot(*y as f64 - cy) > r)
        })
        .count()
}

// Sources: A beam-sized 20 sigma at (40, 40); B a 12 sigma core on a 4 sigma plateau (FWHM 30)
// at (85, 85); C beam-sized 3 sigma at (40, 95) (below the 5 sigma noise threshold); S a 1-pixel
// 8 sigma spike at (100, 30) (above threshold but smaller than 0.3 beams: pruned).
const A: (f64, f64) = (40.0, 40.0);
const B: (f64, f64) = (85.0, 85.0);
const C: (f64, f64) = (40.0, 95.0);

fn cycle1_residual() -> Array2<f32> {
    let mut r = noise(1);
    add_gauss(&mut r, A.0, A.1, BEAM_PIX, 20.0);
    add_gauss(&mut r, B.0, B.1, BEAM_PIX, 12.0);
    add_gauss(&mut r, B.0, B.1, 30.0, 4.0);
    add_gauss(&mut r, C.0, C.1, BEAM_PIX, 3.0);
    r[[30, 100]] += 8.0;
    r
}

/// After some cleaning: A and B's core are gone, B's 4 sigma plateau is left.
fn cycle2_residual() -> Array2<f32> {
    let mut r = noise(2);
    add_gauss(&mut r, B.0, B.1, 30.0, 4.0);
    r
}

/// A alone on noise.
fn point_residual() -> Array2<f32> {
    let mut r = noise(3);
    add_gauss(&mut r, A.0, A.1, BEAM_PIX, 20.0);
    r
}

#[test]
fn first_cycle_masks_bright_sources_only() {
    let res = cycle1_residual();
    let (st, rep) = first_cycle(&res);
    let m = st.mask().to_owned();
    let th = rep.thresholds.unwrap();
    assert_eq!(th.kind, ThresholdKind::Noise);
    // Robust rms of unit noise with < 1% of pixels on sources: MAD error ~ 1.3% for 16k pixels,
    // source contamination raises it a little more; 10% is comfortably outside both.
    let st_rms = rep.stats.unwrap().robust_rms;
    assert!((st_rms - 1.0).abs() < 0.1, "rms {st_rms}");
    assert!(!rep.grew, "no growth before any minor-cycle iteration");
    assert!(m[[A.1 as usize, A.0 as usize]] && m[[B.1 as usize, B.0 as usize]]);
    assert!(
        !m[[C.1 as usize, C.0 as usize]],
        "3 sigma source is below the 5 sigma threshold"
    );
    assert!(!m[[30, 100]], "single-pixel spike must be pruned");
    assert!(rep.threshold_regions.n_pruned >= 1);
    // Noise never reaches 5 sigma in 16k pixels (p = 3e-7 per pixel), so nothing lies away from
    // A and B: 15 px = the 5-sigma radius (<= 6 px) + smoothing reach at the 1% cut (~4 px) + margin.
    assert_eq!(stray_pixels(&m, &[A, B], 15.0), 0);
    assert_eq!(rep.n_pixels, masks::count(st.mask()));
    assert!(!st.is_stopped());
}

#[test]
fn second_cycle_grows_into_low_noise_region() {
    let p = AutoMaskParams::default();
    let mut st = AutoMaskState::new(N, N);
    auto_multithresh(cycle1_residual().view(), &inputs(0, false), &p, &mut st).unwrap();
    let m1 = st.mask().to_owned();
    let rep = auto_multithresh(cycle2_residual().view(), &inputs(100, false), &p, &mut st).unwrap();
    let m2 = st.mask().to_owned();
    assert!(rep.grew);
    // The first mask of B (core + plateau above 5 sigma out to r ~ 4 px, widened ~4 px by the
    // smoothing cut) ends near r = 8 px. On cycle 2 the plateau (4 sigma peak; 2.8 sigma at
    // r = 11 px, where 83% of pixels pass the ~1.8 sigma low-noise threshold, well above the
    // 59% site-percolation threshold) is above the low-noise threshold out to r ~ 16 px, so
    // pixels at r = 11 px must be new.
    let probe = [(B.0 + 11.0, B.1), (B.0, B.1 - 11.0), (B.0 - 8.0, B.1 + 8.0)];
    for (x, y) in probe {
        let (x, y) = (x as usize, y as usize);
        assert!(
            !m1[[y, x]] && m2[[y, x]],
            "pixel ({x}, {y}) should be added by growth"
        );
    }
    // The previous mask is kept (masks only grow), and growth stays on the plateau.
    assert_eq!(masks::count(m1.view()), {
        let mut both = m1.clone();
        masks::intersect_into(&mut both, m2.view());
        masks::count(both.view())
    });
    // Growth stops where the plateau drops below the low-noise threshold (r ~ 16 px) plus the
    // smoothing reach (~4 px); 28 px leaves room for noise-connected fringes.
    assert_eq!(stray_pixels(&m2, &[A, B], 28.0), 0);
}

#[test]
fn negative_threshold_masks_negative_source() {
    let mut res = cycle1_residual();
    add_gauss(&mut res, 100.0, 100.0, BEAM_PIX, -15.0);
    let (st, _) = first_cycle(&res);
    assert!(
        !st.mask()[[100, 100]],
        "negativethreshold = 0 ignores negative features"
    );
    let p = AutoMaskParams {
        negativethreshold: 5.0,
        ..Default::default()
    };
    let mut st = AutoMaskState::new(N, N);
    let rep = auto_multithresh(res.view(), &inputs(0, false), &p, &mut st).unwrap();
    assert!(st.mask()[[100, 100]]);
    assert!(rep.n_negative_pixels > 0);
    assert!(
        !st.positive_mask()[[100, 100]],
        "negative regions are not in the positive mask"
    );
}

#[test]
fn minpercentchange_stops_updates() {
    // The same residual every cycle: cycle 2 grows the mask into the low-noise fringe around A
    // (a change of tens of percent), after which the mask no longer changes.
    let res = point_residual();
    for (minpc, reached, expect_stop) in [
        (10.0, true, true),
        (10.0, false, false),
        (-1.0, true, false),
    ] {
        let p = AutoMaskParams {
            minpercentchange: minpc,
            ..Default::default()
        };
        let mut st = AutoMaskState::new(N, N);
        let mut stopped_at = None;
        for cycle in 0..4u64 {
            let rep =
                auto_multithresh(res.view(), &inputs(cycle * 10, reached), &p, &mut st).unwrap();
            if stopped_at.is_none() && rep.stopped {
                // Stopping needs a change below minpercentchange.
                assert!(
                    rep.changed_percent < minpc as f64,
                    "stopped at {}%",
                    rep.changed_percent
                );
                stopped_at = Some(cycle);
            }
        }
        assert_eq!(
            stopped_at.is_some(),
            expect_stop,
            "minpercentchange {minpc}, reached {reached}"
        );
        if expect_stop {
            let before = st.mask().to_owned();
            let rep = auto_multithresh(cycle2_residual().view(), &inputs(50, reached), &p, &mut st)
                .unwrap();
            assert!(rep.skipped);
            assert_eq!(st.mask(), before.view());
        }
    }
}

#[test]
fn all_noise_plane_gives_empty_mask_and_stops() {
    let res = noise(7);
    let (st, rep) = first_cycle(&res);
    assert_eq!(rep.n_pixels, 0);
    assert!(masks::is_empty(st.mask()));
    // tclean's skipChannels: an empty mask under the noise threshold stops the channel.
    assert!(st.is_stopped());
}

#[test]
fn sidelobe_threshold_governs_with_strong_sidelobes() {
    let mut res = point_residual();
    add_gauss(&mut res, C.0, C.1, BEAM_PIX, 8.0);
    let mut inp = inputs(0, false);
    // 3 x 0.2 x 20 = 12 sigma: A keeps the ~9 pixels within r = 1.7 px (> 5.4 px prune size).
    inp.sidelobe_level = 0.2;
    let mut st = AutoMaskState::new(N, N);
    let rep = auto_multithresh(res.view(), &inp, &AutoMaskParams::default(), &mut st).unwrap();
    assert_eq!(rep.thresholds.unwrap().kind, ThresholdKind::Sidelobe);
    assert!(st.mask()[[A.1 as usize, A.0 as usize]]);
    assert!(
        !st.mask()[[C.1 as usize, C.0 as usize]],
        "an 8 sigma source is below the 12 sigma sidelobe threshold"
    );
    assert!(!st.is_stopped(), "sidelobe-limited planes never stop");
}

#[test]
fn pb_mask_limits_automask() {
    let res = cycle1_residual();
    // pb peaks on B; pb > 0.5 inside r = 29 px of B, which excludes A (r = 64 px).
    let pb = Array2::from_shape_fn((N, N), |(y, x)| {
        let r2 = (x as f64 - B.0).powi(2) + (y as f64 - B.1).powi(2);
        (-r2 / (2.0 * 25.0f64.powi(2))).exp() as f32
    });
    let mut inp = inputs(0, false);
    inp.pb_yx = Some(pb.view());
    inp.pblimit = 0.5;
    let mut st = AutoMaskState::new(N, N);
    auto_multithresh(res.view(), &inp, &AutoMaskParams::default(), &mut st).unwrap();
    let pbm = masks::pb_mask(pb.view(), 0.5);
    let mut outside = st.mask().to_owned();
    masks::subtract_into(&mut outside, pbm.view());
    assert_eq!(masks::count(outside.view()), 0);
    assert!(!st.mask()[[A.1 as usize, A.0 as usize]]);
    assert!(st.mask()[[B.1 as usize, B.0 as usize]]);
}

#[test]
fn fastnoise_false_uses_chauvenet_then_outside_mask() {
    let res = point_residual();
    let empty = Array2::from_elem((N, N), false);
    let s = plane_statistics(res.view(), None, empty.view(), false).unwrap();
    assert_eq!(s.method, NoiseMethod::Chauvenet);
    // Unit noise; MAD standard error ~1.3% for 16k points; clipping at z ~ 4 biases < 0.1%.
    assert!((s.robust_rms - 1.0).abs() < 0.05, "{}", s.robust_rms);
    let (st, _) = first_cycle(&res);
    let s = plane_statistics(res.view(), None, st.mask(), false).unwrap();
    assert_eq!(s.method, NoiseMethod::OutsideMask);
    assert_eq!(s.npts, N * N - masks::count(st.mask()));
}

#[test]
fn psf_sidelobe_level_is_largest_sidelobe() {
    // Main lobe = the beam itself (nothing left after subtracting it), a -0.1 ring at r = 12 px
    // and a +0.05 bump at (20, 20) px offset: the level is |min| = 0.1. The ring's minimum is
    // sampled exactly on the grid (r = 12 along the axes), the Gaussian there is 1e-8.
    let b = beam();
    let mut psf = Array2::<f32>::zeros((N, N));
    add_gauss(&mut psf, 64.0, 64.0, BEAM_PIX, 1.0);
    for ((y, x), v) in psf.indexed_iter_mut() {
        let r = (x as f64 - 64.0).hypot(y as f64 - 64.0);
        *v -= (0.1 * (-(r - 12.0).powi(2) / 2.0).exp()) as f32;
    }
    add_gauss(&mut psf, 84.0, 84.0, 3.0, 0.05);
    let lvl = psf_sidelobe_level(psf.view(), &b, CELL, CELL);
    assert!((lvl - 0.1).abs() < 1e-3, "{lvl}");
}

// ---------------------------------------------------------------------------------------------
// Regions

#[test]
fn box_and_centerbox_pixel_counts() {
    let m = crtf_mask(
        "#CRTFv0\nbox[[10pix, 10pix], [20pix, 20pix]]",
        None,
        (64, 64),
    )
    .unwrap();
    assert_eq!(masks::count(m.view()), 121, "corners inclusive: 11 x 11");
    let m = crtf_mask("centerbox[[30pix, 30pix], [10pix, 20pix]]", None, (64, 64)).unwrap();
    assert_eq!(masks::count(m.view()), 11 * 21);
    assert!(m[[20, 25]] && m[[40, 35]] && !m[[41, 35]]);
}

#[test]
fn circle_annulus_poly_areas() {
    // Lattice-point count of a disc deviates from pi r^2 by far less than half the perimeter
    // (Gauss circle problem: O(r^(2/3))); half the perimeter is the bound used here.
    let m = crtf_mask("circle[[64pix, 64pix], 20pix]", None, (128, 128)).unwrap();
    let area = std::f64::consts::PI * 400.0;
    assert!((masks::count(m.view()) as f64 - area).abs() < std::f64::consts::PI * 20.0);
    let m = crtf_mask("annulus[[64pix, 64pix], [10pix, 20pix]]", None, (128, 128)).unwrap();
    let area = std::f64::consts::PI * 300.0;
    assert!((masks::count(m.view()) as f64 - area).abs() < std::f64::consts::PI * 30.0);
    assert!(!m[[64, 64]] && m[[64, 79]]);
    // Right triangle with lattice vertices, edges included: Pick's theorem gives exactly
    // A + B/2 + 1 = 800 + 60 + 1 pixels.
    let m = crtf_mask(
        "poly[[10pix, 10pix], [50pix, 10pix], [10pix, 50pix]]",
        None,
        (128, 128),
    )
    .unwrap();
    assert_eq!(masks::count(m.view()), 861);
}

#[test]
fn union_exclusion_comments_and_annotations() {
    let text = "#CRTFv0 CASA Region Text Format version 0\n\
                # a comment\n\
                global coord=J2000\n\
                box[[0pix, 0pix], [9pix, 9pix]], coord=J2000, color=red\n\
                box[[20pix, 20pix], [29pix, 29pix]]\n\
                ann circle[[50pix, 50pix], 5pix]\n\
                -box[[0pix, 0pix], [4pix, 9pix]]\n";
    let m = crtf_mask(text, None, (64, 64)).unwrap();
    assert_eq!(masks::count(m.view()), 100 + 50);
    assert!(!m[[50, 50]], "annotations do not mask");
    assert!(!m[[5, 2]] && m[[5, 7]]);
}

#[test]
fn world_regions_land_on_the_right_pixels() {
    let centre = Direction::parse("J2000 15h22m00s +05d04m00s").unwrap();
    let cell = 2.0f64.to_radians() / 3600.0;
    let g = SkyGeometry::for_image(centre, 256, 256, cell, cell);
    // Round trip pixel -> world -> pixel.
    let d = g.pixel_to_world(100.25, 170.5).unwrap();
    let (x, y) = g.world_to_pixel(&d).unwrap();
    assert!((x - 100.25).abs() < 1e-9 && (y - 170.5).abs() < 1e-9);
    // 2 s of RA east of the centre: l = cos(dec) sin(30 arcsec) = 29.8828 arcsec = 14.9414 px to
    // the LEFT (smaller x) of pixel 128. Tolerance 1e-3 px (SIN vs flat-sky difference ~1e-8 px).
    let r = parse_crtf("circle[[15h22m02s, +05d04m00s], 30arcsec]", Some(&g)).unwrap();
    let PixelShape::Ellipse { cx, cy, rx, ry } = r[0].shape else {
        panic!()
    };
    assert!(
        (cx - 113.0586).abs() < 1e-3 && (cy - 128.0).abs() < 1e-3,
        "({cx}, {cy})"
    );
    assert!((rx - 15.0).abs() < 1e-9 && (ry - 15.0).abs() < 1e-9);
    // The circle on the centre, 30 arcsec = 15 px: same pixels as the pixel-unit circle.
    let mw = crtf_mask(
        "circle[[15:22:00.0, +05.04.00], 30arcsec]",
        Some(&g),
        (256, 256),
    )
    .unwrap();
    let mp = crtf_mask("circle[[128pix, 128pix], 15pix]", None, (256, 256)).unwrap();
    assert_eq!(mw, mp);
    // A degree box: corners 20 arcsec south and north of the centre, +-10 px in y, and
    // +-0.005 deg in RA (second-order SIN terms ~1e-4 px).
    let dec0 = 5.0 + 4.0 / 60.0;
    let text = format!(
        "box[[230.505deg, {:.10}deg], [230.495deg, {:.10}deg]]",
        dec0 - 20.0 / 3600.0,
        dec0 + 20.0 / 3600.0
    );
    let r = parse_crtf(&text, Some(&g)).unwrap();
    let PixelShape::Box { ymin, ymax, .. } = r[0].shape else {
        panic!()
    };
    assert!(
        (ymin - 118.0).abs() < 1e-2 && (ymax - 138.0).abs() < 1e-2,
        "{ymin} {ymax}"
    );
}

#[test]
fn bad_region_text_gives_specific_errors() {
    let e = parse_crtf(
        "box[[1pix, 1pix], [5pix, 5pix]]\ncircle[[10pix, 10pix]]",
        None,
    )
    .unwrap_err();
    assert!(matches!(e, RegionError::Syntax { line: 2, .. }), "{e}");
    assert!(e.to_string().contains("circle takes 2 arguments"), "{e}");
    let e = parse_crtf("ellipse[[10pix, 10pix], [3pix, 2pix], 0deg]", None).unwrap_err();
    assert!(
        matches!(e, RegionError::UnsupportedShape { line: 1, .. }),
        "{e}"
    );
    let e = parse_crtf("circle[[15h22m00s, +05d04m00s], 30arcsec]", None).unwrap_err();
    assert!(
        matches!(e, RegionError::NeedsGeometry { line: 1, .. }),
        "{e}"
    );
    let e = parse_crtf("box[[10pix, 15h22m00s], [20pix, 20pix]]", None).unwrap_err();
    assert!(e.to_string().contains("mixes pixel and world"), "{e}");
    let e = parse_crtf("circle[[10pix, 10pix], 5parsec]", None).unwrap_err();
    assert!(
        matches!(e, RegionError::BadValue { what: "length", .. }),
        "{e}"
    );
    let e = parse_crtf("circle[[10pix, 10pix], 5pix", None).unwrap_err();
    assert!(e.to_string().contains("missing ']'"), "{e}");
    let e = parse_crtf("circle[[10pix, 10pix], 5pix], coord=GALACTIC", None).unwrap_err();
    assert!(
        matches!(
            e,
            RegionError::BadValue {
                what: "coordinate frame",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn region_file_or_inline_string() {
    let dir = std::env::temp_dir().join(format!("pclean-regions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("mask.crtf");
    std::fs::write(&f, "#CRTFv0\ncircle[[20pix, 20pix], 5pix]\n").unwrap();
    let a = region_mask(f.to_str().unwrap(), None, (40, 40)).unwrap();
    let b = region_mask("circle[[20pix, 20pix], 5pix]", None, (40, 40)).unwrap();
    assert_eq!(a, b);
    assert!(masks::count(a.view()) > 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn pb_mask_and_set_operations() {
    let pb = ndarray::array![[0.1f32, 0.2, 0.3], [f32::NAN, 0.9, 1.0]];
    let m = masks::pb_mask(pb.view(), 0.2);
    // Strict '>' as CASA's makePBMask; NaN excluded.
    assert_eq!(
        m,
        ndarray::array![[false, false, true], [false, true, true]]
    );
    assert_eq!(masks::count(m.view()), 3);
    let mut u = m.clone();
    masks::union_into(
        &mut u,
        ndarray::array![[true, false, false], [false, false, false]].view(),
    );
    assert_eq!(masks::count(u.view()), 4);
    assert!((masks::jaccard(m.view(), u.view()) - 0.75).abs() < 1e-12);
}

/// Defect: CRTF `corr=` was silently ignored (the region masked every Stokes plane). As in CASA,
/// a region with `corr=` masks only the planes it names; a line naming none of the image's planes
/// is an error.
#[test]
fn crtf_corr_limits_region_to_named_stokes() {
    let text = "box[[0pix, 0pix], [9pix, 9pix]], corr=[I]\n\
                box[[20pix, 20pix], [29pix, 29pix]], corr=[Q, V], label='x, y'\n\
                circle[[50pix, 50pix], 3pix]\n";
    let m = region_masks_per_stokes(text, None, (64, 64), &["I", "Q", "U", "V"]).unwrap();
    let n: Vec<usize> = m.iter().map(|p| masks::count(p.view())).collect();
    let circle = masks::count(m[2].view());
    assert_eq!(circle, 29, "U has only the circle");
    assert_eq!(n, vec![100 + circle, 100 + circle, circle, 100 + circle]);
    assert!(m[0][[5, 5]] && !m[0][[25, 25]] && m[3][[25, 25]] && !m[3][[5, 5]]);
    let e = region_masks_per_stokes(
        "box[[0pix,0pix],[9pix,9pix]], corr=[V]",
        None,
        (64, 64),
        &["I"],
    )
    .unwrap_err();
    assert!(
        matches!(e, RegionError::CorrNotInImage { line: 1, .. }),
        "{e}"
    );
    assert!(parse_crtf("box[[0pix,0pix],[9pix,9pix]], corr=I", None).is_err());
}

/// Defect: `global` lines were silently ignored. As in CRTF, their options are the defaults of
/// the lines after them (a line's own options win); a `global range=` is an error like a line's.
#[test]
fn crtf_global_line_sets_defaults() {
    let text = "box[[0pix, 0pix], [9pix, 9pix]]\n\
                global corr=[V]\n\
                box[[20pix, 20pix], [29pix, 29pix]]\n\
                box[[40pix, 40pix], [49pix, 49pix]], corr=[I]\n";
    let m = region_masks_per_stokes(text, None, (64, 64), &["I", "V"]).unwrap();
    // I: the first box (before the global line) and the last (its own corr=[I]).
    assert!(m[0][[5, 5]] && !m[0][[25, 25]] && m[0][[45, 45]]);
    // V: the first box and the second (global corr=[V]).
    assert!(m[1][[5, 5]] && m[1][[25, 25]] && !m[1][[45, 45]]);
    let e = parse_crtf(
        "global range=[1.4GHz, 1.5GHz]\nbox[[0pix,0pix],[9pix,9pix]]",
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("range="), "{e}");
    let e = parse_crtf("global coord=GALACTIC\nbox[[0pix,0pix],[9pix,9pix]]", None).unwrap_err();
    assert!(e.to_string().contains("GALACTIC"), "{e}");
}
