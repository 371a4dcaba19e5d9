//! Deconvolution: minor cycles, masks, beam fitting and restoration. Sees only images.

pub mod beamfit;
