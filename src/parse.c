/*
 * Parsers for command-line values. Strict on purpose: a typo in --timeout or
 * --max-size must be a usage error, never a silently different value.
 */
#include "parse.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

/* Go's time.Duration limit (~292 years): anything longer is a typo. */
#define DURATION_MAX 9223372036.0

/* Reads decimal digits into *v; returns the count, or -1 on overflow. */
static int read_u64(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;
	int count = 0;

	while (*s >= '0' && *s <= '9') {
		unsigned d = (unsigned)(*s - '0');
		if (n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
		s++;
		count++;
	}
	*p = s;
	*v = n;
	return count;
}

/* Reads "12" or "1.5"; a leading digit is required. */
static bool read_number(const char **p, double *v)
{
	uint64_t whole, frac;
	const char *f;
	double div = 1;

	if (read_u64(p, &whole) <= 0)
		return false;
	*v = (double)whole;
	if (**p != '.')
		return true;
	f = ++*p;
	if (read_u64(p, &frac) <= 0)
		return false;
	for (; f < *p; f++)
		div *= 10;
	*v += (double)frac / div;
	return true;
}

bool parse_duration(const char *s, double *seconds)
{
	static const struct {
		const char *name;
		double scale;
	} units[] = {
		/* "ms" before "m" so the longer suffix wins */
		{ "ms", 0.001 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 },
	};
	double total = 0, v;
	const char *p = s;
	size_t i;

	if (!s || !*s)
		return false;
	while (*p) {
		const char *start = p;

		if (!read_number(&p, &v))
			return false;
		if (!*p) {
			/* a bare number is seconds, but "1h30" is a typo */
			if (start != s)
				return false;
			total = v;
			break;
		}
		for (i = 0; i < ARRAY_SIZE(units); i++)
			if (str_starts_with(p, units[i].name))
				break;
		if (i == ARRAY_SIZE(units))
			return false;
		p += strlen(units[i].name);
		if (v > DURATION_MAX / units[i].scale)
			return false;
		total += v * units[i].scale;
		if (total > DURATION_MAX)
			return false;
	}
	if (!(total > 0) || total > DURATION_MAX)
		return false;
	*seconds = total;
	return true;
}

bool parse_size(const char *s, uint64_t *bytes)
{
	static const char prefixes[] = "kmgt";
	const char *p = s, *at;
	uint64_t n, mult = 1;

	if (!s || read_u64(&p, &n) <= 0)
		return false;
	if (*p && (at = strchr(prefixes, *p | 0x20)) != NULL) {
		mult = (uint64_t)1 << (10 * (at - prefixes + 1));
		p++;
		if (*p == 'i' || *p == 'I')
			p++;
		if (*p == 'B' || *p == 'b')
			p++;
		else if (p[-1] == 'i' || p[-1] == 'I')
			return false; /* "Ki" alone is a typo */
	} else if (*p == 'B' || *p == 'b') {
		p++;
	}
	if (*p)
		return false;
	if (n > UINT64_MAX / mult)
		return false;
	*bytes = n * mult;
	return true;
}

bool parse_sha256(const char *s, char hex[65])
{
	char out[65];
	int i;

	if (!s)
		return false;
	if (str_istarts_with(s, "sha256:"))
		s += strlen("sha256:");
	for (i = 0; i < 64; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		out[i] = c;
	}
	if (s[64])
		return false;
	out[64] = '\0';
	memcpy(hex, out, sizeof(out));
	return true;
}

void format_size(uint64_t bytes, char *buf, int len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	size_t u = 0;

	if (!buf || len <= 0)
		return;
	if (bytes < 1024) {
		snprintf(buf, (size_t)len, "%u B", (unsigned)bytes);
		return;
	}
	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	/* "256 MiB" rather than "256.0 MiB" when the value is exact */
	if (bytes % ((uint64_t)1 << (10 * u)) == 0)
		snprintf(buf, (size_t)len, "%.0f %s", v, units[u]);
	else
		snprintf(buf, (size_t)len, "%.1f %s", v, units[u]);
}

bool is_sha256_hex(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == 64;
}
