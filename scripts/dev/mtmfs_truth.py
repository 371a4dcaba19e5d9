"""Flux and spectral index of each simulated source of vla_wideband against the truth
(vla_wideband.sky.json), for a pclean mtmfs run (CASA images) and, for comparison, tclean's
reference (FITS). The sources were simulated through the primary beam: the restored tt0 peak is
divided by .pb.tt0 at the source, and the beam's own spectral index r dlnPB/dr (the beam scales
with 1/nu) is removed from alpha.
Usage: mtmfs_truth.py PCLEAN_PREFIX SKY_JSON [TCLEAN_PREFIX]   (prints per source, exit 1 on a miss
of 3% in flux or 0.1 in alpha)"""
import sys, json, numpy as np


def load(path):
    if path.endswith('.fits.gz') or path.endswith('.fits'):
        from astropy.io import fits
        return fits.open(path)[0].data[0, 0].astype(float)
    from casacore.images import image
    return np.asarray(image(path).getdata()[0, 0], dtype=float)


def pixel(ra, dec, ra0, dec0, cell_deg, n):
    """SIN projection pixel (x, y) of (ra, dec) for an image centred at (n/2, n/2), RA to the left."""
    r = np.radians
    l = np.cos(r(dec)) * np.sin(r(ra - ra0))
    m = np.sin(r(dec)) * np.cos(r(dec0)) - np.cos(r(dec)) * np.sin(r(dec0)) * np.cos(r(ra - ra0))
    c = np.radians(cell_deg)
    return n // 2 - l / c, n // 2 + m / c


def measure(i0, alpha, pb, sky, cell_deg=3.75 / 3600):
    n = i0.shape[0]
    ra0, dec0 = sky['phase_centre_deg']
    yy, xx = np.indices(pb.shape)
    out = []
    for s in sky['components']:
        x, y = pixel(s['ra_deg'], s['dec_deg'], ra0, dec0, cell_deg, n)
        xi, yi = int(round(x)), int(round(y))
        box = i0[yi - 2:yi + 3, xi - 2:xi + 3]
        j = np.unravel_index(np.nanargmax(box), box.shape)
        py, px = yi - 2 + j[0], xi - 2 + j[1]
        # The beam's spectral index at the source: r dlnPB/dr with r the distance to the centre.
        rr = np.hypot(py - n // 2, px - n // 2)
        d = 1.0
        gy, gx = np.gradient(np.log(np.maximum(pb, 1e-6)))
        dlnpb = (gy[py, px] * (py - n // 2) + gx[py, px] * (px - n // 2)) / max(rr, 1e-6)
        out.append((i0[py, px] / pb[py, px], alpha[py, px] - rr * dlnpb, s['flux_jy'],
                    s['spectral_index'], pb[py, px]))
    return out


def main():
    pre, skyf = sys.argv[1], sys.argv[2]
    sky = json.load(open(skyf))
    ours = measure(load(pre + '.image.tt0'), load(pre + '.alpha'), load(pre + '.pb.tt0'), sky)
    ref = None
    if len(sys.argv) > 3:
        t = sys.argv[3]
        pbf = '/'.join(t.split('/')[:-1]) + '/tclean_mtmfs_dirty.pb.tt0.fits.gz'
        ref = measure(load(t + '.image.tt0.fits.gz'), load(t + '.alpha.fits.gz'), load(pbf), sky)
    bad = 0
    print('src  flux_true  flux_ours  err%  alpha_true alpha_ours  d_alpha   pb   | tclean: err% d_alpha')
    for i, (f, a, ft, at, pb) in enumerate(ours):
        e, da = 100 * (f / ft - 1), a - at
        ok = abs(e) <= 3 and abs(da) <= 0.1
        bad += not ok
        line = f'{i:3d} {ft:9.4f} {f:9.4f} {e:6.2f} {at:9.3f} {a:9.3f} {da:8.3f} {pb:6.3f}'
        if ref:
            rf, ra, *_ = ref[i]
            line += f' | {100 * (rf / ft - 1):6.2f} {ra - at:7.3f}'
        print(line + ('' if ok else '  MISS'))
    print(f'{len(ours) - bad}/{len(ours)} sources within 3% flux and 0.1 alpha')
    sys.exit(1 if bad else 0)


main()
