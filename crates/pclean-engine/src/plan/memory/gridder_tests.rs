//! The memory model's counts of each gridder's grids: tclean's kernel, mosaic pointings and beam
//! frequencies, A-projection bins, regridded cubes, mvc's per-channel grids.

use super::tests::{req, shape};
use super::*;

#[test]
fn casa_kernel_grids_are_counted() {
    use crate::imaging::gridder::RunGridder;
    let g = pclean_grid::CasaGridder::new(256, 200, 1e-5, 1e-5, 1.2, 1).unwrap();
    let s = crate::plan::shape::block_shape(
        shape(false).image,
        &RunGridder::Casa(g),
        shape(false).data,
    );
    assert_eq!((s.grid_u, s.grid_v, s.grid_elem_bytes), (320, 240, 16));
}

/// A mosaic of 7 pointings holds 7 grids in a residual pass and in a model (6 more than the
/// standard gridder's one), its pointing's dirty image, beam and sums (20 B/px), each plane's
/// weight image (4 B/px) and a density per field; `estimate --gridder mosaic --nfields N` counts
/// them.
#[test]
fn mosaic_pointings_are_counted() {
    let std1 = shape(true);
    let mosaic = BlockShape {
        pointings: 7,
        ..shape(true)
    };
    let (a, b) = (std1.phases(1, 1), mosaic.phases(1, 1));
    let npix = 1024 * 1024u64;
    let grid = 1800 * 1800 * 8u64;
    // (The standard gridder makes its residual in the grid's memory, 4 B/px; the mosaic's model
    // keeps it beside its grids.)
    assert_eq!(
        b.major_cycle - a.major_cycle,
        6 * grid + 20 * npix + 4 * npix + 4 * npix
    );
    // The first pass also holds the 6 more weighters (4 B/px) of the per-field densities (and
    // the mosaic's model the PSF and residual images, 8 B/px, which the standard gridder makes
    // in its grids' memory).
    assert_eq!(
        b.first_pass - a.first_pass,
        6 * grid + 20 * npix + 6 * 4 * npix + 8 * npix
    );
    let spec = WorkerSpec {
        imsize: 2048,
        gridder: "mosaic".into(),
        nfields: 7,
        ..Default::default()
    };
    let seven = estimate_worker_memory_gib(&spec).unwrap();
    let one = estimate_worker_memory_gib(&WorkerSpec {
        nfields: 1,
        ..spec.clone()
    })
    .unwrap();
    let standard = estimate_worker_memory_gib(&WorkerSpec {
        gridder: "standard".into(),
        ..spec.clone()
    })
    .unwrap();
    assert!(seven > one + 0.1, "{seven} {one}");
    // The standard gridder puts every field in one grid: nfields changes nothing.
    assert_eq!(standard, one);
    assert!(estimate_worker_memory_gib(&WorkerSpec { nfields: 0, ..spec }).is_err());
}

/// A wideband mfs mosaic grids every pointing once per beam frequency: 2 pointings x 3 beam
/// frequencies hold 6 grids where one frequency holds 2, with the densities still per pointing;
/// `estimate --beam-freqs` counts them.
#[test]
fn mosaic_beam_frequencies_are_counted() {
    let two = BlockShape {
        pointings: 2,
        ..shape(true)
    };
    let wide = BlockShape {
        beam_bands: 3,
        ..two.clone()
    };
    let (a, b) = (two.phases(1, 1), wide.phases(1, 1));
    let grid = 1800 * 1800 * 8u64;
    assert_eq!(b.major_cycle - a.major_cycle, 4 * grid);
    assert_eq!(b.first_pass - a.first_pass, 4 * grid);
    assert_eq!(b.weighting, a.weighting);
    assert_eq!(
        wide.partition_bytes(1000, 1) - two.partition_bytes(1000, 1),
        4 * grid
    );
    let spec = WorkerSpec {
        imsize: 1024,
        gridder: "mosaic".into(),
        nfields: 2,
        ..Default::default()
    };
    let s = WorkerSpec {
        beam_freqs: 3,
        ..spec.clone()
    }
    .block_shape()
    .unwrap();
    assert_eq!((s.pointings, s.beam_bands), (2, 3));
    let g = (s.grid_u * s.grid_v * s.grid_elem_bytes) as f64 / GIB;
    let one = estimate_worker_memory_gib(&spec).unwrap();
    let three = estimate_worker_memory_gib(&WorkerSpec {
        beam_freqs: 3,
        ..spec.clone()
    })
    .unwrap();
    // The largest phase holds the grids of at least one pass: 4 more of them.
    assert!(three - one >= 4.0 * g * 0.999, "{one} {three} {g}");
    // 0 is one beam; the standard gridder has none.
    assert_eq!(
        estimate_worker_memory_gib(&WorkerSpec {
            beam_freqs: 1,
            ..spec.clone()
        })
        .unwrap(),
        one
    );
    let s = WorkerSpec {
        gridder: "standard".into(),
        beam_freqs: 3,
        ..spec
    }
    .block_shape()
    .unwrap();
    assert_eq!(s.beam_bands, 1);
}

/// `gridder='awproject'`: one set of grids per parallactic-angle bin, times the w planes when
/// `wprojplanes > 1`; each extra bin costs at least one more oversampled grid.
#[test]
fn awproject_counts_bins_times_w_planes() {
    let spec = |pabins, wplanes| WorkerSpec {
        imsize: 512,
        gridder: "awproject".into(),
        pabins,
        wplanes,
        ..WorkerSpec::default()
    };
    let s = spec(17, 4).block_shape().unwrap();
    assert_eq!((s.pointings, s.grid_planes), (17, 4));
    let s = spec(0, 0).block_shape().unwrap();
    assert_eq!((s.pointings, s.grid_planes), (1, 1));
    let grid_gib = (s.grid_u * s.grid_v * s.grid_elem_bytes) as f64 / GIB;
    let one = estimate_worker_memory_gib(&spec(1, 0)).unwrap();
    let many = estimate_worker_memory_gib(&spec(17, 0)).unwrap();
    assert!(many - one >= 16.0 * grid_gib, "{one} {many} {grid_gib}");
}

#[test]
fn a_regridded_dirty_cube_takes_blocks_of_several_channels() {
    let mut r = req(64, 64 << 30, false);
    r.dirty_chans_per_block = REGRID_BLOCK_CHANS;
    let s = schedule(&shape(false), r).unwrap();
    assert_eq!(s.chans_per_block, REGRID_BLOCK_CHANS);
    // A cube narrower than the block: one block.
    r.nchan = 3;
    assert_eq!(schedule(&shape(false), r).unwrap().chans_per_block, 3);
    // With deconvolution the request is ignored (whole cube, or one channel per block).
    let mut d = req(64, 64 << 30, true);
    d.dirty_chans_per_block = REGRID_BLOCK_CHANS;
    assert_eq!(schedule(&shape(true), d).unwrap().chans_per_block, 64);
}

/// specmode='mvc' (`mvc_chans`): a grid and an image per cube channel in each pass and each
/// channel's beam ratio kept, so its estimate exceeds plain mtmfs's by at least the extra grids
/// (nchan against 2 nterms - 1 in the PSF pass); refused without mtmfs or with fewer channels
/// than Taylor terms. Measured against a run (vla_wideband 512^2 nterms 2 clean, 10 channels):
/// estimate 236 MiB, peak allocation 184 MiB.
#[test]
fn mvc_counts_a_grid_per_channel() {
    let spec = WorkerSpec {
        imsize: 2048,
        deconvolver: "mtmfs".into(),
        nterms: 2,
        ..Default::default()
    };
    let grid_gib = {
        let s = spec.block_shape().unwrap();
        (s.grid_u * s.grid_v * 8) as f64 / GIB
    };
    let plain = estimate_worker_memory_gib(&spec).unwrap();
    let mvc = estimate_worker_memory_gib(&WorkerSpec {
        mvc_chans: 10,
        ..spec.clone()
    })
    .unwrap();
    assert!(mvc > plain + 7.0 * grid_gib, "{plain} {mvc}");
    // Writing the products holds the channels' beam ratios and pb.tt0 (kept for the run) and one
    // plane of the `.model` cube: 4 (10 + 1) + 4 B/px more than plain mtmfs's writing.
    let writing = |chans: usize| {
        let s = WorkerSpec {
            mvc_chans: chans,
            ..spec.clone()
        }
        .block_shape()
        .unwrap();
        (s.phases(1, 1).writing, s.npix())
    };
    let ((w_plain, npix), (w_mvc, _)) = (writing(0), writing(10));
    assert_eq!(w_mvc - w_plain, (4 * 11 + 4) * npix);
    for bad in [
        WorkerSpec {
            mvc_chans: 1,
            ..spec.clone()
        },
        WorkerSpec {
            mvc_chans: 10,
            deconvolver: "hogbom".into(),
            nterms: 1,
            ..spec.clone()
        },
    ] {
        assert!(estimate_worker_memory_gib(&bad).is_err());
    }
}

/// An mvc mosaic keeps a weight image per cube channel (f32) for the run instead of one per PSF
/// term: writing a dirty 10-channel mvc mosaic holds 4 x 10 B/px more than the standard
/// gridder's mvc (whose pass counts are otherwise the same there).
#[test]
fn mvc_mosaic_counts_a_weight_image_per_channel() {
    let mvc = |pointings: usize| {
        let mut s = BlockShape {
            pointings,
            ..shape(false)
        };
        s.image.deconvolver = DeconvolverKind::Mtmfs {
            nterms: 2,
            nscales: 1,
        };
        s.image.mvc_chans = 10;
        s
    };
    let (a, b) = (mvc(1), mvc(2));
    let npix = a.npix();
    assert_eq!(
        b.phases(1, 1).writing - a.phases(1, 1).writing,
        4 * 10 * npix
    );
}
