"""Cube spectral axes given as channel numbers, frequencies, radio velocities or negative widths
describe the same channels, so they must give the same planes (interpolation at exact data
channel frequencies reproduces the channels exactly)."""
import numpy as np

from compare import load_casa
from conftest import run_pclean

C = 299792458.0
F0 = 1420.405752e6
BASE = ["--imsize", "96", "--cell", "20arcsec", "--specmode", "cube", "--outframe", "LSRK", "--weighting", "briggs",
        "--robust", "0.5", "--niter", "0", "--datacolumn", "data", "--restfreq", "1420.405752MHz", "--nchan", "6"]


def chan_freqs(msdir):
    """NGC5921's channel frequencies (LSRK, Hz) from its SPECTRAL_WINDOW table."""
    from casacore.tables import table
    return table(str(msdir / "ngc5921.ms" / "SPECTRAL_WINDOW"), ack=False).getcol("CHAN_FREQ")[0]


def cube(msdir, out, *extra):
    run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", out, *BASE, *extra)
    data, im = load_casa(str(out) + ".residual")
    freqs = np.array([im.toworld([c, 0, 0, 0])[0] for c in range(data.shape[0])])
    return data, freqs


def test_frequency_velocity_and_channel_grids_agree(msdir, tmp_path):
    ref, fref = cube(msdir, tmp_path / "chan", "--start", "20", "--width", "1")
    f = chan_freqs(msdir)
    f20, DF = f[20], f[21] - f[20]
    byfreq, ff = cube(msdir, tmp_path / "freq", "--start", "%.4fHz" % f20, "--width", "%.6fHz" % DF)
    v20 = C * (1 - f20 / F0)  # radio convention
    byvel, fv = cube(msdir, tmp_path / "vel", "--start", "%.6fm/s" % v20, "--width", "%.9fm/s" % (-C * DF / F0))
    peak = np.abs(ref).max()
    # Same channel frequencies (1 mHz: decimal rounding of the given start/width)...
    assert np.abs(ff - fref).max() < 1e-3 and np.abs(fv - fref).max() < 1e-3
    # ...and the same planes: interpolation exactly at data channel centres is the channel itself
    # (f32 rounding of the interpolation weights: 1e-6 of the peak).
    assert np.abs(byfreq - ref).max() < 1e-6 * peak
    assert np.abs(byvel - ref).max() < 1e-6 * peak


def test_negative_width_reverses_the_axis(msdir, tmp_path):
    ref, fref = cube(msdir, tmp_path / "up", "--start", "20", "--width", "1")
    f = chan_freqs(msdir)
    down, fd = cube(msdir, tmp_path / "down", "--start", "%.4fHz" % f[25], "--width", "%.6fHz" % -(f[21] - f[20]))
    np.testing.assert_allclose(fd, fref[::-1], rtol=0, atol=1e-3)
    assert np.abs(down - ref[::-1]).max() < 1e-6 * np.abs(ref).max()


def test_velocity_without_restfreq_is_an_error(msdir, tmp_path):
    args = [a for a in BASE if a not in ("--restfreq", "1420.405752MHz")]
    p = run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", tmp_path / "x", *args,
                   "--start", "1500km/s", check=False)
    assert p.returncode != 0 and "restfreq" in p.stderr.splitlines()[-1]
