//! tclean's `conjbeams=True` for an mfs mosaic ([`MosaicGridder::with_conjugate_beams`]).
//!
//! With it, tclean (`HetArrayConvFunc` in `MosaicFTNew`) grids the data of beam frequency `nu`
//! through the beam at the conjugate frequency `nu' = sqrt(2 nu_c^2 - nu^2)` (`nu_c` the image's
//! reference frequency, CASA's `SynthesisUtils::conjFreq`), and its weight image sums
//! `PB(nu) PB(nu')` instead of `PB(nu)^2`. A beam whose width scales as `1 / nu` (a Gaussian
//! core: `exp(-k nu^2 r^2)`) then gives `PB(nu) PB(nu') = PB(nu_c)^2` at every `nu`: a source is
//! seen through one beam over the band. tclean does not compute the conjugate beam's kernel: it
//! makes the kernel of `nu` (normalised over the weight kernel's support `S`, cropped for the
//! raised support of [`conjugate_support`] and oversampled, `ftgrid.rs`) and stretches it by
//! `nu' / nu` (`fillConjConvFunc`: [`super::ftgrid::FtKernels::conjugate`]); the weight kernels
//! are the transforms of the `PB(nu) PB(nu')` screens, gridded with the raised support too
//! (`weight.rs`). Prediction keeps each band's own beam `PB(nu)` (the sky as the data saw it),
//! so that a model equal to the sky leaves a zero residual. So does tclean:
//! `MosaicFT::findConvFunction` asks `HetArrayConvFunc` for the conjugate kernels with
//! `useConjConvFunc_p && !toVis_p`, i.e. only when gridding; degridding gets the kernels of
//! `PB(nu)` (measured against tclean 6.7's deconvolved conjbeams mosaics: docs/decisions.md
//! (s13-conj)).

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

/// tclean's support for the gridding kernels of data frequency `nu` with `conjbeams`
/// (`HetArrayConvFunc::conjSupport` and its use in `findConvFunction`): with `ratio = nu' / nu`,
/// `c = 2 floor(S ratio / 2)`; when `c > S` the support becomes `floor(1.5 c)`, else it stays
/// `S`. The kernels (and the weight kernels, which tclean crops and grids with the same support)
/// are then cropped to `2 (S' + 2)` cells and gridded over `+-S'`; their normalisation stays over
/// `+-S`. Only frequencies below the reference (ratio > 1) can raise it.
pub(super) fn conjugate_support(support: usize, ratio: f64) -> usize {
    let c = 2 * (support as f64 * ratio / 2.0).floor() as usize;
    if c > support {
        (1.5 * c as f64).floor() as usize
    } else {
        support
    }
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
