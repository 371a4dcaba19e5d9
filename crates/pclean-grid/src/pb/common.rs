//! CASA's default voltage patterns (`PBMath::enumerateCommonPB`, `PBMath::whichCommonPBtoUse`,
//! `PBMath::pbMathInterfaceForCommonPB`, `PBMath::initByDiameter` in
//! `synthesis/TransformMachines/PBMath.cc`) and the choice `SynthesisImager::makePBImage` makes.

use super::evla::EVLA_MAX_RADIUS_ARCMIN_GHZ;
use super::{PbModel, VpShape};

/// CASA's `vlanum`: the VLA Airy pattern sampled at 19 radii, used (scaled to a dish diameter)
/// for OVRO, GMRT, NRAO12M, NRAO140FT and any telescope CASA does not know.
const VLA_NUMERIC: [f32; 19] = [
    1.000000,
    0.997634,
    0.972516,
    0.913722,
    0.837871,
    0.750356,
    0.651549,
    0.549903,
    0.449083,
    0.352819,
    0.266025,
    0.190533,
    0.128047,
    0.0794855,
    0.0438381,
    0.0201386,
    0.0065117,
    0.000690041,
    8.87288e-05,
];

/// The names of CASA's default voltage-pattern table (`PBMath::enumerateCommonPB`; `BIMA` is
/// `HATCREEK`, `ATF` is `ALMA`), matched exactly against `OBSERVATION::TELESCOPE_NAME`.
pub const COMMON_PB_NAMES: [&str; 46] = [
    "ATCA_L1",
    "ATCA_L2",
    "ATCA_L3",
    "ATCA_16",
    "ATCA_S",
    "ATCA_C",
    "ATCA_C_RI",
    "ATCA",
    "ATCA_X",
    "ATCA_K",
    "ATCA_Q",
    "ATCA_W",
    "HATCREEK",
    "BIMA",
    "EVLA",
    "NGVLA",
    "VLA",
    "VLA_INVERSE",
    "VLA_NVSS",
    "VLA_2NULL",
    "VLA_4",
    "VLA_P",
    "VLA_L",
    "VLA_C",
    "VLA_X",
    "VLA_U",
    "VLA_K",
    "VLA_Q",
    "WSRT",
    "WSRT_LOW",
    "OVRO",
    "GBT",
    "GMRT",
    "NRAO12M",
    "IRAMPDB",
    "IRAM30M",
    "NRAO140FT",
    "ALMA",
    "ALMASD",
    "ACA",
    "SMA",
    "ATA",
    "ATF",
    "NONE",
    "UNKNOWN",
    "DEFAULT",
];

/// Whether CASA's table knows `telescope` (exact match; `NONE`, `UNKNOWN` and `DEFAULT` are not
/// telescopes with a model).
pub fn is_common_pb(telescope: &str) -> bool {
    !matches!(telescope, "NONE" | "UNKNOWN" | "DEFAULT") && COMMON_PB_NAMES.contains(&telescope)
}

/// The entry `PBMath::whichCommonPBtoUse` picks for a telescope name at the frequency of image
/// channel 0 (bands for VLA, WSRT and ATCA; prefixes as CASA matches them).
pub fn which_common_pb(telescope: &str, freq_hz: f64) -> Option<&'static str> {
    let ghz = freq_hz / 1e9;
    let t = telescope;
    let name = if t.starts_with("VLA") {
        if ghz > 35.0 && ghz < 55.0 {
            "VLA_Q"
        } else if ghz > 19.0 && ghz < 35.0 {
            "VLA_K"
        } else if ghz > 11.0 && ghz < 19.0 {
            "VLA_U"
        } else if ghz > 7.0 && ghz < 11.0 {
            "VLA_X"
        } else if ghz > 4.0 && ghz < 7.0 {
            "VLA_C"
        } else if ghz > 1.0 && ghz < 2.0 {
            "VLA_L"
        } else if ghz > 0.2 && ghz < 0.4 {
            "VLA_P"
        } else if ghz < 0.1 {
            "VLA_4"
        } else {
            "VLA_NVSS"
        }
    } else if t.starts_with("EVLA") {
        "EVLA"
    } else if t.starts_with("NGVLA") {
        "NGVLA"
    } else if t.starts_with("WSRT") {
        if ghz > 0.5 && ghz < 0.8 || ghz < 0.5 {
            "WSRT_LOW"
        } else {
            "WSRT"
        }
    } else if t.starts_with("ATCA") {
        if t.starts_with("ATCA_C_RI") {
            "ATCA_C_RI"
        } else if (7.0..12.5).contains(&ghz) {
            "ATCA_X"
        } else if ghz > 4.0 && ghz < 7.0 {
            "ATCA_C"
        } else if ghz > 1.0 && ghz < 3.5 {
            "ATCA_16"
        } else if ghz > 15.0 && ghz < 26.0 {
            "ATCA_K"
        } else if ghz > 30.0 && ghz < 50.0 {
            "ATCA_Q"
        } else if ghz > 80.0 && ghz < 120.0 {
            "ATCA_W"
        } else {
            "ATCA_L1"
        }
    } else if t.starts_with("HATCREEK") || t.starts_with("BIMA") {
        "HATCREEK"
    } else if t.starts_with("GBT") {
        "GBT"
    } else if t.starts_with("GMRT") {
        "GMRT"
    } else if t.starts_with("OVRO") {
        "OVRO"
    } else if t.starts_with("NRAO12M") {
        "NRAO12M"
    } else if t.starts_with("IRAMPDB") || (t.contains("IRAM") && t.contains("PDB")) {
        "IRAMPDB"
    } else if t.starts_with("IRAM30M") {
        "IRAM30M"
    } else if t.starts_with("NRAO140FT") {
        "NRAO140FT"
    } else if t.starts_with("ALMA") || t.starts_with("ATF") {
        // ALMASD also starts with "ALMA": CASA checks ALMA first (the same model).
        "ALMA"
    } else if t.starts_with("ACA") {
        "ACA"
    } else if t.starts_with("SMA") {
        "SMA"
    } else if t.starts_with("ATA") {
        "ATA"
    } else {
        return None;
    };
    Some(name)
}

/// The model of one entry of CASA's table (`PBMath::pbMathInterfaceForCommonPB`), by its name
/// as [`which_common_pb`] returns it (or as a `vptable` names it); `None` for names without one.
pub fn common_pb_model(entry: &str) -> Option<PbModel> {
    let arcmin = |deg: f64| deg * 60.0;
    let airy = |d: f64, b: f64, maxrad_deg: f64| PbModel::airy(d, b, arcmin(maxrad_deg), 1.0);
    let numeric_diam =
        |d: f64| PbModel::numeric(VLA_NUMERIC.to_vec(), 1.1998662 * 25.0 / d, 43.0, false);
    let ipoly = |c: &[f64]| PbModel::inverse_poly(c.to_vec(), 53.0, 1.0, false);
    let m = match entry {
        "EVLA" => PbModel {
            shape: VpShape::Evla,
            max_radius_arcmin_ghz: EVLA_MAX_RADIUS_ARCMIN_GHZ,
            is_vp: false,
            label: "EVLA (PBMath1DEVLA, per-channel polynomial)".into(),
        },
        "VLA" => PbModel::poly(
            vec![1.0, -1.300633e-03, 6.480550e-07, -1.267928e-10],
            58.0,
            1.0,
            false,
        ),
        "VLA_INVERSE" => PbModel::inverse_poly(
            vec![
                0.9920378,
                0.9956885e-3,
                0.3814573e-5,
                -0.5311695e-8,
                0.3980963e-11,
            ],
            45.0,
            1.0,
            false,
        ),
        "VLA_NVSS" => airy(24.5, 0.0, 0.8564),
        "VLA_2NULL" => airy(24.5, 0.0, 1.566),
        "VLA_L" | "VLA_C" | "VLA_X" | "VLA_U" | "VLA_K" | "VLA_Q" | "VLA_P" | "VLA_4" => {
            airy(25.0, 2.36, 0.8564)
        }
        "NGVLA" => airy(18.0, 0.0, 1.5),
        "OVRO" => numeric_diam(10.4),
        "GMRT" => numeric_diam(45.0),
        "NRAO12M" => numeric_diam(12.0),
        "NRAO140FT" => numeric_diam(43.0),
        "GBT" => {
            // Measured at 340 MHz; CASA rescales the coefficients to 1 GHz.
            let factor: f64 = 1.0e9 / 3.4e8;
            let mut c = vec![
                1.00632057,
                -0.00181068914,
                1.32948262e-06,
                -4.72454392e-10,
                7.11800547e-14,
                -3.50646851e-20,
                -7.40533706e-22,
            ];
            let mut scale = 1.0;
            for ck in c.iter_mut().skip(1) {
                scale = scale * factor * factor;
                *ck *= scale;
            }
            PbModel::poly(c, 60.0 * 3.4e8 / 1.0e9, 1.0, false)
        }
        "WSRT" | "WSRT_LOW" => {
            let s = if entry == "WSRT" { 0.01891 } else { 0.01830 };
            PbModel::cos_poly(
                vec![0.0, 0.0, 0.0, 1.0],
                vec![0.0, 0.0, 0.0, s],
                60.0,
                1.0,
                true,
            )
        }
        "ATCA_16" => {
            let cols: [[f64; 5]; 7] = [
                [1.0, 1.06274e-03, 1.32342e-06, -8.72013e-10, 1.08020e-12],
                [1.0, 9.80817e-04, 1.17898e-06, -7.83160e-10, 8.66199e-13],
                [1.0, 9.53553e-04, 9.33233e-07, -4.26759e-10, 5.63667e-13],
                [1.0, 9.78268e-04, 6.63231e-07, 4.18235e-11, 2.62297e-13],
                [1.0, 1.02424e-03, 6.12726e-07, 2.25733e-10, 2.04834e-13],
                [1.0, 1.05818e-03, 5.37473e-07, 4.22386e-10, 1.17530e-13],
                [1.0, 1.10650e-03, 5.11574e-07, 5.89732e-10, 8.13628e-14],
            ];
            let freqs = (0..7).map(|i| (1332.0 + i as f64 * 256.0) * 1e6).collect();
            PbModel::wide_inverse_poly(
                cols.iter().map(|c| c.to_vec()).collect(),
                freqs,
                53.0,
                1.0,
                false,
            )
        }
        "ATCA" | "ATCA_L1" => ipoly(&[1.0, 8.99e-4, 2.15e-6, -2.23e-9, 1.56e-12]),
        "ATCA_L2" | "ATCA_L3" => PbModel::poly(
            vec![
                1.0,
                -1.0781341990755E-03,
                4.6179146405726E-07,
                -1.0108079576125E-10,
                1.2073518438662E-14,
                -7.5132629268134E-19,
                1.9083641820123E-23,
            ],
            53.0,
            1.0,
            false,
        ),
        "ATCA_S" => ipoly(&[1.0, 1.02e-3, 9.48e-7, -3.68e-10, 4.88e-13]),
        "ATCA_C" | "ATCA_X" => PbModel::wide_inverse_poly(
            vec![
                vec![1.0, 1.08e-3, 1.31e-6, -1.17e-9, 1.07e-12],
                vec![1.0, 1.04e-3, 8.36e-7, -4.68e-10, 5.50e-13],
            ],
            vec![4.8e9, 8.64e9],
            53.0,
            1.0,
            false,
        ),
        "ATCA_C_RI" => PbModel::numeric(
            vec![
                1.00000, 0.98132, 0.96365, 0.87195, 0.75109, 0.62176, 0.48793, 0.34985, 0.21586,
                0.10546, 0.03669, -0.03556, -0.08266, -0.12810, -0.15440, -0.16090, -0.15360,
                -0.13566, -0.10666, -0.06847, -0.03136, -0.00854,
            ],
            21.07,
            5.5,
            true,
        ),
        "ATCA_K" | "ATCA_Q" => ipoly(&[1.0, 9.832e-4, 1.081e-6, -4.676e-10, 6.650e-13]),
        "ATCA_W" => ipoly(&[1.0, 1.271e-3, -3.040e-7, 1.410e-9, 0.0]),
        "HATCREEK" | "BIMA" => PbModel::gauss(191.67 / 2.0, 215.0, 1.0, false),
        "IRAMPDB" | "IRAM30M" => airy(15.0, 1.0, 1.784),
        "ALMA" | "ALMASD" | "ATF" => airy(10.7, 0.75, 1.784),
        "ACA" => airy(6.25, 0.75, 3.568),
        "SMA" => PbModel::numeric(
            super::table::sma_spheroidal_samples(),
            52.3 / 2.0 * 3.0 / 1.1117 / 60.0,
            224.0,
            false,
        ),
        "ATA" => airy(6.0, 0.5, 3.568),
        "NONE" => PbModel::inverse_poly(vec![1.0], 180.0 * 60.0, 1.0, false),
        _ => return None,
    };
    Some(m.labelled(entry))
}

/// CASA's beam for an unknown telescope with dishes of `d` metres (`PBMath::initByDiameter`):
/// the VLA's tabulated Airy pattern scaled to the diameter.
pub fn diameter_pb_model(d: f64) -> PbModel {
    PbModel::numeric(VLA_NUMERIC.to_vec(), 1.1998662 * 25.0 / d, 43.0, false).labelled(&format!(
        "Airy pattern of a {d} m dish (PBMath::initByDiameter)"
    ))
}

/// The primary beam tclean's `standard` gridder uses (`SynthesisImager::makePBImage`) for the
/// telescope `OBSERVATION::TELESCOPE_NAME`, the `DISH_DIAMETER` of the first ANTENNA row and the
/// frequency of image channel 0: `ALMA` with dishes under 12 m is `ACA`; a name in CASA's table
/// ([`is_common_pb`], exact match) gets [`which_common_pb`]'s entry; anything else with a
/// positive diameter gets [`diameter_pb_model`]. `None`: tclean makes no `.pb` ("Telescope ...
/// is not known").
pub fn default_pb_model(telescope: &str, dish_diameter_m: f64, freq_hz: f64) -> Option<PbModel> {
    let name = if telescope == "ALMA" && dish_diameter_m < 12.0 {
        "ACA"
    } else {
        telescope
    };
    if is_common_pb(name) {
        if let Some(m) = which_common_pb(name, freq_hz).and_then(common_pb_model) {
            return Some(m);
        }
    }
    (dish_diameter_m > 0.0).then(|| diameter_pb_model(dish_diameter_m))
}
