// Bulk column reads that rubbl lacks: read-only table handles, column descriptions, scalar column
// ranges and array column ranges/cell lists with an optional per-cell slice, written straight into
// caller-owned buffers. Every function is `extern "C"`, never throws, and reports failure through PcExc.
//
// Array layout: casacore arrays are Fortran-ordered. A range read of a column whose cells have shape
// [c0, c1] (e.g. DATA: [corr, chan]) over n rows fills an array of shape [c0, c1, n], i.e. in C order
// (row, c1, c0) = (row, chan, corr).
//
// Thread safety: none here. The Rust side serialises every call on a given table path (casacore shares
// one PlainTable per table name; casacore issue #1163).
#include "glue_common.h"

#include <casacore/casa/Arrays/ArrayMath.h>
#include <casacore/tables/DataMan/TiledStMan.h>
#include <casacore/tables/Tables.h>
#include <casacore/tables/Tables/RefRows.h>

#include <cstdint>
#include <sstream>
#include <string>

using namespace casacore;

extern "C" {
// Receives one string per call (not NUL-terminated; `len` bytes).
typedef void (*PcStrSink)(void *ctx, const char *s, size_t len);

typedef struct {
    int exists;        // 0: the column does not exist (other fields unset)
    int is_array;      // 1: array column, 0: scalar column
    int dtype;         // casacore DataType of the element (TpBool=0 ... TpString=11, TpInt64=32)
    int ndim;          // declared ndim of the cells (-1 or 0 when not fixed), 0 for scalars
    int fixed_shape;   // 1 when the column has a fixed cell shape
    int row0_defined;  // 1 when the table has rows and the cell in row 0 is defined
    int shape_ndim;    // number of valid entries in `shape`
    int64_t shape[8];  // fixed shape, else the shape of row 0 (when defined), Fortran order
} PcColInfo;
}

namespace {

// casacore sizes a tiled column's cache to hold every tile a read touches (the tiles' channels
// outside the slice included; up to a quarter of the machine's memory) and keeps it after the read.
// A bulk read visits each tile once, so pclean bounds the cache of the column being read to 1 MiB
// (casacore's smallest setting; it allows a 10% overdraft and always at least one tile) and
// empties it after the read: a read holds at most ~1.1 MiB (or one tile) of cache per tiled
// column, and nothing between reads (docs/memory.md).
class TileCacheBound {
  public:
    TileCacheBound(const Table &tab, const char *colname) {
        try {
            tsm_ = dynamic_cast<TiledStMan *>(tab.findDataManager(colname, True));
        } catch (const std::exception &) {
            tsm_ = nullptr;
        }
        if (tsm_ != nullptr) tsm_->setMaximumCacheSize(1);
    }
    ~TileCacheBound() {
        try {
            if (tsm_ != nullptr) tsm_->emptyCaches();
        } catch (const std::exception &) {
            // A read-only table has nothing to flush; a failure here changes no data.
        }
    }
    TileCacheBound(const TileCacheBound &) = delete;
    TileCacheBound &operator=(const TileCacheBound &) = delete;

  private:
    TiledStMan *tsm_ = nullptr;
};

Table *as_table(void *t) { return static_cast<Table *>(t); }

IPosition ipos_from(int ndim, const int64_t *v) {
    IPosition p(ndim);
    for (int i = 0; i < ndim; i++) p[i] = v[i];
    return p;
}

void check_nelem(const IPosition &shape, uint64_t nelem, const char *what) {
    if ((uint64_t)shape.product() != nelem) {
        std::ostringstream os;
        os << what << ": the result has shape " << shape << " (" << shape.product()
           << " elements) but the caller's buffer holds " << nelem;
        throw AipsError(os.str());
    }
}

// Shape of the result of reading `nrow` cells of `col` (cell shape taken from `first_row`) with an
// optional slice (slice_ndim == 0: whole cells).
template <typename T>
IPosition result_shape(const ArrayColumn<T> &col, uint64_t first_row, uint64_t nrow, int slice_ndim,
                       const int64_t *len) {
    IPosition cell;
    if (slice_ndim == 0) {
        if (!col.isDefined(first_row)) {
            std::ostringstream os;
            os << "column " << col.columnDesc().name() << ": cell in row " << first_row
               << " is undefined";
            throw AipsError(os.str());
        }
        cell = col.shape(first_row);
    } else {
        cell = ipos_from(slice_ndim, len);
    }
    IPosition full(cell.size() + 1);
    for (size_t i = 0; i < cell.size(); i++) full[i] = cell[i];
    full[cell.size()] = nrow;
    return full;
}

template <typename T>
void get_array_range(void *t, const char *colname, uint64_t start, uint64_t n, int slice_ndim,
                     const int64_t *blc, const int64_t *len, T *out, uint64_t nelem) {
    ArrayColumn<T> col(*as_table(t), colname);
    if (n == 0) return;
    IPosition shape = result_shape(col, start, n, slice_ndim, len);
    check_nelem(shape, nelem, colname);
    Array<T> arr(shape, out, SHARE);
    TileCacheBound bound(*as_table(t), colname);
    Slicer rows(IPosition(1, start), IPosition(1, n), Slicer::endIsLength);
    if (slice_ndim == 0) {
        col.getColumnRange(rows, arr, False);
    } else {
        Slicer cell(ipos_from(slice_ndim, blc), ipos_from(slice_ndim, len), Slicer::endIsLength);
        col.getColumnRange(rows, cell, arr, False);
    }
}

template <typename T>
void get_array_cells(void *t, const char *colname, const uint64_t *rows, uint64_t n, int slice_ndim,
                     const int64_t *blc, const int64_t *len, T *out, uint64_t nelem) {
    ArrayColumn<T> col(*as_table(t), colname);
    if (n == 0) return;
    IPosition shape = result_shape(col, rows[0], n, slice_ndim, len);
    check_nelem(shape, nelem, colname);
    Array<T> arr(shape, out, SHARE);
    Vector<rownr_t> rowvec(IPosition(1, n), const_cast<rownr_t *>(reinterpret_cast<const rownr_t *>(rows)),
                           SHARE);
    RefRows refrows(rowvec, False, True);
    TileCacheBound bound(*as_table(t), colname);
    if (slice_ndim == 0) {
        col.getColumnCells(refrows, arr, False);
    } else {
        Slicer cell(ipos_from(slice_ndim, blc), ipos_from(slice_ndim, len), Slicer::endIsLength);
        col.getColumnCells(refrows, cell, arr, False);
    }
}

template <typename T>
void get_cell(void *t, const char *colname, uint64_t row, T *out, uint64_t nelem) {
    ArrayColumn<T> col(*as_table(t), colname);
    IPosition shape = col.shape(row);
    check_nelem(shape, nelem, colname);
    Array<T> arr(shape, out, SHARE);
    col.get(row, arr, False);
}

template <typename T>
void get_scalar_range(void *t, const char *colname, uint64_t start, uint64_t n, T *out) {
    ScalarColumn<T> col(*as_table(t), colname);
    if (n == 0) return;
    Vector<T> vec(IPosition(1, n), out, SHARE);
    col.getColumnRange(Slicer(IPosition(1, start), IPosition(1, n), Slicer::endIsLength), vec, False);
}

}  // namespace

extern "C" {

// Open a table read-only (no read locking: the data are not expected to change while we read them).
void *pc_tab_open(const char *path, PcExc *exc) {
    Table *t = nullptr;
    PC_TRY(exc) {
        t = new Table(String(path), TableLock(TableLock::AutoNoReadLocking), Table::Old);
    }
    PC_CATCH(exc)
    return t;
}

void pc_tab_close(void *t) {
    try {
        delete as_table(t);
    } catch (...) {
    }
}

uint64_t pc_tab_nrows(void *t) { return as_table(t)->nrow(); }

void pc_tab_column_names(void *t, PcStrSink sink, void *ctx, PcExc *exc) {
    PC_TRY(exc) {
        Vector<String> names = as_table(t)->tableDesc().columnNames();
        for (size_t i = 0; i < names.size(); i++) sink(ctx, names[i].data(), names[i].size());
    }
    PC_CATCH(exc)
}

void pc_tab_keyword_names(void *t, PcStrSink sink, void *ctx, PcExc *exc) {
    PC_TRY(exc) {
        const TableRecord &kw = as_table(t)->keywordSet();
        for (uInt i = 0; i < kw.nfields(); i++) {
            String name = kw.name(i);
            sink(ctx, name.data(), name.size());
        }
    }
    PC_CATCH(exc)
}

// `TableInfo` type string (e.g. "Measurement Set"), possibly empty.
void pc_tab_info_type(void *t, PcStrSink sink, void *ctx, PcExc *exc) {
    PC_TRY(exc) {
        String type = as_table(t)->tableInfo().type();
        sink(ctx, type.data(), type.size());
    }
    PC_CATCH(exc)
}

void pc_col_info(void *t, const char *colname, PcColInfo *out, PcExc *exc) {
    PC_TRY(exc) {
        std::memset(out, 0, sizeof(PcColInfo));
        Table &tab = *as_table(t);
        if (!tab.tableDesc().isColumn(colname)) return;
        out->exists = 1;
        const ColumnDesc &cd = tab.tableDesc().columnDesc(colname);
        out->is_array = cd.isArray() ? 1 : 0;
        out->dtype = (int)cd.dataType();
        out->ndim = cd.ndim();
        out->fixed_shape = (cd.options() & ColumnDesc::FixedShape) ? 1 : 0;
        IPosition shape;
        if (cd.isArray()) {
            TableColumn tc(tab, colname);
            if (tab.nrow() > 0 && tc.isDefined(0)) {
                out->row0_defined = 1;
                shape = tc.shape(0);
            } else if (out->fixed_shape) {
                shape = cd.shape();
            }
        } else {
            out->row0_defined = tab.nrow() > 0 ? 1 : 0;
        }
        int nd = shape.size() > 8 ? 8 : (int)shape.size();
        out->shape_ndim = nd;
        for (int i = 0; i < nd; i++) out->shape[i] = shape[i];
    }
    PC_CATCH(exc)
}

// Shape of one cell of an array column; *ndim = -1 when the cell is undefined.
void pc_cell_shape(void *t, const char *colname, uint64_t row, int64_t *shape, int *ndim, PcExc *exc) {
    PC_TRY(exc) {
        TableColumn tc(*as_table(t), colname);
        if (!tc.isDefined(row)) {
            *ndim = -1;
            return;
        }
        IPosition s = tc.shape(row);
        int nd = s.size() > 8 ? 8 : (int)s.size();
        *ndim = nd;
        for (int i = 0; i < nd; i++) shape[i] = s[i];
    }
    PC_CATCH(exc)
}

// The `MEASINFO.Ref` string of a column's keywords (the measure frame, e.g. "J2000"); the sink is not
// called when the column has no such keyword.
void pc_col_measinfo_ref(void *t, const char *colname, PcStrSink sink, void *ctx, PcExc *exc) {
    PC_TRY(exc) {
        TableColumn tc(*as_table(t), colname);
        const TableRecord &kw = tc.keywordSet();
        if (!kw.isDefined("MEASINFO")) return;
        const TableRecord &mi = kw.asRecord("MEASINFO");
        if (!mi.isDefined("Ref")) return;
        String ref = mi.asString("Ref");
        sink(ctx, ref.data(), ref.size());
    }
    PC_CATCH(exc)
}

// ---- scalar column ranges: rows [start, start + n) ----
#define PC_SCALAR_RANGE(SUFFIX, CTYPE, CASATYPE)                                                      \
    void pc_get_scalar_range_##SUFFIX(void *t, const char *col, uint64_t start, uint64_t n, CTYPE *out, \
                                      PcExc *exc) {                                                    \
        PC_TRY(exc) { get_scalar_range<CASATYPE>(t, col, start, n, reinterpret_cast<CASATYPE *>(out)); } \
        PC_CATCH(exc)                                                                                  \
    }
PC_SCALAR_RANGE(int, int32_t, Int)
PC_SCALAR_RANGE(double, double, Double)
PC_SCALAR_RANGE(float, float, Float)
PC_SCALAR_RANGE(bool, bool, Bool)

void pc_get_scalar_range_string(void *t, const char *colname, uint64_t start, uint64_t n, PcStrSink sink,
                                void *ctx, PcExc *exc) {
    PC_TRY(exc) {
        ScalarColumn<String> col(*as_table(t), colname);
        if (n == 0) return;
        Vector<String> vec =
            col.getColumnRange(Slicer(IPosition(1, start), IPosition(1, n), Slicer::endIsLength));
        for (size_t i = 0; i < vec.size(); i++) sink(ctx, vec[i].data(), vec[i].size());
    }
    PC_CATCH(exc)
}

// ---- one whole array cell ----
#define PC_CELL(SUFFIX, CTYPE, CASATYPE)                                                               \
    void pc_get_cell_##SUFFIX(void *t, const char *col, uint64_t row, CTYPE *out, uint64_t nelem,     \
                              PcExc *exc) {                                                            \
        PC_TRY(exc) { get_cell<CASATYPE>(t, col, row, reinterpret_cast<CASATYPE *>(out), nelem); }     \
        PC_CATCH(exc)                                                                                  \
    }
PC_CELL(int, int32_t, Int)
PC_CELL(double, double, Double)
PC_CELL(float, float, Float)
PC_CELL(bool, bool, Bool)
PC_CELL(complex, float, Complex)

void pc_get_cell_string(void *t, const char *colname, uint64_t row, PcStrSink sink, void *ctx,
                        PcExc *exc) {
    PC_TRY(exc) {
        ArrayColumn<String> col(*as_table(t), colname);
        Array<String> arr = col.get(row);
        for (auto it = arr.begin(); it != arr.end(); ++it) sink(ctx, it->data(), it->size());
    }
    PC_CATCH(exc)
}

// ---- array column ranges and row lists, optional cell slice (slice_ndim == 0: whole cells) ----
#define PC_ARRAY_READS(SUFFIX, CTYPE, CASATYPE)                                                        \
    void pc_get_array_range_##SUFFIX(void *t, const char *col, uint64_t start, uint64_t n,            \
                                     int slice_ndim, const int64_t *blc, const int64_t *len,          \
                                     CTYPE *out, uint64_t nelem, PcExc *exc) {                         \
        PC_TRY(exc) {                                                                                  \
            get_array_range<CASATYPE>(t, col, start, n, slice_ndim, blc, len,                          \
                                      reinterpret_cast<CASATYPE *>(out), nelem);                       \
        }                                                                                              \
        PC_CATCH(exc)                                                                                  \
    }                                                                                                  \
    void pc_get_array_cells_##SUFFIX(void *t, const char *col, const uint64_t *rows, uint64_t n,      \
                                     int slice_ndim, const int64_t *blc, const int64_t *len,          \
                                     CTYPE *out, uint64_t nelem, PcExc *exc) {                         \
        PC_TRY(exc) {                                                                                  \
            get_array_cells<CASATYPE>(t, col, rows, n, slice_ndim, blc, len,                           \
                                      reinterpret_cast<CASATYPE *>(out), nelem);                       \
        }                                                                                              \
        PC_CATCH(exc)                                                                                  \
    }
PC_ARRAY_READS(int, int32_t, Int)
PC_ARRAY_READS(double, double, Double)
PC_ARRAY_READS(float, float, Float)
PC_ARRAY_READS(bool, bool, Bool)
PC_ARRAY_READS(complex, float, Complex)

}  // extern "C"
