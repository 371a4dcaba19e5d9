//! Gridding throughput (visibilities per second): epsilon 1e-5, 1024 x 1024 image, ~1e6
//! ALMA-like visibilities (the deterministic generator of `examples/grid_bench.rs`), 1 and 2
//! threads. Measures `grid_vis` + `grid_to_image` (a full dirty image) and degridding.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ndarray::Array2;
use pclean_grid::gridder::{GridSpec, Gridder};
use std::time::Duration;

#[path = "../examples/grid_bench.rs"]
#[allow(dead_code)]
mod grid_bench;

fn bench(c: &mut Criterion) {
    let nx = 1024;
    let data = grid_bench::alma_like(277, nx);
    let spec = GridSpec {
        nx,
        ny: nx,
        cell_x_rad: data.cell_rad,
        cell_y_rad: data.cell_rad,
        epsilon: 1e-5,
    };
    let g = Gridder::new(spec).expect("valid spec");
    let nvis = data.vis.len() as u64;
    let mut group = c.benchmark_group("gridder_1024_eps1e-5");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(nvis));
    for nthreads in [1usize, 2] {
        group.bench_function(format!("dirty_{nthreads}t"), |b| {
            b.iter(|| {
                let mut grid = g.new_grid();
                g.grid_vis(
                    &mut grid,
                    data.uvw_m.view(),
                    &data.freq_hz,
                    data.vis.view(),
                    data.weight.view(),
                    nthreads,
                )
                .expect("shapes match");
                g.grid_to_image(&grid, nthreads).expect("grid matches")
            })
        });
        let model = Array2::<f64>::from_shape_fn((nx, nx), |(y, x)| {
            if (x * 7 + y * 3) % 997 == 0 {
                1.0
            } else {
                0.0
            }
        });
        let mut pred = data.vis.clone();
        group.bench_function(format!("predict_{nthreads}t"), |b| {
            b.iter(|| {
                g.image_to_vis(
                    model.view(),
                    data.uvw_m.view(),
                    &data.freq_hz,
                    None,
                    pred.view_mut(),
                    nthreads,
                )
                .expect("shapes match")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
