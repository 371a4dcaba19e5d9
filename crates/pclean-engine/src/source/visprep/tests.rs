use super::*;
use ndarray::Array3;

/// One chunk of 3 rows x 1 channel with `corrs`, unit-free values chosen so that every
/// result is exact in f32.
fn chunk(
    corrs: usize,
    vis: &[[(f32, f32); 4]],
    wgt: &[[f32; 4]],
    flags: &[(usize, usize)],
) -> (Array3<Complex32>, Array3<bool>, Array3<f32>) {
    let n = vis.len();
    let mut v = Array3::<Complex32>::zeros((n, 1, corrs));
    let mut f = Array3::<bool>::from_elem((n, 1, corrs), false);
    let mut w = Array3::<f32>::zeros((n, 1, corrs));
    for r in 0..n {
        for p in 0..corrs {
            v[[r, 0, p]] = Complex32::new(vis[r][p].0, vis[r][p].1);
            w[[r, 0, p]] = wgt[r][p];
        }
    }
    for &(r, p) in flags {
        f[[r, 0, p]] = true;
    }
    (v, f, w)
}

fn form(
    param: StokesParam,
    corrs: &[Correlation],
    i_only: bool,
    data: &(Array3<Complex32>, Array3<bool>, Array3<f32>),
) -> (Array2<Complex32>, Array2<f32>) {
    let rec = StokesRecipe::new(param, corrs, i_only).unwrap();
    let n = data.0.shape()[0];
    let mut v = Array2::<Complex32>::zeros((n, 1));
    let mut w = Array2::<f32>::zeros((n, 1));
    rec.form(
        data.0.view(),
        data.1.view(),
        data.2.view(),
        &[0],
        v.view_mut(),
        w.view_mut(),
    );
    (v, w)
}

const CIRC: [Correlation; 4] = [
    Correlation::RR,
    Correlation::RL,
    Correlation::LR,
    Correlation::LL,
];

#[test]
fn one_weight_per_sample_from_the_parallel_hands() {
    // RR = I + V, LL = I - V with I = 2, V = 1, and RR's weight 4 times LL's: V must not
    // pick up I (a weighted combination would give (4*3 - 1*1)/(4+1)... = 2.2 instead of 1).
    let d = chunk(
        4,
        &[[(3.0, 0.0), (1.0, 1.0), (1.0, -1.0), (1.0, 0.0)]],
        &[[4.0, 9.0, 9.0, 2.0]],
        &[],
    );
    let (v, w) = form(StokesParam::V, &CIRC, false, &d);
    assert_eq!((v[[0, 0]], w[[0, 0]]), (Complex32::new(1.0, 0.0), 3.0));
    // U = (RL - LR)/2i = (2i)/2i = 1; Q = (RL + LR)/2 = 1; same weight (mean of RR and LL).
    let (v, w) = form(StokesParam::U, &CIRC, false, &d);
    assert_eq!((v[[0, 0]], w[[0, 0]]), (Complex32::new(1.0, 0.0), 3.0));
    let (v, _) = form(StokesParam::Q, &CIRC, false, &d);
    assert_eq!(v[[0, 0]], Complex32::new(1.0, 0.0));
    // An I-only image counts both hands in its sum of weights (tclean's sumwt is 2x).
    let (v, w) = form(StokesParam::I, &CIRC, true, &d);
    assert_eq!((v[[0, 0]], w[[0, 0]]), (Complex32::new(2.0, 0.0), 6.0));
    let (_, w) = form(StokesParam::I, &CIRC, false, &d);
    assert_eq!(w[[0, 0]], 3.0);
    // A correlation image has the same sample weight.
    let (v, w) = form(StokesParam::Corr(Correlation::LL), &CIRC, false, &d);
    assert_eq!((v[[0, 0]], w[[0, 0]]), (Complex32::new(1.0, 0.0), 3.0));
}

#[test]
fn any_flagged_correlation_drops_the_sample_except_for_pseudo_i() {
    let row = [(3.0, 0.0), (1.0, 1.0), (1.0, -1.0), (1.0, 0.0)];
    let d = chunk(
        4,
        &[row, row, row],
        &[[2.0; 4], [2.0; 4], [2.0; 4]],
        // row 0: RL flagged; row 1: LL flagged; row 2: both hands flagged.
        &[(0, 1), (1, 3), (2, 0), (2, 3)],
    );
    for p in [
        StokesParam::I,
        StokesParam::V,
        StokesParam::Corr(Correlation::RR),
    ] {
        let (_, w) = form(p, &CIRC, true, &d);
        assert_eq!(w.column(0).to_vec(), vec![0.0, 0.0, 0.0], "{p:?}");
    }
    let (v, w) = form(StokesParam::PseudoI, &CIRC, false, &d);
    assert_eq!(w.column(0).to_vec(), vec![4.0, 2.0, 0.0]);
    assert_eq!(v[[0, 0]], Complex32::new(2.0, 0.0));
    assert_eq!(v[[1, 0]], Complex32::new(3.0, 0.0));
}

#[test]
fn strided_chunks_form_what_contiguous_ones_do() {
    // `form` reads a row's samples as slices when the chunk is in memory order (the MS
    // read's layout) and through ndarray's indexing otherwise (here: every other channel of
    // a larger chunk): the same formula, so the values and weights must agree exactly.
    let (nrow, nchan, ncorr) = (600, 6, 4);
    let mut k = 0u32;
    let mut next = move || {
        k = k.wrapping_mul(1664525).wrapping_add(1013904223);
        (k >> 8) as f32 / (1u32 << 24) as f32
    };
    let v = Array3::from_shape_fn((nrow, 2 * nchan, ncorr), |_| {
        Complex32::new(next() - 0.5, next() - 0.5)
    });
    let f = Array3::from_shape_fn((nrow, 2 * nchan, ncorr), |_| next() < 0.05);
    let w = Array3::from_shape_fn((nrow, 2 * nchan, ncorr), |_| next() - 0.1);
    let every_other = ndarray::s![.., ..;2, ..];
    let (vs, fs, ws) = (
        v.slice(every_other),
        f.slice(every_other),
        w.slice(every_other),
    );
    assert!(vs.index_axis(Axis(0), 0).as_slice().is_none());
    let (vc, fc, wc) = (vs.to_owned(), fs.to_owned(), ws.to_owned());
    let chans = [0, 2, 3, 5];
    for param in [StokesParam::I, StokesParam::Q, StokesParam::PseudoI] {
        let rec = StokesRecipe::new(param, &CIRC, false).unwrap();
        let mut out = Vec::new();
        for (v, f, w) in [(vs, fs, ws), (vc.view(), fc.view(), wc.view())] {
            let mut vo = Array2::<Complex32>::zeros((nrow, chans.len()));
            let mut wo = Array2::<f32>::zeros((nrow, chans.len()));
            rec.form(v, f, w, &chans, vo.view_mut(), wo.view_mut());
            out.push((vo, wo));
        }
        assert_eq!(out[0], out[1], "{param:?}");
        // Some samples kept, some dropped (flags, negative weights).
        let kept = out[0].1.iter().filter(|&&w| w > 0.0).count();
        assert!(kept > 500 && kept < nrow * chans.len(), "{param:?}: {kept}");
    }
}

/// tclean's density (`VisImagingWeight`) counts a sample only when no correlation is flagged,
/// with the mean weight of the parallel hands, also for pseudoI, which grids the unflagged
/// hands of the others (realobs `vla_b1950_pseudoI_dirty`: 2.0e-2 of the peak with the
/// pseudoI weights in the density, 1.9e-4 with these).
#[test]
fn pseudo_i_density_counts_only_samples_with_no_flagged_correlation() {
    let row = [(3.0, 0.0), (1.0, 1.0), (1.0, -1.0), (1.0, 0.0)];
    let d = chunk(
        4,
        &[row, row, row, row],
        &[[2.0, 1.0, 1.0, 4.0]; 4],
        // row 0: nothing flagged; row 1: RL flagged; row 2: LL flagged; row 3: both hands.
        &[(1, 1), (2, 3), (3, 0), (3, 3)],
    );
    let rec = StokesRecipe::new(StokesParam::PseudoI, &CIRC, false).unwrap();
    let mut w = Array2::<f32>::zeros((4, 1));
    rec.density_weights(d.0.view(), d.1.view(), d.2.view(), &[0], w.view_mut());
    assert_eq!(w.column(0).to_vec(), vec![3.0, 0.0, 0.0, 0.0]);
    // The gridded weights of the same samples: the mean weight once per unflagged hand.
    let (_, g) = form(StokesParam::PseudoI, &CIRC, false, &d);
    assert_eq!(g.column(0).to_vec(), vec![6.0, 6.0, 3.0, 0.0]);
}

#[test]
fn phase_shift_moves_a_point_source_to_the_centre() {
    // A point source at `src` observed with phase centre `a` has V = exp(+2 pi i (u l + v m + w(n-1))).
    // Re-phased to `src` it must become 1 (to float precision, 1e-5 for phases of ~1e3 radians in f32).
    let a = Direction::parse("J2000 15h22m00 +05d04m00").unwrap();
    let src = Direction::parse("J2000 15h22m10 +05d08m00").unwrap();
    let [l, m, n] = a.lmn_of(&src);
    let f = 1.4e9;
    let lam = SPEED_OF_LIGHT / f;
    let mut uvw = Array2::<f64>::zeros((4, 3));
    let base = [
        [100.0, 2000.0, 30.0],
        [-1500.0, 300.0, -20.0],
        [700.0, -900.0, 5.0],
        [10.0, 20.0, 3000.0],
    ];
    let mut vis = Array2::<Complex32>::zeros((4, 1));
    for r in 0..4 {
        for k in 0..3 {
            uvw[[r, k]] = base[r][k];
        }
        let ph =
            2.0 * std::f64::consts::PI * (base[r][0] * l + base[r][1] * m + base[r][2] * (n - 1.0))
                / lam;
        vis[[r, 0]] = Complex32::new(ph.cos() as f32, ph.sin() as f32);
    }
    let shift = PhaseShift::new(&a, &src, &SkyContext::default())
        .unwrap()
        .unwrap();
    shift.apply(&mut uvw, &[f], vis.view_mut());
    for r in 0..4 {
        assert!(
            (vis[[r, 0]] - Complex32::new(1.0, 0.0)).norm() < 1e-4,
            "{:?}",
            vis[[r, 0]]
        );
    }
}

/// Visibilities of a point source observed with a B1950_VLA phase centre, shifted to a
/// J2000 image centre, equal the visibilities computed directly in J2000 about that centre.
#[test]
fn phase_shift_between_frames_matches_direct_visibilities() {
    use pclean_core::DirectionFrame;
    let sky = SkyContext::at(59001.0 * 86400.0, [-1601185.4, -5041977.5, 3554875.9], 0.0);
    let field = Direction::parse("B1950_VLA 12h30m00s +12d20m00s").unwrap();
    let centre = Direction::parse("J2000 12h32m40s +12d06m00s").unwrap();
    let src_j = Direction::parse("J2000 12h32m20s +12d01m00s").unwrap();
    let src_b = src_j.to_frame(DirectionFrame::B1950Vla, &sky).unwrap();
    let f = 1.4e9;
    let lam = SPEED_OF_LIGHT / f;
    let base = [
        [100.0, 20000.0, 30.0],
        [-15000.0, 3000.0, -20.0],
        [7000.0, -9000.0, 5.0],
        [10.0, 20.0, 3000.0],
    ];
    let vis_of = |b: &[f64; 3], c: &Direction, s: &Direction| {
        let [l, m, n] = c.lmn_of(s);
        let ph = 2.0 * std::f64::consts::PI * (b[0] * l + b[1] * m + b[2] * (n - 1.0)) / lam;
        Complex32::new(ph.cos() as f32, ph.sin() as f32)
    };
    let mut uvw = Array2::<f64>::zeros((4, 3));
    let mut vis = Array2::<Complex32>::zeros((4, 1));
    for (r, b) in base.iter().enumerate() {
        for k in 0..3 {
            uvw[[r, k]] = b[k];
        }
        vis[[r, 0]] = vis_of(b, &field, &src_b);
    }
    let shift = PhaseShift::new(&field, &centre, &sky).unwrap().unwrap();
    shift.apply(&mut uvw, &[f], vis.view_mut());
    for r in 0..4 {
        let b = [uvw[[r, 0]], uvw[[r, 1]], uvw[[r, 2]]];
        let want = vis_of(&b, &centre, &src_j);
        // 2e-3: f32 phases of up to ~1e3 rad (1e-4 relative rounding) and the FK4 E-terms,
        // which make B1950 -> J2000 a rotation only to ~1e-6 over the 0.2-degree offsets.
        assert!(
            (vis[[r, 0]] - want).norm() < 2e-3,
            "row {r}: {:?} vs {want:?}",
            vis[[r, 0]]
        );
    }
}
