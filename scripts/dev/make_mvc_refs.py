"""tclean 6.7 references for specmode='mvc' (mtmfs with a cube major cycle, CASA 6.6+) on the
bundled testdata/vla_wideband_small.ms (issue 15). Same layout and commands as
make_mtmfs_refs.py, whose `refs`/`bundle` run here with this file's cases:

    make_mvc_refs.py refs MSDIR OUTDIR      tclean (parallel=False) for every case into OUTDIR
    make_mvc_refs.py bundle OUTDIR REFDIR   the compact references into REFDIR
                                            (testdata/reference/mvc/, index mtmfs.json)
    make_mvc_refs.py cubes OUTDIR REFDIR    tclean's cube products of the dirty and cleaned
                                            cases (channels CUBE_CHANNELS of each, index
                                            mvc_cubes.json: every channel's sumwt and psf beam,
                                            units, masks, shapes, spectral axis) into REFDIR
    make_mvc_refs.py gridwt-refs MSDIR OUTDIR   tclean for the GRIDWT_CASES into OUTDIR
    make_mvc_refs.py gridwt OUTDIR REFDIR   tclean's .gridwt of the GRIDWT_CASES (the whole
                                            density plane, float32 FITS) and gridwt.json (its
                                            shape, unit, coordinates, miscinfo) into REFDIR

Cases: nterms 2 dirty (Briggs 0.5), nterms 2 cleaned (pb mask), and the dirty run with
weighting='briggsbwtaper' (which tclean's mvc weights as uniform: docs/decisions.md (s10-mvc))."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_mtmfs_refs as mt  # noqa: E402

BASE = dict(mt.BASE, specmode="mvc", nterms=2)
mt.CASES = {
    "mvc2_dirty": dict(BASE, niter=0),
    "mvc2_clean": dict(BASE, niter=300, threshold="0.5mJy", usemask="pb", pbmask=0.2),
    "mvc2_bwtaper": dict(BASE, niter=0, weighting="briggsbwtaper"),
}
mt.STORED = {
    "mvc2_dirty": ["psf.tt0", "psf.tt1", "psf.tt2", "residual.tt0", "residual.tt1", "pb.tt0",
                   "image.tt0", "alpha"],
    "mvc2_clean": ["residual.tt0", "residual.tt1", "image.tt0", "image.tt1", "model.tt0",
                   "alpha"],
    "mvc2_bwtaper": ["psf.tt0", "psf.tt1", "residual.tt0", "residual.tt1"],
}

# tclean 6.7's mvc cube products (measured: the dirty run writes no .model cube; the cleaned
# run's .psf cube is the dirty run's, not stored twice) and the channels
# of each kept in the committed references: both ends of the band and the middle.
CUBES = {"mvc2_dirty": ["psf", "residual", "pb"], "mvc2_clean": ["residual", "model"]}
CUBE_CHANNELS = [0, 5, 9]


def cmd_cubes(outdir, refdir):
    """The cube references: the inner 60% of channels CUBE_CHANNELS of each cube (float32 FITS,
    header PCCROP as write_inner_fits, PCSUBSET the channels) and mvc_cubes.json."""
    import gzip
    import io

    import numpy as np
    from astropy.io import fits
    from casacore.images import image
    from casacore.tables import table
    os.makedirs(refdir, exist_ok=True)
    info = {"ms": mt.MS_NAME, "casa": mt.CASA_VERSION, "crop_fraction": mt.CROP_FRACTION,
            "channels": CUBE_CHANNELS, "cases": {}}
    for name, exts in CUBES.items():
        case = {"params": mt.CASES[name], "stored": exts, "products": {}}
        for ext in ["psf", "residual", "pb", "sumwt", "model"]:
            path = os.path.join(outdir, "%s.%s" % (name, ext))
            if not os.path.exists(path):
                case["products"][ext] = None
                continue
            im = image(path)
            d = np.asarray(im.getdata(), dtype=np.float32)[:, 0]
            spec = im.coordinates()["spectral"]
            ii = im.imageinfo()
            rec = {"shape": list(im.shape()), "unit": im.unit(),
                   "masks": sorted(table(path, ack=False).getkeywords().get("masks", {})),
                   "crval_hz": spec.get_referencevalue(), "cdelt_hz": spec.get_increment(),
                   "crpix": spec.get_referencepixel(), "frame": spec.get_frame()}
            pp = ii.get("perplanebeams")
            if pp:
                rec["beams_arcsec_deg"] = [
                    [pp["*%d" % c]["major"]["value"], pp["*%d" % c]["minor"]["value"],
                     pp["*%d" % c]["positionangle"]["value"]] for c in range(pp["nChannels"])]
            if ext == "sumwt":
                rec["values"] = [float(v) for v in d[:, 0, 0]]
            case["products"][ext] = rec
            if ext in exts:
                n = d.shape[-1]
                off = int(round(n * (1 - mt.CROP_FRACTION) / 2))
                h = fits.PrimaryHDU(d[CUBE_CHANNELS, off:n - off, off:n - off])
                h.header["PCCROP"] = off
                h.header["PCSUBSET"] = ",".join(str(c) for c in CUBE_CHANNELS)
                buf = io.BytesIO()
                h.writeto(buf)
                dst = os.path.join(refdir, "%s.cube.%s.fits.gz" % (name, ext))
                with gzip.GzipFile(dst, "wb", mtime=0) as f:
                    f.write(buf.getvalue())
        info["cases"][name] = case
    with open(os.path.join(refdir, "mvc_cubes.json"), "w") as f:
        json.dump(info, f, indent=1)


# tclean's `.gridwt` (its uv weight density, written with mvc for the uniform family only:
# natural weighting writes none): Briggs (mvc2_dirty's parameters) and uniform; a rectangular
# image (96 x 128) shows which axis is u.
GRIDWT_CASES = {
    "mvc2_dirty": mt.CASES["mvc2_dirty"],
    "mvc2_uniform": dict(BASE, niter=0, weighting="uniform"),
    "mvc2_rect": dict(BASE, niter=0, imsize=[96, 128]),
}


def cmd_gridwt_refs(msdir, outdir):
    from small_refs import run_tclean_cases
    run_tclean_cases(GRIDWT_CASES, os.path.join(msdir, mt.MS_NAME), outdir)


def cmd_gridwt(outdir, refdir):
    """Each GRIDWT_CASES' `.gridwt` plane whole (float32 FITS, gzip) and gridwt.json."""
    import gzip
    import io

    import numpy as np
    from astropy.io import fits
    from casacore.images import image
    from casacore.tables import table
    os.makedirs(refdir, exist_ok=True)
    info = {"ms": mt.MS_NAME, "casa": mt.CASA_VERSION, "cases": {}}
    for name, params in GRIDWT_CASES.items():
        path = os.path.join(outdir, "%s.gridwt" % name)
        im = image(path)
        d = np.asarray(im.getdata(), dtype=np.float32)
        c = im.coordinates()
        spec, dirc = c["spectral"], c["direction"]
        kw = table(path, ack=False).getkeywords()
        misc = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in kw["miscinfo"].items()
                if k in ("d2", "f2", "numfield", "multimapsize") or k[:3] in ("key", "val")}
        info["cases"][name] = {
            "params": params, "shape": list(im.shape()), "unit": im.unit(),
            "masks": sorted(kw.get("masks", {})), "axes": list(c.get_axes()),
            "crpix_dir": [float(v) for v in dirc.get_referencepixel()],
            "cdelt_dir_rad": [float(v) for v in dirc.get_increment()],
            "crval_hz": spec.get_referencevalue(), "cdelt_hz": spec.get_increment(),
            "stokes": c["stokes"].get_stokes(), "misc": misc,
            "misc_types": {k: type(v).__name__ + ("[%s]" % v.dtype if hasattr(v, "dtype") else "")
                           for k, v in kw["miscinfo"].items() if k in misc},
            "occupied": int((d != 0).sum()), "sum": float(d.astype(np.float64).sum())}
        buf = io.BytesIO()
        fits.PrimaryHDU(d[0, 0]).writeto(buf)
        with gzip.GzipFile(os.path.join(refdir, "%s.gridwt.fits.gz" % name), "wb", mtime=0) as f:
            f.write(buf.getvalue())
    with open(os.path.join(refdir, "gridwt.json"), "w") as f:
        json.dump(info, f, indent=1)


if __name__ == "__main__":
    {"refs": mt.cmd_refs, "bundle": mt.cmd_bundle, "cubes": cmd_cubes,
     "gridwt-refs": cmd_gridwt_refs, "gridwt": cmd_gridwt}[sys.argv[1]](*sys.argv[2:])
