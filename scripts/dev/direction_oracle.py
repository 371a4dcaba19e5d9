"""Reference direction conversions from casatools' measures (CASA 6.7), for
crates/pclean-core/tests/direction_frames.rs.

Run with a python that has casatools (e.g. /work/casa-venv/bin/python scripts/dev/direction_oracle.py)
(python-casacore too) and paste the printed rows. Rows are
`(from, lon_rad, lat_rad, to, lon_rad, lat_rad, epoch?)`: `epoch?` says whether the measures frame had
the epoch EPOCH_UTC_MJD_S and the VLA's position (as the Rust test's context); without it, B1950
takes casacore's default epoch 2000.0.
"""
import casatools

me = casatools.measures()
# A measures frame without an epoch (B1950 then takes casacore's default epoch 2000.0): casatools'
# tool always carries some epoch, so these rows come from python-casacore's measures.
from casacore.measures import measures as _pyc_measures
me_bare = _pyc_measures()
EPOCH_MJD_D = 59001.0 + 1234.0 / 86400.0  # 2020-06-01 00:20:34 UTC
INPUTS = [(3.27, 0.215), (0.3, -1.1), (5.5, 0.9)]
FRAMES = ['J2000', 'ICRS', 'B1950', 'B1950_VLA', 'GALACTIC', 'SUPERGAL', 'ECLIPTIC', 'MECLIPTIC',
          'TECLIPTIC', 'JMEAN', 'JTRUE', 'JNAT', 'APP', 'TOPO', 'HADEC', 'AZEL', 'AZELSW', 'AZELGEO',
          'AZELSWGEO', 'BMEAN', 'BTRUE', 'ITRF']
INERTIAL = ['J2000', 'ICRS', 'B1950', 'B1950_VLA', 'GALACTIC', 'SUPERGAL', 'ECLIPTIC']


def conv(frm, lon, lat, to, with_epoch):
    if with_epoch:
        m = me.measure(me.direction(frm, f'{lon}rad', f'{lat}rad'), to)
    else:
        m = me_bare.measure(me_bare.direction(frm, f'{lon}rad', f'{lat}rad'), to)
    return m['m0']['value'], m['m1']['value']


me.doframe(me.epoch('UTC', f'{EPOCH_MJD_D}d'))
me.doframe(me.observatory('VLA'))
pos = me.measure(me.observatory('VLA'), 'ITRF')
lo, la, r = (pos['m0']['value'], pos['m1']['value'], pos['m2']['value'])
import math
xyz = [r * math.cos(la) * math.cos(lo), r * math.cos(la) * math.sin(lo), r * math.sin(la)]
print(f'// VLA ITRF xyz: {xyz!r}')
print(f'// UT1-UTC: {me.measure(me.epoch("UTC", f"{EPOCH_MJD_D}d"), "UT1")["m0"]["value"] * 86400 - EPOCH_MJD_D * 86400!r}')
print(f'// EPOCH_UTC_MJD_D = {EPOCH_MJD_D!r}')
for lon, lat in INPUTS:
    for to in FRAMES:
        if to == 'J2000':
            continue
        a, b = conv('J2000', lon, lat, to, True)
        print(f'    ("J2000", {lon!r}, {lat!r}, "{to}", {a!r}, {b!r}, true),')
        c, d = conv(to, lon, lat, 'J2000', True)
        print(f'    ("{to}", {lon!r}, {lat!r}, "J2000", {c!r}, {d!r}, true),')
    for frm in INERTIAL:
        for to in INERTIAL:
            if frm != to and 'J2000' not in (frm, to):
                a, b = conv(frm, lon, lat, to, False)
                print(f'    ("{frm}", {lon!r}, {lat!r}, "{to}", {a!r}, {b!r}, false),')
# phasecenter strings in the epoch-dependent FK4 and terrestrial frames, to J2000 (PHASECENTER rows)
print('// PHASECENTER rows')
for s in ['BMEAN 12h00m00 -30d00m00', 'BTRUE 12h00m00 -30d00m00', 'ITRF 12h00m00 -30d00m00']:
    f, a, b = s.split()
    m = me.measure(me.direction(f, a, b), 'J2000')
    print(f'    ("{s}", {m["m0"]["value"]!r}, {m["m1"]["value"]!r}),')
