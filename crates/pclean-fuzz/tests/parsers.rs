//! Fuzzing of every parser of user input (issue 20): config files (TOML, YAML, JSON) through
//! validation, quantities, directions, Stokes, memory sizes and uv tapers, CASA selection syntax
//! against a real MeasurementSet, CRTF regions through rasterisation, and CASA image tables as
//! `mask`/`startmodel` readers see them. Each test draws a fixed, seeded set of inputs (same
//! inputs every run; about 12,000 in all, ~20 s on 2 cores in release) and asserts that the
//! parser never panics and that its errors name what they concern. The counts land in
//! `out/reliability/` for `docs/reliability.md`.
//!
//! A crash found here becomes a named regression test at the bottom of this file.

#[path = "../../pclean-ms/tests/support/mod.rs"]
mod support;

use pclean_core::config;
use pclean_core::params::{parse_memory_bytes, parse_uvtaper, ImagingParams, ParamError};
use pclean_core::{parse_angle_rad, parse_flux_jy, parse_freq_hz, Direction, Selection, StokesSet};
use pclean_fuzz::{mutated_bytes, mutated_text, record_fuzz, region_refusal, run};

// ---------------------------------------------------------------------------------------------
// Config files

const CONFIG_YAML: &[&str] = &[
    "vis: a.ms\nimagename: out/img\nimsize: [256, 256]\ncell: 1arcsec\nspecmode: cube\nnchan: 10\nstart: 1.4GHz\nwidth: 1MHz\n",
    "vis: [a.ms, b.ms]\nimagename: x\nimsize: 128\ncell: ['0.5arcsec', '0.5arcsec']\nphasecenter: 'J2000 15h22m00 +05d04m00'\nweighting: briggs\nrobust: 0.5\nniter: 100\nthreshold: 1mJy\n",
    "vis: a.ms\nimagename: x\nimsize: 64\ncell: 2arcsec\nuvtaper: ['1arcsec', '0.5arcsec', '10deg']\nrestoringbeam: common\nstokes: IQUV\ndeconvolver: multiscale\nscales: [0, 5, 15]\n",
    "vis: a.ms\nimagename: x\nimsize: 64\ncell: 2arcsec\nspw: '0:5~10;20~30'\nfield: '0,1'\nantenna: '!DV01'\ntimerange: '>2011/04/22/00:00:00'\nuvrange: '>10klambda'\nusemask: user\nmask: 'circle[[32pix,32pix],5pix]'\n",
    "selection:\n  vis: a.ms\n  spw: '0'\nimage:\n  imagename: x\n  imsize: 64\n  cell: 1arcsec\ncluster:\n  submit:\n    nodes: 2\n",
    "vis: a.ms\nimagename: x\nimsize: 64\ncell: 1arcsec\nspecmode: mfs\ndeconvolver: mtmfs\nnterms: 2\nreffreq: 1.5GHz\ngridder: mosaic\nmemory_limit: 4GB\n",
];

const CONFIG_JSON: &[&str] = &[
    r#"{"vis": "a.ms", "imagename": "x", "imsize": [256, 256], "cell": "1arcsec", "niter": 10, "gain": 0.1}"#,
    r#"{"vis": ["a.ms"], "imagename": "x", "imsize": 64, "cell": ["1arcsec"], "specmode": "cube", "start": "1.4GHz", "width": "-1MHz", "outframe": "LSRK", "restfreq": ["1.42GHz"]}"#,
    r#"{"vis": "a.ms", "imagename": "x", "imsize": 64, "cell": "1arcsec", "pblimit": 0.2, "nsigma": 3.0, "cycleniter": -1, "interactive": false}"#,
];

const CONFIG_TOML: &[&str] = &[
    "vis = \"a.ms\"\nimagename = \"x\"\nimsize = [256, 256]\ncell = \"1arcsec\"\nniter = 10\n",
    "vis = [\"a.ms\", \"b.ms\"]\nimagename = \"x\"\nimsize = 64\ncell = \"0.1arcsec\"\nspecmode = \"cube\"\nnchan = -1\nstart = 0\nwidth = \"2\"\nweighting = \"natural\"\nuvtaper = [\"2arcsec\"]\n",
];

const CONFIG_TOKENS: &[&str] = &[
    ":",
    ": ",
    "\n",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\"",
    "'",
    "=",
    " ",
    "\t",
    "#",
    "!!",
    "&a",
    "*a",
    "~",
    "null",
    "true",
    "1e309",
    "-1",
    "0",
    "nan",
    ".inf",
    "18446744073709551616",
    "-9223372036854775809",
    "imsize",
    "cell",
    "nchan",
    "start",
    "width",
    "niter",
    "phasecenter",
    "uvtaper",
    "spw",
    "specmode",
    "cube",
    "mfs",
    "mtmfs",
    "arcsec",
    "GHz",
    "deg",
    "Jy",
    "restfreq",
    "scales",
    "nterms",
    "\u{0}",
    "é",
    "memory_limit",
    "selection:",
    "image:",
    "cluster:",
    "<<: *a",
];

/// Parse a config text in `format`, then validate it. Errors must name a parameter.
fn check_config(format: &str, text: &str) -> Result<bool, String> {
    let raw = match format {
        "yaml" => config::from_yaml(text),
        "json" => config::from_json(text),
        _ => match toml::from_str::<serde_json::Value>(text) {
            Ok(v) => config::from_value(v),
            Err(_) => return Ok(false),
        },
    };
    let named = |e: &ParamError| {
        let m = e.to_string();
        if m.contains("parameter") {
            Ok(false)
        } else {
            Err(format!("error names no parameter: {m}"))
        }
    };
    let raw = match raw {
        Ok(r) => r,
        Err(e) => return named(&e),
    };
    // What a config writes back reads back (the `--dump-config` and saved-config path).
    let again = config::from_yaml(&config::to_yaml(&raw))
        .map_err(|e| format!("to_yaml output does not read back: {e}"))?;
    if again != raw {
        return Err("to_yaml/from_yaml round trip changed the parameters".into());
    }
    match ImagingParams::from_raw(&raw) {
        Ok(_) => Ok(true),
        Err(e) => named(&e),
    }
}

#[test]
fn fuzz_config_files() {
    for (format, seeds, cases) in [
        ("yaml", CONFIG_YAML, 1500),
        ("json", CONFIG_JSON, 800),
        ("toml", CONFIG_TOML, 700),
    ] {
        let t = run(
            &format!("config-{format}"),
            cases,
            mutated_text(seeds, CONFIG_TOKENS, 4),
            |s| check_config(format, s),
        );
        record_fuzz(&format!("config file ({})", format.to_uppercase()), t);
    }
}

// ---------------------------------------------------------------------------------------------
// Quantities, directions, Stokes, memory sizes, uv tapers

const QUANTITY_SEEDS: &[&str] = &[
    "1arcsec",
    "0.5deg",
    "2.5e-3rad",
    "10mas",
    "3arcmin",
    "1.4GHz",
    "1420.405752MHz",
    "-1MHz",
    "100kHz",
    "10mJy",
    "1.5Jy/beam",
    "20uJy",
    " 7 ",
    "1e3",
    "8GB",
    "512MiB",
    "0.5 TB",
];

const DIRECTION_SEEDS: &[&str] = &[
    "J2000 15h22m00 +05d04m00",
    "J2000 15:22:00.0 +05.04.00",
    "ICRS 230.5deg 5.07deg",
    "B1950 12h00m00.000s -30d00m00.0s",
    "GALACTIC 10.5deg -3.2deg",
    "J2000 4.0rad -0.5rad",
    "AZELGEO 45deg 30deg",
    "19h59m28.35 +40d44m02.1",
    "MARS",
    "TRACKFIELD",
];

const QUANTITY_TOKENS: &[&str] = &[
    "h",
    "m",
    "s",
    "d",
    ":",
    ".",
    "+",
    "-",
    "e",
    "E",
    "deg",
    "rad",
    "arcsec",
    "arcmin",
    "mas",
    "Hz",
    "GHz",
    "kHz",
    "Jy",
    "/beam",
    "GB",
    "MiB",
    "nan",
    "inf",
    "-inf",
    "1e400",
    "1e-400",
    "99999999999999999999",
    "J2000",
    "B1950",
    "ICRS",
    "GALACTIC",
    "SUPERGAL",
    " ",
    "  ",
    "\t",
    "°",
    "′",
    "″",
    "0x10",
    "_",
    "1_000",
    "9",
    "60",
    "360",
    "90",
];

/// A quantity error must quote the input.
fn quoted(input: &str, msg: &str) -> Result<bool, String> {
    if msg.contains(input) || msg.contains(input.trim()) {
        Ok(false)
    } else {
        Err(format!("error does not quote the input {input:?}: {msg}"))
    }
}

#[test]
fn fuzz_quantities_directions_stokes() {
    let t = run(
        "quantities",
        2000,
        mutated_text(QUANTITY_SEEDS, QUANTITY_TOKENS, 3),
        |s| {
            let mut any = false;
            for parse in [parse_angle_rad, parse_freq_hz, parse_flux_jy] {
                match parse(s) {
                    Ok(v) if !v.is_finite() => return Err(format!("{s:?} parsed to {v}")),
                    Ok(_) => any = true,
                    Err(e) => {
                        quoted(s, &e.to_string())?;
                    }
                }
            }
            any |= parse_memory_bytes(s).is_ok();
            any |= parse_uvtaper(std::slice::from_ref(s)).is_ok();
            any |= StokesSet::parse(s).is_ok();
            Ok(any)
        },
    );
    record_fuzz("quantities, memory sizes, uvtaper, stokes", t);
    let t = run(
        "directions",
        2000,
        mutated_text(DIRECTION_SEEDS, QUANTITY_TOKENS, 3),
        |s| match Direction::parse(s) {
            Ok(d) if !(d.ra_rad.is_finite() && d.dec_rad.is_finite()) => {
                Err(format!("{s:?} parsed to a non-finite direction {d:?}"))
            }
            Ok(_) => Ok(true),
            Err(e) => quoted(s, &e.to_string()),
        },
    );
    record_fuzz("directions (phasecenter)", t);
}

// ---------------------------------------------------------------------------------------------
// CASA selection syntax, resolved against a real MeasurementSet

/// The selection parameters fuzzed, each with its field of a `Selection` (one table: the name
/// used in the error check and the field set can't drift apart).
type SelectionField = fn(&mut Selection) -> &mut String;
#[rustfmt::skip]
const SELECTION_PARAMS: [(&str, SelectionField); 8] = [
    ("field", |s| &mut s.field), ("spw", |s| &mut s.spw), ("timerange", |s| &mut s.timerange),
    ("uvrange", |s| &mut s.uvrange), ("antenna", |s| &mut s.antenna), ("scan", |s| &mut s.scan),
    ("observation", |s| &mut s.observation), ("intent", |s| &mut s.intent),
];

const SELECTION_SEEDS: &[&str] = &[
    "0",
    "1",
    "F0",
    "F*",
    "0,1",
    "0~1",
    "!F1",
    "F0,F1",
    "*",
    "0:0",
    "0:0~0",
    "1:0^1",
    "<1",
    ">0",
    "0:90GHz~100GHz",
    "*:0",
    "0;1",
    "0~1:0",
    "2022/07/01/00:00:00~2022/07/01/01:00:00",
    ">2022/07/01/00:00:00",
    "<2022/07/01/00:10:00",
    "00:10:00+00:05:00",
    "2022/07/01/00:00:00",
    "0~100m",
    ">10klambda",
    "<1km",
    "20~60",
    "A001&A002",
    "A001&&*",
    "!A003",
    "A001,A002&",
    "0&1",
    "0&&&",
    "1~3",
    "1,2,5",
    ">4",
    "<10",
    "*TARGET*",
    "OBSERVE_TARGET#ON_SOURCE",
    "'F0'",
    "\"F1\"",
    "/F[01]/",
];

const SELECTION_TOKENS: &[&str] = &[
    "~",
    ":",
    ";",
    ",",
    "&",
    "&&",
    "&&&",
    "!",
    "*",
    "?",
    "^",
    "<",
    ">",
    "/",
    "-",
    "+",
    "=",
    "[",
    "]",
    "{",
    "}",
    "'",
    "\"",
    "#",
    "0",
    "1",
    "99",
    "-1",
    "2147483648",
    "99999999999999999999",
    "1e308",
    "nan",
    "inf",
    "GHz",
    "MHz",
    "Hz",
    "km/s",
    "klambda",
    "lambda",
    "m",
    "km",
    "A001",
    "F0",
    "2022/07/01/",
    "00:00:00",
    "23:59:60.5",
    "13/45",
    ".",
    " ",
    "\t",
    "\u{0}",
    "é",
    "%",
];

#[test]
fn fuzz_selection_syntax() {
    let path =
        support::ms("wideband_mosaic.ms", "wideband_mosaic.ms.tar.gz").unwrap_or_else(|why| {
            panic!("testdata/wideband_mosaic.ms.tar.gz ships with the repository: {why}")
        });
    let ms = pclean_ms::MeasurementSet::open(&path).expect("the bundled MS opens");
    let strategy = (
        0..SELECTION_PARAMS.len(),
        mutated_text(SELECTION_SEEDS, SELECTION_TOKENS, 3),
    );
    let t = run("selection", 2500, strategy, |(k, text)| {
        let (param, field) = SELECTION_PARAMS[*k];
        let mut sel = Selection::default();
        *field(&mut sel) = text.clone();
        match ms.select(&sel) {
            Ok(_) => Ok(true),
            Err(e) => {
                let m = e.to_string();
                if m.contains(param) {
                    Ok(false)
                } else {
                    Err(format!("{param}={text:?}: error names no parameter: {m}"))
                }
            }
        }
    });
    record_fuzz(
        "CASA selection (field, spw, timerange, uvrange, antenna, scan, observation, intent)",
        t,
    );
}

// ---------------------------------------------------------------------------------------------
// CRTF regions

const CRTF_SEEDS: &[&str] = &[
    "#CRTFv0 CASA Region Text Format version 0\nbox [[10pix, 10pix], [20pix, 20pix]]\n",
    "circle [[32pix, 32pix], 5pix]",
    "centerbox [[30pix, 30pix], [8pix, 4pix]] coord=J2000, corr=[I]",
    "annulus [[32pix, 32pix], [3pix, 9pix]]\n-box [[30pix,30pix],[34pix,34pix]]",
    "poly [[10pix, 10pix], [40pix, 12pix], [25pix, 50pix]]",
    "circle [[15h59m59.9s, -30d00m00s], 2arcsec] coord=ICRS",
    "box [[16:00:00.1, -30.00.02], [15:59:59.9, -29.59.58]]",
    "global coord=J2000, color=red\ncircle [[240.0deg, -30.0deg], 0.001deg] label='a'\nann text [[1pix,1pix]], 'x'",
    "+ellipse [[32pix, 32pix], [5pix, 3pix], 30deg]\ncircle [[0, 0], 100] corr=[V, I] range=[1GHz, 2GHz]",
];

const CRTF_TOKENS: &[&str] = &[
    "[",
    "]",
    "[[",
    "]]",
    ",",
    "pix",
    "deg",
    "arcsec",
    "rad",
    "h",
    "m",
    "s",
    "d",
    ":",
    ".",
    "-",
    "+",
    "=",
    "coord=",
    "corr=[",
    "range=[",
    "global ",
    "ann ",
    "#",
    "\n",
    " ",
    "box",
    "circle",
    "poly",
    "annulus",
    "centerbox",
    "nan",
    "inf",
    "-inf",
    "1e308",
    "1e-320",
    "-1",
    "0",
    "4294967296",
    "99999999999999999999",
    "GALACTIC",
    "B1950",
    "'",
    "\"",
    "\u{0}",
    "é",
    "\r",
];

#[test]
fn fuzz_crtf_regions() {
    use pclean_deconv::regions::{masks_per_stokes, parse_crtf, rasterize, SkyGeometry};
    let cell = (0.1f64 / 3600.0).to_radians();
    let centre = Direction::new_j2000(240f64.to_radians(), (-30f64).to_radians());
    let geom = SkyGeometry::for_image(centre, 64, 64, cell, cell);
    let t = run(
        "crtf",
        2500,
        (any::<bool>(), mutated_text(CRTF_SEEDS, CRTF_TOKENS, 4)),
        |(with_geom, text)| {
            match parse_crtf(text, with_geom.then_some(&geom)) {
                Ok(regions) => {
                    let m = rasterize(&regions, (64, 64));
                    assert_eq!(m.dim(), (64, 64));
                    // A `corr=` naming no plane of the image is a proper error, not a panic.
                    let _ = masks_per_stokes(&regions, (64, 64), &["I", "V"]);
                    Ok(true)
                }
                Err(e) => region_refusal(e),
            }
        },
    );
    record_fuzz("CRTF regions (parse and rasterise)", t);
}

// ---------------------------------------------------------------------------------------------
// CASA image tables (`mask` and `startmodel` inputs; FITS files are refused as not a table)

#[path = "../../pclean-imageio/examples/write_sample.rs"]
#[allow(dead_code)]
mod write_sample;

use proptest::prelude::any;

/// Copy a directory tree (an image table).
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dst);
        } else if e.file_name() != "table.lock" {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

/// Every file of a table tree, relative to its root (lock files left out).
fn table_files(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n != "table.lock") {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// casacore trusts the lengths stored in a table's files: a corrupted one makes it allocate that
/// many bytes. Under an address-space limit the allocation fails with `std::bad_alloc`, which the
/// glue turns into an error naming the table; without one a process may be killed for memory. The
/// image fuzzing therefore runs in a child process of this test binary with a 1 GB limit (it
/// would otherwise cap the other tests running in parallel).
const IMAGE_CHILD_ENV: &str = "PCLEAN_FUZZ_IMAGE_CHILD";

#[test]
fn fuzz_casa_image_tables() {
    if std::env::var_os(IMAGE_CHILD_ENV).is_none() {
        let exe = std::env::current_exe().unwrap();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg("ulimit -v 1000000 && exec \"$0\" --exact fuzz_casa_image_tables --test-threads 1 --nocapture")
            .arg(&exe)
            .env(IMAGE_CHILD_ENV, "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "image fuzzing child failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write_sample::write_samples(tmp.path()).expect("sample images");
    let mut total = pclean_fuzz::Tally::default();
    for name in ["cube.image", "mfs.image"] {
        let good = tmp.path().join(name);
        let files = table_files(&good);
        let work = tmp.path().join(format!("{name}.fuzz"));
        let mut dict: Vec<Vec<u8>> = vec![
            vec![0; 4],
            vec![0xff; 4],
            vec![0x7f, 0xff, 0xff, 0xff],
            vec![0x80, 0, 0, 0],
            vec![0xbe, 0xbe, 0xbe, 0xbe],
            vec![0; 64],
            b"Float".to_vec(),
            b"TiledShapeStMan".to_vec(),
            b"coords".to_vec(),
        ];
        dict.extend((0..8u8).map(|b| vec![1 << b]));
        for (i, rel) in files.iter().enumerate() {
            let seed = std::fs::read(good.join(rel)).unwrap();
            let label = format!("image-{name}-{}", rel.display());
            let t0 = std::time::Instant::now();
            let t = run(&label, 40, mutated_bytes(seed, dict.clone(), 3), |bytes| {
                let _ = std::fs::remove_dir_all(&work);
                copy_tree(&good, &work);
                std::fs::write(work.join(rel), bytes).unwrap();
                let r = pclean_imageio::CasaImage::open(&work).and_then(|mut img| {
                    let [_, _, ns, nc] = img.shape();
                    for c in 0..nc {
                        for s in 0..ns {
                            img.get_plane(c, s)?;
                            img.get_mask_plane(c, s)?;
                        }
                    }
                    Ok(())
                });
                match r {
                    Ok(()) => Ok(true),
                    Err(e) => {
                        let m = e.to_string();
                        if m.contains(&*work.to_string_lossy()) {
                            Ok(false)
                        } else {
                            Err(format!(
                                "file {i} ({}): error names no path: {m}",
                                rel.display()
                            ))
                        }
                    }
                }
            });
            eprintln!(
                "{label}: {} inputs in {:.1} s",
                t.inputs,
                t0.elapsed().as_secs_f64()
            );
            total.inputs += t.inputs;
            total.accepted += t.accepted;
            total.rejected += t.rejected;
        }
    }
    record_fuzz("CASA image tables (mask, startmodel; files mutated)", total);
}

// ---------------------------------------------------------------------------------------------
// FITS products being resumed (`FitsWriter::reopen` of an interrupted run's `.pclean_partial`)

/// Whether error message `m` names `path` (its file name is enough: cfitsio errors quote it).
fn names_path(m: &str, path: &std::path::Path) -> bool {
    m.contains(&*path.to_string_lossy())
}

#[test]
fn fuzz_fits_partial_products() {
    let tmp = tempfile::tempdir().unwrap();
    write_sample::write_samples(tmp.path()).expect("sample images");
    let mut total = pclean_fuzz::Tally::default();
    for name in ["cube", "mfs"] {
        let mut img =
            pclean_imageio::CasaImage::open(tmp.path().join(format!("{name}.image"))).unwrap();
        let meta = img.meta().clone();
        let [nx, ny, ns, nc] = meta.coords.shape();
        // An interrupted writer: every plane written and flushed, never finished.
        let target = tmp.path().join(format!("{name}.resume.fits"));
        {
            let mut w = pclean_imageio::FitsWriter::create(&target, &meta, false).unwrap();
            for c in 0..nc {
                for s in 0..ns {
                    let plane = img.get_plane(c, s).unwrap();
                    w.put_plane(c, s, plane.view()).unwrap();
                }
            }
            w.flush().unwrap();
        }
        let partial = pclean_imageio::partial_path(&target);
        let seed = std::fs::read(&partial).unwrap();
        let mut dict: Vec<Vec<u8>> = [
            "BITPIX  =                  -32",
            "NAXIS   =                    3",
            "NAXIS1  =                99999",
            "NAXIS4  =           2147483647",
            "NAXIS2  =                   -1",
            "END",
            "SIMPLE  =                    F",
            "XTENSION= 'IMAGE   '",
            "BSCALE  =                    0",
            "'unterminated",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        dict.extend([
            vec![0; 2880],
            vec![0xff; 4],
            vec![b' '; 80],
            vec![0x7f, 0xc0, 0, 0],
        ]);
        let label = format!("fits-partial-{name}");
        let t = run(&label, 150, mutated_bytes(seed, dict, 3), |bytes| {
            std::fs::write(&partial, bytes).unwrap();
            let r = pclean_imageio::FitsWriter::reopen(&target, &meta, false).and_then(|mut w| {
                for c in 0..nc {
                    for s in 0..ns {
                        let plane = w.get_plane(c, s)?;
                        assert_eq!(plane.dim(), (ny, nx));
                        w.put_plane(c, s, plane.view())?;
                    }
                }
                w.flush()
            });
            match r {
                Ok(()) => Ok(true),
                Err(e) if names_path(&e.to_string(), &partial) => Ok(false),
                Err(e) => Err(format!("error names no path: {e}")),
            }
        });
        total.inputs += t.inputs;
        total.accepted += t.accepted;
        total.rejected += t.rejected;
    }
    record_fuzz(
        "FITS products being resumed (.pclean_partial mutated)",
        total,
    );
}

/// A corrupted hypercube shape in the tiled storage manager's header (`table.f0`) claimed a cell
/// of 2^30 x 32 x 2 x 3 pixels; casacore and the plane readers allocate by that shape. The image
/// is refused at open, naming the damage and both byte counts, before anything is allocated by
/// it (this test runs without an address-space limit).
#[test]
fn regression_huge_shape_in_table_f0_is_refused_before_allocating() {
    let tmp = tempfile::tempdir().unwrap();
    write_sample::write_samples(tmp.path()).expect("sample images");
    let img = tmp.path().join("cube.image");
    let f0 = img.join("table.f0");
    let mut bytes = std::fs::read(&f0).unwrap();
    // The cube shape [64, 32, 2, 3] (x, y, Stokes, channels): AipsIO's canonical 4-byte
    // big-endian integers (an `IPosition` of 4 values). The x axis is set to 2^30.
    let pat: Vec<u8> = [64u32, 32, 2, 3]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let pos = bytes
        .windows(pat.len())
        .position(|w| w == &pat[..])
        .unwrap_or_else(|| panic!("the cube shape is not in {}", f0.display()));
    bytes[pos..pos + 4].copy_from_slice(&(1u32 << 30).to_be_bytes());
    std::fs::write(&f0, bytes).unwrap();
    let m = match pclean_imageio::CasaImage::open(&img) {
        Ok(i) => panic!("opened with shape {:?}", i.shape()),
        Err(e) => {
            let mut m = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                m += &format!(": {s}");
                src = s.source();
            }
            m
        }
    };
    assert!(
        m.contains("damaged") && m.contains("needs") && m.contains(&*img.to_string_lossy()),
        "{m}"
    );
}
