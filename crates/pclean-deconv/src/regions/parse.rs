//! The CRTF line parser: shapes, positions and lengths, options, bracket lists.

use super::{PixelShape, Region, RegionError, SkyGeometry};
use pclean_core::{parse_angle_rad, Direction};

/// A nested bracket list: `[[1pix, 2pix], 3pix]`.
#[derive(Debug, Clone)]
enum Node {
    Atom(String),
    List(Vec<Node>),
}

/// Options of a region line or of a `global` line (CRTF: a global line sets the defaults of the
/// lines after it; a line's own options override them).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct LineOptions {
    /// `coord=`: "J2000" or "ICRS".
    pub frame: Option<&'static str>,
    /// `corr=[...]`: Stokes/correlation names, upper case.
    pub corr: Option<Vec<String>>,
}

impl LineOptions {
    /// `self` overridden by `over`.
    pub fn merged(&self, over: &LineOptions) -> LineOptions {
        LineOptions {
            frame: over.frame.or(self.frame),
            corr: over.corr.clone().or_else(|| self.corr.clone()),
        }
    }
}

/// A position and two lengths, pixels: `((x, y), (ax, ay), (bx, by))`.
type Centred = ((f64, f64), (f64, f64), (f64, f64));

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

    /// Arguments `[[x, y], [a, b]]` of a shape written as `form`: the position and the two
    /// lengths; a syntax error when there are not two arguments, or (`what`) when the second is
    /// not a two-element list.
    fn centre_and_lengths(
        &self,
        args: &[Node],
        form: &str,
        what: &str,
    ) -> Result<Centred, RegionError> {
        let fix = format!("write {form}");
        if args.len() != 2 {
            let shape = &form[..form.find('[').unwrap_or(form.len())];
            let count = format!("{shape} takes 2 arguments, got {}", args.len());
            return Err(self.syntax(count, fix));
        }
        let centre = self.position(&args[0])?;
        let Node::List(v) = &args[1] else {
            return Err(self.syntax(what, fix));
        };
        if v.len() != 2 {
            return Err(self.syntax(what, fix));
        }
        Ok((centre, self.length(&v[0])?, self.length(&v[1])?))
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

pub(super) fn parse_line(
    t: &str,
    line: usize,
    geom: Option<&SkyGeometry>,
    defaults: &LineOptions,
) -> Result<Region, RegionError> {
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
    let rest = rest.trim();
    let own = if rest.is_empty() {
        LineOptions::default()
    } else {
        let Some(opts) = rest.strip_prefix(',') else {
            return Err(ctx.syntax(
                format!("unexpected text '{rest}' after the shape"),
                "put options after a comma, e.g. ', coord=J2000'",
            ));
        };
        parse_options(opts, line, t)?
    };
    let options = defaults.merged(&own);
    ctx.frame = options.frame.unwrap_or("J2000");
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
            let form = "centerbox[[x, y], [width, height]]";
            let what = "centerbox size must be [width, height]";
            let ((cx, cy), (w, _), (_, h)) = ctx.centre_and_lengths(&args, form, what)?;
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
            let form = "annulus[[x, y], [r1, r2]]";
            let what = "annulus radii must be [r1, r2]";
            let ((cx, cy), (ax, ay), (bx, by)) = ctx.centre_and_lengths(&args, form, what)?;
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
        corr: options.corr,
    })
}

/// Split `key=value, key=[a, b], ...` at the commas outside brackets.
fn split_options(opts: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in opts.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&opts[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&opts[start..]);
    out
}

/// The `key=value` options after a shape (or after `global`): `coord=` (J2000 or ICRS), `corr=`
/// (the Stokes planes the region applies to), `range=` (an error: spectral ranges are not
/// supported); display options (`label=`, `color=`, ...) do not change a mask and are skipped.
pub(super) fn parse_options(
    opts: &str,
    line: usize,
    text: &str,
) -> Result<LineOptions, RegionError> {
    let syntax = |what: String, fix: &str| RegionError::Syntax {
        line,
        text: text.to_string(),
        what,
        fix: fix.to_string(),
    };
    let mut out = LineOptions::default();
    for kv in split_options(opts) {
        let Some((k, v)) = kv.split_once('=') else {
            continue;
        };
        let v = v.trim();
        match k.trim().to_ascii_lowercase().as_str() {
            "coord" => {
                out.frame = Some(if v.eq_ignore_ascii_case("J2000") {
                    "J2000"
                } else if v.eq_ignore_ascii_case("ICRS") {
                    "ICRS"
                } else {
                    return Err(RegionError::BadValue {
                        line,
                        what: "coordinate frame",
                        value: v.to_string(),
                        fix: "only coord=J2000 and coord=ICRS are supported",
                    });
                });
            }
            "corr" => {
                let inner = v
                    .strip_prefix('[')
                    .and_then(|x| x.strip_suffix(']'))
                    .ok_or_else(|| {
                        syntax(
                            format!("corr={v} is not a bracketed list"),
                            "write corr=[I] or corr=[I, V]",
                        )
                    })?;
                let names: Vec<String> = inner
                    .split(',')
                    .map(|n| {
                        n.trim()
                            .trim_matches(|c| c == '"' || c == '\'')
                            .to_ascii_uppercase()
                    })
                    .filter(|n| !n.is_empty())
                    .collect();
                if names.is_empty() {
                    return Err(syntax(
                        "corr=[] names no Stokes plane".into(),
                        "write corr=[I] or remove corr=",
                    ));
                }
                out.corr = Some(names);
            }
            "range" => {
                return Err(syntax(
                    "range= (a spectral range) is not supported".into(),
                    "remove range= and give a separate mask per channel range",
                ));
            }
            _ => {}
        }
    }
    Ok(out)
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
