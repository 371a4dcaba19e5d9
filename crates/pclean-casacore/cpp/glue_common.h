// Shared conventions of pclean's casacore glue: every exported function is `extern "C"`, never throws,
// and reports failure through a PcExc filled from the caught exception.
#pragma once
#include <cstring>
#include <exception>

extern "C" {
typedef struct {
    int code;          // 0: success; 1: casacore/std exception; 2: unknown exception
    char message[1024];
} PcExc;
}

inline void pc_exc_clear(PcExc *exc) {
    exc->code = 0;
    exc->message[0] = '\0';
}

inline void pc_exc_set(PcExc *exc, int code, const char *msg) {
    exc->code = code;
    std::strncpy(exc->message, msg, sizeof(exc->message) - 1);
    exc->message[sizeof(exc->message) - 1] = '\0';
}

// Wrap a body so that any exception becomes a PcExc. Usage: PC_TRY(exc) { ... } PC_CATCH(exc)
#define PC_TRY(exc) pc_exc_clear(exc); try
#define PC_CATCH(exc)                                                   \
    catch (const std::exception &e) { pc_exc_set(exc, 1, e.what()); }   \
    catch (...) { pc_exc_set(exc, 2, "unknown C++ exception"); }

#include <string>

// Throw "No space left on device: ..." when the filesystem of table directory `dir` has too
// little free space for casacore to rewrite its table files, plus `extra_bytes` the caller is
// about to add (new column data, a copy), see common.cc for why.
void pc_check_space(const std::string &dir, double extra_bytes = 0.0);

// Write every writable table at `root` or below it that is open in this process in full, as
// casacore's destructor would (table.dat and the data managers' data); throws on failure.
void pc_tables_write_all(const std::string &root);

// After a failed write: tell every table at `root` or below it that is open in this process not
// to write its files again when it is closed (see pc_image_close for why). Never throws.
void pc_tables_do_not_write(const std::string &root) noexcept;
