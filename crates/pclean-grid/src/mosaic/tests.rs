//! The mosaic gridder against a direct Fourier transform with each pointing's beam, adjointness
//! of gridding and prediction, the weight image, and mixed-field batches against split ones.

use super::*;
use crate::gridder::{GridSpec, FOURIER_SIGN};
use num_complex::Complex64;
use std::f64::consts::PI;

const C: f64 = 299_792_458.0;
const N: usize = 48;
const CELL: f64 = 2e-6;

/// A Gaussian power pattern of 30 pixels FWHM at 100 GHz (`gauss` takes the VP half width).
fn beam() -> PbModel {
    let fwhm_arcmin = 30.0 * CELL.to_degrees() * 60.0;
    PbModel::gauss(
        fwhm_arcmin * 2f64.sqrt() / 2.0,
        10.0 * fwhm_arcmin,
        100.0,
        true,
    )
}

struct Obs {
    uvw: Array2<f64>,
    freq: Vec<f64>,
    vis: Array2<Complex32>,
    wgt: Array2<f32>,
    field: Vec<i32>,
}

/// Deterministic pseudo-random rows over two fields (interleaved).
fn obs(nrow: usize) -> Obs {
    let mut s = 12345u64;
    let mut rnd = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64) / ((1u64 << 53) as f64)
    };
    let freq = vec![100e9, 100.2e9];
    let umax = 0.45 / CELL * C / 100.2e9;
    let uvw = Array2::from_shape_fn((nrow, 3), |(_, c)| {
        if c < 2 {
            (2.0 * rnd() - 1.0) * umax
        } else {
            0.0
        }
    });
    let vis = Array2::from_shape_fn((nrow, 2), |_| {
        Complex32::new(rnd() as f32 - 0.5, rnd() as f32 - 0.5)
    });
    let wgt = Array2::from_shape_fn((nrow, 2), |_| 0.5 + rnd() as f32);
    let field = (0..nrow).map(|r| [3, 7][r % 3 % 2]).collect();
    Obs {
        uvw,
        freq,
        vis,
        wgt,
        field,
    }
}

fn mosaic() -> MosaicGridder {
    let spec = GridSpec {
        nx: N,
        ny: N,
        cell_x_rad: CELL,
        cell_y_rad: CELL,
        epsilon: 1e-7,
    };
    let g = Gridder::new(spec).unwrap();
    let pointings = vec![
        Pointing {
            field_id: 3,
            centre_px: [24.0, 24.0],
        },
        Pointing {
            field_id: 7,
            centre_px: [31.3, 18.6],
        },
    ];
    MosaicGridder::new(g, 1, beam(), pointings, [24.0, 24.0], 100.1e9)
}

fn batch(o: &Obs) -> VisBatch<'_> {
    VisBatch::new(o.uvw.view(), &o.freq, o.wgt.view())
        .with_vis(o.vis.view())
        .with_fields(&o.field)
}

/// `sum_p PB_p(x) sum_k w_k Re[V_k exp(s 2 pi i (u l + v m))]` by brute force.
fn dft(m: &MosaicGridder, o: &Obs) -> Array2<f64> {
    let beams: Vec<Array2<f32>> = m
        .pointings()
        .iter()
        .map(|p| m.beam_at(p.centre_px))
        .collect();
    Array2::from_shape_fn((N, N), |(y, x)| {
        let l = ((N / 2) as f64 - x as f64) * CELL;
        let mm = (y as f64 - (N / 2) as f64) * CELL;
        let mut acc = 0.0;
        for r in 0..o.uvw.nrows() {
            let slot = m.slot(o.field[r]).unwrap();
            for (c, f) in o.freq.iter().enumerate() {
                let (u, v) = (o.uvw[[r, 0]] * f / C, o.uvw[[r, 1]] * f / C);
                let ph = FOURIER_SIGN * 2.0 * PI * (u * l + v * mm);
                let z = o.vis[[r, c]];
                let z = Complex64::new(z.re as f64, z.im as f64);
                let val = (z * Complex64::new(ph.cos(), ph.sin())).re;
                acc += o.wgt[[r, c]] as f64 * val * beams[slot][[y, x]] as f64;
            }
        }
        acc
    })
}

/// The residual pass is the DFT of each pointing times its beam (epsilon 1e-7 requested; the
/// tolerance 1e-5 of the image's scale covers the f32 image and beams).
#[test]
fn residual_matches_dft_with_beams() {
    let (m, o) = (mosaic(), obs(300));
    let mut planes = m.new_planes(Pass::Residual);
    let st = m.grid(&mut planes, &batch(&o)).unwrap();
    assert_eq!(st.n_gridded, 600);
    let img = m.images(planes, 1.0).unwrap().remove(0);
    let want = dft(&m, &o);
    let scale = want.iter().fold(0f64, |a, v| a.max(v.abs()));
    let err = Zip::from(&img)
        .and(&want)
        .fold(0f64, |a, i, w| a.max((*i as f64 - w).abs()));
    assert!(err < 1e-5 * scale, "max error {err} of {scale}");
}

/// Prediction is the adjoint of the residual pass: `<M, grid(V)> = Re sum w conj(pred(M)) V`.
#[test]
fn predict_is_adjoint_of_residual() {
    let (m, o) = (mosaic(), obs(200));
    let model = Array2::from_shape_fn((N, N), |(y, x)| ((x * 7 + y * 3) % 11) as f32 / 11.0);
    let mut planes = m.new_planes(Pass::Residual);
    m.grid(&mut planes, &batch(&o)).unwrap();
    let img = m.images(planes, 1.0).unwrap().remove(0);
    let lhs: f64 = Zip::from(&img)
        .and(&model)
        .fold(0.0, |a, i, mm| a + (*i as f64) * (*mm as f64));
    let mp = m.model_planes(&[model.view()]).unwrap();
    let mut pred = Array2::zeros((200, 2));
    m.predict(&mp, &batch(&o), pred.view_mut()).unwrap();
    let mut rhs = 0.0;
    for ((p, v), w) in pred.iter().zip(&o.vis).zip(&o.wgt) {
        let (p, v) = (
            Complex64::new(p.re as f64, p.im as f64),
            Complex64::new(v.re as f64, v.im as f64),
        );
        rhs += *w as f64 * (p.conj() * v).re;
    }
    assert!((lhs - rhs).abs() < 1e-4 * lhs.abs(), "{lhs} vs {rhs}");
}

/// The weight image is `sum_p W_p PB_p^2`, and a mixed-field batch grids as its split parts.
#[test]
fn weight_image_and_split_batches() {
    let (m, o) = (mosaic(), obs(90));
    let mut whole = m.new_planes(Pass::Residual);
    m.grid(&mut whole, &batch(&o)).unwrap();
    let mut parts = m.new_planes(Pass::Residual);
    for f in [3, 7] {
        let rows: Vec<usize> = (0..90).filter(|r| o.field[*r] == f).collect();
        let sub = Obs {
            uvw: o.uvw.select(Axis(0), &rows),
            freq: o.freq.clone(),
            vis: o.vis.select(Axis(0), &rows),
            wgt: o.wgt.select(Axis(0), &rows),
            field: vec![f; rows.len()],
        };
        let mut p = m.new_planes(Pass::Residual);
        m.grid(&mut p, &batch(&sub)).unwrap();
        parts.add_assign(&p).unwrap();
    }
    assert_eq!(whole, parts);
    let w = m.weight_image(&whole, 0.5).unwrap().unwrap();
    let sums: Vec<f64> = [3, 7]
        .iter()
        .map(|f| {
            (0..90)
                .filter(|r| o.field[*r] == *f)
                .map(|r| o.wgt.row(r).iter().map(|v| *v as f64).sum::<f64>())
                .sum()
        })
        .collect();
    let b: Vec<Array2<f32>> = m
        .pointings()
        .iter()
        .map(|p| m.beam_at(p.centre_px))
        .collect();
    for (y, x) in [(24, 24), (18, 31), (5, 40)] {
        let want: f64 = (0..2)
            .map(|i| 0.5 * sums[i] * (b[i][[y, x]] as f64).powi(2))
            .sum();
        assert!(
            (w[[y, x]] as f64 - want).abs() <= 1e-6 * want.max(1e-30),
            "{y},{x}"
        );
    }
}

/// A FIELD_ID without a pointing is an error naming the field, not silently dropped.
#[test]
fn unknown_field_is_an_error() {
    let (m, mut o) = (mosaic(), obs(10));
    o.field[4] = 99;
    let mut planes = m.new_planes(Pass::Psf);
    let e = m.grid(&mut planes, &batch(&o)).unwrap_err().to_string();
    assert!(e.contains("FIELD_ID") && e.contains("99"), "{e}");
}

/// The PSF pass is the residual pass of unit visibilities (each pointing's PSF through its own
/// beam, as tclean's mosaic PSF without `psfphasecenter`).
#[test]
fn psf_is_the_residual_of_unit_visibilities() {
    let (m, mut o) = (mosaic(), obs(120));
    let mut psf = m.new_planes(Pass::Psf);
    m.grid(&mut psf, &batch(&o)).unwrap();
    let psf = m.images(psf, 1.0).unwrap().remove(0);
    o.vis.fill(Complex32::new(1.0, 0.0));
    let mut res = m.new_planes(Pass::Residual);
    m.grid(&mut res, &batch(&o)).unwrap();
    let res = m.images(res, 1.0).unwrap().remove(0);
    let peak = res.iter().fold(0f32, |a, v| a.max(v.abs()));
    let err = Zip::from(&psf)
        .and(&res)
        .fold(0f32, |a, p, r| a.max((p - r).abs()));
    assert!(err <= 1e-6 * peak, "{err} of {peak}");
}
