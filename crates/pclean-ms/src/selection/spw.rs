//! `spw`: a comma-separated list of `SPW[:CHANNELS]`.
//!
//! * `SPW`: `*`, an id (`0`), an id range (`0~2`, `>1`, `<3`), a name or name pattern (`SPW0`,
//!   `BB_1*`), or a frequency matched against REF_FREQUENCY (`230GHz` exact, `1.4~1.5GHz` range,
//!   `>1GHz`, `<1GHz`).
//! * `CHANNELS`: a `;`-separated list of `START[~STOP][^STEP]` where START/STOP are channel indices
//!   (`5~50`, `5~50^2`) or frequencies with a unit (`1412.7~1413.0MHz`: every channel whose centre
//!   frequency lies in the closed interval; a single frequency selects the channel that contains it).
//!   Channel indices beyond the window are an error (CASA clips them silently; we prefer to say so).
//!
//! Several specifications of the same window are merged (union of channels).

use super::common::{
    empty_err, list_names, name_matches, parse_err, reject_malformed, split_list, IntItem,
};
use crate::error::SelectionError;
use crate::meta::SpectralWindow;
use pclean_core::units::{parse_freq_hz, split_number_unit};
use std::collections::BTreeMap;

const P: &str = "spw";

/// Selected channels (sorted, unique) per selected spectral window.
pub(crate) type SpwChannels = BTreeMap<usize, Vec<usize>>;

/// A frequency with an explicit unit (`"1.4GHz"`); `None` for bare numbers and non-frequencies.
fn freq_with_unit(s: &str) -> Option<f64> {
    let (_, unit) = split_number_unit(s)?;
    if unit.is_empty() {
        return None;
    }
    parse_freq_hz(s).ok()
}

/// A frequency item: a closed interval `[lo, hi]` in Hz (`lo == hi` for a single frequency), or an
/// open bound. `None` when the text is not a frequency.
#[derive(Debug, Clone, Copy, PartialEq)]
enum FreqItem {
    Single(f64),
    Range(f64, f64),
    Gt(f64),
    Lt(f64),
}

fn parse_freq_item(s: &str) -> Option<FreqItem> {
    let s = s.trim();
    if let Some(r) = s.strip_prefix('>') {
        return freq_with_unit(r).map(FreqItem::Gt);
    }
    if let Some(r) = s.strip_prefix('<') {
        return freq_with_unit(r).map(FreqItem::Lt);
    }
    if let Some((a, b)) = s.split_once('~') {
        let hi = freq_with_unit(b)?;
        let (_, unit_b) = split_number_unit(b)?;
        let lo = match freq_with_unit(a) {
            Some(v) => v,
            None => {
                let (va, ua) = split_number_unit(a)?;
                if !ua.is_empty() {
                    return None;
                }
                parse_freq_hz(&format!("{va}{unit_b}")).ok()?
            }
        };
        return Some(FreqItem::Range(lo.min(hi), lo.max(hi)));
    }
    freq_with_unit(s).map(FreqItem::Single)
}

/// Spectral window ids matched by one `SPW` item (may be empty).
fn spw_ids(text: &str, item: &str, spws: &[SpectralWindow]) -> Result<Vec<usize>, SelectionError> {
    let n = spws.len();
    if item == "*" {
        return Ok((0..n).collect());
    }
    if let Some(ints) = IntItem::parse(item) {
        return Ok((0..n).filter(|&i| ints.contains(i as i64)).collect());
    }
    if let Some(f) = parse_freq_item(item) {
        return Ok((0..n)
            .filter(|&i| {
                let r = spws[i].ref_freq_hz;
                match f {
                    FreqItem::Single(v) => (r - v).abs() <= 1e-6 * v.abs().max(1.0),
                    FreqItem::Range(a, b) => r >= a && r <= b,
                    FreqItem::Gt(v) => r > v,
                    FreqItem::Lt(v) => r < v,
                }
            })
            .collect());
    }
    let looks_numeric =
        item.starts_with(['>', '<', '~']) || item.contains('~') || item.contains('^');
    let expected = "a spectral window id, id range, name or frequency";
    reject_malformed(P, text, item, looks_numeric, expected)?;
    let mut out = Vec::new();
    for (i, s) in spws.iter().enumerate() {
        if name_matches(P, text, item, &s.name)? {
            out.push(i);
        }
    }
    Ok(out)
}

/// Channels of spectral window `spw_id` selected by one `START[~STOP][^STEP]` item.
fn channels(
    text: &str,
    item: &str,
    spw_id: usize,
    spw: &SpectralWindow,
) -> Result<Vec<usize>, SelectionError> {
    let nchan = spw.n_chan();
    let (range, step) = match item.split_once('^') {
        Some((r, s)) => {
            let step: usize = s.trim().parse().ok().filter(|&v| v >= 1).ok_or_else(|| {
                parse_err(
                    P,
                    text,
                    format!("channel step '^{s}' must be a positive integer"),
                )
            })?;
            (r.trim(), step)
        }
        None => (item, 1),
    };
    let beyond = |c: i64| {
        empty_err(
            P,
            text,
            format!(
                "channel {c} is beyond spectral window {spw_id}, which has {nchan} channels (0~{})",
                nchan.saturating_sub(1)
            ),
        )
    };
    let picked: Vec<usize> = if let Some(ints) = IntItem::parse(range) {
        let bounds: &[i64] = match ints {
            IntItem::One(c) => &[c],
            IntItem::Range(a, b) => &[a, b],
            _ => &[],
        };
        if let Some(&c) = bounds.iter().find(|&&c| c < 0 || c >= nchan as i64) {
            return Err(beyond(c));
        }
        (0..nchan).filter(|&c| ints.contains(c as i64)).collect()
    } else if let Some(f) = parse_freq_item(range) {
        let (lo, hi) = match f {
            FreqItem::Range(a, b) => (a, b),
            FreqItem::Gt(v) => (v, f64::INFINITY),
            FreqItem::Lt(v) => (f64::NEG_INFINITY, v),
            FreqItem::Single(v) => {
                // The channel that contains the frequency.
                let hit = (0..nchan)
                    .find(|&c| (spw.chan_freq_hz[c] - v).abs() <= 0.5 * spw.chan_width_hz[c].abs());
                return match hit {
                    Some(c) => Ok(vec![c]),
                    None => Err(empty_err(
                        P,
                        text,
                        format!(
                            "{v} Hz is in no channel of spectral window {spw_id} ({})",
                            freq_span(spw)
                        ),
                    )),
                };
            }
        };
        (0..nchan)
            .filter(|&c| spw.chan_freq_hz[c] >= lo && spw.chan_freq_hz[c] <= hi)
            .collect()
    } else {
        return Err(parse_err(
            P,
            text,
            format!("'{item}' is not a channel range (e.g. '5~50', '5~50^2', '1.41~1.42GHz')"),
        ));
    };
    if picked.is_empty() {
        return Err(empty_err(
            P,
            text,
            format!(
                "'{item}' matches no channel of spectral window {spw_id} ({} channels, {})",
                nchan,
                freq_span(spw)
            ),
        ));
    }
    Ok(picked.into_iter().step_by(step).collect())
}

fn freq_span(spw: &SpectralWindow) -> String {
    match (spw.chan_freq_hz.first(), spw.chan_freq_hz.last()) {
        (Some(a), Some(b)) => format!("channel centres {:.6} ~ {:.6} MHz", a / 1e6, b / 1e6),
        _ => "no channels".to_string(),
    }
}

/// Selected channels per spectral window; `None` selects every channel of every window.
pub(crate) fn resolve(
    text: &str,
    spws: &[SpectralWindow],
) -> Result<Option<SpwChannels>, SelectionError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let available = || {
        if spws.is_empty() {
            "this MS has no spectral windows".to_string()
        } else {
            format!(
                "this MS has spectral windows 0..{} ({})",
                spws.len() - 1,
                list_names(spws.iter().map(|s| s.name.as_str()), 10)
            )
        }
    };
    let mut out = SpwChannels::new();
    for spec in split_list(P, t, ',')? {
        let (spw_part, chan_part) = match spec.split_once(':') {
            Some((s, c)) => (s.trim(), Some(c.trim())),
            None => (spec, None),
        };
        if spw_part.is_empty() {
            return Err(parse_err(
                P,
                text,
                format!("'{spec}' has no spectral window before ':'"),
            ));
        }
        let ids = spw_ids(text, spw_part, spws)?;
        if ids.is_empty() {
            return Err(empty_err(
                P,
                text,
                format!("'{spw_part}' matches no spectral window; {}", available()),
            ));
        }
        for id in ids {
            let spw = &spws[id];
            let chans: Vec<usize> = match chan_part {
                None => (0..spw.n_chan()).collect(),
                Some(c) => {
                    let mut v = Vec::new();
                    for item in split_list(P, c, ';')
                        .map_err(|_| parse_err(P, text, format!("empty channel range in '{c}'")))?
                    {
                        v.extend(channels(text, item, id, spw)?);
                    }
                    v
                }
            };
            let entry = out.entry(id).or_default();
            entry.extend(chans);
            entry.sort_unstable();
            entry.dedup();
        }
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::SpwFrame;
    use crate::selection::common::assert_err;

    fn spws() -> Vec<SpectralWindow> {
        // Like NGC5921: 63 channels of 24.414 kHz from 1412.665 MHz; plus a second window.
        let mk = |name: &str, f0: f64, df: f64, n: usize| SpectralWindow {
            name: name.into(),
            chan_freq_hz: (0..n).map(|i| f0 + df * i as f64).collect(),
            chan_width_hz: vec![df; n],
            ref_freq_hz: f0,
            frame: SpwFrame::Known(pclean_core::frames::FreqFrame::Lsrk),
        };
        vec![
            mk("none", 1412.665e6, 24414.0625, 63),
            mk("BB_2", 230e9, -0.5e6, 16),
        ]
    }

    /// The spectral windows `text` selects.
    fn spw_ids(text: &str, s: &[SpectralWindow]) -> Vec<usize> {
        resolve(text, s).unwrap().unwrap().keys().copied().collect()
    }

    fn ch(v: &[(usize, Vec<usize>)]) -> Option<SpwChannels> {
        Some(v.iter().cloned().collect())
    }

    #[test]
    fn ids_and_channels() {
        let s = spws();
        assert_eq!(resolve("", &s).unwrap(), None);
        assert_eq!(resolve("0", &s).unwrap(), ch(&[(0, (0..63).collect())]));
        assert_eq!(
            resolve("0:5~10", &s).unwrap(),
            ch(&[(0, (5..=10).collect())])
        );
        assert_eq!(
            resolve("0:5~50^10", &s).unwrap(),
            ch(&[(0, vec![5, 15, 25, 35, 45])])
        );
        assert_eq!(
            resolve("0:0~2;10~11", &s).unwrap(),
            ch(&[(0, vec![0, 1, 2, 10, 11])])
        );
        assert_eq!(
            resolve("*:3", &s).unwrap(),
            ch(&[(0, vec![3]), (1, vec![3])])
        );
        assert_eq!(resolve("0,1", &s).unwrap().unwrap().len(), 2);
        assert_eq!(spw_ids("BB*", &s), vec![1]);
        assert_eq!(spw_ids(">0", &s), vec![1]);
    }

    #[test]
    fn frequencies() {
        let s = spws();
        // Channel k has centre 1412.665 + 0.024414 k MHz: 1412.7 ~ 1413.0 MHz holds channels 2..=13.
        assert_eq!(
            resolve("0:1412.7~1413.0MHz", &s).unwrap(),
            ch(&[(0, (2..=13).collect())])
        );
        assert_eq!(
            resolve("0:1412.7MHz~1413.0MHz", &s).unwrap(),
            ch(&[(0, (2..=13).collect())])
        );
        assert_eq!(resolve("0:1412.665MHz", &s).unwrap(), ch(&[(0, vec![0])]));
        // Descending window: 230 GHz down to 222.5 MHz below.
        assert_eq!(
            resolve("1:229.9985~230GHz", &s).unwrap(),
            ch(&[(1, vec![0, 1, 2, 3])])
        );
        assert_eq!(spw_ids("230GHz", &s), vec![1]);
    }

    #[test]
    fn errors() {
        let s = spws();
        let cases: [(&str, &[&str]); 7] = [
            ("99", &["spw '99' selects nothing", "spectral windows 0..1"]),
            ("0:5~100", &["channel 100 is beyond spectral window 0"]),
            ("0:a~b", &["cannot parse spw='0:a~b'"]),
            ("0:5~10^0", &[]),
            (":5", &[]),
            ("0:1~2;", &[]),
            ("0:2GHz", &["selects nothing"]),
        ];
        for (text, needles) in cases {
            assert_err(resolve(text, &s), needles);
        }
    }
}
