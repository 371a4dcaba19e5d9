//! The time-dependent conversion of data frequencies into the image's spectral frame: a frame
//! conversion through LSRK (each row at its time, the image grid at the first integration), or
//! for `specmode='cubesource'` the shift into a tracked source's frame.

use super::ephemeris::Ephemerides;
use crate::error::EngineError;
use pclean_core::frames::{doppler_factor_with_eop, EarthOrientation, FreqFrame, Observatory};
use pclean_core::params::Interpolation;
use pclean_core::Direction;
use std::sync::Arc;

/// Time-dependent conversion of data frequencies into the image frame.
#[derive(Debug, Clone)]
pub struct FrameConversion {
    pub from: FreqFrame,
    pub to: FreqFrame,
    pub observatory: Observatory,
    pub direction: Direction,
    /// tclean's `interpolation` (`crate::source::regrid_rules`).
    pub interpolation: Interpolation,
    /// The output frame's reference epoch (the first integration): a TOPO or GEO output frame is
    /// the one at this time, as in tclean.
    pub epoch_mjd_s: f64,
    /// No frequency change at all (cubedata, or only regridding within the data's frame):
    /// the factor is exactly 1.
    pub identity: bool,
    /// UT1 - UTC (the IERS tables when found).
    pub earth: Arc<EarthOrientation>,
    /// `specmode='cubesource'`: the data frequencies shifted into the tracked source's frame
    /// (its ephemeris's radial velocity) instead of a frame conversion.
    pub source: Option<Arc<Ephemerides>>,
    /// An ephemeris field: each row's frequencies are converted with the field's (geocentric)
    /// direction at the row's time, as tclean's visibility iterator does; the image grid keeps
    /// `direction` (measured: the TRACKFIELD cube's first channel is empty in tclean, the
    /// default cube's takes only the first integration).
    pub moving: Option<Arc<Ephemerides>>,
}

impl FrameConversion {
    /// `f_image / f_data` for a row observed at `time_mjd_s` (UTC, MJD seconds): through LSRK,
    /// the data frame taken at the row's time and the output frame at the reference epoch
    /// (identical to the direct conversion for inertial output frames).
    pub fn factor(&self, time_mjd_s: f64) -> Result<f64, EngineError> {
        let row_direction = match &self.moving {
            Some(m) if self.source.is_none() && !self.identity => {
                m.geocentric_direction(time_mjd_s)?
            }
            _ => self.direction,
        };
        self.factor_towards(time_mjd_s, &row_direction)
    }

    /// The factor of the image grid: [`Self::factor`] with the conversion's own direction (the
    /// image centre) also for ephemeris fields.
    pub fn grid_factor(&self, time_mjd_s: f64) -> Result<f64, EngineError> {
        match &self.source {
            Some(source) if !self.identity => source.source_grid_factor(time_mjd_s),
            _ => self.factor_towards(time_mjd_s, &self.direction),
        }
    }

    /// How far (in data channels) beyond the first or last data channel an image frequency
    /// still counts as inside ([`crate::source::regrid_rules::EDGE_TOL`]): that tolerance absorbs
    /// pclean's LSRK factors differing from casacore's by up to ~0.4 Hz at the first integration.
    /// A cubesource axis and its rows come from the same source factors, exact to rounding
    /// (1e-15 relative, 5e-12 channel here), and tclean's axis lies 0.27 Hz (1.4e-7 channel)
    /// above the first integration's channels (`Ephemerides::source_grid_factor`), which must
    /// stay outside as in tclean: 1e-9 channel.
    pub fn edge_tolerance(&self) -> f64 {
        if self.source.is_some() {
            1e-9
        } else {
            crate::source::regrid_rules::EDGE_TOL
        }
    }

    /// [`Self::factor`] for a row whose source lies in `row_direction` (tclean converts each
    /// row's frequencies towards that row's field); the image grid keeps the conversion's own.
    pub fn factor_towards(
        &self,
        time_mjd_s: f64,
        row_direction: &Direction,
    ) -> Result<f64, EngineError> {
        if self.identity {
            return Ok(1.0);
        }
        if let Some(source) = &self.source {
            return source.source_doppler_factor(time_mjd_s);
        }
        let err = |e: pclean_core::frames::FramesError| {
            EngineError::param("outframe", format!("outframe={}: {e}", self.to.casa_name()))
        };
        let d = |frame, t, dir: &Direction| {
            doppler_factor_with_eop(
                frame,
                FreqFrame::Lsrk,
                t,
                &self.earth,
                &self.observatory,
                dir,
            )
        };
        let data = d(self.from, time_mjd_s, row_direction).map_err(err)?;
        let out = d(self.to, self.epoch_mjd_s, &self.direction).map_err(err)?;
        Ok(data / out)
    }
}
