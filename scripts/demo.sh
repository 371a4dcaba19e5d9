#!/usr/bin/env bash
# Demo: image the bundled NGC5921 HI cube (46 channels, Briggs 0.5) and the ALMA continuum test set
# (dirty and cleaned with auto-multithresh) into out/demo/, then print the products and the figures against tclean's references.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p pclean-cli
mkdir -p out/demo testdata/unpacked
[ -d testdata/unpacked/ngc5921.ms ] || tar -xzf testdata/ngc5921.ms.tar.gz -C testdata/unpacked
[ -d testdata/unpacked/alma_small.ms ] || tar -xzf testdata/alma_sim.ms.tar.gz -C testdata/unpacked

./target/release/pclean image --vis testdata/unpacked/ngc5921.ms --imagename out/demo/n5921 --overwrite \
    --imsize 256 --cell 15arcsec --specmode cube --nchan 46 --start 5 --width 1 --outframe LSRK \
    --restfreq 1420.405752MHz --weighting briggs --robust 0.5 --niter 0 --pblimit -0.01 \
    > out/demo/n5921.summary.stdout.json
./target/release/pclean image --vis testdata/unpacked/alma_small.ms --imagename out/demo/amfs --overwrite \
    --imsize 512 --cell 0.1arcsec --specmode mfs --weighting briggs --robust 0.5 --niter 0 --pblimit 0.2 \
    > out/demo/amfs.summary.stdout.json
./target/release/pclean image --vis testdata/unpacked/ngc5921.ms --imagename out/demo/c5921 --overwrite \
    --imsize 256 --cell 15arcsec --specmode cube --nchan 46 --start 5 --width 1 --outframe LSRK \
    --restfreq 1420.405752MHz --weighting briggs --robust 0.5 --pblimit -0.01 \
    --deconvolver hogbom --niter 6000 --threshold 8mJy --usemask auto-multithresh \
    > out/demo/c5921.summary.stdout.json
./target/release/pclean export out/demo/n5921.residual out/demo/n5921.residual.fits --overwrite

echo "Products:"; ls -d out/demo/n5921.* out/demo/c5921.* out/demo/amfs.*
PY=python3
[ -x .venv/bin/python ] && PY=.venv/bin/python
if "$PY" -c "import casacore, astropy" 2>/dev/null; then
    "$PY" scripts/compare_reference.py out/demo
    echo "NGC5921 clean cube against tclean (restored peak, model flux, residual rms, mask overlap):"
    "$PY" scripts/compare_clean.py out/demo/c5921 testdata/reference | tail -1
else
    echo "(install python-casacore and astropy, or run scripts/test.sh once, to print the comparison with tclean)"
fi
