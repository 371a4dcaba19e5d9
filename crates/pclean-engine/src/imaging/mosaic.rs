//! The mosaic gridder of a run (`gridder='mosaic'`): its pointings, and the normalisation of its
//! images by the weight image as tclean's normaliser does it (`SIImageStore`:
//! `dividePSFByWeight`, `divideResidualByWeight`, `divideModelByWeight`, `makePBFromWeight`).
//!
//! With `W` the weight image of a plane (`sum_p W_p PB_p^2 / sumwt`, [`VisGridder::weight_image`])
//! and `R` the gridder's residual image (`sum_p PB_p D_p / sumwt`), `W_max` its peak and
//! `pb = sqrt(W / W_max)` (the `.pb`, zero at or below `|pblimit|`):
//! - `flatnoise` (tclean's default): `R / sqrt(W W_max)`, a source `S` seen as `pb S`;
//! - `flatsky`: `R / W`, a source seen as `S`;
//! - `pbsquare`: `R / W_max`, a source seen as `pb^2 S`;
//!
//! zero where `pb <= |pblimit|` (tclean divides only there; the pixel mask of the products follows
//! `pblimit`'s sign as for the standard gridder). The minor cycle's model is in the residual's
//! units; before prediction it is turned into sky brightness by dividing by the same response
//! (`pb`, 1 or `pb^2`). The PSF is normalised to a peak of 1.
//!
//! [`VisGridder::weight_image`]: pclean_grid::seam::VisGridder::weight_image

use crate::error::EngineError;
use crate::source::{RowKeys, Source};
use ndarray::{Array2, Zip};
use pclean_core::direction::SkyContext;
use pclean_core::params::{ImagingParams, NormType};
use pclean_core::Direction;
use pclean_grid::gridder::Gridder;
use pclean_grid::pb::{default_pb_model, pb_limit_in_place, PbModel};
use pclean_grid::{MosaicGridder, Pointing};
use pclean_ms::{Antenna, SelectedData};

/// Fields of different MSs closer than this (about 2 mas) are one pointing of a several-MS mosaic.
pub const SAME_POINTING_RAD: f64 = 1e-8;

/// The mosaic gridder of a run: each selected field a pointing, its beam centred on the field's
/// PHASE_DIR (tclean with `usepointing=False`) or with `usepointing=True` on its POINTING
/// direction (`mosaic_pointing`), the PSF's on `psfphasecenter` or the image
/// centre. Several MSs (`vis=[a, b]`): fields of any MS at the same direction (within
/// [`SAME_POINTING_RAD`]) are one pointing and the antennas of the MSs are numbered one after
/// the other, each MS's rows re-keyed so ([`Source::keys`], set here); tclean's mosaic of
/// `vis=[a, b]` equals its mosaic of `concat(a, b)` bit for bit (measured, docs/decisions.md
/// (s10-mos)), which this reproduces.
pub fn mosaic_gridder(
    params: &ImagingParams,
    es: Gridder,
    sources: &mut [Source],
    centre: &Direction,
    sky: &SkyContext,
    pb: Option<PbModel>,
    freq_hz: f64,
) -> Result<MosaicGridder, EngineError> {
    let ms0 = sources
        .first()
        .ok_or_else(|| EngineError::internal("a mosaic without a MeasurementSet"))?
        .ms
        .clone();
    let meta = ms0.meta();
    let pb = pb.ok_or_else(|| {
        EngineError::param(
            "gridder",
            format!(
                "gridder='mosaic' needs the primary beam of telescope '{}', which has none (give \
                 `vptable`)",
                meta.observatory.name
            ),
        )
    })?;
    let pixel = |d: &Direction, what: &str| -> Result<[f64; 2], EngineError> {
        let d = d.to_frame(centre.frame, sky).map_err(|e| {
            EngineError::param(
                "gridder",
                format!("{what} cannot be converted to the image frame: {e}"),
            )
        })?;
        let [l, m, _] = centre.lmn_of(&d);
        Ok([
            (params.nx / 2) as f64 - l / params.cell_x_rad,
            (params.ny / 2) as f64 + m / params.cell_y_rad,
        ])
    };
    let several = sources.len() > 1;
    let mut pointings: Vec<Pointing> = Vec::new();
    let mut dirs: Vec<Direction> = Vec::new();
    let mut antennas: Vec<Antenna> = Vec::new();
    for src in sources.iter_mut() {
        let m = src.ms.meta();
        let mut keys = vec![-1; m.fields.len()];
        let pointed = if params.mosaic.usepointing {
            let centres = crate::imaging::mosaic_pointing::pointing_centres(
                &src.ms,
                &src.selected,
                centre.frame,
                sky,
                lambda_over_d(&src.selected, &m.antennas),
            )?;
            tracing::info!(
                "usepointing=True: beams of {} centred on the POINTING directions",
                src.ms.path().display()
            );
            Some(centres)
        } else {
            None
        };
        for &f in &src.selected.field_ids {
            let field = m.fields.get(f).ok_or_else(|| {
                EngineError::internal(format!("selected field {f} is not in the FIELD table"))
            })?;
            let what = format!("field '{}' of {}", field.name, src.ms.path().display());
            let d = match pointed.as_ref().and_then(|c| c.get(&f)) {
                Some(d) => *d,
                None => field.phase_dir.to_frame(centre.frame, sky).map_err(|e| {
                    EngineError::param(
                        "gridder",
                        format!("{what} cannot be converted to the image frame: {e}"),
                    )
                })?,
            };
            let same = dirs.iter().position(|o| {
                let (a, b) = (o.unit_vector(), d.unit_vector());
                let chord =
                    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt();
                chord <= SAME_POINTING_RAD
            });
            keys[f] = match (several, same) {
                (true, Some(k)) => pointings[k].field_id,
                _ => {
                    let key = if several {
                        pointings.len() as i32
                    } else {
                        f as i32
                    };
                    pointings.push(Pointing {
                        field_id: key,
                        centre_px: pixel(&d, &what)?,
                        beam: 0,
                    });
                    dirs.push(d);
                    key
                }
            };
        }
        if several {
            src.keys = Some(std::sync::Arc::new(RowKeys {
                field: keys,
                antenna_offset: antennas.len() as i32,
            }));
        }
        antennas.extend(m.antennas.iter().cloned());
    }
    let psf_centre = match &params.mosaic.psfphasecenter {
        Some(d) => pixel(d, "psfphasecenter")?,
        None => [(params.nx / 2) as f64, (params.ny / 2) as f64],
    };
    let m = MosaicGridder::new(es, 0, pb, pointings, psf_centre, freq_hz);
    let (diameters, dish_of_antenna) = dishes(&antennas);
    if diameters.len() < 2 {
        return Ok(m);
    }
    let list = diameters
        .iter()
        .map(|d| format!("{d} m"))
        .collect::<Vec<_>>()
        .join(", ");
    if params.vptable.is_some() {
        return Err(EngineError::param(
            "vptable",
            format!(
                "gridder='mosaic' with antennas of different dish diameters ({list}) and a \
                 `vptable` is not supported by pclean yet (one table row would serve every dish); \
                 leave vptable unset for CASA's default beams of each dish"
            ),
        ));
    }
    let telescope = meta.observatory.name.as_str();
    let models = diameters
        .iter()
        .map(|d| {
            default_pb_model(telescope, *d, freq_hz).ok_or_else(|| {
                EngineError::param(
                    "gridder",
                    format!(
                        "gridder='mosaic' with antennas of different dish diameters ({list}): \
                         telescope '{telescope}' has no primary-beam model for the {d} m dishes"
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    tracing::info!(
        "mosaic of different dishes ({list}): each baseline through its two antennas' voltage \
         patterns ({})",
        models
            .iter()
            .map(|m| m.label.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(m.with_dishes(dish_of_antenna, models))
}

/// The beam frequencies of an mfs mosaic's data, as tclean's `findUsefulChannels` per spectral
/// window: a window whose selected channels span less than half the tolerance `0.5%` of its
/// highest frequency (`round(span / tol) = 0`) has one beam, at its first selected channel; one
/// whose span is at least `(n - 1) tol` (`n` channels) has a beam per channel; in between,
/// `round(span / tol)` beams spread evenly over the span (tclean's binning there is not
/// reproduced exactly). Each data channel then uses the nearest beam frequency
/// ([`MosaicGridder::with_beam_frequencies`]). Measured: two 1 GHz windows at 90 and 110 GHz
/// imaged as one mfs plane with beams at 100 GHz were 1.2e-2 (weight), 2.0e-2 (pb, psf) off
/// tclean's (docs/decisions.md (s9-mosaic)).
pub fn beam_frequencies(selected: &SelectedData) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    for g in &selected.groups {
        let f = &g.chan_freq_hz;
        let (lo, hi) = f
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(*v), b.max(*v))
            });
        if f.is_empty() || !lo.is_finite() {
            continue;
        }
        let span = hi - lo;
        let tol = 0.005 * hi.abs();
        let nbeam = (span / tol).round() as usize;
        let beams: Vec<f64> = if f.len() == 1 || nbeam == 0 {
            vec![f[0]]
        } else if nbeam + 1 >= f.len() {
            f.clone()
        } else {
            (0..nbeam)
                .map(|k| lo + (k as f64 + 0.5) * span / nbeam as f64)
                .collect()
        };
        for b in beams {
            if !out.contains(&b) {
                out.push(b);
            }
        }
    }
    out
}

/// `lambda / D` (radians) at the highest selected frequency for the largest unflagged dish: the
/// scale of the narrowest beam of the data (the `usepointing` spread check).
fn lambda_over_d(selected: &SelectedData, antennas: &[Antenna]) -> f64 {
    let f = selected
        .groups
        .iter()
        .flat_map(|g| g.chan_freq_hz.iter())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    let d = antennas
        .iter()
        .filter(|a| !a.flag_row)
        .fold(0.0f64, |m, a| m.max(a.dish_diameter_m));
    if f > 0.0 && d > 0.0 {
        299_792_458.0 / f / d
    } else {
        0.0
    }
}

/// The distinct dish diameters of the ANTENNA table's unflagged rows (in order of appearance)
/// and the dish of every antenna (a flagged antenna of another diameter: the first dish; it has
/// no data). tclean's `HetArrayConvFunc` keys its voltage patterns on the dish diameter.
fn dishes(antennas: &[Antenna]) -> (Vec<f64>, Vec<usize>) {
    let mut diameters: Vec<f64> = Vec::new();
    for a in antennas.iter().filter(|a| !a.flag_row) {
        if !diameters.contains(&a.dish_diameter_m) {
            diameters.push(a.dish_diameter_m);
        }
    }
    let dish_of = antennas
        .iter()
        .map(|a| {
            diameters
                .iter()
                .position(|d| *d == a.dish_diameter_m)
                .unwrap_or(0)
        })
        .collect();
    (diameters, dish_of)
}

/// The `.pb` of a mosaic plane: `sqrt(W / W_max)`, zero at or below `|pblimit|`.
pub fn pb_from_weight(weight: &Array2<f32>, pblimit: f64) -> Array2<f32> {
    let wmax = weight.iter().fold(0f32, |m, v| m.max(*v));
    let mut pb = if wmax > 0.0 {
        weight.mapv(|w| (w.max(0.0) / wmax).sqrt())
    } else {
        Array2::zeros(weight.dim())
    };
    pb_limit_in_place(pb.view_mut(), pblimit);
    pb
}

/// The response to a unit source under `normtype` at a pixel of beam `pb`.
fn response(normtype: NormType, pb: f32) -> f32 {
    match normtype {
        NormType::FlatNoise => pb,
        NormType::FlatSky => 1.0,
        NormType::PbSquare => pb * pb,
    }
}

/// Divide a mosaic residual `R` by the weight image (see the module docs), in place.
pub fn normalise_residual(
    residual: &mut Array2<f32>,
    weight: &Array2<f32>,
    normtype: NormType,
    pblimit: f64,
) {
    let wmax = weight.iter().fold(0f32, |m, v| m.max(*v)) as f64;
    let pb = pb_from_weight(weight, pblimit);
    Zip::from(residual)
        .and(weight)
        .and(&pb)
        .for_each(|r, w, b| {
            *r = if *b > 0.0 {
                let deno = match normtype {
                    NormType::FlatNoise => (*w as f64 * wmax).sqrt(),
                    NormType::FlatSky => *w as f64,
                    NormType::PbSquare => wmax,
                };
                (*r as f64 / deno) as f32
            } else {
                0.0
            };
        });
}

/// Normalise a mosaic PSF to a peak of 1, in place.
pub fn normalise_psf(psf: &mut Array2<f32>) {
    let peak = psf.iter().fold(0f32, |m, v| m.max(*v));
    if peak > 0.0 {
        psf.mapv_inplace(|v| v / peak);
    }
}

/// The sky brightness of a model in the residual's units (what the mosaic gridder predicts
/// from): divided by the response, zero where `pb <= |pblimit|`.
pub fn model_to_sky(
    model: &Array2<f32>,
    weight: &Array2<f32>,
    normtype: NormType,
    pblimit: f64,
) -> Array2<f32> {
    let pb = pb_from_weight(weight, pblimit);
    let mut sky = model.clone();
    Zip::from(&mut sky).and(&pb).for_each(|m, b| {
        *m = if *b > 0.0 {
            *m / response(normtype, *b)
        } else {
            0.0
        };
    });
    sky
}

#[cfg(test)]
mod tests {
    use super::*;

    fn antenna(d: f64, flag_row: bool) -> Antenna {
        Antenna {
            name: format!("A{d}"),
            station: String::new(),
            position_itrf_m: [0.0; 3],
            dish_diameter_m: d,
            flag_row,
        }
    }

    /// The dishes of an array: distinct unflagged diameters in order, each antenna's index; a
    /// flagged antenna of another diameter goes to the first dish.
    #[test]
    fn dishes_of_an_array() {
        let ants = [
            antenna(12.0, false),
            antenna(7.0, false),
            antenna(12.0, false),
            antenna(9.0, true),
        ];
        assert_eq!(dishes(&ants), (vec![12.0, 7.0], vec![0, 1, 0, 0]));
        assert_eq!(dishes(&ants[..1]), (vec![12.0], vec![0]));
    }

    /// A point source seen through a mosaic of beam response `pb`: the three normalisations give
    /// `pb S`, `S` and `pb^2 S`, and the model of each turns back into `S`.
    #[test]
    fn normtypes_and_their_models() {
        // W = [0.5, 0.125, 0.02], W_max = 0.5: pb = [1, 0.5, 0.2]; R = W S with S = 2.
        let w = Array2::from_shape_vec((1, 3), vec![0.5f32, 0.125, 0.02]).unwrap();
        let r = w.mapv(|v| 2.0 * v);
        let pb = pb_from_weight(&w, 0.1);
        assert_eq!(
            pb,
            Array2::from_shape_vec((1, 3), vec![1.0, 0.5, 0.2]).unwrap()
        );
        for (nt, seen) in [
            (NormType::FlatNoise, [2.0, 1.0, 0.4]),
            (NormType::FlatSky, [2.0, 2.0, 2.0]),
            (NormType::PbSquare, [2.0, 0.5, 0.08]),
        ] {
            let mut res = r.clone();
            normalise_residual(&mut res, &w, nt, 0.1);
            for (a, b) in res.iter().zip(seen) {
                assert!((a - b).abs() < 1e-6, "{nt:?}: {res}");
            }
            let sky = model_to_sky(&res, &w, nt, 0.1);
            assert!(sky.iter().all(|v| (v - 2.0).abs() < 1e-5), "{nt:?}: {sky}");
        }
        // At or below pblimit: zero.
        let mut res = r.clone();
        normalise_residual(&mut res, &w, NormType::FlatSky, 0.3);
        assert_eq!(res[[0, 2]], 0.0);
    }
}
