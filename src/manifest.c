/* placeholder */
#include "manifest.h"
