/* Unboxing with libarchive (the only module that includes it): gzip, tar,
 * tar.gz/zstd, nested a few levels, down to one Wasm module. */
#pragma once
#include <stdint.h>

#include "err.h"

/*
 * Reads in_fd (a complete downloaded file, positioned anywhere; read from 0).
 * If it already starts with the Wasm magic, returns WP_OK with *unboxed = 0 and
 * writes nothing. Otherwise decompresses / extracts the module into out_fd
 * (an empty temp file), never more than max_size bytes (more is WP_EVERIFY,
 * never a truncation), and sets *unboxed = 1. From a tar: the regular file whose
 * base name is plugin.wasm, else the only regular *.wasm; none or several is
 * WP_EVERIFY; a plugin.wasm that is not a regular file is WP_EVERIFY; nothing is
 * ever written to a path an archive names. Data that is neither Wasm nor a known
 * archive/compression is WP_EVERIFY ("not a Wasm module"). Messages do not name
 * the source: the caller prefixes it.
 */
enum wp_err unbox_fd(int in_fd, int out_fd, uint64_t max_size, int *unboxed,
		     struct error *err);
/* Borrowed: "libarchive 3.6.2 ..." */
const char *unbox_backend_version(void);
