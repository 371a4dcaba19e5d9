//! The time-dependent conversion of data frequencies into the image's spectral frame: a frame
//! conversion through LSRK (each row at its time, the image grid at the first integration), or
//! for `specmode='cubesource'` the shift into a tracked source's frame.

use super::ephemeris::Ephemerides;
use crate::error::EngineError;
use pclean_core::frames::{
    doppler_factor_with_eop, doppler_steps_with_eop, DopplerSteps, EarthOrientation, FreqFrame,
    Observatory,
};
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
    /// still counts as inside ([`crate::source::regrid_rules::EDGE_TOL`]).
    /// - A conversion made step by step as casacore makes it ([`Self::is_stepwise`]): none.
    ///   tclean compares a cube channel's frequency with the window's edge channel strictly, and
    ///   both are here the bits tclean has (the grid: `plan::spectral::tclean_channel_grid`), so
    ///   the reference integration's ties fall as in tclean (vla_wideband's window edges: 0-3
    ///   ulp apart, some in, some out).
    /// - A cubesource axis and its rows come from the same source factors, exact to rounding
    ///   (1e-15 relative, 5e-12 channel here), and tclean's axis lies 0.27 Hz (1.4e-7 channel)
    ///   above the first integration's channels (`Ephemerides::source_grid_factor`), which must
    ///   stay outside as in tclean: 1e-9 channel.
    /// - Otherwise (TOPO/GEO output frames, ephemeris fields: grids not made as tclean's bits)
    ///   the tolerance keeps the reference integration's tie inside.
    pub fn edge_tolerance(&self) -> f64 {
        if self.source.is_some() {
            1e-9
        } else if self.is_stepwise() {
            0.0
        } else {
            crate::source::regrid_rules::EDGE_TOL
        }
    }

    /// Whether each row's frequencies are converted step by step as casacore converts them
    /// ([`Self::steps_towards`]) and the image grid is tclean's to the bit: a frame conversion
    /// into an inertial frame (not TOPO or GEO, whose output frame is the one at the reference
    /// epoch), not towards an ephemeris field, not cubesource.
    pub fn is_stepwise(&self) -> bool {
        !self.identity
            && self.source.is_none()
            && self.moving.is_none()
            && !matches!(self.to, FreqFrame::Topo | FreqFrame::Geo)
    }

    /// The conversion of a row observed at `time_mjd_s` towards `row_direction` as steps to
    /// apply to each data frequency in turn: casacore's own arithmetic when
    /// [`Self::is_stepwise`], else the one factor of [`Self::factor_towards`].
    pub fn steps_towards(
        &self,
        time_mjd_s: f64,
        row_direction: &Direction,
    ) -> Result<DopplerSteps, EngineError> {
        if self.identity {
            return Ok(DopplerSteps::IDENTITY);
        }
        if !self.is_stepwise() {
            return Ok(DopplerSteps::single(
                self.factor_towards(time_mjd_s, row_direction)?,
            ));
        }
        doppler_steps_with_eop(
            self.from,
            self.to,
            time_mjd_s,
            &self.earth,
            &self.observatory,
            row_direction,
        )
        .map_err(|e| {
            EngineError::param("outframe", format!("outframe={}: {e}", self.to.casa_name()))
        })
    }

    /// [`Self::steps_towards`] for a row at `time_mjd_s` (towards the ephemeris field's direction
    /// then, as [`Self::factor`]).
    pub fn steps(&self, time_mjd_s: f64) -> Result<DopplerSteps, EngineError> {
        if self.moving.is_some() && self.source.is_none() && !self.identity {
            return Ok(DopplerSteps::single(self.factor(time_mjd_s)?));
        }
        self.steps_towards(time_mjd_s, &self.direction)
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
        if self.is_stepwise() {
            return Ok(self.steps_towards(time_mjd_s, row_direction)?.factor());
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
