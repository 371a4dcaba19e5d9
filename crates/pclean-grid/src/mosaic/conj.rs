//! tclean's `conjbeams=True` for an mfs mosaic ([`MosaicGridder::with_conjugate_beams`]).
//!
//! With it, tclean (`HetArrayConvFunc` in `MosaicFTNew`) grids the data of beam frequency `nu`
//! with the kernel of the conjugate frequency `nu' = sqrt(2 nu_c^2 - nu^2)` (`nu_c` the image's
//! reference frequency, CASA's `SynthesisUtils::conjFreq`), and its weight image sums
//! `PB(nu) PB(nu')` instead of `PB(nu)^2`. A beam whose width scales as `1 / nu` (a Gaussian
//! core: `exp(-k nu^2 r^2)`) then gives `PB(nu) PB(nu') = PB(nu_c)^2` at every `nu`: a source is
//! seen through one beam over the band. In the image domain of [`MosaicGridder`]: each band's
//! dirty image (residual and PSF passes) is multiplied by its beam at `nu'`, and the weight
//! image's screens and the exact weight of the band response are `PB(nu) PB(nu')`. Prediction
//! keeps each band's own beam `PB(nu)` (the sky as the data saw it), so that a model equal to
//! the sky leaves a zero residual. So does tclean: `MosaicFT::findConvFunction` asks
//! `HetArrayConvFunc` for the conjugate kernels with `useConjConvFunc_p && !toVis_p`, i.e. only
//! when gridding; degridding gets the kernels of `PB(nu)` (measured against tclean 6.7's
//! deconvolved conjbeams mosaics: docs/decisions.md (s13-conj)).

use super::MosaicGridder;

/// CASA's conjugate frequency of `freq_hz` about the reference `ref_hz`: `sqrt(2 ref^2 - f^2)`,
/// `None` where `f >= sqrt(2) ref` (no such frequency; [`conjugate_band_error`]).
pub fn conjugate_freq(freq_hz: f64, ref_hz: f64) -> Option<f64> {
    let s = 2.0 * ref_hz * ref_hz - freq_hz * freq_hz;
    (s > 0.0).then(|| s.sqrt())
}

/// Why beam frequencies `freqs_hz` have no conjugate about `ref_hz` (the first that has none),
/// `None` when every one has.
pub fn conjugate_band_error(freqs_hz: &[f64], ref_hz: f64) -> Option<String> {
    let f = freqs_hz
        .iter()
        .find(|f| conjugate_freq(**f, ref_hz).is_none())?;
    Some(format!(
        "the data's frequency {:.6} GHz has no conjugate frequency about the reference \
         frequency {:.6} GHz (sqrt(2 nu_ref^2 - nu^2) needs nu < sqrt(2) nu_ref)",
        f / 1e9,
        ref_hz / 1e9
    ))
}

impl MosaicGridder {
    /// The same mosaic with tclean's `conjbeams` (see the module docs): `true` images every band
    /// through its beam at the conjugate frequency about this gridder's (plane's) frequency.
    pub fn with_conjugate_beams(mut self, on: bool) -> Self {
        self.conj = on;
        self
    }

    /// The conjugate frequency of beam frequency `f` with `conjbeams`, else `None`. A frequency
    /// without one (refused up front: [`conjugate_band_error`]) keeps its own.
    pub(super) fn conj_of(&self, f: f64) -> Option<f64> {
        if self.conj {
            Some(conjugate_freq(f, self.freq_hz).unwrap_or(f))
        } else {
            None
        }
    }

    /// The frequency of the beam that multiplies band `f`'s dirty image.
    pub(super) fn image_beam_freq(&self, f: f64) -> f64 {
        self.conj_of(f).unwrap_or(f)
    }
}
