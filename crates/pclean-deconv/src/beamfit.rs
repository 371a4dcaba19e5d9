//! beamfit (in progress)
