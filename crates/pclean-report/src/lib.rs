//! The quick-look report of a pclean run: `IMAGENAME.report/index.html` with PNG figures drawn
//! from the products (read plane by plane, never a whole cube) and the run's summary and
//! parameters (`IMAGENAME.summary.json`, `IMAGENAME.config.json`).
//!
//! - Cubes: moment-0 and peak maps with the mask outline and the beam, the spectrum at the
//!   brightest pixel and over the mask, per-channel residual rms and peak, beam axes and PA,
//!   iterations and stop reasons, the PSF's centre and sidelobe level, the residual histogram
//!   against a Gaussian.
//! - mfs / mtmfs: image, residual, PSF, pb and (mtmfs) spectral index maps, the histogram.
//! - Every run: time, peak memory beside the memory model's estimate, the parameters.
//!
//! Only CASA images are read (the engine's reader, [`pclean_imageio::CasaImage`]); a run with
//! `format='fits'` is refused with an error saying so.

mod cube;
mod figure;
mod html;
mod maps;
mod plots;
mod psf;
mod scan;
mod single;

use html::Section;
use pclean_imageio::{CasaImage, ImageIoError};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What went wrong while making a report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    #[error(
        "no products of '{imagename}' to report on: neither '{imagename}.image' nor \
         '{imagename}.image.tt0' nor '{imagename}.residual' exists (give the run's imagename)"
    )]
    NoProducts { imagename: String },
    #[error(
        "the products of '{imagename}' are FITS files ('{found}'); the report reads CASA images: \
         image with format='casa' (then `pclean export` gives FITS)"
    )]
    FitsProducts { imagename: String, found: String },
    #[error("cannot read '{path}': {source}")]
    Image {
        path: PathBuf,
        #[source]
        source: ImageIoError,
    },
    #[error("'{path}' is not valid JSON: {why}")]
    Json { path: PathBuf, why: String },
    #[error("cannot write '{path}': {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot draw figure '{figure}': {why}")]
    Plot { figure: String, why: String },
}

impl From<ImageIoError> for ReportError {
    fn from(e: ImageIoError) -> Self {
        let path = match &e {
            ImageIoError::PlaneOutOfRange { path, .. } => path.clone(),
            _ => PathBuf::new(),
        };
        ReportError::Image { path, source: e }
    }
}

/// What [`write_report`] made.
#[derive(Debug, Clone)]
pub struct ReportOutcome {
    /// The report folder (`IMAGENAME.report`).
    pub dir: PathBuf,
    /// Its page.
    pub index: PathBuf,
    /// Number of PNG figures on the page.
    pub figures: usize,
    /// Wall time of the report, seconds.
    pub seconds: f64,
}

/// The products of a run the report reads (`None`: not made by this run).
pub(crate) struct Products {
    pub imagename: String,
    pub image: Option<PathBuf>,
    pub residual: Option<PathBuf>,
    pub psf: Option<PathBuf>,
    pub pb: Option<PathBuf>,
    pub mask: Option<PathBuf>,
    pub alpha: Option<PathBuf>,
}

impl Products {
    fn find(imagename: &str) -> Result<Self, ReportError> {
        let pick = |exts: &[&str]| {
            exts.iter()
                .map(|e| PathBuf::from(format!("{imagename}.{e}")))
                .find(|p| p.join("table.dat").is_file())
        };
        let p = Products {
            imagename: imagename.to_string(),
            image: pick(&["image", "image.tt0"]),
            residual: pick(&["residual", "residual.tt0"]),
            psf: pick(&["psf", "psf.tt0"]),
            pb: pick(&["pb", "pb.tt0"]),
            mask: pick(&["mask"]),
            alpha: pick(&["alpha"]),
        };
        if p.image.is_none() && p.residual.is_none() {
            for e in ["image.fits", "image.tt0.fits", "residual.fits"] {
                let f = format!("{imagename}.{e}");
                if Path::new(&f).is_file() {
                    return Err(ReportError::FitsProducts {
                        imagename: imagename.into(),
                        found: f,
                    });
                }
            }
            return Err(ReportError::NoProducts {
                imagename: imagename.into(),
            });
        }
        Ok(p)
    }
}

pub(crate) fn open(path: &Path) -> Result<CasaImage, ReportError> {
    CasaImage::open(path).map_err(|source| ReportError::Image {
        path: path.to_path_buf(),
        source,
    })
}

fn read_json(path: &Path) -> Result<Option<Value>, ReportError> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ReportError::Json {
                path: path.to_path_buf(),
                why: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ReportError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Make `IMAGENAME.report/index.html` and its figures for the products of `imagename`.
pub fn write_report(imagename: &str) -> Result<ReportOutcome, ReportError> {
    let t0 = Instant::now();
    let products = Products::find(imagename)?;
    let summary = read_json(Path::new(&format!("{imagename}.summary.json")))?;
    let config = read_json(Path::new(&format!("{imagename}.config.json")))?;
    let dir = PathBuf::from(format!("{imagename}.report"));
    std::fs::create_dir_all(&dir).map_err(|source| ReportError::Io {
        path: dir.clone(),
        source,
    })?;
    let main = products
        .image
        .as_deref()
        .or(products.residual.as_deref())
        .expect("Products::find guarantees one");
    let nchan = open(main)?.shape()[3];
    let sections: Vec<Section> = if nchan > 1 {
        cube::sections(&products, summary.as_ref(), &dir)?
    } else {
        single::sections(&products, &dir)?
    };
    let figures = sections.iter().map(|s| s.figures.len()).sum();
    let seconds = t0.elapsed().as_secs_f64();
    let mut rows = run_rows(summary.as_ref());
    rows.push(("report made in".into(), format!("{seconds:.1} s")));
    let params = match &config {
        Some(c) => html::params_table(c),
        None => format!(
            "<p>No '{}.config.json' beside the products.</p>\n",
            html::escape(imagename)
        ),
    };
    let title = format!("pclean report: {imagename}");
    let index = dir.join("index.html");
    std::fs::write(&index, html::page(&title, &rows, &sections, &params)).map_err(|source| {
        ReportError::Io {
            path: index.clone(),
            source,
        }
    })?;
    Ok(ReportOutcome {
        dir,
        index,
        figures,
        seconds,
    })
}

/// The run's facts from its summary: time, memory beside the model's estimate, iterations.
fn run_rows(summary: Option<&Value>) -> Vec<(String, String)> {
    let Some(s) = summary else {
        return vec![(
            "summary".into(),
            "no IMAGENAME.summary.json beside the products".into(),
        )];
    };
    let num = |k: &str| s.get(k).and_then(Value::as_f64);
    let text = |k: &str| {
        s.get(k)
            .map(|v| match v {
                Value::String(t) => t.clone(),
                other => other.to_string(),
            })
            .unwrap_or_else(|| "—".into())
    };
    let mib = |v: Option<f64>| v.map(|v| format!("{v:.0} MiB")).unwrap_or("—".into());
    let mut rows = vec![
        ("pclean version".into(), text("pclean_version")),
        (
            "specmode / deconvolver".into(),
            format!("{} / {}", text("specmode"), text("deconvolver")),
        ),
        ("gridder".into(), text("gridder")),
        (
            "image size x channels".into(),
            format!("{} x {}", text("imsize"), text("nchan")),
        ),
        (
            "wall time".into(),
            num("wall_time_s")
                .map(|t| format!("{t:.1} s"))
                .unwrap_or("—".into()),
        ),
        ("threads".into(), text("nthreads")),
        ("minor-cycle iterations".into(), text("total_iterations")),
        ("peak resident memory".into(), mib(num("peak_rss_mib"))),
        (
            "idle resident memory (before imaging)".into(),
            mib(num("idle_rss_mib")),
        ),
    ];
    let added = num("peak_rss_mib")
        .zip(num("idle_rss_mib"))
        .map(|(p, i)| p - i);
    let model = num("memory_estimate_mib");
    let ratio = added
        .zip(model)
        .filter(|(_, m)| *m > 0.0)
        .map(|(a, m)| format!(" (measured / model = {:.2})", a / m))
        .unwrap_or_default();
    rows.push((
        "memory the imaging added (peak - idle) vs the memory model's estimate".into(),
        format!("{} vs {}{ratio}", mib(added), mib(model)),
    ));
    rows.push(("memory budget".into(), mib(num("memory_limit_mib"))));
    if let Some(w) = s.get("warnings").and_then(Value::as_array) {
        for (k, v) in w.iter().enumerate() {
            rows.push((
                format!("warning {}", k + 1),
                v.as_str().unwrap_or("").into(),
            ));
        }
    }
    rows
}
