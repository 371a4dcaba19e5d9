"""Make the small w-correction test data of issue 14 from ../shared/data/vla_widefield.

Run with a Python that has casatools/casatasks 6.7 (PyPI wheels) and numpy:
    python scripts/dev/make_widefield_subset.py MSDIR WORKDIR OUTDIR

MSDIR holds `widefield.ms` (unpacked from vla_widefield.ms.tar.gz) and `vla_widefield.sky.json`. The subset MS is the first
channel (1.35 GHz) with pairs of 120 s integrations averaged (`split`, timebin 240s): 21 060 rows,
the same w range and field. tclean 6.7 images it with `gridder='wproject'`, `wprojplanes=-1`,
and with `gridder='standard'` for contrast (imsize 1024, cell 6", mfs, briggs 0.5, pblimit -0.01,
niter 0, `parallel=False`). OUTDIR receives
- `vla_widefield_sub.ms.tar.gz` (the subset MS, unpacks to `widefield_sub.ms`);
- `widefield_wproject.json`: the exact tclean parameters, the CASA version, tclean's `.sumwt`, and
  for each of the sky model's sources with an apparent flux above 20 mJy a 15 x 15 pixel box of
  tclean's wproject and standard residual (Jy/beam) centred on the wproject image's peak near the
  source (the box's lower-left pixel (x0, y0) in the 1024^2 image).
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np

IMAGING = dict(imsize=[1024, 1024], cell="6arcsec", specmode="mfs", weighting="briggs",
               robust=0.5, niter=0, pblimit=-0.01)
BOX = 7  # half width of the stored boxes


def main(msdir, work, out):
    import casatasks
    import casatools

    os.makedirs(work, exist_ok=True)
    os.makedirs(out, exist_ok=True)
    sub = os.path.join(work, "widefield_sub.ms")
    if os.path.exists(sub):
        shutil.rmtree(sub)
    casatasks.split(vis=os.path.join(msdir, "widefield.ms"), outputvis=sub, spw="0:0",
                    timebin="240s", datacolumn="data", keepflags=True)
    runs = {}
    for name, gridder in [("wproject", dict(gridder="wproject", wprojplanes=-1)),
                          ("standard", dict(gridder="standard"))]:
        img = os.path.join(work, "tclean_" + name)
        for ext in (".psf", ".residual", ".pb", ".sumwt", ".weight", ".image", ".model"):
            shutil.rmtree(img + ext, ignore_errors=True)
        params = dict(vis=sub, imagename=img, parallel=False, **IMAGING, **gridder)
        casatasks.tclean(**params)
        ia = casatools.image()
        ia.open(img + ".residual")
        pix = ia.getchunk()[:, :, 0, 0]  # (x, y)
        cs = ia.coordsys()
        ia.close()
        ia.open(img + ".sumwt")
        sumwt = float(ia.getchunk().ravel()[0])
        ia.close()
        params.pop("vis")
        params.pop("imagename")
        runs[name] = dict(pix=pix, cs=cs, sumwt=sumwt, params=params)
    sky = json.load(open(os.path.join(msdir, "vla_widefield.sky.json")))
    pb = casatools.image()
    pb.open(os.path.join(work, "tclean_wproject.pb"))
    pbpix = pb.getchunk()[:, :, 0, 0]
    pb.close()
    cs = runs["wproject"]["cs"]
    boxes = []
    for c in sky["components"]:
        world = cs.torecord()  # noqa: F841 (keeps the record format in the JSON below)
        p = cs.convert([np.radians(c["ra_deg"]), np.radians(c["dec_deg"]), 0, 0],
                       unitsin=["rad", "rad", "pix", "pix"], unitsout=["pix"] * 4)
        x, y = int(round(p[0])), int(round(p[1]))
        if not (BOX <= x < 1024 - BOX and BOX <= y < 1024 - BOX):
            continue
        wp = runs["wproject"]["pix"]
        cut = wp[x - 3:x + 4, y - 3:y + 4]
        dx, dy = np.unravel_index(np.argmax(cut), cut.shape)
        px, py = x - 3 + dx, y - 3 + dy
        if wp[px, py] < 0.02:
            continue
        x0, y0 = px - BOX, py - BOX
        boxes.append(dict(
            ra_deg=c["ra_deg"], dec_deg=c["dec_deg"], flux_jy=c["flux_jy"],
            pb=float(pbpix[px, py]), source_pixel=[float(p[0]), float(p[1])],
            peak_pixel=[int(px), int(py)], x0=int(x0), y0=int(y0),
            wproject=wp[x0:x0 + 2 * BOX + 1, y0:y0 + 2 * BOX + 1].T.tolist(),
            standard=runs["standard"]["pix"][x0:x0 + 2 * BOX + 1, y0:y0 + 2 * BOX + 1].T.tolist(),
        ))
    version = casatools.version_string()
    ref = dict(
        provenance="scripts/dev/make_widefield_subset.py (tclean from casatasks " + version + ")",
        params={k: v["params"] for k, v in runs.items()},
        sumwt={k: v["sumwt"] for k, v in runs.items()},
        box_layout="rows y (Dec), columns x (RA), Jy/beam; box[j][i] is pixel (x0 + i, y0 + j)",
        boxes=boxes,
    )
    with open(os.path.join(out, "widefield_wproject.json"), "w") as f:
        json.dump(ref, f, indent=1)
    subprocess.check_call(["tar", "czf", os.path.join(out, "vla_widefield_sub.ms.tar.gz"),
                           "-C", work, "widefield_sub.ms"])


if __name__ == "__main__":
    main(*sys.argv[1:4])
