//! `paged` mode: a new CASA image holding a copy of every plane, written plane by plane.

use crate::error::ConcatError;
use crate::plan::Plan;
use pclean_imageio::{CasaImage, CasaImageWriter};
use std::path::Path;

/// Write the planned concatenation as a new CASA image at `output` (which must not exist). The image
/// carries pclean's incomplete marker until the last plane is written, so an interrupted copy is
/// never mistaken for a finished one. If any input has a pixel mask, the output has one too
/// (inputs without one count as all valid).
pub(crate) fn write_paged(plan: &Plan, output: &Path) -> Result<(), ConcatError> {
    let write_err = |source| ConcatError::Write {
        path: output.to_path_buf(),
        source,
    };
    let mut writer = CasaImageWriter::create(output, &plan.meta, false).map_err(write_err)?;
    let mut masked = false;
    for (i, img) in plan.inputs.iter().enumerate() {
        let reader = CasaImage::open(&img.path).map_err(|source| ConcatError::Open {
            index: i + 1,
            path: img.path.clone(),
            source,
        })?;
        masked |= reader.has_pixel_mask();
    }
    if masked {
        writer.add_pixel_mask().map_err(write_err)?;
    }
    for (i, (img, &offset)) in plan.inputs.iter().zip(&plan.chan_offsets).enumerate() {
        let read_err = |source| ConcatError::Open {
            index: i + 1,
            path: img.path.clone(),
            source,
        };
        let mut reader = CasaImage::open(&img.path).map_err(read_err)?;
        if reader.shape() != img.shape {
            return Err(ConcatError::Mismatch {
                index: i + 1,
                path: img.path.clone(),
                first: plan.inputs[0].path.clone(),
                what: format!(
                    "its shape changed from {:?} to {:?} while concatenating",
                    img.shape,
                    reader.shape()
                ),
            });
        }
        let [_, _, nstokes, nchan] = img.shape;
        for stokes in 0..nstokes {
            for chan in 0..nchan {
                let plane_yx = reader.get_plane(chan, stokes).map_err(read_err)?;
                writer
                    .put_plane(offset + chan, stokes, plane_yx.view())
                    .map_err(write_err)?;
                if masked {
                    let valid = match reader.get_mask_plane(chan, stokes).map_err(read_err)? {
                        Some(m) => m,
                        None => ndarray::Array2::from_elem(plane_yx.dim(), true),
                    };
                    writer
                        .put_mask_plane(offset + chan, stokes, valid.view())
                        .map_err(write_err)?;
                }
            }
        }
    }
    writer.finish().map_err(write_err)
}
