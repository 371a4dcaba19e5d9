"""Make the full-polarisation test data of docs/polarization.md: two small simulated MSs and tclean
references for the Stokes tests (tests/python/test_polarization.py).

    python make_pol_testdata.py ms OUTDIR        # the MSs (casatools simulator)
    python make_pol_testdata.py refs MSDIR REFDIR  # tclean 6.7 products of every case
    python make_pol_testdata.py bundle MSDIR REFDIR TESTDATA  # tarballs + inner-60% crops + JSON

Needs casatools/casatasks 6.7. The MSs: a VLA C-configuration subset
(16 antennas of `vla.c.cfg`) with circular feeds RR RL LR LL at 1.5 GHz, and an ALMA subset (16
antennas of `alma.cycle10.3.cfg`) with linear feeds XX XY YX YY at 100 GHz; 2 channels each; three
point sources with Q, U, V of both signs (CASA's predict: RR = I+V, RL = Q+iU, XX = I+Q, XY = U+iV;
no parallactic rotation); per-correlation WEIGHT drawn uniformly in [0.5, 2] (SIGMA to match) and
noise of 2 mJy / sqrt(weight); each correlation flagged alone on ~12% of the rows, and correlation 0
of channel 0 on another ~5%. Seeds fixed, so the MSs are reproducible.
"""
import glob
import json
import os
import shutil
import sys

import numpy as np

SIMMOS = None  # set from casadata at run time

MS = {
    "vla_pol": dict(
        telescope="VLA", cfg="vla.c.cfg", nant=16, freq="1.5GHz", dfreq="4MHz", nchan=2,
        corrs="RR RL LR LL", feed="perfect R L", centre=("J2000", "12h00m00.0", "+30d00m00"),
        integ="600s", span=("-3h", "3h"), seed=1, flag_seed=3, cell="3arcsec",
        sources=[
            dict(ra="12h00m00.0", dec="+30d00m00", iquv=[1.0, 0.20, -0.15, 0.05]),
            dict(ra="12h00m06.0", dec="+30d03m00", iquv=[0.6, -0.12, 0.09, -0.04]),
            dict(ra="11h59m52.0", dec="+29d58m00", iquv=[0.4, 0.05, 0.10, 0.02]),
        ]),
    "alma_pol": dict(
        telescope="ALMA", cfg="alma.cycle10.3.cfg", nant=16, freq="100GHz", dfreq="50MHz", nchan=2,
        corrs="XX XY YX YY", feed="perfect X Y", centre=("J2000", "16h00m00.0", "-30d00m00"),
        integ="300s", span=("-2h", "2h"), seed=2, flag_seed=4, cell="0.2arcsec",
        sources=[
            dict(ra="16h00m00.0", dec="-30d00m00", iquv=[1.0, -0.10, 0.18, -0.03]),
            dict(ra="16h00m00.7", dec="-29d59m52", iquv=[0.5, 0.08, -0.06, 0.04]),
            dict(ra="15h59m59.4", dec="-30d00m09", iquv=[0.3, -0.04, -0.07, 0.015]),
        ]),
}

# tclean cases: name -> (ms, parameters beyond the common ones, products kept as inner-60% crops
# ("psf:I": its I plane only), products kept whole). Stored as 16-bit FITS (BSCALE from each
# image's range: quantisation below 2e-5 of the peak, far below the tests' 5e-3). Natural weighting for the dirty cases (their sums of weights are exact
# sums of the WEIGHT column), Briggs 0.5 for one dirty case and the cleaned ones.
COMMON = dict(imsize=256, specmode="mfs", gridder="standard", pblimit=-0.01, parallel=False,
              datacolumn="data")
CLEAN = dict(weighting="briggs", robust=0.5, niter=500, gain=0.1, threshold="1mJy")
CASES = {}
for _ms in MS:
    # The I plane of the PSF only (every plane's PSF is the same in tclean: one weight per
    # sample); the I-only image's residual equals IQUV's I plane, so only its sum of weights is kept.
    CASES[f"{_ms}_IQUV_dirty"] = (_ms, dict(stokes="IQUV", weighting="natural", niter=0),
                                  ["psf:I", "residual"], ["sumwt"])
    CASES[f"{_ms}_I_dirty"] = (_ms, dict(stokes="I", weighting="natural", niter=0), [], ["sumwt"])
    CASES[f"{_ms}_pseudoI_dirty"] = (_ms, dict(stokes="pseudoI", weighting="natural", niter=0),
                                     ["residual"], ["sumwt"])
    for _dec in ("hogbom", "clark"):
        CASES[f"{_ms}_IQUV_{_dec}"] = (_ms, dict(stokes="IQUV", deconvolver=_dec, **CLEAN),
                                       ["image"], ["model"])
CASES["vla_pol_IQUV_briggs_dirty"] = ("vla_pol", dict(stokes="IQUV", weighting="briggs",
                                                      robust=0.5, niter=0), ["residual"], ["sumwt"])
CASES["vla_pol_IQUV_clarkstokes"] = ("vla_pol", dict(stokes="IQUV", deconvolver="clarkstokes",
                                                     **CLEAN), ["image"], ["model"])
CROP_FRACTION = 0.6


def read_cfg(path, nant):
    rows = [l.split() for l in open(path) if l.strip() and not l.startswith("#")]
    idx = np.linspace(0, len(rows) - 1, nant).astype(int)
    rows = [rows[i] for i in idx]
    return ([float(r[0]) for r in rows], [float(r[1]) for r in rows], [float(r[2]) for r in rows],
            [float(r[3]) for r in rows], [r[4] for r in rows])


def make_ms(path, spec):
    from casatools import componentlist, measures, simulator, table
    import casadata
    me = measures()
    simmos = os.path.join(os.path.dirname(casadata.__file__), "__data__", "alma", "simmos")
    if os.path.exists(path):
        shutil.rmtree(path)
    sm = simulator()
    sm.open(path)
    x, y, z, d, names = read_cfg(os.path.join(simmos, spec["cfg"]), spec["nant"])
    sm.setconfig(telescopename=spec["telescope"], x=x, y=y, z=z, dishdiameter=d, mount=["alt-az"],
                 antname=names, padname=names, coordsystem="global",
                 referencelocation=me.observatory(spec["telescope"]))
    sm.setspwindow(spwname="spw0", freq=spec["freq"], deltafreq=spec["dfreq"],
                   freqresolution=spec["dfreq"], nchannels=spec["nchan"], stokes=spec["corrs"])
    sm.setfeed(mode=spec["feed"])
    sm.setfield(sourcename="src", sourcedirection=me.direction(*spec["centre"]))
    sm.setlimits(shadowlimit=0.01, elevationlimit="8deg")
    sm.setauto(autocorrwt=0.0)
    sm.settimes(integrationtime=spec["integ"], usehourangle=True,
                referencetime=me.epoch("utc", "2024/03/01/00:00:00"))
    sm.observe("src", "spw0", starttime=spec["span"][0], stoptime=spec["span"][1])
    cl = componentlist()
    clpath = path + ".cl"
    if os.path.exists(clpath):
        shutil.rmtree(clpath)
    for s in spec["sources"]:
        cl.addcomponent(flux=s["iquv"], fluxunit="Jy", polarization="Stokes",
                        dir=me.direction(spec["centre"][0], s["ra"], s["dec"]), shape="point",
                        freq=spec["freq"])
    cl.rename(clpath)
    cl.close()
    sm.predict(complist=clpath)
    sm.close()
    shutil.rmtree(clpath)
    rng = np.random.default_rng(spec["seed"])
    tb = table()
    tb.open(path, nomodify=False)
    w = rng.uniform(0.5, 2.0, size=tb.getcol("WEIGHT").shape).astype(np.float32)
    tb.putcol("WEIGHT", w)
    tb.putcol("SIGMA", 1.0 / np.sqrt(w))
    data = tb.getcol("DATA")
    noise = 0.002 / np.sqrt(w)[:, None, :]
    data = data + noise * (rng.standard_normal(data.shape) + 1j * rng.standard_normal(data.shape))
    tb.putcol("DATA", data)
    rng = np.random.default_rng(spec["flag_seed"])
    f = tb.getcol("FLAG")
    ncorr, nchan, nrow = f.shape
    for c in range(ncorr):
        f[c, :, rng.random(nrow) < 0.12] = True
    f[0, 0, rng.random(nrow) < 0.05] = True
    tb.putcol("FLAG", f)
    tb.removecols([c for c in ("MODEL_DATA", "CORRECTED_DATA") if c in tb.colnames()])
    tb.close()


def cmd_ms(outdir):
    os.makedirs(outdir, exist_ok=True)
    for name, spec in MS.items():
        make_ms(os.path.join(outdir, name + ".ms"), spec)
        print("made", name)


def tclean_params(name):
    ms, extra, _, _ = CASES[name]
    spec = MS[ms]
    p = dict(COMMON, cell=spec["cell"], phasecenter=" ".join(spec["centre"]), **extra)
    if p.get("deconvolver") is None:
        p["deconvolver"] = "hogbom"
    return ms, p


def cmd_refs(msdir, refdir):
    from casatasks import tclean
    os.makedirs(refdir, exist_ok=True)
    for name in CASES:
        ms, p = tclean_params(name)
        for f in glob.glob(os.path.join(refdir, name + ".*")):
            shutil.rmtree(f) if os.path.isdir(f) else os.remove(f)
        tclean(vis=os.path.join(msdir, ms + ".ms"), imagename=os.path.join(refdir, name), **p)
        print("tclean", name, flush=True)


def cmd_bundle(msdir, refdir, testdata):
    import gzip
    import tarfile
    import casatasks
    from casatools import image, regionmanager
    out = os.path.join(testdata, "reference", "polarization")
    os.makedirs(out, exist_ok=True)
    for ms in MS:
        with tarfile.open(os.path.join(testdata, f"{ms}.ms.tar.gz"), "w:gz") as t:
            t.add(os.path.join(msdir, ms + ".ms"), arcname=ms + ".ms")
    ia, rg = image(), regionmanager()
    info = {"casatasks": casatasks.version_string(), "crop_fraction": CROP_FRACTION, "ms": MS,
            "cases": {}}
    for name, (ms, _, crop, whole) in CASES.items():
        _, p = tclean_params(name)
        case = {"ms": ms + ".ms", "params": p, "stored": {}}
        for item in crop + whole:
            prod, _, only = item.partition(":")
            ia.open(os.path.join(refdir, f"{name}.{prod}"))
            shape = ia.shape()
            stokes = list(ia.coordsys().stokes())
            if prod == "sumwt":
                case["sumwt"] = [float(v) for v in ia.getchunk().ravel()]
                ia.close()
                continue
            x0 = int(shape[0] * (1 - CROP_FRACTION) / 2) if item in crop else 0
            s1 = stokes.index(only) if only else shape[2] - 1
            s0 = stokes.index(only) if only else 0
            stokes = stokes[s0:s1 + 1]
            box = rg.box(blc=[x0, x0, s0, 0], trc=[shape[0] - 1 - x0, shape[1] - 1 - x0, s1,
                                                   shape[3] - 1])
            sub = ia.subimage(outfile="", region=box)
            ia.close()
            fn = f"{name}.{prod}.fits" if item in whole else f"{name}.{prod}.crop.fits"
            tmp = os.path.join(out, fn)
            sub.tofits(tmp, overwrite=True, stokeslast=True, bitpix=16)
            sub.done()
            with open(tmp, "rb") as f, open(tmp + ".gz", "wb") as g:
                g.write(gzip.compress(f.read(), mtime=0))
            os.remove(tmp)
            case["stored"][prod] = dict(file=fn + ".gz", offset=x0, stokes=stokes)
        info["cases"][name] = case
    with open(os.path.join(out, "polarization.json"), "w") as f:
        json.dump(info, f, indent=1)
    print("bundled", len(CASES), "cases into", out)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "ms":
        cmd_ms(sys.argv[2])
    elif cmd == "refs":
        cmd_refs(sys.argv[2], sys.argv[3])
    elif cmd == "bundle":
        cmd_bundle(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
