//! Fit tclean-style restoring beams to PSF planes stored as raw little-endian f32.
//!
//! Usage: `fit_beam_raw <file> <nx> <ny> <nplanes> <cell_x_arcsec> <cell_y_arcsec> [psfcutoff]`
//!
//! Each plane is `ny` rows of `nx` values (`psf_yx`, x = RA pixel index, RA increasing to the
//! left, as in CASA/FITS images read in C order). Prints one line per plane:
//! `<plane> <bmaj_arcsec> <bmin_arcsec> <bpa_deg>` or `<plane> error <message>`.

use ndarray::ArrayView2;
use pclean_deconv::beamfit::fit_psf_beam;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 7 {
        eprintln!("usage: fit_beam_raw <file> <nx> <ny> <nplanes> <cell_x_arcsec> <cell_y_arcsec> [psfcutoff]");
        std::process::exit(2);
    }
    let bytes = std::fs::read(&args[1])?;
    let nx: usize = args[2].parse()?;
    let ny: usize = args[3].parse()?;
    let nplanes: usize = args[4].parse()?;
    let arcsec = std::f64::consts::PI / 180.0 / 3600.0;
    let cx: f64 = args[5].parse::<f64>()? * arcsec;
    let cy: f64 = args[6].parse::<f64>()? * arcsec;
    let cutoff: f64 = args.get(7).map(|s| s.parse()).transpose()?.unwrap_or(0.35);
    let values: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    if values.len() != nx * ny * nplanes {
        return Err(format!(
            "file holds {} values, expected {}",
            values.len(),
            nx * ny * nplanes
        )
        .into());
    }
    for (k, plane) in values.chunks_exact(nx * ny).enumerate() {
        let view = ArrayView2::from_shape((ny, nx), plane)?;
        match fit_psf_beam(view, cx, cy, cutoff) {
            Ok(b) => println!(
                "{k} {:.6} {:.6} {:.4}",
                b.major_rad / arcsec,
                b.minor_rad / arcsec,
                b.pa_rad.to_degrees()
            ),
            Err(e) => println!("{k} error {e}"),
        }
    }
    Ok(())
}
