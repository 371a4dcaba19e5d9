"""Make the direction-frame test data and tclean's references for it (issue 13, item 1/3).

Run with CASA's python (casatools/casatasks 6.7): `python scripts/dev/tclean_frames_refs.py OUTDIR`.
It writes into testdata/:
- b1950vla.ms.tar.gz: a small VLA L-band MS (12 antennas of the D configuration, 2 x 16 MHz TOPO
  channels, RR RL LR LL, 1 h around transit on 2020-06-01, two point sources of 1 and 0.5 Jy) made
  with the casatools simulator in J2000, then expressed in B1950_VLA: FIELD PHASE_DIR / DELAY_DIR /
  REFERENCE_DIR converted with casatools measures and their MEASINFO Ref set to B1950_VLA, UVW turned
  about w by the position-angle difference between the frames at the field (so u, v refer to the
  B1950_VLA east/north, as an archival VLA MS does); visibilities unchanged.
- reference/tclean_frames.json: for each tclean run below, its parameters and the coordinate-system
  record of the residual (`ia.coordsys().torecord()`), plus the peak pixel.
- reference/tclean_frames_<run>.residual.fits.gz: the residual images (exportfits).
"""
import gzip, json, os, shutil, subprocess, sys, tarfile
import numpy as np
import casatools, casatasks

OUT = sys.argv[1]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.makedirs(OUT, exist_ok=True)
os.chdir(OUT)
me, qa, tb, ia = casatools.measures(), casatools.quanta(), casatools.table(), casatools.image()

# 1. simulate in J2000
cfg = os.path.join(casatools.ctsys.resolve('alma/simmos'), 'vla.d.cfg')
ant = [l.split() for l in open(cfg) if l.strip() and not l.startswith('#')][:12]
shutil.rmtree('j2000.ms', ignore_errors=True); shutil.rmtree('j2000.cl', ignore_errors=True)
sm = casatools.simulator(); cl = casatools.componentlist()
sm.open('j2000.ms')
sm.setconfig(telescopename='VLA', x=[float(a[0]) for a in ant], y=[float(a[1]) for a in ant],
             z=[float(a[2]) for a in ant], dishdiameter=[float(a[3]) for a in ant], mount='alt-az',
             antname=[a[4] for a in ant], coordsystem='global', referencelocation=me.observatory('VLA'))
sm.setspwindow(spwname='L', freq='1.4GHz', deltafreq='16MHz', freqresolution='16MHz', nchannels=2,
               stokes='RR RL LR LL')
sm.setfeed('perfect R L')
ra, dec = '12h32m34.0s', '12d03m35s'
sm.setfield(sourcename='SRC', sourcedirection=me.direction('J2000', ra, dec))
sm.setlimits(shadowlimit=0.001, elevationlimit='8deg')
sm.setauto(autocorrwt=0.0)
sm.settimes(integrationtime='60s', usehourangle=True, referencetime=me.epoch('UTC', '2020/06/01/00:00:00'))
sm.observe('SRC', 'L', starttime='-1800s', stoptime='1800s')
cl.addcomponent(dir=me.direction('J2000', qa.add(ra, '0.01deg'), qa.add(dec, '0.01deg')), flux=1.0,
                fluxunit='Jy', freq='1.4GHz', shape='point')
cl.addcomponent(dir=me.direction('J2000', qa.sub(ra, '0.02deg'), qa.add(dec, '-0.005deg')), flux=0.5,
                fluxunit='Jy', freq='1.4GHz', shape='point')
cl.rename('j2000.cl'); cl.done()
sm.predict(complist='j2000.cl'); sm.close()

# 2. express it in B1950_VLA
shutil.rmtree('b1950vla.ms', ignore_errors=True); shutil.copytree('j2000.ms', 'b1950vla.ms')
me.doframe(me.observatory('VLA'))
tb.open('b1950vla.ms/FIELD', nomodify=False)
r, d = tb.getcol('PHASE_DIR')[:, 0, 0]
conv = lambda r, d: [me.measure(me.direction('J2000', f'{r}rad', f'{d}rad'), 'B1950_VLA')[k]['value'] for k in ('m0', 'm1')]
r0, d0 = conv(r, d); r1, d1 = conv(r, d + 1e-5)
theta = np.arctan2(np.sin(r1 - r0) * np.cos(d1), np.cos(d0) * np.sin(d1) - np.sin(d0) * np.cos(d1) * np.cos(r1 - r0))
for col in ['PHASE_DIR', 'DELAY_DIR', 'REFERENCE_DIR']:
    v = tb.getcol(col); v[0, 0, :] = r0; v[1, 0, :] = d0; tb.putcol(col, v)
    mi = tb.getcolkeyword(col, 'MEASINFO'); mi['Ref'] = 'B1950_VLA'; tb.putcolkeyword(col, 'MEASINFO', mi)
tb.close()
tb.open('b1950vla.ms', nomodify=False)
uvw = tb.getcol('UVW'); c, s = np.cos(theta), np.sin(theta)
u, v = uvw[0].copy(), uvw[1].copy(); uvw[0] = u * c + v * s; uvw[1] = -u * s + v * c
tb.putcol('UVW', uvw); tb.close()
with tarfile.open(os.path.join(ROOT, 'testdata', 'b1950vla.ms.tar.gz'), 'w:gz') as t:
    t.add('b1950vla.ms')

# 3. tclean
RUNS = {
    'default_mfs': {},
    'pc_j2000': {'phasecenter': 'J2000 12h32m35.0s 12d04m00s'},
    'pc_galactic': {'phasecenter': 'GALACTIC 285.62deg 74.29deg'},
    'pc_b1950': {'phasecenter': 'B1950 12h30m03s 12d20m30s'},
    'cube': {'specmode': 'cube'},
}
refs = {}
for name, extra in RUNS.items():
    kw = dict(vis='b1950vla.ms', imsize=[128, 128], cell='6arcsec', niter=0, specmode='mfs', pblimit=-1)
    kw.update(extra)
    img = f'tc_{name}'
    for ext in ('residual', 'psf', 'sumwt', 'image', 'model', 'pb'):
        shutil.rmtree(f'{img}.{ext}', ignore_errors=True)
    casatasks.tclean(imagename=img, parallel=False, **kw)
    ia.open(f'{img}.residual'); rec = ia.coordsys().torecord(); px = ia.getchunk(); ia.close()
    fits = os.path.join(ROOT, 'testdata', 'reference', f'tclean_frames_{name}.residual.fits')
    casatasks.exportfits(f'{img}.residual', fits, overwrite=True)
    with open(fits, 'rb') as f, gzip.open(fits + '.gz', 'wb') as g:
        g.write(f.read())
    os.remove(fits)
    tojson = lambda x: ({k: tojson(v) for k, v in x.items()} if isinstance(x, dict) else
                        x.tolist() if isinstance(x, np.ndarray) else x.item() if isinstance(x, np.generic) else x)
    refs[name] = {'params': {k: v for k, v in kw.items() if k != 'vis'}, 'coordsys': tojson(rec),
                  'peak_xy': [int(i) for i in np.unravel_index(np.argmax(px[:, :, 0, 0]), px.shape[:2])]}
json.dump({'casa': casatools.version_string(), 'runs': refs},
          open(os.path.join(ROOT, 'testdata', 'reference', 'tclean_frames.json'), 'w'), indent=1)
