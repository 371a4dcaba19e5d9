//! Line plots (spectra, per-channel diagnostics), the stop reasons per channel, and the residual
//! histogram against a Gaussian.

use crate::figure::{render, short_number};
use crate::ReportError;
use plotters::prelude::*;
use std::path::Path;

const PLOT_SIZE: (u32, u32) = (640, 320);

/// One curve of a line plot.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub colour: RGBColor,
}

/// The range of finite values, widened when empty or flat.
fn span(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05)
        .max(hi.abs().max(lo.abs()) * 1e-3)
        .max(1e-30);
    (lo - pad, hi + pad)
}

/// Curves of `series` against a common x axis.
pub fn line_plot(
    path: &Path,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
) -> Result<(), ReportError> {
    let (xl, xh) = span(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
    let (yl, yh) = span(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)));
    render(path, PLOT_SIZE, |root| {
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 15))
            .margin(8)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(xl..xh, yl..yh)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .x_label_formatter(&|v| short_number(*v))
            .y_label_formatter(&|v| short_number(*v))
            .label_style(("sans-serif", 12))
            .draw()?;
        for s in series {
            let c = s.colour;
            let finite: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|p| p.0.is_finite() && p.1.is_finite())
                .collect();
            chart
                .draw_series(LineSeries::new(finite.clone(), c.stroke_width(2)))?
                .label(s.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c));
            if finite.len() <= 128 {
                chart.draw_series(finite.iter().map(|p| Circle::new(*p, 2, c.filled())))?;
            }
        }
        if series.len() > 1 {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .label_font(("sans-serif", 12))
                .draw()?;
        }
        Ok(())
    })
}

/// Each channel's stop reason as a point on a categorical axis (`reasons` in first-seen order).
pub fn stop_reason_plot(
    path: &Path,
    channels: &[usize],
    reason_of: &[usize],
    reasons: &[String],
) -> Result<(), ReportError> {
    let n = reasons.len().max(1);
    let (xl, xh) = span(channels.iter().map(|c| *c as f64));
    let height = 120 + 28 * n as u32;
    render(path, (640, height), |root| {
        let mut chart = ChartBuilder::on(&root)
            .caption("Stop reason per channel", ("sans-serif", 15))
            .margin(8)
            .x_label_area_size(36)
            .y_label_area_size(250)
            .build_cartesian_2d(xl..xh, -0.5..n as f64 - 0.5)?;
        chart
            .configure_mesh()
            .y_labels(n)
            .y_label_formatter(&|v| {
                let k = v.round();
                if (v - k).abs() > 1e-6 || k < 0.0 {
                    return String::new();
                }
                reasons
                    .get(k as usize)
                    .map(|r| r.chars().take(40).collect())
                    .unwrap_or_default()
            })
            .x_desc("image channel")
            .x_label_formatter(&|v| short_number(*v))
            .label_style(("sans-serif", 11))
            .draw()?;
        chart.draw_series(
            channels
                .iter()
                .zip(reason_of)
                .map(|(c, r)| Circle::new((*c as f64, *r as f64), 3, BLUE.filled())),
        )?;
        Ok(())
    })
}

/// Histogram of residuals in units of their robust rms (`counts` over `[lo, hi)` in equal
/// bins), with the counts a standard Gaussian of the same total would give; log scale.
pub fn histogram_plot(path: &Path, lo: f64, hi: f64, counts: &[u64]) -> Result<(), ReportError> {
    let nb = counts.len();
    let w = (hi - lo) / nb as f64;
    let total: u64 = counts.iter().sum();
    let ymax = (*counts.iter().max().unwrap_or(&1)).max(1) as f64 * 2.0;
    let gauss: Vec<(f64, f64)> = (0..=400)
        .map(|k| {
            let x = lo + (hi - lo) * k as f64 / 400.0;
            let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
            (x, (total as f64 * w * pdf).max(0.3))
        })
        .collect();
    render(path, PLOT_SIZE, |root| {
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Residual pixels / robust rms, against a Gaussian",
                ("sans-serif", 15),
            )
            .margin(8)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(lo..hi, (0.5..ymax).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("residual / rms (per channel)")
            .y_desc("pixels")
            .y_label_formatter(&|v| short_number(*v))
            .label_style(("sans-serif", 12))
            .draw()?;
        chart
            .draw_series(
                counts
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| **c > 0)
                    .map(|(k, c)| {
                        let x = lo + k as f64 * w;
                        Rectangle::new([(x, 0.5), (x + w, *c as f64)], BLUE.mix(0.6).filled())
                    }),
            )?
            .label("residual pixels")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], BLUE.filled()));
        chart
            .draw_series(LineSeries::new(gauss, RED.stroke_width(2)))?
            .label("Gaussian, same count")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 12))
            .draw()?;
        Ok(())
    })
}
