//! Parallactic angles of integrations and tclean's A-term bins (`computepastep`,
//! `rotatepastep`).
//!
//! tclean's `awproject` (CASA 6.7, `VB2CFBMap`) looks up, for each integration (visibility
//! buffer), the convolution functions made for a parallactic angle within `computepastep` of the
//! integration's; when none is, it makes a new set at the integration's own angle. The angle is
//! the mean of the antennas' feed angles, the parallactic angle of the field at the array
//! (measured: the formula below with the *geocentric* latitude of the antennas' mean position
//! and the apparent hour angle and declination reproduces tclean's logged bin angles to 0.002
//! deg on `testdata/awproject`'s MS). [`bin_parallactic_angles`] reproduces the binning: in time
//! order, each integration joins the nearest existing bin within the step, else opens a bin at
//! its own angle.

use pclean_core::direction::{DirectionFrame, SkyContext, SkyFrameError};
use pclean_core::Direction;
use std::f64::consts::PI;

/// The parallactic angle (radians, east of north as CASA's) of `dir` seen from the ITRF position
/// `itrf_m` at `time_utc_mjd_s`, with UT1 - UTC `dut1_s`.
pub fn parallactic_angle(
    dir: &Direction,
    time_utc_mjd_s: f64,
    itrf_m: [f64; 3],
    dut1_s: f64,
) -> Result<f64, SkyFrameError> {
    let ctx = SkyContext::at(time_utc_mjd_s, itrf_m, dut1_s);
    let hd = dir.to_frame(DirectionFrame::Hadec, &ctx)?;
    let (ha, dec) = (hd.ra_rad, hd.dec_rad);
    let lat = itrf_m[2].atan2(itrf_m[0].hypot(itrf_m[1]));
    Ok((lat.cos() * ha.sin()).atan2(lat.sin() * dec.cos() - lat.cos() * dec.sin() * ha.cos()))
}

/// The A-term bins of a run: the angle of each bin (radians) and the bin of each integration.
#[derive(Clone, Debug, PartialEq)]
pub struct PaBins {
    /// Parallactic angle of each bin (radians), in order of creation.
    pub pa_rad: Vec<f64>,
    /// The bin of each integration given to [`bin_parallactic_angles`], in its order.
    pub bin_of: Vec<usize>,
}

impl PaBins {
    /// The number of integrations in each bin.
    pub fn counts(&self) -> Vec<usize> {
        let mut c = vec![0; self.pa_rad.len()];
        for b in &self.bin_of {
            c[*b] += 1;
        }
        c
    }
}

/// Absolute difference of two angles, wrapped to `[0, pi]`.
fn angle_diff(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(2.0 * PI);
    d.min(2.0 * PI - d)
}

/// tclean's binning of the integrations' parallactic angles `pa_rad` (in time order) by
/// `step_rad` (see the module docs). A step of 360 degrees or more gives one bin at the first
/// integration's angle.
pub fn bin_parallactic_angles(pa_rad: &[f64], step_rad: f64) -> PaBins {
    let mut bins: Vec<f64> = Vec::new();
    let mut bin_of = Vec::with_capacity(pa_rad.len());
    for &p in pa_rad {
        let nearest = bins
            .iter()
            .enumerate()
            .map(|(i, b)| (i, angle_diff(p, *b)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        match nearest {
            Some((i, d)) if d <= step_rad => bin_of.push(i),
            _ => {
                bin_of.push(bins.len());
                bins.push(p);
            }
        }
    }
    PaBins {
        pa_rad: bins,
        bin_of,
    }
}
