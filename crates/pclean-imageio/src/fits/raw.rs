//! A cfitsio file handle (through `fitsio::sys`) with error mapping and typed header cards.

use crate::error::ImageIoError;
use fitsio::sys as fs;
use std::ffi::CString;
use std::os::raw::{c_char, c_int};
use std::path::{Path, PathBuf};

pub(super) const TFLOAT: c_int = 42;
pub(super) const TINT: c_int = 31;
pub(super) const BINARY_TBL: c_int = 2;
pub(super) const FLOAT_IMG: c_int = -32;
/// Decimals of `E`-format floating-point cards (CASA writes `2.400000000000E+02`).
const DECIMALS: c_int = 12;

pub(super) fn cstr(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).expect("NUL removed")
}

/// The value of a header card, written with cfitsio's `ffuky*` of its type.
pub(super) enum Card<'a> {
    F64(f64),
    I64(i64),
    Bool(bool),
    Str(&'a str),
}

macro_rules! card_from {
    ($($t:ty => $variant:ident),*) => {
        $(impl<'a> From<$t> for Card<'a> {
            fn from(v: $t) -> Self {
                Card::$variant(v)
            }
        })*
    };
}
card_from!(f64 => F64, i64 => I64, bool => Bool, &'a str => Str);

impl<'a> From<&'a String> for Card<'a> {
    fn from(v: &'a String) -> Self {
        Card::Str(v)
    }
}

/// A cfitsio file handle with error mapping. Closed on drop.
pub(super) struct RawFits {
    pub(super) ptr: *mut fs::fitsfile,
    path: PathBuf,
}

impl RawFits {
    /// `Ok` for cfitsio status 0, else the error naming `what` and cfitsio's message.
    pub(super) fn check(&self, status: c_int, what: &str) -> Result<(), ImageIoError> {
        if status == 0 {
            return Ok(());
        }
        let mut buf = [0 as c_char; 81];
        // SAFETY: ffgerr writes at most 31 characters plus NUL into the buffer.
        unsafe { fs::ffgerr(status, buf.as_mut_ptr()) };
        // SAFETY: NUL-terminated by ffgerr (buffer zero-initialised).
        let message = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        Err(ImageIoError::Fits {
            path: self.path.clone(),
            what: what.to_string(),
            status,
            message,
        })
    }

    /// Run the cfitsio call `f(file, &mut status)` and check its status.
    pub(super) fn call(
        &mut self,
        what: &str,
        f: impl FnOnce(*mut fs::fitsfile, &mut c_int),
    ) -> Result<(), ImageIoError> {
        let mut status = 0;
        f(self.ptr, &mut status);
        self.check(status, what)
    }

    pub(super) fn create(path: &Path) -> Result<Self, ImageIoError> {
        // SAFETY: valid C string and out-pointers.
        Self::open_with(path, "creating file", |ptr, c, status| unsafe {
            fs::ffinit(ptr, c, status);
        })
    }

    /// Open an existing FITS file for reading and writing.
    pub(super) fn open_rw(path: &Path) -> Result<Self, ImageIoError> {
        // SAFETY: valid C string and out-pointers; 1 = READWRITE.
        Self::open_with(path, "opening file", |ptr, c, status| unsafe {
            fs::ffopen(ptr, c, 1, status);
        })
    }

    /// Run a cfitsio open/create call `open(&mut ptr, path, &mut status)` on `path`.
    fn open_with(
        path: &Path,
        what: &str,
        open: impl FnOnce(&mut *mut fs::fitsfile, *const c_char, &mut c_int),
    ) -> Result<Self, ImageIoError> {
        let s = path.to_str().ok_or_else(|| ImageIoError::Unwritable {
            path: path.to_path_buf(),
            source: std::io::Error::other("path is not valid UTF-8"),
        })?;
        let c = cstr(s);
        let mut ptr = std::ptr::null_mut();
        let mut status = 0;
        open(&mut ptr, c.as_ptr(), &mut status);
        let mut raw = RawFits {
            ptr,
            path: path.to_path_buf(),
        };
        if status != 0 {
            raw.ptr = std::ptr::null_mut();
            raw.check(status, what)?;
        }
        Ok(raw)
    }

    /// The primary image's `BITPIX` and axis lengths (`NAXIS1`, `NAXIS2`, ...; at most 8 axes).
    pub(super) fn image_params(&mut self) -> Result<(c_int, Vec<i64>), ImageIoError> {
        let (mut bitpix, mut naxis) = (0 as c_int, 0 as c_int);
        let mut naxes = [0 as std::os::raw::c_long; 8];
        // SAFETY: open file; `naxes` holds the 8 axes cfitsio may fill.
        self.call("reading BITPIX/NAXIS", |ptr, st| unsafe {
            fs::ffgipr(ptr, 8, &mut bitpix, &mut naxis, naxes.as_mut_ptr(), st);
        })?;
        let n = (naxis.max(0) as usize).min(naxes.len());
        // `c_long` is i64 on the 64-bit targets pclean builds for; i32 elsewhere.
        #[allow(clippy::useless_conversion)]
        let naxes = naxes[..n].iter().map(|&v| i64::from(v)).collect();
        Ok((bitpix, naxes))
    }

    pub(super) fn flush(&mut self) -> Result<(), ImageIoError> {
        // SAFETY: open file.
        self.call("flushing", |ptr, status| unsafe {
            fs::ffflus(ptr, status);
        })
    }

    /// Write the header card `name = value / comment`, updating a card of the same name.
    pub(super) fn key<'a>(
        &mut self,
        name: &str,
        value: impl Into<Card<'a>>,
        comment: &str,
    ) -> Result<(), ImageIoError> {
        let (cname, ccomment) = (cstr(name), cstr(comment));
        let (n, c) = (cname.as_ptr(), ccomment.as_ptr());
        let value = value.into();
        // SAFETY: open file, valid C strings.
        self.call(&format!("writing {name}"), |ptr, st| unsafe {
            match value {
                Card::F64(v) => fs::ffukyd(ptr, n, v, DECIMALS, c, st),
                Card::I64(v) => fs::ffukyj(ptr, n, v, c, st),
                Card::Bool(v) => fs::ffukyl(ptr, n, c_int::from(v), c, st),
                Card::Str(v) => fs::ffukys(ptr, n, cstr(v).as_ptr(), c, st),
            };
        })
    }

    pub(super) fn comment(&mut self, text: &str) -> Result<(), ImageIoError> {
        let c = cstr(text);
        // SAFETY: open file, valid C string.
        self.call("writing COMMENT", |ptr, status| unsafe {
            fs::ffpcom(ptr, c.as_ptr(), status);
        })
    }

    pub(super) fn close(mut self) -> Result<(), ImageIoError> {
        let mut status = 0;
        // SAFETY: open file, closed once; Drop sees a null pointer afterwards.
        unsafe { fs::ffclos(self.ptr, &mut status) };
        self.ptr = std::ptr::null_mut();
        self.check(status, "closing")
    }
}

impl Drop for RawFits {
    fn drop(&mut self) {
        if !self.ptr.is_null() {
            let mut status = 0;
            // SAFETY: open file, closed once.
            unsafe { fs::ffclos(self.ptr, &mut status) };
        }
    }
}
