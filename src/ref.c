/* placeholder */
#include "ref.h"
