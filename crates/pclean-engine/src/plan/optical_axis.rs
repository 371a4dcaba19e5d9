//! Cube channels equally spaced in optical velocity (`veltype='optical'` with a velocity width):
//! the channel frequencies tclean computes.
//!
//! tclean takes the channels from `MSTransformRegridder::calcChanFreqs` (CASA 6.7,
//! `mstransform/MSTransform/MSTransformRegridder.cc`, `regridChanBounds` with
//! `regrid_quantity = "vopt"`), called by `SynthesisParamsImage::getImFreq`
//! (`synthesis/ImagerObjects/SynthesisUtilMethods.cc`). The algorithm, reimplemented here:
//! 1. `start` is the centre of the first channel; with a positive width (or none) the first
//!    channel is the highest in frequency. The band's centre velocity is `start + nchan width / 2`
//!    (minus for a negative width), its centre frequency `f(v_centre)` and its bandwidth the
//!    frequency span `|f(start - width/2) - f(start - width/2 + nchan width)|`.
//! 2. The central channel is built in frequency around that centre (straddling it for an odd
//!    channel count, starting at it for an even one), `2 (f(v_c - width/2) - f(v_c))` wide; the
//!    velocity step of all other channels is that central channel's width in velocity.
//! 3. Channel edges are then added outwards, equally spaced in optical velocity, while they stay
//!    within the band (1% of a channel tolerance); a channel's frequency is the midpoint of its
//!    two edge frequencies.
//!
//! Velocities are `v = c (f0 / f - 1)`; everything is in the output frame. CASA computes in
//! `long double`; double precision here changes frequencies by < 1e-6 Hz.

use pclean_core::SPEED_OF_LIGHT as C;

fn vopt(f: f64, rest: f64) -> f64 {
    C * (rest / f - 1.0)
}

fn freq_of(v: f64, rest: f64) -> f64 {
    rest / (1.0 + v / C)
}

/// What the optical-velocity grid is made from.
#[derive(Debug, Clone)]
pub struct OpticalRequest {
    /// Data channel centres in the output frame, ascending, Hz.
    pub data_hz: Vec<f64>,
    /// Their widths (positive), Hz.
    pub data_width_hz: Vec<f64>,
    pub restfreq_hz: f64,
    /// Centre of the first image channel, m/s (optical); `None`: tclean's default.
    pub start_mps: Option<f64>,
    /// Channel width, m/s (optical, signed); `None`: from the data.
    pub width_mps: Option<f64>,
    pub nchan: Option<usize>,
}

/// The image channel frequencies (Hz) in image order: descending for a positive (or default)
/// velocity width, ascending for a negative one.
pub fn optical_channels(req: &OpticalRequest) -> Result<Vec<f64>, String> {
    let (x, w) = (&req.data_hz, &req.data_width_hz);
    let n_old = x.len();
    if n_old == 0 {
        return Err("no data channels".into());
    }
    let rest = req.restfreq_hz;
    let (x0, w0, xl, wl) = (x[0], w[0], x[n_old - 1], w[n_old - 1]);
    let cwidth = req.width_mps.map_or(-1.0, f64::abs);
    // A positive velocity width runs down in frequency: start is then the top of the band.
    let start_is_end = req.width_mps.is_none_or(|v| v >= 0.0);
    let mut center_is_start = true;
    let mut nchan: i64 = req.nchan.map_or(-1, |n| n as i64);

    // Step 1: the requested band in frequency.
    let (mut center_f, mut center_v);
    let start_given = req.start_mps.is_some();
    if let Some(start) = req.start_mps {
        let tc_width = if cwidth > 0.0 {
            cwidth
        } else {
            vopt(x0 - w0 / 2.0, rest) - vopt(x0 + w0 / 2.0, rest)
        };
        center_v = if start_is_end {
            start - tc_width / 2.0
        } else {
            start + tc_width / 2.0
        };
        center_f = freq_of(center_v, rest);
    } else {
        center_f = (x0 - w0 + xl + wl) / 2.0;
        center_v = vopt(center_f, rest);
        center_is_start = false;
    }
    let mut bandwidth_f = -1.0;
    if nchan > 0 {
        let cw = if cwidth > 0.0 {
            cwidth
        } else {
            (vopt(x0 - w0, rest) - vopt(x0 + w0, rest)).abs()
        };
        let div = if center_is_start { 1.0 } else { 0.5 };
        let span = nchan as f64 * cw * div;
        let end_f = if center_is_start && !start_is_end {
            freq_of(center_v - span, rest)
        } else {
            freq_of(center_v + span, rest)
        };
        bandwidth_f = (end_f - center_f).abs() / div;
        if center_is_start {
            let half = nchan as f64 * cw / 2.0;
            center_v += if start_is_end { half } else { -half };
            center_f = freq_of(center_v, rest);
            center_is_start = false;
        }
        nchan = 0;
    }
    let mut chan_width_f = -1.0;
    if cwidth > 0.0 {
        chan_width_f = 2.0 * (freq_of(center_v - cwidth / 2.0, rest) - freq_of(center_v, rest));
    }

    // Step 2: the band actually used, kept within the data.
    let lo_edge = x0 - w0 / 2.0;
    let hi_edge = xl + wl / 2.0;
    let mut the_center = center_f;
    if the_center - hi_edge > 1.0 {
        the_center = hi_edge;
    } else if the_center < lo_edge {
        the_center = lo_edge;
    }
    let mut the_bw;
    if bandwidth_f <= 0.0 || nchan != 0 {
        the_bw = xl - x0 + w0 / 2.0 + wl / 2.0;
        if nchan != 0 {
            if !start_given {
                the_center = x0 - w0 / 2.0 + the_bw / 2.0;
                center_is_start = false;
            } else if nchan < 0 {
                if center_is_start {
                    the_bw = if start_is_end {
                        the_center - x0 + w0 / 2.0
                    } else {
                        hi_edge - the_center
                    };
                } else {
                    the_bw = 2.0 * (the_center - x0 - w0).min(xl + wl - the_center);
                }
            }
        }
        if center_is_start {
            the_center += if start_is_end {
                -the_bw / 2.0
            } else {
                the_bw / 2.0
            };
        }
    } else {
        the_bw = bandwidth_f;
        // Optical grids are centred in wavelength, so a channel of slack is allowed.
        let tol = w0;
        let too_high = (the_center + the_bw / 2.0) - hi_edge > tol;
        let too_low = (the_center - the_bw / 2.0) - lo_edge < -tol;
        if too_high || too_low {
            return Err(format!(
                "the requested channels ({:.0} to {:.0} Hz) extend beyond the selected data \
                 ({lo_edge:.0} to {hi_edge:.0} Hz)",
                the_center - the_bw / 2.0,
                the_center + the_bw / 2.0
            ));
        }
    }
    let mut chan_width_x = -1.0;
    let central_w = if chan_width_f <= 0.0 {
        w0
    } else if chan_width_f > the_bw {
        the_bw
    } else if chan_width_f < w0 {
        let smallest = w.iter().copied().fold(f64::INFINITY, f64::min);
        if chan_width_f < smallest - 1.0 {
            return Err(format!(
                "the channel width ({chan_width_f:.1} Hz) is narrower than the data's \
                 ({smallest:.1} Hz)"
            ));
        }
        chan_width_x = cwidth;
        chan_width_f
    } else {
        chan_width_f
    };

    // Step 3: edges equidistant in optical velocity, outwards from the central channel.
    let edge_tol = central_w * 0.01;
    let upper_f = the_center + the_bw / 2.0;
    let lower_f = the_center - the_bw / 2.0;
    let upper_v = vopt(upper_f, rest);
    let lower_v = vopt(lower_f, rest);
    let tnum = ((the_bw + edge_tol) / central_w).floor() as i64;
    let (c_lo, c_hi) = if tnum % 2 != 0 {
        (the_center - central_w / 2.0, the_center + central_w / 2.0)
    } else {
        (the_center, the_center + central_w)
    };
    if chan_width_x < 0.0 {
        chan_width_x = vopt(c_lo, rest) - vopt(c_hi, rest);
    }
    let mut up = vec![(c_lo, c_hi)];
    let mut v_hi = vopt(c_hi, rest) - chan_width_x;
    while upper_v - v_hi < chan_width_x / 10.0 {
        let f_hi = freq_of(v_hi, rest);
        if f_hi > upper_f + edge_tol {
            break;
        }
        let last = up[up.len() - 1].1;
        up.push((last, f_hi));
        v_hi = vopt(f_hi, rest) - chan_width_x;
    }
    let mut down = vec![(c_lo, c_hi)];
    let mut v_lo = vopt(c_lo, rest) + chan_width_x;
    while v_lo - lower_v < chan_width_x / 10.0 {
        let f_lo = freq_of(v_lo, rest);
        if f_lo < lower_f - edge_tol {
            break;
        }
        let last = down[down.len() - 1].0;
        down.push((f_lo, last));
        v_lo = vopt(f_lo, rest) + chan_width_x;
    }
    let mut bounds: Vec<(f64, f64)> = down.into_iter().rev().collect();
    bounds.extend(up.into_iter().skip(1));
    let mut freqs: Vec<f64> = bounds.iter().map(|(a, b)| (a + b) / 2.0).collect();
    if start_is_end {
        freqs.reverse();
    }
    if let Some(n) = req.nchan {
        if freqs.len() < n {
            return Err(format!(
                "nchan={n}: only {} channels of this optical-velocity width fit in the selected data",
                freqs.len()
            ));
        }
        freqs.truncate(n);
    }
    Ok(freqs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NGC5921's channels (LSRK).
    fn ngc() -> OpticalRequest {
        let x: Vec<f64> = (0..63)
            .map(|i| 1412665073.7685 + i as f64 * 24414.0625)
            .collect();
        OpticalRequest {
            data_width_hz: vec![24414.0625; 63],
            data_hz: x,
            restfreq_hz: 1420405752.0,
            start_mps: Some(1480e3),
            width_mps: Some(10e3),
            nchan: Some(10),
        }
    }

    #[test]
    fn matches_tclean_ngc5921_optical_grid() {
        // tclean 6.7.0 (start='1480km/s', width='10km/s', nchan=10, veltype='optical'):
        // the image's tabular spectral axis.
        let tclean = [
            1413428010.107994,
            1413381097.1690927,
            1413334187.3442528,
            1413287280.6331644,
            1413240377.0355172,
            1413193476.5510013,
            1413146579.179307,
            1413099684.9201238,
            1413052793.7731423,
            1413005905.738053,
        ];
        let got = optical_channels(&ngc()).unwrap();
        assert_eq!(got.len(), 10);
        for (g, t) in got.iter().zip(tclean) {
            // 1 mHz: long double in CASA against double here.
            assert!((g - t).abs() < 1e-3, "{g} vs {t}");
        }
        // Equal steps in optical velocity, not in frequency.
        let df: Vec<f64> = got.windows(2).map(|p| p[1] - p[0]).collect();
        assert!((df[0] - df[8]).abs() > 20.0);
    }

    #[test]
    fn negative_width_ascends_and_too_many_channels_is_an_error() {
        let mut r = ngc();
        r.width_mps = Some(-10e3);
        r.start_mps = Some(1600e3);
        let f = optical_channels(&r).unwrap();
        assert!(f.windows(2).all(|p| p[1] > p[0]));
        let mut r = ngc();
        r.nchan = Some(40);
        assert!(optical_channels(&r).unwrap_err().contains("beyond"));
    }
}
