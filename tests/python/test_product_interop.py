"""Issue 19: every product kind opens in python-casacore with tclean's coordinates, units, beams and
masks, and `pclean export` of each gives a FITS file with the same world coordinates, unit and beam.

- mtmfs (nterms 2, pbcor) on testdata/vla_wideband_small.ms against tclean 6.7's products of the same
  call as casatools reads them (testdata/reference/interop/tclean_mtmfs_products.json, made by
  scripts/dev/make_interop_refs.py): .image.ttN, .residual.ttN, .psf.ttN, .model.ttN, .pb.tt0,
  .pb.tt1, .alpha, .alpha.error, .image.tt0.pbcor, .image.tt1.pbcor, .sumwt.ttN.
- mosaic .pb and .weight (testdata/alma_mosaic_small.ms, test_mosaic.py's `mfs_dirty` run: the
  same run when both modules run) against the WCS of tclean's FITS exports in
  testdata/reference/mosaic/.
- DS9 region files as masks: the same `.mask` product as the CRTF equivalent.
"""
import json
import os

import numpy as np
import pytest

import test_mosaic
from conftest import REFERENCE, require_module, run_pclean, unpack_bundled

REF = json.loads((REFERENCE / "interop" / "tclean_mtmfs_products.json").read_text())
MTMFS_ARGS = ["--imsize", "128", "--cell", "7.5arcsec", "--specmode", "mfs", "--deconvolver", "mtmfs",
              "--reffreq", "1.5GHz", "--weighting", "briggs", "--robust", "0.5", "--pblimit", "0.1",
              "--nterms", "2", "--niter", "0", "--pbcor", "true", "--no-report"]
# Kinds tclean 6.7 writes that pclean does not: none (.image.tt1.pbcor and .pb.tt1 since s12-wb).
# pclean writes a .weight.tt0 tclean does not with gridder='standard'. A change to either set must
# update this test.
NOT_WRITTEN = set()
EXTRA = {"weight.tt0"}
# Coordinates: the same double-precision values (pclean computes them as tclean; measured equal to
# the last bit, 1e-12 rad is ~2e-7 arcsec); frequencies within 1 Hz; beams within issue 1's 2%
# (measured 0.05% on image.tt0) and 2 deg.
RAD_TOL, HZ_TOL, BEAM_REL, PA_DEG = 1e-12, 1.0, 0.02, 2.0
ARCSEC = {"arcsec": 1.0, "arcmin": 60.0, "deg": 3600.0, "rad": 206264.80624709636}


@pytest.fixture(scope="module")
def mtmfs(tmp_path_factory):
    ms = unpack_bundled(["vla_wideband_small.ms.tar.gz"], tmp_path_factory.mktemp("interop_ms"))
    prefix = tmp_path_factory.mktemp("interop") / "mt"
    run_pclean("image", "--vis", ms / "vla_wideband_small.ms", "--imagename", prefix, *MTMFS_ARGS)
    return str(prefix)


def casacore_facts(path):
    """What python-casacore reads of an image: shape (x first), unit, direction, spectral, beam,
    mask names."""
    images = require_module("casacore.images", "python-casacore (tests/python/requirements.txt)")
    tables = require_module("casacore.tables", "python-casacore")
    im = images.image(path)
    c = im.coordinates().dict()
    rb = im.imageinfo().get("restoringbeam") or None
    masks = sorted(tables.table(path, ack=False).getkeywords().get("masks", {}).keys())
    return {"shape": list(im.shape()[::-1]), "unit": im.unit(), "direction": c["direction0"],
            "spectral": c["spectral2"], "beam": rb, "masks": masks}


def arcsec(q):
    return q["value"] * ARCSEC[q["unit"]]


def test_every_mtmfs_product_kind_as_tclean_writes_it(mtmfs):
    ours = {p[len(mtmfs) + 1:] for p in _products(mtmfs)}
    assert ours == (set(REF) - NOT_WRITTEN) | EXTRA, sorted(ours ^ ((set(REF) - NOT_WRITTEN) | EXTRA))
    for kind in sorted(set(REF) - NOT_WRITTEN):
        ref, got = REF[kind], casacore_facts("%s.%s" % (mtmfs, kind))
        assert got["shape"] == ref["shape"], kind
        assert got["unit"] == ref["unit"], (kind, got["unit"], ref["unit"])
        d, rd = got["direction"], ref["direction"]
        assert (d["system"], d["projection"]) == (rd["system"], rd["projection"]), kind
        assert np.abs(np.array(d["crval"]) - rd["crval_rad"]).max() < RAD_TOL, kind
        if not kind.startswith("sumwt"):
            # tclean's 1x1 .sumwt keeps the image's increments and reference pixel; pclean's gives
            # its one pixel the whole field (a cosmetic difference: nothing reads its sky position).
            assert np.abs(np.array(d["cdelt"]) - rd["cdelt_rad"]).max() < RAD_TOL, kind
            assert list(d["crpix"]) == rd["crpix"], kind
        s, rs = got["spectral"], ref["spectral"]
        assert s["system"] == rs["frame"], kind
        assert abs(s["wcs"]["crval"] - rs["crval_hz"]) < HZ_TOL, kind
        assert abs(s["wcs"]["cdelt"] - rs["cdelt_hz"]) < HZ_TOL, kind
        assert abs(s["restfreq"] - rs["restfreq_hz"]) < HZ_TOL, kind
        assert (got["beam"] is not None) == (ref["beam"] is not None), (kind, got["beam"])
        if ref["beam"]:
            b, rb = got["beam"], ref["beam"]
            assert abs(arcsec(b["major"]) / rb["major_arcsec"] - 1) < BEAM_REL, kind
            assert abs(arcsec(b["minor"]) / rb["minor_arcsec"] - 1) < BEAM_REL, kind
            assert abs(arcsec(b["positionangle"]) / 3600 - rb["pa_deg"]) < PA_DEG, kind
        assert got["masks"] == ref["masks"], (kind, got["masks"], ref["masks"])


def _products(prefix):
    d = os.path.dirname(prefix)
    base = os.path.basename(prefix) + "."
    return [os.path.join(d, n) for n in os.listdir(d)
            if n.startswith(base) and os.path.isfile(os.path.join(d, n, "table.dat"))]


def assert_fits_as_casa(casa_path, fits_path):
    """`pclean export`'s FITS: world coordinates of the corners and centre, unit and beam equal to
    what python-casacore reads of the CASA image."""
    fits = require_module("astropy.io.fits", "astropy")
    wcs = require_module("astropy.wcs", "astropy")
    images = require_module("casacore.images", "python-casacore")
    got = casacore_facts(casa_path)
    with fits.open(fits_path) as h:
        hdr = h[0].header
        w = wcs.WCS(hdr).celestial
        im = images.image(casa_path)
        nx, ny = got["shape"][:2]
        for x, y in [(0, 0), (nx - 1, 0), (0, ny - 1), (nx - 1, ny - 1), (nx // 2, ny // 2)]:
            ra, dec = w.pixel_to_world_values(x, y)
            world = im.toworld([0, 0, y, x])  # (freq, stokes, dec, ra) in radians
            # 1e-6 arcsec: both are the same SIN projection of the same header values.
            assert abs(((ra - np.degrees(world[3]) + 180) % 360 - 180) * np.cos(world[2])) * 3600 < 1e-6
            assert abs(dec - np.degrees(world[2])) * 3600 < 1e-6
        assert hdr.get("BUNIT", "") == got["unit"], (fits_path, hdr.get("BUNIT"), got["unit"])
        assert ("BMAJ" in hdr) == (got["beam"] is not None), fits_path
        if got["beam"]:
            assert abs(hdr["BMAJ"] * 3600 / arcsec(got["beam"]["major"]) - 1) < 1e-6
        data = h[0].data
        casa = np.asarray(im.getdata())
        mask = np.asarray(im.getmask()) if got["masks"] else np.zeros(casa.shape, bool)
        # Masked pixels are NaN in the FITS file (exportfits' convention); the rest equal.
        assert np.array_equal(np.isnan(data), mask | np.isnan(casa)), fits_path
        assert np.array_equal(data[~np.isnan(data)], casa[~np.isnan(data)].astype(data.dtype))


@pytest.mark.parametrize("kind", ["image.tt0", "image.tt1", "residual.tt1", "psf.tt0", "pb.tt0",
                                  "pb.tt1", "alpha", "alpha.error", "image.tt0.pbcor",
                                  "image.tt1.pbcor", "model.tt0"])
def test_pclean_export_of_each_mtmfs_product(mtmfs, tmp_path, kind):
    out = tmp_path / ("%s.fits" % kind)
    run_pclean("export", "%s.%s" % (mtmfs, kind), out)
    assert_fits_as_casa("%s.%s" % (mtmfs, kind), out)


@pytest.fixture(scope="module")
def mosaic(tmp_path_factory):
    """test_mosaic.py's `mfs_dirty` run (made once per session for both modules)."""
    ms = unpack_bundled(["alma_mosaic_small.ms.tar.gz"], tmp_path_factory.mktemp("interop_mosaic_ms"))
    return str(test_mosaic.run_case("mfs_dirty", ms, tmp_path_factory.mktemp("interop_mosaic")))


@pytest.mark.parametrize("ext", ["pb", "weight"])
def test_mosaic_pb_and_weight_open_with_tclean_coordinates(mosaic, tmp_path, ext):
    fits = require_module("astropy.io.fits", "astropy")
    prefix = mosaic
    got = casacore_facts("%s.%s" % (prefix, ext))
    with fits.open(test_mosaic.REF / ("tclean_mfs_dirty.%s.fits.gz" % ext)) as h:
        hdr = h[0].header
    x0, y0 = (int(v) for v in hdr["PCCROP"].split(","))
    d = got["direction"]
    assert got["unit"] == hdr["BUNIT"], (got["unit"], hdr["BUNIT"])
    assert got["beam"] is None and "BMAJ" not in hdr
    # The crop's reference pixel plus its offset is the full image's (FITS 1-based, casacore 0-based).
    assert d["crpix"][0] == hdr["CRPIX1"] - 1 + x0 and d["crpix"][1] == hdr["CRPIX2"] - 1 + y0
    assert np.degrees(d["crval"][0]) == pytest.approx(hdr["CRVAL1"], abs=1e-10)
    assert np.degrees(d["crval"][1]) == pytest.approx(hdr["CRVAL2"], abs=1e-10)
    assert np.degrees(d["cdelt"][0]) == pytest.approx(hdr["CDELT1"], rel=1e-9)
    assert d["system"] == {"FK5": "J2000"}.get(hdr["RADESYS"], hdr["RADESYS"])
    # The reference frequency within 1 Hz of tclean's (the same MS and channel selection).
    assert abs(got["spectral"]["wcs"]["crval"] - hdr["CRVAL3"]) < HZ_TOL
    out = tmp_path / ("mosaic.%s.fits" % ext)
    run_pclean("export", "%s.%s" % (prefix, ext), out)
    assert_fits_as_casa("%s.%s" % (prefix, ext), out)


DS9 = """# Region file format: DS9 version 4.1
global color=green width=1
fk5
circle(15:21:54.000,+5:03:00.00,90")
box(15:22:04.0,+5:06:00.0,120",60",0) # color=red
-circle(15:21:54.000,+5:03:00.00,30")
"""
CRTF = """#CRTFv0
circle[[15:21:54.000, +05.03.00.00], 90arcsec]
centerbox[[15:22:04.0, +05.06.00.0], [120arcsec, 60arcsec]]
-circle[[15:21:54.000, +05.03.00.00], 30arcsec]
"""


def test_a_ds9_region_file_masks_as_its_crtf_equivalent(msdir, tmp_path):
    images = require_module("casacore.images", "python-casacore")
    masks = {}
    for name, text in [("ds9.reg", DS9), ("crtf.crtf", CRTF)]:
        (tmp_path / name).write_text(text)
        prefix = tmp_path / name.split(".")[0]
        run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", prefix, "--imsize", "96",
                   "--cell", "10arcsec", "--specmode", "cube", "--nchan", "2", "--start", "20",
                   "--niter", "1", "--usemask", "user", "--mask", tmp_path / name, "--no-report")
        masks[name] = np.asarray(images.image("%s.mask" % prefix).getdata())
    # Same pixels: both readers convert to the same shapes on the same grid (exact).
    assert masks["ds9.reg"].sum() > 100
    assert np.array_equal(masks["ds9.reg"], masks["crtf.crtf"])


# --- Opt-in tier (marker `casatools`, PCLEAN_CASA_PYTHON): casatools' own `image` tool opens every
# product kind with what python-casacore reads of it (which the tests above compare with tclean's):
# shape, brightness unit, restoring beam(s) (per plane for cubes), mask names and default mask,
# direction and spectral reference values, and the pixel values themselves.

CASATOOLS_FACTS = r"""
import json, sys, numpy, casatools
ia, out = casatools.image(), {}
for path in sys.argv[1:]:
    ia.open(path)
    cs = ia.coordsys()
    rb = ia.restoringbeam()
    if "beams" in rb:
        beams = [[rb["beams"]["*%d" % c]["*0"][k]["value"] for k in ("major", "minor", "positionangle")]
                 for c in range(rb["nChannels"])]
    elif rb:
        beams = [[rb[k]["value"] for k in ("major", "minor", "positionangle")]]
    else:
        beams = []
    data = ia.getchunk()
    masks = [m for m in ia.maskhandler("get") if m != "T"]
    out[path] = dict(shape=ia.shape().tolist(), unit=ia.brightnessunit(), beams=beams,
                     masks=sorted(masks), default_mask=ia.maskhandler("default")[0],
                     nmasked=int((~ia.getchunk(getmask=True)).sum()),
                     direction=cs.referencevalue(type="direction", format="n")["numeric"].tolist(),
                     spectral=cs.referencevalue(type="spectral", format="n")["numeric"].tolist(),
                     nnan=int(numpy.isnan(data).sum()), peak=float(numpy.nanmax(abs(data))),
                     total=float(numpy.nansum(data, dtype="float64")))
    cs.done()
    ia.close()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def cube_run(msdir, tmp_path_factory):
    """A cleaned NGC5921 cube (per-plane beams, a mask, pbcor), small."""
    import conftest
    ms = msdir
    prefix = tmp_path_factory.mktemp("interop_cube") / "cube"
    args = list(conftest.NGC_ARGS)
    for flag, value in (("--imsize", "96"), ("--nchan", "4"), ("--start", "24"), ("--niter", "200"),
                        ("--pblimit", "0.1"), ("--pbcor", "true")):
        # NGC_ARGS may carry the flag already (a flag given twice is refused): set it there.
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    run_pclean("image", "--vis", ms / "ngc5921.ms", "--imagename", prefix, *args, "--deconvolver", "hogbom",
               "--threshold", "10mJy", "--usemask", "user", "--mask", "box[[30pix,30pix],[66pix,66pix]]",
               "--no-report")
    return str(prefix)


@pytest.mark.casatools
@pytest.mark.parametrize("run", ["cube_run", "mtmfs", "mosaic"])
def test_casatools_opens_every_product_kind(run, request, tmp_path):
    images = require_module("casacore.images", "python-casacore")
    prefix = request.getfixturevalue(run)
    paths = sorted(_products(prefix))
    assert len(paths) >= 6, paths
    py = os.environ["PCLEAN_CASA_PYTHON"]
    import subprocess
    # casatools writes its log into the working directory: a temporary one.
    p = subprocess.run([py, "-c", CASATOOLS_FACTS, *paths], capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, "PCLEAN_CASA_PYTHON=%s: %s" % (py, p.stderr[-2000:])
    facts = json.loads(p.stdout.strip().splitlines()[-1])
    for path in paths:
        got, mine = facts[path], casacore_facts(path)
        im = images.image(path)
        assert got["shape"] == mine["shape"], path
        assert got["unit"] == mine["unit"], path
        assert got["masks"] == mine["masks"], path
        # The default mask is the one pclean's products name (tclean's "mask0"), or none.
        assert got["default_mask"] == (mine["masks"][0] if mine["masks"] else ""), path
        info = im.imageinfo()
        if "perplanebeams" in info:
            pp = info["perplanebeams"]
            ours = [[pp["*%d" % c]["major"]["value"], pp["*%d" % c]["minor"]["value"],
                     pp["*%d" % c]["positionangle"]["value"]] for c in range(pp["nChannels"])]
        elif mine["beam"]:
            ours = [[mine["beam"][k]["value"] for k in ("major", "minor", "positionangle")]]
        else:
            ours = []
        # The same stored doubles (casatools and python-casacore read one record): equal to 1e-12.
        assert np.allclose(got["beams"], ours, rtol=1e-12, atol=0), (path, got["beams"], ours)
        c = im.coordinates().dict()
        assert np.allclose(got["direction"], c["direction0"]["crval"], rtol=0, atol=1e-14), path
        assert abs(got["spectral"][0] - c["spectral2"]["wcs"]["crval"]) < 1e-6, path
        # Pixels: the same float32 values read by two libraries (sums in f64 of the same values
        # agree to rounding of the order of summation, 1e-9 relative).
        data = np.asarray(im.getdata(), dtype=np.float64)
        mask = np.asarray(im.getmask()) if mine["masks"] else np.zeros(data.shape, bool)
        assert got["nmasked"] == int(mask.sum()), path
        # NaN pixels (an `.alpha` image's blanked ones) are the same pixels in both readers.
        assert got["nnan"] == int(np.isnan(data).sum()), path
        assert got["peak"] == pytest.approx(float(np.nanmax(np.abs(data))), rel=1e-7, abs=1e-30), path
        assert got["total"] == pytest.approx(float(np.nansum(data)), rel=1e-9, abs=1e-9 * max(1.0, got["peak"])), path
    if run == "cube_run":
        beams = facts["%s.image" % prefix]["beams"]
        assert len(beams) == 4 and all(b[0] > 0 for b in beams), beams
