/* What kind of thing a SOURCE argument names (pure). */
#include "source.h"

#include "util.h"

enum source_kind source_classify(const char *s)
{
	if (str_istarts_with(s, "file://") || s[0] == '/' || str_starts_with(s, "./") ||
	    str_starts_with(s, "../"))
		return SOURCE_FILE;
	if (str_istarts_with(s, "http://") || str_istarts_with(s, "https://"))
		return SOURCE_HTTP;
	return SOURCE_OCI;
}

const char *source_file_path(const char *s)
{
	if (!str_istarts_with(s, "file://"))
		return s;
	s += 7;
	/* file://localhost/path is the same as file:///path */
	if (str_starts_with(s, "localhost/"))
		s += 9;
	return s;
}
