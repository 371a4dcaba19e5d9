// ABI version of the glue, checked by the Rust side in tests.
#include "glue_common.h"

extern "C" int pc_glue_abi_version() { return 1; }
