"""The quick-look report (issue 19): `pclean report` of the NGC5921 auto-multithresh cube and of an
mfs run, opened in headless Chromium. From the browser: every <img> loaded (naturalWidth > 0) and
where it sits on the page; from a screenshot of the page: every figure's rectangle is drawn (not
blank). From the page's source: the expected figures, and no link to anything missing or outside
the report folder. The screenshots are kept under out/report-screenshots/ (CI artifacts).

Also `pclean completions` and the grouped `pclean image --help`."""
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, require, require_module, run_pclean

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


def test_image_help_groups_parameters_as_tclean_documents_them():
    text = run_pclean("image", "--help").stdout
    headings = [line.rstrip(":") for line in text.splitlines() if line and not line.startswith(" ")
                and line.endswith(":")]
    for h in ("Data selection", "Image definition", "Gridding", "Deconvolution", "Weighting",
              "Iteration control", "Masking", "Restoration and output"):
        assert h in headings, (h, headings)
    # Each parameter under its section: the flag's line comes after its heading and before the next.
    def section_of(flag):
        current = None
        for line in text.splitlines():
            if line and not line.startswith(" ") and line.endswith(":"):
                current = line.rstrip(":")
            elif line.strip().startswith(flag + " ") or line.strip() == flag:
                return current
    assert section_of("--vis") == "Data selection"
    assert section_of("--imsize") == "Image definition"
    assert section_of("--robust") == "Weighting"
    assert section_of("--niter") == "Iteration control"
    assert section_of("--usemask") == "Masking"
