//! Fuzzing of the FITS image reader (`mask` / `startmodel` given as FITS files, the report of
//! `format='fits'` products; issue 20): seeded mutations of valid FITS files written by
//! casatools' `exportfits` (testdata/reference/fits_inputs: 4-D, Stokes first, 3-D without
//! Stokes, 16-bit integers, optical velocity, all with a BEAMS table) and by pclean's writer.
//! The primary header's cards are edited (values that break lengths and counts: NAXISn,
//! BITPIX, BSCALE, CTYPEn, CASAMBM, huge and negative numbers, NaN, bad quotes, END moved)
//! and files are truncated. Each input is opened through `ImageReader::open`, as the engine
//! does, and every plane, mask plane and a spectrum read: an input is accepted (its planes have
//! the shape its header says) or refused with an error naming the file; never a panic, and
//! never an allocation by a claimed size the file cannot hold (`FitsImage::open` checks the
//! data size against the file's before reading anything).
//!
//! A crash found here becomes a named regression test at the bottom of this file.

use pclean_fuzz::{mutated_bytes, mutated_units, record_fuzz, run, Tally};
use pclean_imageio::ImageReader;
use proptest::prelude::*;
use std::path::Path;

/// Values that break a FITS header: counts, lengths, types, numbers, quotes and the END card.
fn dictionary() -> Vec<Vec<u8>> {
    let cards = [
        "NAXIS   =                    0",
        "NAXIS   =                    9",
        "NAXIS   =                   -3",
        "NAXIS1  =           2147483647",
        "NAXIS2  =  9223372036854775807",
        "NAXIS3  =                    0",
        "NAXIS4  =                   -1",
        "BITPIX  =                    8",
        "BITPIX  =                   64",
        "BITPIX  =                  -64",
        "BITPIX  =                   17",
        "BSCALE  =                    0",
        "BZERO   =                 1E99",
        "BLANK   =                    0",
        "CTYPE1  = 'DEC--SIN'",
        "CTYPE2  = 'RA---TAN'",
        "CTYPE3  = 'STOKES  '",
        "CTYPE4  = 'VOPT    '",
        "CTYPE3  = 'FELO-HEL'",
        "CRVAL4  =                  NaN",
        "CDELT3  =                    0",
        "CRPIX1  =               1E+400",
        "CDELT1  =                  inf",
        "RESTFRQ =                   -1",
        "SPECSYS = 'NOWHERE '",
        "CASAMBM =                    T",
        "CASAMBM =                    F",
        "BMAJ    =                   -1",
        "PC1_2   =                  0.5",
        "EQUINOX =                 1066",
        "DATE-OBS= '2024-13-45T99:99:99'",
        "END",
        "SIMPLE  =                    F",
        "XTENSION= 'BINTABLE'",
        "'unterminated",
        "= =",
    ];
    let mut d: Vec<Vec<u8>> = cards
        .iter()
        .map(|c| format!("{c:<80}").into_bytes())
        .collect();
    d.extend([
        b"2147483647".to_vec(),
        b"-1".to_vec(),
        b"1E+308".to_vec(),
        vec![0; 80],
        vec![0xff; 8],
        vec![b' '; 80],
    ]);
    d
}

/// The primary header of `bytes` (through the block holding its END card), and the rest.
fn split_header(bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let end = bytes
        .chunks(80)
        .position(|c| c.starts_with(b"END     ") || c == b"END")
        .map(|i| ((i * 80) / 2880 + 1) * 2880)
        .unwrap_or(bytes.len())
        .min(bytes.len());
    (bytes[..end].to_vec(), bytes[end..].to_vec())
}

/// Open `path` as the engine does and read everything; `Ok(true)` accepted, `Ok(false)`
/// refused naming the file, `Err` for an error that does not name it or a wrong plane shape.
fn check(path: &Path) -> Result<bool, String> {
    let r = ImageReader::open(path).and_then(|mut img| {
        let c = img.meta().coords.clone();
        for s in 0..c.stokes.len() {
            for k in 0..c.spectral.nchan {
                let p = img.get_plane(k, s)?;
                assert_eq!(p.dim(), (c.ny, c.nx));
                let m = img.get_mask_plane(k, s)?;
                assert!(m.is_none_or(|m| m.dim() == (c.ny, c.nx)));
            }
            let spec = img.get_spectrum(c.nx - 1, c.ny - 1, s)?;
            assert_eq!(spec.len(), c.spectral.nchan);
        }
        Ok(())
    });
    match r {
        Ok(()) => Ok(true),
        Err(e) if e.to_string().contains(&*path.to_string_lossy()) => Ok(false),
        Err(e) => Err(format!("error names no path: {e}")),
    }
}

/// Seed files: the exportfits variants and a pclean-written cube with per-plane beams.
fn seeds(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let tarball = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/reference/fits_inputs/files.tar.gz");
    let st = std::process::Command::new("tar")
        .arg("xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(dir)
        .status()
        .unwrap();
    assert!(st.success(), "unpacking {}", tarball.display());
    let names = [
        "default.fits",
        "stokesfirst.fits",
        "dropdeg.fits",
        "int16.fits",
        "vopt.fits",
        "mask.fits",
    ];
    names
        .iter()
        .map(|n| (n.to_string(), std::fs::read(dir.join(n)).unwrap()))
        .collect()
}

#[test]
fn fuzz_fits_image_reader() {
    let tmp = tempfile::tempdir().unwrap();
    let mut total = Tally::default();
    let work = tmp.path().join("input.fits");
    for (name, bytes) in seeds(tmp.path()) {
        // The unmutated seed is read.
        std::fs::write(&work, &bytes).unwrap();
        assert_eq!(check(&work), Ok(true), "{name}");
        let (header, rest) = split_header(&bytes);
        // Header edits (half card by card, keeping the 80-byte card structure, half byte by
        // byte), then the data kept whole (most inputs), cut, or doubled.
        let cards: Vec<Vec<u8>> = header.chunks(80).map(<[u8]>::to_vec).collect();
        let card_dict: Vec<Vec<Vec<u8>>> = dictionary()
            .into_iter()
            .map(|t| vec![format!("{:<80}", String::from_utf8_lossy(&t)).into_bytes()])
            .collect();
        let by_card = mutated_units(cards, card_dict, 4, |c| {
            vec![format!("{:<80}", format!("COMMENT {c}")).into_bytes()]
        })
        .prop_map(|cards| cards.concat());
        let strategy = (
            prop_oneof![by_card, mutated_bytes(header, dictionary(), 4)],
            prop_oneof![6 => Just(1.0f64), 3 => 0.0..1.0f64, 1 => Just(2.0f64)],
        );
        let label = format!("fits-reader-{name}");
        let t = run(&label, 200, strategy, |(head, keep)| {
            let mut file = head.clone();
            let n = (rest.len() as f64 * keep.min(1.0)) as usize;
            file.extend_from_slice(&rest[..n]);
            if *keep > 1.0 {
                file.extend_from_slice(&rest);
            }
            std::fs::write(&work, &file).unwrap();
            check(&work)
        });
        total.inputs += t.inputs + 1;
        total.accepted += t.accepted + 1;
        total.rejected += t.rejected;
    }
    assert!(total.inputs >= 1000, "{total:?}");
    assert!(total.accepted > 0 && total.rejected > 0, "{total:?}");
    record_fuzz(
        "FITS images (mask, startmodel, report; header cards and data mutated)",
        total,
    );
}
