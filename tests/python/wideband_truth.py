"""Flux density and spectral index of vla_wideband's simulated sources (`vla_wideband.sky.json`)
measured from restored mtmfs Taylor images, and what a perfect imager would give for them.

Measuring: the restored `image.tt0` and `image.tt1` are fitted, at every source's true position
(sub-pixel), by one restoring-beam Gaussian per source, all amplitudes together (a linear least
squares over the pixels within one beam FWHM of any source): a source between pixels does not read
low, and neighbours are separated. Sources closer than the beam's minor axis cannot be separated:
they are fitted as one (flux-weighted position) and compared with their summed spectrum.

Expected: the simulated visibilities carry the primary beam, so the apparent spectrum of a source
of flux S0 (at nu0) and index a at distance r from the centre is
`S(nu) = S0 (nu/nu0)^a PB(r nu/nu0)` (the beam scales with 1/nu; PB is the radial profile of
`.pb.tt0`, the beam at nu0). mtmfs with nterms N fits `I0 + I1 x + ..` (N terms), `x = (nu - nu0)/nu0`,
to it in the least-squares sense over the data's weights. With 2 terms that fit is not `S0` and `a` even for a perfect
imager: with a 68% band the power law's curvature moves I0 by `a (a - 1)/2 <x^2>` (4% for a = -1)
and I1/I0 by as much; the beam adds `r dlnPB/dr` to the index. So the expected (I0, I1) are that fit
of the true S(nu) over the selected channels, with the channel weights taken linear in x and
matched to the run's `sumwt.tt1 / sumwt.tt0` (the mean x of the imaging weights). The truth is
recovered as `S0 I0_meas / I0_exp` and `a + I1/I0_meas - I1/I0_exp`.
"""
import json

import numpy as np

ARCSEC = 206264.80624709636
FWHM_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


def beam_covariance(bmaj, bmin, bpa_deg, cell_arcsec):
    """Pixel covariance of the restoring beam; x = RA pixel (east to the left), PA north through east."""
    s1, s2 = bmaj / cell_arcsec / FWHM_SIGMA, bmin / cell_arcsec / FWHM_SIGMA
    t = np.radians(bpa_deg)
    u = np.array([-np.sin(t), np.cos(t)])
    v = np.array([np.cos(t), np.sin(t)])
    return s1 ** 2 * np.outer(u, u) + s2 ** 2 * np.outer(v, v)


def source_pixels(sky, cell_arcsec, shape):
    """(x, y) pixel of each component (SIN about the phase centre at pixel (n/2, n/2))."""
    ra0, dec0 = np.radians(sky["phase_centre_deg"])
    ny, nx = shape
    cell = cell_arcsec / ARCSEC
    out = []
    for c in sky["components"]:
        ra, dec = np.radians(c["ra_deg"]), np.radians(c["dec_deg"])
        l = np.cos(dec) * np.sin(ra - ra0)
        m = np.sin(dec) * np.cos(dec0) - np.cos(dec) * np.sin(dec0) * np.cos(ra - ra0)
        out.append((nx // 2 - l / cell, ny // 2 + m / cell))
    return out


def groups(pix, sky, sep_pixels):
    """Components closer than `sep_pixels` merged (lists of component indices)."""
    out = []
    for i, p in enumerate(pix):
        for g in out:
            if any(np.hypot(p[0] - pix[j][0], p[1] - pix[j][1]) < sep_pixels for j in g):
                g.append(i)
                break
        else:
            out.append([i])
    return out


def fit_amplitudes(images, centres, cov):
    """Joint linear fit of one beam Gaussian (peak 1) per centre to each image; returns
    amplitudes[image][centre]."""
    ny, nx = images[0].shape
    yy, xx = np.mgrid[0:ny, 0:nx]
    ci = np.linalg.inv(cov)
    fwhm = FWHM_SIGMA * np.sqrt(np.linalg.eigvalsh(cov).max())
    near = np.zeros((ny, nx), bool)
    for x0, y0 in centres:
        near |= np.hypot(xx - x0, yy - y0) <= fwhm
    cols = []
    for x0, y0 in centres:
        dx, dy = xx[near] - x0, yy[near] - y0
        q = ci[0, 0] * dx * dx + 2 * ci[0, 1] * dx * dy + ci[1, 1] * dy * dy
        cols.append(np.exp(-0.5 * q))
    a = np.stack(cols, axis=1)
    return [np.linalg.lstsq(a, img[near], rcond=None)[0] for img in images]


def pb_profile(pb):
    """PB(r) in pixels from the image (azimuthal mean in 0.5-pixel bins), as an interpolator."""
    ny, nx = pb.shape
    yy, xx = np.mgrid[0:ny, 0:nx]
    r = np.hypot(xx - nx // 2, yy - ny // 2).ravel()
    v = np.nan_to_num(pb.ravel())
    bins = np.arange(0, r.max() + 1, 0.5)
    idx = np.digitize(r, bins)
    prof = np.array([v[idx == i].mean() if np.any(idx == i) else np.nan for i in range(1, len(bins))])
    centres = 0.5 * (bins[1:] + bins[:-1])
    ok = np.isfinite(prof)
    return lambda rr: np.interp(rr, centres[ok], prof[ok])


def channel_weights(freqs, nu0, mean_x):
    """Weights linear in x = (nu - nu0)/nu0 with the given weighted mean of x."""
    x = (np.asarray(freqs) - nu0) / nu0
    # w = 1 + k (x - <x>_1): sum w x / sum w = <x>_1 + k var_1(x) = mean_x.
    k = (mean_x - x.mean()) / x.var()
    w = 1.0 + k * (x - x.mean())
    return x, w


def expected_taylor(spectra, x, w, nterms):
    """Weighted least-squares Taylor coefficients (I0, I1, ..) of each spectrum over x."""
    a = np.stack([x ** t for t in range(nterms)], axis=1) * np.sqrt(w)[:, None]
    return [np.linalg.lstsq(a, s * np.sqrt(w), rcond=None)[0] for s in spectra]


def measure(tt0, tt1, pb, beam, cell_arcsec, sky, freqs, nu0, mean_x, nterms=2):
    """Per source group: dict(ids, flux_true, flux, alpha_true, alpha, apparent (fitted I0), pb)."""
    cov = beam_covariance(*beam, cell_arcsec)
    pix = source_pixels(sky, cell_arcsec, tt0.shape)
    comps = sky["components"]
    gs = groups(pix, sky, 0.5 * beam[1] / cell_arcsec)
    prof = pb_profile(pb)
    ny, nx = tt0.shape
    x, w = channel_weights(freqs, nu0, mean_x)
    centres, spectra = [], []
    for g in gs:
        fl = np.array([comps[j]["flux_jy"] for j in g])
        cx = sum(pix[j][0] * f for j, f in zip(g, fl)) / fl.sum()
        cy = sum(pix[j][1] * f for j, f in zip(g, fl)) / fl.sum()
        centres.append((cx, cy))
        s = np.zeros_like(x)
        for j in g:
            r = np.hypot(pix[j][0] - nx // 2, pix[j][1] - ny // 2)
            nu = nu0 * (1 + x)
            s += comps[j]["flux_jy"] * (nu / nu0) ** comps[j]["spectral_index"] * prof(r * nu / nu0)
        spectra.append(s)
    a0, a1 = fit_amplitudes([tt0, tt1], centres, cov)
    exp = expected_taylor(spectra, x, w, nterms)
    out = []
    for i, g in enumerate(gs):
        f0 = sum(comps[j]["flux_jy"] for j in g)
        # The group's true index: the log-slope of its summed intrinsic spectrum at nu0.
        at = sum(comps[j]["flux_jy"] * comps[j]["spectral_index"] for j in g) / f0
        e0, e1 = exp[i][0], exp[i][1]
        out.append(dict(ids=g, flux_true=f0, flux=f0 * a0[i] / e0, alpha_true=at,
                        alpha=at + a1[i] / a0[i] - e1 / e0, apparent=a0[i],
                        pb=float(prof(np.hypot(centres[i][0] - nx // 2, centres[i][1] - ny // 2)))))
    return out


def ms_channel_freqs(ms):
    """Every channel frequency (Hz) of the MS's spectral windows."""
    from casacore.tables import table
    t = table(str(ms) + "/SPECTRAL_WINDOW", ack=False)
    f = np.concatenate([t.getcell("CHAN_FREQ", i) for i in range(t.nrows())])
    t.close()
    return f


def load_sky(path):
    return json.loads(open(path).read())
