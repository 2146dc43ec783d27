/*
 * A small unit-test harness in the manner of libuv's runner: each test runs
 * in its own process with a timeout, so a crash or a hang fails that test
 * alone.  A test file defines its tests with TEST(name), lists them in
 * UNIT_MAIN(...), and uses CHECK / CHECK_EQ_STR / CHECK_EQ_INT, which
 * report the file, line and values and end the test.
 *
 * Output: one "ok" / "FAIL" line per test, then "N passed, N failed".
 */
#ifndef HC_TESTS_UNIT_H
#define HC_TESTS_UNIT_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define UNIT_TIMEOUT_S 20

typedef struct unit_test {
	const char *name;
	void (*fn)(void);
} unit_test;

#define TEST(name) static void test_##name(void)
#define T(name)                    \
	{                          \
#name, test_##name \
	}

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "    %s:%d: check failed: %s\n", __FILE__, __LINE__, \
			        #cond);                                                      \
			exit(1);                                                             \
		}                                                                            \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                                   \
	do {                                                                                 \
		const char *a_ = (a), *b_ = (b);                                             \
		if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                       \
			fprintf(stderr, "    %s:%d: %s == %s: \"%s\" != \"%s\"\n", __FILE__, \
			        __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");   \
			exit(1);                                                             \
		}                                                                            \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ != b_) {                                                                    \
			fprintf(stderr, "    %s:%d: %s == %s: %lld != %lld\n", __FILE__, __LINE__, \
			        #a, #b, a_, b_);                                                   \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)

static inline int unit_run(const char *file, const unit_test *tests, size_t n, int argc,
                           char **argv)
{
	size_t i, passed = 0, failed = 0;

	for (i = 0; i < n; i++) {
		pid_t pid;
		int status = 0;

		if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)
			continue;
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			alarm(UNIT_TIMEOUT_S);
			tests[i].fn();
			exit(0);
		}
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			printf("ok   %s.%s\n", file, tests[i].name);
			passed++;
		} else {
			printf("FAIL %s.%s (%s %d)\n", file, tests[i].name,
			       WIFSIGNALED(status) ? "signal" : "exit",
			       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			failed++;
		}
	}
	printf("%zu passed, %zu failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}

#define UNIT_MAIN(...)                                                                             \
	int main(int argc, char **argv)                                                            \
	{                                                                                          \
		static const unit_test tests_[] = {__VA_ARGS__};                                   \
		return unit_run(__FILE__, tests_, sizeof(tests_) / sizeof(tests_[0]), argc, argv); \
	}

#endif
