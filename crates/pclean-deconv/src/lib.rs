//! Deconvolution: minor cycles, masks, beam fitting and restoration. Sees only images.

pub mod automask;
pub mod beamfit;
pub mod clark;
pub mod factory;
pub mod hogbom;
pub mod masks;
pub mod minor;
pub mod mtmfs;
pub mod multiscale;
mod peaks;
mod planeops;
pub mod regions;
pub mod restore;
