//! The sections of a cube's report.

use crate::figure::ColourScale;
use crate::html::{Figure, Section};
use crate::maps::{draw_map, MapSpec};
use crate::plots::{line_plot, stop_reason_plot, Series};
use crate::psf::{psf_figure, residual_histogram};
use crate::scan::scan_cube;
use crate::{open, Products, ReportError};
use pclean_imageio::ImageMeta;
use plotters::style::{RGBColor, BLUE, RED};
use serde_json::Value;
use std::path::Path;

const C_KM_S: f64 = 299_792.458;
const GREEN: RGBColor = RGBColor(0, 140, 60);

/// Channel `c`'s width: km/s with a rest frequency, else MHz; and the unit's name.
fn channel_width(meta: &ImageMeta, c: usize) -> (f64, &'static str) {
    let sp = &meta.coords.spectral;
    let dnu = (sp.freq_hz(c as f64 + 0.5) - sp.freq_hz(c as f64 - 0.5)).abs();
    if sp.restfreq_hz > 0.0 {
        (C_KM_S * dnu / sp.restfreq_hz, "km/s")
    } else {
        (dnu / 1e6, "MHz")
    }
}

pub(crate) fn sections(
    p: &Products,
    summary: Option<&Value>,
    dir: &Path,
) -> Result<Vec<Section>, ReportError> {
    let main_path = p.image.as_ref().or(p.residual.as_ref()).expect("checked");
    let mut image = open(main_path)?;
    let meta = image.meta().clone();
    let coords = &meta.coords;
    let [_, _, _, nchan] = image.shape();
    let mut residual = p.residual.as_deref().map(open).transpose()?;
    let mut mask = p.mask.as_deref().map(open).transpose()?;
    let pix_sr = (coords.cdelt_rad[0] * coords.cdelt_rad[1]).abs();
    let beam_pixels = |c: usize| meta.beams.beam(c, 0).map(|b| b.area_sr() / pix_sr);
    let scan = scan_cube(
        &mut image,
        residual.as_mut(),
        mask.as_mut(),
        |c| channel_width(&meta, c).0,
        beam_pixels,
    )?;
    let mid = nchan / 2;
    let width_unit = channel_width(&meta, mid).1;
    let unit = if meta.units.is_empty() {
        "Jy/beam".to_string()
    } else {
        meta.units.clone()
    };
    let mut maps = Section {
        title: "Cube: where is the emission".into(),
        notes: vec![format!(
            "{} ({} channels, {} x {} pixels, first Stokes plane). White outline: the clean mask in \
             any channel; ellipse: the restoring beam of channel {mid}.",
            main_path.display(),
            nchan,
            coords.nx,
            coords.ny
        )],
        figures: Vec::new(),
    };
    let beam = meta.beams.beam(mid, 0);
    for (file, title, plane, u) in [
        (
            "mom0.png",
            "Moment 0 (sum over channels)",
            &scan.mom0,
            format!("{unit} {width_unit}"),
        ),
        (
            "peak.png",
            "Peak intensity over channels",
            &scan.peak,
            unit.clone(),
        ),
    ] {
        let vals = plane.as_slice().expect("standard layout");
        draw_map(
            &dir.join(file),
            coords,
            plane,
            &MapSpec {
                title: title.into(),
                unit: u.clone(),
                scale: ColourScale::percentiles(vals, 0.5, 99.9, 10.0),
                beam,
                mask: scan.mask_union.as_ref(),
                window: None,
            },
        )?;
        maps.figures.push(Figure {
            file: file.into(),
            caption: format!("{title} [{u}], asinh scale between the 0.5 and 99.9 percentiles"),
        });
    }
    let freq_mhz: Vec<f64> = (0..nchan)
        .map(|c| coords.spectral.freq_hz(c as f64) / 1e6)
        .collect();
    let (bx, by) = scan.brightest;
    let spec = image.get_spectrum(bx, by, 0)?;
    let (ra, dec) = coords.pixel_to_radec(bx as f64, by as f64);
    let frame = coords.spectral.frame.clone();
    line_plot(
        &dir.join("spectrum_peak.png"),
        &format!("Spectrum at the brightest pixel ({bx}, {by})"),
        &format!("frequency ({frame}), MHz"),
        &unit,
        &[Series {
            label: "image".into(),
            points: freq_mhz
                .iter()
                .copied()
                .zip(spec.iter().map(|v| *v as f64))
                .collect(),
            colour: BLUE,
        }],
    )?;
    let mut spectra = Section {
        title: "Spectra".into(),
        notes: Vec::new(),
        figures: vec![Figure {
            file: "spectrum_peak.png".into(),
            caption: format!(
                "Spectrum at the brightest pixel x={bx}, y={by} (RA {:.5} deg, Dec {:.5} deg)",
                ra.to_degrees(),
                dec.to_degrees()
            ),
        }],
    };
    if mask.is_some() {
        line_plot(
            &dir.join("spectrum_mask.png"),
            "Flux density integrated over the mask",
            &format!("frequency ({frame}), MHz"),
            "Jy",
            &[Series {
                label: "image over mask".into(),
                points: freq_mhz
                    .iter()
                    .copied()
                    .zip(scan.mask_flux_jy.iter().copied())
                    .collect(),
                colour: BLUE,
            }],
        )?;
        spectra.figures.push(Figure {
            file: "spectrum_mask.png".into(),
            caption:
                "Sum of the image over each channel's mask divided by the beam area in pixels (Jy)"
                    .into(),
        });
    } else {
        spectra
            .notes
            .push("No mask image: no spectrum over the mask.".into());
    }
    let chans: Vec<f64> = (0..nchan).map(|c| c as f64).collect();
    let per_chan = |v: &[f64]| {
        chans
            .iter()
            .copied()
            .zip(v.iter().copied())
            .collect::<Vec<_>>()
    };
    let mut diag = Section {
        title: "Per channel: which channels misbehaved".into(),
        notes: Vec::new(),
        figures: Vec::new(),
    };
    if residual.is_some() {
        line_plot(
            &dir.join("chan_residual.png"),
            "Residual per channel",
            "image channel",
            &unit,
            &[
                Series {
                    label: "robust rms (1.4826 MAD)".into(),
                    points: per_chan(&scan.residual_rms),
                    colour: BLUE,
                },
                Series {
                    label: "peak |residual|".into(),
                    points: per_chan(&scan.residual_peak),
                    colour: RED,
                },
            ],
        )?;
        diag.figures.push(Figure {
            file: "chan_residual.png".into(),
            caption: format!("Residual robust rms and peak |residual| per channel [{unit}]"),
        });
    }
    let beams: Vec<Option<pclean_core::Beam>> = (0..nchan).map(|c| meta.beams.beam(c, 0)).collect();
    if beams.iter().any(Option::is_some) {
        let axis = |f: fn(&pclean_core::Beam) -> f64| {
            beams
                .iter()
                .map(|b| b.as_ref().map(f).unwrap_or(f64::NAN))
                .collect::<Vec<_>>()
        };
        let maj = axis(|b| b.major_rad.to_degrees() * 3600.0);
        let min = axis(|b| b.minor_rad.to_degrees() * 3600.0);
        let pa = axis(|b| b.pa_rad.to_degrees());
        line_plot(
            &dir.join("chan_beam.png"),
            "Restoring beam axes per channel",
            "image channel",
            "FWHM, arcsec",
            &[
                Series {
                    label: "major".into(),
                    points: per_chan(&maj),
                    colour: BLUE,
                },
                Series {
                    label: "minor".into(),
                    points: per_chan(&min),
                    colour: RED,
                },
            ],
        )?;
        line_plot(
            &dir.join("chan_pa.png"),
            "Restoring beam position angle per channel",
            "image channel",
            "PA, deg (north through east)",
            &[Series {
                label: "PA".into(),
                points: per_chan(&pa),
                colour: GREEN,
            }],
        )?;
        diag.figures.push(Figure {
            file: "chan_beam.png".into(),
            caption: "Beam major and minor FWHM per channel (arcsec)".into(),
        });
        diag.figures.push(Figure {
            file: "chan_pa.png".into(),
            caption: "Beam position angle per channel (deg)".into(),
        });
    }
    per_channel_summary(summary, dir, &mut diag)?;
    let mut psf_section = psf_figure(p, mid, dir)?;
    if residual.is_some() {
        psf_section.figures.push(residual_histogram(
            dir,
            &scan.hist,
            "Residual pixels of every channel divided by their channel's robust rms",
        )?);
    }
    Ok(vec![maps, spectra, diag, psf_section])
}

/// Iterations and stop reasons per channel, from the run summary.
fn per_channel_summary(
    summary: Option<&Value>,
    dir: &Path,
    diag: &mut Section,
) -> Result<(), ReportError> {
    let Some(list) = summary
        .and_then(|s| s.get("channels"))
        .and_then(Value::as_array)
    else {
        diag.notes
            .push("No run summary: no iterations or stop reasons per channel.".into());
        return Ok(());
    };
    let iters: Vec<(f64, f64)> = list
        .iter()
        .filter_map(|c| Some((c.get("channel")?.as_f64()?, c.get("iterations")?.as_f64()?)))
        .collect();
    line_plot(
        &dir.join("chan_iterations.png"),
        "Minor-cycle iterations per channel",
        "image channel",
        "iterations",
        &[Series {
            label: "iterations".into(),
            points: iters,
            colour: BLUE,
        }],
    )?;
    let mut reasons: Vec<String> = Vec::new();
    let (mut ch, mut which) = (Vec::new(), Vec::new());
    for c in list {
        let (Some(k), Some(r)) = (
            c.get("channel").and_then(Value::as_u64),
            c.get("stop_reason").and_then(Value::as_str),
        ) else {
            continue;
        };
        let idx = reasons.iter().position(|x| x == r).unwrap_or_else(|| {
            reasons.push(r.to_string());
            reasons.len() - 1
        });
        ch.push(k as usize);
        which.push(idx);
    }
    stop_reason_plot(&dir.join("chan_stop.png"), &ch, &which, &reasons)?;
    diag.figures.push(Figure {
        file: "chan_iterations.png".into(),
        caption: "Minor-cycle iterations per channel (run summary)".into(),
    });
    diag.figures.push(Figure {
        file: "chan_stop.png".into(),
        caption: "Why each channel stopped cleaning (run summary)".into(),
    });
    Ok(())
}
