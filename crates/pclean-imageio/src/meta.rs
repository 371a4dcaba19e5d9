//! Image metadata: coordinates (direction, Stokes, spectral axes), units, restoring beams.
//!
//! Conventions (shared with CASA):
//! - Axis order on disk is `[x = RA, y = Dec, stokes, freq]`; planes are `plane_yx[[y, x]]`.
//! - Reference pixels are **0-based** here and in CASA images; FITS headers get `crpix + 1`.
//! - Direction increments are radians per pixel, x (RA) negative for the usual sky orientation.
//! - Frequencies are Hz; the spectral axis is linear in frequency, or a table of every channel's
//!   frequency (CASA's tabular spectral coordinate, e.g. channels equally spaced in optical
//!   velocity).

use crate::error::ImageIoError;
use pclean_core::{Beam, Direction, StokesParam};

/// casacore's `MFrequency` reference frame names accepted for a spectral axis.
pub const SPECTRAL_FRAMES: [&str; 9] = [
    "REST", "LSRK", "LSRD", "BARY", "GEO", "TOPO", "GALACTO", "LGROUP", "CMB",
];

/// A frequency axis: linear, or tabular (`chan_freqs_hz`).
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralAxis {
    /// casacore frame name, one of [`SPECTRAL_FRAMES`] (`"LSRK"`, `"TOPO"`, …).
    pub frame: String,
    /// Frequency at `crpix`, Hz.
    pub crval_hz: f64,
    /// Channel width, Hz (may be negative).
    pub cdelt_hz: f64,
    /// Reference channel, 0-based.
    pub crpix: f64,
    /// Rest frequency, Hz; 0 when unknown (then FITS gets no velocity cards).
    pub restfreq_hz: f64,
    /// Number of channels.
    pub nchan: usize,
    /// Every channel's frequency, Hz, when the axis is not linear in frequency (written as CASA's
    /// tabular spectral coordinate, as tclean does for `veltype='optical'` cubes); `None` for a
    /// linear axis. `crval_hz`, `cdelt_hz` and `crpix` then hold channel 0 and the first step,
    /// which is what a FITS header gets (as CASA's `exportfits` writes a tabular axis).
    pub chan_freqs_hz: Option<Vec<f64>>,
}

impl SpectralAxis {
    /// Frequency of channel `chan` (0-based), Hz. A tabular axis interpolates linearly between
    /// its channels and extrapolates its end steps, as casacore's `TabularCoordinate` does.
    pub fn freq_hz(&self, chan: f64) -> f64 {
        match self.chan_freqs_hz.as_deref() {
            Some(t) if t.len() > 1 => {
                let k = (chan.floor().max(0.0) as usize).min(t.len() - 2);
                t[k] + (chan - k as f64) * (t[k + 1] - t[k])
            }
            _ => self.crval_hz + (chan - self.crpix) * self.cdelt_hz,
        }
    }
}

/// The coordinate system of a 4-D image `[RA, Dec, Stokes, Freq]` plus its observation info.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageCoords {
    /// Pixels along RA (x, fastest on disk).
    pub nx: usize,
    /// Pixels along Dec (y).
    pub ny: usize,
    /// Direction at the reference pixel (also written as the pointing centre).
    pub reference: Direction,
    /// Reference pixel `[x, y]`, 0-based.
    pub crpix: [f64; 2],
    /// Increment `[x, y]`, radians per pixel (x negative for the usual orientation).
    pub cdelt_rad: [f64; 2],
    /// Projection code, `"SIN"` for tclean images.
    pub projection: String,
    /// Planes of the Stokes axis, in order.
    pub stokes: Vec<StokesParam>,
    pub spectral: SpectralAxis,
    /// Telescope name (ObsInfo).
    pub telescope: String,
    /// Observer name (ObsInfo).
    pub observer: String,
    /// Observation date (start), MJD in days, UTC.
    pub obsdate_mjd_utc_days: f64,
    /// Telescope position, ITRF geocentric x, y, z in metres; `None` when unknown.
    pub telescope_position_itrf_m: Option<[f64; 3]>,
}

impl ImageCoords {
    /// Pixel shape `[nx, ny, nstokes, nchan]` in CASA (Fortran) axis order.
    pub fn shape(&self) -> [usize; 4] {
        [self.nx, self.ny, self.stokes.len(), self.spectral.nchan]
    }

    /// World direction (RA, Dec in radians) of pixel `(x, y)` (0-based) for the SIN projection.
    /// Used for casacore's `worldreplace` values and by tests.
    pub fn pixel_to_radec(&self, x: f64, y: f64) -> (f64, f64) {
        let l = (x - self.crpix[0]) * self.cdelt_rad[0];
        let m = (y - self.crpix[1]) * self.cdelt_rad[1];
        // FITS intermediate coordinates are direction cosines for SIN: l = cos(dec) sin(ra - ra0)
        // (east positive, so a negative cdelt puts east on the left), m towards north.
        let (a0, d0) = (self.reference.ra_rad, self.reference.dec_rad);
        let x_ = l;
        let n2 = 1.0 - x_ * x_ - m * m;
        let n = n2.max(0.0).sqrt();
        let dec = (m * d0.cos() + n * d0.sin()).clamp(-1.0, 1.0).asin();
        let ra = a0 + x_.atan2(n * d0.cos() - m * d0.sin());
        (ra.rem_euclid(2.0 * std::f64::consts::PI), dec)
    }

    /// Check the geometry; errors name the offending field.
    pub fn validate(&self) -> Result<(), ImageIoError> {
        let bad = |field: &str, why: String| {
            Err(ImageIoError::InvalidMeta {
                field: field.to_string(),
                why,
            })
        };
        if self.nx == 0 || self.ny == 0 {
            return bad(
                "nx/ny",
                format!("image size {}x{} must be positive", self.nx, self.ny),
            );
        }
        if self.stokes.is_empty() {
            return bad("stokes", "at least one Stokes plane is needed".into());
        }
        if self.spectral.nchan == 0 {
            return bad("spectral.nchan", "at least one channel is needed".into());
        }
        if !SPECTRAL_FRAMES.contains(&self.spectral.frame.as_str()) {
            return bad(
                "spectral.frame",
                format!(
                    "'{}' is not one of {SPECTRAL_FRAMES:?}",
                    self.spectral.frame
                ),
            );
        }
        if !(self.cdelt_rad.iter().all(|c| c.is_finite() && *c != 0.0)) {
            return bad(
                "cdelt_rad",
                format!("{:?} must be finite and non-zero", self.cdelt_rad),
            );
        }
        if !(self.spectral.crval_hz.is_finite() && self.spectral.cdelt_hz.is_finite()) {
            return bad("spectral", "crval/cdelt must be finite".into());
        }
        if self.projection != "SIN" {
            return bad(
                "projection",
                format!("'{}' is not supported (SIN only)", self.projection),
            );
        }
        Ok(())
    }
}

/// Restoring beams of an image.
#[derive(Debug, Clone, PartialEq)]
pub enum Beams {
    /// No beam (PSF, model, pb images).
    None,
    /// One beam for every plane (`imageinfo.restoringbeam`; FITS `BMAJ/BMIN/BPA`).
    Single(Beam),
    /// One beam per plane (`imageinfo.perplanebeams`; FITS `CASAMBM` + `BEAMS` table).
    /// `beams[chan + nchan * stokes]`.
    PerPlane {
        nchan: usize,
        nstokes: usize,
        beams: Vec<Beam>,
    },
}

impl Beams {
    /// Per-plane beams from a function of `(chan, stokes)`.
    pub fn per_plane(nchan: usize, nstokes: usize, f: impl Fn(usize, usize) -> Beam) -> Self {
        let mut beams = Vec::with_capacity(nchan * nstokes);
        for s in 0..nstokes {
            for c in 0..nchan {
                beams.push(f(c, s));
            }
        }
        Beams::PerPlane {
            nchan,
            nstokes,
            beams,
        }
    }

    /// The beam of plane `(chan, stokes)`, if any.
    pub fn beam(&self, chan: usize, stokes: usize) -> Option<Beam> {
        match self {
            Beams::None => None,
            Beams::Single(b) => Some(*b),
            Beams::PerPlane { nchan, beams, .. } => beams.get(chan + nchan * stokes).copied(),
        }
    }

    pub(crate) fn validate(&self, nchan: usize, nstokes: usize) -> Result<(), ImageIoError> {
        match self {
            Beams::None | Beams::Single(_) => Ok(()),
            Beams::PerPlane {
                nchan: c,
                nstokes: s,
                beams,
            } => {
                if *c != nchan || *s != nstokes || beams.len() != c * s {
                    Err(ImageIoError::InvalidMeta {
                        field: "beams".into(),
                        why: format!(
                            "per-plane beams for {c} channels x {s} Stokes ({} beams) do not match \
                             the image's {nchan} x {nstokes}",
                            beams.len()
                        ),
                    })
                } else {
                    Ok(())
                }
            }
        }
    }
}

/// A scalar of the free-form `miscinfo` record (becomes a FITS card on export).
#[derive(Debug, Clone, PartialEq)]
pub enum MiscValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A single-precision array (CASA `Vector<Float>`, e.g. tclean's `.gridwt` `f2`, `d2`). FITS
    /// headers have no array cards: it is written to CASA images only.
    FloatArray(Vec<f32>),
}

/// Everything about an image except its pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageMeta {
    pub coords: ImageCoords,
    /// Brightness unit: `"Jy/beam"`, `"Jy/pixel"`, or `""` (PSF, pb).
    pub units: String,
    pub beams: Beams,
    /// Source name (`imageinfo.objectname`, FITS `OBJECT`).
    pub object_name: String,
    /// casacore image type name (`imageinfo.imagetype`, FITS `BTYPE`), e.g. `"Intensity"`.
    pub image_type: String,
    /// Extra `miscinfo` keywords (names as FITS keywords, at most 8 characters), in order.
    pub misc: Vec<(String, MiscValue)>,
}

impl ImageMeta {
    /// Minimal metadata for `coords`: units `Jy/beam`, no beam, type `Intensity`.
    pub fn new(coords: ImageCoords) -> Self {
        ImageMeta {
            coords,
            units: "Jy/beam".into(),
            beams: Beams::None,
            object_name: String::new(),
            image_type: "Intensity".into(),
            misc: Vec::new(),
        }
    }

    /// Validate coordinates, beams and misc keywords.
    pub fn validate(&self) -> Result<(), ImageIoError> {
        self.coords.validate()?;
        self.beams
            .validate(self.coords.spectral.nchan, self.coords.stokes.len())?;
        for (k, _) in &self.misc {
            if k.is_empty()
                || k.len() > 8
                || !k
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(ImageIoError::InvalidMeta {
                    field: "misc".into(),
                    why: format!("keyword '{k}' must be 1-8 characters of A-Z, 0-9, '-', '_'"),
                });
            }
        }
        Ok(())
    }
}

/// ITRF x, y, z (m) -> (longitude rad, geocentric latitude rad, radius m), as casacore's MPosition
/// record stores it.
pub(crate) fn itrf_xyz_to_spherical(p: [f64; 3]) -> (f64, f64, f64) {
    let r = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt();
    let lon = p[1].atan2(p[0]);
    let lat = if r > 0.0 { (p[2] / r).asin() } else { 0.0 };
    (lon, lat, r)
}

/// Inverse of [`itrf_xyz_to_spherical`].
pub(crate) fn spherical_to_itrf_xyz(lon: f64, lat: f64, r: f64) -> [f64; 3] {
    [
        r * lat.cos() * lon.cos(),
        r * lat.cos() * lon.sin(),
        r * lat.sin(),
    ]
}
