// Writing visibilities into a MeasurementSet's MODEL_DATA column (tclean's savemodel='modelcolumn'):
// update handles, adding MODEL_DATA the way CASA's VisSetUtil::addScrCols does, sliced writes of row
// lists with ArrayColumn::putColumnRange per run of consecutive rows, and column removal.
//
// Array layout: as in ms_glue.cc, a block of n cells of shape [ncorr, nchan] is Fortran-ordered
// [ncorr, nchan, n], i.e. C order (row, chan, corr) = vis_rcp.
//
// Thread safety: none here. The Rust side takes the per-path lock of the table for every call, the
// same lock as read handles use, so reads and writes of one table are serialised in the process.
//
// Table cache: casacore keeps one PlainTable per table name. Opening for update a table that a read
// handle already holds returns that PlainTable, turned read/write (PlainTable::reopenRW), so both
// handles see the same data and caches; nothing goes stale.
#include "glue_common.h"

#include <casacore/casa/Arrays/ArrayMath.h>
#include <casacore/casa/Arrays/Matrix.h>
#include <casacore/tables/DataMan/TiledShapeStMan.h>
#include <casacore/tables/DataMan/TiledStManAccessor.h>
#include <casacore/tables/Tables.h>

#include <climits>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>

using namespace casacore;

namespace {

Table *as_table(void *t) { return static_cast<Table *>(t); }

const char *const MODEL = "MODEL_DATA";

// The column whose cell shapes MODEL_DATA copies: DATA, else FLOAT_DATA.
String data_column(const Table &tab) {
    if (tab.tableDesc().isColumn("DATA")) return "DATA";
    if (tab.tableDesc().isColumn("FLOAT_DATA")) return "FLOAT_DATA";
    throw AipsError("the MeasurementSet has neither a DATA nor a FLOAT_DATA column");
}

// VisSetUtil::addScrCols: the tile shape of the data column's largest hypercube when it is tiled in
// 3-D ([corr, chan, row]), else a canonical 1 MB tile [nCorr, maxNchan/10 + 1, 131072/nCorr/tileSize + 1].
IPosition model_tile_shape(const Table &tab, const String &datacol, const Vector<Int> &nchan) {
    TableDesc actual = tab.actualTableDesc();  // by value: keep it alive while `cd` is used
    const ColumnDesc &cd = actual.columnDesc(datacol);
    if (cd.dataManagerType().contains("Tiled")) {
        try {
            ROTiledStManAccessor tsm(tab, datacol, True);
            Int64 highest = -1;
            IPosition best;
            for (uInt id = 0; id < tsm.nhypercubes(); id++) {
                Int64 product = tsm.getTileShape(id).product();
                if (product > 0 && product > highest) {
                    highest = product;
                    best = tsm.getTileShape(id);
                }
            }
            if (best.size() == 3) return best;
        } catch (const std::exception &) {
            // Fall through to the canonical shape.
        }
    }
    Int maxNchan = nchan.empty() ? 1 : max(nchan);
    Int tileSize = maxNchan / 10 + 1;
    Int nCorr = 1;
    TableColumn dc(tab, datacol);
    for (rownr_t r = 0; r < tab.nrow(); r++) {
        if (dc.isDefined(r)) {
            nCorr = dc.shape(r)(0);
            break;
        }
    }
    if (nCorr < 1) nCorr = 1;
    return IPosition(3, nCorr, tileSize, 131072 / nCorr / tileSize + 1);
}

// A data manager name not yet used in the table: `base`, else base_1, base_2, ...
String unused_dm_name(const Table &tab, const String &base) {
    Record dminfo = tab.dataManagerInfo();
    auto used = [&](const String &name) {
        for (uInt i = 0; i < dminfo.nfields(); i++) {
            const Record &dm = dminfo.subRecord(i);
            if (dm.isDefined("NAME") && dm.asString("NAME") == name) return true;
        }
        return false;
    };
    if (!used(base)) return base;
    for (int k = 1;; k++) {
        String name = base + "_" + String::toString(k);
        if (!used(name)) return name;
    }
}

// Put into cell `r` of `model` zeros of the shape of the data column's cell `r` (one zero array
// per shape, kept in `zeros`).
void put_zeros(ArrayColumn<Complex> &model, const TableColumn &dc, rownr_t r,
               std::map<std::string, Array<Complex>> &zeros) {
    IPosition shape = dc.shape(r);
    std::ostringstream key;
    key << shape;
    auto it = zeros.find(key.str());
    if (it == zeros.end()) {
        it = zeros.emplace(key.str(), Array<Complex>(shape, Complex(0.0f, 0.0f))).first;
    }
    model.put(r, it->second);
}

// Give every undefined MODEL_DATA cell among `rows` the data column's cell shape, filled with zeros.
void define_cells(Table &tab, ArrayColumn<Complex> &model, const uint64_t *rows, uint64_t n) {
    bool any = false;
    for (uint64_t i = 0; i < n && !any; i++) any = !model.isDefined(rows[i]);
    if (!any) return;
    TableColumn dc(tab, data_column(tab));
    std::map<std::string, Array<Complex>> zeros;
    for (uint64_t i = 0; i < n; i++) {
        rownr_t r = rows[i];
        if (model.isDefined(r)) continue;
        if (!dc.isDefined(r)) {
            std::ostringstream os;
            os << "row " << r << ": both MODEL_DATA and the data column are undefined";
            throw AipsError(os.str());
        }
        put_zeros(model, dc, r, zeros);
    }
}

}  // namespace

extern "C" {

// Open a table for update (automatic locking, as casacore's default for writers).
void *pc_tabw_open(const char *path, PcExc *exc) {
    Table *t = nullptr;
    PC_TRY(exc) { t = new Table(String(path), TableLock(TableLock::AutoLocking), Table::Update); }
    PC_CATCH(exc)
    return t;
}

// A full disk: casacore rewrites table.dat and the storage managers' headers through AipsIO,
// whose buffer flushes in a destructor, and a writable table writes its files again when it is
// closed; a write error (ENOSPC) there terminates the process (SIGABRT). So, as for images
// (image_glue.cc, pc_image_close): the free space is checked before each flush (pc_check_space),
// a failed write marks the MS's tables not to be written again (BaseTable::doNotWrite), and a close
// writes the tables in full where a failure is an ordinary exception before deleting them.
void pc_tabw_flush(void *t, PcExc *exc) {
    PC_TRY(exc) {
        Table &tab = *as_table(t);
        try {
            pc_check_space(tab.tableName());
            tab.flush();
        } catch (...) {
            pc_tables_do_not_write(tab.tableName());
            throw;
        }
    }
    PC_CATCH(exc)
}

// Write in full and close; errors are swallowed (use pc_tabw_flush first to see them). A failed
// write is not retried by casacore's destructors (see pc_tabw_flush).
void pc_tabw_close(void *t) {
    Table *tab = as_table(t);
    try {
        std::string root = tab->tableName();
        if (tab->isWritable()) {
            try {
                pc_tables_write_all(root);
            } catch (...) {
            }
            pc_tables_do_not_write(root);
        }
    } catch (...) {
    }
    delete tab;
}

uint64_t pc_tabw_nrows(void *t) { return as_table(t)->nrow(); }

int pc_tabw_has_column(void *t, const char *col) {
    return as_table(t)->tableDesc().isColumn(col) ? 1 : 0;
}

// Add MODEL_DATA when missing, as VisSetUtil::addScrCols does: ArrayColumnDesc<Complex> of ndim 2
// with MeasurementSet's comment, in a TiledShapeStMan ("ModelTiled") with the data column's tile
// shape; every cell gets the data column's shape, filled with zeros (CASA fills 1 on parallel hands),
// and the CHANNEL_SELECTION keyword [[0, nchan_spw], ...] that CASA's VisSet checks. `spw_nchan`
// holds NUM_CHAN of the `nspw` spectral windows (read by the caller, so that this function does not
// open the SPECTRAL_WINDOW subtable through the main table's keywords).
// *added = 1 when the column was created, 0 when it existed.
void pc_ms_ensure_model_data(void *t, const int32_t *spw_nchan, uint64_t nspw, int *added, PcExc *exc) {
    PC_TRY(exc) {
        try {
            Table &tab = *as_table(t);
            *added = 0;
            if (tab.tableDesc().isColumn(MODEL)) return;
            String datacol = data_column(tab);
            // The new column holds one Complex (8 bytes) per DATA value: refuse up front when the
            // filesystem cannot hold it (the table files' rewrite is counted by pc_check_space).
            double bytes = 0.0;
            {
                TableColumn dc(tab, datacol);
                for (rownr_t r = 0; r < tab.nrow(); r++) {
                    if (dc.isDefined(r)) bytes += 8.0 * double(dc.shape(r).product());
                }
            }
            pc_check_space(tab.tableName(), bytes);
            Vector<Int> nchan(nspw);
            for (uint64_t s = 0; s < nspw; s++) nchan(s) = spw_nchan[s];
            IPosition tile = model_tile_shape(tab, datacol, nchan);

            TableDesc td;
            td.addColumn(ArrayColumnDesc<Complex>(MODEL, "The model data column", 2));
            TiledShapeStMan stman(unused_dm_name(tab, "ModelTiled"), tile);
            tab.addColumn(td, stman);

            ArrayColumn<Complex> model(tab, MODEL);
            TableColumn dc(tab, datacol);
            std::map<std::string, Array<Complex>> zeros;
            for (rownr_t r = 0; r < tab.nrow(); r++) {
                if (dc.isDefined(r)) put_zeros(model, dc, r, zeros);
            }

            Matrix<Int> selection(2, nchan.size());
            for (size_t s = 0; s < nchan.size(); s++) {
                selection(0, s) = 0;
                selection(1, s) = nchan(s);
            }
            model.rwKeywordSet().define("CHANNEL_SELECTION", selection);
            tab.flush();
            *added = 1;
        } catch (...) {
            pc_tables_do_not_write(as_table(t)->tableName());
            throw;
        }
    }
    PC_CATCH(exc)
}

// Write channels [chan_start, chan_start + nchan) of all `ncorr` correlations of the cells of
// `rows` (ascending) of Complex array column `col` from `data` (n * nchan * ncorr complex values,
// C order (row, chan, corr)). Undefined cells are first defined as zeros of the data column's shape.
void pc_put_complex_cells(void *t, const char *col, const uint64_t *rows, uint64_t n, int64_t chan_start,
                          int64_t nchan, int64_t ncorr, const float *data, PcExc *exc) {
    PC_TRY(exc) {
        try {
            if (n == 0) return;
            Table &tab = *as_table(t);
            ArrayColumn<Complex> column(tab, col);
            define_cells(tab, column, rows, n);
            Complex *cdata = const_cast<Complex *>(reinterpret_cast<const Complex *>(data));
            Array<Complex> all(IPosition(3, ncorr, nchan, (ssize_t)n), cdata, SHARE);
            Slicer cell(IPosition(2, 0, chan_start), IPosition(2, ncorr, nchan), Slicer::endIsLength);
            uint64_t k0 = 0;
            while (k0 < n) {
                uint64_t k1 = k0 + 1;
                while (k1 < n && rows[k1] == rows[k1 - 1] + 1) k1++;
                IPosition shape = column.shape(rows[k0]);
                if (shape.size() != 2 || shape(0) != ncorr || shape(1) < chan_start + nchan) {
                    std::ostringstream os;
                    os << "row " << rows[k0] << " of " << col << " has cell shape " << shape
                       << " [corr, chan]; cannot write " << ncorr << " correlations of channels "
                       << chan_start << ".." << chan_start + nchan;
                    throw AipsError(os.str());
                }
                Array<Complex> part = all(IPosition(3, 0, 0, (ssize_t)k0),
                                          IPosition(3, ncorr - 1, nchan - 1, (ssize_t)k1 - 1));
                Slicer rowslice(IPosition(1, (ssize_t)rows[k0]), IPosition(1, (ssize_t)(k1 - k0)),
                                Slicer::endIsLength);
                column.putColumnRange(rowslice, cell, part);
                k0 = k1;
            }
        } catch (...) {
            // A write error (ENOSPC from a bucket flush): casacore must not write again at close.
            pc_tables_do_not_write(as_table(t)->tableName());
            throw;
        }
    }
    PC_CATCH(exc)
}

void pc_tabw_remove_column(void *t, const char *col, PcExc *exc) {
    PC_TRY(exc) { as_table(t)->removeColumn(col); }
    PC_CATCH(exc)
}

}  // extern "C"
