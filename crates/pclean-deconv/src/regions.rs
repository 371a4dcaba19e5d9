//! User clean masks from CASA region text (CRTF), tclean's `usemask='user'` with `mask` a region
//! file or an inline region string. DS9 region files (`.reg`) are read too (module `ds9`): a file
//! whose header or first statement is DS9's.
//!
//! # Supported
//! - Header `#CRTFv0 ...`, comment lines `# ...`, blank lines, annotation lines `ann ...`
//!   (ignored: annotations never mask, as in CASA), and `global key=value, ...` lines: their
//!   options are the defaults of every region line after them (a line's own options win).
//! - Shapes (one per line; the mask is their union, in file order):
//!   `box [[x1, y1], [x2, y2]]` (corners), `centerbox [[x, y], [width, height]]`,
//!   `circle [[x, y], r]`, `annulus [[x, y], [r1, r2]]`, `poly [[x1, y1], [x2, y2], [x3, y3], ...]`.
//! - A leading `-` makes a region an exclusion: its pixels are removed from what the lines above
//!   it built (a leading `+` is accepted and means include).
//! - Positions in pixels (`10pix`, or a bare number) or in world coordinates
//!   (`15h22m00s`, `15:22:00.0`, `230.5deg` for RA; `+05d04m00s`, `+05.04.00`, `5.07deg` for Dec),
//!   lengths in pixels (`10pix`, bare number) or angles (`30arcsec`, `0.5arcmin`, `0.01deg`).
//!   World coordinates need a [`SkyGeometry`] (SIN projection).
//! - Trailing options after the shape: `coord=J2000|ICRS` (other frames are an error),
//!   `corr=[I, V, ...]` (the region masks only those Stokes planes, as in CASA; a line none of
//!   whose planes the image has is an error), `range=` (an error: spectral ranges are not
//!   supported); display options (`label=`, colours ...) do not change a mask and are skipped.
//!
//! # Pixel conventions (casacore's `LCBox`, `LCEllipsoid`, `LCPolygon`)
//! Pixel coordinates are 0-based, `x` along RA (RA increasing to the left), `y` along Dec. A pixel
//! belongs to a region when its centre lies inside or on the boundary: a box
//! `[[10pix,10pix],[20pix,20pix]]` holds 11 x 11 pixels. An annulus is the outer circle minus the
//! inner one. A world-coordinate circle is an ellipse in pixels when the cells are not square.

mod ds9;
mod parse;

pub use ds9::parse_ds9;
use ndarray::Array2;
use parse::{parse_line, parse_options, LineOptions};
use pclean_core::Direction;
use std::path::{Path, PathBuf};

/// Pixel <-> world for a SIN-projected image (no rotation).
///
/// `l = (x - crpix_x) * cdelt_x_rad`, `m = (y - crpix_y) * cdelt_y_rad` with `(l, m)` the direction
/// cosines of [`Direction::lmn_of`] (l towards east). CASA images have `cdelt_x < 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SkyGeometry {
    /// Projection centre (the reference direction).
    pub reference: Direction,
    /// 0-based reference pixel.
    pub crpix_x: f64,
    pub crpix_y: f64,
    /// Increments, radians per pixel (`cdelt_x` negative for RA increasing to the left).
    pub cdelt_x_rad: f64,
    pub cdelt_y_rad: f64,
}

impl SkyGeometry {
    /// tclean's geometry for an `nx x ny` image with `cell` sizes (positive radians) centred on
    /// `reference`: reference pixel `(nx/2, ny/2)`, `cdelt = (-cell_x, +cell_y)`.
    pub fn for_image(
        reference: Direction,
        nx: usize,
        ny: usize,
        cell_x_rad: f64,
        cell_y_rad: f64,
    ) -> Self {
        SkyGeometry {
            reference,
            crpix_x: (nx / 2) as f64,
            crpix_y: (ny / 2) as f64,
            cdelt_x_rad: -cell_x_rad.abs(),
            cdelt_y_rad: cell_y_rad.abs(),
        }
    }

    /// Pixel coordinates of a direction; `None` on the far hemisphere.
    pub fn world_to_pixel(&self, dir: &Direction) -> Option<(f64, f64)> {
        let [l, m, n] = self.reference.lmn_of(dir);
        if n <= 0.0 {
            return None;
        }
        Some((
            self.crpix_x + l / self.cdelt_x_rad,
            self.crpix_y + m / self.cdelt_y_rad,
        ))
    }

    /// The direction at pixel `(x, y)`; `None` outside the projection's disc.
    pub fn pixel_to_world(&self, x: f64, y: f64) -> Option<Direction> {
        let l = (x - self.crpix_x) * self.cdelt_x_rad;
        let m = (y - self.crpix_y) * self.cdelt_y_rad;
        let r2 = l * l + m * m;
        if r2 > 1.0 {
            return None;
        }
        let n = (1.0 - r2).sqrt();
        let (sd0, cd0) = self.reference.dec_rad.sin_cos();
        let dec = (m * cd0 + n * sd0).clamp(-1.0, 1.0).asin();
        let dra = l.atan2(n * cd0 - m * sd0);
        let mut d = Direction::new_j2000(self.reference.ra_rad + dra, dec);
        d.frame = self.reference.frame;
        Some(d)
    }
}

/// A region shape in pixel coordinates (0-based, pixel centres at integers).
#[derive(Debug, Clone, PartialEq)]
pub enum PixelShape {
    /// Axis-aligned box, bounds inclusive.
    Box {
        xmin: f64,
        xmax: f64,
        ymin: f64,
        ymax: f64,
    },
    /// Ellipse with semi-axes along x and y (a circle in sky units).
    Ellipse { cx: f64, cy: f64, rx: f64, ry: f64 },
    /// Outer ellipse minus inner ellipse (semi-axes along x and y).
    Annulus {
        cx: f64,
        cy: f64,
        rx_in: f64,
        ry_in: f64,
        rx_out: f64,
        ry_out: f64,
    },
    /// Polygon vertices `(x, y)`.
    Polygon(Vec<(f64, f64)>),
    /// Ellipse at any angle (DS9): inside when `qxx dx^2 + qxy dx dy + qyy dy^2 <= 1`
    /// (`dx = x - cx`, `dy = y - cy`); `hx`, `hy` are its half-extents along x and y.
    RotatedEllipse {
        cx: f64,
        cy: f64,
        qxx: f64,
        qxy: f64,
        qyy: f64,
        hx: f64,
        hy: f64,
    },
}

/// One region line.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    pub shape: PixelShape,
    /// True for a `-` (exclusion) line.
    pub exclude: bool,
    /// 1-based line number in the region text.
    pub line: usize,
    /// `corr=`: the Stokes planes (upper-case names) the region applies to; `None` = all.
    pub corr: Option<Vec<String>>,
}

/// A region text or file that could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegionError {
    /// The line is not valid region syntax.
    #[error("region line {line}: {what} in '{text}'; {fix}")]
    Syntax {
        line: usize,
        text: String,
        what: String,
        fix: String,
    },
    /// A shape this reader does not support.
    #[error("region line {line}: shape '{shape}' is not supported; use box, centerbox, circle, annulus or poly")]
    UnsupportedShape { line: usize, shape: String },
    /// A coordinate or length that could not be parsed.
    #[error("region line {line}: bad {what} '{value}'; {fix}")]
    BadValue {
        line: usize,
        what: &'static str,
        value: String,
        fix: &'static str,
    },
    /// World coordinates were used but no image geometry was given.
    #[error("region line {line}: '{text}' uses world coordinates or angular sizes but no image geometry is known; give positions and sizes in pixels ('10pix')")]
    NeedsGeometry { line: usize, text: String },
    /// A world position is on the far side of the sky from the image centre.
    #[error(
        "region line {line}: position '{value}' is more than 90 degrees from the image centre"
    )]
    OffImage { line: usize, value: String },
    /// A region's `corr=` names no Stokes plane of the image.
    #[error("region line {line}: corr=[{corr}] names no Stokes plane of the image (stokes='{stokes}'); name one of the image's planes or remove corr=")]
    CorrNotInImage {
        line: usize,
        corr: String,
        stokes: String,
    },
    /// An error in a region file, naming the file.
    #[error("region file {path}: {source}")]
    InFile {
        path: PathBuf,
        #[source]
        source: Box<RegionError>,
    },
    /// The region file could not be read.
    #[error("cannot read region file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Parse CRTF text into pixel-coordinate regions.
pub fn parse_crtf(text: &str, geom: Option<&SkyGeometry>) -> Result<Vec<Region>, RegionError> {
    let mut out = Vec::new();
    let mut defaults = LineOptions::default();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let lower = t.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("global") {
            if rest.is_empty() || rest.starts_with(char::is_whitespace) {
                let opts = &t["global".len()..];
                defaults = defaults.merged(&parse_options(opts, line, t)?);
                continue;
            }
        }
        if lower.starts_with("ann ") || lower.starts_with("ann\t") {
            continue;
        }
        out.push(parse_line(t, line, geom, &defaults)?);
    }
    Ok(out)
}

/// One mask per Stokes plane of an image whose planes are `stokes` (names as `I`, `RR`, ...):
/// a region with `corr=` only masks the planes it names. Errors for a region line none of whose
/// `corr=` planes the image has.
pub fn masks_per_stokes(
    regions: &[Region],
    dim: (usize, usize),
    stokes: &[&str],
) -> Result<Vec<Array2<bool>>, RegionError> {
    for r in regions {
        if let Some(c) = &r.corr {
            if !c
                .iter()
                .any(|n| stokes.iter().any(|s| s.eq_ignore_ascii_case(n)))
            {
                return Err(RegionError::CorrNotInImage {
                    line: r.line,
                    corr: c.join(", "),
                    stokes: stokes.join(""),
                });
            }
        }
    }
    Ok(stokes
        .iter()
        .map(|s| {
            let on: Vec<Region> = regions
                .iter()
                .filter(|r| {
                    r.corr
                        .as_ref()
                        .is_none_or(|c| c.iter().any(|n| n.eq_ignore_ascii_case(s)))
                })
                .cloned()
                .collect();
            rasterize(&on, dim)
        })
        .collect())
}

/// tclean's `mask` string per Stokes plane (see [`region_mask`] and [`masks_per_stokes`]).
pub fn region_masks_per_stokes(
    spec: &str,
    geom: Option<&SkyGeometry>,
    dim: (usize, usize),
    stokes: &[&str],
) -> Result<Vec<Array2<bool>>, RegionError> {
    masks_per_stokes(&parse_spec(spec, geom)?, dim, stokes)
}

/// Parse region text, CRTF or DS9 (recognised by its header or its first statement).
pub fn parse_regions(text: &str, geom: Option<&SkyGeometry>) -> Result<Vec<Region>, RegionError> {
    if ds9::looks_like_ds9(text) {
        parse_ds9(text, geom)
    } else {
        parse_crtf(text, geom)
    }
}

/// The regions of tclean's `mask` string: a region file (CRTF or DS9) when `spec` names an
/// existing file (its errors name the file), else inline region text.
fn parse_spec(spec: &str, geom: Option<&SkyGeometry>) -> Result<Vec<Region>, RegionError> {
    let path = Path::new(spec.trim());
    if !spec.contains('[') && path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|source| RegionError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        parse_regions(&text, geom).map_err(|e| RegionError::InFile {
            path: path.to_path_buf(),
            source: Box::new(e),
        })
    } else {
        parse_regions(spec, geom)
    }
}

/// Rasterise regions onto an `(ny, nx)` grid, in order: include lines set pixels, exclusion
/// lines clear them.
pub fn rasterize(regions: &[Region], (ny, nx): (usize, usize)) -> Array2<bool> {
    let mut mask = Array2::from_elem((ny, nx), false);
    for r in regions {
        let (x0, x1, y0, y1) = bbox(&r.shape);
        let clip = |lo: f64, hi: f64, n: usize| -> Option<(usize, usize)> {
            let lo = (lo - 1e-9).ceil().max(0.0);
            let hi = (hi + 1e-9).floor().min(n as f64 - 1.0);
            (lo <= hi).then_some((lo as usize, hi as usize))
        };
        let (Some((xa, xb)), Some((ya, yb))) = (clip(x0, x1, nx), clip(y0, y1, ny)) else {
            continue;
        };
        for y in ya..=yb {
            for x in xa..=xb {
                if contains(&r.shape, x as f64, y as f64) {
                    mask[[y, x]] = !r.exclude;
                }
            }
        }
    }
    mask
}

/// Parse and rasterise CRTF text.
pub fn crtf_mask(
    text: &str,
    geom: Option<&SkyGeometry>,
    dim: (usize, usize),
) -> Result<Array2<bool>, RegionError> {
    Ok(rasterize(&parse_crtf(text, geom)?, dim))
}

/// tclean's `mask` string: a region file (CRTF or DS9) when `spec` names an existing file,
/// otherwise inline region text (several regions separated by newlines).
pub fn region_mask(
    spec: &str,
    geom: Option<&SkyGeometry>,
    dim: (usize, usize),
) -> Result<Array2<bool>, RegionError> {
    Ok(rasterize(&parse_spec(spec, geom)?, dim))
}

fn bbox(s: &PixelShape) -> (f64, f64, f64, f64) {
    match s {
        PixelShape::Box {
            xmin,
            xmax,
            ymin,
            ymax,
        } => (*xmin, *xmax, *ymin, *ymax),
        PixelShape::Ellipse { cx, cy, rx, ry } => (cx - rx, cx + rx, cy - ry, cy + ry),
        PixelShape::Annulus {
            cx,
            cy,
            rx_out,
            ry_out,
            ..
        } => (cx - rx_out, cx + rx_out, cy - ry_out, cy + ry_out),
        PixelShape::RotatedEllipse { cx, cy, hx, hy, .. } => (cx - hx, cx + hx, cy - hy, cy + hy),
        PixelShape::Polygon(v) => v.iter().fold(
            (f64::MAX, f64::MIN, f64::MAX, f64::MIN),
            |(a, b, c, d), &(x, y)| (a.min(x), b.max(x), c.min(y), d.max(y)),
        ),
    }
}

const EPS: f64 = 1e-9;

fn in_ellipse(x: f64, y: f64, cx: f64, cy: f64, rx: f64, ry: f64) -> bool {
    let (u, v) = ((x - cx) / rx, (y - cy) / ry);
    u * u + v * v <= 1.0 + EPS
}

fn contains(s: &PixelShape, x: f64, y: f64) -> bool {
    match s {
        PixelShape::Box { .. } => {
            let (xmin, xmax, ymin, ymax) = bbox(s);
            x >= xmin - EPS && x <= xmax + EPS && y >= ymin - EPS && y <= ymax + EPS
        }
        PixelShape::Ellipse { cx, cy, rx, ry } => in_ellipse(x, y, *cx, *cy, *rx, *ry),
        PixelShape::Annulus {
            cx,
            cy,
            rx_in,
            ry_in,
            rx_out,
            ry_out,
        } => {
            in_ellipse(x, y, *cx, *cy, *rx_out, *ry_out)
                && !in_ellipse(x, y, *cx, *cy, *rx_in, *ry_in)
        }
        PixelShape::Polygon(v) => in_polygon(v, x, y),
        PixelShape::RotatedEllipse {
            cx,
            cy,
            qxx,
            qxy,
            qyy,
            ..
        } => {
            let (dx, dy) = (x - cx, y - cy);
            qxx * dx * dx + qxy * dx * dy + qyy * dy * dy <= 1.0 + EPS
        }
    }
}

/// Even-odd rule, with points on an edge inside.
fn in_polygon(v: &[(f64, f64)], x: f64, y: f64) -> bool {
    let n = v.len();
    let mut inside = false;
    for i in 0..n {
        let (x1, y1) = v[i];
        let (x2, y2) = v[(i + 1) % n];
        // On the edge?
        let cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1);
        let len = ((x2 - x1).powi(2) + (y2 - y1).powi(2)).sqrt().max(EPS);
        if (cross / len).abs() < 1e-7
            && x >= x1.min(x2) - EPS
            && x <= x1.max(x2) + EPS
            && y >= y1.min(y2) - EPS
            && y <= y1.max(y2) + EPS
        {
            return true;
        }
        if (y1 > y) != (y2 > y) {
            let xi = x1 + (y - y1) * (x2 - x1) / (y2 - y1);
            if x < xi {
                inside = !inside;
            }
        }
    }
    inside
}
