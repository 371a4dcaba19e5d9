//! The observatory position an image records (`telescopeposition` in CASA images).

/// Where [`Observatory::position_itrf_m`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObservatorySource {
    /// casacore's observatory table entry for OBSERVATION::TELESCOPE_NAME (as tclean does).
    KnownTelescope,
    /// The telescope is not in our table: the first unflagged antenna's position.
    FirstAntenna,
}

/// The telescope and its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Observatory {
    /// OBSERVATION::TELESCOPE_NAME of the first observation (empty when unknown).
    pub name: String,
    /// ITRF geocentric position (x, y, z), metres.
    pub position_itrf_m: [f64; 3],
    pub source: ObservatorySource,
}

/// Positions from casacore's `Observatories` table (casacore-data), converted to ITRF x, y, z with
/// python-casacore 3.8: `me.measure(me.observatory(name), 'ITRF')`, spherical (lon, lat, radius) ->
/// cartesian. Names are matched case-insensitively.
const KNOWN: [(&str, [f64; 3]); 12] = [
    ("ALMA", [2225142.1803, -5440307.3703, -2481029.8519]),
    ("ACA", [2225066.2463, -5440107.5341, -2481532.7007]),
    ("VLA", [-1601185.3650, -5041977.5470, 3554875.8700]),
    ("EVLA", [-1601156.6733, -5041988.9861, 3554879.2368]),
    ("MEERKAT", [5109217.4208, 2006797.6751, -3239133.8673]),
    ("ATCA", [-4750915.8370, 2792906.1820, -3200483.7470]),
    ("GMRT", [1657069.5647, 5797969.0001, 2073044.0916]),
    ("SMA", [-5462448.9494, -2491969.9166, 2164446.1055]),
    ("NOEMA", [4523932.5770, 468134.7328, 4460286.4964]),
    ("WSRT", [3828488.8641, 443253.4204, 5064977.7771]),
    ("ASKAP", [-2558266.7178, 5095672.1765, -2849020.8381]),
    ("MWA", [-2559454.0805, 5095372.1462, -2849057.1861]),
];

/// ITRF position of a telescope known to casacore's observatory table, metres.
pub fn known_observatory_itrf_m(telescope: &str) -> Option<[f64; 3]> {
    let t = telescope.trim().to_ascii_uppercase();
    KNOWN.iter().find(|(n, _)| *n == t).map(|(_, p)| *p)
}
