//! The deconvolver's own planes, as the memory model counts them.

use pclean_core::params::Deconvolver;

/// The deconvolver's own planes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeconvolverKind {
    Hogbom,
    Clark,
    Multiscale {
        nscales: usize,
    },
    /// mtmfs: `nterms` Taylor terms over `nscales` scales.
    Mtmfs {
        nterms: usize,
        nscales: usize,
    },
}

impl DeconvolverKind {
    /// The planes of deconvolver `d` (`nscales` of multiscale).
    pub fn of(d: Deconvolver, nscales: usize) -> Self {
        match d {
            Deconvolver::Multiscale => DeconvolverKind::Multiscale {
                nscales: nscales.max(1),
            },
            Deconvolver::Clark | Deconvolver::ClarkStokes => DeconvolverKind::Clark,
            Deconvolver::Hogbom => DeconvolverKind::Hogbom,
            Deconvolver::Mtmfs => DeconvolverKind::Mtmfs {
                nterms: 2,
                nscales: nscales.max(1),
            },
        }
    }

    /// The same with `nterms` Taylor terms (mtmfs; the others are unchanged).
    pub fn with_nterms(self, nterms: usize) -> Self {
        match self {
            DeconvolverKind::Mtmfs { nscales, .. } => DeconvolverKind::Mtmfs {
                nterms: nterms.max(1),
                nscales,
            },
            other => other,
        }
    }

    /// Taylor terms of the residual and model (1 but for mtmfs).
    pub fn nterms(self) -> usize {
        match self {
            DeconvolverKind::Mtmfs { nterms, .. } => nterms,
            _ => 1,
        }
    }
}
