//! The antenna optics CASA's A-projection models for the (E)VLA: per receiver band the
//! subreflector height, the feed position (off the optical axis: the cause of beam squint for
//! circular feeds), the subreflector's angular size, the feed-leg (strut) geometry, the central
//! hole, the dish radius and the feed taper, and the shaped main-reflector surface.
//!
//! The numbers are CASA's defaults for observatory `EVLA` / `VLA`, antenna type `STANDARD`
//! (casadata's `nrao/VLA/responses/AntennaResponses` marks them `INTERNAL`: the ray-tracing
//! parameters are compiled into CASA, not read from a file). The surface is a fit of ours to
//! casadata's `nrao/VLA/VLA.surface` (height `z(r)` sampled every 1 cm out to 12.5 m): a
//! polynomial of degree 6 in `(r / 12.5 m)^2`, within 0.6 um of every tabulated height (the
//! table prints 1 um), i.e. a phase error below 2e-5 rad at 1 GHz.

/// The receiver-band optics of one antenna type (all lengths in metres).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandGeometry {
    /// CASA's band name (`EVLA_L`, ...).
    pub name: &'static str,
    /// Lowest and highest frequency of the band (Hz, inclusive, first match wins as in CASA).
    pub freq_range_hz: (f64, f64),
    /// Height of the subreflector vertex above the main-reflector vertex.
    pub sub_h: f64,
    /// Feed phase centre `(x, y, z)`.
    pub feed: [f64; 3],
    /// Full angle subtended by the subreflector at the feed (degrees).
    pub subangle_deg: f64,
    /// Feed-leg width (> 0: legs in a `+`, < 0: in an `x`).
    pub legwidth: f64,
    /// Distance of the leg feet from the optical axis.
    pub legfoot: f64,
    /// Height where the legs meet.
    pub legapex: f64,
    /// Radius of the central hole (blocked).
    pub hole_radius: f64,
    /// Reference frequency of the taper polynomial (GHz).
    pub ref_ghz: f64,
    /// Feed edge taper (dB at the subreflector edge) as a polynomial in `(f - ref)` GHz.
    pub taper_poly: &'static [f64],
}

impl BandGeometry {
    /// The feed edge taper at `freq_ghz`.
    pub fn taper_at(&self, freq_ghz: f64) -> f64 {
        let df = freq_ghz - self.ref_ghz;
        self.taper_poly
            .iter()
            .rev()
            .fold(0.0, |acc, c| acc * df + c)
    }
}

/// Radius of the (E)VLA main reflector (m).
pub const DISH_RADIUS_M: f64 = 12.5;

/// Coefficients `c_k` of the main-reflector height `z(r) = sum_k c_k (r / R)^(2k)` (m),
/// `R = `[`DISH_RADIUS_M`] (see the module docs).
const SURFACE: [f64; 7] = [
    1.7648216431e-08,
    4.383331312,
    -0.036122481236,
    0.020503719884,
    -0.11162594437,
    0.13485770965,
    -0.066097721614,
];

/// Height `z` and slope `dz/dr` of the main reflector at radius `r` (m).
pub fn surface(r: f64) -> (f64, f64) {
    let x = (r / DISH_RADIUS_M).powi(2);
    let mut z = 0.0;
    let mut dzdx = 0.0;
    for (k, c) in SURFACE.iter().enumerate().rev() {
        z = z * x + c;
        if k > 0 {
            dzdx = dzdx * x + k as f64 * c;
        }
    }
    (z, dzdx * 2.0 * r / (DISH_RADIUS_M * DISH_RADIUS_M))
}

const fn band(
    name: &'static str,
    lo: f64,
    hi: f64,
    feed_xy: [f64; 2],
    ref_ghz: f64,
    taper_poly: &'static [f64],
) -> BandGeometry {
    BandGeometry {
        name,
        freq_range_hz: (lo, hi),
        sub_h: 8.47852,
        feed: [feed_xy[0], feed_xy[1], 1.67640],
        subangle_deg: 9.26,
        legwidth: 0.27,
        legfoot: 7.55,
        legapex: 10.93876,
        hole_radius: 2.0,
        ref_ghz,
        taper_poly,
    }
}

/// CASA's EVLA bands (observatory name `EVLA`).
pub const EVLA_BANDS: [BandGeometry; 8] = [
    band(
        "EVLA_L",
        0.9e9,
        2.0e9,
        [-0.10026, 0.97019],
        1.5,
        &[10.0, 2.0],
    ),
    band(
        "EVLA_S",
        2.0e9,
        4.0e9,
        [0.196123, -0.955439],
        3.0,
        &[12.75, 0.75],
    ),
    band(
        "EVLA_C",
        4.0e9,
        8.0e9,
        [0.94300, -0.249152],
        6.0,
        &[12.75, 0.375],
    ),
    band("EVLA_X", 8.0e9, 12.0e9, [0.893100, 0.392044], 10.0, &[13.0]),
    band(
        "EVLA_U",
        12.0e9,
        18.0e9,
        [-0.657688, -0.720260],
        15.0,
        &[13.0],
    ),
    band(
        "EVLA_K",
        18.0e9,
        26.5e9,
        [-0.877393, -0.426039],
        22.0,
        &[13.0],
    ),
    band(
        "EVLA_A",
        26.5e9,
        40.0e9,
        [-0.933238, 0.283539],
        33.0,
        &[13.0],
    ),
    band(
        "EVLA_Q",
        40.0e9,
        50.0e9,
        [-0.9723533, -0.0765259],
        45.0,
        &[13.0],
    ),
];

/// CASA's (pre-upgrade) VLA bands (observatory name `VLA`).
pub const VLA_BANDS: [BandGeometry; 6] = [
    band(
        "VLA_L",
        1.34e9,
        1.73e9,
        [0.68968367, 0.68968367],
        1.5,
        &[10.0],
    ),
    band("VLA_C", 4.5e9, 5.0e9, [-0.412205, -0.883976], 5.0, &[12.8]),
    band("VLA_X", 8.0e9, 8.8e9, [-0.6269493, 0.7471691], 8.0, &[11.5]),
    band(
        "VLA_U",
        14.4e9,
        15.4e9,
        [0.4122049, -0.883976],
        15.0,
        &[11.5],
    ),
    band(
        "VLA_K",
        22.0e9,
        24.0e9,
        [-0.937576, 0.268846],
        22.0,
        &[13.0],
    ),
    band(
        "VLA_Q",
        40.0e9,
        50.0e9,
        [-0.9723533, -0.076526],
        45.0,
        &[13.0],
    ),
];

/// The band optics for telescope `telescope` (the MS's OBSERVATION TELESCOPE_NAME) at
/// `freq_hz`; `None` for another telescope or a frequency outside every band (CASA's error:
/// "combination not recognized").
pub fn band_geometry(telescope: &str, freq_hz: f64) -> Option<&'static BandGeometry> {
    let bands: &'static [BandGeometry] = match telescope.to_ascii_uppercase().as_str() {
        "EVLA" => &EVLA_BANDS,
        "VLA" => &VLA_BANDS,
        _ => return None,
    };
    bands
        .iter()
        .find(|b| b.freq_range_hz.0 <= freq_hz && freq_hz <= b.freq_range_hz.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_and_surface() {
        assert_eq!(band_geometry("EVLA", 1.5e9).unwrap().name, "EVLA_L");
        assert_eq!(band_geometry("evla", 3.0e9).unwrap().name, "EVLA_S");
        assert_eq!(band_geometry("VLA", 1.5e9).unwrap().name, "VLA_L");
        assert!(band_geometry("VLA", 3.0e9).is_none());
        assert!(band_geometry("ALMA", 100e9).is_none());
        // The taper polynomial: 10 dB + 2 dB/GHz about 1.5 GHz at L band.
        assert!((EVLA_BANDS[0].taper_at(1.75) - 10.5).abs() < 1e-12);
        // The tabulated surface at its ends (z(0) = 0, z(12.5 m) = 4.324847 m, slope 0.672607)
        // to the fit's accuracy (0.6 um in z; the slope to 1e-5).
        let (z0, m0) = surface(0.0);
        assert!(z0.abs() < 1e-6 && m0 == 0.0);
        let (z, m) = surface(12.5);
        assert!((z - 4.324847).abs() < 1e-6, "{z}");
        assert!((m - 0.672607).abs() < 1e-5, "{m}");
        // A slope from the derivative matches a finite difference.
        let (za, _) = surface(6.0 - 1e-4);
        let (zb, _) = surface(6.0 + 1e-4);
        let (_, m6) = surface(6.0);
        assert!(((zb - za) / 2e-4 - m6).abs() < 1e-7);
    }
}
