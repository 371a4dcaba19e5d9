//! The per-tile inner kernels (gridding and degridding one tile buffer, compiled for AVX2 + FMA
//! where the CPU has them) and the value sources they read.

use super::tiles::{locate_on_grid, Entry, Geometry, SendPtr};
use super::uvgrid::Real;
use super::{BUF_STRIDE, TILE};
use crate::kernel::MAX_SUPPORT;
use ndarray::{ArrayView2, ArrayViewMut2};
use num_complex::{Complex, Complex32};

/// Output visibilities written from several threads; each `(row, chan)` is written once.
pub(super) struct SharedVis {
    pub(super) ptr: SendPtr<Complex32>,
    pub(super) strides: (isize, isize),
}

impl SharedVis {
    pub(super) fn new(mut v: ArrayViewMut2<Complex32>) -> Self {
        let st = v.strides();
        Self {
            strides: (st[0], st[1]),
            ptr: SendPtr(v.as_mut_ptr()),
        }
    }

    /// # Safety
    /// `(r, c)` must be in bounds and written by one thread only.
    #[inline(always)]
    pub(super) unsafe fn write(&self, r: usize, c: usize, v: Complex32) {
        *self
            .ptr
            .0
            .offset(r as isize * self.strides.0 + c as isize * self.strides.1) = v;
    }
}

/// Value gridded for visibility `(row, chan)`.
pub(super) trait Source<T>: Sync {
    fn value(&self, r: usize, c: usize) -> Complex<T>;
    /// Hint that `(r, c0..c0 + n)` will be read soon.
    fn prefetch(&self, r: usize, c0: usize, n: usize);
}

/// Most cache lines prefetched per array for one run of channels.
const MAX_PREFETCH_LINES: usize = 16;

/// Prefetch the cache lines of `a[r, c0..c0 + n]` (at most [`MAX_PREFETCH_LINES`] of them): a
/// run of many channels (64 per row in an mfs pass) spans several lines, of which the hardware
/// prefetcher would fetch only the first ones in time (measured: the first read of a value was
/// the gridding loop's stall).
#[inline(always)]
pub(super) fn prefetch_run<P>(a: &ArrayView2<P>, r: usize, c0: usize, n: usize) {
    if n == 0 {
        return;
    }
    if a.strides()[1] == 1 {
        // Contiguous channels: the lines from the first value's to the last's, without a
        // pointer per channel (profiled, session 15: the per-channel loop was ~4% of a 1024^2
        // image's samples with runs of 1-4 channels).
        let first = elem_ptr(a, r, c0) as usize >> 6;
        let last = elem_ptr(a, r, c0 + n - 1) as usize >> 6;
        for line in first..=last.min(first + MAX_PREFETCH_LINES - 1) {
            prefetch_ptr((line << 6) as *const u8);
        }
        return;
    }
    let mut last = usize::MAX;
    let mut lines = 0;
    for c in c0..c0 + n {
        let p = elem_ptr(a, r, c);
        let line = p as usize >> 6;
        if line != last {
            prefetch_ptr(p);
            last = line;
            lines += 1;
            if lines == MAX_PREFETCH_LINES {
                break;
            }
        }
    }
}

/// Prefetch the cache line holding `p` (no-op off x86_64).
#[inline(always)]
pub(super) fn prefetch_ptr<P>(p: *const P) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint and never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[inline(always)]
pub(super) fn elem_ptr<P>(a: &ArrayView2<P>, r: usize, c: usize) -> *const P {
    let st = a.strides();
    a.as_ptr()
        .wrapping_offset(r as isize * st[0] + c as isize * st[1])
}

pub(super) struct VisSource<'a> {
    pub(super) vis: ArrayView2<'a, Complex32>,
    pub(super) wt: ArrayView2<'a, f32>,
}

impl<T: Real> Source<T> for VisSource<'_> {
    #[inline(always)]
    fn value(&self, r: usize, c: usize) -> Complex<T> {
        // SAFETY: (r, c) comes from the index built over the validated (nrow, nchan) shape.
        let (v, w) = unsafe { (*self.vis.uget((r, c)), *self.wt.uget((r, c))) };
        let w = T::of32(w);
        Complex::new(T::of32(v.re) * w, T::of32(v.im) * w)
    }
    #[inline(always)]
    fn prefetch(&self, r: usize, c0: usize, n: usize) {
        prefetch_run(&self.vis, r, c0, n);
        prefetch_run(&self.wt, r, c0, n);
    }
}

pub(super) struct PsfSource<'a> {
    pub(super) wt: ArrayView2<'a, f32>,
}

impl<T: Real> Source<T> for PsfSource<'_> {
    #[inline(always)]
    fn value(&self, r: usize, c: usize) -> Complex<T> {
        // SAFETY: as for VisSource.
        Complex::new(T::of32(unsafe { *self.wt.uget((r, c)) }), T::zero())
    }
    #[inline(always)]
    fn prefetch(&self, r: usize, c0: usize, n: usize) {
        prefetch_run(&self.wt, r, c0, n);
    }
}

/// How many entries ahead the tile loops prefetch their inputs.
pub(super) const PREFETCH_AHEAD: usize = 4;

/// Shared read-only inputs of the tile kernels.
pub(super) struct Ctx<'a, T> {
    pub(super) geo: Geometry,
    pub(super) uvw: ArrayView2<'a, f64>,
    /// The kernel polynomials split by parity and folded by symmetry ([`HalfCoeffs`]).
    pub(super) coeffs: HalfCoeffs<T>,
}

/// Lanes of the joint u and v kernel evaluation: two blocks of up to `MAX_SUPPORT / 2` cells
/// (the first half of a kernel row; the second half is its mirror image).
pub(super) const LANES: usize = MAX_SUPPORT;

/// The cells of the first half of a kernel row, `ceil(W / 2)`, rounded up to whole 4-lane
/// vectors: the lanes of one axis in [`poly_eval_uv`].
#[inline(always)]
pub(super) const fn half_lanes(w: usize) -> usize {
    w.div_ceil(2).div_ceil(4) * 4
}

/// The kernel polynomials `p_j(s) = E_j(s^2) + s O_j(s^2)` of cells `j < ceil(W / 2)` as the
/// coefficients of their even (`E_j`) and odd (`O_j`) parts in `y = s^2`, highest power first,
/// both padded to one length with leading zeros. Lanes `0..ceil(W/2)` hold the u axis, lanes
/// `hp..hp + ceil(W/2)` (`hp = half_lanes(W)`) the v axis, zeros elsewhere.
///
/// The ES kernel is even, so cell `W - 1 - j` at `s` is cell `j` at `-s`:
/// `p_{W-1-j}(s) = E_j(s^2) - s O_j(s^2)`. One evaluation of `E` and `O` over half the cells
/// thus gives the whole row, with two Horner chains of half the degree (profiled, session 15:
/// the full-degree chain over `W` lanes per axis was the latency that bound the tile kernel).
pub(super) struct HalfCoeffs<T> {
    pub(super) even: Vec<[T; LANES]>,
    pub(super) odd: Vec<[T; LANES]>,
}

/// [`HalfCoeffs`] for support `w` from a [`crate::kernel::PolyKernel`]'s coefficients (stride
/// [`MAX_SUPPORT`] per degree, highest degree first).
pub(super) fn half_coeffs<T: Real>(poly: &[f64], w: usize) -> HalfCoeffs<T> {
    let (h, hp) = (w.div_ceil(2), half_lanes(w));
    let ndeg = poly.len() / MAX_SUPPORT;
    let degree = ndeg - 1;
    // Coefficient of s^d for cell j.
    let c = |d: usize, j: usize| poly[(degree - d) * MAX_SUPPORT + j];
    let n = degree / 2 + 1;
    let mut even = vec![[T::zero(); LANES]; n];
    let mut odd = vec![[T::zero(); LANES]; n];
    for m in 0..n {
        // Row n - 1 - m holds the coefficient of y^m.
        for j in 0..h {
            let e = T::of64(c(2 * m, j));
            even[n - 1 - m][j] = e;
            even[n - 1 - m][hp + j] = e;
            if 2 * m < degree {
                let o = T::of64(c(2 * m + 1, j));
                odd[n - 1 - m][j] = o;
                odd[n - 1 - m][hp + j] = o;
            }
        }
    }
    HalfCoeffs { even, odd }
}

impl<T: Real> Ctx<'_, T> {
    /// Footprint origin inside the tile buffer and kernel weights on both axes for the
    /// visibility at baseline `(u_m, v_m)` metres, channel `c`.
    #[inline(always)]
    pub(super) fn weights<const W: usize>(
        &self,
        u_m: f64,
        v_m: f64,
        c: usize,
        tu: usize,
        tv: usize,
    ) -> (usize, usize, [T; W], [T; W]) {
        let geo = &self.geo;
        // SAFETY: c < nchan (validated shapes).
        let (a, b) = unsafe {
            (
                u_m * *geo.fu.get_unchecked(c),
                v_m * *geo.fv.get_unchecked(c),
            )
        };
        // The index guarantees both lie on the grid.
        let [(ku, fu), (kv, fv)] = locate_on_grid([a, b], [geo.nu, geo.nv], geo.half, W);
        let (wu, wv) = poly_eval_uv::<T, W>(
            &self.coeffs,
            T::of64(2.0 * fu - 1.0),
            T::of64(2.0 * fv - 1.0),
        );
        (ku - tu * TILE, kv - tv * TILE, wu, wv)
    }

    #[inline(always)]
    pub(super) fn uv(&self, r: usize) -> (f64, f64) {
        // SAFETY: r < nrow (validated shapes, index built over them).
        unsafe { (*self.uvw.uget((r, 0)), *self.uvw.uget((r, 1))) }
    }

    #[inline(always)]
    pub(super) fn prefetch(&self, entries: &[Entry], k: usize) {
        if let Some(e) = entries.get(k + PREFETCH_AHEAD) {
            prefetch_ptr(elem_ptr(&self.uvw, e.row as usize, 0));
        }
    }
}

/// The `W` kernel weights of the u axis at `su` and of the v axis at `sv` (both in `[-1, 1]`):
/// the even and odd parts of the first half of both rows in lockstep over `2 hp` lanes
/// (`hp = half_lanes(W)`: one 8-lane `f32` vector for `W <= 8`), two independent Horner chains
/// in `s^2`, then `E + s O` for the first half of each row and `E - s O` mirrored for the
/// second ([`HalfCoeffs`]).
#[inline(always)]
pub(super) fn poly_eval_uv<T: Real, const W: usize>(
    coeffs: &HalfCoeffs<T>,
    su: T,
    sv: T,
) -> ([T; W], [T; W]) {
    let (h, hp) = (W.div_ceil(2), half_lanes(W));
    let mut s = [T::zero(); LANES];
    s[..hp].fill(su);
    s[hp..2 * hp].fill(sv);
    let mut y = [T::zero(); LANES];
    for i in 0..2 * hp {
        y[i] = s[i] * s[i];
    }
    let mut e = [T::zero(); LANES];
    let mut o = [T::zero(); LANES];
    for (ce, co) in coeffs.even.iter().zip(&coeffs.odd) {
        for i in 0..2 * hp {
            e[i] = e[i] * y[i] + ce[i];
            o[i] = o[i] * y[i] + co[i];
        }
    }
    let mut lo = [T::zero(); LANES];
    let mut hi = [T::zero(); LANES];
    for i in 0..2 * hp {
        let so = s[i] * o[i];
        lo[i] = e[i] + so;
        hi[i] = e[i] - so;
    }
    let row = |base: usize| -> [T; W] {
        std::array::from_fn(|i| {
            if i < h {
                lo[base + i]
            } else {
                hi[base + W - 1 - i]
            }
        })
    };
    (row(0), row(hp))
}

/// One tile's work, per visibility, with the kernel support `W` as a const generic: gridding
/// into ([`GridOp`]) or predicting from ([`DegridOp`]) the tile's buffer.
pub(super) trait TileOp<T: Real> {
    /// Length of the tile buffer in cells (checked once per tile against `W`).
    fn buf_len(&self) -> usize;
    /// Hint that entry `e` will be visited soon.
    fn prefetch(&self, e: &Entry);
    /// Visit one visibility; `scratch` lives for the whole tile.
    fn visit<const W: usize>(&mut self, scratch: &mut [T; 2 * MAX_SUPPORT], fp: &Footprint<T, W>);
}

/// Where visibility `(r, c)` falls in a tile buffer: its footprint starts at cell `(lu, lv)`,
/// with kernel weights `wu` along u and `wv` along v.
pub(super) struct Footprint<T, const W: usize> {
    r: usize,
    c: usize,
    lu: usize,
    lv: usize,
    wu: [T; W],
    wv: [T; W],
}

impl<T, const W: usize> Footprint<T, W> {
    /// Offset in interleaved reals of the footprint's row `j` in a tile buffer.
    #[inline(always)]
    fn row_offset(&self, j: usize) -> usize {
        2 * ((self.lv + j) * BUF_STRIDE + self.lu)
    }
}

/// Run `op` on the entries of tile `(tu, tv)` (runtime dispatch to an AVX2 + FMA build).
pub(super) fn run_tile<T: Real, const W: usize, K: TileOp<T>>(
    op: &mut K,
    ctx: &Ctx<T>,
    entries: &[Entry],
    tu: usize,
    tv: usize,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports the features enabled on `run_tile_avx2`.
        return unsafe { run_tile_avx2::<T, W, K>(op, ctx, entries, tu, tv) };
    }
    tile_body::<T, W, K>(op, ctx, entries, tu, tv)
}

/// [`tile_body`] compiled with AVX2 and FMA enabled.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_tile_avx2<T: Real, const W: usize, K: TileOp<T>>(
    op: &mut K,
    ctx: &Ctx<T>,
    entries: &[Entry],
    tu: usize,
    tv: usize,
) {
    tile_body::<T, W, K>(op, ctx, entries, tu, tv)
}

#[inline(always)]
fn tile_body<T: Real, const W: usize, K: TileOp<T>>(
    op: &mut K,
    ctx: &Ctx<T>,
    entries: &[Entry],
    tu: usize,
    tv: usize,
) {
    // The unchecked row accesses of the ops rely on this (see GridOp::visit).
    assert!(op.buf_len() >= (TILE + W - 1) * BUF_STRIDE && W.div_ceil(4) * 4 <= MAX_SUPPORT);
    let mut scratch = [T::zero(); 2 * MAX_SUPPORT];
    for (k, &e) in entries.iter().enumerate() {
        ctx.prefetch(entries, k);
        if let Some(n) = entries.get(k + PREFETCH_AHEAD) {
            op.prefetch(n);
        }
        let r = e.row as usize;
        let (u_m, v_m) = ctx.uv(r);
        for c in e.chan0 as usize..(e.chan0 + e.nch) as usize {
            let (lu, lv, wu, wv) = ctx.weights::<W>(u_m, v_m, c, tu, tv);
            debug_assert!(lu < TILE && lv < TILE);
            let fp = Footprint {
                r,
                c,
                lu,
                lv,
                wu,
                wv,
            };
            op.visit::<W>(&mut scratch, &fp);
        }
    }
}

/// Gridding into a tile buffer: `buf += value(r, c) * wu wv^T` at each visibility's footprint;
/// with `PSF`, also `psf_buf += weight(r, c) * wu wv^T` (the point-spread function's value of
/// the same visibility, [`PsfSource`]) with the same kernel weights, so one located visibility
/// feeds two grids: each buffer gets the arithmetic of its own pass, in the same order.
pub(super) struct GridOp<'b, T, S, const PSF: bool> {
    /// The tile buffer (`Complex<T>` cells) seen as interleaved `(re, im)` reals.
    bufr: &'b mut [T],
    /// The PSF's tile buffer (empty without `PSF`).
    psfr: &'b mut [T],
    /// The weights (the PSF's values; read only with `PSF`).
    wt: Option<ArrayView2<'b, f32>>,
    src: &'b S,
}

/// `buf` (`Complex<T>` cells) seen as interleaved `(re, im)` reals.
fn interleaved<T>(buf: &mut [Complex<T>]) -> &mut [T] {
    // Complex<T> is repr(C) {re, im}.
    // SAFETY: same allocation, twice as many T elements, same alignment.
    unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr() as *mut T, 2 * buf.len()) }
}

impl<'b, T: Real, S: Source<T>> GridOp<'b, T, S, false> {
    pub(super) fn new(buf: &'b mut [Complex<T>], src: &'b S) -> Self {
        GridOp {
            bufr: interleaved(buf),
            psfr: &mut [],
            wt: None,
            src,
        }
    }
}

impl<'b, T: Real, S: Source<T>> GridOp<'b, T, S, true> {
    /// Gridding `src` into `buf` and the PSF of weights `wt` into `psf_buf` (same length).
    pub(super) fn with_psf(
        buf: &'b mut [Complex<T>],
        psf_buf: &'b mut [Complex<T>],
        wt: ArrayView2<'b, f32>,
        src: &'b S,
    ) -> Self {
        assert_eq!(buf.len(), psf_buf.len());
        GridOp {
            bufr: interleaved(buf),
            psfr: interleaved(psf_buf),
            wt: Some(wt),
            src,
        }
    }
}

/// `bufr += a * wv[j]` along the footprint's rows `j` (`a`: `2 pw` interleaved reals).
#[inline(always)]
fn add_rows<T: Real, const W: usize>(bufr: &mut [T], a: &[T], fp: &Footprint<T, W>) {
    let pw = W.div_ceil(4) * 4;
    for (j, &kv) in fp.wv.iter().enumerate() {
        let off = fp.row_offset(j);
        // SAFETY: lu, lv < TILE and pw <= MAX_SUPPORT (checked in tile_body), so the row
        // segment ends at 2 * ((TILE + W - 2) * BUF_STRIDE + TILE - 1 + MAX_SUPPORT)
        // <= bufr.len().
        let row = unsafe { bufr.get_unchecked_mut(off..off + 2 * pw) };
        for (g, &x) in row.iter_mut().zip(a[..2 * pw].iter()) {
            *g += x * kv;
        }
    }
}

impl<T: Real, S: Source<T>, const PSF: bool> TileOp<T> for GridOp<'_, T, S, PSF> {
    fn buf_len(&self) -> usize {
        let n = self.bufr.len() / 2;
        if PSF {
            n.min(self.psfr.len() / 2)
        } else {
            n
        }
    }

    #[inline(always)]
    fn prefetch(&self, e: &Entry) {
        self.src
            .prefetch(e.row as usize, e.chan0 as usize, e.nch as usize);
    }

    #[inline(always)]
    fn visit<const W: usize>(&mut self, a: &mut [T; 2 * MAX_SUPPORT], fp: &Footprint<T, W>) {
        let wu = &fp.wu;
        let val = self.src.value(fp.r, fp.c);
        // a = val * wu, interleaved (re, im), zero-padded to pw cells: then each kernel row is
        // an axpy with wv[j] over whole SIMD vectors.
        for i in 0..W {
            a[2 * i] = val.re * wu[i];
            a[2 * i + 1] = val.im * wu[i];
        }
        add_rows(self.bufr, a, fp);
        if let (true, Some(wt)) = (PSF, &self.wt) {
            // The PSF's value (weight, 0), as PsfSource gives it.
            // SAFETY: as for VisSource (the same validated shape).
            let w = T::of32(unsafe { *wt.uget((fp.r, fp.c)) });
            for i in 0..W {
                a[2 * i] = w * wu[i];
                a[2 * i + 1] = T::zero() * wu[i];
            }
            add_rows(self.psfr, a, fp);
        }
    }
}

/// Degridding from a tile buffer (loaded with the grid cells it covers): each visibility is
/// `wu^T buf wv` at its footprint, written to `out`.
pub(super) struct DegridOp<'b, T> {
    bufr: &'b [T],
    out: &'b SharedVis,
}

impl<'b, T: Real> DegridOp<'b, T> {
    pub(super) fn new(buf: &'b [Complex<T>], out: &'b SharedVis) -> Self {
        // SAFETY: as in GridOp::new (read-only view).
        let bufr = unsafe { std::slice::from_raw_parts(buf.as_ptr() as *const T, 2 * buf.len()) };
        DegridOp { bufr, out }
    }
}

impl<T: Real> TileOp<T> for DegridOp<'_, T> {
    fn buf_len(&self) -> usize {
        self.bufr.len() / 2
    }

    #[inline(always)]
    fn prefetch(&self, _: &Entry) {}

    #[inline(always)]
    fn visit<const W: usize>(&mut self, _: &mut [T; 2 * MAX_SUPPORT], fp: &Footprint<T, W>) {
        let pw = W.div_ceil(4) * 4;
        let (wu, wv) = (&fp.wu, &fp.wv);
        // acc2 = sum_j wv[j] * row_j (interleaved), then contract with wu.
        let mut acc2 = [T::zero(); 2 * MAX_SUPPORT];
        for (j, &kv) in wv.iter().enumerate() {
            let off = fp.row_offset(j);
            // SAFETY: as in GridOp::visit (cells beyond W are read but not used).
            let row = unsafe { self.bufr.get_unchecked(off..off + 2 * pw) };
            for (a, &g) in acc2[..2 * pw].iter_mut().zip(row.iter()) {
                *a += g * kv;
            }
        }
        let (mut re, mut im) = (T::zero(), T::zero());
        for i in 0..W {
            re += acc2[2 * i] * wu[i];
            im += acc2[2 * i + 1] * wu[i];
        }
        let v = Complex32::new(re.to64() as f32, im.to64() as f32);
        // SAFETY: every (row, chan) appears once in the index; shapes were validated.
        unsafe { self.out.write(fp.r, fp.c, v) };
    }
}
