#!/usr/bin/env python3
"""Write an ALMA-like synthetic MeasurementSet with python-casacore.

The array is a compact ALMA-like configuration of 12 m antennas around the ALMA site (longest
baseline about ``--max-baseline`` metres), observing one field near declination -30 deg (it
transits close to the zenith at ALMA and stays up for hours) centred on transit. The spectral
window is TOPO (MEAS_FREQ_REF = 5), correlations XX and YY, no autocorrelations (they are not
written at all). UVW are J2000 coordinates computed with casacore's measures (the same conversion
CASA's simulator uses), with CASA's convention uvw = uvw(ANTENNA2) - uvw(ANTENNA1).

DATA holds the exact visibilities of a few point sources and one elliptical Gaussian (with a
spectral line on top of its continuum), computed with a vectorised direct Fourier transform
(including the w term; CASA's sign, V = sum S exp(+2 pi i (u l + v m + w (n - 1)))), plus
Gaussian thermal noise from the radiometer equation: ``sigma = SEFD / (eta * sqrt(2 * chanwidth * integration))`` per real and imaginary part, with
``SEFD = 2 k Tsys / (eta_a * pi * D^2 / 4)``. WEIGHT = 1 / SIGMA^2 per correlation, FLAG false.
The model sky is written next to the MS as ``<ms>.skymodel.json`` (positions, flux densities, the
expected channel-0 peak of the brightest source).

Example (defaults: 43 antennas, 64 channels of 1 MHz at 230 GHz, 1 h at 30 s -> 108 360 rows)::

    python3 bench/make_synthetic_ms.py --out /tmp/synth.ms

Needs numpy and python-casacore; without them the script re-executes itself under
bench/.venv-bench (made by bench/setup_peers.sh).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time

try:
    import numpy as np
except ImportError:  # main() re-executes under bench/.venv-bench
    np = None

C = 299792458.0
ARCSEC = math.pi / (180.0 * 3600.0)
BOLTZMANN = 1.380649e-23
JY = 1e-26

# ALMA array reference point (geodetic WGS84).
ALMA_LON_DEG = -67.754748
ALMA_LAT_DEG = -23.029211
ALMA_HEIGHT_M = 5058.7


def parse_args(argv=None):
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", default="synth_alma.ms", help="MeasurementSet to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing MS")
    p.add_argument("--nant", type=int, default=43, help="number of 12 m antennas")
    p.add_argument("--max-baseline", type=float, default=500.0,
                   help="approximate longest baseline in metres")
    p.add_argument("--nchan", type=int, default=64, help="channels in the spectral window")
    p.add_argument("--freq", type=float, default=230e9, help="centre of the first channel (Hz)")
    p.add_argument("--chanwidth", type=float, default=1e6, help="channel width (Hz)")
    p.add_argument("--hours", type=float, default=1.0, help="observation length, centred on transit")
    p.add_argument("--integration", type=float, default=30.0, help="integration time (s)")
    p.add_argument("--ra", type=float, default=240.0, help="phase-centre RA, J2000 (deg)")
    p.add_argument("--dec", type=float, default=-30.0, help="phase-centre Dec, J2000 (deg)")
    p.add_argument("--date", default="2025-06-01",
                   help="UTC date; the observation is centred on the field's transit that day")
    p.add_argument("--tsys", type=float, default=100.0, help="system temperature (K)")
    p.add_argument("--noise", type=float, default=None,
                   help="override: noise sigma per real/imag part of one visibility (Jy)")
    p.add_argument("--seed", type=int, default=12345, help="random seed (layout and noise)")
    p.add_argument("--chunk-rows", type=int, default=20000, help="rows computed and written at once")
    p.add_argument("--data-stman", choices=["TiledShapeStMan", "TiledColumnStMan"],
                   default="TiledShapeStMan",
                   help="storage manager of DATA and FLAG (casa-rs's imager reads TiledShapeStMan only)")
    return p.parse_args(argv)


# ----------------------------------------------------------------------------------------------
# Array geometry
# ----------------------------------------------------------------------------------------------

def antenna_layout_enu(nant, max_baseline, rng, min_sep=15.0):
    """Compact ALMA-like layout: east/north/up offsets (m) from the array centre.

    Antennas are drawn in a disc of radius ``max_baseline / 2`` with a density falling off with
    radius (a centrally condensed distribution, as ALMA's compact configurations), keeping at least
    ``min_sep`` metres between pads, with a small random height scatter.
    """
    radius = 0.5 * max_baseline
    pos = []
    while len(pos) < nant:
        # r ~ radius * u**0.75 concentrates pads towards the centre
        r = radius * rng.uniform() ** 0.75
        phi = rng.uniform(0.0, 2.0 * math.pi)
        e, n = r * math.cos(phi), r * math.sin(phi)
        if all((e - q[0]) ** 2 + (n - q[1]) ** 2 >= min_sep ** 2 for q in pos):
            pos.append((e, n, rng.normal(0.0, 1.0)))
    return np.array(pos)


def geodetic_to_itrf(lon_deg, lat_deg, h):
    """WGS84 geodetic coordinates to ITRF (geocentric x, y, z) in metres."""
    a, f = 6378137.0, 1.0 / 298.257223563
    e2 = f * (2.0 - f)
    lon, lat = math.radians(lon_deg), math.radians(lat_deg)
    nrad = a / math.sqrt(1.0 - e2 * math.sin(lat) ** 2)
    return np.array([(nrad + h) * math.cos(lat) * math.cos(lon),
                     (nrad + h) * math.cos(lat) * math.sin(lon),
                     (nrad * (1.0 - e2) + h) * math.sin(lat)])


def enu_to_itrf(enu, lon_deg, lat_deg, h):
    """Local east/north/up offsets (m) around a geodetic point to ITRF positions (m)."""
    lon, lat = math.radians(lon_deg), math.radians(lat_deg)
    sl, cl, sp, cp = math.sin(lon), math.cos(lon), math.sin(lat), math.cos(lat)
    # columns: unit vectors east, north, up in ITRF
    rot = np.array([[-sl, -sp * cl, cp * cl],
                    [cl, -sp * sl, cp * sl],
                    [0.0, cp, sp]])
    return geodetic_to_itrf(lon_deg, lat_deg, h)[None, :] + enu @ rot.T


# ----------------------------------------------------------------------------------------------
# Time and UVW
# ----------------------------------------------------------------------------------------------

def alma_position(dm, qa):
    """casacore position measure of the array reference point."""
    return dm.position("WGS84", qa.quantity(ALMA_LON_DEG, "deg"), qa.quantity(ALMA_LAT_DEG, "deg"),
                       qa.quantity(ALMA_HEIGHT_M, "m"))


def transit_mjd(dm, qa, ra_deg, date):
    """MJD (UTC days) of the field's upper transit closest to 12h UTC of ``date``."""
    dm.do_frame(alma_position(dm, qa))
    noon = dm.epoch("UTC", date + "/12:00:00")
    mjd = noon["m0"]["value"]
    last = dm.measure(noon, "LAST")["m0"]["value"]  # days; fractional part = LAST / 24h
    ha_turns = (last - ra_deg / 360.0) % 1.0
    if ha_turns > 0.5:
        ha_turns -= 1.0
    # sidereal to solar time
    return mjd - ha_turns / 1.002737909350795


def antenna_uvw(dm, qa, itrf, ra_deg, dec_deg, times_mjd_s):
    """J2000 uvw (m) of every antenna position at every time: array (ntime, nant, 3).

    casacore's ``to_uvw`` takes the ITRF position vectors as baselines from the geocentre; their
    differences are the baseline uvw (the conversion is linear).
    """
    dm.do_frame(alma_position(dm, qa))
    dm.do_frame(dm.direction("J2000", qa.quantity(ra_deg, "deg"), qa.quantity(dec_deg, "deg")))
    # subtract the array centre first, so the large geocentric vectors do not cost precision
    centre = itrf.mean(axis=0)
    rel = itrf - centre
    bl = dm.baseline("ITRF", qa.quantity(rel[:, 0], "m"), qa.quantity(rel[:, 1], "m"),
                     qa.quantity(rel[:, 2], "m"))
    out = np.empty((len(times_mjd_s), itrf.shape[0], 3))
    for k, t in enumerate(times_mjd_s):
        dm.do_frame(dm.epoch("UTC", qa.quantity(t, "s")))
        xyz = dm.to_uvw(bl)["xyz"].get_value("m")
        out[k] = np.asarray(xyz, dtype=float).reshape(-1, 3)
    return out


# ----------------------------------------------------------------------------------------------
# Sky model and visibilities
# ----------------------------------------------------------------------------------------------

def sky_model(nchan):
    """Components: offsets (arcsec, l east / m north), flux at the reference frequency (Jy),
    spectral index; the Gaussian also has a line (peak channel, FWHM in channels, integrated Jy)."""
    return {
        "points": [
            {"l_arcsec": 0.0, "m_arcsec": 0.0, "flux_jy": 1.0, "spix": 0.0},
            {"l_arcsec": 4.0, "m_arcsec": 2.5, "flux_jy": 0.5, "spix": -0.8},
            {"l_arcsec": -5.5, "m_arcsec": 3.0, "flux_jy": 0.3, "spix": 2.0},
            {"l_arcsec": 2.0, "m_arcsec": -6.0, "flux_jy": 0.2, "spix": 0.0},
            {"l_arcsec": -3.0, "m_arcsec": -4.0, "flux_jy": 0.1, "spix": -1.0},
        ],
        "gaussians": [
            {"l_arcsec": -2.0, "m_arcsec": 6.0, "flux_jy": 0.4, "spix": 0.0,
             "major_arcsec": 2.0, "minor_arcsec": 1.0, "pa_deg": 30.0,
             "line_peak_chan": 0.6 * (nchan - 1), "line_fwhm_chan": max(1.0, nchan / 8.0),
             "line_flux_jy": 0.6},
        ],
    }


def component_spectra(model, freqs, ref_freq):
    """Flux density (Jy) of every component at every channel: list of arrays (nchan,)."""
    chans = np.arange(len(freqs))
    out = []
    for p in model["points"]:
        out.append(p["flux_jy"] * (freqs / ref_freq) ** p["spix"])
    for g in model["gaussians"]:
        s = g["flux_jy"] * (freqs / ref_freq) ** g["spix"]
        sig = g["line_fwhm_chan"] / (2.0 * math.sqrt(2.0 * math.log(2.0)))
        s = s + g["line_flux_jy"] * np.exp(-0.5 * ((chans - g["line_peak_chan"]) / sig) ** 2)
        out.append(s)
    return out


def lm_to_radec(l, m, ra0, dec0):
    """Direction cosines (rad) about (ra0, dec0) (rad) to RA, Dec (rad) (SIN projection)."""
    n = math.sqrt(1.0 - l * l - m * m)
    dec = math.asin(m * math.cos(dec0) + n * math.sin(dec0))
    ra = ra0 + math.atan2(l, n * math.cos(dec0) - m * math.sin(dec0))
    return ra, dec


def predict(uvw, freqs, model, spectra):
    """Model visibilities (nrow, nchan) of all components for uvw (nrow, 3) in metres.

    V(u, v, w) = sum_k S_k(nu) G_k(u, v) exp(+2 pi i (u l_k + v m_k + w (n_k - 1))) with u, v, w in
    wavelengths, G_k the Fourier transform of a Gaussian's shape (1 for points). The sign is CASA's
    measurement equation for uvw = uvw(ANTENNA2) - uvw(ANTENNA1), as CASA's simulator writes
    them (checked: tclean puts every component at its catalogue position).
    """
    scale = freqs[None, :] / C  # metres -> wavelengths
    vis = np.zeros((uvw.shape[0], len(freqs)), dtype=np.complex128)
    comps = [(c, None) for c in model["points"]] + [(c, "g") for c in model["gaussians"]]
    for (comp, kind), spec in zip(comps, spectra):
        l, m = comp["l_arcsec"] * ARCSEC, comp["m_arcsec"] * ARCSEC
        n = math.sqrt(1.0 - l * l - m * m)
        path = uvw[:, 0] * l + uvw[:, 1] * m + uvw[:, 2] * (n - 1.0)  # metres
        term = np.exp((2j * math.pi) * (path[:, None] * scale))
        if kind == "g":
            pa = math.radians(comp["pa_deg"])
            umaj = (uvw[:, 0] * math.sin(pa) + uvw[:, 1] * math.cos(pa))[:, None] * scale
            umin = (uvw[:, 0] * math.cos(pa) - uvw[:, 1] * math.sin(pa))[:, None] * scale
            a, b = comp["major_arcsec"] * ARCSEC, comp["minor_arcsec"] * ARCSEC
            term *= np.exp(-(math.pi ** 2 / (4.0 * math.log(2.0))) * (a * a * umaj ** 2 + b * b * umin ** 2))
        vis += term * spec[None, :]
    return vis


def thermal_sigma(tsys, chanwidth, integration, diameter=12.0, eta_a=0.7, eta_c=0.88):
    """Radiometer-equation noise (Jy) per real/imaginary part of one visibility."""
    sefd = 2.0 * BOLTZMANN * tsys / (eta_a * math.pi * diameter ** 2 / 4.0) / JY
    return sefd / (eta_c * math.sqrt(2.0 * chanwidth * integration))


# ----------------------------------------------------------------------------------------------
# MeasurementSet writing
# ----------------------------------------------------------------------------------------------

def create_ms(tables, path, nchan, ncorr, data_stman="TiledShapeStMan"):
    """Empty MS with fixed-shape DATA/FLAG/WEIGHT/SIGMA in tiled storage managers; DATA and FLAG
    in `data_stman` (TiledShapeStMan, as CASA's simulator and importasdm write them, is the one
    casa-rs's imager reads; TiledColumnStMan the alternative)."""
    data_desc = tables.makearrcoldesc("DATA", 0j, shape=[nchan, ncorr], valuetype="complex",
                                      comment="The data column")
    flag_desc = tables.makearrcoldesc("FLAG", False, shape=[nchan, ncorr], valuetype="boolean",
                                      comment="The data flags")
    weight_desc = tables.makearrcoldesc("WEIGHT", 1.0, shape=[ncorr], valuetype="float",
                                        comment="Weight for each polarization spectrum")
    sigma_desc = tables.makearrcoldesc("SIGMA", 1.0, shape=[ncorr], valuetype="float",
                                       comment="Estimated rms noise for channel with unity bandpass response")
    td = tables.maketabdesc([data_desc, flag_desc, weight_desc, sigma_desc])
    tile_rows = max(1, 65536 // (nchan * ncorr))
    dminfo = {
        "*1": {"TYPE": data_stman, "NAME": "TiledData",
               "SPEC": {"DEFAULTTILESHAPE": np.array([ncorr, nchan, tile_rows], dtype=np.int32)},
               "COLUMNS": ["DATA"]},
        "*2": {"TYPE": data_stman, "NAME": "TiledFlag",
               "SPEC": {"DEFAULTTILESHAPE": np.array([ncorr, nchan, tile_rows * 8], dtype=np.int32)},
               "COLUMNS": ["FLAG"]},
        "*3": {"TYPE": "TiledColumnStMan", "NAME": "TiledWeight",
               "SPEC": {"DEFAULTTILESHAPE": np.array([ncorr, 4096], dtype=np.int32)},
               "COLUMNS": ["WEIGHT"]},
        "*4": {"TYPE": "TiledColumnStMan", "NAME": "TiledSigma",
               "SPEC": {"DEFAULTTILESHAPE": np.array([ncorr, 4096], dtype=np.int32)},
               "COLUMNS": ["SIGMA"]},
    }
    return tables.default_ms(path, td, dminfo)


def fill_subtables(tables, path, args, itrf, freqs, t0, t1, ra, dec):
    """ANTENNA, FEED, SPECTRAL_WINDOW, POLARIZATION, DATA_DESCRIPTION, FIELD, OBSERVATION, STATE,
    PROCESSOR (POINTING, HISTORY, FLAG_CMD stay empty)."""
    nant = itrf.shape[0]
    with tables.table(path + "/ANTENNA", readonly=False, ack=False) as t:
        t.addrows(nant)
        t.putcol("NAME", [f"DA{41 + i:02d}" if i < 24 else f"DV{i - 23:02d}" for i in range(nant)])
        t.putcol("STATION", [f"A{i + 1:03d}" for i in range(nant)])
        t.putcol("TYPE", ["GROUND-BASED"] * nant)
        t.putcol("MOUNT", ["ALT-AZ"] * nant)
        t.putcol("POSITION", itrf)
        t.putcol("OFFSET", np.zeros((nant, 3)))
        t.putcol("DISH_DIAMETER", np.full(nant, 12.0))
        t.putcol("FLAG_ROW", np.zeros(nant, bool))

    with tables.table(path + "/FEED", readonly=False, ack=False) as t:
        t.addrows(nant)
        t.putcol("ANTENNA_ID", np.arange(nant, dtype=np.int32))
        t.putcol("FEED_ID", np.zeros(nant, np.int32))
        t.putcol("SPECTRAL_WINDOW_ID", np.full(nant, -1, np.int32))
        t.putcol("TIME", np.full(nant, 0.5 * (t0 + t1)))
        t.putcol("INTERVAL", np.full(nant, t1 - t0))
        t.putcol("NUM_RECEPTORS", np.full(nant, 2, np.int32))
        t.putcol("BEAM_ID", np.full(nant, -1, np.int32))
        t.putcol("BEAM_OFFSET", np.zeros((nant, 2, 2)))
        t.putcol("POLARIZATION_TYPE", np.array([["X", "Y"]] * nant))
        t.putcol("POL_RESPONSE", np.tile(np.eye(2, dtype=np.complex64), (nant, 1, 1)))
        t.putcol("POSITION", np.zeros((nant, 3)))
        t.putcol("RECEPTOR_ANGLE", np.tile([-0.25 * math.pi, 0.25 * math.pi], (nant, 1)))

    nchan = len(freqs)
    with tables.table(path + "/SPECTRAL_WINDOW", readonly=False, ack=False) as t:
        t.addrows(1)
        t.putcell("NUM_CHAN", 0, nchan)
        t.putcell("NAME", 0, "ALMA_RB_06#BB_1#SW-01#FULL_RES")
        t.putcell("REF_FREQUENCY", 0, float(freqs[0]))
        t.putcell("CHAN_FREQ", 0, freqs)
        t.putcell("CHAN_WIDTH", 0, np.full(nchan, args.chanwidth))
        t.putcell("EFFECTIVE_BW", 0, np.full(nchan, args.chanwidth))
        t.putcell("RESOLUTION", 0, np.full(nchan, args.chanwidth))
        t.putcell("MEAS_FREQ_REF", 0, 5)  # TOPO
        t.putcell("TOTAL_BANDWIDTH", 0, nchan * args.chanwidth)
        t.putcell("NET_SIDEBAND", 0, 1)
        t.putcell("IF_CONV_CHAIN", 0, 0)
        t.putcell("FREQ_GROUP", 0, 0)
        t.putcell("FREQ_GROUP_NAME", 0, "")
        t.putcell("FLAG_ROW", 0, False)

    with tables.table(path + "/POLARIZATION", readonly=False, ack=False) as t:
        t.addrows(1)
        t.putcell("NUM_CORR", 0, 2)
        t.putcell("CORR_TYPE", 0, np.array([9, 12], np.int32))  # XX, YY
        t.putcell("CORR_PRODUCT", 0, np.array([[0, 0], [1, 1]], np.int32))
        t.putcell("FLAG_ROW", 0, False)

    with tables.table(path + "/DATA_DESCRIPTION", readonly=False, ack=False) as t:
        t.addrows(1)
        t.putcell("SPECTRAL_WINDOW_ID", 0, 0)
        t.putcell("POLARIZATION_ID", 0, 0)
        t.putcell("FLAG_ROW", 0, False)

    with tables.table(path + "/FIELD", readonly=False, ack=False) as t:
        t.addrows(1)
        d = np.array([[ra, dec]])
        t.putcell("NAME", 0, "SYNTH_FIELD")
        t.putcell("CODE", 0, "")
        t.putcell("TIME", 0, t0)
        t.putcell("NUM_POLY", 0, 0)
        t.putcell("DELAY_DIR", 0, d)
        t.putcell("PHASE_DIR", 0, d)
        t.putcell("REFERENCE_DIR", 0, d)
        t.putcell("SOURCE_ID", 0, -1)
        t.putcell("FLAG_ROW", 0, False)

    with tables.table(path + "/OBSERVATION", readonly=False, ack=False) as t:
        t.addrows(1)
        t.putcell("TELESCOPE_NAME", 0, "ALMA")
        t.putcell("TIME_RANGE", 0, np.array([t0, t1]))
        t.putcell("OBSERVER", 0, "pclean-bench")
        t.putcell("PROJECT", 0, "synthetic")
        t.putcell("SCHEDULE_TYPE", 0, "")
        t.putcell("RELEASE_DATE", 0, t0)
        t.putcell("FLAG_ROW", 0, False)

    with tables.table(path + "/STATE", readonly=False, ack=False) as t:
        t.addrows(1)
        t.putcell("SIG", 0, True)
        t.putcell("REF", 0, False)
        t.putcell("CAL", 0, 0.0)
        t.putcell("LOAD", 0, 0.0)
        t.putcell("SUB_SCAN", 0, 1)
        t.putcell("OBS_MODE", 0, "OBSERVE_TARGET#ON_SOURCE")
        t.putcell("FLAG_ROW", 0, False)

    with tables.table(path + "/PROCESSOR", readonly=False, ack=False) as t:
        t.addrows(1)
        t.putcell("TYPE", 0, "CORRELATOR")
        t.putcell("SUB_TYPE", 0, "ALMA_CORRELATOR_MODE")
        t.putcell("TYPE_ID", 0, -1)
        t.putcell("MODE_ID", 0, -1)
        t.putcell("FLAG_ROW", 0, False)


def write_main(ms, args, uvw_ant, times, model, spectra, freqs, sigma, rng):
    """Fill the main table chunk by chunk (time-major rows, baselines a1 < a2)."""
    nant = uvw_ant.shape[1]
    a1, a2 = np.triu_indices(nant, k=1)
    nbl = len(a1)
    ntime = len(times)
    nrow = nbl * ntime
    ncorr = 2
    nchan = len(freqs)
    ms.addrows(nrow)
    per_chunk = max(1, args.chunk_rows // nbl)  # whole integrations per chunk
    sig_col = sigma if sigma > 0 else 1.0  # noise-free data (--noise 0): unit weights
    for k0 in range(0, ntime, per_chunk):
        k1 = min(ntime, k0 + per_chunk)
        nt = k1 - k0
        r0, n = k0 * nbl, nt * nbl
        uvw = (uvw_ant[k0:k1, a2, :] - uvw_ant[k0:k1, a1, :]).reshape(n, 3)
        vis = predict(uvw, freqs, model, spectra)
        data = np.empty((n, nchan, ncorr), np.complex64)
        for c in range(ncorr):
            noise = rng.normal(0.0, sigma, (n, nchan)) + 1j * rng.normal(0.0, sigma, (n, nchan))
            data[:, :, c] = vis + noise
        tcol = np.repeat(times[k0:k1], nbl)
        ms.putcol("TIME", tcol, r0, n)
        ms.putcol("TIME_CENTROID", tcol, r0, n)
        ms.putcol("INTERVAL", np.full(n, args.integration), r0, n)
        ms.putcol("EXPOSURE", np.full(n, args.integration), r0, n)
        ms.putcol("ANTENNA1", np.tile(a1, nt).astype(np.int32), r0, n)
        ms.putcol("ANTENNA2", np.tile(a2, nt).astype(np.int32), r0, n)
        ms.putcol("FEED1", np.zeros(n, np.int32), r0, n)
        ms.putcol("FEED2", np.zeros(n, np.int32), r0, n)
        ms.putcol("UVW", uvw, r0, n)
        ms.putcol("DATA", data, r0, n)
        ms.putcol("FLAG", np.zeros((n, nchan, ncorr), bool), r0, n)
        ms.putcol("FLAG_ROW", np.zeros(n, bool), r0, n)
        ms.putcol("WEIGHT", np.full((n, ncorr), 1.0 / sig_col ** 2, np.float32), r0, n)
        ms.putcol("SIGMA", np.full((n, ncorr), sig_col, np.float32), r0, n)
        for col, val in (("DATA_DESC_ID", 0), ("FIELD_ID", 0), ("SCAN_NUMBER", 1), ("ARRAY_ID", 0),
                         ("OBSERVATION_ID", 0), ("PROCESSOR_ID", 0), ("STATE_ID", 0)):
            ms.putcol(col, np.full(n, val, np.int32), r0, n)
    return nrow


def dir_size(path):
    """Total size of the files under ``path`` in bytes."""
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def _ensure_casacore():
    """Re-execute under bench/.venv-bench when this interpreter lacks numpy / python-casacore."""
    try:
        import casacore.tables  # noqa: F401
        if np is None:
            raise ImportError("numpy")
    except ImportError:
        here = os.path.dirname(os.path.abspath(__file__))
        alt = os.path.join(here, ".venv-bench", "bin", "python")
        if os.path.exists(alt) and os.path.realpath(sys.executable) != os.path.realpath(alt):
            os.execv(alt, [alt, os.path.abspath(__file__)] + sys.argv[1:])
        sys.exit("make_synthetic_ms.py needs numpy and python-casacore: run "
                 "bench/setup_peers.sh (creates bench/.venv-bench) or use a Python that has them")


def main(argv=None):
    """Generate the MS and print a one-line summary."""
    if argv is None:
        _ensure_casacore()
    args = parse_args(argv)
    from casacore import quanta as qa
    from casacore import tables
    from casacore.measures import measures

    start = time.time()
    out = args.out.rstrip("/")
    if os.path.exists(out):
        if not args.overwrite:
            sys.exit(f"{out} exists (use --overwrite)")
        shutil.rmtree(out)
    rng = np.random.default_rng(args.seed)
    dm = measures()

    enu = antenna_layout_enu(args.nant, args.max_baseline, rng)
    itrf = enu_to_itrf(enu, ALMA_LON_DEG, ALMA_LAT_DEG, ALMA_HEIGHT_M)
    ntime = max(1, int(round(args.hours * 3600.0 / args.integration)))
    mid = transit_mjd(dm, qa, args.ra, args.date) * 86400.0
    times = mid + (np.arange(ntime) - 0.5 * (ntime - 1)) * args.integration
    uvw_ant = antenna_uvw(dm, qa, itrf, args.ra, args.dec, times)

    freqs = args.freq + args.chanwidth * np.arange(args.nchan)
    model = sky_model(args.nchan)
    spectra = component_spectra(model, freqs, args.freq)
    sigma = args.noise if args.noise is not None else thermal_sigma(args.tsys, args.chanwidth,
                                                                     args.integration)
    ra, dec = math.radians(args.ra), math.radians(args.dec)
    t0, t1 = times[0] - 0.5 * args.integration, times[-1] + 0.5 * args.integration

    ms = create_ms(tables, out, args.nchan, 2, args.data_stman)
    try:
        nrow = write_main(ms, args, uvw_ant, times, model, spectra, freqs, sigma, rng)
    finally:
        ms.close()
    fill_subtables(tables, out, args, itrf, freqs, t0, t1, ra, dec)

    # sky model sidecar: absolute positions and the expected channel-0 values
    for comp in model["points"] + model["gaussians"]:
        cra, cdec = lm_to_radec(comp["l_arcsec"] * ARCSEC, comp["m_arcsec"] * ARCSEC, ra, dec)
        comp["ra_rad"], comp["dec_rad"] = cra, cdec
    nbl = args.nant * (args.nant - 1) // 2
    model.update({
        "ms": os.path.abspath(out), "phase_centre_rad": [ra, dec], "ref_freq_hz": args.freq,
        "chan_freq_hz": freqs.tolist(), "noise_sigma_jy": sigma,
        # Stokes I = (XX + YY) / 2: noise of one I visibility is sigma / sqrt(2) per part; the
        # natural-weighting image noise is that over sqrt(number of visibilities)
        "natural_image_rms_jy_per_chan": sigma / math.sqrt(2.0 * nrow),
        "channel0_flux_jy": [float(s[0]) for s in spectra],
        "max_baseline_m": float(np.max(np.linalg.norm(enu[:, None, :2] - enu[None, :, :2], axis=-1))),
        "rows": nrow, "baselines": nbl, "integrations": ntime,
    })
    with open(out + ".skymodel.json", "w") as f:
        json.dump(model, f, indent=1)

    size = dir_size(out)
    print(f"{out}: {nrow} rows ({nbl} baselines x {ntime} integrations of {args.integration:g} s), "
          f"{args.nchan} channels x 2 corr (XX YY, TOPO, {args.freq / 1e9:g} GHz + "
          f"{args.chanwidth / 1e6:g} MHz steps), noise {sigma * 1e3:.1f} mJy/vis, "
          f"longest baseline {model['max_baseline_m']:.0f} m, {size / 2 ** 20:.0f} MiB, "
          f"{time.time() - start:.1f} s")


if __name__ == "__main__":
    main()
