/* What kind of thing a SOURCE argument names (pure). */
#pragma once

enum source_kind { SOURCE_OCI, SOURCE_HTTP, SOURCE_FILE };

/* file://PATH, /…, ./…, ../… are files; http(s):// URLs; anything else OCI. */
enum source_kind source_classify(const char *s);
/* For SOURCE_FILE: the path part (borrowed, points into s). */
const char *source_file_path(const char *s);
/* Returns s for display: an http(s) URL without userinfo and query (they
 * carry tokens); anything else as it is. The caller frees. */
char *source_redact(const char *s);
