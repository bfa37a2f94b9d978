#include "test.h"
#include "util.h"

static const char *const words[] = { "trigger", "forward", "timeout", "to", "peer", "exclusive",
				     "family", "lan", "wan", "allow", "max-per-host", "disabled" };

static const char *sug(const char *s)
{
	return suggest_word(s, strlen(s), words, ARRAY_SIZE(words));
}

static void test_suggest(void)
{
	CHECK_STR(sug("triger"), "trigger");
	CHECK_STR(sug("tirgger"), "trigger");
	CHECK_STR(sug("forwards"), "forward");
	CHECK_STR(sug("timout"), "timeout");
	CHECK_STR(sug("exlcusive"), "exclusive");
	CHECK_STR(sug("max-per-hosts"), "max-per-host");
	CHECK_STR(sug("peers"), "peer");
	CHECK_STR(sug("ot"), "to");
	CHECK_STR(sug("disable"), "disabled");
	/* far from every word: no guess */
	CHECK(sug("expires") == NULL);
	CHECK(sug("x") == NULL);
	CHECK(sug("") == NULL);
	CHECK(sug("lanwan") == NULL);
	/* longer than any word the table holds: no guess, no overflow */
	CHECK(sug("triggertriggertriggertriggertriggertrigger") == NULL);
}

TEST_MAIN(T(test_suggest))
