#!/usr/bin/env bash
# One large dirty plane (issue 18 item 3): pclean binaries and WSClean interleaved, ROUNDS rounds,
# the commands of bench/cube_bench.py with --imsize SIZE on a one-channel MS
# (bench/make_synthetic_ms.py --nchan 1). Prints wall, CPU and peak RSS of each run with the
# 1-minute load average before and after; products go to WORKDIR and are removed after each run.
#
#   bench/large_plane_bench.sh MS WORKDIR ROUNDS SIZE PCLEAN_BIN [PCLEAN_BIN ...]
#   PCLEAN_MEASURESPATH=... bench/large_plane_bench.sh /tmp/synth1.ms /tmp/lp 3 8000 \
#       /tmp/pclean-before target/release/pclean
set -euo pipefail
ms=$1 work=$2 rounds=$3 size=$4
shift 4
mkdir -p "$work"
export OMP_NUM_THREADS=2
for r in $(seq 1 "$rounds"); do
  i=0
  for tool in "$@" wsclean; do
    i=$((i + 1))
    d="$work/run$i"
    rm -rf "$d" && mkdir -p "$d"
    if [ "$tool" = wsclean ]; then
      cmd=(wsclean -name "$d/ws" -size "$size" "$size" -scale 0.1asec -weight briggs 0.5
           -channels-out 1 -no-mf-weighting -pol I -data-column DATA -padding 1.2 -j 2
           -no-update-model-required -temp-dir "$d" -nwlayers 1 -no-small-inversion -niter 0
           -make-psf "$ms")
    else
      cmd=("$tool" image --vis "$ms" --imagename "$d/p" --imsize "$size" --cell 0.1arcsec
           --specmode cubedata --nchan 1 --start 0 --width 1 --stokes I --datacolumn data
           --gridder standard --weighting briggs --robust 0.5 --pblimit -0.01
           --deconvolver hogbom --nthreads 2 --overwrite --niter 0)
    fi
    l0=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" "${cmd[@]}" > "$d.log" 2>&1
    l1=$(cut -d' ' -f1 /proc/loadavg)
    read -r w u s m < "$work/time.txt"
    echo "round $r $tool wall_s $w user_s $u sys_s $s peak_rss_mib $((m / 1024)) load $l0 $l1"
    rm -rf "$d"
  done
done
