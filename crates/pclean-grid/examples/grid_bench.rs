//! Gridding benchmark on deterministic ALMA-like data, used by `bench/ducc_gridder_compare.py`.
//!
//! ```text
//! cargo run --release -p pclean-grid --example grid_bench -- \
//!     [--nx 1024] [--eps 1e-5] [--nthreads 2] [--repeat 3] [--ntime 277] [--write DIR]
//! ```
//!
//! Prints one JSON object: visibility count, kernel (W, sigma), grid shape, and the best-of-`repeat`
//! wall times of `grid_vis` (bucketing + gridding) and `grid_into_image` (FFT + correction, in
//! place: what the engine runs), plus
//! visibilities per second for both together. With `--write DIR` it also writes the inputs and
//! the dirty image as raw little-endian files (see `bench/README.md`).

use ndarray::Array2;
use num_complex::Complex32;
use pclean_grid::gridder::{GridSpec, Gridder, FOURIER_SIGN};
use std::io::Write;
use std::time::Instant;

/// ALMA-like observation: inputs for the gridder.
pub struct AlmaLike {
    /// `(nrow, 3)` metres.
    pub uvw_m: Array2<f64>,
    /// `(nchan,)` Hz.
    pub freq_hz: Vec<f64>,
    /// `(nrow, nchan)` Jy.
    pub vis: Array2<Complex32>,
    /// `(nrow, nchan)`.
    pub weight: Array2<f32>,
    /// Cell size (rad) putting the longest projected baseline at 0.2 of the Nyquist range.
    pub cell_rad: f64,
}

/// Deterministic ALMA-like data: 43 antennas (903 baselines) with a centrally condensed
/// configuration (maximum baseline ~ 1 km), latitude -23 deg, declination -30 deg, `ntime`
/// integrations over +-1.5 h of hour angle, 4 channels at 230 GHz (0.5 GHz apart), two point
/// sources plus noise, weights in [0.5, 1.5].
pub fn alma_like(ntime: usize, nx: usize) -> AlmaLike {
    let mut state = 0x1234_5678_9ABC_DEF0u64;
    let mut uniform = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let nant = 43;
    let ants: Vec<[f64; 3]> = (0..nant)
        .map(|_| {
            let r = 15.0 + 450.0 * uniform().powi(2);
            let a = 2.0 * std::f64::consts::PI * uniform();
            [r * a.cos(), r * a.sin(), 2.0 * uniform()]
        })
        .collect();
    let (lat, dec) = (-23.0f64.to_radians(), -30.0f64.to_radians());
    let freq_hz: Vec<f64> = (0..4).map(|k| 230e9 + 0.5e9 * k as f64).collect();
    let nbl = nant * (nant - 1) / 2;
    let nrow = nbl * ntime;
    let mut uvw_m = Array2::zeros((nrow, 3));
    let mut row = 0;
    for t in 0..ntime {
        let h = (t as f64 / ntime as f64 - 0.5) * 3.0 / 12.0 * std::f64::consts::PI;
        let (sh, ch, sd, cd) = (h.sin(), h.cos(), dec.sin(), dec.cos());
        for i in 0..nant {
            for j in i + 1..nant {
                let (e, n, up) = (
                    ants[j][0] - ants[i][0],
                    ants[j][1] - ants[i][1],
                    ants[j][2] - ants[i][2],
                );
                // ENU -> equatorial XYZ at latitude `lat`.
                let x = -lat.sin() * n + lat.cos() * up;
                let y = e;
                let z = lat.cos() * n + lat.sin() * up;
                uvw_m[[row, 0]] = sh * x + ch * y;
                uvw_m[[row, 1]] = -sd * ch * x + sd * sh * y + cd * z;
                uvw_m[[row, 2]] = cd * ch * x - cd * sh * y + sd * z;
                row += 1;
            }
        }
    }
    let fmax = freq_hz[3];
    let umax = uvw_m
        .rows()
        .into_iter()
        .map(|r| r[0].abs().max(r[1].abs()))
        .fold(0.0, f64::max)
        * fmax
        / 299_792_458.0;
    let cell_rad = 0.2 * 0.5 / umax;
    let nchan = freq_hz.len();
    let (l0, m0) = (10.0 * cell_rad, -25.0 * cell_rad);
    let (l1, m1) = (-(nx as f64) * 0.2 * cell_rad, 0.1 * nx as f64 * cell_rad);
    let mut vis = Array2::zeros((nrow, nchan));
    let mut weight = Array2::zeros((nrow, nchan));
    for r in 0..nrow {
        for (c, f) in freq_hz.iter().enumerate() {
            let (u, v) = (
                uvw_m[[r, 0]] * f / 299_792_458.0,
                uvw_m[[r, 1]] * f / 299_792_458.0,
            );
            let p0 = -FOURIER_SIGN * 2.0 * std::f64::consts::PI * (u * l0 + v * m0);
            let p1 = -FOURIER_SIGN * 2.0 * std::f64::consts::PI * (u * l1 + v * m1);
            let re = p0.cos() + 0.3 * p1.cos() + 0.2 * (uniform() - 0.5);
            let im = p0.sin() + 0.3 * p1.sin() + 0.2 * (uniform() - 0.5);
            vis[[r, c]] = Complex32::new(re as f32, im as f32);
            weight[[r, c]] = (0.5 + uniform()) as f32;
        }
    }
    AlmaLike {
        uvw_m,
        freq_hz,
        vis,
        weight,
        cell_rad,
    }
}

/// CPU time of the whole process (all threads), seconds.
fn process_cpu_s() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant of the platform.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    ts.tv_sec as f64 + 1e-9 * ts.tv_nsec as f64
}

fn write_raw(path: &std::path::Path, bytes: impl Iterator<Item = [u8; 8]>) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    for b in bytes {
        f.write_all(&b)?;
    }
    f.flush()
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let get = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .map(|i| args[i + 1].clone())
    };
    let nx: usize = get("--nx").map_or(Ok(1024), |s| s.parse())?;
    let eps: f64 = get("--eps").map_or(Ok(1e-5), |s| s.parse())?;
    let nthreads: usize = get("--nthreads").map_or(Ok(1), |s| s.parse())?;
    let repeat: usize = get("--repeat").map_or(Ok(3), |s| s.parse())?;
    let ntime: usize = get("--ntime").map_or(Ok(277), |s| s.parse())?;
    let data = alma_like(ntime, nx);
    let spec = GridSpec {
        nx,
        ny: nx,
        cell_x_rad: data.cell_rad,
        cell_y_rad: data.cell_rad,
        epsilon: eps,
    };
    let g = Gridder::new(spec)?;
    let (mut t_grid, mut t_fft) = (f64::INFINITY, f64::INFINITY);
    let mut cpu = f64::INFINITY;
    let mut image = Array2::zeros((nx, nx));
    let mut nvis = 0;
    for _ in 0..repeat {
        let mut grid = g.new_grid();
        let c0 = process_cpu_s();
        let t0 = Instant::now();
        let st = g.grid_vis(
            &mut grid,
            data.uvw_m.view(),
            &data.freq_hz,
            data.vis.view(),
            data.weight.view(),
            nthreads,
        )?;
        let t1 = Instant::now();
        // The engine's path: the grid transformed in place (no (ny, nu) work array).
        let img = g.grid_into_image(grid, 1.0, nthreads)?;
        let t2 = Instant::now();
        cpu = cpu.min(process_cpu_s() - c0);
        // Widened for the comparison file only, outside the timing (ducc0 returns its image
        // in the precision of its inputs, unconverted).
        image = img.mapv(f64::from);
        nvis = st.n_gridded;
        t_grid = t_grid.min((t1 - t0).as_secs_f64());
        t_fft = t_fft.min((t2 - t1).as_secs_f64());
    }
    if let Some(dir) = get("--write") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir)?;
        write_raw(
            &dir.join("uvw_f64.bin"),
            data.uvw_m.iter().map(|x| x.to_le_bytes()),
        )?;
        write_raw(
            &dir.join("freq_f64.bin"),
            data.freq_hz.iter().map(|x| x.to_le_bytes()),
        )?;
        write_raw(
            &dir.join("vis_c64.bin"),
            data.vis.iter().map(|z| {
                let mut b = [0u8; 8];
                b[..4].copy_from_slice(&z.re.to_le_bytes());
                b[4..].copy_from_slice(&z.im.to_le_bytes());
                b
            }),
        )?;
        let w: Vec<u8> = data.weight.iter().flat_map(|x| x.to_le_bytes()).collect();
        std::fs::write(dir.join("weight_f32.bin"), w)?;
        write_raw(
            &dir.join("image_f64.bin"),
            image.iter().map(|x| x.to_le_bytes()),
        )?;
    }
    let (nv, nu) = g.grid_shape();
    println!(
        "{{\"nx\": {nx}, \"nrow\": {}, \"nchan\": {}, \"nvis\": {nvis}, \"cell_rad\": {:e}, \"epsilon\": {eps:e}, \
         \"nthreads\": {nthreads}, \"support\": {}, \"sigma\": {}, \"nu\": {nu}, \"nv\": {nv}, \
         \"precision\": \"{:?}\", \"grid_s\": {t_grid:.6}, \"fft_s\": {t_fft:.6}, \"total_s\": {:.6}, \
         \"cpu_s\": {cpu:.6}, \"vis_per_s\": {:.1}}}",
        data.uvw_m.nrows(),
        data.freq_hz.len(),
        data.cell_rad,
        g.kernel_support(),
        g.oversampling(),
        g.precision(),
        t_grid + t_fft,
        nvis as f64 / (t_grid + t_fft)
    );
    Ok(())
}
