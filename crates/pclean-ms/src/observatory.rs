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

/// Positions from casacore's `Observatories` table as tclean takes them: casatools 6.7's
/// `me.measure(me.observatory(name), 'ITRF')`, spherical (lon, lat, radius) -> cartesian, every
/// double as printed by Python's `repr` (`scripts/dev/frames_casatools_bits.py` writes the same
/// values for ALMA and VLA). Full precision matters: tclean decides whether the first
/// integration's edge channel lies inside a cube's first or last channel by an exact comparison
/// (docs/decisions.md (s16-ch0)), and ALMA rounded to 0.1 mm gave 22 of 129 LSRK frequencies of the
/// bench MS casacore's bits instead of 129 (`observatory_positions_are_casacores_bits`).
/// Names are matched case-insensitively.
const KNOWN: [(&str, [f64; 3]); 12] = [
    (
        "ALMA",
        [2225142.180268967, -5440307.370348562, -2481029.851873547],
    ),
    (
        "ACA",
        [2225066.2462818427, -5440107.534105327, -2481532.700718496],
    ),
    (
        "VLA",
        [-1601185.3650000016, -5041977.546999999, 3554875.8700000006],
    ),
    (
        "EVLA",
        [-1601156.673287362, -5041988.986065895, 3554879.2368205097],
    ),
    (
        "MEERKAT",
        [5109217.420823876, 2006797.675146036, -3239133.867335175],
    ),
    ("ATCA", [-4750915.837000001, 2792906.182, -3200483.747]),
    (
        "GMRT",
        [1657069.5646867356, 5797969.000072409, 2073044.0916447619],
    ),
    (
        "SMA",
        [-5462448.949394941, -2491969.9165984807, 2164446.105479709],
    ),
    (
        "NOEMA",
        [4523932.576978456, 468134.7327873918, 4460286.496419299],
    ),
    (
        "WSRT",
        [3828488.86406551, 443253.4204053786, 5064977.777133618],
    ),
    (
        "ASKAP",
        [-2558266.717764745, 5095672.176507924, -2849020.838078497],
    ),
    (
        "MWA",
        [-2559454.080476051, 5095372.1461514095, -2849057.186144515],
    ),
];

/// ITRF position of a telescope known to casacore's observatory table, metres.
pub fn known_observatory_itrf_m(telescope: &str) -> Option<[f64; 3]> {
    let t = telescope.trim().to_ascii_uppercase();
    KNOWN.iter().find(|(n, _)| *n == t).map(|(_, p)| *p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ALMA and VLA positions are the bits casatools 6.7 gives (the observatories of
    /// pclean-core's casacore frequency-bit cases, written by
    /// `scripts/dev/frames_casatools_bits.py`): pclean's LSRK conversions equal casacore's to the
    /// bit only at these positions (ALMA rounded to 0.1 mm: 22 of the bench MS's 129 frequencies).
    #[test]
    fn observatory_positions_are_casacores_bits() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../pclean-core/tests/data/frames_casatools.json"
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for name in ["ALMA", "VLA"] {
            let want: Vec<f64> = json["observatories_itrf_m"][name]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            let got = known_observatory_itrf_m(name).unwrap();
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g.to_bits(), w.to_bits(), "{name}: {got:?} against {want:?}");
            }
        }
        assert_eq!(
            known_observatory_itrf_m(" alma "),
            known_observatory_itrf_m("ALMA")
        );
        assert_eq!(known_observatory_itrf_m("nowhere"), None);
    }
}
