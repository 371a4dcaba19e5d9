//! Fuzzing of the DS9 region parser (issue 20): `parse_ds9` and `parse_regions` (which picks
//! CRTF or DS9 by the text) on seeded, deterministic inputs: statements built from DS9's grammar
//! (coordinate systems, shapes, positions, sizes and angles, including NaN, infinities, huge and
//! negative values and missing system lines) and edits of valid DS9 files. The parser must never
//! panic, every error must name its line, and every accepted region must be finite and
//! rasterise. The counts land in `out/reliability/` for `docs/reliability.md`.
//!
//! A crash found here becomes a named regression test at the bottom of this file.

use pclean_core::Direction;
use pclean_deconv::regions::{
    parse_ds9, parse_regions, rasterize, PixelShape, Region, RegionError, SkyGeometry,
};
use pclean_fuzz::{mutated_text, record_fuzz, region_refusal, run};
use proptest::prelude::*;
use proptest::sample::select;

const DS9_SEEDS: &[&str] = &[
    "# Region file format: DS9 version 4.1\nglobal color=green dashlist=8 3 width=1\nfk5\ncircle(240.0,-30.0,2\") # color=red\n",
    "# Region file format: DS9 version 4.1\nimage\ncircle(32,32,5)\n-box(30,30,4,4,0)\n",
    "fk5; ellipse(16:00:00.0,-30:00:00.0,3\",2\",30) ; polygon(240.001,-30.001,239.999,-30.001,240.0,-29.999)",
    "icrs\nannulus(15h59m59.9s,-30d00m00s,1\",2\",3\")\nbox(240.0d,-30.0d,4\",2\",45)\n",
    "j2000\n+circle(240.0,-30.0,0.5')\npoint(240.0,-30.0) # point=x\ntext(240,-30) text={a}\n",
    "image\npolygon(10,10,40,12,25,50)\nellipse(32,32,5,3)\nannulus(32,32,2,4,8)\nbox(32,32,10i,6p)\n",
    "# comment only\nglobal font=\"helvetica 10\"\nimage; circle(1,1,1); -circle(64,64,0.5)\n",
];

const DS9_TOKENS: &[&str] = &[
    "(",
    ")",
    ",",
    ";",
    "#",
    "\n",
    " ",
    "-",
    "+",
    ":",
    ".",
    "\"",
    "'",
    "d",
    "h",
    "m",
    "s",
    "r",
    "i",
    "p",
    "fk5",
    "icrs",
    "j2000",
    "image",
    "galactic",
    "physical",
    "fk4",
    "circle",
    "ellipse",
    "box",
    "polygon",
    "annulus",
    "panda",
    "point",
    "global ",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e308",
    "1e-320",
    "-1",
    "0",
    "1e400",
    "4294967296",
    "99999999999999999999",
    "\u{0}",
    "é",
    "\r",
    "{",
    "}",
];

/// One value as DS9 writes them (and breaks them): pixels, degrees, sexagesimal, sizes.
fn value() -> impl Strategy<Value = String> {
    let num = prop_oneof![
        (-100.0f64..200.0).prop_map(|v| format!("{v}")),
        (0u32..128).prop_map(|v| v.to_string()),
        select(
            &[
                "nan",
                "NaN",
                "inf",
                "-inf",
                "+inf",
                "1e308",
                "-1e308",
                "1e400",
                "1e-320",
                "0",
                "-0",
                "-1",
                "",
                " ",
                "abc",
                "1.2.3",
                "--5",
                "0x10",
                "9999999999999999999999",
                "1_000",
            ][..]
        )
        .prop_map(str::to_string),
    ];
    let sexa = (
        0u32..30,
        0u32..70,
        0.0f64..70.0,
        any::<bool>(),
        select(&[":", "hms", "dms"][..]),
    )
        .prop_map(|(a, m, s, neg, sep)| {
            let sign = if neg { "-" } else { "" };
            match sep {
                ":" => format!("{sign}{a}:{m}:{s:.2}"),
                "hms" => format!("{a}h{m}m{s:.1}s"),
                _ => format!("{sign}{a}d{m}m{s:.1}s"),
            }
        });
    let unit = select(&["", "\"", "'", "d", "r", "i", "p", "deg", "x"][..]);
    prop_oneof![
        3 => (num.clone(), unit).prop_map(|(n, u)| format!("{n}{u}")),
        1 => sexa,
        1 => (225.0f64..255.0).prop_map(|v| format!("{v}")),
        1 => (-45.0f64..-15.0).prop_map(|v| format!("{v}")),
    ]
}

/// One DS9 statement: a shape with its own number of arguments (so that the parser gets past the
/// arity checks to the values), or any shape with 0 to 10 arguments, maybe excluded or unclosed.
fn statement() -> impl Strategy<Value = String> {
    prop_oneof![well_formed_statement(), any_statement()]
}

fn well_formed_statement() -> impl Strategy<Value = String> {
    let shape = select(
        &[
            ("circle", 3, 3),
            ("ellipse", 4, 5),
            ("box", 4, 5),
            ("polygon", 6, 10),
            ("annulus", 3, 6),
        ][..],
    );
    (select(&["", "-", "+"][..]), shape).prop_flat_map(|(sign, (name, lo, hi))| {
        prop::collection::vec(prop_oneof![4 => plausible_value(), 1 => value()], lo..=hi)
            .prop_map(move |args| format!("{sign}{name}({})", args.join(",")))
    })
}

/// Values that a valid file could hold in either system (pixels near the image, positions near
/// its centre, small sizes), so that well-formed statements are often accepted.
fn plausible_value() -> impl Strategy<Value = String> {
    prop_oneof![
        (1.0f64..64.0).prop_map(|v| format!("{v:.2}")),
        (239.999f64..240.001).prop_map(|v| format!("{v:.5}")),
        (-30.001f64..-29.999).prop_map(|v| format!("{v:.5}")),
        (0.1f64..5.0).prop_map(|v| format!("{v:.2}\"")),
        select(
            &[
                "16:00:00.0",
                "-30:00:00",
                "15h59m59.9s",
                "-30d00m01s",
                "3i",
                "4p",
                "0.001d"
            ][..]
        )
        .prop_map(str::to_string),
    ]
}

fn any_statement() -> impl Strategy<Value = String> {
    let shape = select(
        &[
            "circle",
            "ellipse",
            "box",
            "polygon",
            "annulus",
            "CIRCLE",
            "point",
            "line",
            "text",
            "panda",
            "epanda",
            "composite",
            "vector",
            "foo",
            "",
        ][..],
    );
    (
        select(&["", "-", "+", "- "][..]),
        shape,
        prop::collection::vec(value(), 0..=10),
        select(&[")", ")", ")", "", "))", ") # color=red", ")  text={x}"][..]),
    )
        .prop_map(|(sign, name, args, close)| format!("{sign}{name}({}{close}", args.join(",")))
}

/// A DS9 file from the grammar: optional header and global line, an optional (or foreign)
/// coordinate system line or prefix, then 1 to 4 statements.
fn grammar_file() -> impl Strategy<Value = String> {
    let system = select(
        &[
            "fk5", "icrs", "j2000", "image", "FK5", "ICRS", "galactic", "ecliptic", "fk4", "b1950",
            "physical", "linear", "wcs", "",
        ][..],
    );
    (
        any::<bool>(),
        any::<bool>(),
        system,
        any::<bool>(),
        prop::collection::vec(statement(), 1..=4),
        select(&["\n", ";", "; ", "\r\n"][..]),
    )
        .prop_map(|(header, global, sys, prefix, stmts, sep)| {
            let mut s = String::new();
            if header {
                s.push_str("# Region file format: DS9 version 4.1\n");
            }
            if global {
                s.push_str("global color=green width=1\n");
            }
            if !sys.is_empty() {
                s.push_str(sys);
                s.push_str(if prefix { "; " } else { "\n" });
            }
            s.push_str(&stmts.join(sep));
            s
        })
}

fn finite_shape(shape: &PixelShape) -> bool {
    let vals: Vec<f64> = match shape {
        PixelShape::Box {
            xmin,
            xmax,
            ymin,
            ymax,
        } => vec![*xmin, *xmax, *ymin, *ymax],
        PixelShape::Ellipse { cx, cy, rx, ry } => vec![*cx, *cy, *rx, *ry],
        PixelShape::Annulus {
            cx,
            cy,
            rx_in,
            ry_in,
            rx_out,
            ry_out,
        } => vec![*cx, *cy, *rx_in, *ry_in, *rx_out, *ry_out],
        PixelShape::Polygon(pts) => pts.iter().flat_map(|(x, y)| [*x, *y]).collect(),
        PixelShape::RotatedEllipse {
            cx,
            cy,
            qxx,
            qxy,
            qyy,
            hx,
            hy,
        } => vec![*cx, *cy, *qxx, *qxy, *qyy, *hx, *hy],
    };
    vals.iter().all(|v| v.is_finite())
}

/// Accepted regions must be finite and rasterise; an error must name its line.
fn check(result: Result<Vec<Region>, RegionError>) -> Result<bool, String> {
    match result {
        Ok(regions) => {
            if let Some(r) = regions.iter().find(|r| !finite_shape(&r.shape)) {
                return Err(format!("accepted a non-finite region: {r:?}"));
            }
            let m = rasterize(&regions, (64, 64));
            if m.dim() != (64, 64) {
                return Err(format!("mask shape {:?}", m.dim()));
            }
            Ok(true)
        }
        Err(e) => region_refusal(e),
    }
}

fn geometry() -> SkyGeometry {
    let cell = (0.1f64 / 3600.0).to_radians();
    let centre = Direction::new_j2000(240f64.to_radians(), (-30f64).to_radians());
    SkyGeometry::for_image(centre, 64, 64, cell, cell)
}

#[test]
fn fuzz_ds9_regions() {
    let geom = geometry();
    let texts = prop_oneof![grammar_file(), mutated_text(DS9_SEEDS, DS9_TOKENS, 4),];
    let t = run("ds9", 2000, (any::<bool>(), texts), |(with_geom, text)| {
        let g = with_geom.then_some(&geom);
        let direct = check(parse_ds9(text, g))?;
        // The auto-detecting entry point (CRTF or DS9) must hold to the same rules.
        check(parse_regions(text, g))?;
        Ok(direct)
    });
    record_fuzz("DS9 regions (parse and rasterise)", t);
}
