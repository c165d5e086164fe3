/* Options shared by the commands that fetch (pull, inspect). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "authparse.h"
#include "cmd.h"
#include "manifest.h"
#include "parse.h"

void fetch_opts_init(struct fetch_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->retries = -1;
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

void fetch_opts_release(struct fetch_opts *o)
{
	if (o->password)
		explicit_bzero(o->password, strlen(o->password));
	free(o->password);
	free_list(o->insecure, o->n_insecure);
	free_list(o->mirrors, o->n_mirrors);
	free_list(o->headers, o->n_headers);
	memset(o, 0, sizeof(*o));
}

static void push(char ***l, size_t *n, const char *v)
{
	*l = xrealloc(*l, (*n + 2) * sizeof(**l));
	(*l)[(*n)++] = xstrdup(v);
	(*l)[*n] = NULL;
}

bool fetch_option(struct fetch_opts *o, int c, const char *arg, struct error *err)
{
	char *end;
	long n;

	switch (c) {
	case OPT_PLATFORM: {
		struct platform pf = { 0 };
		if (!platform_parse(arg, &pf))
			error_set(err, WP_EUSAGE, "invalid --platform '%s': expected OS/ARCH[/VARIANT]", arg);
		platform_release(&pf);
		o->platform = arg;
		return true;
	}
	case OPT_TIMEOUT:
		if (!parse_duration(arg, &o->timeout))
			error_set(err, WP_EUSAGE, "invalid --timeout '%s': expected a duration like 30s, 2m, 1h", arg);
		return true;
	case OPT_RETRIES:
		errno = 0;
		n = strtol(arg, &end, 10);
		if (errno || *end || end == arg || n < 1 || n > 100)
			error_set(err, WP_EUSAGE, "invalid --retries '%s': expected a number from 1 to 100", arg);
		o->retries = (int)n;
		return true;
	case OPT_MAX_SIZE:
		if (!parse_size(arg, &o->max_size) || o->max_size == 0)
			error_set(err, WP_EUSAGE, "invalid --max-size '%s': expected a size like 256MiB, 10M, 512k", arg);
		return true;
	case OPT_AUTHFILE:
		o->authfile = arg;
		return true;
	case 'u':
		o->username = arg;
		return true;
	case OPT_PASSWORD_STDIN:
		o->password_stdin = true;
		return true;
	case OPT_CA_FILE:
		o->ca_file = arg;
		return true;
	case OPT_INSECURE_REGISTRY:
		if (!*arg || strpbrk(arg, "/ "))
			error_set(err, WP_EUSAGE, "invalid --insecure-registry '%s': expected HOST[:PORT] or *", arg);
		push(&o->insecure, &o->n_insecure, arg);
		return true;
	case OPT_PLAIN_HTTP:
		o->plain_http = true;
		return true;
	case OPT_MIRROR: {
		const char *m = strchr(arg, '=');
		if (m && (str_istarts_with(m + 1, "http://") || str_istarts_with(m + 1, "https://")))
			m = strstr(m, "://") + 2;
		if (!m || arg[0] == '=' || !m[1] || m[1] == '/')
			error_set(err, WP_EUSAGE, "invalid --mirror '%s': expected REGISTRY=MIRROR", arg);
		push(&o->mirrors, &o->n_mirrors, arg);
		return true;
	}
	case 'H':
		if (!strchr(arg, ':') || arg[0] == ':' || strpbrk(arg, "\r\n"))
			error_set(err, WP_EUSAGE, "invalid --header: expected 'Name: value'");
		push(&o->headers, &o->n_headers, arg);
		return true;
	}
	return false;
}

static char *read_line(FILE *f)
{
	struct strbuf sb;
	int c;

	strbuf_init(&sb);
	while ((c = fgetc(f)) != EOF && c != '\n') {
		char ch = (char)c;
		strbuf_add(&sb, &ch, 1);
	}
	if (sb.len && sb.buf[sb.len - 1] == '\r')
		sb.buf[--sb.len] = '\0';
	return strbuf_detach(&sb);
}

static char *prompt_password(const char *user)
{
	struct termios old, quiet;
	FILE *tty = fopen("/dev/tty", "r+");
	char *pw;

	if (!tty)
		return NULL;
	fprintf(tty, "Password for %s: ", user);
	fflush(tty);
	tcgetattr(fileno(tty), &old);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	pw = read_line(tty);
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	return pw;
}

/* A named auth file must exist and parse: a typo should not mean "anonymous". */
static enum wp_err check_authfile(const char *path, const char *how, struct error *err)
{
	struct auth_cred cred = { 0 };
	size_t len = 0;
	char *text = read_file_max(path, 4u << 20, &len);
	int rc;

	if (!text)
		return error_set(err, WP_EUSAGE, "cannot read %s %s: %s", how, path, strerror(errno));
	rc = auth_config_lookup(text, len, "", "", &cred);
	auth_cred_release(&cred);
	explicit_bzero(text, len);
	free(text);
	if (rc < 0)
		return error_set(err, WP_EUSAGE, "%s %s is not a valid docker config.json", how, path);
	return WP_OK;
}

/* A CA file must be a readable PEM bundle: a wrong path should not mean "no extra CA". */
static enum wp_err check_ca_file(const char *path, struct error *err)
{
	size_t len = 0;
	char *text = read_file_max(path, 64u << 20, &len);
	bool pem = text && strstr(text, "-----BEGIN CERTIFICATE-----");

	if (!text) {
		error_set(err, WP_EUSAGE, "cannot read --ca-file %s: %s", path, strerror(errno));
	} else if (!pem) {
		error_set(err, WP_EUSAGE, "--ca-file %s holds no PEM certificate", path);
	}
	free(text);
	return err->code;
}

enum wp_err fetch_opts_finish(struct fetch_opts *o, struct error *err)
{
	const char *e;
	enum wp_err rc;

	if (o->timeout <= 0) {
		o->timeout = DEFAULT_TIMEOUT;
		if ((e = getenv("WASMPULL_TIMEOUT")) && *e && !parse_duration(e, &o->timeout))
			return error_set(err, WP_EUSAGE, "invalid WASMPULL_TIMEOUT '%s'", e);
	}
	if (o->retries < 1)
		o->retries = DEFAULT_RETRIES;
	if (!o->max_size)
		o->max_size = DEFAULT_MAX_SIZE;
	if ((e = getenv("WASMPULL_INSECURE_REGISTRIES")) && *e) {
		char *copy = xstrdup(e), *save = NULL;
		for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
			push(&o->insecure, &o->n_insecure, t);
		free(copy);
	}
	if (o->ca_file && (rc = check_ca_file(o->ca_file, err)) != WP_OK)
		return rc;
	if (o->authfile && (rc = check_authfile(o->authfile, "--authfile", err)) != WP_OK)
		return rc;
	/* a file named either way must be there: a typo should not mean anonymous */
	if ((e = getenv("REGISTRY_AUTH_FILE")) && *e) {
		if ((rc = check_authfile(e, "REGISTRY_AUTH_FILE", err)) != WP_OK)
			return rc;
		if (!o->authfile)
			o->authfile = e;
	}
	if (o->password_stdin && !o->username)
		return error_set(err, WP_EUSAGE, "--password-stdin needs --username");
	if (o->username) {
		if (o->password_stdin)
			o->password = read_line(stdin);
		else if ((e = getenv("WASMPULL_PASSWORD")) && *e)
			o->password = xstrdup(e);
		else if (isatty(STDIN_FILENO))
			o->password = prompt_password(o->username);
		if (!o->password)
			return error_set(err, WP_EUSAGE,
					 "--username needs a password: use --password-stdin or WASMPULL_PASSWORD");
	}
	return WP_OK;
}
