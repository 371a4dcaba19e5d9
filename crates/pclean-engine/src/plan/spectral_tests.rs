//! Tests of the channel-grid planner (`plan::spectral`).

use super::*;
use pclean_core::params::RawParams;

fn params(extra: impl FnOnce(&mut RawParams)) -> ImagingParams {
    let mut r = RawParams {
        vis: Some(vec!["x.ms".into()]),
        imagename: Some("o".into()),
        specmode: Some("cube".into()),
        outframe: Some("LSRK".into()),
        ..Default::default()
    };
    extra(&mut r);
    ImagingParams::from_raw(&r).unwrap()
}

fn ctx() -> FrameContext {
    FrameContext {
        observatory_itrf_m: [-1601185.365, -5041977.547, 3554875.87],
        direction: Direction::parse("J2000 15h22m00 +05d04m00").unwrap(),
        first_time_mjd_s: 4.3e9,
        field_dirs: vec![vec![Direction::parse("J2000 15h22m00 +05d04m00").unwrap()]],
        source_restfreq_hz: None,
        earth: Default::default(),
        ephemeris: None,
    }
}

fn sel() -> SpwSelection {
    SpwSelection {
        ms_index: 0,
        spw_id: 0,
        channels: (0..63).collect(),
        chan_freq_hz: (0..63)
            .map(|i| 1.412665e9 + i as f64 * 24414.0625)
            .collect(),
        chan_width_hz: vec![24414.0625; 63],
        frame: "LSRK".into(),
        epochs: vec![(4.3e9, 0), (4.3e9 + 1800.0, 0)],
    }
}

/// Four windows of 8 x 32 MHz channels from 1.000, 1.256, 1.512, 1.768 GHz (vla_wideband):
/// the default cube spans them all (tclean 6.7: 32 channels), every window mapped onto it.
fn wideband(spw: usize, f0: f64) -> SpwSelection {
    wideband_n(spw, f0, 32e6, 8)
}

fn wideband_n(spw: usize, f0: f64, w: f64, n: usize) -> SpwSelection {
    SpwSelection {
        spw_id: spw,
        channels: (0..n).collect(),
        chan_freq_hz: (0..n).map(|i| f0 + i as f64 * w).collect(),
        chan_width_hz: vec![w; n],
        frame: "TOPO".into(),
        ..sel()
    }
}

#[test]
fn default_cube_spans_every_selected_window() {
    let p = params(|r| r.outframe = Some("TOPO".into()));
    let sels: Vec<_> = (0..4)
        .map(|s| wideband(s, 1.0e9 + s as f64 * 256e6))
        .collect();
    let plan = spectral_plan(&p, &sels, &ctx()).unwrap();
    assert_eq!(plan.nchan(), 32);
    assert!((plan.freqs_hz[31] - 1.992e9).abs() < 1e-3);
    assert_eq!(plan.chan_map[&(0, 3)][7], Some(31));
    assert_eq!(plan.chan_map[&(0, 1)][0], Some(8));
    // A window off that grid (evla_lband_pb, tclean 6.7: 9 channels from 1.250 GHz).
    let ev = vec![
        wideband_n(0, 1.250e9, 64e6, 2),
        wideband_n(1, 1.750e9, 64e6, 2),
    ];
    let plan = spectral_plan(&p, &ev, &ctx()).unwrap();
    assert_eq!(plan.nchan(), 9);
    assert!((plan.freqs_hz[8] - 1.762e9).abs() < 1e-3);
    // A window of another channel width is refused, naming spw.
    let other = vec![sels[0].clone(), wideband_n(1, 1.5e9, 16e6, 8)];
    let e = spectral_plan(&p, &other, &ctx()).unwrap_err().to_string();
    assert!(e.contains("spw"), "{e}");
    // Windows within the first's range (here the same channels, as a second MS's) leave the
    // first's grid as it was.
    let inner = vec![sels[0].clone(), wideband(1, 1.0e9)];
    assert_eq!(spectral_plan(&p, &inner, &ctx()).unwrap().nchan(), 8);
}

#[test]
fn ngc5921_cube_plan() {
    let p = params(|r| {
        r.nchan = Some(46);
        r.start = Some("5".into());
        r.width = Some("1".into());
    });
    let plan = spectral_plan(&p, &[sel()], &ctx()).unwrap();
    assert_eq!(plan.nchan(), 46);
    assert_eq!(plan.freqs_hz[0], 1.412665e9 + 5.0 * 24414.0625);
    let m = &plan.chan_map[&(0, 0)];
    assert_eq!(m[4], None);
    assert_eq!(m[5], Some(0));
    assert_eq!(m[50], Some(45));
    assert_eq!(m[51], None);
}

#[test]
fn velocity_start_without_width_runs_down_in_frequency() {
    // tclean 6.7.0 on NGC5921 (start='1500km/s', nchan=5, radio): 1413298806.607798 Hz, then
    // one data channel lower per channel.
    let p = params(|r| {
        r.restfreq = Some(vec!["1420.405752MHz".into()]);
        r.start = Some("1500km/s".into());
        r.nchan = Some(5);
    });
    let plan = spectral_plan(&p, &[sel()], &ctx()).unwrap();
    assert_eq!(plan.cdelt_hz, -24414.0625);
    let f0 = 1420.405752e6 * (1.0 - 1500e3 / pclean_core::SPEED_OF_LIGHT);
    assert!((plan.freqs_hz[0] - f0).abs() < 1e-6);
}

#[test]
fn optical_velocity_widths_give_unequal_frequency_steps() {
    let p = params(|r| {
        r.restfreq = Some(vec!["1420.405752MHz".into()]);
        r.veltype = Some("optical".into());
        r.start = Some("1480km/s".into());
        r.width = Some("10km/s".into());
        r.nchan = Some(10);
    });
    let plan = spectral_plan(&p, &[sel()], &ctx()).unwrap();
    assert_eq!(plan.nchan(), 10);
    let f = &plan.freqs_hz;
    // Descending (positive velocity width), steps shrinking in magnitude.
    assert!(f.windows(2).all(|w| w[1] < w[0]));
    assert!((f[1] - f[0]).abs() > (f[9] - f[8]).abs() + 10.0);
    assert_eq!(plan.cdelt_hz, f[1] - f[0]);
    // Channel 4 is at exactly the optical velocity 1520 km/s (tclean's central channel).
    let c = pclean_core::SPEED_OF_LIGHT;
    let v4 = c * (1420.405752e6 / f[4] - 1.0);
    assert!((v4 - 1520e3).abs() < 1e-3, "{v4}");
    // A frequency start with an optical width is refused in one line.
    let p = params(|r| {
        r.restfreq = Some(vec!["1420.405752MHz".into()]);
        r.veltype = Some("optical".into());
        r.start = Some("1.4131GHz".into());
        r.width = Some("10km/s".into());
    });
    let e = spectral_plan(&p, &[sel()], &ctx()).unwrap_err().to_string();
    assert!(e.contains("start") && !e.contains('\n'), "{e}");
}

#[test]
fn width_two_groups_channels_and_frames_are_checked() {
    let p = params(|r| r.width = Some("2".into()));
    let plan = spectral_plan(&p, &[sel()], &ctx()).unwrap();
    assert_eq!(plan.nchan(), 31);
    assert_eq!(plan.chan_map[&(0, 0)][3], Some(1));
    // Two channels into another frame: the pair's mean frequency at the first integration.
    let p = params(|r| {
        r.outframe = Some("BARY".into());
        r.width = Some("2".into());
    });
    let plan = spectral_plan(&p, &[sel()], &ctx()).unwrap();
    let conv = plan.conversion.as_ref().unwrap();
    let fac0 = conv.factor(ctx().first_time_mjd_s).unwrap();
    assert_eq!(plan.nchan(), 31);
    let f = &sel().chan_freq_hz;
    assert!((plan.freqs_hz[0] - (f[0] + f[1]) / 2.0 * fac0).abs() < 1e-6);
    assert!((plan.cdelt_hz - 2.0 * 24414.0625 * fac0).abs() < 1e-6);
    // LSRK data imaged in BARY: a converted grid.
    let p = params(|r| r.outframe = Some("BARY".into()));
    let plan = spectral_plan(&p, &[sel()], &ctx()).unwrap();
    assert!(plan.conversion.is_some() && plan.frame == "BARY");
    let p = params(|r| r.nchan = Some(100));
    assert!(spectral_plan(&p, &[sel()], &ctx()).is_err());
}

/// A width wider than the selected band with no start: no whole channel fits. tclean fails
/// ("Linear transformation matrix is singular"); pclean names `width` and its value.
#[test]
fn width_wider_than_the_data_names_width() {
    // sel() spans 63 x 24.4 kHz = 1.54 MHz.
    let p = params(|r| r.width = Some("2MHz".into()));
    let e = spectral_plan(&p, &[sel()], &ctx()).unwrap_err();
    assert_eq!(e.param_name(), Some("width"));
    assert!(e.to_string().contains("width=2MHz"), "{e}");
}

/// tclean's LSRK axis of vla_wideband's 32-channel cube (4 windows x 8 x 32 MHz from 1 GHz),
/// both MSs: crval and cdelt as tclean 6.7 wrote them (and `ms.cvelfreqs` gives them), bit
/// for bit. The full MS's cdelt is the first channel's converted width, 1 ulp of the
/// channel frequency (32 ulp of cdelt) above the difference of the first two converted
/// channels, which the subset's happens to equal: the rule s12-wb could not pin down.
#[test]
fn vla_wideband_lsrk_axis_is_tcleans_to_the_bit() {
    use pclean_core::frames::{doppler_steps_with_dut1, FreqFrame, Observatory};
    let vla = Observatory {
        itrf_m: [-1601185.3650000016, -5041977.546999999, 3554875.8700000006],
    };
    let dir = Direction::new_j2000(-2.094395102393196, 0.5235987755982988);
    let freqs: Vec<f64> = (0..32).map(|i| 1e9 + 32e6 * i as f64).collect();
    let widths = vec![32e6; 32];
    // (first TIME, casacore's UT1 - UTC there, tclean's crval and cdelt).
    for (t, dut1, crval, cdelt) in [
        (
            5223938652.962216,
            -0.020582361838431595,
            999964147.8061167,
            31998852.729795694,
        ),
        (
            5223938592.962216,
            -0.020581938018990206,
            999964142.2603726,
            31998852.552331924,
        ),
    ] {
        let steps =
            doppler_steps_with_dut1(FreqFrame::Topo, FreqFrame::Lsrk, t, dut1, &vla, &dir).unwrap();
        let (img, d) = tclean_channel_grid(|f| steps.apply(f), &freqs, &widths, [0, 0], 1, 32);
        assert_eq!((img[0], d), (crval, cdelt), "epoch {t}");
        assert_eq!(img[31], crval + 31.0 * cdelt);
    }
}

/// `exact_sum` rounds `a + k b` once: against the two-step double sum where that rounds twice.
#[test]
fn edges_are_rounded_once() {
    let (a, b) = (983964715.9842067, 31998852.552331924);
    for k in 0..40 {
        let exact = exact_sum(a, k, b);
        // The exact value lies within half an ulp of the result.
        let err = (exact - a) - k as f64 * b;
        assert!(
            err.abs() <= exact.abs() * f64::EPSILON / 2.0 * 1.0001,
            "k {k}: {err}"
        );
    }
    assert_eq!(exact_sum(1.0, 3, 0.5), 2.5);
    assert_eq!(exact_sum(0.0, 3, 0.5), 1.5);
}
