"""Bad input: each case gives a one-line error naming the problem, a non-zero exit, no panic and no
partial products; existing products are never destroyed without --overwrite."""
import shutil

import pytest

from conftest import run_pclean

BASE = ["--imsize", "64", "--cell", "15arcsec", "--niter", "0"]


def assert_clean_failure(p, *needles, outprefix=None):
    assert p.returncode != 0
    err = p.stderr.strip()
    assert "panicked" not in err and "RUST_BACKTRACE" not in err, err
    last = err.splitlines()[-1]
    assert last.startswith("error:"), err
    for n in needles:
        assert n.lower() in last.lower(), (n, last)
    if outprefix is not None:
        leftovers = list(outprefix.parent.glob(outprefix.name + ".*"))
        assert not leftovers, leftovers


@pytest.mark.parametrize("extra,needles", [
    (["--imsize", "-5"], ["imsize"]),
    (["--imsize", "0"], ["imsize"]),
    (["--spw", "99"], ["spw", "99"]),
    (["--field", "nosuchfield"], ["field", "nosuchfield"]),
    (["--spw", "0:abc"], ["spw"]),
    (["--antenna", "&&&!"], ["antenna"]),
    (["--uvrange", "5parsec"], ["uvrange"]),
    (["--cell", "15parsec"], ["cell"]),
    (["--weighting", "fancy"], ["weighting"]),
])
def test_bad_parameters(msdir, tmp_path, extra, needles):
    out = tmp_path / "bad"
    p = run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", out, *BASE, *extra, check=False)
    assert_clean_failure(p, *needles, outprefix=out)


def test_missing_ms(tmp_path):
    out = tmp_path / "x"
    p = run_pclean("image", "--vis", "/nonexistent.ms", "--imagename", out, *BASE, check=False)
    assert_clean_failure(p, "/nonexistent.ms", outprefix=out)


def test_directory_that_is_not_an_ms(tmp_path):
    (tmp_path / "empty.ms").mkdir()
    out = tmp_path / "x"
    p = run_pclean("image", "--vis", tmp_path / "empty.ms", "--imagename", out, *BASE, check=False)
    assert_clean_failure(p, "empty.ms", outprefix=out)


def test_missing_column(msdir, tmp_path):
    from casacore.tables import table
    ms = tmp_path / "nomodel.ms"
    shutil.copytree(msdir / "ngc5921.ms", ms)
    t = table(str(ms), readonly=False, ack=False)
    t.removecols(["MODEL_DATA"])
    t.close()
    out = tmp_path / "x"
    p = run_pclean("image", "--vis", ms, "--imagename", out, *BASE, "--datacolumn", "model", check=False)
    assert_clean_failure(p, "MODEL_DATA", outprefix=out)


def test_unknown_config_key(msdir, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('imsize = [64]\nbogus_parameter = 3\n')
    out = tmp_path / "x"
    p = run_pclean("image", "--config", cfg, "--vis", msdir / "ngc5921.ms", "--imagename", out, check=False)
    assert_clean_failure(p, "bogus_parameter", outprefix=out)


def test_existing_products_are_kept_without_overwrite(msdir, tmp_path):
    out = tmp_path / "keep"
    run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", out, *BASE, "--spw", "0:20~21",
               "--specmode", "cube")
    before = sorted(p.name for p in tmp_path.iterdir())
    stamp = (tmp_path / "keep.psf" / "table.dat").stat().st_mtime_ns
    p = run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", out, *BASE, check=False)
    assert_clean_failure(p, "overwrite")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "keep.psf" / "table.dat").stat().st_mtime_ns == stamp
    run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", out, *BASE, "--overwrite")


def test_config_file_and_dump(msdir, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("imsize: [64]\ncell: ['20arcsec']\nweighting: briggs\n")
    p = run_pclean("image", "--config", cfg, "--robust", "1.0", "--dump-config")
    text = p.stdout
    assert "imsize = [64]" in text and 'cell = ["20arcsec"]' in text
    assert "robust = 1.0" in text and 'weighting = "briggs"' in text
    assert 'specmode = "mfs"' in text  # defaults are filled in




def test_output_into_a_closed_pipe_ends_quietly():
    # `pclean estimate ... | head -1`: the reader is gone before pclean prints; pclean ends as a
    # tool killed by SIGPIPE does (141 = 128 + 13) without calling it an internal error. The
    # pipe's read end is closed before pclean starts, so its first line meets a closed pipe.
    import os
    import subprocess
    from conftest import pclean_bin
    r, w = os.pipe()
    os.close(r)
    p = subprocess.Popen([pclean_bin(), "estimate", "--imsize", "1024"], stdout=w,
                         stderr=subprocess.PIPE)
    os.close(w)
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert "internal error" not in err, err
    assert p.returncode == 141, (p.returncode, err)
