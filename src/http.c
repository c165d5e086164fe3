/* HTTP transport over libcurl: one easy handle per session (so connections
 * are reused), retries with backoff and Retry-After inside a deadline,
 * redirects followed by hand so credentials stay on their host and https
 * never falls to http, bodies streamed to a sink that can resume or restart. */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "source.h"

#define MAX_REDIRECTS 10
#define CONNECT_TIMEOUT_MS 30000L
/* DESIGN: a server under 1 KiB/s for 30 s has stalled */
#define STALL_BYTES_PER_S 1024L
#define STALL_SECONDS 30L
#define ERROR_BODY_MAX (64u << 10)

struct http {
	CURL *curl;
	struct http_opts o;
	char *ca_blob; /* system bundle + --ca-file, when a CA file was given */
	size_t ca_blob_len;
	char errbuf[CURL_ERROR_SIZE];
};

/* State of one transfer, shared by the curl callbacks. */
struct xfer {
	const struct http_request *req;
	struct http_response *resp;
	uint64_t *written;     /* bytes handed to the sink for this logical body */
	uint64_t range_from;   /* Range we asked for, or UINT64_MAX */
	uint64_t *total;       /* the whole body's length once known, else UINT64_MAX */
	uint64_t content_length; /* of this response, or UINT64_MAX */
	uint64_t cr_start, cr_total; /* its Content-Range, when has_cr */
	bool has_cr;
	bool bad_range;        /* a 206 that does not continue what we have */
	bool first_chunk;
	bool too_big;
	bool sink_failed;
	double retry_after;
	void (*progress)(uint64_t now, uint64_t total);
	char *location;
	char *ratelimit, *ratelimit_limit; /* Docker Hub's headers, shown with -v */
};

void http_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void http_global_cleanup(void)
{
	curl_global_cleanup();
}

const char *http_backend_version(void)
{
	return curl_version();
}

bool http_url_valid(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	bool ok = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host && *host;

	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

struct http *http_new(const struct http_opts *opts)
{
	struct http *h = xcalloc(1, sizeof(*h));

	h->o = *opts;
	if (h->o.attempts < 1)
		h->o.attempts = 1;
	h->curl = curl_easy_init();
	if (!h->curl) {
		fputs("wasmpull: cannot initialise libcurl\n", stderr);
		abort();
	}
	if (opts->ca_file) {
		/* "extra" CAs: the system bundle stays trusted, so both go in one blob */
		struct strbuf sb;
		char *sys_path = NULL, *data;
		size_t len = 0;

		strbuf_init(&sb);
		curl_easy_getinfo(h->curl, CURLINFO_CAINFO, &sys_path);
		if (sys_path && (data = read_file_max(sys_path, 64u << 20, &len))) {
			strbuf_add(&sb, data, len);
			strbuf_addstr(&sb, "\n");
			free(data);
		}
		if ((data = read_file_max(opts->ca_file, 64u << 20, &len))) {
			strbuf_add(&sb, data, len);
			free(data);
		}
		h->ca_blob_len = sb.len;
		h->ca_blob = strbuf_detach(&sb);
	}
	return h;
}

void http_free(struct http *h)
{
	if (!h)
		return;
	curl_easy_cleanup(h->curl);
	free(h->ca_blob);
	free(h);
}

void http_response_release(struct http_response *r)
{
	free(r->content_type);
	free(r->etag);
	free(r->last_modified);
	free(r->docker_digest);
	free(r->www_authenticate);
	strbuf_release(&r->body);
	memset(r, 0, sizeof(*r));
}


static void set_str(char **dst, const char *v, size_t n)
{
	free(*dst);
	*dst = xstrndup(v, n);
}

/* Appends a repeated header (several WWW-Authenticate lines) with ", ". */
static void add_str(char **dst, const char *v, size_t n)
{
	if (!*dst) {
		set_str(dst, v, n);
		return;
	}
	char *old = *dst;
	*dst = xasprintf("%s, %.*s", old, (int)n, v);
	free(old);
}

static double parse_retry_after(const char *v)
{
	char *end;
	double s = strtod(v, &end);

	if (end != v && *end == '\0')
		return s < 0 ? 0 : s;
	time_t t = curl_getdate(v, NULL);
	if (t == -1)
		return -1;
	double d = difftime(t, time(NULL));
	return d < 0 ? 0 : d;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	struct http_response *r = x->resp;
	size_t n = size * nmemb, nlen, vlen;
	const char *colon, *v;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* a new response (after 100-continue or a redirect): start clean */
		const char *sp = memchr(data, ' ', n);
		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		free(r->content_type), r->content_type = NULL;
		free(r->etag), r->etag = NULL;
		free(r->last_modified), r->last_modified = NULL;
		free(r->docker_digest), r->docker_digest = NULL;
		free(r->www_authenticate), r->www_authenticate = NULL;
		free(x->location), x->location = NULL;
		r->accept_ranges = false;
		x->retry_after = -1;
		x->has_cr = false;
		x->content_length = UINT64_MAX;
		return n;
	}
	colon = memchr(data, ':', n);
	if (!colon)
		return n;
	nlen = (size_t)(colon - data);
	v = colon + 1;
	while (v < data + n && (*v == ' ' || *v == '\t'))
		v++;
	vlen = (size_t)(data + n - v);
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;

#define IS(name) (nlen == sizeof(name) - 1 && strncasecmp(data, name, nlen) == 0)
	if (IS("content-type"))
		set_str(&r->content_type, v, vlen);
	else if (IS("etag"))
		set_str(&r->etag, v, vlen);
	else if (IS("last-modified"))
		set_str(&r->last_modified, v, vlen);
	else if (IS("docker-content-digest"))
		set_str(&r->docker_digest, v, vlen);
	else if (IS("www-authenticate"))
		add_str(&r->www_authenticate, v, vlen);
	else if (IS("location"))
		set_str(&x->location, v, vlen);
	else if (IS("accept-ranges"))
		r->accept_ranges = vlen == 5 && strncasecmp(v, "bytes", 5) == 0;
	else if (IS("retry-after")) {
		char *tmp = xstrndup(v, vlen);
		x->retry_after = parse_retry_after(tmp);
		free(tmp);
	} else if (IS("ratelimit-remaining")) {
		set_str(&x->ratelimit, v, vlen);
	} else if (IS("ratelimit-limit")) {
		set_str(&x->ratelimit_limit, v, vlen);
	} else if (IS("content-range")) {
		unsigned long long a, b, t;
		char *tmp = xstrndup(v, vlen);
		x->has_cr = sscanf(tmp, "bytes %llu-%llu/%llu", &a, &b, &t) == 3;
		x->cr_start = a, x->cr_total = t;
		free(tmp);
	} else if (IS("content-length") && r->status / 100 == 2) {
		char *tmp = xstrndup(v, vlen);
		unsigned long long cl = strtoull(tmp, NULL, 10);
		free(tmp);
		x->content_length = cl;
		uint64_t base = r->status == 206 ? *x->written : 0;
		if (x->req->max_body && base + cl > x->req->max_body) {
			x->too_big = true;
			return 0; /* aborts the transfer */
		}
	}
#undef IS
	return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	struct http_response *r = x->resp;
	const struct http_request *req = x->req;
	size_t n = size * nmemb;

	if (r->status / 100 != 2 || !req->sink.write) {
		/* error bodies and sinkless bodies are kept, bounded */
		uint64_t cap = r->status / 100 == 2 && req->max_body ? req->max_body : ERROR_BODY_MAX;
		if (r->body.len + n > cap) {
			if (r->status / 100 == 2) {
				x->too_big = true;
				return 0;
			}
			n = cap > r->body.len ? (size_t)(cap - r->body.len) : 0;
		}
		strbuf_add(&r->body, data, n);
		return size * nmemb;
	}
	if (x->first_chunk) {
		x->first_chunk = false;
		if (r->status == 206) {
			/* only the rest of the same body continues it: same start, same total */
			if (x->range_from != *x->written || !x->has_cr || x->cr_start != *x->written ||
			    (*x->total != UINT64_MAX && x->cr_total != *x->total)) {
				x->bad_range = true;
				return 0;
			}
		} else {
			if (*x->written) {
				req->sink.reset(req->sink.ctx);
				*x->written = 0;
			}
			*x->total = x->content_length;
		}
	}
	if (req->max_body && *x->written + n > req->max_body) {
		x->too_big = true;
		return 0;
	}
	if (!req->sink.write(req->sink.ctx, data, n)) {
		x->sink_failed = true;
		return 0;
	}
	*x->written += n;
	return n;
}

/* Whether url names host[:port] as written (a token realm elsewhere does not). */
static bool url_is_host(const char *url, const char *hostport)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *both = NULL;
	bool same = false;

	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		curl_url_get(u, CURLUPART_PORT, &port, 0);
		both = port ? xasprintf("%s:%s", host, port) : xstrdup(host);
		same = strcasecmp(both, hostport) == 0;
	}
	free(both);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return same;
}

static bool same_origin(const char *a, const char *b)
{
	CURLU *ua = curl_url(), *ub = curl_url();
	char *sa = NULL, *sb = NULL, *ha = NULL, *hb = NULL, *pa = NULL, *pb = NULL;
	bool same = false;

	if (curl_url_set(ua, CURLUPART_URL, a, 0) || curl_url_set(ub, CURLUPART_URL, b, 0))
		goto out;
	if (curl_url_get(ua, CURLUPART_SCHEME, &sa, 0) || curl_url_get(ub, CURLUPART_SCHEME, &sb, 0) ||
	    curl_url_get(ua, CURLUPART_HOST, &ha, 0) || curl_url_get(ub, CURLUPART_HOST, &hb, 0) ||
	    curl_url_get(ua, CURLUPART_PORT, &pa, CURLU_DEFAULT_PORT) ||
	    curl_url_get(ub, CURLUPART_PORT, &pb, CURLU_DEFAULT_PORT))
		goto out;
	same = strcasecmp(sa, sb) == 0 && strcasecmp(ha, hb) == 0 && strcmp(pa, pb) == 0;
out:
	curl_free(sa), curl_free(sb), curl_free(ha), curl_free(hb), curl_free(pa), curl_free(pb);
	curl_url_cleanup(ua);
	curl_url_cleanup(ub);
	return same;
}

/* Resolves a Location against the current URL; NULL when it is not http(s). */
static char *resolve_location(const char *base, const char *loc)
{
	CURLU *u = curl_url();
	char *s = NULL, *scheme = NULL, *out = NULL;

	if (curl_url_set(u, CURLUPART_URL, base, 0) ||
	    curl_url_set(u, CURLUPART_URL, loc, CURLU_NON_SUPPORT_SCHEME) ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    curl_url_get(u, CURLUPART_URL, &s, 0))
		goto done;
	if (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0)
		out = xstrdup(s);
done:
	curl_free(s);
	curl_free(scheme);
	curl_url_cleanup(u);
	return out;
}

static bool transient_status(long s)
{
	return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

static bool transient_curl(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static double backoff(int attempt)
{
	double base = 0.25 * pow(2, attempt - 1);
	if (base > 8)
		base = 8;
	return base * (0.5 + 0.5 * ((double)random() / RAND_MAX));
}

static void sleep_for(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - floor(s)) * 1e9) };
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = ud;

	(void)ultotal, (void)ulnow;
	if (x->resp->status / 100 == 2 && x->progress) {
		uint64_t base = x->resp->status == 206 ? x->range_from : 0;
		x->progress(base + (uint64_t)dlnow, dltotal > 0 ? base + (uint64_t)dltotal : 0);
	}
	return 0;
}

static struct curl_slist *build_headers(const struct http_request *req, const char *url,
					uint64_t range_from, const char *validator)
{
	struct curl_slist *l = NULL;

	if (req->headers)
		for (const char *const *p = req->headers; *p; p++)
			l = curl_slist_append(l, *p);
	if (req->origin_headers && same_origin(url, req->url))
		for (const char *const *p = req->origin_headers; *p; p++)
			l = curl_slist_append(l, *p);
	if (range_from != UINT64_MAX) {
		char buf[64];
		snprintf(buf, sizeof(buf), "Range: bytes=%llu-", (unsigned long long)range_from);
		l = curl_slist_append(l, buf);
		if (validator) {
			/* a body that changed meanwhile comes back whole (200), not spliced */
			char *ir = xasprintf("If-Range: %s", validator);
			l = curl_slist_append(l, ir);
			free(ir);
		}
	}
	/* curl adds "Expect: 100-continue" to POSTs; token servers don't need it */
	l = curl_slist_append(l, "Expect:");
	return l;
}

static void setup(struct http *h, const struct http_request *req, const char *url,
		  struct curl_slist *hdrs, struct xfer *x, double remaining)
{
	CURL *c = h->curl;

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* big reads: a module arrives in fewer recv/write/hash calls */
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 512L << 10);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "wasmpull/" WASMPULL_VERSION);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, STALL_BYTES_PER_S);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, STALL_SECONDS);
	if (remaining > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(remaining * 1000) + 1);
	if (h->ca_blob) {
		struct curl_blob blob = { h->ca_blob, h->ca_blob_len, CURL_BLOB_NOCOPY };
		curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (x->progress) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	if (h->o.insecure_host && url_is_host(url, h->o.insecure_host)) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (req->method && strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (req->method && strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->post_body ? req->post_body : "");
	}
}

enum wp_err http_request(struct http *h, const struct http_request *req,
			 struct http_response *resp, struct error *err)
{
	char *url = xstrdup(req->url), *shown = NULL, *validator = NULL, *location = NULL;
	uint64_t written = 0, total = UINT64_MAX;
	int attempt = 0, redirects = 0;
	enum wp_err rc = WP_OK;
	bool resume_ok = false;

	memset(resp, 0, sizeof(*resp));
	for (;;) {
		struct xfer x = { .req = req, .resp = resp, .written = &written, .total = &total,
				  .content_length = UINT64_MAX,
				  .range_from = UINT64_MAX, .first_chunk = true, .retry_after = -1,
				  .progress = req->sink.write ? h->o.progress : NULL };
		double remaining = 0, t0 = now_mono();
		struct curl_slist *hdrs;
		CURLcode cc;

		if (h->o.deadline > 0) {
			remaining = h->o.deadline - t0;
			if (remaining <= 0) {
				rc = error_set(err, WP_ENET, "timed out");
				goto out;
			}
		}
		if (written && resume_ok && req->resume)
			x.range_from = written;
		attempt++;
		resp->status = 0;
		strbuf_release(&resp->body);
		hdrs = build_headers(req, url, x.range_from, validator);
		setup(h, req, url, hdrs, &x, remaining);
		h->errbuf[0] = '\0';
		cc = curl_easy_perform(h->curl);
		curl_slist_free_all(hdrs);
		free(location);
		location = x.location; /* freed on the next round or on the way out */
		const char *why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc);

		free(shown);
		shown = source_redact(url);
		if (cc == CURLE_OK)
			tracef("%s %s -> %ld (%.0f ms)", req->method ? req->method : "GET", shown,
			       resp->status, (now_mono() - t0) * 1000);
		else
			tracef("%s %s -> %s (%.0f ms)", req->method ? req->method : "GET", shown,
			       why, (now_mono() - t0) * 1000);
		if (x.ratelimit || x.ratelimit_limit)
			notef("%s: rate limit: %s remaining of %s", shown, x.ratelimit ? x.ratelimit : "?",
			      x.ratelimit_limit ? x.ratelimit_limit : "?");
		free(x.ratelimit);
		free(x.ratelimit_limit);

		if (x.too_big) {
			rc = error_set(err, WP_EVERIFY, "larger than the size limit (%llu bytes)",
				       (unsigned long long)req->max_body);
			goto out;
		}
		if (x.sink_failed) {
			rc = error_set(err, WP_EFAIL, "cannot store the download");
			goto out;
		}
		if (x.bad_range) {
			/* start over from zero, and ask for no more ranges from this server */
			req->sink.reset(req->sink.ctx);
			written = 0;
			total = UINT64_MAX;
			resume_ok = false;
			if (attempt >= h->o.attempts) {
				rc = error_set(err, WP_ENET, "the server resumed the download at the wrong place");
				goto out;
			}
			notef("%s: HTTP 206 does not continue the download; starting again", shown);
			continue;
		}
		if (resp->status == 200 && written) {
			/* what identifies this body, for If-Range on a resume; weak ETags can't */
			const char *v = resp->etag && !str_starts_with(resp->etag, "W/") ? resp->etag
											   : resp->last_modified;
			free(validator);
			validator = xstrdup(v);
		}
		if (cc != CURLE_OK) {
			resume_ok = resp->accept_ranges;
			if (h->o.deadline > 0 && now_mono() >= h->o.deadline) {
				rc = error_set(err, WP_ENET, "timed out (%s)",
					       why);
				goto out;
			}
			if (transient_curl(cc) && attempt < h->o.attempts) {
				double d = backoff(attempt);
				notef("%s: %s; retrying in %.1f s", shown,
				      why, d);
				sleep_for(d);
				continue;
			}
			if (transient_curl(cc) && attempt > 1)
				rc = error_set(err, WP_ENET, "%s (after %d attempts)",
					       why, attempt);
			else
				rc = error_set(err, WP_ENET, "%s",
					       why);
			goto out;
		}
		if (req->follow && resp->status / 100 == 3 && resp->status != 304 && location) {
			char *next = resolve_location(url, location);
			if (!next) {
				rc = error_set(err, WP_ENET, "redirect to an unsupported location");
				goto out;
			}
			if (++redirects > MAX_REDIRECTS) {
				free(next);
				rc = error_set(err, WP_ENET, "too many redirects (more than %d)", MAX_REDIRECTS);
				goto out;
			}
			if (str_istarts_with(url, "https:") && !str_istarts_with(next, "https:")) {
				free(next);
				rc = error_set(err, WP_ENET, "refused redirect from https to http");
				goto out;
			}
			free(url);
			url = next;
			attempt--; /* a redirect is not a failed attempt */
			continue;
		}
		if (transient_status(resp->status)) {
			double d = x.retry_after >= 0 ? x.retry_after : backoff(attempt);
			if (attempt >= h->o.attempts) {
				rc = error_set(err, WP_ENET, "HTTP %ld after %d attempts", resp->status, attempt);
				goto out;
			}
			if (h->o.deadline > 0 && now_mono() + d >= h->o.deadline) {
				rc = error_set(err, WP_ENET, "HTTP %ld; retry in %.0f s would pass the deadline",
					       resp->status, d);
				goto out;
			}
			notef("%s: HTTP %ld; retrying in %.1f s", shown, resp->status, d);
			sleep_for(d);
			continue;
		}
		if (resp->status / 100 == 2 && req->sink.write && written &&
		    x.first_chunk && !(resp->status == 206 && x.range_from == written)) {
			/* a fresh full answer with no body bytes: forget the partial one */
			req->sink.reset(req->sink.ctx);
			written = 0;
		}
		break;
	}
out:
	free(location);
	free(validator);
	free(shown);
	free(url);
	return rc;
}
