//! THE declaration of every parameter: one row each (name, kind, default, help, and where useful
//! its choices, what its default means, its CLI form and more detail for the docs). Everything
//! else is generated from it: `RawParams`, `EffectiveParams`, `merge`, `with_defaults`, the config
//! schema and its "did you mean" check, the flags of `pclean image`, the Python signature of
//! `pclean.pclean`, and the table in docs/usage.md. Add a parameter here and nowhere else (its
//! validation goes in `crate::params`).

use super::declare::declare_params;
use super::spec::Section;
use crate::params::choices::{
    ClusterKind, ConcatMode, DataColumnChoice, Deconvolver, GridKernel, Gridder, ImageFormat,
    Interpolation, LocalWorkers, NormType, PlaneWrites, Projection, RowPartitionBy, SaveModel,
    SpecMode, UseMaskKind, VelType, WeightingKind, OUTFRAMES,
};

/// Gridding accuracy (pclean's own parameter): relative error of the ES-kernel gridder.
pub const DEFAULT_EPSILON: f64 = 1e-6;

const ALL: &str = "all";
const AUTOMASK: &str = "auto-multithresh: as tclean";
const IGNORED_NOT_ASP: &str = "as tclean, used only by `deconvolver='asp'` (not available yet): with the other deconvolvers it has no effect";
const NO_EFFECT_SELECTDATA: &str =
    "no effect, as in CASA 6's tclean: the selection parameters apply whatever its value";

declare_params! {
    vis: Texts = &[], "MeasurementSet(s) to image (repeat the flag or separate with commas)"
        => .in_section(Section::Data).meaning("required").list(1, 0, Some(','));
    imagename: Str = "", "Prefix of the output products (<imagename>.psf, .residual, .image, ...)"
        => .in_section(Section::Image).meaning("required");
    datacolumn: Str = "corrected", "Visibility column: data, corrected (falls back to data when absent), model"
        => .in_section(Section::Data).choices(DataColumnChoice::NAMES)
           .doc("`corrected` falls back to `data` with a warning when the MS has no CORRECTED_DATA, as tclean");
    selectdata: Bool = true, "tclean's switch of the selection parameters below" => .in_section(Section::Data).doc(NO_EFFECT_SELECTDATA);
    field: Selection = "", "Field selection (ids, names, globs, ranges)" => .in_section(Section::Data).meaning(ALL)
        .doc("CASA selection syntax (MSSelection), as every selection below; a selection that matches nothing is an error naming the parameter. Each selection is one string for every MS or, as in tclean, a list of one string per MS (config or Python)");
    spw: Selection = "", "Spectral window / channel selection, e.g. '0', '0:5~50', '0,2', '0:5~50^2'" => .in_section(Section::Data).meaning(ALL);
    timerange: Selection = "", "Time range, e.g. '1995/04/13/09:19:00~09:30:00'" => .in_section(Section::Data).meaning(ALL);
    uvrange: Selection = "", "uv range, e.g. '0~2km', '>5klambda'" => .in_section(Section::Data).meaning(ALL);
    antenna: Selection = "", "Antenna / baseline selection, e.g. '1,2', 'VA01&VA02', '!VA05'" => .in_section(Section::Data).meaning(ALL);
    scan: Selection = "", "Scan numbers, e.g. '1~3,5'" => .in_section(Section::Data).meaning(ALL);
    observation: Selection = "", "Observation ids" => .in_section(Section::Data).meaning(ALL);
    intent: Selection = "", "Scan intents (glob on STATE OBS_MODE)" => .in_section(Section::Data).meaning(ALL);
    imsize: Ints = &[100], "Image size in pixels: one value or two (nx ny)" => .in_section(Section::Image).list(1, 2, Some(','));
    cell: Angles = &["1arcsec"], "Cell size: one angle or two (x y), e.g. 15arcsec; a bare number is arcsec"
        => .in_section(Section::Image).list(1, 2, Some(','));
    phasecenter: Text = "", "Image phase centre: a field id or a direction 'J2000 15h22m00 +05d04m00'"
        => .in_section(Section::Image).meaning("first selected field")
           .doc("visibilities and uvw are re-phased and rotated to it; `'TRACKFIELD'` follows the selected field's ephemeris (FIELD ephemeris table, casatasks fixplanets) as tclean: the image centre is its topocentric direction at the first integration (ICRS) and the moving source stays there; a solar-system body (`'MARS'`, `'SUN'`, `'MOON'`, ..., MERCURY..PLUTO; a direction after the name is ignored, as in tclean) is tracked likewise from casacore's JPL DE200 (`ephemerides/DE200` of the measures data, `PCLEAN_MEASURESPATH`): image in ICRS at its topocentric direction at the first integration, every row re-phased to the body at its time");
    projection: Str = "SIN", "Projection" => .in_section(Section::Image).choices(Projection::NAMES);
    stokes: Str = "I", "Stokes planes: I, IV, IQUV, QU, RR, LL, XX, YY, ..."
        => .in_section(Section::Image).doc("`I`, `IV`, `IQUV`, `QU`, `IQ`, `UV`, `Q`, `U`, `V`, `pseudoI`, or correlations `RR`, `LL`, `XX`, `YY`, `RRLL`, `XXYY`; from circular or linear feeds with tclean's signs and weights (docs/polarization.md): a sample with any correlation flagged is left out of every plane, except with `pseudoI`, which uses whichever parallel hands are unflagged; a value the feeds cannot make is an error");
    specmode: Str = "mfs", "Spectral mode" => .in_section(Section::Image).choices(SpecMode::NAMES)
        .doc("`mfs` (one plane; tclean's alias `cont` too), `cube`, `cubedata`, `cubesource` (a moving source with `phasecenter='TRACKFIELD'`: the data channels in the source's frame from its ephemeris's radial velocity, labelled REST, as tclean), `mvc` (tclean 6.6+, with `deconvolver='mtmfs'` only: each major cycle images a cube of `nchan` equal channels over the selected band (`nchan=-1`: tclean's default, about 10 for a 2:1 band; `start`/`width` are tclean's own and refused), the Taylor terms are made from the channels with their sums of weights and primary beams, and each channel predicts its own beam's model: the products are mtmfs's `.ttN` and, as tclean's, the cube's `.psf`, `.residual` (each channel's residual as flat noise, `R_c pb.tt0 / pb_c`), `.pb`, `.sumwt`, when a model is predicted `.model`, and with uniform or Briggs weighting `.gridwt` (the uv weight density); row partitions combine each channel before the Taylor sums; with `gridder='mosaic'` each channel is a mosaic with its own weight image, written as the `.weight` cube instead of `.weight.ttN`, as tclean's (row partitions combine each channel's weight image too), not with `conjbeams=True` nor `psfphasecenter`)");
    reffreq: Text = "", "Reference frequency of the Taylor expansion of mtmfs, e.g. 1.4GHz" => .in_section(Section::Image).meaning("the centre of the selected band")
        .doc("used by `deconvolver='mtmfs'` (the image's frequency, where its primary beam is computed, and the Taylor expansion's `nu0`); with the other deconvolvers only the default yet (another value is refused)");
    nchan: Int = -1, "Number of image channels, -1 = all selected" => .in_section(Section::Image);
    start: Text = "", "First image channel: a data channel number, a frequency or a velocity, e.g. 5, 1.4125GHz, 1500km/s"
        => .in_section(Section::Image).meaning("first selected").hyphen()
           .doc("channels as data-channel numbers (the data's own channels, grouped by `width`), or as frequencies / velocities (in the output frame) defining a grid `start + k width` onto which visibilities are interpolated; with a frequency (or radio-velocity) width and no `start`/`nchan`, the channels tile the selected band from its lower edge, as many whole channels as fit (tclean's grid), and a velocity `start` without `width` steps down in frequency one data channel at a time");
    width: Text = "", "Channel width: a number of data channels, a frequency or a (radio) velocity; negative reverses the axis"
        => .in_section(Section::Image).meaning("one data channel").hyphen()
           .doc("widths of several data channels work in any frame (see `interpolation`)");
    outframe: Str = "", "Output spectral frame for cubes (LSRK, BARY, TOPO, ...)" => .in_section(Section::Image).meaning("LSRK").choices(OUTFRAMES)
        .doc("every row's channel frequencies are Doppler-corrected at its own time and interpolated onto the output grid (tclean's grid: the first integration's converted frequencies; a TOPO/GEO output frame is the one at the first integration). `cubedata` keeps the data's frequencies");
    veltype: Str = "radio", "Velocity convention of velocity start/width (needs restfreq)" => .in_section(Section::Image).choices(VelType::NAMES)
        .doc("with `optical`, a velocity `width` makes channels equally spaced in optical velocity (unequal in frequency), with tclean's channel frequencies (its `calcChanFreqs` construction: built outwards from the band's central channel; exact to 1 mHz against tclean). `start` must then be a velocity or empty. CASA images then carry a tabular spectral coordinate holding every channel's frequency, as tclean's do; FITS headers carry the linear axis through channel 0 and the first step, as CASA's `exportfits` writes it. Such cubes cannot be concatenated (`pclean concat` says so)");
    restfreq: Texts = &[], "Rest frequency of the spectral axis, e.g. 1420.405752MHz"
        => .in_section(Section::Image).meaning("the image centre frequency").list(1, 1, Some(','));
    interpolation: Str = "linear", "Spectral interpolation" => .in_section(Section::Image).choices(Interpolation::NAMES)
        .doc("as tclean: `nearest` grids every data channel, at its own converted frequency, into the image channel of nearest centre (so `width` > 1 bins channels); `linear` and `cubic` (casacore's 4-point polynomial through the two data channels on either side) interpolate each integration, without extrapolation, onto the image channel centres, or, when an image channel is wider than a data channel, onto `floor(width ratio)` equally spaced samples across each image channel. A sample is flagged when either data channel bracketing it is. Weights: interpolated the same way under natural weighting, the nearest data channel's under Briggs/uniform");
    perchanweightdensity: Bool = true, "Briggs/uniform density per image channel for cubes" => .in_section(Section::Image);
    gridder: Str = "standard", "Gridder" => .in_section(Section::Gridding).choices(Gridder::NAMES)
        .doc("`standard`: tclean's 2-D gridder (w ignored) with an exponential-of-semicircle kernel; tclean's aliases `ft` and `gridft` are `standard`. `wproject` (alias `wprojectft`) and `widefield`: the same kernel also in w (exact w-stacking, accurate to `epsilon` over the whole image; `widefield` with `facets=1`; both also with `deconvolver='mtmfs'`, each Taylor term gridded through the w-stacking gridder). `mosaic` (alias `mosaicft`): a joint mosaic, every selected field a pointing seen through its primary beam centred on its PHASE_DIR (or, with `usepointing`, the POINTING table's direction), normalised by the weight image as `normtype` says; heterogeneous arrays (each baseline through its two dishes' beams) and several MSs (tclean's mosaic of their concatenation); also with `deconvolver='mtmfs'` (one weight image per PSF term, `conjbeams`); `kernel='es'`, `savemodel='none'`. `awproject` (alias `awprojectft`): A-projection for the VLA/EVLA by A-stacking (one image per parallactic-angle bin times the bin's ray-traced, squinted beam; the w-term per bin with `wprojplanes` other than 1), normalised as `mosaic`, one field or a mosaic of several (one MS, `kernel='es'`, `savemodel='none'`); also with `deconvolver='mtmfs'` (each Taylor term through the A-terms, one weight image per PSF term; also in row partitions). tclean's other gridders (`imagemosaic`, ...) are refused, naming the value");
    facets: Int = 1, "Facets per side (tclean's faceted imaging)"
        => .in_section(Section::Gridding).doc("with `widefield` (not with mtmfs): any; the image is w-corrected exactly over the whole image (no facets needed: measured within 1% of tclean's faceted image), and the PSF is tclean's faceted one, the central facet's (`n / facets` pixels, zero outside; for odd facets peaking one pixel below the centre). With other gridders only 1: tclean facets their image too (measured: `standard` with 2 changes its PSF by 16%), which pclean does not, so other values are refused");
    psfphasecenter: Text = "", "Phase centre of the PSF (tclean: mosaic gridders only)" => .in_section(Section::Gridding).meaning("the image's")
        .doc("`mosaic`: the PSF (with `deconvolver='mtmfs'`: every Taylor PSF term, the other terms unchanged) is made with every pointing's beam moved to this direction (default: the image centre), as tclean. With `standard` it has no effect (tclean 6.7 gives identical products)");
    wprojplanes: Int = 1, "w-projection planes (tclean: wproject, widefield, awproject)" => .in_section(Section::Gridding).doc("with `wproject`/`widefield`: -1 = automatic (the w planes `epsilon` needs for the field and the w range); a positive value is the least number of w planes (more planes: finer spacing, never less accurate; the number used is logged); 0 and values below -1 are refused. With `awproject`: 1 (tclean's default) = no w-term, else as `wproject`. Not read by `standard` (as tclean: identical products)");
    mosweight: Bool = true, "Mosaic weighting per field (tclean: mosaic, awp2)" => .in_section(Section::Gridding).doc("`mosaic` with Briggs/uniform weighting: the weight density (and Briggs' normalisation) per field, as tclean. With `standard` it has no effect (tclean 6.7 gives identical products)");
    aterm: Bool = true, "A-term of A-projection (tclean: awproject)" => .in_section(Section::Gridding).doc("`awproject`: False (with `psterm=True`, as tclean requires) leaves the aperture out: the spheroidal alone in the convolution functions, as tclean; as tclean, the other gridders ignore it");
    psterm: Bool = false, "Prolate-spheroidal term of A-projection (tclean: awproject)" => .in_section(Section::Gridding).doc("`awproject`: the spheroidal taper over the field of view in the convolution functions (tclean's flux scale without its kernel-sum factor); as tclean, the other gridders ignore it");
    wbawp: Bool = true, "Wideband A-projection (tclean: awproject)" => .in_section(Section::Gridding).doc("`awproject`: the A-term is evaluated at each image plane's frequency (cubes) or at each spectral window's highest selected frequency, every channel through its window's (mfs, as tclean); False: one A-term at the image frequency; as tclean, the other gridders ignore it");
    conjbeams: Bool = false, "Conjugate beams for wideband mosaics (tclean: mosaic, awproject)" => .in_section(Section::Gridding).doc("no effect with `standard` (as tclean); `True` with an mfs `mosaic` images each data channel through its beam at the conjugate frequency about the reference frequency and predicts the model through each channel's own beam, as tclean, and changes nothing in a cube `mosaic` (as tclean); with `awproject` and `wbawp=True` over several spectral windows (specmode `mfs`, also `deconvolver='mtmfs'`) each data channel is gridded (PSF, residual, weight image) through the A-term nearest its conjugate frequency `sqrt(2 nu0^2 - nu^2)` about the image frequency, each A-term's weight functions paired with the A-term nearest its own conjugate frequency, and the model predicted through each channel's nearest A-term, as tclean; refused when a channel lies above sqrt(2) times the image frequency (no conjugate frequency), no effect otherwise (one A-term), logged");
    cfcache: Str = "", "Convolution-function cache of A-projection (tclean: awproject)" => .in_section(Section::Gridding).doc("`awproject`: accepted; pclean computes its beams at run time and neither reads nor writes the directory (logged); the other gridders ignore it");
    usepointing: Bool = false, "Use the POINTING table (tclean: mosaic, awproject)" => .in_section(Section::Gridding).doc("`mosaic`: True centres each field's beams on the POINTING table's direction of the first row's ANTENNA1 at each integration (as tclean 6.7, measured), averaged over the field's integrations; refused when those directions spread over more than 1% of the beam width within a field, are polynomials in time, or are missing for an integration. `awproject`: True centres every baseline's beams on the mean of the POINTING directions of the integration's antennas (tclean 6.7 with `pointingoffsetsigdev=[]`: one antenna group, measured; with thresholds, of the antennas' groups: see `pointingoffsetsigdev`), integrations whose centres agree within 1% of the beam width sharing one grid set; more than 64 distinct centres are refused; with several MSs (`vis=[a, b]`) every MS's rows are centred by the first MS's POINTING directions, at its integration nearest in time (tclean 6.7, measured: the other MSs' POINTING tables change nothing). With `standard` it has no effect (tclean 6.7 gives identical products)");
    computepastep: Real = 360.0, "Parallactic-angle step (deg) to recompute A-terms (tclean: awproject)" => .in_section(Section::Gridding).doc("`awproject`: integrations join the nearest A-term bin within the step, else open one at their own angle (tclean's binning; the bins are logged); must be > 0; the other gridders ignore it");
    rotatepastep: Real = 360.0, "Parallactic-angle step (deg) to rotate A-terms (tclean: awproject)" => .in_section(Section::Gridding).doc("`awproject`: pclean bins at the smaller of `computepastep` and this step, each bin's beam at its own angle (tclean turns a bin's functions to each integration's angle: the same within this step); must be > 0; the other gridders ignore it");
    pointingoffsetsigdev: Texts = &[], "Pointing-offset thresholds (tclean: awproject with usepointing)"
        => .in_section(Section::Gridding).meaning("none").list(1, 2, Some(',')).doc("with `awproject` and `usepointing=True`: `[]` puts every antenna in one group; a first value (arcsec, > 0) groups the antennas by their POINTING offsets as tclean 6.7 (bins of that size over the image cell's diagonal, from the smallest offset; measured), each baseline's beams on the mean of its two antennas' groups' centres, tclean 6.7's: group N (in its log's order) centred on the group of the N-th antenna (measured); pclean follows every integration's offsets (tclean's second value, when to regroup over time, does not apply); otherwise as tclean, no effect (tclean 6.7 gives identical products with `standard`)");
    normtype: Str = "flatnoise", "Primary-beam normalisation (tclean: mosaic, awproject)" => .in_section(Section::Gridding).choices(NormType::NAMES)
        .doc("`mosaic` and `awproject`: the residual divided by sqrt(weight x its peak) (`flatnoise`, a source seen as pb x flux), the weight (`flatsky`) or the weight's peak (`pbsquare`, pb^2 x flux), where pb > |pblimit|, as tclean. With `standard` it has no effect (tclean 6.7 gives identical products)");
    chanchunks: Int = 1, "Channel chunks (CASA 5's tclean; CASA 6 always uses 1)"
        => .in_section(Section::Gridding).doc("no effect: it only split a cube's memory; pclean's blocks are `cube_chunksize`");
    epsilon: Real = DEFAULT_EPSILON, "Gridding accuracy (relative error of the ES-kernel gridder)"
        => .in_section(Section::Gridding).doc("pclean's own parameter: relative error against an exact Fourier transform, in [1e-7, 1e-2]");
    kernel: Str = "es", "Gridding kernel: es (accurate to epsilon) or casa (tclean's own, to reproduce its products)"
        => .in_section(Section::Gridding).choices(GridKernel::NAMES)
           .doc("pclean's own parameter. `es`: the exponential-of-semicircle kernel, accurate to `epsilon` against an exact Fourier transform. `casa`: tclean's `standard` gridder reproduced (prolate-spheroidal kernel of support 3 sampled 100 times per cell, its grid correction, the image padded by 1.2 to a 2-3-5 size, double-precision grid, tclean's rounding of uv positions and sum of weights), so that products match tclean's to about 1e-5 of the peak; `epsilon` is then not used; with `deconvolver='mtmfs'` (gridder `standard` only) every Taylor term is gridded through it");
    weighting: Str = "natural", "Weighting" => .in_section(Section::Weighting).choices(WeightingKind::NAMES)
        .doc("`briggsbwtaper`: cubes with `perchanweightdensity` and `npixels=0` only (as tclean; with `specmode='mvc'`, which has no per-channel density, it weights exactly as `uniform`, as tclean's); `superuniform`: uniform over a box of `2 npixels + 1` cells (`npixels=0`: 7); tclean's `radial` is refused, naming the value");
    robust: Real = 0.5, "Briggs robustness in [-2, 2]" => .in_section(Section::Weighting);
    npixels: Int = 0, "Weighting density cells: mfs uniform/Briggs: a grid of npixels^2 cells (0 = the image's); cubes with perchanweightdensity and superuniform: half-width of the box each sample adds to (superuniform 0 = 3)" => .in_section(Section::Weighting);
    noise: Flux = "1.0Jy", "Noise for briggsabs" => .in_section(Section::Weighting);
    uvtaper: Texts = &[], "Gaussian uv taper: one or three values, e.g. 10arcsec or 10arcsec,5arcsec,30deg, or 20klambda"
        => .in_section(Section::Weighting).meaning("none").list(1, 3, Some(','))
           .doc("one FWHM, or major, minor, PA (image-plane angles, or `klambda`/`lambda` uv widths)");
    pblimit: Real = 0.2, "Primary-beam level below which products are masked; negative: no mask on the images" => .in_section(Section::Gridding);
    vptable: Str = "", "Voltage-pattern table (CASA vpmanager saveastable) giving the primary beam"
        => .in_section(Section::Gridding).meaning("CASA's default beam for the telescope")
           .doc("its entry for OBSERVATION::TELESCOPE_NAME: an AIRY, GAUSS, POLY, IPOLY, COSPOLY, NUMERIC or COMMONPB description (IMAGE and REFERENCE descriptions are refused). Without it, CASA's default table: ALMA/ACA, VLA per band, EVLA per channel (polynomial fits), ATCA per band, WSRT, GMRT, ... or an Airy pattern of the dish diameter; a telescope with neither is an error when the beam is needed (pblimit > 0, pbcor, pb masks)");
    psfcutoff: Real = 0.35, "PSF level bounding the main lobe used to fit the restoring beam" => .in_section(Section::Output);
    deconvolver: Str = "hogbom", "Deconvolver (used when niter > 0)" => .in_section(Section::Deconvolution).choices(Deconvolver::NAMES)
        .doc("`clark` cleans the Stokes planes of a channel together (peak of `|I + sqrt(Q^2+U^2+V^2)|`, one component in every plane), `clarkstokes` each plane on its own, as tclean's; `mtmfs` is tclean's multi-term (Taylor) multi-frequency synthesis (specmode mfs or mvc, see `nterms`, `reffreq`; gridders `standard`, `wproject`, `widefield`, `mosaic`, `awproject`); tclean's others (`mem`, `asp`, `clark_exp`, ...) are refused, naming the value");
    niter: Int = 0, "Maximum number of minor-cycle iterations"
        => .in_section(Section::Iteration).doc("per image channel (every channel converges on its own); the Stokes planes of a channel count together, as tclean's");
    gain: Real = 0.1, "Loop gain" => .in_section(Section::Iteration);
    threshold: Flux = "0.0mJy", "Stopping threshold on the peak residual, e.g. 8mJy; a bare number is Jy" => .in_section(Section::Iteration);
    nsigma: Real = 0.0, "Stop at nsigma x the robust rms of the residual, 0 = off" => .in_section(Section::Iteration);
    cycleniter: Int = -1, "Maximum iterations per minor cycle, -1 = niter" => .in_section(Section::Iteration);
    cyclefactor: Real = 1.0, "Scales the PSF sidelobe level into the cycle threshold"
        => .in_section(Section::Iteration).doc("cycle threshold = max(threshold, clamp(cyclefactor x PSF sidelobe) x the block's peak residual), as tclean");
    minpsffraction: Real = 0.05, "Lower bound of the PSF fraction for the cycle threshold" => .in_section(Section::Iteration);
    maxpsffraction: Real = 0.8, "Upper bound of the PSF fraction for the cycle threshold" => .in_section(Section::Iteration);
    interactive: Flag = false, "Interactive cleaning (tclean's GUI); false or 0 only"
        => .in_section(Section::Iteration).doc("pclean has no interactive GUI: `true` (or 1) is refused");
    nmajor: Int = -1, "Maximum major cycles, -1 = no limit" => .in_section(Section::Iteration);
    fullsummary: Bool = false, "tclean's complete convergence history in the returned summary"
        => .in_section(Section::Iteration).doc("no effect on the products: pclean returns its own run summary either way");
    scales: Ints = &[0], "Multiscale scales in pixels, e.g. 0,5,15" => .in_section(Section::Deconvolution).list(1, 0, Some(','));
    smallscalebias: Real = 0.0, "Multiscale small-scale bias" => .in_section(Section::Deconvolution);
    nterms: Int = 2, "Taylor terms (tclean: mtmfs)" => .in_section(Section::Deconvolution).doc("as tclean, used only by `deconvolver='mtmfs'` (1 to 4 terms; `scales` and `smallscalebias` apply): with the other deconvolvers it has no effect");
    fusedthreshold: Real = 0.0, "Asp-Clean threshold (tclean: asp)" => .in_section(Section::Deconvolution).doc(IGNORED_NOT_ASP);
    largestscale: Int = -1, "Asp-Clean largest scale (tclean: asp)" => .in_section(Section::Deconvolution).doc(IGNORED_NOT_ASP);
    usemask: Str = "user", "Clean mask" => .in_section(Section::Masking).choices(UseMaskKind::NAMES)
        .doc("`user` (`mask`), `pb` (`pbmask`), `auto-multithresh` (the parameters below)");
    mask: Str = "", "User mask: a region file (CASA CRTF or DS9 .reg), region text, or a mask image" => .in_section(Section::Masking).meaning("clean everywhere");
    pbmask: Real = 0.0, "Primary-beam level: usemask='pb' cleans where pb > pbmask; with 'user' and 'auto-multithresh' the mask is limited to pb > pbmask (0 = off)" => .in_section(Section::Masking);
    sidelobethreshold: Real = 3.0, "auto-multithresh sidelobe threshold" => .in_section(Section::Masking).meaning(AUTOMASK);
    noisethreshold: Real = 5.0, "auto-multithresh noise threshold" => .in_section(Section::Masking).meaning(AUTOMASK);
    lownoisethreshold: Real = 1.5, "auto-multithresh low-noise threshold" => .in_section(Section::Masking).meaning(AUTOMASK);
    negativethreshold: Real = 0.0, "auto-multithresh negative threshold" => .in_section(Section::Masking).meaning(AUTOMASK);
    smoothfactor: Real = 1.0, "auto-multithresh smoothing factor" => .in_section(Section::Masking).meaning(AUTOMASK);
    minbeamfrac: Real = 0.3, "auto-multithresh minimum beam fraction" => .in_section(Section::Masking).meaning(AUTOMASK);
    cutthreshold: Real = 0.01, "auto-multithresh cut threshold" => .in_section(Section::Masking).meaning(AUTOMASK);
    growiterations: Int = 75, "auto-multithresh grow iterations" => .in_section(Section::Masking).meaning(AUTOMASK);
    dogrowprune: Bool = true, "auto-multithresh prune after growing" => .in_section(Section::Masking).meaning(AUTOMASK);
    minpercentchange: Real = -1.0, "auto-multithresh minimum percent change" => .in_section(Section::Masking).meaning(AUTOMASK);
    verbose: Bool = false, "auto-multithresh: tclean's per-channel mask summary in the log"
        => .in_section(Section::Masking).doc("no effect on the products");
    fastnoise: Bool = true, "Robust noise for auto-multithresh and nsigma: all pixels (true) or outside the clean mask / Chauvenet-clipped (false)" => .in_section(Section::Masking).meaning(AUTOMASK);
    restoration: Bool = true, "Restore: write <imagename>.image (and .image.pbcor)"
        => .in_section(Section::Restoration).doc("`false`, as tclean: no `.image` or `.image.pbcor`, and no `.model` when nothing is deconvolved");
    restoringbeam: Texts = &[], "Restoring beam: empty = fitted per plane, 'common', or major,minor,pa"
        => .in_section(Section::Restoration).meaning("fitted per plane").list(1, 3, Some(','))
           .doc("`common`: the smallest beam enclosing every plane's; residuals are convolved to it");
    pbcor: Bool = false, "Write <imagename>.image.pbcor"
        => .in_section(Section::Restoration).doc("image / pb, blank where pb <= |pblimit|");
    outlierfile: Str = "", "tclean's outlier-field file" => .in_section(Section::Restoration).meaning("none")
        .doc("only the default yet: outlier fields are refused");
    startmodel: Texts = &[], "CASA image with a starting model (Jy/pixel); with mtmfs one image per Taylor term"
        => .in_section(Section::Image).meaning("none").list(1, 0, Some(','))
           .doc("regridded onto the image's grid as tclean does (bilinear in direction, linear in frequency, same direction frame), Stokes planes matched by name; its prediction is subtracted before the first minor cycle (also with `niter=0`). With `deconvolver='mtmfs'` a list of up to `nterms` images, the Taylor terms' models in order (tclean's `startmodel=['m.tt0', 'm.tt1']`; terms not given start from 0); the other deconvolvers take one image");
    savemodel: Str = "none", "Save the model" => .in_section(Section::Output).choices(SaveModel::NAMES)
        .doc("`modelcolumn` writes the final model's visibilities into MODEL_DATA (created if missing) for the selected rows and channels; tclean's `virtual` is refused");
    restart: Bool = false, "Continue from the existing products of --imagename: their model is the start model and the products are rewritten (tclean's restart=True)"
        => .in_section(Section::Output).switch().doc("the default differs from tclean's (true): with no products yet both start afresh; over existing products pclean refuses (give restart or overwrite) where tclean continues from them");
    calcres: Bool = true, "Compute the initial residual; false reuses <imagename>.residual (needs --restart)" => .in_section(Section::Output);
    calcpsf: Bool = true, "Compute the PSF; false reuses <imagename>.psf (needs --restart)"
        => .in_section(Section::Output).doc("e.g. `--restart --calcres false --calcpsf false --niter 0 --restoringbeam 60arcsec` re-restores without reading the data");
    format: Str = "casa", "Output format" => .in_section(Section::Output).choices(ImageFormat::NAMES);
    overwrite: Bool = false, "Replace existing products with this prefix (otherwise an existing product is an error)"
        => .in_section(Section::Output).switch();
    nthreads: Int = 0, "Threads to use, 0 = all cores" => .in_section(Section::Run);
    memory_limit: Str = "auto", "Memory budget of the run, e.g. 8GiB or 16GB; blocks in flight and channels per block are chosen to fit it; with --parallel, the memory of one Dask worker"
        => .in_section(Section::Run).meaning("80% of the available RAM");
    cube_chunksize: Int = 0, "Image channels per block, 0 = automatic" => .in_section(Section::Run);
    threads_per_block: Int = 0, "Threads per block, 0 = automatic" => .in_section(Section::Run);
    blocks_in_flight: Int = 0, "Blocks imaged concurrently, 0 = automatic" => .in_section(Section::Run);
    cube_resident_chans: Int = 0, "Channels of a cleaned cube block whose planes are held in memory at once; the others' wait in a scratch file next to the products (products unchanged), 0 = one per thread of the block"
        => .in_section(Section::Run).meaning("one channel per thread")
           .doc("pclean's own parameter (docs/memory.md). Applies to hogbom and clark cubes with one grid per pass (not mosaic, awproject or mvc); a value at least the block's channels holds every plane, as before session 14");
    row_partitions: Int = 0, "Row partitions of a continuum (mfs) image: each grids its rows, the partial images are summed (0: none; with parallel, one per Dask worker)"
        => .in_section(Section::Run).meaning("none: one pass over all rows")
           .doc("pclean's own parameter (docs/distributed.md). The weighting density is gathered over every partition first, so the products do not depend on the number of partitions. The partitions run on the local thread pool, as many at once as the memory budget allows (`memory_limit`), or with --parallel as Dask tasks (docs/distributed.md); refused with specmode cube/cubedata");
    row_partition_by: Str = "rows", "How the rows are cut into row_partitions: rows (equal contiguous ranges of all selected rows, MS after MS), time (every MS and spectral window cut into equal contiguous ranges, the p-th of each in partition p: the same time span for a time-ordered MS), spw (whole spectral windows), ms (whole MeasurementSets)"
        => .in_section(Section::Run).choices(RowPartitionBy::NAMES)
           .doc("pclean's own parameter (docs/distributed.md). `spw` and `ms` keep each spectral window or MeasurementSet in one partition (contiguous runs balanced by rows; at most as many partitions as windows or MSs)");
    parallel: Bool = false, "Image through the Dask driver (python -m pclean.distributed) instead of the local pool"
        => .parallel().switch();
    nworkers: Int = 0, "Dask workers (SLURM: worker jobs), 0 = automatic"
        => .parallel().meaning("local: as many as the cores and memory allow; slurm: 1");
    threads_per_worker: Int = 1, "Engine threads of each task on a worker" => .parallel();
    local_directory: Str = "", "Scratch directory of the Dask workers" => .parallel().meaning("Dask's default");
    cluster_type: Str = "local", "Dask cluster: local (worker processes here), slurm (dask-jobqueue), address (an existing scheduler)"
        => .parallel().choices(ClusterKind::NAMES);
    scheduler_address: Str = "", "Scheduler of an existing Dask cluster, e.g. tcp://10.0.0.5:8786" => .parallel();
    worker_timeout_s: Real = 0.0, "Seconds to wait for the first worker, 0 = by cluster type"
        => .parallel().meaning("120 local, 60 address, 1800 slurm");
    task_retries: Int = 2, "Reruns of a block task that raised" => .parallel();
    plane_writes: Str = "auto", "Who writes a Dask cube's planes into the products: workers (each worker writes its channels straight into the product files, which it must see: same host or a shared file system), driver (the planes travel to the driver, which writes them)"
        => .parallel().choices(PlaneWrites::NAMES).meaning("workers on a local cluster, the driver on slurm and address clusters")
           .doc("pclean's own parameter (docs/distributed.md, \"Why the workers write the planes\"). With workers, only each block's metadata travels to the driver; the workers must be able to write the product files at the same paths (any local file system; on a shared one, see what it must guarantee there)");
    local_workers: Str = "auto", "The Dask workers of a local cluster: threads (workers in the driver's process, started in milliseconds; the engine releases the GIL) or processes (one nanny-managed process each: a worker that dies is restarted, each worker's memory a process of its own)"
        => .parallel().choices(LocalWorkers::NAMES).meaning("threads")
           .doc("pclean's own parameter (docs/distributed.md, \"Session 18\"). Only for cluster_type='local'; slurm and address workers are the cluster's processes");
    keep_subcubes: Bool = false, "The seed's: accepted, no effect (noted in the log): pclean writes blocks straight into the final products, there are no sub-cubes"
        => .parallel();
    keep_partimages: Bool = false, "The seed's: accepted, no effect (noted in the log): there are no partial images" => .parallel();
    concat_mode: Str = "none", "The seed's: accepted, no effect (noted in the log): there is no concatenation step (pclean concat joins cubes made elsewhere)"
        => .parallel().choices(ConcatMode::NAMES);
    slurm_queue: Str = "", "SLURM partition of the worker jobs" => .parallel();
    slurm_account: Str = "", "SLURM account of the worker jobs" => .parallel();
    slurm_walltime: Text = "01:00:00", "Wall time of each worker job, e.g. 04:00:00" => .parallel();
    slurm_job_mem: Text = "", "Memory of each worker job, e.g. 16GB" => .parallel().meaning("the memory model's estimate");
    slurm_cores_per_job: Int = 0, "Cores of each worker job, 0 = threads_per_worker" => .parallel();
    slurm_job_name: Str = "pclean", "Name of the worker jobs" => .parallel();
    slurm_job_extra_directives: Texts = &[], "Extra #SBATCH directives of the worker jobs (repeat the flag)"
        => .parallel().list(1, 0, None);
    slurm_python: Str = "", "Python with pclean installed that the jobs run" => .parallel().meaning("the driver's");
    slurm_local_directory: Str = "", "Scratch directory of the worker jobs" => .parallel().meaning("local_directory");
    slurm_log_directory: Str = "", "Directory of the worker jobs' output files" => .parallel();
    slurm_job_script_prologue: Texts = &[], "Shell lines each worker job runs first (repeat the flag)"
        => .parallel().list(1, 0, None);
}
