"""What scripts/dev/make_awproject_testdata.py and make_awproject_mosaic.py share: the simulated
EVLA D-configuration L-band array (casadata `vla.d.cfg`, 27 x 25 m, RR LL, 2 x 16 MHz at 1.5 GHz,
noiseless, 300 s integrations from 2024-06-01 by hour angle) and the centred reference crops."""
import os


# The default spectral window: (name, first channel's frequency, channel width, channels).
L_BAND_SPW = ("EVLA_L#A0C0#0", "1.5GHz", "16MHz", 2)


def evla_d_simulator(ms, spws=(L_BAND_SPW,)):
    """casatools' simulator opened on `ms` with the array, `spws` (each (name, first channel's
    frequency, width, channels)), feeds and times set (fields and observations are the caller's);
    returns (sm, me, qa, cl)."""
    import casatools
    sm, me, qa, cl = casatools.simulator(), casatools.measures(), casatools.quanta(), casatools.componentlist()
    cfg = os.path.join(casatools.ctsys.resolve("alma/simmos"), "vla.d.cfg")
    xx, yy, zz, dd, names = [], [], [], [], []
    for line in open(cfg):
        if line.startswith("#") or not line.strip():
            continue
        p = line.split()
        xx.append(float(p[0])); yy.append(float(p[1])); zz.append(float(p[2])); dd.append(float(p[3]))
        names.append(p[4] if len(p) > 4 else "A%02d" % len(names))
    sm.open(ms)
    sm.setconfig(telescopename="EVLA", x=xx, y=yy, z=zz, dishdiameter=dd, mount=["alt-az"] * len(xx),
                 antname=names, coordsystem="global", referencelocation=me.observatory("VLA"))
    for name, freq, width, nchan in spws:
        sm.setspwindow(spwname=name, freq=freq, deltafreq=width, freqresolution=width,
                       nchannels=nchan, stokes="RR LL")
    sm.setfeed(mode="perfect R L")
    return sm, me, qa, cl


def set_limits_and_times(sm, me):
    """Shadowing, elevation limit, no autocorrelations, 300 s integrations by hour angle."""
    sm.setlimits(shadowlimit=0.001, elevationlimit="10deg")
    sm.setauto(autocorrwt=0.0)
    sm.settimes(integrationtime="300s", usehourangle=True, referencetime=me.epoch("UTC", "2024/06/01/00:00:00"))


def write_crop(src_fits, dst_fits_gz, half, step):
    """tclean's exported plane cropped about the image centre, `2 half` pixels every `step`-th
    (header PCCROP: the crop's first pixel x, y; PCSTEP its step)."""
    import numpy as np
    from astropy.io import fits
    d = fits.getdata(src_fits).squeeze().astype(np.float32)
    c = d.shape[-1] // 2
    h = fits.PrimaryHDU(d[c - half:c + half:step, c - half:c + half:step])
    h.header["PCCROP"] = "%d,%d" % (c - half, c - half)
    h.header["PCSTEP"] = step
    h.writeto(dst_fits_gz, overwrite=True)
