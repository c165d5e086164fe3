/* A minimal table-driven test helper: CHECK counts failures, main returns them. */
#pragma once
#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			check_failures++;                                  \
			fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, \
				__LINE__, #cond);                          \
			fprintf(stderr, __VA_ARGS__);                      \
			fputc('\n', stderr);                               \
		}                                                          \
	} while (0)

#define CHECK_STR(a, b)                                                       \
	CHECK(((a) == NULL && (b) == NULL) ||                                 \
		      ((a) != NULL && (b) != NULL && strcmp((a), (b)) == 0),  \
	      "got \"%s\", want \"%s\"", (a) ? (a) : "(null)", (b) ? (b) : "(null)")

#define CHECK_DONE()                                                     \
	do {                                                             \
		if (check_failures)                                      \
			fprintf(stderr, "%d check(s) failed\n", check_failures); \
		return check_failures ? 1 : 0;                           \
	} while (0)
