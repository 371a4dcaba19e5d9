//! Narrowing a run's selection to the data channels one block can draw on, once per block, so a
//! block reads only those.

use super::Source;
use crate::error::EngineError;
use crate::plan::SpectralPlan;
use pclean_ms::DdRows;
use std::ops::Range;

/// The sources with each selection narrowed to the data channels that can contribute to image
/// channels `chans`, so a block reads only those.
pub fn restrict_sources(
    sources: &[Source],
    plan: &SpectralPlan,
    chans: &Range<usize>,
) -> Result<Vec<Source>, EngineError> {
    let mut out = Vec::with_capacity(sources.len());
    for src in sources {
        let mut selected = src.selected.clone();
        let (t0, t1) = src.ms.meta().time_range_mjd_s;
        let mut first_two_hz = src.first_two_hz.clone();
        for g in selected.groups.iter_mut() {
            if g.chan_freq_hz.len() >= 2 {
                first_two_hz
                    .entry(g.ddid)
                    .or_insert([g.chan_freq_hz[0], g.chan_freq_hz[1]]);
            }
            let keep = data_channels_for(plan, src.index, g, chans, (t0, t1))?;
            let (ids, freqs): (Vec<usize>, Vec<f64>) = g
                .chan_ids
                .iter()
                .zip(&g.chan_freq_hz)
                .filter(|(c, f)| keep(**c, **f))
                .map(|(c, f)| (*c, *f))
                .unzip();
            g.chan_ids = ids;
            g.chan_freq_hz = freqs;
        }
        selected.groups.retain(|g| !g.chan_ids.is_empty());
        out.push(Source {
            index: src.index,
            ms: src.ms.clone(),
            selected,
            column: src.column,
            cache: src.cache.clone(),
            first_two_hz,
            moving: src.moving.clone(),
            prepared: src.prepared.clone(),
            keys: src.keys.clone(),
        });
    }
    Ok(out)
}

/// A cube block's sources (already narrowed to the block, [`restrict_sources`]) with every chunk
/// read and prepared once for the block's image channels `chans` (`Source::prepared`): Stokes
/// formed, phase-shifted and regridded to the output frame once per data channel, instead of once
/// per pass (density, PSF, residual, each major cycle) of every image channel. With a frame
/// conversion a one-channel pass reads its image channel's interpolation stencil and margin
/// (about ten data channels here); a block of several channels reads each of them once. Held
/// until the block ends: the prepared columns of its channels (12 B per visibility and Stokes,
/// 4 more for an interpolated sample's weight offset) and ~70 B per row (`memory`'s
/// `BlockShape::prepared_bytes`).
pub fn prepare_block(
    vis: &super::VisPrep<'_>,
    sources: Vec<Source>,
    chans: &Range<usize>,
) -> Result<Vec<Source>, EngineError> {
    sources
        .into_iter()
        .map(|mut src| {
            let mut chunks = Vec::new();
            vis.prepare_each(&src, chans, |p| {
                chunks.push(p);
                Ok(())
            })?;
            src.prepared = Some(std::sync::Arc::new(chunks));
            Ok(src)
        })
        .collect()
}

/// Data channels beyond the block's widened image frequencies that a block reads: the
/// interpolation stencil (cubic reaches two channels beyond a sample) and one to spare, plus
/// half a channel. A whole number put the window's end exactly on a data channel when the image
/// grid is the data grid at the first integration (`--start 0 --width 1`), and rounding (UT1 -
/// UTC, ~1e-11) then read that channel or not: the memory a block used was not reproducible
/// (test_memory_model's 1.4 MiB flake, one channel of alma_small.ms). With the half channel the
/// tied channel is always read, as the memory model counts it (`READ_MARGIN_CHANS`).
const READ_MARGIN: f64 = 3.5;

/// A predicate on (data channel id, its frequency) saying whether the channel can contribute to
/// image channels `chans`.
fn data_channels_for(
    plan: &SpectralPlan,
    ms_index: usize,
    g: &DdRows,
    chans: &Range<usize>,
    times: (f64, f64),
) -> Result<Box<dyn Fn(usize, f64) -> bool>, EngineError> {
    let Some(conv) = &plan.conversion else {
        let map = plan
            .chan_map
            .get(&(ms_index, g.spw_id))
            .cloned()
            .unwrap_or_default();
        let chans = chans.clone();
        return Ok(Box::new(move |c, _| {
            map.get(c)
                .copied()
                .flatten()
                .is_some_and(|k| chans.contains(&k))
        }));
    };
    // Another frame: the block's image frequencies (widened by one image channel on each side)
    // seen in the data frame at any time of the observation, widened by [`READ_MARGIN`] data
    // channels (the interpolation stencil). The factor changes slowly and monotonically over
    // hours; sampling 17 times bounds it with margin to spare.
    let mut fmin = f64::INFINITY;
    let mut fmax = f64::NEG_INFINITY;
    let step = plan.cdelt_hz.abs();
    for k in [chans.start, chans.end - 1] {
        fmin = fmin.min(plan.freqs_hz[k] - step);
        fmax = fmax.max(plan.freqs_hz[k] + step);
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for i in 0..=16 {
        let t = times.0 + (times.1 - times.0) * i as f64 / 16.0;
        let fac = conv.factor(t)?;
        lo = lo.min(fmin / fac);
        hi = hi.max(fmax / fac);
    }
    let dw = g
        .chan_freq_hz
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0f64, f64::max);
    let (lo, hi) = (lo - READ_MARGIN * dw, hi + READ_MARGIN * dw);
    Ok(Box::new(move |_, f| f >= lo && f <= hi))
}
