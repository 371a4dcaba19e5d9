//! DS9 region files as masks: each shape gives the same mask pixels as its CRTF equivalent
//! (exact equality of boolean masks: both go through the same rasteriser, so the only possible
//! difference is the DS9 reader's conversion of positions, sizes and angles).

use ndarray::Array2;
use pclean_core::Direction;
use pclean_deconv::masks;
use pclean_deconv::regions::{
    crtf_mask, parse_ds9, parse_regions, rasterize, region_mask, RegionError, SkyGeometry,
};

const DIM: (usize, usize) = (200, 220);

fn geom() -> SkyGeometry {
    let centre = Direction::parse("J2000 15h22m00s +05d04m00s").unwrap();
    let cell = 2.0f64.to_radians() / 3600.0;
    SkyGeometry::for_image(centre, DIM.1, DIM.0, cell, cell)
}

fn ds9(text: &str) -> Array2<bool> {
    rasterize(&parse_ds9(text, Some(&geom())).unwrap(), DIM)
}

fn crtf(text: &str) -> Array2<bool> {
    crtf_mask(text, Some(&geom()), DIM).unwrap()
}

fn same(d: &str, c: &str) {
    let (a, b) = (ds9(d), crtf(c));
    assert!(masks::count(b.view()) > 0, "empty reference mask for {c}");
    assert_eq!(a, b, "DS9 '{d}' vs CRTF '{c}'");
}

const HEADER: &str = "# Region file format: DS9 version 4.1\n\
    global color=green dashlist=8 3 width=1 font=\"helvetica 10 normal roman\" select=1\n";

#[test]
fn image_coordinate_shapes_equal_their_crtf_equivalents() {
    // DS9 image pixels are 1-based: DS9 pixel 101 is CRTF's 100pix.
    same(
        &format!("{HEADER}image\ncircle(101,101,10.5)"),
        "circle[[100pix, 100pix], 10.5pix]",
    );
    same(
        "image; box(51, 61, 21, 11, 0) # color=red",
        "centerbox[[50pix, 60pix], [21pix, 11pix]]",
    );
    // At 90 degrees the width runs along y.
    same(
        "image\nbox(51,61,21,11,90)",
        "centerbox[[50pix, 60pix], [11pix, 21pix]]",
    );
    same(
        "image\npolygon(11,11,41,16,31,51,6,36)",
        "poly[[10pix, 10pix], [40pix, 15pix], [30pix, 50pix], [5pix, 35pix]]",
    );
    same(
        "image\nannulus(101,91,5,12)",
        "annulus[[100pix, 90pix], [5pix, 12pix]]",
    );
    // A square turned 45 degrees: corners 10 sqrt(2) px from the centre on the axes.
    let h = 10.0 * 2f64.sqrt();
    same(
        "image\nbox(101,101,20,20,45)",
        &format!(
            "poly[[{}pix, 100pix], [100pix, {}pix], [{}pix, 100pix], [100pix, {}pix]]",
            100.0 - h,
            100.0 - h,
            100.0 + h,
            100.0 + h
        ),
    );
    // An ellipse with equal axes at any angle is the circle.
    same(
        "image\nellipse(101,101,10,10,33)",
        "circle[[100pix, 100pix], 10pix]",
    );
    // Exclusion and union, in order.
    same(
        "image\nbox(31,31,21,21,0)\n-circle(31,31,5)\n+circle(151,151,8)",
        "centerbox[[30pix, 30pix], [21pix, 21pix]]\n-circle[[30pix, 30pix], 5pix]\n\
         circle[[150pix, 150pix], 8pix]",
    );
}

#[test]
fn sky_coordinate_shapes_equal_their_crtf_equivalents() {
    same(
        &format!("{HEADER}fk5\ncircle(15:22:02.000,+5:04:30.00,30\")"),
        "circle[[15:22:02.000, +05.04.30.00], 30arcsec]",
    );
    same(
        "icrs; circle(230.51,5.05,0.5')",
        "circle[[230.51deg, 5.05deg], 30arcsec], coord=ICRS",
    );
    same(
        "fk5\nbox(15h22m01s,+5d03m20s,40\",20\",0)",
        "centerbox[[15h22m01s, +05d03m20s], [40arcsec, 20arcsec]]",
    );
    same(
        "j2000\npolygon(230.49,5.06,230.51,5.062,230.505,5.08)",
        "poly[[230.49deg, 5.06deg], [230.51deg, 5.062deg], [230.505deg, 5.08deg]]",
    );
    // Bare sky sizes are degrees; pixel sizes with 'i'.
    same(
        "fk5\ncircle(230.5,5.0667,0.005)",
        "circle[[230.5deg, 5.0667deg], 18arcsec]",
    );
    same(
        "fk5\ncircle(230.5,5.0667,9i)",
        "circle[[230.5deg, 5.0667deg], 9pix]",
    );
}

#[test]
fn a_rotated_ellipse_holds_the_pixels_of_its_equation() {
    // ellipse(x, y, a, b, 30): semi-axis a along 30 degrees counter-clockwise from +x (DS9).
    let m = ds9("image\nellipse(101,81,24,9,30)");
    let (cx, cy, a, b, t) = (100.0, 80.0, 24.0, 9.0, 30f64.to_radians());
    let mut n = 0;
    for ((y, x), v) in m.indexed_iter() {
        let (dx, dy) = (x as f64 - cx, y as f64 - cy);
        let p = (dx * t.cos() + dy * t.sin()) / a;
        let q = (-dx * t.sin() + dy * t.cos()) / b;
        let inside = p * p + q * q <= 1.0;
        // Pixels within 1e-6 of the edge may go either way (the rasteriser's tolerance).
        if ((p * p + q * q) - 1.0).abs() > 1e-6 {
            assert_eq!(*v, inside, "pixel ({x}, {y})");
        }
        n += usize::from(*v);
    }
    // Area pi a b = 678.6 px; the pixel count of a smooth shape this size is within ~3%.
    assert!(
        (n as f64 / (std::f64::consts::PI * a * b) - 1.0).abs() < 0.03,
        "{n}"
    );
    // The +x/+y sense: the far end of the major axis is up and to the right.
    assert!(m[[80 + 10, 100 + 18]] && !m[[80 - 10, 100 + 18]]);
}

#[test]
fn a_region_file_is_recognised_and_its_errors_name_file_and_line() {
    let dir = std::env::temp_dir().join(format!("pclean-ds9-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("mask.reg");
    std::fs::write(&good, format!("{HEADER}image\ncircle(101,101,10)\n")).unwrap();
    let m = region_mask(good.to_str().unwrap(), Some(&geom()), DIM).unwrap();
    assert_eq!(m, crtf("circle[[100pix, 100pix], 10pix]"));
    let bad = dir.join("bad.reg");
    std::fs::write(
        &bad,
        format!("{HEADER}fk5\ncircle(15:22:00,+5:04:00,30\")\ncircle(15:22:xx,+5:04:00,3\")\n"),
    )
    .unwrap();
    let e = region_mask(bad.to_str().unwrap(), Some(&geom()), DIM).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("bad.reg") && text.contains("line 5") && text.contains("15:22:xx"),
        "{text}"
    );
    assert!(matches!(e, RegionError::InFile { .. }));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unsupported_ds9_input_is_refused_with_the_line() {
    let g = geom();
    let err = |t: &str| parse_regions(t, Some(&g)).unwrap_err().to_string();
    let e = err("galactic\ncircle(10.0,5.0,1')");
    assert!(
        e.contains("line 1") && e.contains("galactic") && e.contains("fk5"),
        "{e}"
    );
    let e = err("# Region file format: DS9\ncircle(101,101,10)");
    assert!(
        e.contains("line 2") && e.contains("coordinate system"),
        "{e}"
    );
    let e = err("image\npanda(100,100,0,360,4,0,10,2)");
    assert!(e.contains("panda") && e.contains("circle, ellipse"), "{e}");
    let e = err("image\ncircle(101,101)");
    assert!(e.contains("circle(x, y, radius)"), "{e}");
    let e = err("fk5\ncircle(230.5,5.0,10\",2i)");
    assert!(e.contains("line 2"), "{e}");
    let e = err("fk5\nellipse(230.5,5.0,10\",2i,0)");
    assert!(e.contains("mix pixels and angles"), "{e}");
    let e = err("image\ncircle(101,101,10) extra");
    assert!(e.contains("extra") && e.contains('#'), "{e}");
    // World coordinates need the image's geometry.
    let e = parse_ds9("fk5\ncircle(230.5,5.0,10\")", None).unwrap_err();
    assert!(
        matches!(e, RegionError::NeedsGeometry { line: 2, .. }),
        "{e}"
    );
    // Annotations never mask.
    let r = parse_ds9(
        "image\ntext(10,10) # text={hi}\npoint(5,5)\ncircle(20,20,3)",
        None,
    )
    .unwrap();
    assert_eq!(r.len(), 1);
}
