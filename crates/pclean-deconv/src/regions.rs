//! User clean masks from CASA region text (CRTF), tclean's `usemask='user'` with `mask` a region
//! file or an inline region string.
//!
//! # Supported
//! - Header `#CRTFv0 ...`, comment lines `# ...`, blank lines, `global ...` lines (ignored),
//!   annotation lines `ann ...` (ignored: annotations never mask, as in CASA).
//! - Shapes (one per line; the mask is their union, in file order):
//!   `box [[x1, y1], [x2, y2]]` (corners), `centerbox [[x, y], [width, height]]`,
//!   `circle [[x, y], r]`, `annulus [[x, y], [r1, r2]]`, `poly [[x1, y1], [x2, y2], [x3, y3], ...]`.
//! - A leading `-` makes a region an exclusion: its pixels are removed from what the lines above
//!   it built (a leading `+` is accepted and means include).
//! - Positions in pixels (`10pix`, or a bare number) or in world coordinates
//!   (`15h22m00s`, `15:22:00.0`, `230.5deg` for RA; `+05d04m00s`, `+05.04.00`, `5.07deg` for Dec),
//!   lengths in pixels (`10pix`, bare number) or angles (`30arcsec`, `0.5arcmin`, `0.01deg`).
//!   World coordinates need a [`SkyGeometry`] (SIN projection).
//! - Trailing options after the shape: `coord=J2000|ICRS` (other frames are an error), `range=`
//!   (an error: spectral ranges are not supported), anything else (`corr=`, `label=`, colours ...)
//!   ignored.
//!
//! # Pixel conventions (casacore's `LCBox`, `LCEllipsoid`, `LCPolygon`)
//! Pixel coordinates are 0-based, `x` along RA (RA increasing to the left), `y` along Dec. A pixel
//! belongs to a region when its centre lies inside or on the boundary: a box
//! `[[10pix,10pix],[20pix,20pix]]` holds 11 x 11 pixels. An annulus is the outer circle minus the
//! inner one. A world-coordinate circle is an ellipse in pixels when the cells are not square.

use ndarray::Array2;
use pclean_core::{parse_angle_rad, Direction};
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
}

/// One region line.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    pub shape: PixelShape,
    /// True for a `-` (exclusion) line.
    pub exclude: bool,
    /// 1-based line number in the region text.
    pub line: usize,
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
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let lower = t.to_ascii_lowercase();
        if lower.starts_with("global") || lower.starts_with("ann ") || lower.starts_with("ann\t") {
            continue;
        }
        out.push(parse_line(t, line, geom)?);
    }
    Ok(out)
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

/// tclean's `mask` string: a region file when `spec` names an existing file, otherwise inline
/// region text (several regions separated by newlines).
pub fn region_mask(
    spec: &str,
    geom: Option<&SkyGeometry>,
    dim: (usize, usize),
) -> Result<Array2<bool>, RegionError> {
    let path = Path::new(spec.trim());
    if !spec.contains('[') && path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|source| RegionError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        crtf_mask(&text, geom, dim)
    } else {
        crtf_mask(spec, geom, dim)
    }
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
        PixelShape::Box {
            xmin,
            xmax,
            ymin,
            ymax,
        } => x >= xmin - EPS && x <= xmax + EPS && y >= ymin - EPS && y <= ymax + EPS,
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

/// A nested bracket list: `[[1pix, 2pix], 3pix]`.
#[derive(Debug, Clone)]
enum Node {
    Atom(String),
    List(Vec<Node>),
}

struct LineCtx<'a> {
    line: usize,
    text: &'a str,
    geom: Option<&'a SkyGeometry>,
    frame: &'a str,
}

impl LineCtx<'_> {
    fn syntax(&self, what: impl Into<String>, fix: impl Into<String>) -> RegionError {
        RegionError::Syntax {
            line: self.line,
            text: self.text.to_string(),
            what: what.into(),
            fix: fix.into(),
        }
    }

    fn need_geom(&self) -> Result<&SkyGeometry, RegionError> {
        self.geom.ok_or_else(|| RegionError::NeedsGeometry {
            line: self.line,
            text: self.text.to_string(),
        })
    }

    /// A pixel number: `12.5pix` or `12.5`.
    fn pix_value(s: &str) -> Option<f64> {
        let t = s.trim();
        let t = t.strip_suffix("pix").unwrap_or(t).trim();
        t.parse::<f64>().ok()
    }

    fn position(&self, n: &Node) -> Result<(f64, f64), RegionError> {
        let Node::List(v) = n else {
            return Err(self.syntax(
                "expected a position [x, y]",
                "write positions as [10pix, 20pix] or [15h22m00s, +05d04m00s]",
            ));
        };
        let [Node::Atom(a), Node::Atom(b)] = v.as_slice() else {
            return Err(self.syntax(
                "a position needs exactly two values",
                "write positions as [x, y]",
            ));
        };
        match (Self::pix_value(a), Self::pix_value(b)) {
            (Some(x), Some(y)) => Ok((x, y)),
            (None, None) => {
                let g = self.need_geom()?;
                let dir = Direction::parse(&format!("{} {} {}", self.frame, a.trim(), b.trim())).map_err(|e| RegionError::BadValue {
                    line: self.line,
                    what: "world position",
                    value: format!("[{}, {}]: {}", a.trim(), b.trim(), e.why),
                    fix: "use e.g. [15h22m00s, +05d04m00s], [15:22:00, +05.04.00] or [230.5deg, 5.07deg]",
                })?;
                g.world_to_pixel(&dir).ok_or_else(|| RegionError::OffImage {
                    line: self.line,
                    value: format!("[{}, {}]", a.trim(), b.trim()),
                })
            }
            _ => Err(self.syntax(
                format!(
                    "position [{}, {}] mixes pixel and world coordinates",
                    a.trim(),
                    b.trim()
                ),
                "give both coordinates in pixels or both in world units",
            )),
        }
    }

    /// A length as pixel extents along x and y.
    fn length(&self, n: &Node) -> Result<(f64, f64), RegionError> {
        let Node::Atom(s) = n else {
            return Err(self.syntax("expected a length", "write lengths as 10pix or 30arcsec"));
        };
        let v = if let Some(p) = Self::pix_value(s) {
            (p, p)
        } else {
            let ang = parse_angle_rad(s.trim()).map_err(|_| RegionError::BadValue {
                line: self.line,
                what: "length",
                value: s.trim().to_string(),
                fix: "use pixels (10pix) or an angle (30arcsec, 0.5arcmin, 0.01deg)",
            })?;
            let g = self.need_geom()?;
            (ang / g.cdelt_x_rad.abs(), ang / g.cdelt_y_rad.abs())
        };
        if !(v.0.is_finite() && v.0 >= 0.0 && v.1.is_finite() && v.1 >= 0.0) {
            return Err(RegionError::BadValue {
                line: self.line,
                what: "length",
                value: s.trim().to_string(),
                fix: "lengths must be non-negative",
            });
        }
        Ok(v)
    }
}

fn parse_line(t: &str, line: usize, geom: Option<&SkyGeometry>) -> Result<Region, RegionError> {
    let (exclude, body) = match t.as_bytes()[0] {
        b'-' => (true, t[1..].trim_start()),
        b'+' => (false, t[1..].trim_start()),
        _ => (false, t),
    };
    let mut ctx = LineCtx {
        line,
        text: t,
        geom,
        frame: "J2000",
    };
    let Some(open) = body.find('[') else {
        return Err(ctx.syntax(
            "no '[' after the shape name",
            "write e.g. circle[[100pix, 100pix], 10pix]",
        ));
    };
    let shape = body[..open].trim().to_ascii_lowercase();
    if shape.is_empty() || !shape.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(ctx.syntax(
            format!("'{}' is not a shape name", body[..open].trim()),
            "start the line with box, centerbox, circle, annulus or poly",
        ));
    }
    let (node, rest) = parse_list(&body[open..]).map_err(|what| {
        ctx.syntax(
            what,
            "check that every '[' has a matching ']' and values are separated by commas",
        )
    })?;
    let frame = parse_options(rest, &ctx)?;
    ctx.frame = frame;
    let Node::List(args) = node else {
        unreachable!("parse_list returns a list")
    };
    let nargs = |n: usize, form: &str| -> Result<(), RegionError> {
        if args.len() != n {
            Err(ctx.syntax(
                format!("{shape} takes {n} arguments, got {}", args.len()),
                format!("write {form}"),
            ))
        } else {
            Ok(())
        }
    };
    let shape = match shape.as_str() {
        "box" => {
            nargs(2, "box[[x1, y1], [x2, y2]]")?;
            let (x1, y1) = ctx.position(&args[0])?;
            let (x2, y2) = ctx.position(&args[1])?;
            PixelShape::Box {
                xmin: x1.min(x2),
                xmax: x1.max(x2),
                ymin: y1.min(y2),
                ymax: y1.max(y2),
            }
        }
        "centerbox" => {
            nargs(2, "centerbox[[x, y], [width, height]]")?;
            let (cx, cy) = ctx.position(&args[0])?;
            let Node::List(wh) = &args[1] else {
                return Err(ctx.syntax(
                    "centerbox size must be [width, height]",
                    "write centerbox[[x, y], [width, height]]",
                ));
            };
            if wh.len() != 2 {
                return Err(ctx.syntax(
                    "centerbox size must be [width, height]",
                    "write centerbox[[x, y], [width, height]]",
                ));
            }
            let (w, _) = ctx.length(&wh[0])?;
            let (_, h) = ctx.length(&wh[1])?;
            PixelShape::Box {
                xmin: cx - w / 2.0,
                xmax: cx + w / 2.0,
                ymin: cy - h / 2.0,
                ymax: cy + h / 2.0,
            }
        }
        "circle" => {
            nargs(2, "circle[[x, y], r]")?;
            let (cx, cy) = ctx.position(&args[0])?;
            let (rx, ry) = ctx.length(&args[1])?;
            PixelShape::Ellipse { cx, cy, rx, ry }
        }
        "annulus" => {
            nargs(2, "annulus[[x, y], [r1, r2]]")?;
            let (cx, cy) = ctx.position(&args[0])?;
            let Node::List(rr) = &args[1] else {
                return Err(ctx.syntax(
                    "annulus radii must be [r1, r2]",
                    "write annulus[[x, y], [r1, r2]]",
                ));
            };
            if rr.len() != 2 {
                return Err(ctx.syntax(
                    "annulus radii must be [r1, r2]",
                    "write annulus[[x, y], [r1, r2]]",
                ));
            }
            let (ax, ay) = ctx.length(&rr[0])?;
            let (bx, by) = ctx.length(&rr[1])?;
            PixelShape::Annulus {
                cx,
                cy,
                rx_in: ax.min(bx),
                ry_in: ay.min(by),
                rx_out: ax.max(bx),
                ry_out: ay.max(by),
            }
        }
        "poly" => {
            if args.len() < 3 {
                return Err(ctx.syntax(
                    format!("poly needs at least 3 vertices, got {}", args.len()),
                    "write poly[[x1, y1], [x2, y2], [x3, y3], ...]",
                ));
            }
            PixelShape::Polygon(
                args.iter()
                    .map(|a| ctx.position(a))
                    .collect::<Result<_, _>>()?,
            )
        }
        other => {
            return Err(RegionError::UnsupportedShape {
                line,
                shape: other.to_string(),
            });
        }
    };
    Ok(Region {
        shape,
        exclude,
        line,
    })
}

/// Trailing `, key=value` options. Returns the frame name.
fn parse_options<'a>(rest: &'a str, ctx: &LineCtx<'_>) -> Result<&'a str, RegionError> {
    let rest = rest.trim();
    if rest.is_empty() {
        return Ok("J2000");
    }
    let Some(opts) = rest.strip_prefix(',') else {
        return Err(ctx.syntax(
            format!("unexpected text '{rest}' after the shape"),
            "put options after a comma, e.g. ', coord=J2000'",
        ));
    };
    let mut frame = "J2000";
    for kv in opts.split(',') {
        let Some((k, v)) = kv.split_once('=') else {
            continue;
        };
        match k.trim().to_ascii_lowercase().as_str() {
            "coord" => {
                let v = v.trim();
                if v.eq_ignore_ascii_case("J2000") {
                    frame = "J2000";
                } else if v.eq_ignore_ascii_case("ICRS") {
                    frame = "ICRS";
                } else {
                    return Err(RegionError::BadValue {
                        line: ctx.line,
                        what: "coordinate frame",
                        value: v.to_string(),
                        fix: "only coord=J2000 and coord=ICRS are supported",
                    });
                }
            }
            "range" => {
                return Err(ctx.syntax(
                    "range= (a spectral range) is not supported",
                    "remove range= and give a separate mask per channel range",
                ));
            }
            _ => {}
        }
    }
    Ok(frame)
}

/// Parse one bracketed list at the start of `s`; returns it and the text after it.
fn parse_list(s: &str) -> Result<(Node, &str), String> {
    let mut stack: Vec<Vec<Node>> = Vec::new();
    let mut atom = String::new();
    let flush = |atom: &mut String, top: &mut Vec<Node>| -> Result<(), String> {
        let a = atom.trim();
        if !a.is_empty() {
            top.push(Node::Atom(a.to_string()));
        }
        atom.clear();
        Ok(())
    };
    for (i, b) in s.char_indices() {
        match b {
            '[' => {
                if !atom.trim().is_empty() {
                    return Err(format!("unexpected '[' after '{}'", atom.trim()));
                }
                atom.clear();
                stack.push(Vec::new());
            }
            ']' => {
                let mut top = stack.pop().ok_or_else(|| "unmatched ']'".to_string())?;
                flush(&mut atom, &mut top)?;
                let node = Node::List(top);
                match stack.last_mut() {
                    Some(parent) => parent.push(node),
                    None => return Ok((node, &s[i + 1..])),
                }
            }
            ',' => {
                let top = stack
                    .last_mut()
                    .ok_or_else(|| "',' outside brackets".to_string())?;
                if atom.trim().is_empty() && !matches!(top.last(), Some(Node::List(_))) {
                    return Err("empty value between commas".to_string());
                }
                flush(&mut atom, top)?;
            }
            _ => atom.push(b),
        }
        if stack.is_empty() {
            return Err("text before the first '['".to_string());
        }
    }
    Err("missing ']'".to_string())
}
