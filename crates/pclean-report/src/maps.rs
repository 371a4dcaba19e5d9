//! Image maps: a plane in sky coordinates (RA/Dec tick labels from the image's SIN projection),
//! a robust colour scale with its colour bar in the image's unit, the restoring beam's ellipse and
//! the clean mask's outline.

use crate::figure::{render, short_number, ColourScale};
use crate::ReportError;
use ndarray::Array2;
use pclean_core::Beam;
use pclean_imageio::ImageCoords;
use plotters::prelude::*;
use std::path::Path;

/// Largest displayed side, in screen pixels: bigger planes are averaged in boxes.
const MAP_SIDE: usize = 480;

/// What one map shows besides the plane.
pub struct MapSpec<'a> {
    pub title: String,
    /// Colour-bar label (the quantity and its unit).
    pub unit: String,
    pub scale: ColourScale,
    pub beam: Option<Beam>,
    /// Outline drawn over the map (`true` = inside), same shape as the plane.
    pub mask: Option<&'a Array2<bool>>,
    /// Show only this centred window `[x0, y0, x1, y1)` of the plane (PSF close-up).
    pub window: Option<[usize; 4]>,
}

/// `RA` of a pixel column as `hh:mm:ss.s`.
fn ra_text(rad: f64) -> String {
    let h = rad.rem_euclid(2.0 * std::f64::consts::PI) * 12.0 / std::f64::consts::PI;
    let total = (h * 36000.0).round() as i64; // tenths of a second
    format!(
        "{:02}:{:02}:{:04.1}",
        total / 36000,
        (total / 600) % 60,
        (total % 600) as f64 / 10.0
    )
}

/// `Dec` of a pixel row as `±dd:mm:ss`.
fn dec_text(rad: f64) -> String {
    let d = rad.to_degrees();
    let total = (d.abs() * 3600.0).round() as i64;
    let sign = if d < 0.0 { '-' } else { '+' };
    format!(
        "{sign}{:02}:{:02}:{:02}",
        total / 3600,
        (total / 60) % 60,
        total % 60
    )
}

/// Average `plane` in `f x f` boxes (NaN ignored).
fn boxed(plane: &Array2<f32>, f: usize) -> Array2<f32> {
    let (ny, nx) = plane.dim();
    let (by, bx) = (ny.div_ceil(f), nx.div_ceil(f));
    Array2::from_shape_fn((by, bx), |(j, i)| {
        let (mut s, mut n) = (0.0f64, 0u32);
        for y in j * f..((j + 1) * f).min(ny) {
            for x in i * f..((i + 1) * f).min(nx) {
                let v = plane[[y, x]];
                if v.is_finite() {
                    s += v as f64;
                    n += 1;
                }
            }
        }
        if n == 0 {
            f32::NAN
        } else {
            (s / n as f64) as f32
        }
    })
}

/// Draw `plane` (`plane_yx`) with `spec` to `path`.
pub fn draw_map(
    path: &Path,
    coords: &ImageCoords,
    plane: &Array2<f32>,
    spec: &MapSpec,
) -> Result<(), ReportError> {
    let (ny, nx) = plane.dim();
    let [x0, y0, x1, y1] = spec.window.unwrap_or([0, 0, nx, ny]);
    let view = plane.slice(ndarray::s![y0..y1, x0..x1]).to_owned();
    let f = view.dim().0.max(view.dim().1).div_ceil(MAP_SIDE).max(1);
    let shown = boxed(&view, f);
    let cy = coords.crpix[1];
    let cx = coords.crpix[0];
    let ra = |x: &f64| ra_text(coords.pixel_to_radec(*x, cy).0);
    let dec = |y: &f64| dec_text(coords.pixel_to_radec(cx, *y).1);
    let frame = coords.reference.frame.to_string();
    render(path, (640, 560), |root| {
        let (main, bar) = root.split_horizontally(560);
        let mut chart = ChartBuilder::on(&main)
            .caption(&spec.title, ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(x0 as f64..x1 as f64, y0 as f64..y1 as f64)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(4)
            .y_labels(5)
            .x_label_formatter(&ra)
            .y_label_formatter(&dec)
            .x_desc(format!("Right Ascension ({frame})"))
            .y_desc(format!("Declination ({frame})"))
            .label_style(("sans-serif", 12))
            .draw()?;
        let (sy, sx) = shown.dim();
        chart.draw_series(
            (0..sy)
                .flat_map(|j| (0..sx).map(move |i| (j, i)))
                .map(|(j, i)| {
                    let xa = (x0 + i * f) as f64;
                    let ya = (y0 + j * f) as f64;
                    let c = spec.scale.colour(shown[[j, i]] as f64);
                    Rectangle::new([(xa, ya), (xa + f as f64, ya + f as f64)], c.filled())
                }),
        )?;
        if let Some(mask) = spec.mask {
            chart.draw_series(
                outline(mask, [x0, y0, x1, y1])
                    .into_iter()
                    .map(|seg| PathElement::new(seg.to_vec(), WHITE.stroke_width(1))),
            )?;
        }
        if let Some(b) = spec.beam {
            let w = (x1 - x0) as f64;
            let centre = (x0 as f64 + 0.08 * w, y0 as f64 + 0.08 * (y1 - y0) as f64);
            let pts = beam_polygon(b, coords.cdelt_rad, centre);
            chart.draw_series(std::iter::once(Polygon::new(
                pts.clone(),
                WHITE.mix(0.4).filled(),
            )))?;
            chart.draw_series(std::iter::once(PathElement::new(pts, WHITE)))?;
        }
        draw_colour_bar(&bar, &spec.scale, &spec.unit)?;
        Ok(())
    })
}

/// The colour bar: the scale's colours bottom to top, ticked in data values.
fn draw_colour_bar(
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    scale: &ColourScale,
    unit: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(34)
        .margin_bottom(48)
        .margin_right(4)
        .y_label_area_size(0)
        .right_y_label_area_size(52)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(6)
        .y_label_formatter(&|u| short_number(scale.value(*u)))
        .label_style(("sans-serif", 11))
        .draw()?;
    let n = 100;
    chart.draw_series((0..n).map(|k| {
        let u = k as f64 / n as f64;
        let c = ViridisRGB::get_color(scale.unit(scale.value(u + 0.5 / n as f64)));
        Rectangle::new([(0.0, u), (1.0, u + 1.0 / n as f64)], c.filled())
    }))?;
    area.draw(&Text::new(
        unit.to_string(),
        (2, 14),
        ("sans-serif", 11).into_font(),
    ))?;
    Ok(())
}

/// The beam's ellipse in pixel coordinates around `centre`. PA runs from north through east;
/// east is towards negative x when `cdelt[0] < 0`.
pub fn beam_polygon(b: Beam, cdelt: [f64; 2], centre: (f64, f64)) -> Vec<(f64, f64)> {
    let (s, c) = b.pa_rad.sin_cos();
    (0..=48)
        .map(|k| {
            let t = k as f64 / 48.0 * std::f64::consts::TAU;
            let (a, m) = (0.5 * b.major_rad * t.cos(), 0.5 * b.minor_rad * t.sin());
            let east = a * s + m * c;
            let north = a * c - m * s;
            (centre.0 + east / cdelt[0], centre.1 + north / cdelt[1])
        })
        .collect()
}

/// The edges between mask pixels and pixels outside it within `window`, as segments in pixel
/// coordinates (pixel `(x, y)` covers `[x, x + 1) x [y, y + 1)`).
pub fn outline(mask: &Array2<bool>, window: [usize; 4]) -> Vec<[(f64, f64); 2]> {
    let [x0, y0, x1, y1] = window;
    let inside = |x: isize, y: isize| {
        x >= x0 as isize
            && y >= y0 as isize
            && x < x1 as isize
            && y < y1 as isize
            && mask[[y as usize, x as usize]]
    };
    let mut segs = Vec::new();
    for y in y0..y1 {
        for x in x0..x1 {
            if !mask[[y, x]] {
                continue;
            }
            let (xi, yi) = (x as isize, y as isize);
            let (xf, yf) = (x as f64, y as f64);
            if !inside(xi - 1, yi) {
                segs.push([(xf, yf), (xf, yf + 1.0)]);
            }
            if !inside(xi + 1, yi) {
                segs.push([(xf + 1.0, yf), (xf + 1.0, yf + 1.0)]);
            }
            if !inside(xi, yi - 1) {
                segs.push([(xf, yf), (xf + 1.0, yf)]);
            }
            if !inside(xi, yi + 1) {
                segs.push([(xf, yf + 1.0), (xf + 1.0, yf + 1.0)]);
            }
        }
    }
    segs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sexagesimal_text() {
        assert_eq!(ra_text(std::f64::consts::PI), "12:00:00.0");
        assert_eq!(dec_text(-0.5f64.to_radians()), "-00:30:00");
    }

    #[test]
    fn outline_of_a_square_is_its_perimeter() {
        let mut m = Array2::from_elem((5, 5), false);
        for y in 1..3 {
            for x in 1..4 {
                m[[y, x]] = true;
            }
        }
        // A 3 x 2 block has 2 * (3 + 2) unit edges on its boundary.
        assert_eq!(outline(&m, [0, 0, 5, 5]).len(), 10);
    }

    #[test]
    fn beam_pa_zero_points_north() {
        let b = Beam {
            major_rad: 2.0,
            minor_rad: 1.0,
            pa_rad: 0.0,
        };
        let p = beam_polygon(b, [-1.0, 1.0], (0.0, 0.0));
        // t = 0: half the major axis along +north (y), no x offset.
        assert!((p[0].0).abs() < 1e-12 && (p[0].1 - 1.0).abs() < 1e-12);
        // PA 90 deg: the major axis points east, i.e. towards -x with cdelt_x < 0.
        let b90 = Beam {
            pa_rad: std::f64::consts::FRAC_PI_2,
            ..b
        };
        let q = beam_polygon(b90, [-1.0, 1.0], (0.0, 0.0));
        assert!((q[0].0 + 1.0).abs() < 1e-12 && q[0].1.abs() < 1e-12);
    }
}
