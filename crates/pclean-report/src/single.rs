//! The sections of a one-channel (mfs / mtmfs) image's report.

use crate::figure::ColourScale;
use crate::html::{Figure, Section};
use crate::maps::{draw_map, MapSpec};
use crate::psf::{psf_figure, residual_histogram};
use crate::scan::scan_cube;
use crate::{open, Products, ReportError};
use std::path::{Path, PathBuf};

/// One map per product, in the order of the page.
struct MapProduct<'a> {
    path: &'a Option<PathBuf>,
    file: &'static str,
    what: &'static str,
    /// Percentile limits and asinh softening (0 = linear).
    limits: (f64, f64, f64),
    with_mask: bool,
}

pub(crate) fn sections(p: &Products, dir: &Path) -> Result<Vec<Section>, ReportError> {
    let mask = match &p.mask {
        Some(m) => Some(open(m)?.get_plane(0, 0)?.mapv(|v| v > 0.5)),
        None => None,
    };
    let mut maps = Section {
        title: "Continuum image".into(),
        notes: vec![format!(
            "Products of '{}' (first Stokes plane). White outline: the clean mask; ellipse: the restoring beam.",
            p.imagename
        )],
        figures: Vec::new(),
    };
    let list = [
        MapProduct {
            path: &p.image,
            file: "image.png",
            what: "Restored image",
            limits: (0.5, 99.9, 10.0),
            with_mask: true,
        },
        MapProduct {
            path: &p.residual,
            file: "residual.png",
            what: "Residual",
            limits: (0.5, 99.5, 0.0),
            with_mask: true,
        },
        MapProduct {
            path: &p.pb,
            file: "pb.png",
            what: "Primary beam",
            limits: (0.0, 100.0, 0.0),
            with_mask: false,
        },
        MapProduct {
            path: &p.alpha,
            file: "alpha.png",
            what: "Spectral index (alpha)",
            limits: (2.0, 98.0, 0.0),
            with_mask: true,
        },
    ];
    for m in &list {
        let Some(path) = m.path else { continue };
        let mut img = open(path)?;
        let meta = img.meta().clone();
        let plane = img.get_plane(0, 0)?;
        let vals = plane.as_slice().expect("standard layout");
        let (a, b, st) = m.limits;
        let unit = if meta.units.is_empty() {
            "(no unit)".to_string()
        } else {
            meta.units.clone()
        };
        draw_map(
            &dir.join(m.file),
            &meta.coords,
            &plane,
            &MapSpec {
                title: format!("{} ({})", m.what, path.display()),
                unit: unit.clone(),
                scale: ColourScale::percentiles(vals, a, b, st),
                beam: meta.beams.beam(0, 0),
                mask: if m.with_mask { mask.as_ref() } else { None },
                window: None,
            },
        )?;
        let stretch = if st > 0.0 { "asinh" } else { "linear" };
        maps.figures.push(Figure {
            file: m.file.into(),
            caption: format!(
                "{} [{unit}], {stretch} scale between the {a} and {b} percentiles",
                m.what
            ),
        });
    }
    let mut psf_section = psf_figure(p, 0, dir)?;
    if let Some(rpath) = &p.residual {
        let mut res = open(rpath)?;
        let main = p.image.as_ref().unwrap_or(rpath);
        let mut img = open(main)?;
        let scan = scan_cube(&mut img, Some(&mut res), None, |_| 1.0, |_| None)?;
        psf_section.figures.push(residual_histogram(
            dir,
            &scan.hist,
            "Residual pixels divided by their robust rms",
        )?);
        psf_section.notes.push(format!(
            "Residual robust rms {:.4e}, peak |residual| {:.4e} ({})",
            scan.residual_rms[0],
            scan.residual_peak[0],
            res.meta().units
        ));
    }
    Ok(vec![maps, psf_section])
}
