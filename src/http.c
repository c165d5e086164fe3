/* placeholder */
#include "http.h"
