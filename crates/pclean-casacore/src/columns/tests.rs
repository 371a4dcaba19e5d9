use super::*;
use num_complex::Complex32;
use rubbl_casatables::{GlueDataType, Table, TableCreateMode, TableDesc, TableDescCreateMode};
use std::path::PathBuf;

/// A scratch directory removed on drop.
struct Scratch(PathBuf);
impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const NROW: u64 = 6;

/// The FL column's value in (row, chan, corr).
fn flag_pattern(r: usize, chan: usize, corr: usize) -> bool {
    matches!((r + chan + corr) % 3, 0)
}

fn vis(r: u64, chan: usize, corr: usize) -> Complex32 {
    Complex32::new(
        (r * 100 + chan as u64 * 10 + corr as u64) as f32,
        -(r as f32),
    )
}

/// A table with scalar columns I, D, B, S and variable-shape array columns C (Complex), F
/// (Float), FL (Bool) whose cells have casacore shape [corr=2, chan=4].
fn make_table(name: &str) -> Scratch {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "pclean-columns-{name}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.tab");
    let mut desc = TableDesc::new("", TableDescCreateMode::TDM_SCRATCH).unwrap();
    for (t, n) in [
        (GlueDataType::TpInt, "I"),
        (GlueDataType::TpDouble, "D"),
        (GlueDataType::TpBool, "B"),
        (GlueDataType::TpString, "S"),
    ] {
        desc.add_scalar_column(t, n, None, false, false).unwrap();
    }
    for (t, n) in [
        (GlueDataType::TpComplex, "C"),
        (GlueDataType::TpFloat, "F"),
        (GlueDataType::TpBool, "FL"),
    ] {
        desc.add_array_column(t, n, None, None, false, false)
            .unwrap();
    }
    let mut t = Table::new(&path, desc, NROW as usize, TableCreateMode::New).unwrap();
    for r in 0..NROW {
        t.put_cell("I", r, &(r as i32 * 3)).unwrap();
        t.put_cell("D", r, &(r as f64 * 0.5)).unwrap();
        t.put_cell("B", r, &(r % 2 == 1)).unwrap();
        t.put_cell("S", r, &format!("row{r}")).unwrap();
        // rubbl shapes are C-ordered: (chan, corr) here is casacore's [corr, chan].
        let c = ndarray::Array2::from_shape_fn((4, 2), |(ch, p)| vis(r, ch, p));
        t.put_cell("C", r, &c).unwrap();
        let f = c.mapv(|z| z.re);
        t.put_cell("F", r, &f).unwrap();
        let fl = ndarray::Array2::from_shape_fn((4, 2), |(ch, p)| flag_pattern(r as usize, ch, p));
        t.put_cell("FL", r, &fl).unwrap();
    }
    drop(t);
    Scratch(dir)
}

#[test]
fn scalar_and_string_reads() {
    let s = make_table("scalar");
    let t = ReadTable::open(s.0.join("t.tab")).unwrap();
    assert_eq!(t.n_rows(), NROW);
    assert!(t.has_column("C") && !t.has_column("X"));
    let mut i = [0i32; 3];
    t.read_scalar_range("I", 2, &mut i).unwrap();
    assert_eq!(i, [6, 9, 12]);
    assert_eq!(
        t.scalar_column::<f64>("D").unwrap(),
        vec![0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    );
    assert_eq!(
        t.scalar_column::<bool>("B").unwrap(),
        vec![false, true, false, true, false, true]
    );
    assert_eq!(
        t.read_string_range("S", 4, 2).unwrap(),
        vec!["row4", "row5"]
    );
    let info = t.column_info("I").unwrap();
    assert_eq!(
        (info.elem, info.is_array, info.shape),
        (ElemType::Int, false, None)
    );
}

#[test]
fn array_range_cells_and_slices() {
    let s = make_table("array");
    let t = ReadTable::open(s.0.join("t.tab")).unwrap();
    let info = t.column_info("C").unwrap();
    assert_eq!(info.elem, ElemType::Complex);
    assert!(info.is_array && !info.fixed_shape);
    assert_eq!(info.shape, Some(vec![2, 4]));
    assert_eq!(t.cell_shape("F", 3).unwrap(), Some(vec![2, 4]));

    // Whole cells of rows 1..5: C order (row, chan, corr).
    let mut buf = vec![Complex32::default(); 4 * 8];
    t.read_array_range("C", 1, 4, None, &mut buf).unwrap();
    for r in 0..4 {
        for ch in 0..4 {
            for p in 0..2 {
                assert_eq!(buf[(r * 4 + ch) * 2 + p], vis(r as u64 + 1, ch, p));
            }
        }
    }
    // Slice: corr 1 only, channels 1..3.
    let slice = CellSlice {
        blc: vec![1, 1],
        len: vec![1, 2],
    };
    let mut buf = vec![0f32; 2 * 2];
    t.read_array_range("F", 4, 2, Some(&slice), &mut buf)
        .unwrap();
    assert_eq!(buf, vec![411.0, 421.0, 511.0, 521.0]);
    // Row list with a slice (runs 0, 2..=3, 5).
    let rows = [0u64, 2, 3, 5];
    let slice = CellSlice {
        blc: vec![0, 2],
        len: vec![2, 2],
    };
    let mut buf = vec![Complex32::default(); rows.len() * 4];
    t.read_array_cells("C", &rows, Some(&slice), &mut buf)
        .unwrap();
    for (k, &r) in rows.iter().enumerate() {
        for ch in 0..2 {
            for p in 0..2 {
                assert_eq!(buf[(k * 2 + ch) * 2 + p], vis(r, ch + 2, p));
            }
        }
    }
    let mut fl = vec![false; 2 * 8];
    t.read_array_cells("FL", &[1, 4], None, &mut fl).unwrap();
    for (k, r) in [1usize, 4].into_iter().enumerate() {
        for ch in 0..4 {
            for p in 0..2 {
                assert_eq!(fl[(k * 4 + ch) * 2 + p], flag_pattern(r, ch, p));
            }
        }
    }
    let (shape, cell) = t.read_cell::<f32>("F", 2).unwrap();
    assert_eq!(shape, vec![2, 4]);
    assert_eq!(cell[..3], [200.0, 201.0, 210.0]);
}

#[test]
fn errors_name_table_and_column() {
    let s = make_table("errors");
    let path = s.0.join("t.tab");
    let t = ReadTable::open(&path).unwrap();
    let e = t.column_info("NOPE").unwrap_err().to_string();
    assert!(
        e.contains("has no column NOPE") && e.contains("t.tab"),
        "{e}"
    );
    let mut b = [0i32; 3];
    let e = t.read_scalar_range("I", 5, &mut b).unwrap_err().to_string();
    assert!(e.contains("out of range"), "{e}");
    // Buffer of the wrong size: caught by the glue, reported with the column.
    let mut b = vec![0f32; 7];
    let e = t
        .read_array_range("F", 0, 1, None, &mut b)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("column F") && e.contains("caller's buffer holds 7"),
        "{e}"
    );
    // Wrong element type: casacore's exception becomes an error.
    let mut b = vec![0f64; 8];
    assert!(t.read_array_range("F", 0, 1, None, &mut b).is_err());
    let bad = CellSlice {
        blc: vec![0],
        len: vec![1, 2],
    };
    assert!(t
        .read_array_range("F", 0, 1, Some(&bad), &mut [0f32; 2])
        .is_err());
    assert!(t.read_array_cells("F", &[9], None, &mut [0f32; 8]).is_err());
    let e = ReadTable::open(s.0.join("missing"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cannot open table") && e.contains("missing"),
        "{e}"
    );
    let e = ReadTable::open(&s.0).unwrap_err().to_string();
    assert!(e.contains("cannot open table"), "{e}");
}

#[test]
fn same_table_from_several_threads() {
    let s = make_table("threads");
    let path = s.0.join("t.tab");
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..50 {
                    let t = ReadTable::open(&path).unwrap();
                    let mut buf = vec![Complex32::default(); 6 * 8];
                    t.read_array_range("C", 0, 6, None, &mut buf).unwrap();
                    assert_eq!(buf[47], vis(5, 3, 1));
                }
            });
        }
    });
}
