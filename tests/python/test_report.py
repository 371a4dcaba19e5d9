"""The quick-look report (issue 19): `pclean report` of the NGC5921 auto-multithresh cube and of an
mfs run, opened in headless Chromium. From the browser: every <img> loaded (naturalWidth > 0) and
where it sits on the page; from a screenshot of the page: every figure's rectangle is drawn (not
blank). From the page's source: the expected figures, and no link to anything missing or outside
the report folder. The screenshots are kept under out/report-screenshots/ (CI artifacts).

Also `pclean completions` and the grouped `pclean image --help`."""
import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from conftest import REFERENCE, ROOT, require, require_module, run_pclean

SHOTS = ROOT / "out" / "report-screenshots"

CUBE_FIGURES = {"mom0.png", "peak.png", "spectrum_peak.png", "spectrum_mask.png", "chan_residual.png",
                "chan_beam.png", "chan_pa.png", "chan_iterations.png", "chan_stop.png", "psf.png",
                "residual_hist.png"}
# alma_mfs_clean has a pb mask (.mask) and a .pb; no .alpha (nterms=1).
MFS_FIGURES = {"image.png", "residual.png", "pb.png", "psf.png", "residual_hist.png"}

# Written into a copy of the page: after load, the <img> states and rectangles as JSON in the DOM.
PROBE = """<script>
window.addEventListener('load', () => {
  const imgs = [...document.images].map(i => {
    const r = i.getBoundingClientRect();
    return {src: i.getAttribute('src'), complete: i.complete, w: i.naturalWidth, h: i.naturalHeight,
            x: r.left + scrollX, y: r.top + scrollY, rw: r.width, rh: r.height};
  });
  const out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({imgs, height: document.documentElement.scrollHeight});
  document.body.appendChild(out);
});
</script>"""


def chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    require(exe is not None, "headless Chromium (Debian package 'chromium'; scripts/test.sh installs it)")
    return exe


def browse(exe, page, *args):
    """Run headless Chromium on `page` (a file) with `args`; its stdout."""
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--force-device-scale-factor=1", "--allow-file-access-from-files",
           "--virtual-time-budget=10000", *args, page.as_uri()]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout


class Links(HTMLParser):
    """Every src/href of a page."""

    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href"):
                self.links.append((tag, v))


def check_report(name, expected, shot_name):
    p = run_pclean("report", name)
    index = Path(p.stdout.strip())
    assert index == Path(f"{name}.report/index.html") and index.is_file()
    html = index.read_text()
    parser = Links()
    parser.feed(html)
    # No broken links: every link is a file of the report folder (the page works offline).
    for tag, link in parser.links:
        assert "://" not in link and not link.startswith("/"), (tag, link)
        assert (index.parent / link).is_file(), "broken link %s" % link
    assert {link for tag, link in parser.links if tag == "img"} == expected

    exe = chromium()
    probe_page = index.parent / "probe.html"
    probe_page.write_text(html.replace("</body>", PROBE + "</body>"))
    dom = browse(exe, probe_page, "--dump-dom")
    probe_page.unlink()
    start = dom.index('<pre id="probe">') + len('<pre id="probe">')
    state = json.loads(dom[start:dom.index("</pre>", start)].replace("&quot;", '"').replace("&amp;", "&"))
    imgs = state["imgs"]
    assert len(imgs) == len(expected)
    for i in imgs:
        # Loaded by the browser: a decoded PNG has its natural size.
        assert i["complete"] and i["w"] > 0 and i["h"] > 0, i

    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / shot_name
    height = int(state["height"]) + 16
    browse(exe, index, "--screenshot=%s" % shot, "--window-size=1400,%d" % height)
    pil = require_module("PIL.Image", "Pillow reads the screenshot (tests/python/requirements.txt)")
    rgb = np.asarray(pil.open(shot).convert("RGB")).astype(np.int16)
    for i in imgs:
        x0, y0 = int(i["x"]), int(i["y"])
        box = rgb[y0:y0 + int(i["rh"]), x0:x0 + int(i["rw"])]
        assert box.shape[0] > 50 and box.shape[1] > 50, (i, box.shape)
        # Drawn: a figure is axes, labels and data on white. Each of ours has more than 3% of its
        # pixels away from white and more than 20 distinct colours; a blank or failed image
        # (white, or a broken-image icon) has neither.
        non_white = (np.abs(box - 255).sum(axis=2) > 30).mean()
        colours = len(np.unique(box.reshape(-1, 3), axis=0))
        assert non_white > 0.03 and colours > 20, (i["src"], non_white, colours)
    return state


def test_report_of_the_ngc5921_clean_cube(ngc_clean):
    name, summary = ngc_clean
    check_report(name, CUBE_FIGURES, "ngc5921_clean_cube.png")
    html = Path(f"{name}.report/index.html").read_text()
    # The run's facts are on the page: wall time and the memory model's estimate beside the peak.
    assert "%.1f s" % summary["wall_time_s"] in html
    assert "memory model" in html and "%.0f MiB" % summary["memory_estimate_mib"] in html


# The report's figures drawn from the cube's statistics (the others come from the summary and the PSF).
STATS_FIGURES = ("mom0.png", "peak.png", "spectrum_peak.png", "spectrum_mask.png", "chan_residual.png",
                 "residual_hist.png")


def test_report_uses_the_statistics_the_run_saved(ngc_clean, tmp_path):
    """The run saves the cube's statistics while writing the planes (IMAGENAME.quicklook); the
    report drawn from them equals the report that reads the cube (products without them), and
    products written after the statistics make the report read the cube again."""
    name, _ = ngc_clean
    assert Path(f"{name}.quicklook").is_file()
    copy = tmp_path / "c"
    for suffix in ("image", "residual", "mask", "psf", "pb", "summary.json", "config.json", "quicklook"):
        src = Path(f"{name}.{suffix}")
        # copy2 / copytree keep the files' modification times (the report compares them).
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, f"{copy}.{suffix}")
    pil = require_module("PIL.Image", "Pillow reads the report's figures (tests/python/requirements.txt)")

    def report(expect):
        index = Path(run_pclean("report", copy).stdout.strip())
        assert expect in index.read_text()
        return {f: np.asarray(pil.open(index.parent / f).convert("RGB")) for f in STATS_FIGURES}

    saved = report("Statistics gathered by the run while it wrote the planes")
    again = report("Statistics gathered by the run while it wrote the planes")
    Path(f"{copy}.quicklook").unlink()
    read = report("Statistics from one pass over the products")
    for f in STATS_FIGURES:
        assert saved[f].shape == read[f].shape and np.array_equal(saved[f], again[f]), f
        # The same accumulation code on the same planes; only the moment-0 sum's order may differ
        # (the run adds channels in the order their blocks finish): a last-bit change can move a
        # pixel across one colour step. Bound: 0.1% of a figure's pixels.
        differ = (saved[f] != read[f]).any(axis=2).mean()
        assert differ <= 1e-3, (f, differ)
    # Statistics older than the products are not used (a product written after them).
    shutil.copy2(f"{name}.quicklook", f"{copy}.quicklook")
    later = Path(f"{copy}.quicklook").stat().st_mtime + 10
    os.utime(Path(f"{copy}.residual") / "table.dat", (later, later))
    report("Statistics from one pass over the products")


def test_report_of_an_mfs_run(alma_mfs_clean):
    name, _ = alma_mfs_clean
    check_report(name, MFS_FIGURES, "alma_mfs_clean.png")


def test_report_refuses_missing_products(tmp_path):
    p = run_pclean("report", tmp_path / "nothing", check=False)
    assert p.returncode != 0 and "no products of" in p.stderr and "imagename" in p.stderr


def test_completions_for_each_shell():
    for shell, marker in (("bash", "complete -F"), ("zsh", "#compdef pclean"), ("fish", "complete -c pclean")):
        p = run_pclean("completions", shell)
        assert marker in p.stdout, shell
        # The image command's flags (from the parameter schema) are completed.
        assert "--usemask" in p.stdout or "usemask" in p.stdout, shell


def help_sections():
    """`pclean image --help` as [(heading, [parameter names in order])]."""
    text = run_pclean("image", "--help").stdout
    sections = []
    for line in text.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            sections.append((line.rstrip(":"), []))
        elif line.startswith("      --") and sections:
            sections[-1][1].append(line.split()[0][2:].replace("-", "_"))
    return sections


def test_image_help_follows_tclean_documentation_order():
    """Sections, and the parameters inside them, in the order of tclean's documentation:
    testdata/reference/tclean_help_order.txt (the <param> order of casatasks 6.7's tclean.xml,
    made by scripts/dev/tclean_help_order.py)."""
    expected, section = [], None
    for line in (REFERENCE / "tclean_help_order.txt").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("["):
            section = line.strip("[]")
            expected.append((section, []))
        else:
            expected[-1][1].append(line.strip())
    shown = help_sections()
    headings = [h for h, _ in shown]
    # tclean's sections in its order, each one shown, pclean's own sections after them.
    tclean_sections = [h for h, _ in expected]
    assert [h for h in headings if h in tclean_sections] == tclean_sections, headings
    assert headings.index(tclean_sections[-1]) < headings.index("Run settings (pclean)")
    flags = dict(shown)
    for heading, names in expected:
        # Every tclean parameter pclean takes is in tclean's section, in tclean's order;
        # pclean's own parameters of that section follow tclean's.
        here = flags[heading]
        ours = [n for n in here if n in names]
        assert ours == [n for n in names if n in here], (heading, ours)
        assert here[:len(ours)] == ours, (heading, here)
        missing = [n for n in names if n not in here and any(n in f for f in flags.values())]
        assert not missing, (heading, "shown in another section", missing)
    # pclean takes almost all of tclean's parameters: the ones it does not are named here.
    all_shown = {n for _, f in shown for n in f}
    absent = {n for _, names in expected for n in names} - all_shown
    assert absent == set(), absent


def test_report_of_a_fits_format_cube(msdir, tmp_path):
    # Products written with --format fits are read by the FITS reader: the same figures as the same
    # run's CASA products (PNG bytes equal: the same pixels, coordinates and beams), and the page
    # passes the browser checks.
    args = ["--imsize", "96", "--cell", "15arcsec", "--specmode", "cube", "--spw", "0:24~26", "--outframe", "LSRK",
            "--weighting", "briggs", "--robust", "0.5", "--datacolumn", "data", "--pblimit", "0.1",
            "--niter", "60", "--threshold", "5mJy", "--usemask", "user", "--mask", "box[[36pix,36pix],[60pix,60pix]]"]
    figures = {}
    for fmt in ("casa", "fits"):
        name = tmp_path / fmt
        run_pclean("image", "--vis", msdir / "ngc5921.ms", "--imagename", name, *args, "--format", fmt)
        if fmt == "fits":
            assert Path(f"{name}.image.fits").is_file() and not Path(f"{name}.image").exists()
            check_report(name, CUBE_FIGURES, "ngc5921_fits_cube.png")
        else:
            run_pclean("report", name)
        figures[fmt] = {f: (Path(f"{name}.report") / f).read_bytes() for f in CUBE_FIGURES}
    for f in CUBE_FIGURES:
        assert figures["fits"][f] == figures["casa"][f], f
