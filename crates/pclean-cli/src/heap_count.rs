//! Whole-process heap accounting: this binary replaces the C allocator's entry points (`malloc`,
//! `free`, `calloc`, `realloc` and the aligned variants), forwards each call to glibc's own
//! implementation (`__libc_malloc`, ...) and counts the usable size of every block
//! (`pclean_engine::alloc_count::record_bytes`). Rust's allocations reach `malloc` through
//! `std::alloc::System`, and casacore's C++ allocations (its table and tile caches) through
//! `operator new`, so both are counted: the run summary's peaks are the heap of the whole process.
//!
//! glibc supports replacing these functions in the executable (glibc manual, "Replacing malloc");
//! the dynamic linker binds every library's calls to the executable's definitions. The counting
//! is two relaxed atomic adds per call and a thread-local read.

use pclean_engine::alloc_count::record_bytes;
use std::os::raw::{c_int, c_void};

extern "C" {
    fn __libc_malloc(size: usize) -> *mut c_void;
    fn __libc_calloc(n: usize, size: usize) -> *mut c_void;
    fn __libc_realloc(p: *mut c_void, size: usize) -> *mut c_void;
    fn __libc_free(p: *mut c_void);
    fn __libc_memalign(align: usize, size: usize) -> *mut c_void;
    fn __libc_valloc(size: usize) -> *mut c_void;
    fn __libc_pvalloc(size: usize) -> *mut c_void;
    fn malloc_usable_size(p: *mut c_void) -> usize;
}

/// Count a block just returned by glibc (null is not counted).
///
/// # Safety
/// `p` is null or a live block of glibc's allocator.
unsafe fn counted(p: *mut c_void) -> *mut c_void {
    if !p.is_null() {
        // SAFETY: `p` is a live block of glibc's allocator.
        record_bytes(unsafe { malloc_usable_size(p) } as isize);
    }
    p
}

/// # Safety
/// The C `malloc` contract.
#[no_mangle]
pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
    // SAFETY: forwarded to glibc unchanged.
    unsafe { counted(__libc_malloc(size)) }
}

/// # Safety
/// The C `calloc` contract.
#[no_mangle]
pub unsafe extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
    // SAFETY: forwarded to glibc unchanged.
    unsafe { counted(__libc_calloc(n, size)) }
}

/// # Safety
/// The C `free` contract: `p` is null or a live block of this allocator.
#[no_mangle]
pub unsafe extern "C" fn free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: `p` is a live block of glibc's allocator (every entry point forwards to it).
    unsafe {
        record_bytes(-(malloc_usable_size(p) as isize));
        __libc_free(p);
    }
}

/// # Safety
/// The C `realloc` contract.
#[no_mangle]
pub unsafe extern "C" fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: `p` is null or a live block of glibc's allocator; forwarded unchanged.
    unsafe {
        let old = if p.is_null() {
            0
        } else {
            malloc_usable_size(p)
        };
        let q = __libc_realloc(p, size);
        if !q.is_null() {
            record_bytes(malloc_usable_size(q) as isize - old as isize);
        } else if size == 0 {
            // realloc(p, 0) freed `p`.
            record_bytes(-(old as isize));
        }
        q
    }
}

/// # Safety
/// The C `memalign` contract.
#[no_mangle]
pub unsafe extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
    // SAFETY: forwarded to glibc unchanged.
    unsafe { counted(__libc_memalign(align, size)) }
}

/// # Safety
/// The C `aligned_alloc` contract.
#[no_mangle]
pub unsafe extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
    // SAFETY: forwarded to glibc's memalign, which accepts every alignment aligned_alloc does.
    unsafe { counted(__libc_memalign(align, size)) }
}

/// # Safety
/// The C `posix_memalign` contract: `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> c_int {
    if !align.is_power_of_two() || !align.is_multiple_of(std::mem::size_of::<*mut c_void>()) {
        return libc::EINVAL;
    }
    // SAFETY: forwarded to glibc; `out` is valid for a write by the caller's contract.
    unsafe {
        let p = counted(__libc_memalign(align, size));
        if p.is_null() {
            return libc::ENOMEM;
        }
        *out = p;
    }
    0
}

/// # Safety
/// The C `valloc` contract.
#[no_mangle]
pub unsafe extern "C" fn valloc(size: usize) -> *mut c_void {
    // SAFETY: forwarded to glibc unchanged.
    unsafe { counted(__libc_valloc(size)) }
}

/// # Safety
/// The C `pvalloc` contract.
#[no_mangle]
pub unsafe extern "C" fn pvalloc(size: usize) -> *mut c_void {
    // SAFETY: forwarded to glibc unchanged.
    unsafe { counted(__libc_pvalloc(size)) }
}

#[cfg(test)]
mod tests {
    use pclean_engine::alloc_count::{set_thread_slot, slot_begin, slot_peak_since, SLOTS};

    /// Blocks from C (here glibc's own `strdup`, which allocates inside libc as casacore's
    /// `operator new` does inside libstdc++) and from Rust are counted by their usable size.
    #[test]
    fn c_and_rust_allocations_are_counted() {
        // A slot of its own, so other tests' threads do not add to it.
        let slot = SLOTS - 1;
        set_thread_slot(slot);
        let base = slot_begin(slot);
        let text = std::ffi::CString::new(vec![b'x'; 1 << 20]).unwrap();
        let rust_bytes = slot_peak_since(slot, base).unwrap();
        // SAFETY: `text` is a valid NUL-terminated string; the copy is freed below.
        // black_box: LLVM may otherwise turn strdup into malloc + memcpy and drop the unused
        // allocation (it did once the binary's code layout changed), leaving nothing to count.
        let copy =
            std::hint::black_box(unsafe { libc::strdup(std::hint::black_box(text.as_ptr())) });
        assert!(!copy.is_null());
        let both = slot_peak_since(slot, base).unwrap();
        // SAFETY: `copy` came from strdup (malloc) and is freed once.
        unsafe { libc::free(copy.cast()) };
        // Usable sizes exceed requests by malloc's rounding: at most a page for these sizes.
        assert!(
            (1 << 20) < rust_bytes && rust_bytes < (1 << 20) + 4096,
            "{rust_bytes}"
        );
        assert!(
            both - rust_bytes > 1 << 20 && both - rust_bytes < (1 << 20) + 4096,
            "{both}"
        );
        drop(text);
        // Both freed: a new measurement from here sees nothing live.
        let after = slot_begin(slot);
        assert!(after - base < 4096, "{after} vs {base}");
    }
}
