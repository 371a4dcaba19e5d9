//! Element types of table columns: casacore's type codes ([`ElemType`]) and the Rust types that
//! cells can be read into ([`ArrayElem`], [`ScalarElem`]), each bound to its typed glue functions.

use crate::error::PcExc;
use num_complex::Complex32;
use std::ffi::c_void;
use std::os::raw::{c_char, c_int};

/// casacore element data types (`casacore::DataType`), as far as pclean needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ElemType {
    Bool,
    UChar,
    Short,
    Int,
    UInt,
    Int64,
    Float,
    Double,
    Complex,
    DComplex,
    String,
    /// Any other casacore type code.
    Other(i32),
}

/// `casacore::DataType` codes of the types pclean names.
const TYPE_CODES: [(i32, ElemType); 11] = [
    (0, ElemType::Bool),
    (2, ElemType::UChar),
    (3, ElemType::Short),
    (5, ElemType::Int),
    (6, ElemType::UInt),
    (7, ElemType::Float),
    (8, ElemType::Double),
    (9, ElemType::Complex),
    (10, ElemType::DComplex),
    (11, ElemType::String),
    (32, ElemType::Int64),
];

impl ElemType {
    pub(crate) fn from_code(code: i32) -> Self {
        TYPE_CODES
            .iter()
            .find(|(c, _)| *c == code)
            .map_or(ElemType::Other(code), |(_, t)| *t)
    }
}

/// `pc_get_array_range_*` (`R = u64`: cells of rows `[start, start + n)`) and
/// `pc_get_array_cells_*` (`R = *const u64`: cells of a list of `n` rows), optionally sliced
/// (`slice_ndim, blc, len`), into `out` of `nelem` values.
#[doc(hidden)]
pub type ArrayReadFn<T, R> = unsafe extern "C" fn(
    t: *mut c_void,
    col: *const c_char,
    rows: R,
    n: u64,
    slice_ndim: c_int,
    blc: *const i64,
    len: *const i64,
    out: *mut T,
    nelem: u64,
    exc: *mut PcExc,
);
/// `pc_get_cell_*`: one whole cell of `nelem` values.
#[doc(hidden)]
pub type CellFn<T> = unsafe extern "C" fn(
    t: *mut c_void,
    col: *const c_char,
    row: u64,
    out: *mut T,
    nelem: u64,
    exc: *mut PcExc,
);
/// `pc_get_scalar_range_*`: rows `[start, start + n)` of a scalar column.
#[doc(hidden)]
pub type ScalarRangeFn<T> = unsafe extern "C" fn(
    t: *mut c_void,
    col: *const c_char,
    start: u64,
    n: u64,
    out: *mut T,
    exc: *mut PcExc,
);

mod sealed {
    pub trait Sealed {}
}

/// Element types that array columns can be read into: `i32`, `f64`, `f32`, `bool`, `Complex32`.
pub trait ArrayElem: sealed::Sealed + Copy + Default {
    #[doc(hidden)]
    const RANGE: ArrayReadFn<Self, u64>;
    #[doc(hidden)]
    const CELLS: ArrayReadFn<Self, *const u64>;
    #[doc(hidden)]
    const CELL: CellFn<Self>;
}

/// Element types that scalar columns can be read into: `i32`, `f64`, `f32`, `bool`.
pub trait ScalarElem: sealed::Sealed + Copy + Default {
    #[doc(hidden)]
    const SCALAR_RANGE: ScalarRangeFn<Self>;
}

/// Declare the typed glue reads of each element type and bind them to the traits.
macro_rules! typed_reads {
    (
        arrays { $($t:ty => $range:ident, $cells:ident, $cell:ident;)* }
        scalars { $($st:ty => $srange:ident;)* }
    ) => {
        extern "C" {
            $(
            fn $range(t: *mut c_void, col: *const c_char, start: u64, n: u64, slice_ndim: c_int,
                      blc: *const i64, len: *const i64, out: *mut $t, nelem: u64, exc: *mut PcExc);
            fn $cells(t: *mut c_void, col: *const c_char, rows: *const u64, n: u64, slice_ndim: c_int,
                      blc: *const i64, len: *const i64, out: *mut $t, nelem: u64, exc: *mut PcExc);
            fn $cell(t: *mut c_void, col: *const c_char, row: u64, out: *mut $t, nelem: u64,
                     exc: *mut PcExc);
            )*
            $(
            fn $srange(t: *mut c_void, col: *const c_char, start: u64, n: u64, out: *mut $st,
                       exc: *mut PcExc);
            )*
        }
        $(
        impl sealed::Sealed for $t {}
        impl ArrayElem for $t {
            const RANGE: ArrayReadFn<Self, u64> = $range;
            const CELLS: ArrayReadFn<Self, *const u64> = $cells;
            const CELL: CellFn<Self> = $cell;
        }
        )*
        $(
        impl ScalarElem for $st {
            const SCALAR_RANGE: ScalarRangeFn<Self> = $srange;
        }
        )*
    };
}

typed_reads! {
    arrays {
        i32 => pc_get_array_range_int, pc_get_array_cells_int, pc_get_cell_int;
        f64 => pc_get_array_range_double, pc_get_array_cells_double, pc_get_cell_double;
        f32 => pc_get_array_range_float, pc_get_array_cells_float, pc_get_cell_float;
        bool => pc_get_array_range_bool, pc_get_array_cells_bool, pc_get_cell_bool;
        Complex32 => pc_get_array_range_complex, pc_get_array_cells_complex, pc_get_cell_complex;
    }
    scalars {
        i32 => pc_get_scalar_range_int;
        f64 => pc_get_scalar_range_double;
        f32 => pc_get_scalar_range_float;
        bool => pc_get_scalar_range_bool;
    }
}
