"""tclean 6.7 mtmfs (nterms 2, pbcor) on vla_wideband_small: every product's coordinates, unit,
beam and mask as casatools reads them -> tclean_mtmfs_products.json (the reference of
tests/python/test_product_interop.py; copy it to testdata/reference/interop/).

    cd SCRATCH && /work/casa-venv/bin/python make_interop_refs.py PATH/vla_wideband_small.ms
"""
import glob, json, os, shutil, sys
from casatasks import tclean
from casatools import image
for p in glob.glob('tc_mtmfs.*'):
    shutil.rmtree(p, ignore_errors=True)
tclean(vis=sys.argv[1], imagename='tc_mtmfs', imsize=[128, 128], cell='7.5arcsec',
       gridder='standard', specmode='mfs', stokes='I', deconvolver='mtmfs', reffreq='1.5GHz',
       weighting='briggs', robust=0.5, pblimit=0.1, nterms=2, niter=0, pbcor=True, parallel=False)
ia = image()
out = {}
for p in sorted(glob.glob('tc_mtmfs.*')):
    ia.open(p)
    cs = ia.coordsys()
    d = cs.torecord()['direction0']
    sp = cs.torecord().get('spectral2', {})
    rb = ia.restoringbeam()
    out[p[len('tc_mtmfs.'):]] = {
        'shape': [int(v) for v in ia.shape()],
        'unit': ia.brightnessunit(),
        'direction': {'crval_rad': [float(v) for v in d['crval']], 'cdelt_rad': [float(v) for v in d['cdelt']],
                      'crpix': [float(v) for v in d['crpix']], 'system': d['system'], 'projection': d['projection']},
        'spectral': {'frame': sp.get('system'), 'crval_hz': float(sp['wcs']['crval']), 'cdelt_hz': float(sp['wcs']['cdelt']),
                     'restfreq_hz': float(sp.get('restfreq', 0.0))} if sp else None,
        'stokes': list(cs.stokes()),
        'beam': ({'major_arcsec': rb['major']['value'] if rb['major']['unit'] == 'arcsec' else None,
                  'minor_arcsec': rb['minor']['value'] if rb['minor']['unit'] == 'arcsec' else None,
                  'pa_deg': rb['positionangle']['value']} if rb and 'major' in rb else None),
        'masks': list(ia.maskhandler('get')) if ia.maskhandler('get') != ['T'] else [],
    }
    cs.done(); ia.close()
json.dump(out, open('tclean_mtmfs_products.json', 'w'), indent=1, sort_keys=True)
print(json.dumps({k: (v['unit'], v['beam'] is not None, v['masks']) for k, v in out.items()}, indent=0))
