/* What kind of thing a SOURCE argument names (pure). */
#include "source.h"

#include <string.h>

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

char *source_redact(const char *url)
{
	struct strbuf sb;
	const char *scheme_end = strstr(url, "://");
	const char *p = scheme_end ? scheme_end + 3 : url;
	const char *at, *slash, *q;

	if (source_classify(url) != SOURCE_HTTP)
		return xstrdup(url); /* references and paths carry no credentials */
	strbuf_init(&sb);
	strbuf_add(&sb, url, (size_t)(p - url));
	slash = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(slash - p));
	if (at) {
		strbuf_addstr(&sb, "<redacted>@");
		p = at + 1;
	}
	q = strchr(p, '?');
	if (q) {
		strbuf_add(&sb, p, (size_t)(q - p));
		strbuf_addstr(&sb, "?<redacted>");
	} else {
		strbuf_addstr(&sb, p);
	}
	return strbuf_detach(&sb);
}
