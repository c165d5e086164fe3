/* placeholder */
#include "parse.h"
