//! Direction reference frames: casacore's `MDirection::Types`, by name and by code.

use serde::{Deserialize, Serialize};

/// Reference frame of a direction: every frame casacore's `MDirection` knows except the solar-system
/// bodies (`MERCURY` ... `MOON`, `COMET`), whose positions need ephemerides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DirectionFrame {
    /// Mean equator and equinox of J2000.0 (FK5).
    J2000,
    /// Mean equator and equinox of the frame's epoch (IAU 1976 precession).
    Jmean,
    /// True equator and equinox of the frame's epoch (plus IAU 1980 nutation).
    Jtrue,
    /// Apparent geocentric (light deflection, annual aberration, precession-nutation).
    App,
    /// FK4, mean equator and equinox of B1950.0.
    B1950,
    /// FK4 B1950.0 with the VLA's epoch 1979.9 for the FK4 -> FK5 step.
    B1950Vla,
    /// Mean equator and equinox of the frame's epoch, FK4 (Newcomb precession).
    Bmean,
    /// True equator and equinox of the frame's epoch, FK4.
    Btrue,
    /// Galactic (l, b).
    Galactic,
    /// Topocentric hour angle and declination.
    Hadec,
    /// Topocentric azimuth (north through east) and elevation, geocentric latitude (also `AZELNE`).
    Azel,
    /// Topocentric azimuth (south through west) and elevation.
    Azelsw,
    /// Azimuth (north through east) and elevation with the geodetic latitude (also `AZELNEGEO`).
    Azelgeo,
    /// Azimuth (south through west) and elevation with the geodetic latitude.
    Azelswgeo,
    /// Geocentric natural frame (J2000 with solar light deflection).
    Jnat,
    /// Ecliptic of the J2000 equator and equinox.
    Ecliptic,
    /// Ecliptic of the mean equator of date.
    Mecliptic,
    /// Ecliptic of the true equator of date.
    Tecliptic,
    /// Supergalactic.
    Supergal,
    /// Coordinates with respect to the ITRF Earth frame.
    Itrf,
    /// Apparent topocentric.
    Topo,
    /// International Celestial Reference System.
    Icrs,
}

/// casacore's names, in `MDirection::Types` order (the index is the type code).
const NAMES: [(&str, DirectionFrame); 22] = [
    ("J2000", DirectionFrame::J2000),
    ("JMEAN", DirectionFrame::Jmean),
    ("JTRUE", DirectionFrame::Jtrue),
    ("APP", DirectionFrame::App),
    ("B1950", DirectionFrame::B1950),
    ("B1950_VLA", DirectionFrame::B1950Vla),
    ("BMEAN", DirectionFrame::Bmean),
    ("BTRUE", DirectionFrame::Btrue),
    ("GALACTIC", DirectionFrame::Galactic),
    ("HADEC", DirectionFrame::Hadec),
    ("AZEL", DirectionFrame::Azel),
    ("AZELSW", DirectionFrame::Azelsw),
    ("AZELGEO", DirectionFrame::Azelgeo),
    ("AZELSWGEO", DirectionFrame::Azelswgeo),
    ("JNAT", DirectionFrame::Jnat),
    ("ECLIPTIC", DirectionFrame::Ecliptic),
    ("MECLIPTIC", DirectionFrame::Mecliptic),
    ("TECLIPTIC", DirectionFrame::Tecliptic),
    ("SUPERGAL", DirectionFrame::Supergal),
    ("ITRF", DirectionFrame::Itrf),
    ("TOPO", DirectionFrame::Topo),
    ("ICRS", DirectionFrame::Icrs),
];

/// casacore's aliases (`MDirection::getType`): AZELNE is AZEL, AZELNEGEO is AZELGEO.
const ALIASES: [(&str, DirectionFrame); 2] = [
    ("AZELNE", DirectionFrame::Azel),
    ("AZELNEGEO", DirectionFrame::Azelgeo),
];

/// The solar-system frames casacore knows (codes 32..42), which pclean cannot convert.
pub const SOLAR_SYSTEM_FRAMES: [&str; 11] = [
    "MERCURY", "VENUS", "MARS", "JUPITER", "SATURN", "URANUS", "NEPTUNE", "PLUTO", "SUN", "MOON",
    "COMET",
];

impl DirectionFrame {
    /// Every frame, in casacore's code order.
    pub fn all() -> impl Iterator<Item = DirectionFrame> {
        NAMES.iter().map(|(_, f)| *f)
    }

    /// casacore's name of the frame (`"J2000"`, `"B1950_VLA"`, `"GALACTIC"`, ...).
    pub fn casa_name(&self) -> &'static str {
        NAMES
            .iter()
            .find(|(_, f)| f == self)
            .map(|(n, _)| *n)
            .expect("every frame is named")
    }

    /// The frame of a casacore name, case-insensitively (aliases included); `None` if unknown.
    pub fn from_casa_name(name: &str) -> Option<DirectionFrame> {
        let upper = name.trim().to_ascii_uppercase();
        NAMES
            .iter()
            .chain(ALIASES.iter())
            .find(|(n, _)| *n == upper)
            .map(|(_, f)| *f)
    }

    /// The frame of a casacore `MDirection::Types` code (as in a variable-reference column).
    pub fn from_casa_code(code: i32) -> Option<DirectionFrame> {
        usize::try_from(code)
            .ok()
            .and_then(|i| NAMES.get(i))
            .map(|(_, f)| *f)
    }

    /// casacore's `MDirection::Types` code.
    pub fn casa_code(&self) -> i32 {
        NAMES.iter().position(|(_, f)| f == self).expect("named") as i32
    }

    /// Whether the longitude is a right ascension (shown in hours), as casacore formats it.
    pub fn is_equatorial(&self) -> bool {
        !matches!(
            self,
            DirectionFrame::Galactic
                | DirectionFrame::Supergal
                | DirectionFrame::Ecliptic
                | DirectionFrame::Mecliptic
                | DirectionFrame::Tecliptic
                | DirectionFrame::Azel
                | DirectionFrame::Azelsw
                | DirectionFrame::Azelgeo
                | DirectionFrame::Azelswgeo
                | DirectionFrame::Hadec
                | DirectionFrame::Itrf
        )
    }

    /// casacore's axis names (`DirectionCoordinate::axisNames(type, false)`).
    pub fn axis_names(&self) -> [&'static str; 2] {
        use DirectionFrame as F;
        match self {
            F::J2000
            | F::Jmean
            | F::App
            | F::B1950
            | F::B1950Vla
            | F::Bmean
            | F::Btrue
            | F::Icrs => ["Right Ascension", "Declination"],
            F::Hadec => ["Hour Angle", "Declination"],
            _ => ["Longitude", "Latitude"],
        }
    }

    /// casacore's FITS axis names (`DirectionCoordinate::axisNames(type, true)`): the CTYPE stems.
    pub fn fits_axis_names(&self) -> [&'static str; 2] {
        use DirectionFrame as F;
        match self {
            F::J2000
            | F::Jmean
            | F::App
            | F::B1950
            | F::B1950Vla
            | F::Bmean
            | F::Btrue
            | F::Icrs
            | F::Hadec => ["RA", "DEC"],
            F::Galactic => ["GLON", "GLAT"],
            F::Supergal => ["SLON", "SLAT"],
            F::Ecliptic | F::Mecliptic | F::Tecliptic => ["ELON", "ELAT"],
            _ => ["??LN", "??LT"],
        }
    }

    /// casacore's FITS `RADESYS` and `EQUINOX` for the frame (`FITSCoordinateUtil`), if any.
    pub fn fits_radesys_equinox(&self) -> (Option<&'static str>, Option<f64>) {
        match self {
            DirectionFrame::J2000 => (Some("FK5"), Some(2000.0)),
            DirectionFrame::B1950 => (Some("FK4"), Some(1950.0)),
            DirectionFrame::B1950Vla => (Some("FK4"), Some(1979.9)),
            DirectionFrame::Icrs => (Some("ICRS"), None),
            _ => (None, None),
        }
    }

    /// Whether converting to or from this frame needs an epoch (and for the topocentric frames an
    /// observatory): everything but J2000, ICRS, B1950_VLA, GALACTIC, SUPERGAL and ECLIPTIC.
    pub fn needs_epoch(&self) -> bool {
        !matches!(
            self,
            DirectionFrame::J2000
                | DirectionFrame::Icrs
                | DirectionFrame::B1950Vla
                | DirectionFrame::Galactic
                | DirectionFrame::Supergal
                | DirectionFrame::Ecliptic
                | DirectionFrame::B1950
        )
    }

    /// Whether the frame rotates with the Earth (hour angle, azimuth and elevation, ITRF): a
    /// direction fixed in it moves across the sky during an observation.
    pub fn is_terrestrial(&self) -> bool {
        matches!(
            self,
            DirectionFrame::Hadec
                | DirectionFrame::Azel
                | DirectionFrame::Azelsw
                | DirectionFrame::Azelgeo
                | DirectionFrame::Azelswgeo
                | DirectionFrame::Itrf
        )
    }
}

impl std::fmt::Display for DirectionFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.casa_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_round_trip() {
        for (code, f) in DirectionFrame::all().enumerate() {
            assert_eq!(DirectionFrame::from_casa_code(code as i32), Some(f));
            assert_eq!(f.casa_code(), code as i32);
            assert_eq!(DirectionFrame::from_casa_name(f.casa_name()), Some(f));
        }
        assert_eq!(
            DirectionFrame::from_casa_name("azelne"),
            Some(DirectionFrame::Azel)
        );
        assert_eq!(DirectionFrame::from_casa_name("MOON"), None);
        assert_eq!(DirectionFrame::from_casa_code(32), None);
    }
}
