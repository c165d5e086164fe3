/* placeholder */
#include "wasm.h"
