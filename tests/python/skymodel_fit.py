"""Recover alma_sim's true components from a restored image by a joint least-squares fit.

Each component of testdata/sky_model.json becomes a Gaussian in the restored image: its true shape
(a point or an elliptical Gaussian) convolved with the restoring beam, in Jy/beam per Jy. Positions
and fluxes of all components are fitted together because several overlap; components closer than
half the beam's minor axis cannot be separated and are fitted as one (summed flux, flux-weighted
position). The simulated visibilities carry no primary-beam attenuation (isolated points at pb
0.65-0.98 have apparent peak = true flux within 1%), so no pb factor enters the model.
"""
import json

import numpy as np
from scipy.optimize import least_squares

from compare import ARCSEC, casa_beams, load_casa


def covariance(maj_arcsec, min_arcsec, pa_deg, cell_arcsec):
    """Pixel covariance of a Gaussian; x = RA pixel (east to the left), PA north through east."""
    s1, s2 = maj_arcsec / cell_arcsec / 2.3548, min_arcsec / cell_arcsec / 2.3548
    t = np.radians(pa_deg)
    u = np.array([-np.sin(t), np.cos(t)])
    v = np.array([np.cos(t), np.sin(t)])
    return s1 ** 2 * np.outer(u, u) + s2 ** 2 * np.outer(v, v)


def recover(prefix, sky_path, pb_min=0.25, chan=0):
    img, im = load_casa(str(prefix) + ".image")
    res, _ = load_casa(str(prefix) + ".residual")
    pb, _ = load_casa(str(prefix) + ".pb")
    img, res, pb = img[chan, 0], res[chan, 0], pb[chan, 0]
    cs = im.coordinates()
    dec0, ra0 = cs.get_referencevalue()[2]
    freq = im.toworld([chan, 0, 0, 0])[0]
    cell = abs(cs.get_increment()[2][1]) * ARCSEC
    beams = casa_beams(im)
    bmaj, bmin, bpa = beams[chan if len(beams) > 1 else 0]
    ny, nx = img.shape
    yy, xx = np.mgrid[0:ny, 0:nx]
    use = pb > pb_min
    rms = float(np.std(res[use]))
    cb = covariance(bmaj, bmin, bpa, cell)
    comps = []
    for c in json.load(open(sky_path)):
        ra, dec = c["ra_rad"], c["dec_rad"]
        l = np.cos(dec) * np.sin(ra - ra0)
        m = np.sin(dec) * np.cos(dec0) - np.cos(dec) * np.sin(dec0) * np.cos(ra - ra0)
        x, y = nx // 2 - l / (cell / ARCSEC), ny // 2 + m / (cell / ARCSEC)
        flux = c["flux_jy_I_230GHz"] * (freq / 230e9) ** c["spectral_index"]
        cov = cb + (covariance(c["major_arcsec"], c["minor_arcsec"], c["pa_deg"], cell) if c["shape"] == "gaussian" else 0)
        for mc in comps:
            if c["shape"] == "point" and mc["shape"] in ("point", "blend") and np.hypot(x - mc["x"], y - mc["y"]) * cell < 0.5 * bmin:
                tot = mc["flux"] + flux
                mc["x"], mc["y"] = (mc["x"] * mc["flux"] + x * flux) / tot, (mc["y"] * mc["flux"] + y * flux) / tot
                mc["flux"], mc["shape"] = tot, "blend"
                break
        else:
            comps.append(dict(x=x, y=y, flux=flux, cov=cov, shape=c["shape"]))

    def template(x0, y0, cov):
        ci = np.linalg.inv(cov)
        dx, dy = xx[use] - x0, yy[use] - y0
        q = ci[0, 0] * dx * dx + 2 * ci[0, 1] * dx * dy + ci[1, 1] * dy * dy
        return np.sqrt(np.linalg.det(cb) / np.linalg.det(cov)) * np.exp(-0.5 * q)

    def resid(p):
        model = sum(p[3 * j + 2] * template(p[3 * j], p[3 * j + 1], c["cov"]) for j, c in enumerate(comps))
        return model - img[use]

    p0 = np.concatenate([[c["x"], c["y"], c["flux"]] for c in comps])
    p = least_squares(resid, p0).x
    out = []
    for j, c in enumerate(comps):
        peak = c["flux"] * np.sqrt(np.linalg.det(cb) / np.linalg.det(c["cov"]))
        out.append(dict(shape=c["shape"], flux=c["flux"], snr=peak / rms, flux_err=p[3 * j + 2] / c["flux"] - 1,
                        offset_beam=np.hypot(p[3 * j] - c["x"], p[3 * j + 1] - c["y"]) * cell / np.sqrt(bmaj * bmin)))
    return out, rms
