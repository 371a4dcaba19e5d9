"""Write testdata/reference/tclean_help_order.txt: tclean's parameters in the order of its
documentation (the <param> elements of casatasks' tclean.xml), in contiguous groups named as
`pclean image --help`'s sections. Run with the casatasks python:
    /work/casa-venv/bin/python scripts/dev/tclean_help_order.py"""
import os
import re
import sys

import casatasks

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# (section, first parameter, last parameter): contiguous runs of the XML's order.
GROUPS = [
    ("Data selection", "vis", "datacolumn"),
    ("Image definition", "imagename", "perchanweightdensity"),
    ("Gridding", "gridder", "normtype"),
    ("Deconvolution", "deconvolver", "largestscale"),
    ("Restoration", "restoration", "outlierfile"),
    ("Weighting", "weighting", "uvtaper"),
    ("Iteration control", "niter", "fullsummary"),
    ("Masking", "usemask", "fastnoise"),
    ("Output", "restart", "psfcutoff"),
]


def main():
    xml = os.path.join(os.path.dirname(casatasks.__file__), "__xml__", "tclean.xml")
    names = re.findall(r'<param [^>]*name="([^"]+)"', open(xml).read())
    out = [
        "# tclean's parameters in the order of its documentation, grouped: what `pclean image --help` must",
        "# follow (tests/python/test_report.py::test_image_help_follows_tclean_documentation_order).",
        "# Order: the <param> elements of casatasks %s's casatasks/__xml__/tclean.xml, the file CASA"
        % casatasks.version_string(),
        "# renders as tclean's documentation page (casadocs) and as inp(tclean); extracted by",
        "# scripts/dev/tclean_help_order.py. Groups: contiguous runs of that order, named as the help's",
        "# sections (the XML has no group names). `parallel` (the last <param>) is pclean's Dask group.",
    ]
    i = 0
    for group, first, last in GROUPS:
        if names[i] != first:
            sys.exit("tclean.xml changed: %s starts at %s, not %s" % (group, names[i], first))
        j = names.index(last)
        out.append("[%s]" % group)
        out += names[i:j + 1]
        i = j + 1
    if names[i:] != ["parallel"]:
        sys.exit("tclean.xml changed: after the groups: %s" % names[i:])
    path = os.path.join(ROOT, "testdata", "reference", "tclean_help_order.txt")
    open(path, "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
