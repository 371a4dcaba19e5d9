use super::*;

/// `mosaic()` with its beams at `freq_hz`.
fn mosaic_at(freq_hz: f64) -> MosaicGridder {
    let m = mosaic();
    MosaicGridder::new(
        m.gridder().clone(),
        1,
        beam(),
        m.pointings().to_vec(),
        [24.0, 24.0],
        freq_hz,
    )
}

/// Channel `c` of an observation alone.
fn channel(o: &Obs, c: usize) -> Obs {
    let col = |a: &Array2<f32>| a.select(Axis(1), &[c]);
    Obs {
        uvw: o.uvw.clone(),
        freq: vec![o.freq[c]],
        vis: o.vis.select(Axis(1), &[c]),
        wgt: col(&o.wgt),
        field: o.field.clone(),
    }
}

/// The largest |value| of `a`.
fn max_abs(a: &Array2<f32>) -> f32 {
    a.iter().fold(0f32, |m, v| m.max(v.abs()))
}

/// max |a - b|.
fn diff(a: &Array2<f32>, b: &Array2<f32>) -> f32 {
    Zip::from(a)
        .and(b)
        .fold(0f32, |m, x, y| m.max((x - y).abs()))
}

/// The PSF pass's image and weight image of mosaic `m` on `o`.
fn psf_and_weight(m: &MosaicGridder, o: &Obs) -> (Array2<f32>, Array2<f32>) {
    let mut planes = m.new_planes(Pass::Psf);
    // The weights alone (a PSF pass given visibilities grids them: an mtmfs mosaic's PSF terms).
    let weights = VisBatch::new(o.uvw.view(), &o.freq, o.wgt.view()).with_fields(&o.field);
    m.grid(&mut planes, &weights).unwrap();
    let w = m.weight_image(&planes, 1.0).unwrap().unwrap();
    (m.images(planes, 1.0).unwrap().remove(0), w)
}

/// Beams per data channel (an mfs plane over 90 and 110 GHz): the PSF pass, the weight image and
/// prediction equal the sums (columns) of one single-frequency mosaic per channel, to f32
/// rounding (1e-5 of the scale), and differ from the plane-frequency beams by far more (the
/// Gaussian beam's width changes by 20% over the band).
#[test]
fn beams_per_data_channel() {
    let mut o = obs(200);
    o.freq = vec![90e9, 110e9];
    o.uvw.mapv_inplace(|v| v * 0.9);
    let wide = mosaic_at(100e9).with_beam_frequencies(vec![90e9, 110e9]);
    let single = [mosaic_at(90e9), mosaic_at(110e9)];
    let parts = [channel(&o, 0), channel(&o, 1)];
    let (psf, w) = psf_and_weight(&wide, &o);
    let (p0, w0) = psf_and_weight(&single[0], &parts[0]);
    let (p1, w1) = psf_and_weight(&single[1], &parts[1]);
    let (psf_sum, w_sum) = (&p0 + &p1, &w0 + &w1);
    assert!(diff(&psf, &psf_sum) < 1e-5 * max_abs(&psf_sum));
    assert!(diff(&w, &w_sum) < 1e-5 * max_abs(&w_sum));
    let (psf_plane, w_plane) = psf_and_weight(&mosaic_at(100e9), &o);
    assert!(diff(&psf_plane, &psf_sum) > 1e-3 * max_abs(&psf_sum));
    assert!(diff(&w_plane, &w_sum) > 1e-3 * max_abs(&w_sum));
    // Prediction: each channel from its own beam.
    let model = Array2::from_shape_fn((N, N), |(y, x)| ((x * 7 + y * 3) % 11) as f32 - 5.0);
    let predict = |m: &MosaicGridder, o: &Obs| {
        let planes = m.model_planes(&[model.view()]).unwrap();
        let mut out = Array2::<Complex32>::zeros((o.uvw.nrows(), o.freq.len()));
        m.predict(&planes, &batch(o), out.view_mut()).unwrap();
        out
    };
    let pred = predict(&wide, &o);
    for (c, (m, part)) in single.iter().zip(&parts).enumerate() {
        let want = predict(m, part);
        let scale = want.iter().fold(0f32, |a, v| a.max(v.norm()));
        let err = (0..o.uvw.nrows())
            .map(|r| (pred[[r, c]] - want[[r, 0]]).norm())
            .fold(0f32, f32::max);
        assert!(err < 1e-5 * scale, "channel {c}: {err} of {scale}");
    }
}

/// tclean's `conjbeams` over 90 and 110 GHz about 100 GHz: each channel's dirty image goes
/// through the beam at its conjugate frequency (the PSF pass is the sum of single-frequency
/// mosaics at 109.1 and 88.9 GHz fed with the 90 and 110 GHz channels, to the ripple of the
/// kernels' resampling, `ftgrid.rs` `FtKernels::conjugate`), the weight screens are
/// `PB(nu) PB(nu')`, which for this Gaussian beam (width ~ 1/nu) is `PB(100 GHz)^2`: the weight
/// image equals the plane-frequency mosaic's (1e-3; conjbeams=False: 9.7e-3), prediction keeps each channel's
/// own beam (equal to the conjbeams=False mosaic's to the bit).
#[test]
fn conjugate_beams() {
    let conj = |f: f64| conjugate_freq(f, 100e9).unwrap();
    assert!((conj(90e9) - 11_900f64.sqrt() * 1e9).abs() < 1.0);
    assert_eq!(conj(100e9), 100e9);
    assert!(conjugate_freq(150e9, 100e9).is_none());
    assert!(conjugate_band_error(&[90e9, 150e9], 100e9)
        .unwrap()
        .contains("150.000000 GHz"));
    let mut o = obs(200);
    o.freq = vec![90e9, 110e9];
    o.uvw.mapv_inplace(|v| v * 0.9);
    let plain = mosaic_at(100e9).with_beam_frequencies(vec![90e9, 110e9]);
    let wide = plain.clone().with_conjugate_beams(true);
    let single = [mosaic_at(conj(90e9)), mosaic_at(conj(110e9))];
    let parts = [channel(&o, 0), channel(&o, 1)];
    let (psf, w) = psf_and_weight(&wide, &o);
    let psf_sum =
        &psf_and_weight(&single[0], &parts[0]).0 + &psf_and_weight(&single[1], &parts[1]).0;
    let (psf_plain, w_plain) = psf_and_weight(&plain, &o);
    let e_conj = diff(&psf, &psf_sum) / max_abs(&psf_sum);
    let e_plain = diff(&psf_plain, &psf_sum) / max_abs(&psf_sum);
    // The stretched kernel is the conjugate frequency's up to its truncation at the data
    // frequency's support and Lanczos-3's ripple at fractional samples (its weights sum to
    // 1 +- 5.7e-3 per axis: 1.1e-2 of the kernel in 2-D): 8.2e-3 measured; the kernels of the
    // data frequencies (conjbeams=False) 1.9e-2, the ratio inverted (a stretch by nu / nu')
    // about twice that.
    assert!(e_conj < 1.2e-2 && e_plain > 1.5e-2, "{e_conj} {e_plain}");
    let w_centre = psf_and_weight(&mosaic_at(100e9), &o).1;
    // 5.5e-4 measured: the beam is a sampled radial table (PBMath1D), not exactly Gaussian.
    let d = diff(&w, &w_centre) / max_abs(&w_centre);
    let d_plain = diff(&w_plain, &w_centre) / max_abs(&w_centre);
    assert!(d < 1e-3 && d_plain > 5e-3, "{d} {d_plain}");
    let model = Array2::from_shape_fn((N, N), |(y, x)| ((x * 5 + y * 3) % 7) as f32 - 3.0);
    let predict = |m: &MosaicGridder| {
        let planes = m.model_planes(&[model.view()]).unwrap();
        let mut out = Array2::<Complex32>::zeros((o.uvw.nrows(), o.freq.len()));
        m.predict(&planes, &batch(&o), out.view_mut()).unwrap();
        out
    };
    assert_eq!(predict(&wide), predict(&plain));
}

/// Taylor-weighted weight images (an mtmfs mosaic's `.weight.ttN`, `VisBatch::weight_factor_rc`):
/// with factors -1 on the 90 GHz channel and 2 on the 110 GHz one, the weight image is -1 times
/// the 90 GHz channel's plus 2 times the 110 GHz channel's (each alone, factors 1) to f32
/// rounding, with and without conjbeams; the planes and the image are those without factors to
/// the bit (the factors reach the weight image only).
#[test]
fn weight_factors_reach_the_weight_image_only() {
    let mut o = obs(200);
    o.freq = vec![90e9, 110e9];
    o.uvw.mapv_inplace(|v| v * 0.9);
    let factors = Array2::from_shape_fn((o.uvw.nrows(), 2), |(_, c)| [-1.0f32, 2.0][c]);
    for conj in [false, true] {
        let wide = mosaic_at(100e9)
            .with_beam_frequencies(vec![90e9, 110e9])
            .with_conjugate_beams(conj);
        let weighted = |pass: Pass| {
            let mut planes = wide.new_planes(pass);
            // (A PSF pass of the weights alone: given visibilities it grids them.)
            let b = match pass {
                Pass::Psf => {
                    VisBatch::new(o.uvw.view(), &o.freq, o.wgt.view()).with_fields(&o.field)
                }
                _ => batch(&o),
            };
            let b = b.with_weight_factors(factors.view());
            wide.grid(&mut planes, &b).unwrap();
            let w = wide.weight_image(&planes, 1.0).unwrap().unwrap();
            (wide.images(planes, 1.0).unwrap().remove(0), w)
        };
        let (psf, w) = weighted(Pass::Psf);
        let (psf_plain, _) = psf_and_weight(&wide, &o);
        assert_eq!(psf, psf_plain, "conjbeams {conj}");
        // Each channel alone through the same wideband gridder (its grids of the other band
        // stay empty).
        let w0 = psf_and_weight(&wide, &channel(&o, 0)).1;
        let w1 = psf_and_weight(&wide, &channel(&o, 1)).1;
        let want = &w1 * 2.0 - &w0;
        let err = diff(&w, &want);
        assert!(err < 1e-5 * max_abs(&want), "conjbeams {conj}: {err}");
        // The residual pass's band response and image do not see the factors either.
        let (res, _) = weighted(Pass::Residual);
        let mut planes = wide.new_planes(Pass::Residual);
        wide.grid(&mut planes, &batch(&o)).unwrap();
        assert_eq!(res, wide.images(planes, 1.0).unwrap().remove(0));
    }
}
