/* placeholder */
#include "util.h"
