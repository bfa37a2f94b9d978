/*
 * A minimal table-driven test harness: tests register by name, failures
 * print file:line and the expression, and the runner exits non-zero if
 * any check failed. The closing line reads "N passed, N failed".
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(void);
};

extern int test_failures;

#define CHECK(expr)                                                                 \
	do {                                                                        \
		if (!(expr)) {                                                      \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,      \
				__LINE__, #expr);                                   \
			test_failures++;                                            \
		}                                                                   \
	} while (0)

#define CHECK_STR(a, b)                                                             \
	do {                                                                        \
		const char *_a = (a), *_b = (b);                                    \
		if (!_a || !_b || strcmp(_a, _b)) {                                 \
			fprintf(stderr, "%s:%d: %s\n  got:      \"%s\"\n  expected: \"%s\"\n", \
				__FILE__, __LINE__, #a, _a ? _a : "(null)",          \
				_b ? _b : "(null)");                                \
			test_failures++;                                            \
		}                                                                   \
	} while (0)

#define CHECK_INT(a, b)                                                             \
	do {                                                                        \
		long long _a = (long long)(a), _b = (long long)(b);                 \
		if (_a != _b) {                                                     \
			fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n",       \
				__FILE__, __LINE__, #a, _a, _b);                    \
			test_failures++;                                            \
		}                                                                   \
	} while (0)

int test_main(const struct test_case *tests, size_t n);

#define TEST_MAIN(...)                                                              \
	int test_failures;                                                          \
	int main(void)                                                              \
	{                                                                           \
		static const struct test_case t[] = { __VA_ARGS__ };                \
		int passed = 0, failed = 0;                                         \
		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {             \
			int before = test_failures;                                 \
			t[i].fn();                                                  \
			if (test_failures == before) {                              \
				passed++;                                           \
				printf("ok %zu - %s\n", i + 1, t[i].name);         \
			} else {                                                    \
				failed++;                                           \
				printf("not ok %zu - %s\n", i + 1, t[i].name);     \
			}                                                           \
		}                                                                   \
		printf("%d passed, %d failed\n", passed, failed);                   \
		return failed ? 1 : 0;                                              \
	}

#define T(fn) { #fn, fn }
