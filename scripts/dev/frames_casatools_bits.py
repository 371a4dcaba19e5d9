#!/usr/bin/env python3
"""Bit-level reference frequencies for pclean-core's `frames::DopplerSteps`, from casatools.

Writes `crates/pclean-core/tests/data/frames_casatools.json`: for each case the epoch (UTC MJD
seconds), casacore's UT1 - UTC there (the measured IERS table of casatools' own data, interpolated
as `MeasIERS::get`), the observatory's ITRF position, a J2000 direction, a TOPO frequency and the
frequency `measures.measure(frequency('TOPO', f), frame)` returns for several frames, as the
bits of the double (`float.hex`). tclean converts the data channels and makes its LSRK grid with
exactly these conversions (a fresh frame at the MS's first integration), so they decide on which
side of a data channel a cube channel lies when the two are equal to a few ulp.

Cases: the first integrations of vla_wideband (the bundled subset and the shared full MS: every
data channel and channel edge) and of alma_mosaic (shared: its 4 channels and their edges), the bench MS (`bench/make_synthetic_ms.py`), and
40 epochs between 1996 and 2025 at the VLA and ALMA in random directions. Epochs of one run are
years apart, so casacore's caches (Earth velocity, nutation and UT1 - UTC: 0.04 d; series
coefficients: 1e-6 century) never carry over.

Usage: /work/casa-venv/bin/python scripts/dev/frames_casatools_bits.py  (CASA 6.7 casatools, offline)
"""

import json
import math
import os
import random

from casatools import measures, quanta, table

me = measures()
qa = quanta()
FRAMES = ["GEO", "BARY", "LSRK", "LSRD", "GALACTO", "LGROUP", "CMB"]
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "crates", "pclean-core", "tests",
                   "data", "frames_casatools.json")


def iers_dut1():
    path = os.path.join(os.environ.get("CASADATA", ""), "geodetic", "IERSeop97")
    if not os.path.exists(path):
        import casadata
        path = os.path.join(os.path.dirname(casadata.__file__), "__data__", "geodetic", "IERSeop97")
    tb = table()
    tb.open(path)
    mjd, dut1 = tb.getcol("MJD"), tb.getcol("dUT1")
    tb.close()

    def at(utc_days):
        i = int(utc_days - mjd[0])
        f = utc_days - mjd[i]
        return float(dut1[i + 1] * f - dut1[i] * (f - 1.0))

    return at


def observatory(name):
    p = me.measure(me.observatory(name), "ITRF")
    lon, lat, r = p["m0"]["value"], p["m1"]["value"], p["m2"]["value"]
    return [r * math.cos(lat) * math.cos(lon), r * math.cos(lat) * math.sin(lon), r * math.sin(lat)]


def convert(t, obs, ra, dec, freqs, frames):
    me.doframe(me.observatory(obs))
    me.doframe(me.epoch("UTC", qa.quantity(t, "s")))
    me.doframe(me.direction("J2000", qa.quantity(ra, "rad"), qa.quantity(dec, "rad")))
    return {fr: [float(me.measure(me.frequency("TOPO", qa.quantity(f, "Hz")), fr)["m0"]["value"]).hex()
                 for f in freqs] for fr in frames}


def main():
    # casacore takes an epoch given in seconds in days as t * (1 / 86400) (`Quantum::convert`),
    # and looks UT1 - UTC up at that.
    iers = iers_dut1()

    def dut1(t):
        return iers(t * (1.0 / 86400.0))

    obs = {name: observatory(name) for name in ["VLA", "ALMA"]}
    cases = []
    field = (-2.094395102393196, 0.5235987755982988)  # vla_wideband's J2000 16h00m +30d
    chans = [1e9 + 32e6 * i for i in range(32)]
    freqs = sorted(set(chans + [f - 16e6 for f in chans] + [f + 16e6 for f in chans]))
    for name, t in [("vla_wideband_small first integration", 5223938652.962216),
                    ("vla_wideband first integration", 5223938592.962216)]:
        cases.append(dict(name=name, time_utc_mjd_s=t, dut1_s=dut1(t), obs="VLA",
                          ra_rad=field[0], dec_rad=field[1], topo_hz=freqs,
                          out=convert(t, "VLA", field[0], field[1], freqs, ["GEO", "BARY", "LSRK"])))
    rng = random.Random(5)
    for i in range(40):
        t = 86400.0 * rng.uniform(50100.0, 60880.0)
        name = "VLA" if i % 2 == 0 else "ALMA"
        ra = rng.uniform(-math.pi, math.pi)
        dec = math.asin(rng.uniform(-1.0, 1.0))
        f = rng.choice([1e9, 1.256e9, 1.5e9 + 7 * 32e6, 43.1e9, 230e9, 345.796e9])
        cases.append(dict(name=f"random {i}", time_utc_mjd_s=t, dut1_s=dut1(t), obs=name,
                          ra_rad=ra, dec_rad=dec, topo_hz=[f],
                          out=convert(t, name, ra, dec, [f], FRAMES)))
    # alma_mosaic (shared, 7 fields; its first integration is field 0's, at the image centre
    # J2000 16h00m -30d): the 4 data channels and their edges. tclean's LSRK cube grid equals
    # the first channel converted there to the bit, so that integration's first channel lies in
    # the cube's first channel only with casacore's bits (docs/decisions.md (s16-ch0)). Made last:
    # its epoch is 46 min before vla_wideband's, within casacore's 0.04 d caches, which would
    # otherwise carry over (measured: 36 ulp off its fresh value).
    mosaic = (-2.094395102393196, -0.5235987755982988)
    chans = [230e9 + 1e6 * i for i in range(4)]
    freqs = sorted(set(chans + [f - 0.5e6 for f in chans] + [f + 0.5e6 for f in chans]))
    t = 5223935900.118349
    cases.append(dict(name="alma_mosaic first integration", time_utc_mjd_s=t,
                      dut1_s=dut1(t), obs="ALMA", ra_rad=mosaic[0], dec_rad=mosaic[1],
                      topo_hz=freqs, out=convert(t, "ALMA", mosaic[0], mosaic[1], freqs,
                                                 ["GEO", "BARY", "LSRK"])))
    # The issue-18 bench MS (bench/make_synthetic_ms.py: ALMA, 64 x 1 MHz from 230 GHz, J2000
    # 16h00m -30d): its first integration's channel 0 lies exactly on the LSRK cube's channel 0
    # and its channel 63 just above the cube's channel 63 (tclean's sumwt there 2384.9, one
    # integration of 120), so every bit counts. Far from the epochs above (2025).
    synth = (4.1887902047863905, -0.5235987755982988)
    chans = [230e9 + 1e6 * i for i in range(64)]
    freqs = sorted(set(chans + [f - 0.5e6 for f in chans] + [f + 0.5e6 for f in chans]))
    t = 5255464902.236274
    cases.append(dict(name="bench synth first integration", time_utc_mjd_s=t, dut1_s=dut1(t),
                      obs="ALMA", ra_rad=synth[0], dec_rad=synth[1], topo_hz=freqs,
                      out=convert(t, "ALMA", synth[0], synth[1], freqs, ["LSRK"])))
    with open(OUT, "w") as fh:
        json.dump(dict(observatories_itrf_m=obs, cases=cases), fh, indent=1)
        fh.write("\n")
    print("wrote", os.path.normpath(OUT), len(cases), "cases")


if __name__ == "__main__":
    main()
