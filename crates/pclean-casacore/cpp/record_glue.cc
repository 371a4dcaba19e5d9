// Record-valued columns (ScalarColumn<TableRecord>): one cell reported field by field, as text lines
// "path<TAB>kind<TAB>value" through a string sink. `path` joins sub-record names with '.'; kind
// b (bool: 0/1), n (number), s (string), a (numeric array: "shape;values", casacore's axis order
// and element order), o (another type: its casacore DataType number). Numbers use %.17g, so they
// round-trip exactly.
#include "glue_common.h"

#include <casacore/casa/Arrays/Array.h>
#include <casacore/tables/Tables.h>

#include <cstdint>
#include <cstdio>
#include <string>

using namespace casacore;

extern "C" {
typedef void (*PcRecSink)(void *ctx, const char *s, size_t len);
}

namespace {

void put_num(std::string &s, double v) {
    char b[40];
    std::snprintf(b, sizeof b, "%.17g", v);
    s += b;
}

void walk(const TableRecord &rec, const std::string &prefix, PcRecSink sink, void *ctx) {
    for (uInt i = 0; i < rec.nfields(); i++) {
        std::string name = prefix + std::string(rec.name(i).c_str());
        std::string line = name + "\t";
        switch (rec.dataType(i)) {
            case TpBool:
                line += "b\t";
                line += rec.asBool(i) ? "1" : "0";
                break;
            case TpShort:
            case TpInt:
            case TpInt64:
            case TpFloat:
            case TpDouble:
                line += "n\t";
                put_num(line, rec.asDouble(i));
                break;
            case TpString:
                line += "s\t";
                line += std::string(rec.asString(i).c_str());
                break;
            case TpArrayShort:
            case TpArrayInt:
            case TpArrayInt64:
            case TpArrayFloat:
            case TpArrayDouble: {
                Array<Double> a = rec.toArrayDouble(i);
                line += "a\t";
                const IPosition sh = a.shape();
                for (size_t k = 0; k < sh.size(); k++) {
                    if (k) line += ",";
                    put_num(line, (double)sh[k]);
                }
                line += ";";
                bool del;
                const Double *p = a.getStorage(del);
                for (size_t k = 0; k < a.nelements(); k++) {
                    if (k) line += " ";
                    put_num(line, p[k]);
                }
                a.freeStorage(p, del);
                break;
            }
            case TpRecord:
                walk(rec.subRecord(i), name + ".", sink, ctx);
                continue;
            default:
                line += "o\t";
                put_num(line, (double)rec.dataType(i));
                break;
        }
        sink(ctx, line.data(), line.size());
    }
}

}  // namespace

extern "C" {

void pc_record_cell_fields(void *t, const char *col, uint64_t row, PcRecSink sink, void *ctx,
                           PcExc *exc) {
    PC_TRY(exc) {
        ScalarColumn<TableRecord> c(*static_cast<Table *>(t), col);
        TableRecord rec = c(row);
        walk(rec, "", sink, ctx);
    }
    PC_CATCH(exc)
}

}  // extern "C"
