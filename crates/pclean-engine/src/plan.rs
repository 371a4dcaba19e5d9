//! Planning an imaging run: the image phase centre, and the image spectral axis with the mapping
//! from every selected data channel to the image channel it is gridded into.

use crate::error::EngineError;
use pclean_core::params::{ImagingParams, PhaseCenter, SpecMode, SpectralValue};
use pclean_core::Direction;
use std::collections::BTreeMap;

/// What the planner needs to know about one selected spectral window of one MS.
#[derive(Debug, Clone)]
pub struct SpwSelection {
    pub ms_index: usize,
    pub spw_id: usize,
    /// Selected data channels (indices into the spw), ascending.
    pub channels: Vec<usize>,
    /// Centre frequency of every channel of the spw, Hz.
    pub chan_freq_hz: Vec<f64>,
    /// Width of every channel of the spw, Hz.
    pub chan_width_hz: Vec<f64>,
    /// The spw's frequency frame name (casacore's, e.g. "LSRK", "TOPO").
    pub frame: String,
}

/// The image spectral axis and the channel mapping.
#[derive(Debug, Clone)]
pub struct SpectralPlan {
    /// Image channel centre frequencies, Hz (one entry for mfs).
    pub freqs_hz: Vec<f64>,
    /// Image channel increment, Hz (the whole bandwidth for mfs).
    pub cdelt_hz: f64,
    /// Spectral frame of the image axis.
    pub frame: String,
    pub mfs: bool,
    /// (ms index, spw id) -> image channel of every data channel of that spw (`None`: not imaged).
    pub chan_map: BTreeMap<(usize, usize), Vec<Option<usize>>>,
}

impl SpectralPlan {
    pub fn nchan(&self) -> usize {
        self.freqs_hz.len()
    }
}

/// Choose the image phase centre. `fields(ms)` gives each MS's field phase directions and
/// `first_field` the first selected field (ms 0).
pub fn phase_centre(
    params: &ImagingParams,
    field_dirs_ms0: &[Direction],
    first_field: usize,
) -> Result<Direction, EngineError> {
    match &params.phasecenter {
        PhaseCenter::FirstField => Ok(field_dirs_ms0[first_field]),
        PhaseCenter::FieldId(id) => field_dirs_ms0.get(*id).copied().ok_or_else(|| {
            EngineError::Param(format!(
                "phasecenter={id}: the first MS has fields 0..{} only",
                field_dirs_ms0.len().saturating_sub(1)
            ))
        }),
        PhaseCenter::Direction(d) => Ok(*d),
    }
}

/// Build the spectral plan. The first selection defines the channel grid for cubes; channels of
/// other windows and MSs map onto it by frequency (an image channel takes every data channel whose
/// centre lies within it). Frame conversion is not done here: a cube is made in the data's frame.
pub fn spectral_plan(
    params: &ImagingParams,
    sels: &[SpwSelection],
) -> Result<SpectralPlan, EngineError> {
    let first = sels
        .first()
        .ok_or_else(|| EngineError::Param("the selection contains no spectral window".into()))?;
    let frames: Vec<&str> = sels.iter().map(|s| s.frame.as_str()).collect();
    if frames.iter().any(|f| *f != first.frame) {
        return Err(EngineError::Param(format!(
            "the selected spectral windows are in different frames ({}); select windows of one frame",
            frames.join(", ")
        )));
    }
    if params.specmode == SpecMode::Mfs {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let mut chan_map = BTreeMap::new();
        for s in sels {
            let mut m = vec![None; s.chan_freq_hz.len()];
            for &c in &s.channels {
                let half = s.chan_width_hz[c].abs() / 2.0;
                lo = lo.min(s.chan_freq_hz[c] - half);
                hi = hi.max(s.chan_freq_hz[c] + half);
                m[c] = Some(0);
            }
            chan_map.insert((s.ms_index, s.spw_id), m);
        }
        return Ok(SpectralPlan {
            freqs_hz: vec![(lo + hi) / 2.0],
            cdelt_hz: hi - lo,
            frame: first.frame.clone(),
            mfs: true,
            chan_map,
        });
    }
    let out = params.outframe.as_str();
    let data_frame = first.frame.as_str();
    if params.specmode == SpecMode::Cube {
        let wanted = if out.is_empty() { "LSRK" } else { out };
        if wanted != data_frame {
            return Err(EngineError::Param(format!(
                "outframe={wanted}: the data are in {data_frame} and this version does not convert \
                 spectral frames; use --outframe {data_frame} or --specmode cubedata"
            )));
        }
    }
    let freqs = &first.chan_freq_hz;
    let widths = &first.chan_width_hz;
    let sel_lo = *first.channels.first().unwrap_or(&0);
    let sel_hi = *first.channels.last().unwrap_or(&0);
    let start = match params.start {
        SpectralValue::Default => sel_lo,
        SpectralValue::Channel(c) => c as usize,
        SpectralValue::FrequencyHz(f) => channel_of_frequency("start", f, freqs, widths)?,
    };
    let width = match params.width {
        SpectralValue::Default => 1,
        SpectralValue::Channel(w) => w as usize,
        SpectralValue::FrequencyHz(f) => {
            let w = f / widths[start];
            let n = w.round();
            if n < 1.0 || (w - n).abs() > 1e-3 {
                return Err(EngineError::Param(format!(
                    "width={f} Hz is not a positive whole number of data channels ({} Hz each); \
                     regridding to other widths is not supported yet",
                    widths[start]
                )));
            }
            n as usize
        }
    };
    if start >= freqs.len() || start < sel_lo || start > sel_hi {
        return Err(EngineError::Param(format!(
            "start={start}: outside the selected channels {sel_lo}~{sel_hi} of spw {}",
            first.spw_id
        )));
    }
    let available = (sel_hi + 1 - start) / width;
    let nchan = match params.nchan {
        None => available,
        Some(n) if n <= available => n,
        Some(n) => {
            return Err(EngineError::Param(format!(
            "nchan={n} with start={start} and width={width}: only {available} image channels fit \
                 in the selected channels {sel_lo}~{sel_hi}"
        )))
        }
    };
    if nchan == 0 {
        return Err(EngineError::Param("the cube would have no channels".into()));
    }
    let mut image_freqs = Vec::with_capacity(nchan);
    let mut edges = Vec::with_capacity(nchan);
    for k in 0..nchan {
        let chans = start + k * width..start + (k + 1) * width;
        let f: f64 = chans.clone().map(|c| freqs[c]).sum::<f64>() / width as f64;
        image_freqs.push(f);
        let a = freqs[chans.start] - widths[chans.start] / 2.0;
        let b = freqs[chans.end - 1] + widths[chans.end - 1] / 2.0;
        edges.push((a.min(b), a.max(b)));
    }
    let cdelt_hz = if nchan > 1 {
        image_freqs[1] - image_freqs[0]
    } else {
        widths[start] * width as f64
    };
    let mut chan_map = BTreeMap::new();
    for s in sels {
        let mut m = vec![None; s.chan_freq_hz.len()];
        for &c in &s.channels {
            let f = s.chan_freq_hz[c];
            // Half-open interval [lo, hi) with a tolerance of 1e-6 channel for rounding.
            let tol = 1e-6 * s.chan_width_hz[c].abs();
            m[c] = edges
                .iter()
                .position(|(lo, hi)| f >= lo - tol && f < hi - tol);
        }
        chan_map.insert((s.ms_index, s.spw_id), m);
    }
    Ok(SpectralPlan {
        freqs_hz: image_freqs,
        cdelt_hz,
        frame: data_frame.to_string(),
        mfs: false,
        chan_map,
    })
}

fn channel_of_frequency(
    param: &str,
    f: f64,
    freqs: &[f64],
    widths: &[f64],
) -> Result<usize, EngineError> {
    let (best, dist) = freqs
        .iter()
        .enumerate()
        .map(|(i, x)| (i, ((x - f) / widths[i]).abs()))
        .fold((0, f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a });
    if dist > 1e-3 {
        return Err(EngineError::Param(format!(
            "{param}={f} Hz does not fall on a data channel centre (nearest: channel {best} at {} Hz); \
             regridding to arbitrary frequencies is not supported yet",
            freqs[best]
        )));
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pclean_core::params::RawParams;

    fn params(extra: impl FnOnce(&mut RawParams)) -> ImagingParams {
        let mut r = RawParams {
            vis: Some(vec!["x.ms".into()]),
            imagename: Some("o".into()),
            specmode: Some("cube".into()),
            outframe: Some("LSRK".into()),
            ..Default::default()
        };
        extra(&mut r);
        ImagingParams::from_raw(&r).unwrap()
    }

    fn sel() -> SpwSelection {
        SpwSelection {
            ms_index: 0,
            spw_id: 0,
            channels: (0..63).collect(),
            chan_freq_hz: (0..63)
                .map(|i| 1.412665e9 + i as f64 * 24414.0625)
                .collect(),
            chan_width_hz: vec![24414.0625; 63],
            frame: "LSRK".into(),
        }
    }

    #[test]
    fn ngc5921_cube_plan() {
        let p = params(|r| {
            r.nchan = Some(46);
            r.start = Some("5".into());
            r.width = Some("1".into());
        });
        let plan = spectral_plan(&p, &[sel()]).unwrap();
        assert_eq!(plan.nchan(), 46);
        assert_eq!(plan.freqs_hz[0], 1.412665e9 + 5.0 * 24414.0625);
        let m = &plan.chan_map[&(0, 0)];
        assert_eq!(m[4], None);
        assert_eq!(m[5], Some(0));
        assert_eq!(m[50], Some(45));
        assert_eq!(m[51], None);
    }

    #[test]
    fn width_two_groups_channels_and_frames_are_checked() {
        let p = params(|r| r.width = Some("2".into()));
        let plan = spectral_plan(&p, &[sel()]).unwrap();
        assert_eq!(plan.nchan(), 31);
        assert_eq!(plan.chan_map[&(0, 0)][3], Some(1));
        let p = params(|r| r.outframe = Some("BARY".into()));
        assert!(spectral_plan(&p, &[sel()])
            .unwrap_err()
            .to_string()
            .contains("BARY"));
        let p = params(|r| r.nchan = Some(100));
        assert!(spectral_plan(&p, &[sel()]).is_err());
    }
}
