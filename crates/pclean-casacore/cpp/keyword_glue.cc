// Scalar table keywords (numbers and strings) of an open read-only table, for subtables whose
// metadata lives in keywords (e.g. the FIELD ephemeris tables: MJD0, dMJD, NAME, obsloc, ...).
// Each keyword is reported as one string "<name>\t<kind>\t<value>", kind "D" (any integer or real
// type, printed with 17 significant digits), "S" (string) or "B" (bool, "0"/"1"); records, arrays
// and other types are skipped.
#include "glue_common.h"

#include <casacore/tables/Tables.h>

#include <cstdio>
#include <string>

using namespace casacore;

extern "C" {
typedef void (*PcStrSink)(void *ctx, const char *s, size_t len);

void pc_tab_scalar_keywords(void *t, PcStrSink sink, void *ctx, PcExc *exc) {
    PC_TRY(exc) {
        const TableRecord &kw = static_cast<Table *>(t)->keywordSet();
        for (uInt i = 0; i < kw.nfields(); i++) {
            std::string out = std::string(kw.name(i).c_str()) + "\t";
            switch (kw.type(i)) {
            case TpBool:
                out += std::string("B\t") + (kw.asBool(i) ? "1" : "0");
                break;
            case TpString:
                out += std::string("S\t") + kw.asString(i).c_str();
                break;
            case TpChar: case TpUChar: case TpShort: case TpUShort: case TpInt: case TpUInt:
            case TpInt64: case TpFloat: case TpDouble: {
                char buf[64];
                std::snprintf(buf, sizeof buf, "%.17g", kw.asDouble(i));
                out += std::string("D\t") + buf;
                break;
            }
            default:
                continue;
            }
            sink(ctx, out.data(), out.size());
        }
    }
    PC_CATCH(exc)
}
}
