"""Print how the demo products compare with tclean's references (testdata/reference)."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))
from compare import beam_errors, casa_beams, load_casa, load_fits, plane_errors  # noqa: E402

ref = Path(__file__).resolve().parents[1] / "testdata" / "reference"
out = Path(sys.argv[1] if len(sys.argv) > 1 else "out/demo")
beams = json.load(open(ref / "tclean_beams.json"))
for product in ("psf", "residual"):
    r, _, keep = load_fits(ref / ("ngc5921_tclean_dirty.%s.sub.fits.gz" % product))
    ours, _ = load_casa(out / ("n5921." + product))
    e = max(plane_errors(ours, r, channels=keep))
    print("NGC5921 %-8s worst max|diff|/peak over the inner 60%%: %.2e (channel %d; bound 5e-3)" % (product, e[0], e[1]))
    r, _, _ = load_fits(ref / ("tclean_mfs_dirty.%s.fits.gz" % product))
    ours, _ = load_casa(out / ("amfs." + product))
    print("alma mfs %-8s max|diff|/peak over the inner 60%%: %.2e (bound 5e-3)" % (product, plane_errors(ours, r)[0][0]))
_, im = load_casa(out / "n5921.image")
nb = [(b["bmaj_arcsec"], b["bmin_arcsec"], b["bpa_deg"]) for b in sorted(beams["ngc5921"], key=lambda b: b["chan"])]
print("NGC5921 beams: worst axis error %.4f, worst PA error %.2f deg (bounds 0.02, 2)" % beam_errors(casa_beams(im), nb))
_, im = load_casa(out / "amfs.image")
a = beams["alma_mfs"]
print("alma mfs beam: axis error %.4f, PA error %.2f deg" % beam_errors(casa_beams(im), [(a["bmaj_arcsec"], a["bmin_arcsec"], a["bpa_deg"])]))
