use super::*;

pub(super) fn shape(deconvolve: bool) -> BlockShape {
    BlockShape {
        image: ImageSide {
            nx: 1024,
            ny: 1024,
            nstokes: 1,
            density_per_channel: true,
            density: true,
            deconvolve,
            deconvolver: DeconvolverKind::Hogbom,
            automask: false,
            fixed_mask: true,
            stats_region: true,
            mvc_chans: 0,
            joint_pass: false,
        },
        data: DataSide {
            chunk_rows: 10_000,
            data_chans: 64,
            image_chans: 64,
            spw_chans: 64,
            ncorr: 2,
            nvis_per_chan: 100_000,
            prepared_rows: 100_000,
            streamed: false,
        },
        grid_u: 1800,
        grid_v: 1800,
        grid_elem_bytes: 8,
        pointings: 1,
        beam_bands: 1,
        grid_planes: 1,
        w_buffered: false,
        kernel_support: 7,
        mosaic_pass_grid: false,
        paged_data_chans: 0,
        paged_resident: 0,
    }
}

pub(super) fn req(nchan: usize, budget: u64, whole: bool) -> ScheduleRequest {
    ScheduleRequest {
        nchan,
        nthreads: 4,
        chans_per_block: 0,
        blocks_in_flight: 0,
        threads_per_block: 0,
        budget_bytes: budget,
        prefer_whole_cube: whole,
        dirty_chans_per_block: 1,
        cache_read: CacheRead::default(),
    }
}

#[test]
fn block_bytes_grow_linearly_with_channels() {
    let s = shape(false);
    let d1 = s.block_bytes(2, 1) - s.block_bytes(1, 1);
    let d2 = s.block_bytes(3, 1) - s.block_bytes(2, 1);
    assert_eq!(d1, d2);
    // Dirty imaging: one grid and one density whatever the channels (the block makes each
    // channel's density just before its planes); per channel more only its prepared visibilities
    // (12 B per visibility and Stokes, 4 B weight offset).
    assert_eq!(d1, 100_000 * 16);
    assert!(shape(true).block_bytes(4, 1) > s.block_bytes(4, 1));
}

#[test]
fn joint_pass_holds_a_second_grid() {
    // An mfs plane's PSF and dirty image in one pass: the first pass holds exactly one more
    // grid (1800^2 cells of 8 bytes), the other phases are unchanged.
    let mut joint = shape(false);
    joint.image.joint_pass = true;
    let (a, b) = (shape(false).phases(1, 1), joint.phases(1, 1));
    assert_eq!(b.first_pass - a.first_pass, 1800 * 1800 * 8);
    assert_eq!((a.weighting, a.writing), (b.weighting, b.writing));
}

#[test]
fn an_mfs_joint_pass_counts_its_chunk_once() {
    // An mfs plane (64 data channels, no prepared chunks), 10 000 rows a chunk, all 64 channels
    // read: 640 000 samples. The separate passes' chunk: per sample read 13 B x 2 correlations,
    // two Stokes copies (24 B) and the map (4 B); per row the column map (4 B) and row fields
    // (72 B); per visibility the selections and bucketing (32 B). The joint pass: the read chunk
    // (26 B per sample, 64 B per row) whole, the rest for the half being gridded (5 000 rows,
    // 320 000 samples: one Stokes copy and the map, 16 B; per row 12 B; per visibility 12 B).
    let mut mfs = shape(false);
    mfs.data.image_chans = 1;
    mfs.data.prepared_rows = 0;
    mfs.data.nvis_per_chan = 6_400_000;
    let mut joint = mfs.clone();
    joint.image.joint_pass = true;
    let (a, b) = (mfs.phases(1, 1), joint.phases(1, 1));
    let separate = 640_000 * (26 + 24 + 4) + 10_000 * (4 + 72) + 640_000 * 32;
    let together = 640_000 * 26 + 10_000 * 64 + 320_000 * 16 + 5_000 * 12 + 320_000 * 12;
    // The joint pass also holds the dirty image's grid.
    assert_eq!(
        a.first_pass + 1800 * 1800 * 8 - b.first_pass,
        separate - together
    );
    assert_eq!((a.weighting, a.writing), (b.weighting, b.writing));
}

#[test]
fn one_grid_and_the_planes_of_a_cleaned_channel() {
    // One channel, hogbom, pb mask: PSF, model (f32), mask and statistics region (bytes) and one
    // grid in the major cycle, plus per-visibility and per-thread buffers (the new residual is
    // made in the grid's memory, its old one freed first).
    let s = shape(true);
    let p = s.phases(1, 1);
    let npix = 1024 * 1024u64;
    assert_eq!(p.peak(), p.major_cycle);
    let fixed = 10 * npix + 1800 * 1800 * 8;
    assert!(
        p.major_cycle > fixed && p.major_cycle < fixed + (8 << 20),
        "{p:?}"
    );
    // Threads add only scratch (tile counts, FFT column blocks).
    assert!(s.block_bytes(1, 4) - s.block_bytes(1, 1) < 4 << 20);
}

#[test]
fn schedule_fits_the_budget() {
    let s = shape(true);
    for budget in [1u64 << 30, 4 << 30, 64 << 30] {
        let sch = schedule(&s, req(64, budget, true)).unwrap();
        assert!(sch.estimate_bytes <= budget, "{sch:?}");
    }
    // A large budget: the whole cube in one block.
    let sch = schedule(&s, req(64, 64 << 30, true)).unwrap();
    assert_eq!((sch.chans_per_block, sch.blocks_in_flight), (64, 1));
    // The whole cube needs more than a quarter of the budget: one channel per block.
    let sch = schedule(&s, req(64, 2 << 30, true)).unwrap();
    assert_eq!(
        (
            sch.chans_per_block,
            sch.blocks_in_flight,
            sch.threads_per_block
        ),
        (1, 4, 1)
    );
    // Dirty imaging: one-channel blocks (this request's `dirty_chans_per_block`), one thread
    // each, as many in flight as threads.
    let sch = schedule(&shape(false), req(64, 64 << 30, false)).unwrap();
    assert_eq!(
        (
            sch.chans_per_block,
            sch.blocks_in_flight,
            sch.threads_per_block
        ),
        (1, 4, 1)
    );
}

#[test]
fn worker_estimates() {
    let spec = WorkerSpec {
        imsize: 4096,
        ..Default::default()
    };
    let one = estimate_worker_memory_gib(&spec).unwrap();
    // Four channels with every plane in memory (`cube_resident_chans` 4), and paged (one
    // channel per thread in memory, the default).
    let four = estimate_worker_memory_gib(&WorkerSpec {
        nchan_per_task: 4,
        resident_chans: 4,
        ..spec.clone()
    })
    .unwrap();
    let paged = estimate_worker_memory_gib(&WorkerSpec {
        nchan_per_task: 4,
        ..spec.clone()
    })
    .unwrap();
    // 4096^2, one channel, hogbom: about 27 B/px with the base.
    let per_pixel = one * GIB / (4096.0 * 4096.0);
    assert!(per_pixel > 24.0 && per_pixel < 30.0, "{per_pixel}");
    assert!(four > 2.0 * one, "{one} {four}");
    // Paged, the block holds one channel's planes (plus the visibilities' one read, as a run of
    // several channels makes it).
    assert!(paged < 1.5 * one, "{one} {paged}");
    assert_eq!(estimate_peak_ram_gib(3, &spec).unwrap(), 3.0 * one);
    let n = recommend_nworkers(Some(100.0), &spec, 0.85).unwrap();
    assert_eq!(n, (85.0 / one).floor() as usize);
    assert_eq!(recommend_nworkers(Some(0.01), &spec, 0.85).unwrap(), 0);
    // wproject: the w planes' grids on top (12 by default, or as given).
    let w = |wplanes| {
        estimate_worker_memory_gib(&WorkerSpec {
            gridder: "wproject".into(),
            wplanes,
            ..spec.clone()
        })
        .unwrap()
    };
    let grid_gib = {
        let s = spec.block_shape().unwrap();
        (s.grid_u * s.grid_v * 8) as f64 / GIB
    };
    assert!(w(0) > one + 11.0 * grid_gib, "{one} {}", w(0));
    assert!(w(32) - w(16) > 15.0 * grid_gib && w(0) == w(12));
    for bad in [
        WorkerSpec {
            gridder: "imagemosaic".into(),
            ..spec.clone()
        },
        WorkerSpec {
            nterms: 2,
            ..spec.clone()
        },
        WorkerSpec {
            deconvolver: "mem".into(),
            ..spec.clone()
        },
    ] {
        assert!(estimate_worker_memory_gib(&bad).is_err());
    }
    assert!(recommend_nworkers(Some(10.0), &spec, 1.5).is_err());
}

#[test]
fn too_small_a_budget_is_an_error() {
    let e = schedule(&shape(true), req(64, 50 << 20, true)).unwrap_err();
    assert!(e.to_string().contains("memory limit"), "{e}");
}

#[test]
fn fewer_blocks_in_flight_when_memory_is_short() {
    let s = shape(false);
    let mut r = req(64, 0, false);
    r.chans_per_block = 4;
    r.budget_bytes = BASE_BYTES + s.blocks_bytes(4, 2, 2) + 1;
    let sch = schedule(&s, r).unwrap();
    assert_eq!(sch.blocks_in_flight, 2);
    // Two blocks need their interleaving's grids too: without them, one block.
    r.budget_bytes = BASE_BYTES + 2 * s.block_bytes(4, 2) + 1;
    assert_eq!(schedule(&s, r).unwrap().blocks_in_flight, 1);
}

/// Several blocks in flight count one pass's grids each beside their peaks (what their
/// interleaving leaves resident until each block's next trim); one block counts none.
#[test]
fn blocks_in_flight_count_their_interleaving() {
    let s = shape(false);
    let grid = 1800 * 1800 * 8;
    assert_eq!(s.blocks_bytes(8, 1, 1), s.block_bytes(8, 1));
    assert_eq!(s.blocks_bytes(8, 2, 1), 2 * s.block_bytes(8, 1) + 2 * grid);
    assert_eq!(s.blocks_bytes(8, 3, 1), 3 * s.block_bytes(8, 1) + 3 * grid);
    // The mosaic gridder's passes grid into one image-size double-precision grid.
    let mos = BlockShape {
        pointings: 7,
        mosaic_pass_grid: true,
        ..s.clone()
    };
    assert_eq!(
        mos.blocks_bytes(1, 2, 1) - 2 * mos.block_bytes(1, 1),
        2 * 16 * 1024 * 1024
    );
}

/// What the one read of the visibilities leaves resident comes off the budget before any block:
/// a budget that fits two 4-channel blocks alone fits one beside the read's residue, and the
/// run's estimate counts it; a read whose peak exceeds the budget is a clear error.
#[test]
fn schedule_makes_room_for_the_read() {
    let s = shape(false);
    let mut r = req(64, 0, false);
    r.chans_per_block = 4;
    r.budget_bytes = BASE_BYTES + s.blocks_bytes(4, 2, 2) + 1;
    r.cache_read = CacheRead::new((8 << 20, 4 << 20));
    let sch = schedule(&s, r).unwrap();
    assert_eq!(sch.blocks_in_flight, 1);
    assert_eq!(sch.blocks_bytes, s.block_bytes(4, sch.threads_per_block));
    assert_eq!(
        sch.estimate_bytes,
        BASE_BYTES + (4 << 20) + sch.blocks_bytes
    );
    assert!(sch.estimate_bytes <= r.budget_bytes);
    // The read's own peak above everything the blocks hold is the estimate.
    r.cache_read = CacheRead::new((3 * s.block_bytes(4, 2), 0));
    r.budget_bytes = BASE_BYTES + 3 * s.block_bytes(4, 2);
    let sch = schedule(&s, r).unwrap();
    assert_eq!(sch.estimate_bytes, BASE_BYTES + 3 * s.block_bytes(4, 2));
    r.budget_bytes -= 1;
    let e = schedule(&s, r).unwrap_err();
    assert_eq!(e.param_name(), Some("memory_limit"));
    let e = e.to_string();
    assert!(
        e.contains("--memory-limit") && e.contains("reading the selected visibilities"),
        "{e}"
    );
}

/// The memory model counts the grid of the gridder a run uses: tclean's gridder
/// (`kernel='casa'`) pads 256 x 200 pixels to 320 x 240 double-precision cells (16 bytes).
/// Issue 18's dirty cube (1024^2, 64 channels of 108 360 rows, 2 threads): `pclean estimate` holds
/// the one read's phase (its peak, or what it leaves held beside the blocks).
#[test]
fn estimate_of_a_cube_of_blocks_includes_the_read() {
    let spec = WorkerSpec {
        imsize: 1024,
        deconvolver: "none".into(),
        nvis_per_chan: 108_360,
        spw_nchan: 64,
        threads_per_task: 2,
        ..Default::default()
    };
    let (read, held) = spec.cache_phase().unwrap();
    let task = spec.block_shape().unwrap().block_bytes(1, 2);
    let expect = (BASE_BYTES + read.max(held + task)) as f64 / GIB;
    assert_eq!(estimate_worker_memory_gib(&spec).unwrap(), expect);
    // One block of one channel reads no cache.
    let one = WorkerSpec {
        spw_nchan: 0,
        ..spec
    };
    assert!(one.cache_phase().is_none());
}

/// While a cube block prepares its chunks, the chunk in flight holds the read, the Stokes formed
/// at the read's channels and the nearest-binning map, not a pass's selections: less than the
/// pass-time chunk.
#[test]
fn preparing_chunk_is_smaller_than_a_pass_chunk() {
    let s = shape(false);
    assert!(s.preparing_chunk_bytes(1) < s.chunk_bytes(1));
    assert!(s.preparing_chunk_bytes(8) > s.preparing_chunk_bytes(1));
}

/// mtmfs holds a plane's visibilities when they take less than the `2 nterms - 2` grids they
/// spare (`imaging::taylor::hold_plane_vis`): then a pass grids one term at a time, so a third
/// Taylor term adds its images and no grid to the first pass; with many visibilities the terms'
/// grids are all alive in a pass (each term adds at least one grid, PSF and residual). The small
/// case is the vla_wideband bench (512^2, 673 920 visibilities over 8-channel windows; measured
/// peak heap 61 MiB, 21.7 of them idle, against 83 before the plane was held).
#[test]
fn mtmfs_holds_a_small_planes_visibilities() {
    let spec = |nvis, nterms| WorkerSpec {
        imsize: 512,
        deconvolver: "mtmfs".into(),
        nterms,
        nvis_per_chan: nvis,
        spw_nchan: 8,
        threads_per_task: 2,
        ..Default::default()
    };
    let shape = |nvis, nterms| spec(nvis, nterms).block_shape().unwrap();
    let grid = |s: &BlockShape| (s.grid_u * s.grid_v * s.grid_elem_bytes) as u64;
    let small = shape(673_920, 2);
    assert!(small.holds_plane_vis());
    assert!(!shape(673_920, 1).holds_plane_vis());
    let third = shape(673_920, 3).phases(1, 2).first_pass - small.phases(1, 2).first_pass;
    assert!(third < grid(&small), "{third} {}", grid(&small));
    let big = shape(50_000_000, 2);
    assert!(!big.holds_plane_vis());
    let third = shape(50_000_000, 3).phases(1, 2).first_pass - big.phases(1, 2).first_pass;
    assert!(third >= 2 * grid(&big), "{third} {}", grid(&big));
}

/// An mtmfs mosaic (nterms 2, 2 pointings x 2 beam frequencies) against the same mtmfs plane with
/// the standard gridder (both hold the plane's visibilities, a pass gridding one term's plane set
/// at a time): 3 more grids in a pass, the pointings' beams and sums (20 B/px), one more field
/// density's weighter (4 B/px); its weight image per PSF term (3 x 4 B/px, tclean's
/// `.weight.ttN`) kept through the cycles, and the two models' sky brightness (2 x 4 B/px) in a
/// major cycle. `estimate --gridder mosaic --deconvolver mtmfs --nterms 2 --nfields 2
/// --beam-freqs 2` counts them.
#[test]
fn mtmfs_mosaic_terms_are_counted() {
    let mt = BlockShape {
        image: ImageSide {
            deconvolver: DeconvolverKind::Mtmfs {
                nterms: 2,
                nscales: 1,
            },
            ..shape(true).image
        },
        data: DataSide {
            prepared_rows: 0,
            streamed: false,
            ..shape(true).data
        },
        ..shape(true)
    };
    let mos = BlockShape {
        pointings: 2,
        beam_bands: 2,
        ..mt.clone()
    };
    assert!(mt.holds_plane_vis() && mos.holds_plane_vis());
    let (a, b) = (mt.phases(1, 1), mos.phases(1, 1));
    let npix = 1024 * 1024u64;
    let grid = 1800 * 1800 * 8u64;
    assert_eq!(b.first_pass - a.first_pass, 3 * grid + 20 * npix + 4 * npix);
    assert_eq!(
        b.major_cycle - a.major_cycle,
        3 * grid + 3 * 4 * npix + 2 * 4 * npix
    );
    let spec = WorkerSpec {
        imsize: 1024,
        gridder: "mosaic".into(),
        deconvolver: "mtmfs".into(),
        nterms: 2,
        nfields: 2,
        beam_freqs: 2,
        ..Default::default()
    };
    let s = spec.block_shape().unwrap();
    assert_eq!((s.pointings, s.beam_bands), (2, 2));
    assert_eq!(s.image.deconvolver.nterms(), 2);
    let mosaic = estimate_worker_memory_gib(&spec).unwrap();
    let standard = estimate_worker_memory_gib(&WorkerSpec {
        gridder: "standard".into(),
        ..spec.clone()
    })
    .unwrap();
    assert!(mosaic > standard, "{mosaic} {standard}");
}

/// A paged cleaned block (`paged_data_chans`) holds one channel per thread (or
/// `paged_resident`): its peak does not grow with its channels, and is far below the block
/// holding every plane.
#[test]
fn a_paged_block_holds_its_resident_channels_only() {
    let mut s = shape(true);
    let held = s.block_bytes(32, 2);
    s.paged_data_chans = 1;
    let paged = s.block_bytes(32, 2);
    assert_eq!(paged, s.block_bytes(64, 2));
    assert!(paged * 4 < held, "{paged} {held}");
    // No more channels than resident ones: not paged.
    assert_eq!(s.block_bytes(2, 2), shape(true).block_bytes(2, 2));
    // Four resident channels hold more than two.
    s.paged_resident = 4;
    assert!(s.block_bytes(32, 2) > paged);
}

/// A cube read once for all blocks (the read gives its free pages back: nothing of it stays
/// resident beyond what it holds): a cleaned cube's estimate is the read or the held bytes beside
/// its block's peak; two dirty blocks in flight count two blocks and one pass grid each.
#[test]
fn a_cube_estimate_is_the_read_or_the_blocks_beside_what_it_holds() {
    let spec = WorkerSpec {
        imsize: 1024,
        nchan_per_task: 64,
        threads_per_task: 2,
        nvis_per_chan: 108_360,
        spw_nchan: 64,
        interpolated: true,
        ..Default::default()
    };
    let shape = spec.block_shape().unwrap();
    let (read, held) = spec.cache_phase().unwrap();
    let want = BASE_BYTES + read.max(held + shape.block_bytes(64, 2));
    let got = estimate_worker_memory_gib(&spec).unwrap() * GIB;
    assert!((got - want as f64).abs() < 1.0, "{got} {want}");
    let dirty = WorkerSpec {
        deconvolver: "none".into(),
        nchan_per_task: 8,
        threads_per_task: 1,
        ..spec.clone()
    };
    let two = estimate_worker_memory_gib(&WorkerSpec {
        blocks_in_flight: 2,
        ..dirty.clone()
    })
    .unwrap();
    let shape = dirty.block_shape().unwrap();
    let (grid_v, grid_u) = (shape.grid_v as u64, shape.grid_u as u64);
    let block = shape.block_bytes(8, 1);
    let (read, held) = dirty.cache_phase().unwrap();
    let want = BASE_BYTES + read.max(held + 2 * block + 2 * grid_u * grid_v * 8);
    assert!((two * GIB - want as f64).abs() < 1.0, "{two} {want}");
}
