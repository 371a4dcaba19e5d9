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
