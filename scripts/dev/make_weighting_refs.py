"""Test data for the weighting schemes of issue 15 (briggsbwtaper, superuniform, briggsabs with
npixels): a small subset of the shared vla_wideband MS and tclean 6.7 references made on it.

    make_weighting_refs.py ms SRC_MS OUTDIR        subset MS OUTDIR/vla_wideband_small.ms (casatasks split)
    make_weighting_refs.py refs MSDIR REFDIR [CASE ...]   tclean (parallel=False) for CASES into REFDIR
    make_weighting_refs.py bundle MSDIR REFDIR     the MS tarball and the compact references into testdata/

`ms` and `refs` need casatools/casatasks 6.7 (e.g. /work/casa-venv/bin/python); `bundle` needs numpy
and astropy. SRC_MS is `wideband.ms` from ../shared/data/vla_wideband/vla_wideband.ms.tar.gz (VLA C
configuration, 1-2 GHz, 4 spw x 8 channels of 32 MHz, TOPO, RR LL, 60 x 60 s, 15 point sources with
spectral indices; see its README). The subset keeps the whole band (the briggsbwtaper taper is the
cube's fractional bandwidth) and every channel, the baselines among antennas 0-12 and 180 s
averages: 4 spw x 78 baselines x 20 integrations = 6240 rows.

The committed references (testdata/reference/weighting/) are the inner 60% of each psf and residual
(header PCCROP, as testdata/reference/realobs); cubes keep the channels in KEEP_CHANNELS
(header PCSUBSET), as 16-bit FITS. weighting.json holds each case's exact tclean parameters, the CASA version,
tclean's .sumwt per channel and the restoring beam of every channel of the psf."""
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile

MS_NAME = "vla_wideband_small.ms"
CROP_FRACTION = 0.6
# Cube channels kept in the committed references: both ends of the band (channel 0 only partly
# covered in LSRK), the last channel of spw 0, channel 8 (blank in tclean: the LSRK channel falls
# between two spws; so are 16 and 24) and one in spw 2.
KEEP_CHANNELS = [0, 7, 8, 20, 31]

BASE = dict(imsize=[128, 128], cell="7.5arcsec", gridder="standard", niter=0, pblimit=-0.01,
            stokes="I", parallel=False)
CUBE = dict(BASE, specmode="cube", outframe="LSRK")
MFS = dict(BASE, specmode="mfs")
CASES = {
    # briggsbwtaper (perchanweightdensity defaults to True for cubes)
    "bwtaper_cube_r05": dict(CUBE, weighting="briggsbwtaper", robust=0.5, perchanweightdensity=True),
    "bwtaper_cube_rm1": dict(CUBE, weighting="briggsbwtaper", robust=-1.0, perchanweightdensity=True),
    # superuniform: npixels 0 (box +-3) and 5 (box +-5 if npixels is the half-width, +-2 if it is
    # the full width as the task's help says); a cube (VisImagingWeight, one density for all
    # channels, whatever perchanweightdensity says)
    "superuniform_mfs_n0": dict(MFS, weighting="superuniform", npixels=0),
    "superuniform_mfs_n5": dict(MFS, weighting="superuniform", npixels=5),
    "superuniform_cube_n0": dict(CUBE, weighting="superuniform", npixels=0, perchanweightdensity=True),
    # briggsabs: mfs with the default noise, mfs with npixels (a coarser density grid), a cube
    # with npixels (the per-channel density's box)
    "briggsabs_mfs_rm05": dict(MFS, weighting="briggsabs", robust=-0.5, noise="1.0Jy"),
    "briggsabs_mfs_r05_np64": dict(MFS, weighting="briggsabs", robust=0.5, noise="2.0Jy", npixels=64),
    "briggsabs_cube_r0_np2": dict(CUBE, weighting="briggsabs", robust=0.0, noise="0.5Jy", npixels=2,
                                  perchanweightdensity=True),
    # a cube with one density for all channels (VisImagingWeight) for comparison
    "briggs_cube_shared": dict(CUBE, weighting="briggs", robust=0.5, perchanweightdensity=False),
}


def cmd_ms(src, outdir):
    from casatasks import split
    out = os.path.join(outdir, MS_NAME)
    if os.path.exists(out):
        shutil.rmtree(out)
    split(vis=src, outputvis=out, datacolumn="data", antenna="0~12&", timebin="180s", combine="scan", keepflags=True)
    from casatools import table
    tb = table()
    tb.open(out)
    print(MS_NAME, tb.nrows(), "rows")
    tb.close()


def cmd_refs(msdir, refdir, names):
    from casatasks import tclean, exportfits
    import casatools
    os.makedirs(refdir, exist_ok=True)
    vis = os.path.join(msdir, MS_NAME)
    info_path = os.path.join(refdir, "runs.json")
    info = json.load(open(info_path)) if os.path.exists(info_path) else {}
    for name in names or CASES:
        params = CASES[name]
        prefix = os.path.join(refdir, name)
        for ext in ("psf", "residual", "sumwt", "pb", "weight", "image", "model"):
            if os.path.exists(prefix + "." + ext):
                shutil.rmtree(prefix + "." + ext)
        tclean(vis=vis, imagename=prefix, **params)
        if not os.path.exists(prefix + ".psf"):
            raise SystemExit("tclean made no products for %s (see the CASA log)" % name)
        for ext in ("psf", "residual"):
            exportfits(prefix + "." + ext, prefix + "." + ext + ".fits", overwrite=True)
        ia = casatools.image()
        ia.open(prefix + ".sumwt")
        sumwt = ia.getchunk().ravel().tolist()
        ia.close()
        ia.open(prefix + ".psf")
        beams = ia.restoringbeam()
        ia.close()
        if "beams" in beams:
            nchan = beams["nChannels"]
            beams = [beams["beams"]["*%d" % c]["*0"] for c in range(nchan)]
        else:
            beams = [beams]
        info[name] = dict(params=dict(params), sumwt=sumwt,
                          beams=[[b["major"]["value"], b["minor"]["value"], b["positionangle"]["value"]]
                                 for b in beams],
                          beam_units=[beams[0]["major"]["unit"], beams[0]["positionangle"]["unit"]],
                          casa=casatools.version_string())
        json.dump(info, open(info_path, "w"), indent=1)
        print(name, "done")


def compact_fits(src, dst, channels):
    """Inner CROP_FRACTION of FITS `src` (CRPIX shifted, PCCROP = "x0,y0"), cube channels
    `channels` (PCSUBSET), float32, gzipped without a time stamp."""
    import numpy as np
    from astropy.io import fits
    h = fits.open(src)
    hdr, data = h[0].header.copy(), h[0].data
    ny, nx = data.shape[-2:]
    x0, y0 = int(round(nx * (1 - CROP_FRACTION) / 2)), int(round(ny * (1 - CROP_FRACTION) / 2))
    data = data[..., y0:ny - y0, x0:nx - x0]
    hdr["CRPIX1"] -= x0
    hdr["CRPIX2"] -= y0
    hdr["PCCROP"] = "%d,%d" % (x0, y0)
    ctypes = [hdr.get("CTYPE%d" % (i + 1), "") for i in range(hdr["NAXIS"])]
    fa = hdr["NAXIS"] - 1 - [i for i, c in enumerate(ctypes) if c.startswith("FREQ")][0]
    if data.shape[fa] > 1:
        data = np.take(data, channels, axis=fa)
        hdr["PCSUBSET"] = ",".join(str(c) for c in channels)
    buf = io.BytesIO()
    hdu = fits.PrimaryHDU(data.astype(np.float32), hdr)
    # 16 bits (BSCALE from the range): quantisation 1/65535 of the range, below 3e-5 of a plane's
    # peak here, far below the tests' 5e-3.
    hdu.scale("int16", option="minmax")
    hdu.writeto(buf)
    with gzip.GzipFile(dst, "wb", mtime=0) as f:
        f.write(buf.getvalue())


def cmd_bundle(msdir, refdir):
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    out = os.path.join(root, "testdata", "reference", "weighting")
    os.makedirs(out, exist_ok=True)
    info = json.load(open(os.path.join(refdir, "runs.json")))
    for name in info:
        for ext in ("psf", "residual"):
            compact_fits(os.path.join(refdir, "%s.%s.fits" % (name, ext)),
                         os.path.join(out, "%s.%s.fits.gz" % (name, ext)), KEEP_CHANNELS)
    meta = dict(ms=MS_NAME, crop_fraction=CROP_FRACTION, keep_channels=KEEP_CHANNELS,
                provenance="scripts/dev/make_weighting_refs.py refs + bundle", cases=info)
    with open(os.path.join(out, "weighting.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
    tar = os.path.join(root, "testdata", "vla_wideband_small.ms.tar.gz")
    # Deterministic tarball: sorted members, no owners, fixed mtime.
    def clean(ti):
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = ""
        ti.mtime = 0
        return ti
    with open(tar, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            with tarfile.open(fileobj=gz, mode="w") as t:
                base = os.path.join(msdir, MS_NAME)
                for dirpath, dirnames, filenames in os.walk(base):
                    dirnames.sort()
                    rel = os.path.relpath(dirpath, msdir)
                    t.add(dirpath, arcname=rel, recursive=False, filter=clean)
                    for fn in sorted(filenames):
                        t.add(os.path.join(dirpath, fn), arcname=os.path.join(rel, fn), filter=clean)
    print("wrote", out, tar)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "ms":
        cmd_ms(*args)
    elif cmd == "refs":
        cmd_refs(args[0], args[1], args[2:])
    elif cmd == "bundle":
        cmd_bundle(*args)
    else:
        raise SystemExit(__doc__)
