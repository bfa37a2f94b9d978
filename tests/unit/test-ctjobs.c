#include <arpa/inet.h>

#include "rules/config.h"
#include "engine/ctjobs.h"
#include "test.h"

static struct config *cfg(const char *text)
{
	struct config *c = config_new();

	CHECK_INT(config_parse_text(c, "t.conf", text, strlen(text)), 0);
	return c;
}

static struct fwd fwd(const struct rule *r, int af, const char *host)
{
	struct fwd f = { .rule = r, .af = af };

	inet_pton(af, host, &f.host);
	return f;
}

static void test_jobs(void)
{
	struct config *c = cfg("rule ra trigger 7070/tcp forward 6970-7170/udp,7000/tcp\n"
			       "rule v trigger 1/tcp forward 5000/udp peer\n");
	struct fwd a = fwd(c->rules[0], AF_INET, "192.168.7.2");
	struct fwd b = fwd(c->rules[0], AF_INET, "192.168.7.3");
	struct fwd six = fwd(c->rules[0], AF_INET6, "2001:db8::2");
	struct fwd p1 = fwd(c->rules[1], AF_INET, "192.168.7.2"), p2 = p1;
	struct ct_jobs j = { 0 };

	/* opened: un-NATed flows to the router on each range */
	ct_jobs_assigned(&j, &a, NULL);
	CHECK_INT(j.n, 2);
	CHECK_INT(j.v[0].match, CT_MATCH_ORIG_DST);
	CHECK_INT(j.v[0].proto, IPPROTO_UDP);
	CHECK_INT(j.v[0].lo, 6970);
	CHECK_INT(j.v[0].hi, 7170);
	CHECK_INT(j.v[1].proto, IPPROTO_TCP);
	/* the same again, or the same range opened for another peer: nothing new */
	ct_jobs_assigned(&j, &a, NULL);
	inet_pton(AF_INET, "203.0.113.9", &p1.peer);
	inet_pton(AF_INET, "203.0.113.10", &p2.peer);
	ct_jobs_assigned(&j, &p1, NULL);
	ct_jobs_assigned(&j, &p2, NULL);
	CHECK_INT(j.n, 3);
	/* taken over by .3: also flows still NATed to .2 */
	ct_jobs_assigned(&j, &b, &a.host);
	CHECK_INT(j.n, 5);
	CHECK_INT(j.v[3].match, CT_MATCH_REPLY_SRC);
	CHECK(!memcmp(&j.v[3].addr.v4, &a.host.v4, 4));
	/* re-assigned to the same host: no reply-side job */
	ct_jobs_assigned(&j, &b, &b.host);
	CHECK_INT(j.n, 5);
	/* closed: flows to its host; IPv6 pinholes do no NAT, nothing to clean */
	ct_jobs_closed(&j, &b);
	CHECK_INT(j.n, 7);
	CHECK(!memcmp(&j.v[6].addr.v4, &b.host.v4, 4));
	ct_jobs_assigned(&j, &six, NULL);
	ct_jobs_closed(&j, &six);
	CHECK_INT(j.n, 7);
	ct_jobs_free(&j);
	CHECK_INT(j.n, 0);
	config_free(c);
}

TEST_MAIN(T(test_jobs))
