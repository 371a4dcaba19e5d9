// Storage-manager tools for pclean: describe a table's columns and data managers (what
// python-casacore's getdminfo/getcoldesc report), ask casacore's data-manager registry whether a
// storage manager type can be instantiated, and deep-copy a table with some columns rebound to
// another storage manager.
//
// Every function is extern "C", never throws, and reports failure through PcExc. Strings returned
// are malloc'd and must be released with pc_free_string.

#include "glue_common.h"

#include <casacore/casa/Arrays/ArrayMath.h>
#include <casacore/casa/Arrays/IPosition.h>
#include <casacore/casa/Arrays/Vector.h>
#include <casacore/casa/Containers/Record.h>
#include <casacore/casa/Containers/ValueHolder.h>
#include <casacore/casa/Utilities/DataType.h>
#include <casacore/tables/DataMan/DataManager.h>
#include <casacore/tables/Tables/ColumnDesc.h>
#include <casacore/tables/Tables/RowNumbers.h>
#include <casacore/tables/Tables/Table.h>
#include <casacore/tables/Tables/TableColumn.h>
#include <casacore/tables/Tables/TableDesc.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>
#include <string>

#include <dirent.h>
#include <sys/stat.h>

using namespace casacore;

static char *pc_strdup(const std::string &s) {
    char *out = static_cast<char *>(std::malloc(s.size() + 1));
    if (out != nullptr) {
        std::memcpy(out, s.c_str(), s.size() + 1);
    }
    return out;
}

// Tabs and newlines separate fields and lines of the description; keep them out of values.
static std::string pc_clean(const std::string &s) {
    std::string out(s);
    for (char &c : out) {
        if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    }
    return out;
}

template <typename T>
static std::string pc_join(const Array<T> &a) {
    std::ostringstream os;
    os.precision(17);
    os << "[";
    bool first = true;
    for (auto it = a.begin(); it != a.end(); ++it) {
        if (!first) os << ", ";
        os << *it;
        first = false;
    }
    os << "]";
    return os.str();
}

static std::string pc_value(const Record &rec, uInt i) {
    std::ostringstream os;
    os.precision(17);
    DataType t = rec.type(i);
    ValueHolder vh = rec.asValueHolder(i);
    switch (t) {
    case TpBool: os << (vh.asBool() ? "true" : "false"); break;
    case TpUChar: case TpShort: case TpUShort: case TpInt: case TpUInt: case TpInt64:
        os << vh.asInt64(); break;
    case TpFloat: case TpDouble: os << vh.asDouble(); break;
    case TpString: os << vh.asString(); break;
    case TpArrayBool: os << pc_join(vh.asArrayBool()); break;
    case TpArrayUChar: case TpArrayShort: case TpArrayUShort: case TpArrayInt: case TpArrayUInt:
    case TpArrayInt64:
        os << pc_join(vh.asArrayInt64()); break;
    case TpArrayFloat: case TpArrayDouble: os << pc_join(vh.asArrayDouble()); break;
    case TpArrayString: os << pc_join(vh.asArrayString()); break;
    default: os << "(" << ValType::getTypeStr(t) << ")"; break;
    }
    return pc_clean(os.str());
}

// One "spec" line per leaf of a (nested) SPEC record, keys joined by '.'.
static void pc_flatten(std::ostream &os, const Record &rec, const std::string &prefix) {
    for (uInt i = 0; i < rec.nfields(); i++) {
        std::string key = prefix + rec.name(i);
        if (rec.type(i) == TpRecord) {
            pc_flatten(os, rec.subRecord(i), key + ".");
        } else {
            os << "spec\t" << pc_clean(key) << "\t" << pc_value(rec, i) << "\n";
        }
    }
}

static std::string pc_shape(const IPosition &shp) {
    std::ostringstream os;
    os << "[";
    for (size_t i = 0; i < shp.nelements(); i++) {
        if (i) os << ", ";
        os << shp[i];
    }
    os << "]";
    return os.str();
}

extern "C" {

void pc_free_string(char *s) { std::free(s); }

// Describe table `path` (opened read-only) as lines of tab-separated fields:
//   nrow <n>
//   col <name> <datatype> scalar|array <ndim> <shape or ""> <shape source: fixed|row0|"">
//   dm <type> <name> <seqnr>        then, for that data manager,
//   dmcol <column>                  one per bound column, and
//   spec <dotted.key> <value>       one per leaf of its SPEC record.
// A column's shape is read from its description when fixed, else from row 0 when the table has rows
// and the cell is defined (cheap: one cell's shape, no data).
char *pc_table_storage_info(const char *path, PcExc *exc) {
    char *result = nullptr;
    PC_TRY(exc) {
        Table t(String(path), Table::Old);
        std::ostringstream os;
        os << "nrow\t" << t.nrow() << "\n";
        const TableDesc &td = t.tableDesc();
        for (uInt i = 0; i < td.ncolumn(); i++) {
            const ColumnDesc &cd = td[i];
            std::string shape, source;
            if (cd.isArray()) {
                if (cd.isFixedShape()) {
                    shape = pc_shape(cd.shape());
                    source = "fixed";
                } else if (t.nrow() > 0) {
                    TableColumn tc(t, cd.name());
                    if (tc.isDefined(0)) {
                        shape = pc_shape(tc.shape(0));
                        source = "row0";
                    }
                }
            }
            std::string dtype = ValType::getTypeStr(cd.dataType());
            while (!dtype.empty() && dtype.back() == ' ') dtype.pop_back();
            os << "col\t" << pc_clean(cd.name()) << "\t" << dtype << "\t"
               << (cd.isArray() ? "array" : "scalar") << "\t" << cd.ndim() << "\t" << shape << "\t"
               << source << "\n";
        }
        Record dminfo = t.dataManagerInfo();
        for (uInt i = 0; i < dminfo.nfields(); i++) {
            const Record &dm = dminfo.subRecord(i);
            os << "dm\t" << pc_clean(dm.asString("TYPE")) << "\t" << pc_clean(dm.asString("NAME"))
               << "\t" << (dm.isDefined("SEQNR") ? dm.asuInt("SEQNR") : i) << "\n";
            if (dm.isDefined("COLUMNS")) {
                Vector<String> cols = dm.asArrayString("COLUMNS");
                for (const String &c : cols) os << "dmcol\t" << pc_clean(c) << "\n";
            }
            if (dm.isDefined("SPEC") && dm.type(dm.fieldNumber("SPEC")) == TpRecord) {
                pc_flatten(os, dm.subRecord("SPEC"), "");
            }
        }
        result = pc_strdup(os.str());
        if (result == nullptr) throw std::bad_alloc();
    }
    PC_CATCH(exc)
    return result;
}

// 1 if casacore can instantiate data managers of type `dm_type`: registered at start-up, or loaded
// from a plugin library `libcasa_<type>.so` on request (DataManager::getCtor, the lookup made when a
// table using the type is opened); else 0 with the reason in `why` (code 0 means "not registered and
// no plugin", the plugin loader's message when it failed).
int pc_data_manager_available(const char *dm_type, PcExc *why, PcExc *exc) {
    int ok = 0;
    pc_exc_clear(why);
    PC_TRY(exc) {
        String type(dm_type);
        if (DataManager::isRegistered(type)) {
            ok = 1;
        } else {
            try {
                ok = DataManager::getCtor(type) != &DataManager::unknownDataManager ? 1 : 0;
                if (!ok) pc_exc_set(why, 0, "not registered and no plugin library registers it");
            } catch (const std::exception &e) {
                pc_exc_set(why, 0, e.what());
            }
        }
    }
    PC_CATCH(exc)
    return ok;
}

// Bytes of the files under `path` (a table directory and its subtables).
static double pc_tree_bytes(const std::string &path) {
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) return 0.0;
    if (!S_ISDIR(st.st_mode)) return double(st.st_size);
    double sum = 0.0;
    if (DIR *d = opendir(path.c_str())) {
        while (struct dirent *e = readdir(d)) {
            std::string n(e->d_name);
            if (n != "." && n != "..") sum += pc_tree_bytes(path + "/" + n);
        }
        closedir(d);
    }
    return sum;
}

// Deep-copy table `in` to `out` (which must not exist), with the columns `cols` (ncols of them)
// bound to one new data manager of type `dm_type` named `dm_name` and every other column kept in
// its data manager. Rows `row_start .. row_start + row_count` are copied (row_count < 0: all).
// Subtables are copied too (Table::deepCopy).
int pc_table_copy_rebind(const char *in, const char *out, const char *dm_type, const char *dm_name,
                         const char *const *cols, int ncols, int64_t row_start, int64_t row_count,
                         PcExc *exc) {
    PC_TRY(exc) {
        // The copy is written through casacore's destructors (the new table is closed inside
        // deepCopy), where a write error (ENOSPC) terminates the process: refuse up front when the
        // filesystem of `out` cannot hold a copy of all of `in` (selected rows: an upper bound).
        std::string outs(out);
        size_t slash = outs.find_last_of('/');
        pc_check_space(slash == std::string::npos ? std::string(".") : outs.substr(0, slash),
                       pc_tree_bytes(in));
        Table t(String(in), Table::Old);
        std::set<String> moved;
        Vector<String> newcols(ncols);
        for (int i = 0; i < ncols; i++) {
            String c(cols[i]);
            if (!t.tableDesc().isColumn(c)) {
                throw AipsError("table " + String(in) + " has no column " + c);
            }
            moved.insert(c);
            newcols[i] = c;
        }
        Record old = t.dataManagerInfo();
        Record info;
        uInt k = 0;
        for (uInt i = 0; i < old.nfields(); i++) {
            Record dm = old.subRecord(i);
            Vector<String> c = dm.asArrayString("COLUMNS");
            std::vector<String> keep;
            for (const String &name : c) {
                if (moved.count(name) == 0) keep.push_back(name);
            }
            if (keep.empty()) continue;
            dm.define("COLUMNS", Vector<String>(keep));
            info.defineRecord("*" + String::toString(++k), dm);
        }
        Record dm;
        dm.define("TYPE", String(dm_type));
        dm.define("NAME", String(dm_name));
        dm.defineRecord("SPEC", Record());
        dm.define("COLUMNS", newcols);
        info.defineRecord("*" + String::toString(++k), dm);
        if (row_count < 0) {
            t.deepCopy(String(out), info, Table::NewNoReplace, True);
        } else {
            if (row_start < 0 || (uint64_t)(row_start + row_count) > t.nrow()) {
                throw AipsError("row range out of bounds");
            }
            Vector<rownr_t> rows(row_count);
            indgen(rows, (rownr_t)row_start);
            Table sel = t(RowNumbers(rows));
            sel.deepCopy(String(out), info, Table::NewNoReplace, True);
        }
    }
    PC_CATCH(exc)
    return exc->code;
}

}  // extern "C"
