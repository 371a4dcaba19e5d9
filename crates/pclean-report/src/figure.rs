//! The canvas every figure is drawn on: an RGB buffer that plotters' bitmap backend draws into,
//! encoded to PNG by the `png` crate; the embedded DejaVu Sans font registered once; the robust
//! colour scale of the image maps.

use crate::ReportError;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

/// Pixels of one figure.
pub type Size = (u32, u32);

/// plotters' text through ab_glyph needs a registered font: DejaVu Sans, embedded (the page and
/// its figures must not depend on the fonts of the machine that renders them).
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is a valid TTF shipped by the `dejavu` crate; failing would be a build defect.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
}

/// Draw with `draw` on a white canvas of `size` and write it to `path` as PNG.
pub fn render(
    path: &Path,
    size: Size,
    draw: impl FnOnce(
        DrawingArea<BitMapBackend, plotters::coord::Shift>,
    ) -> Result<(), Box<dyn std::error::Error>>,
) -> Result<(), ReportError> {
    register_font();
    let mut rgb = vec![255u8; (size.0 * size.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        let plot_err = |e: Box<dyn std::error::Error>| ReportError::Plot {
            figure: path.display().to_string(),
            why: e.to_string(),
        };
        draw(root.clone()).map_err(plot_err)?;
        root.present().map_err(|e| plot_err(Box::new(e)))?;
    }
    write_png(path, size, &rgb)
}

fn write_png(path: &Path, size: Size, rgb: &[u8]) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(path).map_err(io)?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), size.0, size.1);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    // Fast deflate: the default level was 8% of a 1024^2 x 63 cube's report time; the figures
    // are flat colours and lines, which compress well at any level.
    enc.set_compression(png::Compression::Fast);
    let png_err = |e: png::EncodingError| ReportError::Plot {
        figure: path.display().to_string(),
        why: e.to_string(),
    };
    let mut w = enc.write_header().map_err(png_err)?;
    w.write_image_data(rgb).map_err(png_err)?;
    w.finish().map_err(png_err)
}

/// A colour scale robust to a few bright pixels and to noise: limits at percentiles of the finite
/// values, an asinh stretch between them (linear near the low end, logarithmic for bright
/// emission), colours from viridis.
#[derive(Debug, Clone, Copy)]
pub struct ColourScale {
    pub lo: f64,
    pub hi: f64,
    /// asinh softening: 0 = linear.
    pub stretch: f64,
}

impl ColourScale {
    /// Limits at the `p_lo` and `p_hi` percentiles (0..100) of the finite values.
    pub fn percentiles(values: &[f32], p_lo: f64, p_hi: f64, stretch: f64) -> Self {
        let mut v: Vec<f32> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return ColourScale {
                lo: 0.0,
                hi: 1.0,
                stretch,
            };
        }
        let lo = percentile(&mut v, p_lo);
        let mut hi = percentile(&mut v, p_hi);
        if hi <= lo {
            hi = lo + lo.abs().max(1e-30);
        }
        ColourScale { lo, hi, stretch }
    }

    /// The position of `v` on the scale, 0..1.
    pub fn unit(&self, v: f64) -> f64 {
        let t = ((v - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0);
        if self.stretch > 0.0 {
            (t * self.stretch).asinh() / self.stretch.asinh()
        } else {
            t
        }
    }

    /// The value at position `u` (0..1) of the scale (inverse of [`unit`](Self::unit)).
    pub fn value(&self, u: f64) -> f64 {
        let t = if self.stretch > 0.0 {
            (u * self.stretch.asinh()).sinh() / self.stretch
        } else {
            u
        };
        self.lo + t * (self.hi - self.lo)
    }

    pub fn colour(&self, v: f64) -> RGBColor {
        if !v.is_finite() {
            return RGBColor(235, 235, 235);
        }
        ViridisRGB::get_color(self.unit(v))
    }
}

/// The `p`-th percentile (0..100) of `v` (reordered), nearest rank.
pub fn percentile(v: &mut [f32], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let k = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
    let k = k.min(v.len() - 1);
    let (_, x, _) = v.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
    *x as f64
}

/// Numbers on axes: few significant digits, scientific notation for very small or large values.
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if v.fract() == 0.0 && a < 1e6 {
        format!("{v:.0}")
    } else if !(1e-3..1e4).contains(&a) {
        format!("{v:.1e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_scale_round_trips_and_clamps() {
        let s = ColourScale {
            lo: -1.0,
            hi: 3.0,
            stretch: 10.0,
        };
        for v in [-1.0, 0.0, 0.5, 2.0, 3.0] {
            // The inverse is exact up to f64 rounding of asinh/sinh.
            assert!((s.value(s.unit(v)) - v).abs() < 1e-12, "{v}");
        }
        assert_eq!(s.unit(-5.0), 0.0);
        assert_eq!(s.unit(9.0), 1.0);
    }

    #[test]
    fn percentiles_ignore_nan_and_outliers() {
        let mut v: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        v.push(f32::NAN);
        v.push(1e9);
        let s = ColourScale::percentiles(&v, 1.0, 99.0, 0.0);
        // 1001 finite values 0..999 and 1e9: the 99th percentile is rank 990.
        assert_eq!(s.lo, 10.0);
        assert_eq!(s.hi, 990.0);
    }
}
