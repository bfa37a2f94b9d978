#include "test.h"
#include "base/util.h"

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
	/* as near to two words: no guess */
	{
		static const char *const fam[] = { "ipv4", "ipv6", "both" };

		CHECK(suggest_word("ipv5", 4, fam, 3) == NULL);
		CHECK_STR(suggest_word("ipv", 3, fam, 2) == NULL ? "none" : "guess", "none");
		CHECK_STR(suggest_word("ip6", 3, fam, 3), "ipv6");
	}
	/* three letters: a swap or a letter missing is a typo, another letter another word */
	{
		static const char *const protos[] = { "tcp", "udp" };

		CHECK_STR(suggest_word("tpc", 3, protos, 2), "tcp");
		CHECK_STR(suggest_word("ud", 2, protos, 2), "udp");
		CHECK(suggest_word("xdp", 3, protos, 2) == NULL);
	}
	/* far from every word: no guess */
	CHECK(sug("expires") == NULL);
	CHECK(sug("x") == NULL);
	CHECK(sug("") == NULL);
	CHECK(sug("lanwan") == NULL);
	/* longer than any word the table holds: no guess, no overflow */
	CHECK(sug("triggertriggertriggertriggertriggertrigger") == NULL);
}

TEST_MAIN(T(test_suggest))
