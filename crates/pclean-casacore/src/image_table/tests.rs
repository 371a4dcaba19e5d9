use super::*;

#[test]
fn tile_shapes_split_evenly() {
    assert_eq!(default_tile_shape([8000, 8000, 1, 1000]), [500, 500, 1, 1]);
    assert_eq!(default_tile_shape([300, 64, 4, 3]), [300, 64, 1, 1]);
    assert_eq!(default_tile_shape([1025, 512, 1, 1]), [342, 512, 1, 1]);
}

#[test]
fn create_write_read_and_refuse_second_writer() {
    let dir = std::env::temp_dir().join(format!("pc_imgtab_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.image");
    let shape = [5, 3, 2, 4];
    let mut t = ImageTable::create(&path, shape, default_tile_shape(shape)).unwrap();
    assert!(
        ImageTable::open(&path, true).is_err(),
        "second writer must be refused"
    );
    let plane: Vec<f32> = (0..15).map(|i| i as f32).collect();
    t.put_slice([0, 0, 1, 2], [5, 3, 1, 1], &plane).unwrap();
    assert!(t.put_slice([0, 0, 2, 0], [5, 3, 1, 1], &plane).is_err());
    t.close().unwrap();
    assert!(
        ImageTable::create(&path, shape, [5, 3, 1, 1]).is_err(),
        "never replaces"
    );
    let mut r = ImageTable::open(&path, false).unwrap();
    assert_eq!(r.shape(), shape);
    let mut back = vec![0f32; 15];
    r.get_slice([0, 0, 1, 2], [5, 3, 1, 1], &mut back).unwrap();
    assert_eq!(back, plane);
    r.get_slice([0, 0, 0, 0], [5, 3, 1, 1], &mut back).unwrap();
    assert!(back.iter().all(|&v| v == 0.0));
    let mut one = [0f32; 1];
    r.get_slice([4, 2, 1, 2], [1, 1, 1, 1], &mut one).unwrap();
    assert_eq!(one[0], 14.0);
    drop(r);
    let info = std::fs::read_to_string(path.join("table.info")).unwrap();
    assert!(info.starts_with("Type = Image\n"), "{info}");
    let info = std::fs::read_to_string(path.join("logtable/table.info")).unwrap();
    assert!(info.starts_with("Type = Log message\n"), "{info}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Direct tile I/O (writers) and casacore's own (readers) agree on every pixel, for edge
/// tiles with padding, partial boxes (read-modify-write), several planes at once, zero planes
/// (skipped while unwritten, written over data), with `O_DIRECT` tiles (32 x 32 floats = 4096
/// bytes) and ordinary ones.
#[test]
fn direct_tile_io_matches_casacore() {
    for (shape, tile) in [
        ([7, 5, 2, 3], [3, 2, 1, 1]),
        ([70, 50, 1, 3], [32, 32, 1, 1]),
    ] {
        direct_tile_io_case(shape, tile);
    }
}

fn direct_tile_io_case(shape: [usize; 4], tile: [usize; 4]) {
    let dir = std::env::temp_dir().join(format!(
        "pc_imgtab_direct_{}_{}",
        std::process::id(),
        tile[0]
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("d.image");
    let [nx, ny, ns, _] = shape;
    let mut t = ImageTable::create(&path, shape, tile).unwrap();
    assert!(t.tiles.is_some(), "a new table uses direct tile I/O");
    assert_eq!(
        t.tiles.as_ref().unwrap().has_direct(),
        (tile[0] * tile[1] * 4).is_multiple_of(crate::tile_file::DIRECT_ALIGN)
    );
    let n: usize = shape.iter().product();
    let mut want = vec![0f32; n];
    let idx = |x: usize, y: usize, s: usize, c: usize| x + nx * (y + ny * (s + ns * c));
    let mut put = |t: &mut ImageTable, blc: [usize; 4], len: [usize; 4], v: &[f32]| {
        t.put_slice(blc, len, v).unwrap();
        for c in 0..len[3] {
            for s in 0..len[2] {
                for y in 0..len[1] {
                    for x in 0..len[0] {
                        want[idx(blc[0] + x, blc[1] + y, blc[2] + s, blc[3] + c)] =
                            v[x + len[0] * (y + len[1] * (s + len[2] * c))];
                    }
                }
            }
        }
    };
    let np = nx * ny;
    // A zero plane (skipped: holes), a whole plane, then a partial box over it and the next.
    put(&mut t, [0, 0, ns - 1, 2], [nx, ny, 1, 1], &vec![0.0; np]);
    let plane: Vec<f32> = (0..np).map(|i| 1.0 + i as f32).collect();
    put(&mut t, [0, 0, ns - 1, 0], [nx, ny, 1, 1], &plane);
    let (blc, len) = ([2, 1, ns - 1, 0], [nx - 3, ny - 2, 1, 2]);
    let part: Vec<f32> = (0..len.iter().product::<usize>())
        .map(|i| -(i as f32) - 0.5)
        .collect();
    put(&mut t, blc, len, &part);
    let mut back = vec![0f32; part.len()];
    t.get_slice(blc, len, &mut back).unwrap();
    assert_eq!(back, part);
    // Zeros over written data are written.
    put(&mut t, [0, 0, ns - 1, 1], [nx, ny, 1, 1], &vec![0.0; np]);
    t.close().unwrap();
    let mut r = ImageTable::open(&path, false).unwrap();
    assert!(r.tiles.is_none(), "readers use casacore");
    let mut all = vec![0f32; n];
    r.get_slice([0, 0, 0, 0], shape, &mut all).unwrap();
    assert_eq!(all, want);
    drop(r);
    // Reopened for writing (resume): direct again, and sees what was written.
    let mut w = ImageTable::open(&path, true).unwrap();
    assert!(w.tiles.is_some());
    let mut all2 = vec![0f32; n];
    w.get_slice([0, 0, 0, 0], shape, &mut all2).unwrap();
    assert_eq!(all2, want);
    drop(w);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Planes written through a `TileWriter` (another process's view: its own file handles) while the
/// table stays open in its holder, which writes other channels, flushes and closes it: casacore
/// then reads every plane as written by either. Both `O_DIRECT` tiles (32 x 32 floats) and
/// ordinary ones; a bad plane is refused with the shape.
#[test]
fn tile_writer_beside_the_open_table() {
    for (shape, tile) in [
        ([64, 40, 1, 4], [32, 32, 1, 1]),
        ([7, 5, 2, 3], [3, 2, 1, 1]),
    ] {
        let dir = std::env::temp_dir().join(format!(
            "pc_imgtab_writer_{}_{}",
            std::process::id(),
            tile[0]
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.image");
        let [nx, ny, ns, nc] = shape;
        let np = nx * ny;
        let mut t = ImageTable::create(&path, shape, tile).unwrap();
        let layout = t.tile_layout().expect("a new table has direct tile I/O");
        assert_eq!(layout.shape, shape);
        let mut w = crate::TileWriter::open(&layout, true).unwrap();
        assert_eq!(
            w.is_direct(),
            (tile[0] * tile[1] * 4).is_multiple_of(crate::tile_file::DIRECT_ALIGN)
        );
        let plane = |c: usize, s: usize| -> Vec<f32> {
            (0..np)
                .map(|i| (1 + c * 100 + s * 10) as f32 + i as f32 * 0.25)
                .collect()
        };
        // The writer takes the odd channels, the holder the even ones.
        for c in 0..nc {
            for s in 0..ns {
                if c % 2 == 1 {
                    w.put_plane(c, s, &plane(c, s)).unwrap();
                } else {
                    t.put_slice([0, 0, s, c], [nx, ny, 1, 1], &plane(c, s))
                        .unwrap();
                }
            }
        }
        let e = w.put_plane(nc, 0, &plane(0, 0)).unwrap_err().to_string();
        assert!(e.contains("does not fit"), "{e}");
        assert!(w.put_plane(0, 0, &plane(0, 0)[1..]).is_err());
        w.sync().unwrap();
        t.flush().unwrap();
        t.close().unwrap();
        let mut r = ImageTable::open(&path, false).unwrap();
        let mut back = vec![0f32; np];
        for c in 0..nc {
            for s in 0..ns {
                r.get_slice([0, 0, s, c], [nx, ny, 1, 1], &mut back)
                    .unwrap();
                assert_eq!(back, plane(c, s), "channel {c} stokes {s}");
            }
        }
        drop(r);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
