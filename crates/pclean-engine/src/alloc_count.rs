//! Exact heap accounting: a global allocator that wraps the system allocator and counts the bytes
//! live now and at peak, for the whole process and per task slot.
//!
//! A binary opts in with
//! `#[global_allocator] static A: pclean_engine::alloc_count::CountingAlloc = CountingAlloc;`
//! (the `pclean` CLI does). Each worker thread that runs channel blocks, and every thread of its
//! rayon pool, is tagged with a slot (the worker's index); allocations and frees made by a tagged
//! thread also count toward its slot, so [`slot_begin`] / [`slot_peak_since`] give the peak heap a
//! task added on top of what was live when it started. Without the allocator installed every
//! query returns `None`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

/// Task slots (worker threads running blocks); threads with a higher slot are counted only in
/// the process totals.
pub const SLOTS: usize = 64;

static INSTALLED: AtomicBool = AtomicBool::new(false);
static CURRENT: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicIsize = AtomicIsize::new(0);
static SLOT_CURRENT: [AtomicIsize; SLOTS] = [ZERO; SLOTS];
static SLOT_PEAK: [AtomicIsize; SLOTS] = [ZERO; SLOTS];

thread_local! {
    static SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// The counting allocator (a thin wrapper of [`System`]).
pub struct CountingAlloc;

/// Count `delta` bytes allocated (positive) or freed (negative) by the calling thread. Used by
/// [`CountingAlloc`] and by a binary that counts at the C allocator instead (the `pclean` CLI
/// replaces `malloc` and friends, so casacore's C++ heap is counted too); marks the counting as
/// installed.
pub fn record_bytes(delta: isize) {
    if !INSTALLED.load(Ordering::Relaxed) {
        INSTALLED.store(true, Ordering::Relaxed);
    }
    record(delta);
}

fn record(delta: isize) {
    let now = CURRENT.fetch_add(delta, Ordering::Relaxed) + delta;
    if delta > 0 {
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
    let slot = SLOT.try_with(|s| s.get()).unwrap_or(usize::MAX);
    if slot < SLOTS {
        let now = SLOT_CURRENT[slot].fetch_add(delta, Ordering::Relaxed) + delta;
        if delta > 0 {
            SLOT_PEAK[slot].fetch_max(now, Ordering::Relaxed);
        }
    }
}

// SAFETY: every call is forwarded to `System` unchanged; the counters never touch the memory.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            INSTALLED.store(true, Ordering::Relaxed);
            record(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            INSTALLED.store(true, Ordering::Relaxed);
            record(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator (i.e. System) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        record(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            record(new_size as isize - layout.size() as isize);
        }
        p
    }
}

/// Whether the counting allocator is the global allocator of this process.
pub fn installed() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// Bytes allocated through Rust's allocator and not yet freed.
pub fn current_bytes() -> Option<u64> {
    installed().then(|| CURRENT.load(Ordering::Relaxed).max(0) as u64)
}

/// The most bytes live at once since the process started.
pub fn peak_bytes() -> Option<u64> {
    installed().then(|| PEAK.load(Ordering::Relaxed).max(0) as u64)
}

/// Tag the calling thread with `slot` (a worker index below [`SLOTS`]).
pub fn set_thread_slot(slot: usize) {
    let _ = SLOT.try_with(|s| s.set(slot));
}

/// Start measuring a task in `slot`: its peak is reset to what the slot holds now, which is
/// returned as the baseline.
pub fn slot_begin(slot: usize) -> isize {
    if slot >= SLOTS {
        return 0;
    }
    let now = SLOT_CURRENT[slot].load(Ordering::Relaxed);
    SLOT_PEAK[slot].store(now, Ordering::Relaxed);
    now
}

/// Peak bytes the task in `slot` held above `baseline` (from [`slot_begin`]).
pub fn slot_peak_since(slot: usize, baseline: isize) -> Option<u64> {
    (installed() && slot < SLOTS)
        .then(|| (SLOT_PEAK[slot].load(Ordering::Relaxed) - baseline).max(0) as u64)
}

/// Hand the heap's free pages back to the system (glibc's `malloc_trim(0)`; a no-op elsewhere).
/// Called by a cube block after it drops its densities and before each major cycle's residual
/// pass: a block holds its prepared chunks (`source::prepare_block`) across its passes, the
/// buffers it frees later lie below them, and glibc trims only the top of its heap (its threshold
/// raised by the adaptive mmap threshold), so those pages stayed resident. Measured
/// (tests/python/test_memory_model.py, 512^2 x 4 Hogbom, 2 threads): resident beyond the heap
/// 5.7-6.0 MiB without, 4.1-4.7 MiB with (docs/decisions.md (s11-perf)). Not called right after
/// preparing: that also returned the visibility cache read's residue, which the memory model
/// counts. Cost: one walk of the heap's free chunks per call.
pub fn release_free_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::os::raw::c_int;
        }
        // SAFETY: malloc_trim only returns free pages of glibc's heap to the kernel; it takes the
        // arena lock itself and touches no live allocation.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// Make glibc give freed memory back to the system at `free` for the rest of the process: buffers
/// of 128 KiB and more are mapped apart (and unmapped when freed) and the heap's free top is
/// trimmed beyond 128 KiB, instead of glibc's adaptive thresholds, which keep freed grids and
/// planes resident (RSS beyond the live heap varied 3.7-7.9 MiB between identical runs of
/// test_scheduling's memory-limited cube, heap 29.08 MiB in each). Called when the user sets
/// `--memory-limit`, where the limit must bound the resident set. Cost: every large buffer is
/// mapped and page-faulted afresh (22-52% more CPU on the issue-18 1024^2 x 64 dirty cube,
/// docs/decisions.md (s12-perf)), hence not the default.
pub fn return_freed_memory_at_free() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn mallopt(
                param: std::os::raw::c_int,
                value: std::os::raw::c_int,
            ) -> std::os::raw::c_int;
        }
        // glibc's malloc.h: M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3.
        const M_TRIM_THRESHOLD: std::os::raw::c_int = -1;
        const M_MMAP_THRESHOLD: std::os::raw::c_int = -3;
        // SAFETY: mallopt only changes glibc's allocation thresholds; live allocations are
        // untouched.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 128 << 10);
            mallopt(M_TRIM_THRESHOLD, 128 << 10);
        }
    }
}
