#!/usr/bin/env python3
"""Reference Doppler factors for pclean-core's `frames` module, from casacore's measures.

Prints Rust rows `(time_utc_mjd_s, dut1_s, obs, ra_rad, dec_rad, icrs, from, to, factor)` for
`crates/pclean-core/tests/frames.rs`, where `factor = f_to / f_from` for one photon as
`measures().measure(frequency(from, 230GHz), to)` gives it, and `dut1_s` is casacore's UT1 - UTC at
that epoch (from the IERS tables bundled with the python-casacore wheel), so that the Rust side can
use the same UT1.

Every conversion uses a fresh `measures()` object: casacore caches the Earth velocity for 0.04 d and
extrapolates from the cached epoch, so a reused object would depend on call order.

Usage: python3 scripts/dev/frames_oracle.py   (python-casacore >= 3.5; runs offline)
"""

from casacore.measures import measures

F0_HZ = 230e9
OBSERVATORIES = {
    # ITRF, metres. ALMA: what tclean used for alma_sim (the image's OBSGEO); VLA: casacore's
    # Observatories table.
    "ALMA": (2225142.1803, -5440307.3703, -2481029.8519),
    "VLA": (-1601185.365, -5041977.547, 3554875.87),
}
# alma_sim.ms first and last integration (TIME column, UTC MJD seconds) and other epochs
# spread over years, hours and seasons.
TIMES = [
    5223935920.118349,
    5223937660.118349,
    4_840_000_000.0,  # 2012-03
    5_000_000_000.0,  # 2017-04
    5_100_012_345.6,  # 2020-06
    5_250_000_000.0,  # 2024-12
]
DIRECTIONS = [
    # (ra_rad, dec_rad, frame)
    (-2.0943951023931953, -0.5235987755982988, "J2000"),  # alma_sim phase centre 16h -30d
    (0.3, 1.1, "J2000"),
    (4.0, -1.2, "J2000"),
    (3.0, 0.05, "ICRS"),
]
FRAMES = ["LSRK", "LSRD", "BARY", "GEO", "TOPO", "GALACTO", "LGROUP", "CMB"]


def factor(t, obs, d, f_from, f_to):
    dm = measures()
    dm.do_frame(dm.epoch("utc", f"{t!r}s"))
    dm.do_frame(dm.position("itrf", *(f"{c!r}m" for c in OBSERVATORIES[obs])))
    dm.do_frame(dm.direction(d[2], f"{d[0]!r}rad", f"{d[1]!r}rad"))
    out = dm.measure(dm.frequency(f_from, f"{F0_HZ!r}Hz"), f_to)
    assert out["m0"]["unit"] == "Hz"
    return out["m0"]["value"] / F0_HZ


def dut1(t):
    dm = measures()
    ut1 = dm.measure(dm.epoch("utc", f"{t!r}s"), "ut1")["m0"]["value"]  # MJD days
    return ut1 * 86400.0 - t


def main():
    rows = []
    for i, t in enumerate(TIMES):
        for obs in OBSERVATORIES:
            for j, d in enumerate(DIRECTIONS):
                # Keep the table small: every direction at ALMA, one per epoch at the VLA.
                if obs == "VLA" and j != i % len(DIRECTIONS):
                    continue
                pairs = [("TOPO", f) for f in FRAMES if f != "TOPO"]
                pairs += [("LSRK", "GALACTO"), ("CMB", "GEO")]
                for f_from, f_to in pairs:
                    rows.append((t, dut1(t), obs, d, f_from, f_to,
                                 factor(t, obs, d, f_from, f_to)))
    for t, du, obs, d, f_from, f_to, fac in rows:
        print(f"    ({t!r}, {du!r}, \"{obs}\", {d[0]!r}, {d[1]!r}, {str(d[2] == 'ICRS').lower()}, "
              f"\"{f_from}\", \"{f_to}\", {fac!r}),")


if __name__ == "__main__":
    main()
