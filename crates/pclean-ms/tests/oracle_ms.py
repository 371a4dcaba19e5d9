"""Oracle values for crates/pclean-ms/tests/ms.rs, computed with python-casacore.

Run from the workspace root after unpacking the test MSs into testdata/:
    python3 crates/pclean-ms/tests/oracle_ms.py
The Rust tests hard-code what this prints (the test comments cite it).
"""
import numpy as np
from casacore.tables import table

C = 299792458.0


def q(ms, where, cols=("DATA",), chans=None, corr_col="DATA"):
    t = table(ms, ack=False)
    s = t.query(where) if where else t
    out = {"nrows": s.nrows()}
    for c in cols:
        d = s.getcol(c)
        if chans is not None:
            d = d[:, chans, :]
        out["sum_abs_" + c] = float(np.abs(d).astype(np.float64).sum())
    f = s.getcol("FLAG") | s.getcol("FLAG_ROW")[:, None, None]
    if chans is not None:
        f = f[:, chans, :]
    out["n_flag"] = int(f.sum())
    if "WEIGHT_SPECTRUM" in t.colnames():
        w = s.getcol("WEIGHT_SPECTRUM")
        if chans is not None:
            w = w[:, chans, :]
        out["sum_weight"] = float(w.astype(np.float64).sum())
    else:
        nch = len(chans) if chans is not None else s.getcol("FLAG").shape[1]
        out["sum_weight"] = float(s.getcol("WEIGHT").astype(np.float64).sum() * nch)
    out["sum_uvw"] = float(s.getcol("UVW").sum())
    out["sum_time_minus_t0"] = float((s.getcol("TIME") - t.getcell("TIME", 0)).sum())
    return out


ngc = "testdata/ngc5921.ms"
cross = "ANTENNA1 != ANTENNA2"
print("ngc all cross", q(ngc, cross))
print("ngc 0:5~50^3", q(ngc, cross, chans=list(range(5, 51, 3))))
print("ngc antenna 1&2 (ids 0,1)", table(ngc, ack=False).query("ANTENNA1==0 && ANTENNA2==1").nrows())
print("ngc antenna 1 (id 0) cross", table(ngc, ack=False).query("(ANTENNA1==0 || ANTENNA2==0) && " + cross).nrows())
print("ngc antenna !1 cross", table(ngc, ack=False).query("ANTENNA1!=0 && ANTENNA2!=0 && " + cross).nrows())
print("ngc antenna VLA:N7 station (id 0)", "same as antenna 1")
print("ngc scan 3 cross", table(ngc, ack=False).query("SCAN_NUMBER==3 && " + cross).nrows())
t = table(ngc, ack=False)
t0 = t.getcell("TIME", 0)
print("ngc t0", repr(t0))
# 1995/04/13/09:33:00 ~ 09:40:00
a = 4304482380.0
print("ngc timerange 09:33:00~09:40:00 cross", t.query("TIME >= %r && TIME <= %r && %s" % (a, a + 420.0, cross)).nrows())
uv = np.hypot(t.getcol("UVW")[:, 0], t.getcol("UVW")[:, 1])
x = t.getcol("ANTENNA1") != t.getcol("ANTENNA2")
print("ngc uvrange 0~1000m cross", int(((uv <= 1000) & x).sum()))
ref = table(ngc + "/SPECTRAL_WINDOW", ack=False).getcol("REF_FREQUENCY")[0]
print("ngc uvrange >5klambda cross", int(((uv * ref / C > 5000) & x).sum()))
print("ngc uvrange <2km cross", int(((uv < 2000) & x).sum()))

alma = "testdata/alma_small.ms"
print("alma all", q(alma, "", cols=("DATA", "CORRECTED_DATA")))
print("alma 0:230.001~230.003GHz -> chans 2..6", q(alma, "", cols=("DATA",), chans=[2, 3, 4, 5, 6]))
sw = table(alma + "/SPECTRAL_WINDOW", ack=False)
print("alma chan_freq", sw.getcol("CHAN_FREQ")[0].tolist())
print("alma sum|MODEL_DATA|", float(np.abs(table(alma, ack=False).getcol("MODEL_DATA")).astype(np.float64).sum()))
print("ngc sum|MODEL_DATA| cross", float(np.abs(table(ngc, ack=False).query(cross).getcol("MODEL_DATA")).astype(np.float64).sum()))
print("ngc uvrange >4klambda cross", int(((uv * ref / C > 4000) & x).sum()))
print("ngc uvrange 0.1~0.5klambda cross", int(((uv * ref / C >= 100) & (uv * ref / C <= 500) & x).sum()))
print("ngc ref freq", repr(ref))
ta = table(alma, ack=False)
uva = np.hypot(ta.getcol("UVW")[:, 0], ta.getcol("UVW")[:, 1])
print("alma uvrange <100klambda", int((uva * 230e9 / C < 1e5).sum()))
print("alma antenna A001&& (id 0; no autos in MS)", ta.query("ANTENNA1==0 || ANTENNA2==0").nrows())
