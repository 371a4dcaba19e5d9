//! The memory model's terms for the runs of issue 18's benchmarks it was not fitted on: an mfs
//! plane (`WorkerSpec::mfs`, natural weighting), the w-gridder's buffered pass and the mosaic
//! gridder's one pass grid.

use super::tests::shape;
use super::*;

/// `pclean estimate --mfs` describes an mfs run as the run's own shape does: every channel of
/// the window in one plane, no prepared chunks, no read for all blocks, chunks read ahead
/// (`DataSide::streamed`), the joint PSF and dirty pass with the standard gridder, one density
/// (none for natural weighting).
#[test]
fn an_mfs_task_is_one_plane_of_every_channel() {
    let spec = WorkerSpec {
        imsize: 512,
        deconvolver: "none".into(),
        mfs: true,
        weighting: "natural".into(),
        nvis_per_chan: 6_935_040,
        spw_nchan: 64,
        ..Default::default()
    };
    let s = spec.block_shape().unwrap();
    assert_eq!((s.data.data_chans, s.data.image_chans), (64, 1));
    assert_eq!(s.data.prepared_rows, 0);
    assert!(s.data.streamed && s.image.joint_pass && !s.image.density);
    assert!(spec.cache_phase().is_none());
    let briggs = WorkerSpec {
        weighting: "briggs".into(),
        ..spec.clone()
    }
    .block_shape()
    .unwrap();
    assert!(briggs.image.density && !briggs.image.density_per_channel);
    // The w-gridder grids PSF and residual apart.
    let w = WorkerSpec {
        gridder: "wproject".into(),
        ..spec.clone()
    }
    .block_shape()
    .unwrap();
    assert!(!w.image.joint_pass && w.w_buffered);
    // A cube's channel keeps a density per channel and its prepared chunks.
    let cube = WorkerSpec {
        mfs: false,
        weighting: "briggs".into(),
        ..spec.clone()
    }
    .block_shape()
    .unwrap();
    assert!(cube.image.density_per_channel && cube.data.prepared_rows > 0);
    // What it cannot describe is refused, naming the parameter.
    for (bad, param) in [
        (
            WorkerSpec {
                nchan_per_task: 2,
                ..spec.clone()
            },
            "nchan_per_task",
        ),
        (
            WorkerSpec {
                weighting: "robust".into(),
                ..spec.clone()
            },
            "weighting",
        ),
        (
            WorkerSpec {
                epsilon: 2.0,
                ..spec.clone()
            },
            "epsilon",
        ),
    ] {
        let e = bad.block_shape().unwrap_err();
        assert_eq!(e.param_name(), Some(param), "{e}");
    }
}

/// Natural weighting makes no density and reads nothing before the first pass: no weighting
/// phase. Measured (synth.ms, 6.9 M visibilities, 512^2, natural, 1 thread): the weighting phase
/// counted a pass's whole chunk and was the block's peak, 170.8 MiB estimated for 129.4 MiB.
#[test]
fn natural_weighting_has_no_weighting_phase() {
    let spec = WorkerSpec {
        imsize: 512,
        deconvolver: "none".into(),
        mfs: true,
        weighting: "natural".into(),
        nvis_per_chan: 6_935_040,
        spw_nchan: 64,
        threads_per_task: 1,
        ..Default::default()
    };
    let natural = spec.block_shape().unwrap().phases(1, 1);
    assert_eq!(natural.weighting, 0);
    assert_eq!(natural.peak(), natural.first_pass);
    let briggs = WorkerSpec {
        weighting: "briggs".into(),
        ..spec
    }
    .block_shape()
    .unwrap();
    let ph = briggs.phases(1, 1);
    // The density pass: its density (8 B/px) and weighter (4 B/px) beside a read-ahead chunk
    // with 4 B of density weight per visibility of a half chunk.
    let npix = 512 * 512;
    assert_eq!(ph.weighting, 12 * npix + briggs.streamed_chunk_bytes(4));
    assert!(briggs.streamed_chunk_bytes(4) < briggs.chunk_bytes(1));
}

/// A w-gridder pass whose visibilities fit a quarter of its planes' grids holds one grid, the
/// buffer and the image's sum and screens, not every plane's grid; past that share, every grid.
/// The model (a major cycle) always holds every plane's grid.
#[test]
fn a_buffered_w_pass_holds_one_grid() {
    let base = BlockShape {
        grid_u: 1250,
        grid_v: 1250,
        grid_planes: 9,
        data: DataSide {
            nvis_per_chan: 84_240,
            data_chans: 2,
            image_chans: 1,
            spw_chans: 2,
            prepared_rows: 0,
            streamed: true,
            ..shape(false).data
        },
        ..shape(false)
    };
    let buffered = BlockShape {
        w_buffered: true,
        ..base.clone()
    };
    let one = 1250 * 1250 * 8u64;
    let (buffer, image) = buffered.w_buffered_pass().unwrap();
    // 12 B per visibility, 24 + 1 + 4 x 7 planes per row (42 120 rows).
    assert_eq!(buffer, 12 * 84_240 + 42_120 * (25 + 4 * 7));
    assert_eq!(image, one + 12 * 1024 * 1024);
    let (a, b) = (base.phases(1, 2), buffered.phases(1, 2));
    assert!(a.first_pass - b.first_pass > 7 * one, "{a:?} {b:?}");
    assert_eq!(a.weighting, b.weighting);
    // Too many visibilities for the buffer: every plane's grid, as unbuffered.
    let many = BlockShape {
        data: DataSide {
            nvis_per_chan: 20_000_000,
            ..buffered.data
        },
        ..buffered.clone()
    };
    assert!(many.w_buffered_pass().is_none());
    let many_unbuffered = BlockShape {
        w_buffered: false,
        ..many.clone()
    };
    assert_eq!(many.phases(1, 2), many_unbuffered.phases(1, 2));
    // A deconvolved plane's major cycle holds the model's planes either way.
    let dec = |s: &BlockShape| {
        BlockShape {
            image: ImageSide {
                deconvolve: true,
                ..s.image
            },
            ..s.clone()
        }
        .phases(1, 2)
        .major_cycle
    };
    assert_eq!(dec(&base), dec(&buffered));
}

/// The mosaic gridder grids a pass into one unpadded double-precision grid of the image's size;
/// its model still holds one ES grid per pointing.
#[test]
fn a_mosaic_pass_holds_one_image_size_grid() {
    let spec = WorkerSpec {
        imsize: 512,
        gridder: "mosaic".into(),
        nfields: 7,
        mfs: true,
        nvis_per_chan: 325_080,
        spw_nchan: 4,
        threads_per_task: 2,
        ..Default::default()
    };
    let s = spec.block_shape().unwrap();
    assert!(s.mosaic_pass_grid);
    let old = BlockShape {
        mosaic_pass_grid: false,
        ..s.clone()
    };
    let (a, b) = (old.phases(1, 2), s.phases(1, 2));
    let es_grids = 7 * (s.grid_u * s.grid_v * s.grid_elem_bytes) as u64;
    assert_eq!(a.first_pass - b.first_pass, es_grids - 16 * 512 * 512);
    assert_eq!(a.major_cycle, b.major_cycle);
}
