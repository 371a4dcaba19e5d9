"""startmodel and savemodel='modelcolumn' (tclean semantics), checked against independent math."""
import shutil

import numpy as np

from compare import load_casa
from conftest import run_pclean

C = 299792458.0
BASE = ["--imsize", "128", "--cell", "15arcsec", "--specmode", "cube", "--spw", "0:24~26", "--outframe", "LSRK",
        "--weighting", "briggs", "--robust", "0.5", "--datacolumn", "data", "--threshold", "10mJy",
        "--usemask", "pb", "--pbmask", "0.2", "--pblimit", "0.1"]


def test_savemodel_writes_the_model_visibilities(msdir, tmp_path):
    from casacore.tables import table
    ms = tmp_path / "copy.ms"
    shutil.copytree(msdir / "ngc5921.ms", ms)
    t = table(str(ms), ack=False)
    before = t.getcol("MODEL_DATA", 0, 50)
    t.close()
    out = tmp_path / "sm"
    run_pclean("image", "--vis", ms, "--imagename", out, *BASE, "--niter", "300", "--savemodel", "modelcolumn")
    model, im = load_casa(str(out) + ".model")
    assert model.any()
    cell = np.radians(15 / 3600.0)
    n = 128
    t = table(str(ms), ack=False)
    a1, a2 = t.getcol("ANTENNA1"), t.getcol("ANTENNA2")
    rows = np.arange(0, t.nrows(), 97)
    rows = rows[a1[rows] != a2[rows]]  # autocorrelations are never imaged, so never predicted
    uvw = t.getcol("UVW")[rows]
    md = np.array([t.getcell("MODEL_DATA", int(r)) for r in rows])  # (row, chan, corr)
    freqs = table(str(ms / "SPECTRAL_WINDOW"), ack=False).getcol("CHAN_FREQ")[0]
    after = t.getcol("MODEL_DATA", 0, 50)
    t.close()
    for k, chan in enumerate((24, 25, 26)):
        ys, xs = np.nonzero(model[k, 0])
        flux = model[k, 0][ys, xs]
        l = (n // 2 - xs) * cell
        m = (ys - n // 2) * cell
        u = uvw[:, 0] * freqs[chan] / C
        v = uvw[:, 1] * freqs[chan] / C
        # CASA's measurement equation, w ignored as the standard gridder does.
        exact = (flux[None, :] * np.exp(2j * np.pi * (u[:, None] * l[None, :] + v[:, None] * m[None, :]))).sum(1)
        scale = np.abs(exact).max()
        for corr in (0, 1):  # RR and LL both carry Stokes I
            err = np.abs(md[:, chan, corr] - exact).max() / scale
            # Gridding accuracy epsilon 1e-6 plus single-precision storage: 1e-4 leaves room.
            assert err < 1e-4, (chan, corr, err)
    # Channels outside the selection keep what they had, as do autocorrelation rows.
    auto = np.nonzero(a1[:50] == a2[:50])[0]
    assert len(auto) > 0
    np.testing.assert_array_equal(after[auto], before[auto])
    np.testing.assert_array_equal(after[:, :24], before[:, :24])
    np.testing.assert_array_equal(after[:, 27:], before[:, 27:])


def test_startmodel_reproduces_the_cleaned_residual(msdir, tmp_path):
    a = tmp_path / "a"
    run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", a, *BASE, "--niter", "300")
    b = tmp_path / "b"
    run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", b, *BASE, "--niter", "0",
               "--startmodel", str(a) + ".model")
    ra, _ = load_casa(str(a) + ".residual")
    rb, _ = load_casa(str(b) + ".residual")
    ma, _ = load_casa(str(a) + ".model")
    mb, _ = load_casa(str(b) + ".model")
    np.testing.assert_array_equal(ma, mb)
    # The same prediction and re-imaging: equal to f32 rounding and summation order (1e-5 of peak).
    assert np.abs(ra - rb).max() < 1e-5 * np.abs(ra).max()
    dirty = tmp_path / "d"
    run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", dirty, *BASE, "--niter", "0")
    rd, _ = load_casa(str(dirty) + ".residual")
    assert np.abs(rd - rb).max() > 0.1 * np.abs(rd).max()  # the start model really was subtracted


def _copy_products(src, dst):
    for p in src.parent.glob(src.name + ".*"):
        target = dst.parent / (dst.name + p.name[len(src.name):])
        (shutil.copytree if p.is_dir() else shutil.copyfile)(p, target)


def test_restart_continues_from_the_existing_model(msdir, tmp_path):
    a = tmp_path / "a"
    args = [a for a in BASE if a not in ("--threshold", "10mJy")]
    run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", a, *args, "--niter", "40", "--threshold", "0mJy")
    ma, _ = load_casa(str(a) + ".model")
    ra, _ = load_casa(str(a) + ".residual")
    b = tmp_path / "b"
    _copy_products(a, b)
    c = tmp_path / "c"
    _copy_products(a, c)
    run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", b, *args, "--niter", "40", "--threshold", "0mJy",
               "--restart")
    run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", c, *args, "--niter", "40", "--threshold", "0mJy",
               "--restart", "--calcpsf", "false")
    mb, _ = load_casa(str(b) + ".model")
    rb, _ = load_casa(str(b) + ".residual")
    # The restarted run keeps every earlier component and cleans further.
    assert (np.abs(mb) >= 0).all() and mb.sum() > ma.sum() * 1.05
    assert np.abs(mb[ma != 0]).min() > 0
    assert np.std(rb) < np.std(ra)
    # Reusing the PSF gives the same result as recomputing it (the PSF product is the computed PSF).
    mc, _ = load_casa(str(c) + ".model")
    rc, _ = load_casa(str(c) + ".residual")
    np.testing.assert_array_equal(mc, mb)
    np.testing.assert_array_equal(rc, rb)


def test_restart_and_reused_products_are_read_per_block(msdir, tmp_path, monkeypatch):
    """Issue 13 item 7: a restart's model and a calcpsf=false PSF are read per block (only the
    block's channels, in the process that runs it) from a copy set aside before the run rewrites
    them, not whole at set-up; a 2-block run gives the products of a 1-block run, bit for bit."""
    a = tmp_path / "a"
    args = [a for a in BASE if a not in ("--threshold", "10mJy")] + ["--niter", "40", "--threshold", "0mJy"]
    run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", a, *args)
    runs = {}
    monkeypatch.setenv("PCLEAN_LOG", "info,pclean_engine::products::reuse=debug")
    for name, chunk in (("two", "2"), ("one", "3")):
        d = tmp_path / name
        _copy_products(a, d)
        # Every block's planes held (`--cube-resident-chans 3`): a paged block reads its reused
        # planes per group of resident channels instead (tests/python/test_paged_cube.py).
        p = run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", d, *args, "--restart",
                       "--calcpsf", "false", "--cube-chunksize", chunk, "--cube-resident-chans", "3")
        reads = sorted(l.split("read channels ")[1].split(" of ")[0] + " " + l.split(": read")[0].split()[-1]
                       for l in p.stderr.splitlines() if "read channels" in l)
        runs[name] = (d, reads)
        # The copies set aside are removed after the run.
        assert not list(tmp_path.glob(name + ".*.pclean-reuse"))
    # The 3-channel cube in blocks 0..2 and 2..3: each block read only its own planes of the
    # model (restart) and the PSF (calcpsf=false); the one-block run read 0..3 once each.
    assert runs["two"][1] == ["0..2 calcpsf=false", "0..2 model", "2..3 calcpsf=false", "2..3 model"]
    assert runs["one"][1] == ["0..3 calcpsf=false", "0..3 model"]
    for ext in ("model", "residual", "image", "psf"):
        x, _ = load_casa(str(runs["two"][0]) + "." + ext)
        y, _ = load_casa(str(runs["one"][0]) + "." + ext)
        np.testing.assert_array_equal(x, y, err_msg=ext)


def test_calcres_false_restores_without_touching_data(msdir, tmp_path):
    a = tmp_path / "a"
    run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", a, *BASE, "--niter", "100")
    ra, _ = load_casa(str(a) + ".residual")
    # Re-restore with a different beam from the existing model and residual only.
    run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", a, *BASE, "--niter", "0", "--restart",
               "--calcres", "false", "--calcpsf", "false", "--restoringbeam", "90arcsec")
    rb, _ = load_casa(str(a) + ".residual")
    np.testing.assert_array_equal(rb, ra)
    img, im = load_casa(str(a) + ".image")
    from compare import casa_beams
    assert all(abs(b[0] - 90) < 1e-6 and abs(b[1] - 90) < 1e-6 for b in casa_beams(im))


def test_reuse_without_restart_is_an_error(msdir, tmp_path):
    p = run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", tmp_path / "x", *BASE, "--calcpsf", "false",
                   check=False)
    assert p.returncode != 0 and "restart" in p.stderr.splitlines()[-1]
