//! DS9 region files (`.reg`) as clean masks: what WSClean and CARTA users bring (tclean itself
//! reads CRTF only).
//!
//! # Supported
//! - Coordinate system statements `fk5`, `j2000`, `icrs` (sky) and `image` (1-based pixels, as
//!   DS9 writes them), alone on a line or before `;` (`fk5; circle(...)`). Other systems
//!   (`galactic`, `ecliptic`, `fk4`, `b1950`, `physical`, `linear`, ...) are an error naming
//!   them. A region before any system statement is an error.
//! - Shapes: `circle(x, y, r)`, `ellipse(x, y, r1, r2[, angle])`, `box(x, y, w, h[, angle])`,
//!   `polygon(x1, y1, x2, y2, x3, y3, ...)`, `annulus(x, y, r_in, ..., r_out)` (the union of
//!   DS9's rings: inner to outer). A leading `-` excludes, `+` includes. Zero-area annotations
//!   (`point`, `line`, `text`, `vector`, `ruler`, `compass`, `projection`, `segment`) never
//!   mask and are skipped, as CRTF's `ann` lines; `panda`, `epanda`, `bpanda`, `composite` and
//!   multi-ring ellipse/box annuli are an error.
//! - Positions in a sky system: `hh:mm:ss.s` / `15h22m00s` (RA) and `dd:mm:ss.s` /
//!   `+05d04m00s` (Dec), or degrees (bare or with `d`). Sizes: `"` arcsec, `'` arcmin, `d`
//!   degrees, `r` radians, bare degrees; `i`/`p` suffix: pixels. In `image`: bare sizes are
//!   pixels. Angles: degrees counter-clockwise from the image's x axis (DS9's convention; for a
//!   north-up image its sky angles are the same).
//! - `global` lines, comment lines and everything after `#` on a line (DS9 properties such as
//!   `color=`) do not change a mask and are skipped.

use super::{PixelShape, Region, RegionError, SkyGeometry};
use pclean_core::{Direction, DirectionFrame};

/// Whether region text is DS9's: its header line, or a first statement that is a DS9
/// coordinate system or `shape(`. CRTF lines use `[`.
pub(super) fn looks_like_ds9(text: &str) -> bool {
    for raw in text.lines() {
        let t = raw.trim().to_ascii_lowercase();
        if t.starts_with("# region file format: ds9") {
            return true;
        }
        if t.is_empty() || t.starts_with('#') || t.starts_with("global") {
            continue;
        }
        let first = t.split([';', '#']).next().unwrap_or("").trim();
        let body = first.trim_start_matches(['+', '-']).trim_start();
        let name_end = body
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(body.len());
        let rest = body[name_end..].trim_start();
        let system_alone = SYSTEMS.iter().any(|(s, _)| *s == &body[..name_end]) && rest.is_empty();
        return system_alone || rest.starts_with('(');
    }
    false
}

#[derive(Clone, Copy, PartialEq)]
enum System {
    Image,
    Sky(DirectionFrame),
    Other,
}

/// DS9's coordinate systems: the ones a mask can use here, and the others (an error).
const SYSTEMS: &[(&str, System)] = &[
    ("image", System::Image),
    ("fk5", System::Sky(DirectionFrame::J2000)),
    ("j2000", System::Sky(DirectionFrame::J2000)),
    ("icrs", System::Sky(DirectionFrame::Icrs)),
    ("fk4", System::Other),
    ("b1950", System::Other),
    ("galactic", System::Other),
    ("ecliptic", System::Other),
    ("physical", System::Other),
    ("linear", System::Other),
    ("amplifier", System::Other),
    ("detector", System::Other),
    ("wcs", System::Other),
];

const ANNOTATIONS: &[&str] = &[
    "point",
    "line",
    "text",
    "vector",
    "ruler",
    "compass",
    "projection",
    "segment",
];

/// A size: pixels or an angle (radians).
#[derive(Clone, Copy)]
enum Size {
    Pix(f64),
    Rad(f64),
}

struct Statement<'a> {
    line: usize,
    text: &'a str,
    geom: Option<&'a SkyGeometry>,
    system: System,
}

impl Statement<'_> {
    fn err(&self, what: impl Into<String>, fix: impl Into<String>) -> RegionError {
        RegionError::Syntax {
            line: self.line,
            text: self.text.to_string(),
            what: what.into(),
            fix: fix.into(),
        }
    }

    fn bad(&self, what: &'static str, value: &str, fix: &'static str) -> RegionError {
        RegionError::BadValue {
            line: self.line,
            what,
            value: value.to_string(),
            fix,
        }
    }

    fn geom(&self) -> Result<&SkyGeometry, RegionError> {
        self.geom.ok_or_else(|| RegionError::NeedsGeometry {
            line: self.line,
            text: self.text.to_string(),
        })
    }

    /// A position `(x, y)` as 0-based pixels.
    fn position(&self, a: &str, b: &str) -> Result<(f64, f64), RegionError> {
        match self.system {
            System::Image => {
                let fix =
                    "in image coordinates give 1-based pixel numbers, e.g. circle(101, 101, 10)";
                let x = number(a).ok_or_else(|| self.bad("pixel position", a, fix))?;
                let y = number(b).ok_or_else(|| self.bad("pixel position", b, fix))?;
                Ok((x - 1.0, y - 1.0))
            }
            System::Sky(frame) => {
                let ra = sky_angle(a, 'h', 15.0).ok_or_else(|| {
                    self.bad(
                        "right ascension",
                        a,
                        "write RA as 15:22:00.0, 15h22m00s or degrees (230.5)",
                    )
                })?;
                let dec = sky_angle(b, 'd', 1.0).ok_or_else(|| {
                    self.bad(
                        "declination",
                        b,
                        "write Dec as +05:04:00.0, +05d04m00s or degrees (5.07)",
                    )
                })?;
                let dir = Direction::new(frame, ra.to_radians(), dec.to_radians());
                self.geom()?
                    .world_to_pixel(&dir)
                    .ok_or_else(|| RegionError::OffImage {
                        line: self.line,
                        value: format!("{a}, {b}"),
                    })
            }
            System::Other => unreachable!("refused at the system statement"),
        }
    }

    fn size(&self, s: &str) -> Result<Size, RegionError> {
        let fix = "write sizes as 30\" (arcsec), 0.5' (arcmin), 0.01d (degrees) or 10i (pixels)";
        let t = s.trim();
        let (num, scale): (&str, Option<f64>) = if let Some(n) = t.strip_suffix('"') {
            (n, Some(1.0 / 3600.0))
        } else if let Some(n) = t.strip_suffix('\'') {
            (n, Some(1.0 / 60.0))
        } else if let Some(n) = t.strip_suffix('d') {
            (n, Some(1.0))
        } else if let Some(n) = t.strip_suffix('r') {
            (n, Some(180.0 / std::f64::consts::PI))
        } else if let Some(n) = t.strip_suffix(['i', 'p']) {
            (n, None)
        } else if self.system == System::Image {
            (t, None)
        } else {
            (t, Some(1.0))
        };
        let v = number(num)
            .filter(|v| *v >= 0.0)
            .ok_or_else(|| self.bad("size", s, fix))?;
        Ok(match scale {
            None => Size::Pix(v),
            Some(k) => Size::Rad((v * k).to_radians()),
        })
    }

    /// Sizes of one shape in common units and the pixel extents of one unit `(sx, sy)`: all in
    /// pixels (`sx = sy = 1`), or all angles (radians; `1 / |cdelt|`).
    fn sizes(&self, args: &[&str]) -> Result<(Vec<f64>, f64, f64), RegionError> {
        let sizes: Vec<Size> = args
            .iter()
            .map(|a| self.size(a))
            .collect::<Result<_, _>>()?;
        if sizes.iter().all(|s| matches!(s, Size::Pix(_))) {
            let v = sizes
                .iter()
                .map(|s| if let Size::Pix(p) = s { *p } else { 0.0 });
            return Ok((v.collect(), 1.0, 1.0));
        }
        if sizes.iter().any(|s| matches!(s, Size::Pix(_))) {
            return Err(self.err(
                "the sizes of one shape mix pixels and angles",
                "give every size of a shape in pixels or every size as an angle",
            ));
        }
        let g = self.geom()?;
        let v = sizes
            .iter()
            .map(|s| if let Size::Rad(r) = s { *r } else { 0.0 });
        Ok((
            v.collect(),
            1.0 / g.cdelt_x_rad.abs(),
            1.0 / g.cdelt_y_rad.abs(),
        ))
    }

    fn angle(&self, s: Option<&&str>) -> Result<f64, RegionError> {
        let Some(s) = s else { return Ok(0.0) };
        let t = s.trim();
        number(t.strip_suffix('d').unwrap_or(t))
            .map(f64::to_radians)
            .ok_or_else(|| self.bad("angle", s, "write the angle in degrees, e.g. 30"))
    }

    fn shape(&self, name: &str, args: &[&str]) -> Result<PixelShape, RegionError> {
        let count = |ok: bool, form: &str| {
            if ok {
                Ok(())
            } else {
                Err(self.err(
                    format!("{name} with {} values", args.len()),
                    format!("write {form}"),
                ))
            }
        };
        match name {
            "circle" => {
                count(args.len() == 3, "circle(x, y, radius)")?;
                let (cx, cy) = self.position(args[0], args[1])?;
                let (r, sx, sy) = self.sizes(&args[2..3])?;
                Ok(PixelShape::Ellipse {
                    cx,
                    cy,
                    rx: r[0] * sx,
                    ry: r[0] * sy,
                })
            }
            "ellipse" | "box" => {
                let form = if name == "box" {
                    "box(x, y, width, height[, angle]) (one box, not a box annulus)"
                } else {
                    "ellipse(x, y, r1, r2[, angle]) (one ellipse, not an elliptical annulus)"
                };
                count(matches!(args.len(), 4 | 5), form)?;
                let centre = self.position(args[0], args[1])?;
                let (v, sx, sy) = self.sizes(&args[2..4])?;
                let angle = self.angle(args.get(4))?;
                let make = if name == "box" { rotated_box } else { ellipse };
                Ok(make(centre, (v[0], v[1]), (sx, sy), angle))
            }
            "polygon" => {
                count(
                    args.len() >= 6 && args.len().is_multiple_of(2),
                    "polygon(x1, y1, x2, y2, x3, y3, ...)",
                )?;
                let v = args
                    .chunks(2)
                    .map(|p| self.position(p[0], p[1]))
                    .collect::<Result<_, _>>()?;
                Ok(PixelShape::Polygon(v))
            }
            "annulus" => {
                count(args.len() >= 4, "annulus(x, y, r_inner, r_outer)")?;
                let (cx, cy) = self.position(args[0], args[1])?;
                let (r, sx, sy) = self.sizes(&args[2..])?;
                let (r_in, r_out) = (r[0], r[r.len() - 1]);
                if r_in > r_out {
                    return Err(self.err(
                        "the annulus's radii decrease",
                        "list the radii from inner to outer",
                    ));
                }
                Ok(PixelShape::Annulus {
                    cx,
                    cy,
                    rx_in: r_in * sx,
                    ry_in: r_in * sy,
                    rx_out: r_out * sx,
                    ry_out: r_out * sy,
                })
            }
            other => Err(RegionError::Syntax {
                line: self.line,
                text: self.text.to_string(),
                what: format!("DS9 shape '{other}' cannot be a mask here"),
                fix: "use circle, ellipse, box, polygon or annulus".into(),
            }),
        }
    }
}

/// An ellipse with semi-axes `r` (`r.0` along `angle`, counter-clockwise from +x) in units of
/// `(1/sx, 1/sy)` pixels.
fn ellipse(c: (f64, f64), r: (f64, f64), (sx, sy): (f64, f64), angle: f64) -> PixelShape {
    let quarter = angle / std::f64::consts::FRAC_PI_2;
    if (quarter - quarter.round()).abs() < 1e-12 {
        let (a, b) = if quarter.round() as i64 % 2 == 0 {
            r
        } else {
            (r.1, r.0)
        };
        return PixelShape::Ellipse {
            cx: c.0,
            cy: c.1,
            rx: a * sx,
            ry: b * sy,
        };
    }
    let (sn, cs) = angle.sin_cos();
    let (ia2, ib2) = (1.0 / (r.0 * r.0), 1.0 / (r.1 * r.1));
    // In units u = dx / sx, v = dy / sy: (u cos + v sin)^2 / a^2 + (-u sin + v cos)^2 / b^2 <= 1.
    PixelShape::RotatedEllipse {
        cx: c.0,
        cy: c.1,
        qxx: (cs * cs * ia2 + sn * sn * ib2) / (sx * sx),
        qxy: 2.0 * cs * sn * (ia2 - ib2) / (sx * sy),
        qyy: (sn * sn * ia2 + cs * cs * ib2) / (sy * sy),
        hx: (r.0 * r.0 * cs * cs + r.1 * r.1 * sn * sn).sqrt() * sx,
        hy: (r.0 * r.0 * sn * sn + r.1 * r.1 * cs * cs).sqrt() * sy,
    }
}

/// A box of full sizes `s` (`s.0` along `angle`) in units of `(1/sx, 1/sy)` pixels: an
/// axis-aligned box at multiples of 90 degrees, else its four corners as a polygon.
fn rotated_box(c: (f64, f64), s: (f64, f64), (sx, sy): (f64, f64), angle: f64) -> PixelShape {
    let quarter = angle / std::f64::consts::FRAC_PI_2;
    if (quarter - quarter.round()).abs() < 1e-12 {
        let (w, h) = if quarter.round() as i64 % 2 == 0 {
            s
        } else {
            (s.1, s.0)
        };
        let (hw, hh) = (w * sx / 2.0, h * sy / 2.0);
        return PixelShape::Box {
            xmin: c.0 - hw,
            xmax: c.0 + hw,
            ymin: c.1 - hh,
            ymax: c.1 + hh,
        };
    }
    let (sn, cs) = angle.sin_cos();
    let corner = |a: f64, b: f64| {
        let (u, v) = (a * s.0 / 2.0, b * s.1 / 2.0);
        (c.0 + (u * cs - v * sn) * sx, c.1 + (u * sn + v * cs) * sy)
    };
    PixelShape::Polygon(vec![
        corner(-1.0, -1.0),
        corner(1.0, -1.0),
        corner(1.0, 1.0),
        corner(-1.0, 1.0),
    ])
}

/// A plain finite number.
fn number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A sky coordinate in degrees: sexagesimal with `:` or with `first`/`m`/`s` letters (the first
/// field in units of `first_deg` degrees: 15 for hours), else degrees (bare or with `d`).
fn sky_angle(s: &str, first: char, first_deg: f64) -> Option<f64> {
    let t = s.trim();
    let (neg, body) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let parts: Vec<&str> = if body.contains(':') {
        body.split(':').collect()
    } else if let Some((a, rest)) = body.split_once(first).filter(|_| body.contains('m')) {
        let (m, sec) = rest.split_once('m')?;
        vec![a, m, sec.strip_suffix('s').unwrap_or(sec)]
    } else {
        let v = number(body.strip_suffix('d').unwrap_or(body))?;
        return Some(if neg { -v } else { v });
    };
    let [a, m, sec] = parts.as_slice() else {
        return None;
    };
    let (a, m, sec) = (
        number(a)?,
        number(m)?,
        if sec.is_empty() { 0.0 } else { number(sec)? },
    );
    if a < 0.0 || !(0.0..60.0).contains(&m) || !(0.0..60.0).contains(&sec) {
        return None;
    }
    let v = (a + m / 60.0 + sec / 3600.0) * first_deg;
    Some(if neg { -v } else { v })
}

/// Parse DS9 region text into pixel-coordinate regions (see the module's documentation).
pub fn parse_ds9(text: &str, geom: Option<&SkyGeometry>) -> Result<Vec<Region>, RegionError> {
    let mut out = Vec::new();
    let mut system: Option<System> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let code = raw.split('#').next().unwrap_or("").trim();
        if code.is_empty() || code.to_ascii_lowercase().starts_with("global") {
            continue;
        }
        for stmt in code.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let mut st = Statement {
                line,
                text: raw.trim(),
                geom,
                system: System::Other,
            };
            let (exclude, body) = match stmt.as_bytes()[0] {
                b'-' => (true, stmt[1..].trim_start()),
                b'+' => (false, stmt[1..].trim_start()),
                _ => (false, stmt),
            };
            let lower = body.to_ascii_lowercase();
            let Some(open) = lower.find('(') else {
                let Some((_, sys)) = SYSTEMS.iter().find(|(n, _)| *n == lower) else {
                    return Err(st.err(
                        format!("'{body}' is neither a coordinate system nor a shape(...)"),
                        "write a system line (fk5, icrs or image) and shapes as circle(x, y, r)",
                    ));
                };
                if *sys == System::Other {
                    return Err(st.err(
                        format!("coordinate system '{body}' is not supported for masks"),
                        "save the regions from DS9 in fk5, icrs or image coordinates",
                    ));
                }
                system = Some(*sys);
                continue;
            };
            let name = lower[..open].trim();
            if ANNOTATIONS.contains(&name) {
                continue;
            }
            let Some(close) = lower.rfind(')').filter(|c| *c > open) else {
                return Err(st.err(
                    "no ')' closing the shape's values",
                    "write e.g. circle(101, 101, 10)",
                ));
            };
            if !lower[close + 1..].trim().is_empty() {
                return Err(st.err(
                    format!(
                        "unexpected text '{}' after the shape",
                        body[close + 1..].trim()
                    ),
                    "put DS9 properties after '#', e.g. circle(101, 101, 10) # color=red",
                ));
            }
            st.system = system.ok_or_else(|| {
                st.err(
                    "a region before any coordinate system line",
                    "start the file with a line fk5, icrs or image",
                )
            })?;
            let args: Vec<&str> = body[open + 1..close]
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|a| !a.is_empty())
                .collect();
            out.push(Region {
                shape: st.shape(name, &args)?,
                exclude,
                line,
                corr: None,
            });
        }
    }
    Ok(out)
}
