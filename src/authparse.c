/* placeholder */
#include "authparse.h"
