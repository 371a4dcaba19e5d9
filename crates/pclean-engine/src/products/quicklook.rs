//! The report's statistics of a cube, gathered from the planes as they are written
//! ([`pclean_imageio::quicklook`]) and saved beside the products as `IMAGENAME.quicklook` when
//! the run finishes, so that `pclean report` need not read the cube again.
//!
//! Gathered for CASA-format cubes made from scratch: a resumed run did not see the planes of the
//! earlier one, and FITS products are blanked beyond the primary beam only when they are
//! finished; for them (and products of older pclean versions) the report reads the cube.

use pclean_core::params::ImageFormat;
use pclean_imageio::quicklook::{channel_width, stats_path, CubeStats, ImageStats, ResidualStats};
use pclean_imageio::{ImageCoords, ImageMeta};

/// The statistics of a run being written.
pub struct RunStats {
    /// The product the report's maps show: `.image`, else `.residual`.
    main: &'static str,
    stats: CubeStats,
}

impl RunStats {
    /// Remove statistics of an earlier run of `imagename` (they no longer describe its
    /// products), and start gathering when this run's products are a new CASA cube.
    pub fn start(
        imagename: &str,
        format: ImageFormat,
        exts: &[&'static str],
        coords: &ImageCoords,
        fresh: bool,
    ) -> Option<Self> {
        let _ = std::fs::remove_file(stats_path(imagename));
        let [nx, ny, _, nchan] = coords.shape();
        let main = ["image", "residual"]
            .into_iter()
            .find(|m| exts.contains(m))?;
        if !fresh || format != ImageFormat::Casa || nchan < 2 {
            return None;
        }
        let meta = ImageMeta::new(coords.clone());
        let widths = (0..nchan).map(|c| channel_width(&meta, c).0).collect();
        let has = |e: &str| exts.contains(&e);
        Some(RunStats {
            main,
            stats: CubeStats {
                image: ImageStats::new(nx, ny, widths, has("mask")),
                residual: has("residual").then(|| ResidualStats::new(nchan)),
            },
        })
    }

    /// A plane written into product `ext` (first Stokes plane only).
    pub fn add(&mut self, ext: &str, chan: usize, stokes: usize, plane: ndarray::ArrayView2<f32>) {
        if stokes != 0 || !matches!(ext, "image" | "residual" | "mask") {
            return;
        }
        let plane = plane.as_standard_layout();
        let v = plane.as_slice().expect("standard layout");
        if ext == self.main {
            self.stats.image.add_image(chan, v);
        }
        match (ext, self.stats.residual.as_mut()) {
            ("residual", Some(r)) => r.add(chan, v),
            ("mask", _) => self.stats.image.add_mask(chan, v),
            _ => {}
        }
    }

    /// Save the statistics when every channel was seen (after the products are finished).
    pub fn save(self, imagename: &str) {
        if !self.stats.complete() {
            tracing::debug!("quick-look statistics incomplete: the report will read the cube");
            return;
        }
        let path = stats_path(imagename);
        if let Err(e) = self.stats.save(&path) {
            tracing::warn!(
                "cannot save the report's statistics '{}' ({e}); `pclean report` will read the cube instead",
                path.display()
            );
        }
    }
}
