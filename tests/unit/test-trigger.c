/*
 * The one decision about a trigger (lib/engine/trigger.c), step by step
 * on one router: every verdict, the forged reasons of the three places
 * that find them (the kernel's trigger rule, the mirror, the route back),
 * the machine a trigger is counted for, and what the kernel's adds leave
 * to undo. No socket: the route lookup is a function of the table.
 */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "engine/engine.h"
#include "engine/trigger.h"
#include "test.h"

#define BR 4	/* br-lan */
#define WAN 2	/* veth-wan */

static char buf[512];

static union inaddr ip(int af, const char *s)
{
	union inaddr a = { 0 };

	inet_pton(af, s, &a);
	return a;
}

/* RTM_NEWADDR of ADDR/PLEN, or with MAC an RTM_NEWNEIGH of ADDR, on IFINDEX */
static struct nlmsghdr *rtnl_msg(uint32_t ifindex, const char *addr, unsigned plen,
				 const uint8_t *mac)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	union inaddr a = ip(AF_INET, addr);

	if (mac) {
		struct ndmsg *nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));

		nlh->nlmsg_type = RTM_NEWNEIGH;
		*nd = (struct ndmsg){ .ndm_family = AF_INET, .ndm_ifindex = ifindex,
				      .ndm_state = NUD_REACHABLE };
		mnl_attr_put(nlh, NDA_DST, 4, &a);
		mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	} else {
		struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

		nlh->nlmsg_type = RTM_NEWADDR;
		*ifa = (struct ifaddrmsg){ .ifa_family = AF_INET, .ifa_prefixlen = plen,
					   .ifa_index = ifindex };
		mnl_attr_put(nlh, IFA_LOCAL, 4, &a);
		mnl_attr_put(nlh, IFA_ADDRESS, 4, &a);
	}
	return nlh;
}

static const uint8_t mac2[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t mac3[6] = { 0x02, 0, 0, 0, 0, 0x03 };

static const char conf[] = "max-per-host 2\n"
			   "rule a trigger 7070/tcp forward 6970-7170/udp\n"
			   "rule p trigger 5060/udp forward 10000-10100/udp peer\n"
			   "rule x trigger 8080/tcp forward 9000/tcp exclusive\n"
			   "rule al trigger 1/tcp forward 100/tcp allow 192.168.7.200\n";

enum route { ROUTE_HERE, ROUTE_ELSEWHERE };

static int route_asked;
static uint64_t clock_ms;

/* A lookup that takes half a second: the decision's time is read after it */
static bool route_back(const struct nflog_pkt *pkt, void *data)
{
	route_asked++;
	clock_ms += 500;
	return *(const enum route *)data == ROUTE_HERE;
}

static uint64_t test_clock(void)
{
	return clock_ms;
}

struct step {
	const char *what;
	/* the packet */
	const char *src;
	const uint8_t *hw;
	uint32_t indev;
	uint8_t proto;
	uint16_t dport;
	const char *dst;
	bool caught;		/* the kernel's trigger rule logged it as forged */
	bool replicated;	/* from the other router of the pair */
	/* the router */
	bool no_rpf;		/* no fib in the forward hook */
	enum route route;
	/* what it decides */
	enum trigger_verdict verdict;
	enum srccheck_verdict forged;
	int fired;
	enum fwd_change change;	/* the first rule's */
	enum hostid_kind id;
	size_t undone;
	int asked;		/* route lookups */
};

static const struct step steps[] = {
	{ "a first trigger opens", "192.168.7.2", mac2, BR, IPPROTO_TCP, 7070, "203.0.113.9",
	  .verdict = TRIGGER_SERVED, .fired = 1, .change = FWD_OPENED, .id = HOSTID_LINK },
	{ "the same again refreshes", "192.168.7.2", mac2, BR, IPPROTO_TCP, 7070, "203.0.113.9",
	  .verdict = TRIGGER_SERVED, .fired = 1, .change = FWD_REFRESHED, .id = HOSTID_LINK },
	{ "an exclusive rule, free", "192.168.7.2", mac2, BR, IPPROTO_TCP, 8080, "203.0.113.9",
	  .verdict = TRIGGER_SERVED, .fired = 1, .change = FWD_OPENED, .id = HOSTID_LINK },
	{ "an exclusive rule, held", "192.168.7.3", mac3, BR, IPPROTO_TCP, 8080, "203.0.113.9",
	  .verdict = TRIGGER_REFUSED, .fired = 1, .change = FWD_REFUSED, .id = HOSTID_LINK },
	{ "past max-per-host: the kernel's add goes", "192.168.7.2", mac2, BR, IPPROTO_UDP, 5060,
	  "203.0.113.9", .verdict = TRIGGER_REFUSED, .fired = 1, .change = FWD_OVER_HOST_LIMIT,
	  .id = HOSTID_LINK, .undone = 1 },
	{ "a port no rule has", "192.168.7.2", mac2, BR, IPPROTO_TCP, 7071, "203.0.113.9",
	  .verdict = TRIGGER_UNMATCHED, .id = HOSTID_LINK },
	{ "in on the WAN", "192.168.7.2", mac2, WAN, IPPROTO_TCP, 7070, "203.0.113.9",
	  .verdict = TRIGGER_UNMATCHED, .id = HOSTID_ADDR4 },
	{ "outside the rule's allow", "192.168.7.2", mac2, BR, IPPROTO_TCP, 1, "203.0.113.9",
	  .verdict = TRIGGER_NOT_ALLOWED, .id = HOSTID_LINK },
	{ "caught by the kernel", "192.168.7.4", NULL, BR, IPPROTO_UDP, 5060, "203.0.113.9",
	  .caught = true, .verdict = TRIGGER_FORGED, .forged = SRCCHECK_REVERSE_PATH },
	{ "caught by the kernel, the router's own", "192.168.7.1", NULL, BR, IPPROTO_UDP, 5060,
	  "203.0.113.9", .caught = true, .verdict = TRIGGER_FORGED, .forged = SRCCHECK_OWN },
	{ "another machine's address: the kernel's add goes", "192.168.7.2", mac3, BR, IPPROTO_UDP,
	  5060, "203.0.113.10", .verdict = TRIGGER_FORGED, .forged = SRCCHECK_HWADDR, .undone = 1 },
	{ "multicast", "224.0.0.5", NULL, BR, IPPROTO_TCP, 7070, "203.0.113.9",
	  .verdict = TRIGGER_FORGED, .forged = SRCCHECK_MULTICAST },
	{ "no fib: off-link, routed elsewhere", "10.9.9.9", NULL, BR, IPPROTO_TCP, 7070,
	  "203.0.113.9", .no_rpf = true, .route = ROUTE_ELSEWHERE, .verdict = TRIGGER_FORGED,
	  .forged = SRCCHECK_REVERSE_PATH, .asked = 1 },
	{ "no fib: off-link, routed back here", "10.9.9.9", NULL, BR, IPPROTO_TCP, 7070,
	  "203.0.113.9", .no_rpf = true, .route = ROUTE_HERE, .verdict = TRIGGER_SERVED,
	  .fired = 1, .change = FWD_TAKEN_OVER, .id = HOSTID_ADDR4, .asked = 1 },
	{ "no fib: on-link, nothing to look up", "192.168.7.5", NULL, BR, IPPROTO_TCP, 7070,
	  "203.0.113.9", .no_rpf = true, .route = ROUTE_ELSEWHERE, .verdict = TRIGGER_SERVED,
	  .fired = 1, .change = FWD_TAKEN_OVER, .id = HOSTID_ADDR4 },
	{ "replicated: the machine is its address", "192.168.7.2", NULL, 0, IPPROTO_TCP, 7070,
	  "203.0.113.9", .replicated = true, .verdict = TRIGGER_SERVED, .fired = 1,
	  .change = FWD_TAKEN_OVER, .id = HOSTID_ADDR4 },
};

/* The elements waiting to be deleted at the next write */
static size_t n_gone(const struct engine *e)
{
	size_t n = 0;

	for (size_t k = 0; k < e->gone.n; k++)
		n += e->gone.v[k].n;
	return n;
}

static void test_steps(void)
{
	static const char *const names[] = { [BR] = "br-lan", [WAN] = "veth-wan" };
	struct config *c = config_new();
	struct iflist wan = { 0 };
	struct trigger_events evs = { 0 };
	struct srccheck src;
	struct engine e;

	config_parse_text(c, "t.conf", conf, strlen(conf));
	CHECK_INT(c->n_errors, 0);
	engine_init(&e);
	e.kernel_triggers = true;
	iflist_add(&wan, "veth-wan");
	engine_set_auto_wan(&e, &wan);
	iflist_clear(&wan);
	CHECK_INT(engine_set_config(&e, c, 0, NULL, NULL), 0);
	srccheck_init(&src);
	CHECK_INT(srccheck_update(&src, rtnl_msg(BR, "192.168.7.1", 24, NULL)), 1);
	CHECK_INT(srccheck_update(&src, rtnl_msg(WAN, "203.0.113.1", 24, NULL)), 1);
	CHECK_INT(srccheck_update(&src, rtnl_msg(BR, "192.168.7.2", 32, mac2)), 1);
	CHECK_INT(srccheck_update(&src, rtnl_msg(BR, "192.168.7.3", 32, mac3)), 1);

	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		const struct step *s = &steps[i];
		struct nflog_pkt pkt = { .af = AF_INET, .indev = s->indev, .outdev = WAN,
					 .proto = s->proto, .sport = 40000, .dport = s->dport,
					 .saddr = ip(AF_INET, s->src), .daddr = ip(AF_INET, s->dst) };
		struct trigger_in in = { .pkt = &pkt, .indev = names[s->indev], .outdev = "veth-wan",
					 .src = &src, .route_back = route_back, .data = (void *)&s->route,
					 .now = 1000 * (i + 1), .clock = test_clock };
		struct trigger_result res;
		int failures = test_failures;
		size_t gone = n_gone(&e);

		if (s->hw) {
			memcpy(pkt.hwaddr, s->hw, 6);
			pkt.hwlen = 6;
		}
		if (s->caught)
			strcpy(pkt.prefix, NFTOBJ_FORGED_PREFIX);
		e.caps.has[KCAP_FIB_FORWARD] = !s->no_rpf;
		route_asked = 0;
		clock_ms = in.now;
		evs.n = 0;
		if (s->replicated)
			CHECK_INT(trigger_replicated(&e, &pkt, in.now, &evs, &res), 0);
		else
			CHECK_INT(trigger_decide(&e, &in, &evs, &res), 0);
		CHECK_INT(res.verdict, s->verdict);
		CHECK_INT(res.caught, s->caught);
		CHECK_INT(res.fired, s->fired);
		CHECK_INT(evs.n, s->fired);
		CHECK_INT(res.undone, s->undone);
		CHECK_INT(route_asked, s->asked);
		if (s->verdict == TRIGGER_FORGED)
			CHECK_INT(res.forged, s->forged);
		else
			CHECK_INT(res.id.kind, s->id);
		if (evs.n) {
			CHECK_INT(evs.v[0].change, s->change);
			CHECK_INT(evs.v[0].id.kind, s->id);
			CHECK(evs.v[0].rule != NULL);
			/* the rule's time is the clock's after the lookup, not the read's */
			CHECK_INT(engine_last_trigger(&e, evs.v[0].rule), in.now + 500 * s->asked);
		}
		/* what is undone waits for the next write */
		CHECK(s->undone ? n_gone(&e) > gone : n_gone(&e) == gone);
		if (test_failures != failures)
			fprintf(stderr, "  in step %zu: %s\n", i, s->what);
	}
	CHECK_INT(e.stats.triggers_seen, 11);
	CHECK_INT(e.stats.triggers_unmatched, 2);
	CHECK_INT(e.stats.triggers_not_allowed, 1);
	CHECK_INT(e.stats.triggers_replicated, 1);
	trigger_events_free(&evs);
	srccheck_clear(&src);
	engine_fini(&e);
}

TEST_MAIN(T(test_steps))
