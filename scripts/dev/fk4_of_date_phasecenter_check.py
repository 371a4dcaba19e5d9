"""Issue 13 item 1 (s9b-frames): tclean 6.7 and pclean with a BMEAN / BTRUE / ITRF phasecenter on
testdata/b1950vla.ms (unpacked into the current directory), niter=0, 128 x 6 arcsec, mfs. Part 1
(CASA python) runs tclean and writes tc_out.json; part 2 runs pclean (PCLEAN binary below) and prints
the image frame, crval difference and max |residual difference| / tclean peak over the inner 60%
(pclean refuses the ITRF phasecenter since s9b-frames: that run prints its error).
Run: /work/casa-venv/bin/python scripts/dev/fk4_of_date_phasecenter_check.py (in a scratch folder)."""
import casatools, casatasks, shutil, json, os
me, ia, tb, qa = casatools.measures(), casatools.image(), casatools.table(), casatools.quanta()
tb.open('b1950vla.ms'); t0 = tb.getcol('TIME').min(); tb.close()
me.doframe(me.epoch('UTC', f'{t0}s')); me.doframe(me.observatory('VLA'))
out = {'t0': t0}
for fr in ['BMEAN', 'BTRUE', 'ITRF']:
    d = me.measure(me.direction('J2000', '12h32m35.0s', '12d04m00s'), fr)
    pc = f"{fr} {qa.formxxx(d['m0'], format='hms', prec=4)} {qa.formxxx(d['m1'], format='dms', prec=3)}"
    img = f'tc_{fr}'
    for ext in ('residual', 'psf', 'sumwt', 'image', 'model', 'pb'):
        shutil.rmtree(f'{img}.{ext}', ignore_errors=True)
    casatasks.tclean(vis='b1950vla.ms', imagename=img, imsize=[128,128], cell='6arcsec', niter=0, specmode='mfs', pblimit=-1, phasecenter=pc, parallel=False)
    ia.open(f'{img}.residual'); cs = ia.coordsys().torecord(); px = ia.getchunk(); ia.close()
    import numpy as np
    out[fr] = {'pc': pc, 'refer': cs['direction0']['system'], 'crval': list(cs['direction0']['crval']), 'peak': float(px.max()), 'argmax': [int(i) for i in np.unravel_index(px.argmax(), px.shape)]}
    print(fr, out[fr], flush=True)
json.dump(out, open('tc_out.json', 'w'), indent=1)

import subprocess
tc = out
PCLEAN = os.environ.get('PCLEAN_BIN', 'pclean')
for fr in ['BMEAN', 'BTRUE', 'ITRF']:
    pc = tc[fr]['pc']
    img = f'pc_{fr}'
    for ext in ('residual', 'psf', 'sumwt', 'image', 'model', 'pb'):
        shutil.rmtree(f'{img}.{ext}', ignore_errors=True)
    r = subprocess.run([PCLEAN, 'image', '--vis', 'b1950vla.ms', '--imagename', img, '--imsize', '128', '--cell', '6arcsec',
                        '--niter', '0', '--specmode', 'mfs', '--pblimit', '-0.01', '--phasecenter', pc, '--overwrite'],
                       capture_output=True, text=True)
    if r.returncode:
        print(fr, 'FAILED', r.stderr[-1500:]); continue
    ia.open(f'{img}.residual'); cs = ia.coordsys().torecord(); a = ia.getchunk(); ia.close()
    ia.open(f'tc_{fr}.residual'); b = ia.getchunk(); ia.close()
    d = cs['direction0']
    n = a.shape[0]; lo, hi = int(n * 0.2), int(n * 0.8)
    diff = np.abs(a - b)[lo:hi, lo:hi].max() / np.abs(b).max()
    print(fr, 'refer', d['system'], 'crval diff (rad)', np.array(d['crval']) - np.array(tc[fr]['crval']),
          'peak pc', a.max(), 'tc', tc[fr]['peak'], 'max|diff|/peak inner 60%', diff)
