"""Numpy model of tclean's gridded mosaic weight kernel for one pointing at the image centre,
against tclean 6.7 single-pointing `.weight` images (docs/decisions.md (s9-mosaic)).

The screen: CASA's blocked Airy voltage pattern (PBMath1DAiry's formula, the blockage term's
argument scaled by D/b as CASA has it), to the 4th power (PB^2), on the padded grid (`npad`) at
the image cell, Fourier transformed; the gridded box is cells `lo..hi` on both axes, normalised
by the sum over `+-N`; its image is evaluated directly. Prints, per box rule, for each reference
"tclean value at the pointing / model value / max |model - tclean| over tclean > 0.3 of its peak".
The references are tclean runs of 12-12 or 7-7 baselines of field 0 of testdata's
hetero_mosaic.ms (scripts/dev/hetero_pairs.py; the extra image sizes with the same parameters,
imsize/cell as in `cases`), exported to FITS in the working directory.
"""
import numpy as np, sys
from scipy.special import j1
from astropy.io import fits
lam=299792458/100e9
def casa_vp(r,D,d=0.75):
    L=D/d; x=np.maximum(np.pi*r*D/lam,1e-12)
    return ((L*L)*2*j1(x)/x-2*j1(x*L)/(x*L))/(L*L-1)
def model(n,cellas,D,lo,hi,N,npad):
    cell=np.radians(cellas/3600)
    y,x=np.mgrid[:npad,:npad]-npad//2; r=np.hypot(x,y)*cell
    s=casa_vp(r,D)**4
    c=np.real(np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(s)))); c0=npad//2
    k=c[c0+lo:c0+hi+1,c0+lo:c0+hi+1]/c[c0-N:c0+N+1,c0-N:c0+N+1].sum()
    d=np.arange(n)-n//2; i=np.arange(lo,hi+1)
    E=np.exp(2j*np.pi*np.outer(d,i)/npad)   # (n, m)
    img=np.real(E@k@E.T)   # rows y (j), cols x (i): k indexed [j,i]
    return img
# run in the OUTDIR of `hetero_pairs.py tclean`
cases=[('tc_b77f0.weight.fits',320,0.5,6.25,384),('cf_b77f0_200_0.5.weight.fits',200,0.5,6.25,240),('cf_b77f0_512_0.5.weight.fits',512,0.5,6.25,640),('cf_b77f0_320_0.8.weight.fits',320,0.8,6.25,384),('cf_b77f0_320_0.25.weight.fits',320,0.25,6.25,384),('tc_b1212f0.weight.fits',320,0.5,10.7,384),('cf_b1212f0_320_0.25.weight.fits',320,0.25,10.7,384)]
# "padded": the screen over the padded grid (s8's model); "unpadded": over the image itself (the
# rule mosaic/weight.rs keeps: -5..4 gridded, normalised over +-6, within 5e-4 everywhere).
for padmode in ("padded", "unpadded"):
    for lo, hi, N in [(-4, 4, 4), (-5, 4, 6), (-5, 5, 6), (-6, 6, 6)]:
        out = []
        for f, n, cl, D, npad in cases:
            o = fits.getdata(f).squeeze().astype(float)
            p = model(n, cl, D, lo, hi, N, npad if padmode == "padded" else n)
            m = o > 0.3 * o.max()
            inner = np.zeros_like(m)
            inner[n // 8:-n // 8, n // 8:-n // 8] = True
            out.append("%.4f/%.4f/%.1e" % (o[n // 2, n // 2], p[n // 2, n // 2],
                                           np.abs(p - o)[m & inner].max() / o.max()))
        print(padmode, lo, hi, N, " ".join(out))
print()
for f,n,cl,D,npad in cases[:2]+cases[4:5]:
    o=fits.getdata(f).squeeze().astype(float); p=model(n,cl,D,-5,4,6,npad)
    print(f, 'x:', ' '.join('%.3f'%(p[n//2,k]/o[n//2,k]) for k in range(0,n,n//16)))
    print(f, 'y:', ' '.join('%.3f'%(p[k,n//2]/o[k,n//2]) for k in range(0,n,n//16)))
