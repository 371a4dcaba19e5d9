//! The trait path gives what the direct [`Gridder`] calls give, bit for bit.

use super::*;
use crate::gridder::GridSpec;

fn gridder() -> Gridder {
    Gridder::new(GridSpec {
        nx: 96,
        ny: 80,
        cell_x_rad: 1e-5,
        cell_y_rad: 1.2e-5,
        epsilon: 1e-5,
    })
    .unwrap()
}

/// Two chunks of pseudo-random visibilities (rows of uvw in metres, two channels).
type Chunk = (Array2<f64>, Vec<f64>, Array2<Complex32>, Array2<f32>);

fn chunks() -> Vec<Chunk> {
    let mut s = 777u64;
    let mut rnd = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    (0..2)
        .map(|_| {
            let n = 400;
            let uvw = Array2::from_shape_fn((n, 3), |_| 3.0e4 * rnd());
            let vis = Array2::from_shape_fn((n, 2), |_| Complex32::new(rnd() as f32, rnd() as f32));
            // Some flagged (0) weights.
            let wt = Array2::from_shape_fn((n, 2), |_| (rnd() + 0.3).max(0.0) as f32);
            (uvw, vec![1.0e8, 1.1e8], vis, wt)
        })
        .collect()
}

/// PSF and residual images through any [`VisGridder`] (generic, so also `dyn`).
fn images<G: VisGridder + ?Sized>(g: &G, chunks: &[Chunk]) -> (Vec<Array2<f32>>, Vec<Array2<f32>>) {
    let mut psf = g.new_planes(Pass::Psf);
    let mut res = g.new_planes(Pass::Residual);
    let mut sumwt = 0.0;
    for (uvw, f, vis, wt) in chunks {
        let batch = VisBatch::new(uvw.view(), f, wt.view()).with_vis(vis.view());
        sumwt += g.grid(&mut psf, &batch).unwrap().sum_weights;
        g.grid(&mut res, &batch).unwrap();
    }
    let scale = 1.0 / sumwt;
    (g.images(psf, scale).unwrap(), g.images(res, scale).unwrap())
}

#[test]
fn trait_object_passes_equal_the_direct_calls() {
    let g = gridder();
    let chunks = chunks();
    // Direct calls, as the engine makes them today.
    let (mut psf, mut res) = (g.new_grid(), g.new_grid());
    let mut sumwt = 0.0;
    for (uvw, f, vis, wt) in &chunks {
        sumwt += g
            .grid_psf(&mut psf, uvw.view(), f, wt.view(), 2)
            .unwrap()
            .sum_weights;
        g.grid_vis(&mut res, uvw.view(), f, vis.view(), wt.view(), 2)
            .unwrap();
    }
    let want_psf = g.grid_into_image(psf, 1.0 / sumwt, 2).unwrap();
    let want_res = g.grid_into_image(res, 1.0 / sumwt, 2).unwrap();
    let seam = StandardGridder::new(g, 2);
    let dyn_g: &dyn VisGridder = &seam;
    assert_eq!(dyn_g.nplanes(Pass::Psf), 1);
    assert_eq!(dyn_g.image_shape(), (80, 96));
    let (p, r) = images(dyn_g, &chunks);
    assert_eq!(p, vec![want_psf.clone()]);
    assert_eq!(r, vec![want_res.clone()]);
    // Generic (static dispatch) too, and with one thread.
    let (p, r) = images(&StandardGridder::new(seam.gridder().clone(), 1), &chunks);
    assert_eq!((p, r), (vec![want_psf], vec![want_res]));
}

#[test]
fn trait_object_prediction_equals_model_grid_and_degrid() {
    let g = gridder();
    let seam = StandardGridder::new(g.clone(), 2);
    let dyn_g: &dyn VisGridder = &seam;
    let model = Array2::from_shape_fn((80, 96), |(y, x)| ((y * 5 + x * 3) % 13) as f32 - 6.0);
    let mg = g.model_grid(model.view(), 2).unwrap();
    let mp = dyn_g.model_planes(&[model.view()]).unwrap();
    assert_eq!(mp.grids(), std::slice::from_ref(&mg));
    for (uvw, f, _, wt) in &chunks() {
        let mut want = Array2::zeros(wt.dim());
        g.degrid(&mg, uvw.view(), f, Some(wt.view()), want.view_mut(), 2)
            .unwrap();
        let mut got = Array2::from_elem(wt.dim(), Complex32::new(9.0, 9.0));
        let fields = vec![0i32; uvw.nrows()];
        let batch = VisBatch::new(uvw.view(), f, wt.view()).with_fields(&fields);
        dyn_g.predict(&mp, &batch, got.view_mut()).unwrap();
        assert_eq!(got, want);
    }
}

#[test]
fn plane_counts_and_inputs_are_checked() {
    let g = gridder();
    let seam = StandardGridder::new(g.clone(), 1);
    let dyn_g: &dyn VisGridder = &seam;
    let model = Array2::<f32>::zeros((80, 96));
    assert!(matches!(
        dyn_g.model_planes(&[model.view(), model.view()]),
        Err(GridError::PlaneCount {
            expected: 1,
            got: 2
        })
    ));
    let mut two = GridPlanes::from_grids(Pass::Psf, vec![g.new_grid(), g.new_grid()]);
    let (uvw, f, _, wt) = &chunks()[0];
    let batch = VisBatch::new(uvw.view(), f, wt.view());
    assert!(dyn_g.grid(&mut two, &batch).is_err());
    // The residual pass needs visibilities.
    let mut one = dyn_g.new_planes(Pass::Residual);
    assert!(matches!(
        dyn_g.grid(&mut one, &batch),
        Err(GridError::Shape { .. })
    ));
    assert!(one.add_assign(&two).is_err());
    assert_eq!(one.memory_bytes(), dyn_g.planes_bytes(Pass::Residual));
    one.add_assign(&dyn_g.new_planes(Pass::Residual)).unwrap();
}
