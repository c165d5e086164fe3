/* placeholder */
#include "digest.h"
