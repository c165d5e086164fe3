/* placeholder until the OCI client lands */
#include "registry.h"
#include <string.h>
void resolved_release(struct resolved *r) { (void)r; }
enum wp_err registry_new(const struct ref *r, const struct fetch_opts *o, double deadline,
			 struct registry **out, struct error *err)
{ (void)r; (void)o; (void)deadline; *out = NULL; return error_set(err, WP_EFAIL, "OCI not yet"); }
void registry_free(struct registry *reg) { (void)reg; }
enum wp_err registry_resolve(struct registry *reg, const char *platform, bool need_module,
			     struct resolved *res, struct error *err)
{ (void)reg; (void)platform; (void)need_module; (void)res; return error_set(err, WP_EFAIL, "x"); }
enum wp_err registry_fetch_blob(struct registry *reg, const struct descriptor *d, struct fetch *f,
				struct error *err)
{ (void)reg; (void)d; (void)f; return error_set(err, WP_EFAIL, "x"); }
