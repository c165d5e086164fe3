/* WebAssembly binary reader (pure): magic check and module summary. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum wasm_kind { WASM_NONE = 0, WASM_MODULE, WASM_COMPONENT };

/* Looks at the first 8 bytes: "\0asm" + version 1 (core) or a component layer. */
enum wasm_kind wasm_sniff(const unsigned char *head, size_t len);

/*
 * Decodes the header of the section starting at p (n bytes available, 6 are
 * always enough): its id byte and its size. Returns the header's length, or
 * -1 when it is not one. With it a whole file's framing can be walked without
 * holding the file.
 */
int wasm_section_header(const unsigned char *p, size_t n, uint64_t *size);

struct wasm_import {
	char *module, *name;
	const char *kind; /* "func", "table", "memory", "global", "tag" */
};
struct wasm_export {
	char *name;
	const char *kind;
};
struct wasm_custom {
	char *name;
	uint64_t size; /* whole payload, name included */
};

/* What inspect shows of a module. */
struct wasm_info {
	enum wasm_kind kind;
	uint32_t version;
	struct wasm_import *imports;
	size_t n_imports;
	struct wasm_export *exports;
	size_t n_exports;
	struct wasm_custom *customs;
	size_t n_customs;
	char **targets; /* "proxy-wasm/0.2.1", "wasi_snapshot_preview1", "wasi-preview2" */
	size_t n_targets;
};

/* Parses a whole module in memory; on failure returns false and sets *why (static string). */
bool wasm_parse(const unsigned char *buf, size_t len, struct wasm_info *info, const char **why);
void wasm_info_release(struct wasm_info *info);
