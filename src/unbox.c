/* placeholder */
#include "unbox.h"
