#include <arpa/inet.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <libnftnl/set.h>

#include "engine/engine.h"
#include "engine/tablewrite.h"
#include "engine/trigger.h"
#include "control/report.h"
#include "test.h"

static struct engine eng;

static void setup(const char *text)
{
	struct config *c = config_new();
	struct iflist wan = { 0 };

	config_parse_text(c, "t.conf", text, strlen(text));
	CHECK_INT(c->n_errors, 0);
	engine_init(&eng);
	iflist_add(&wan, "veth-wan");
	engine_set_auto_wan(&eng, &wan);
	iflist_clear(&wan);
	engine_set_config(&eng, c, 0, NULL, NULL);
}

static struct nflog_pkt pkt(const char *src, uint8_t proto, uint16_t dport)
{
	struct nflog_pkt p = { .af = AF_INET, .proto = proto, .dport = dport };

	inet_pton(AF_INET, src, &p.saddr.v4);
	inet_pton(AF_INET, "203.0.113.9", &p.daddr.v4);
	return p;
}

static int events;
static enum fwd_change last_change;

/* Trigger P as a genuine source would; returns how many rules it fired. */
static int fire(const struct nflog_pkt *p, const struct hostid *id, const char *indev,
		const char *outdev, uint64_t now)
{
	struct trigger_events evs = { 0 };
	struct trigger_result res;
	int r = trigger_fire(&eng, p, id, indev, outdev, now, &evs, &res);

	for (size_t i = 0; i < evs.n; i++) {
		const struct trigger_event *ev = &evs.v[i];

		events++;
		last_change = ev->change;
		CHECK(ev->rule != NULL);
		CHECK(ev->fwd != NULL || ev->change == FWD_OVER_HOST_LIMIT || ev->change == FWD_OVER_LIMIT);
	}
	CHECK_INT(evs.n, res.fired);
	trigger_events_free(&evs);
	return r < 0 ? r : res.fired;
}

static int replicate(const struct nflog_pkt *p, uint64_t now)
{
	struct trigger_events evs = { 0 };
	struct trigger_result res;
	int r = trigger_replicated(&eng, p, now, &evs, &res);

	if (evs.n)
		last_change = evs.v[evs.n - 1].change;
	trigger_events_free(&evs);
	return r < 0 ? r : res.fired;
}

static bool route_elsewhere(const struct nflog_pkt *p, void *data)
{
	return false;
}

/* A trigger the daemon's source check refuses (its route back leaves elsewhere) */
static void forged(const struct nflog_pkt *p, const char *indev, const char *outdev)
{
	struct srccheck src;
	struct trigger_in in = { .pkt = p, .indev = indev, .outdev = outdev, .src = &src,
				 .route_back = route_elsewhere };
	struct trigger_result res;
	bool rpf = eng.caps.has[KCAP_FIB_FORWARD];

	srccheck_init(&src);
	eng.caps.has[KCAP_FIB_FORWARD] = false;
	CHECK_INT(trigger_decide(&eng, &in, NULL, &res), 0);
	CHECK_INT(res.verdict, TRIGGER_FORGED);
	CHECK_INT(res.forged, SRCCHECK_REVERSE_PATH);
	eng.caps.has[KCAP_FIB_FORWARD] = rpf;
	srccheck_clear(&src);
}

static void test_interfaces(void)
{
	setup("rule a trigger 7070/tcp forward 6970-7170/udp\n"
	      "rule b trigger 7070/tcp forward 8000/udp wan ppp* lan eth1\n");
	const struct rule *a = eng.cfg->rules[0], *b = eng.cfg->rules[1];

	CHECK(engine_rule_accepts(&eng, a, AF_INET, "br-lan", "veth-wan"));
	CHECK(!engine_rule_accepts(&eng, a, AF_INET, "veth-wan", "veth-wan"));
	CHECK(!engine_rule_accepts(&eng, a, AF_INET, "br-lan", "eth5"));
	CHECK(!engine_rule_accepts(&eng, a, AF_INET, "lo", "veth-wan"));
	CHECK(engine_rule_accepts(&eng, b, AF_INET, "eth1", "ppp0"));
	CHECK(!engine_rule_accepts(&eng, b, AF_INET, "br-lan", "ppp0"));
	CHECK(!engine_rule_accepts(&eng, b, AF_INET, "eth1", "veth-wan"));

	struct nflog_pkt p = pkt("192.168.7.2", IPPROTO_TCP, 7070);

	events = 0;
	CHECK_INT(fire(&p, NULL, "br-lan", "veth-wan", 0), 1);
	CHECK_INT(fire(&p, NULL, "eth1", "ppp0", 0), 1);
	CHECK_INT(fire(&p, NULL, "veth-wan", "br-lan", 0), 0);
	p.dport = 7071;
	CHECK_INT(fire(&p, NULL, "br-lan", "veth-wan", 0), 0);
	CHECK_INT(events, 2);
	CHECK_INT(eng.stats.triggers_seen, 4);
	CHECK_INT(eng.stats.triggers_unmatched, 2);

	struct iflist all = { 0 };

	CHECK_INT(engine_all_wan(&eng, &all), 0);
	CHECK_INT(all.n, 2);
	iflist_clear(&all);
	engine_fini(&eng);
}

static void links_of(struct iflist *l, const char *names)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", names);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		iflist_add(l, t);
}

/* WANT: the WAN names, '|', the LAN names */
static void check_in_use(const char *links, const char *want)
{
	struct iflist l = { 0 }, wan = { 0 }, lan = { 0 };
	char got[256] = "";
	struct strbuf sb = STRBUF_INIT(got, sizeof(got));

	links_of(&l, links);
	CHECK_INT(engine_interfaces(&eng, &l, &wan, &lan), 0);
	for (size_t i = 0; i < wan.n; i++)
		strbuf_printf(&sb, "%s%s", i ? " " : "", wan.names[i]);
	strbuf_printf(&sb, "|");
	for (size_t i = 0; i < lan.n; i++)
		strbuf_printf(&sb, "%s%s", i ? " " : "", lan.names[i]);
	CHECK_STR(got, want);
	iflist_clear(&l);
	iflist_clear(&wan);
	iflist_clear(&lan);
}

/* The WAN and LAN interfaces in use, from those that exist. */
static void test_in_use(void)
{
	struct iflist none = { 0 };

	setup("rule a trigger 7070/tcp forward 6970-7170/udp\n");
	check_in_use("lo br-lan eth1 veth-wan", "veth-wan|br-lan eth1");
	/* no default route: no WAN, and every interface but loopback would be LAN */
	engine_set_auto_wan(&eng, &none);
	check_in_use("lo br-lan veth-wan", "|br-lan veth-wan");
	engine_fini(&eng);

	/* a wan statement that matches nothing that exists (a typo), then something that does */
	setup("wan eht0\nlan br-lan\nrule a trigger 7070/tcp forward 6970-7170/udp\n");
	check_in_use("lo br-lan eth0", "|br-lan");
	check_in_use("lo br-lan eth0 eht0", "eht0|br-lan");
	engine_fini(&eng);

	/* per-rule lists add up; a static rule has a WAN side only */
	setup("rule a trigger 1/tcp forward 2/tcp wan ppp* lan eth1\n"
	      "rule b trigger 1/tcp forward 3/tcp\n"
	      "rule c forward 4/tcp to 192.168.1.2 wan eth9\n");
	check_in_use("lo eth1 eth2 ppp0 ppp1 veth-wan eth9",
		     "ppp0 ppp1 veth-wan eth9|eth1 eth2 ppp0 ppp1 eth9");
	engine_fini(&eng);

	/* no rules at all: the defaults */
	setup("");
	check_in_use("lo eth0 veth-wan", "veth-wan|eth0");
	engine_fini(&eng);
}

static void test_trigger_index(void)
{
	setup("rule a trigger 7000-7100/tcp forward 1/udp\n"
	      "rule b trigger 7070/tcp,5000/udp forward 2/udp\n"
	      "rule c trigger 1-65535/udp forward 3/udp\n"
	      "rule d trigger 7101/tcp forward 4/udp\n");
	struct nflog_pkt p = pkt("192.168.7.2", IPPROTO_TCP, 7070);

	CHECK_INT(fire(&p, NULL, "br-lan", "veth-wan", 0), 2);	/* a, b */
	p.dport = 7100;
	CHECK_INT(fire(&p, NULL, "br-lan", "veth-wan", 0), 1);	/* a */
	p.dport = 7101;
	CHECK_INT(fire(&p, NULL, "br-lan", "veth-wan", 0), 1);	/* d */
	p.dport = 6999;
	CHECK_INT(fire(&p, NULL, "br-lan", "veth-wan", 0), 0);
	p.proto = IPPROTO_UDP;
	p.dport = 5000;
	CHECK_INT(fire(&p, NULL, "br-lan", "veth-wan", 0), 2);	/* b, c */
	p.dport = 65535;
	CHECK_INT(fire(&p, NULL, "br-lan", "veth-wan", 0), 1);	/* c */
	CHECK_INT(eng.fwt.n, 4);
	engine_fini(&eng);
}

static void test_family(void)
{
	setup("rule a trigger 7070/tcp forward 6970-7170/udp family ipv6\n");
	struct nflog_pkt p = pkt("192.168.7.2", IPPROTO_TCP, 7070);

	CHECK_INT(fire(&p, NULL, "br-lan", "veth-wan", 0), 0);
	engine_fini(&eng);
}

static const char *find_op(const struct nlbatch *b, const char *suffix)
{
	for (size_t i = 0; i < b->n_ops; i++) {
		size_t n = strlen(b->ops[i].what), k = strlen(suffix);

		if (n >= k && !strcmp(b->ops[i].what + n - k, suffix))
			return b->ops[i].what;
	}
	return NULL;
}

static void test_guard(void)
{
	/* IPv6-capable rules' forwards, merged; not family ipv4, not static IPv4 */
	setup("pinhole-guard on\n"
	      "rule a trigger 1/tcp forward 6970-7170/udp\n"
	      "rule b trigger 2/tcp forward 100/tcp family ipv4\n"
	      "rule c trigger 3/tcp forward 200/tcp,6969/udp family ipv6\n"
	      "rule s forward 300/tcp to 192.168.7.20\n"
	      "rule t forward 400/udp to 2001:db8::20\n");
	struct nlbatch b;

	nlbatch_init(&b, 1);
	nlbatch_reset(&b);
	CHECK_INT(tablewrite_all(&eng, &b, 0), 0);
	CHECK_STR(find_op(&b, "in guard6"), "add 3 in guard6");
	engine_fini(&eng);

	setup("pinhole-guard off\nrule a trigger 1/tcp forward 6970-7170/udp\n");
	nlbatch_reset(&b);
	CHECK_INT(tablewrite_all(&eng, &b, 0), 0);
	CHECK(!find_op(&b, "in guard6"));
	CHECK(find_op(&b, "flush guard6"));
	nlbatch_free(&b);
	engine_fini(&eng);
}

static void test_writes(void)
{
	setup("rule ra trigger 7070/tcp forward 6970-7170/udp timeout 10s\n"
	      "rule st forward 27015/udp to 192.168.7.20\n");
	struct nflog_pkt p1 = pkt("192.168.7.2", IPPROTO_TCP, 7070);
	struct nflog_pkt p2 = pkt("192.168.7.3", IPPROTO_TCP, 7070);
	struct nlbatch b;

	nlbatch_init(&b, 1);
	nlbatch_reset(&b);
	CHECK_INT(tablewrite_all(&eng, &b, 0), 0);
	/* the rules' sets and chains, their forwarding sets flushed, the lists, the static element */
	CHECK(find_op(&b, "create set act4_ra") && find_op(&b, "create set pin6_ra"));
	CHECK(find_op(&b, "create chain d4_udp_6970") && find_op(&b, "create chain d4_udp_27015"));
	CHECK(!find_op(&b, "create chain t4_tcp_7070"));	/* no kernel path asked for */
	CHECK(find_op(&b, "flush act4_ra") && find_op(&b, "flush own6_ra") && find_op(&b, "flush act4_st"));
	CHECK(find_op(&b, "flush learn4") && find_op(&b, "flush learn6"));	/* learn_write_all fills them */
	CHECK_STR(find_op(&b, "in wanif"), "add 2 in wanif");
	CHECK_STR(find_op(&b, "in triggers"), "add 1 in triggers");
	CHECK(find_op(&b, "flush guard6"));	/* pinhole-guard off: left empty */
	CHECK_STR(b.ops[b.n_ops - 1].what, "add 1 in act4_st");

	nlbatch_reset(&b);
	CHECK_INT(tablewrite_pending(&eng, &b, 0, NULL, NULL), 0);	/* nothing changed */
	fire(&p1, NULL, "br-lan", "veth-wan", 1000);
	CHECK_INT(tablewrite_pending(&eng, &b, 1000, NULL, NULL), 2);	/* destroy + add: an upsert */
	CHECK_STR(b.ops[0].what, "delete 1 in act4_ra");
	CHECK_STR(b.ops[1].what, "add 1 in act4_ra");

	nlbatch_reset(&b);
	fire(&p1, NULL, "br-lan", "veth-wan", 2000);
	/* refresh: destroy + add too (before 6.12 an add alone keeps the old timeout) */
	CHECK_INT(tablewrite_pending(&eng, &b, 2000, NULL, NULL), 2);
	CHECK_STR(b.ops[0].what, "delete 1 in act4_ra");
	CHECK_STR(b.ops[1].what, "add 1 in act4_ra");

	/* a burst in one turn coalesces into one write per forwarding */
	nlbatch_reset(&b);
	for (int i = 0; i < 50; i++) {
		fire(&p1, NULL, "br-lan", "veth-wan", 3000);
		fire(&p2, NULL, "br-lan", "veth-wan", 3000);
	}
	CHECK_INT(tablewrite_pending(&eng, &b, 3000, NULL, NULL), 2);
	CHECK_STR(b.ops[0].what, "delete 1 in act4_ra");
	CHECK_STR(b.ops[1].what, "add 1 in act4_ra");
	nlbatch_free(&b);

	struct dynbuf out = { 0 };

	report_list(&eng, 5500, true, &out);
	CHECK_STR(out.data,
		  "[\n"
		  "  {\"rule\": \"ra\", \"family\": \"ipv4\", \"proto\": \"udp\", \"port_min\": 6970, "
		  "\"port_max\": 7170, \"host\": \"192.168.7.3\", \"host_lladdr\": null, \"peer\": null, \"expires\": 8, \"static\": false},\n"
		  "  {\"rule\": \"st\", \"family\": \"ipv4\", \"proto\": \"udp\", \"port_min\": 27015, "
		  "\"port_max\": 27015, \"host\": \"192.168.7.20\", \"host_lladdr\": null, \"peer\": null, \"expires\": null, \"static\": true}\n"
		  "]\n");
	dynbuf_free(&out);
	report_list(&eng, 5500, false, &out);
	CHECK_STR(out.data,
		  "RULE  FAMILY  PROTO  PORTS      HOST          PEER  EXPIRES\n"
		  "ra    ipv4    udp    6970-7170  192.168.7.3   -     8s\n"
		  "st    ipv4    udp    27015      192.168.7.20  -     static\n"
		  "\n2 forwardings, 2 rules\n");
	dynbuf_free(&out);
	report_rules(&eng, 5500, true, &out);
	CHECK(strstr(out.data, "{\"name\": \"ra\", \"triggers\": [\"7070/tcp\"], \"forwards\": "
			       "[\"6970-7170/udp\"], \"timeout\": 10, \"to\": null, \"peer\": false, "
			       "\"exclusive\": false, \"source\": \"t.conf:1\", \"enabled\": true, "
			       "\"switched\": false, \"forwardings\": 1, \"last_triggered\": 2}") != NULL);
	CHECK(strstr(out.data, "\"source\": \"t.conf:2\", \"enabled\": true, \"switched\": false, "
			       "\"forwardings\": 1, \"last_triggered\": null}") != NULL);
	dynbuf_free(&out);
	report_rules(&eng, 5500, false, &out);
	CHECK(strstr(out.data, "    # t.conf:1; enabled, 1 forwarding, last triggered 2s ago\n") != NULL);
	CHECK(strstr(out.data, "    # t.conf:2; enabled, 1 forwarding, static\n") != NULL);
	dynbuf_free(&out);
	engine_fini(&eng);

	/* a file name with control bytes is shown escaped */
	struct config *c = config_new();

	config_parse_text(c, "\x1b[2Jx.conf", "rule a trigger 1/tcp forward 2/tcp\n", 35);
	engine_init(&eng);
	engine_set_config(&eng, c, 0, NULL, NULL);
	report_rules(&eng, 0, false, &out);
	CHECK(out.data && strstr(out.data, "    # \\x1b[2Jx.conf:1; enabled, "));
	dynbuf_free(&out);
	report_rules(&eng, 0, true, &out);
	CHECK(out.data && strstr(out.data, "\"source\": \"\\u001b[2Jx.conf:1\","));
	dynbuf_free(&out);
	engine_fini(&eng);
}

static void test_reload_keeps(void)
{
	struct config *c = config_new();
	const char *text = "rule ra trigger 7070/tcp forward 6970-7170/udp timeout 5s\n"
			   "rule x trigger 1/tcp forward 100/tcp timeout 1m\n";
	struct nflog_pkt p = pkt("192.168.7.2", IPPROTO_TCP, 7070);
	struct nflog_pkt q = pkt("192.168.7.2", IPPROTO_TCP, 1);
	struct nlbatch b;

	setup("rule ra trigger 7070/tcp forward 6970-7170/udp timeout 1m\n"
	      "rule x trigger 1/tcp forward 100-200/tcp timeout 1m\n");
	fire(&p, NULL, "br-lan", "veth-wan", 0);
	fire(&q, NULL, "br-lan", "veth-wan", 0);
	CHECK_INT(eng.fwt.n, 2);
	config_parse_text(c, "t2.conf", text, strlen(text));
	nlbatch_init(&b, 1);
	nlbatch_reset(&b);
	tablewrite_pending(&eng, &b, 0, NULL, NULL);
	nlbatch_reset(&b);
	engine_set_config(&eng, c, 1000, NULL, NULL);
	/* ra kept with its expiry cut to the new timeout; x changed its range: dropped */
	CHECK_INT(eng.fwt.n, 1);
	CHECK_INT(fwtable_next_deadline(&eng.fwt), 6000);
	/* the reload writes what changed: x's element goes, ra is rewritten with its new expiry */
	CHECK(tablewrite_pending(&eng, &b, 1000, NULL, NULL) > 0);
	CHECK_STR(b.ops[0].what, "delete 1 in act4_x");
	/* x's ranges changed: its jump changes, its chain (the same rules) stays; so do ra's sets */
	CHECK(!find_op(&b, "chain d4_tcp_100"));
	CHECK(find_op(&b, "delete from fwd4v") && find_op(&b, "add to fwd4v"));
	CHECK(!find_op(&b, "delete from trig4v"));	/* its trigger stays */
	CHECK(find_op(&b, "flush triggers"));
	CHECK_STR(b.ops[b.n_ops - 1].what, "add 1 in act4_ra");
	for (size_t i = 0; i < b.n_ops; i++)
		CHECK(strcmp(b.ops[i].what, "flush act4_ra") != 0 &&
		      strcmp(b.ops[i].what, "create set act4_ra") != 0);
	nlbatch_free(&b);
	engine_fini(&eng);
}

/*
 * The kernel path: what the kernel opened for a trigger the engine
 * refuses is deleted at the next write; a refused trigger near the
 * holder's expiry has the holder's element written again.
 */
static void test_kernel_path(void)
{
	struct nflog_pkt p = pkt("192.168.7.2", IPPROTO_UDP, 5060);
	struct nflog_pkt q = pkt("192.168.7.3", IPPROTO_TCP, 7070);
	struct nlbatch b;

	setup("max-per-host 1\n"
	      "rule v trigger 5060/udp forward 10000-10100/udp peer\n"
	      "rule ex trigger 7070/tcp forward 6970-7170/udp exclusive timeout 10s\n");
	eng.kernel_triggers = true;
	nlbatch_init(&b, 1);
	nlbatch_reset(&b);
	CHECK_INT(tablewrite_all(&eng, &b, 0), 0);
	CHECK(find_op(&b, "create chain t4_udp_5060") && find_op(&b, "create chain t6_tcp_7070"));
	CHECK(find_op(&b, "add to trig4v") && find_op(&b, "add to trig6v"));

	/* a second peer for a host at its limit: the kernel's element for that peer goes */
	nlbatch_reset(&b);
	fire(&p, NULL, "br-lan", "veth-wan", 1000);
	p.daddr.v4.s_addr = htonl(0xcb00710a);
	fire(&p, NULL, "br-lan", "veth-wan", 1000);
	CHECK_INT(eng.fwt.n, 1);
	CHECK_INT(tablewrite_pending(&eng, &b, 1000, NULL, NULL), 3);
	CHECK_STR(b.ops[0].what, "delete 1 in act4p_v");	/* the refused one */
	CHECK_STR(b.ops[1].what, "delete 1 in act4p_v");	/* the opened one's upsert */
	CHECK_STR(b.ops[2].what, "add 1 in act4p_v");

	/* an exclusive rule: a refused trigger changes nothing... */
	fire(&q, NULL, "br-lan", "veth-wan", 1000);
	nlbatch_reset(&b);
	CHECK_INT(tablewrite_pending(&eng, &b, 1000, NULL, NULL), 2);
	q.saddr.v4.s_addr = htonl(0xc0a80704);
	fire(&q, NULL, "br-lan", "veth-wan", 2000);
	nlbatch_reset(&b);
	CHECK_INT(tablewrite_pending(&eng, &b, 2000, NULL, NULL), 0);
	/* ...but in the holder's last second the kernel may have expired it and added another */
	fire(&q, NULL, "br-lan", "veth-wan", 10500);
	CHECK_INT(tablewrite_pending(&eng, &b, 10500, NULL, NULL), 2);
	CHECK_STR(b.ops[0].what, "delete 1 in act4_ex");
	CHECK_STR(b.ops[1].what, "add 1 in act4_ex");

	/* a trigger the daemon's own source check refused: what the kernel opened goes */
	nlbatch_reset(&b);
	q.dport = 7070;
	engine_close(&eng, NULL, 0, NULL, NULL, NULL);
	tablewrite_pending(&eng, &b, 11000, NULL, NULL);
	nlbatch_reset(&b);
	forged(&q, "br-lan", "veth-wan");
	CHECK_INT(tablewrite_pending(&eng, &b, 11000, NULL, NULL), 1);
	CHECK_STR(b.ops[0].what, "delete 1 in act4_ex");
	/* not from a WAN interface: the kernel would not have added */
	nlbatch_reset(&b);
	forged(&q, "veth-wan", "veth-wan");
	CHECK_INT(tablewrite_pending(&eng, &b, 11000, NULL, NULL), 0);
	/* nor with the kernel path off */
	eng.kernel_triggers = false;
	forged(&q, "br-lan", "veth-wan");
	CHECK_INT(tablewrite_pending(&eng, &b, 11000, NULL, NULL), 0);
	nlbatch_free(&b);
	engine_fini(&eng);
}

/* The expiration (ms) of the element a NEWSETELEM in B adds to SET: 0 none sent, -1 no such message. */
static long long added_expiration(const struct nlbatch *b, const char *set)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)b->buf;
	int len = b->len;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		struct nftnl_set *s;
		struct nftnl_set_elems_iter *it;
		struct nftnl_set_elem *e;
		long long v = -1;

		if ((nlh->nlmsg_type & 0xff) != NFT_MSG_NEWSETELEM)
			continue;
		s = nftnl_set_alloc();
		if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0 || strcmp(nftnl_set_get_str(s, NFTNL_SET_NAME), set)) {
			nftnl_set_free(s);
			continue;
		}
		it = nftnl_set_elems_iter_create(s);
		if (it && (e = nftnl_set_elems_iter_next(it)))
			v = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION) ?
				    (long long)nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION) : 0;
		nftnl_set_elems_iter_destroy(it);
		nftnl_set_free(s);
		return v;
	}
	return -1;
}

/*
 * A holder past its deadline whose expiry has not run yet, rewritten (a
 * refused trigger in its last second): the element goes back with what
 * is left of its time, at least 1 ms, never with no expiration (which
 * the kernel reads as a whole new timeout).
 */
static void test_rewrite_past_deadline(void)
{
	struct nflog_pkt a = pkt("192.168.7.2", IPPROTO_TCP, 7070);
	struct nflog_pkt b = pkt("192.168.7.3", IPPROTO_TCP, 7070);
	struct nlbatch nb;

	setup("rule ex trigger 7070/tcp forward 6970-7170/udp exclusive timeout 10s\n");
	eng.kernel_triggers = true;
	nlbatch_init(&nb, 1);
	nlbatch_reset(&nb);
	fire(&a, NULL, "br-lan", "veth-wan", 1000);
	tablewrite_pending(&eng, &nb, 1000, NULL, NULL);
	CHECK_INT(added_expiration(&nb, "act4_ex"), 10000);
	nlbatch_reset(&nb);
	fire(&b, NULL, "br-lan", "veth-wan", 11002);
	CHECK_INT(tablewrite_pending(&eng, &nb, 11003, NULL, NULL), 2);
	CHECK_INT(added_expiration(&nb, "act4_ex"), 1);
	nlbatch_free(&nb);
	engine_fini(&eng);
}


/*
 * IPv6, exclusive: two first triggers on two CPUs can both pass the
 * kernel's owner guard and both add a pinhole. The refused host's pinhole
 * goes at the next write, the holder's guard and pinhole stay.
 */
static void test_kernel_path_ipv6_race(void)
{
	struct nflog_pkt a = { .af = AF_INET6, .proto = IPPROTO_TCP, .dport = 7070 };
	struct nflog_pkt b;
	struct nlbatch nb;
	/* two machines of one /64 */
	const uint8_t lla[6] = { 2, 0, 0, 0, 0, 2 }, llb[6] = { 2, 0, 0, 0, 0, 3 };
	struct hostid ida, idb;

	hostid_link(lla, 6, &ida);
	hostid_link(llb, 6, &idb);

	inet_pton(AF_INET6, "2001:db8:7::2", &a.saddr.v6);
	inet_pton(AF_INET6, "2001:db8:1::9", &a.daddr.v6);
	b = a;
	inet_pton(AF_INET6, "2001:db8:7::3", &b.saddr.v6);
	setup("rule ex trigger 7070/tcp forward 6970-7170/udp exclusive timeout 10s\n"
	      "rule open trigger 7071/tcp forward 8000/udp timeout 10s\n");
	eng.kernel_triggers = true;
	nlbatch_init(&nb, 1);
	nlbatch_reset(&nb);
	fire(&a, &ida, "br-lan", "veth-wan", 1000);
	CHECK(tablewrite_pending(&eng, &nb, 1000, NULL, NULL) > 0);
	nlbatch_reset(&nb);
	CHECK_INT(fire(&b, &idb, "br-lan", "veth-wan", 1001), 1);
	CHECK_INT(last_change, FWD_REFUSED);
	CHECK_INT(tablewrite_pending(&eng, &nb, 1001, NULL, NULL), 1);
	CHECK_STR(nb.ops[0].what, "delete 1 in pin6_ex");
	CHECK(!find_op(&nb, "delete 1 in own6_ex"));
	CHECK_INT(eng.fwt.n, 1);
	/* a takeover of a rule that is not exclusive is written as ever */
	nlbatch_reset(&nb);
	a.dport = b.dport = 7071;
	fire(&a, &ida, "br-lan", "veth-wan", 1002);
	tablewrite_pending(&eng, &nb, 1002, NULL, NULL);
	nlbatch_reset(&nb);
	fire(&b, &idb, "br-lan", "veth-wan", 1003);
	CHECK(tablewrite_pending(&eng, &nb, 1003, NULL, NULL) > 0);
	/* (the old host's elements and the upsert of the new one's: as without the race) */
	CHECK(find_op(&nb, "delete 2 in pin6_open") && find_op(&nb, "add 1 in pin6_open"));
	/* without the kernel path the kernel added nothing to undo */
	eng.kernel_triggers = false;
	nlbatch_reset(&nb);
	a.dport = b.dport = 7070;
	fire(&b, &idb, "br-lan", "veth-wan", 1004);
	CHECK_INT(tablewrite_pending(&eng, &nb, 1004, NULL, NULL), 0);
	nlbatch_free(&nb);
	engine_fini(&eng);
}

static void test_allow(void)
{
	struct config *c = config_new();
	const char *text = "allow 192.168.7.128/25\n"
			   "rule a trigger 1/tcp forward 100/tcp\n"
			   "rule b trigger 2/tcp forward 200/tcp allow 192.168.7.200,fd00::/64\n";
	struct nflog_pkt p = pkt("192.168.7.2", IPPROTO_TCP, 1);

	setup("allow 192.168.7.0/24\n"
	      "rule a trigger 1/tcp forward 100/tcp\n"
	      "rule b trigger 2/tcp forward 200/tcp allow 192.168.7.200,fd00::/64\n");
	CHECK_INT(fire(&p, NULL, "br-lan", "veth-wan", 0), 1);
	p = pkt("192.168.8.2", IPPROTO_TCP, 1);
	CHECK_INT(fire(&p, NULL, "br-lan", "veth-wan", 0), 0);
	CHECK_INT(eng.stats.triggers_not_allowed, 1);
	/* the rule's own list replaces the global one */
	p = pkt("192.168.7.2", IPPROTO_TCP, 2);
	CHECK_INT(fire(&p, NULL, "br-lan", "veth-wan", 0), 0);
	p = pkt("192.168.7.200", IPPROTO_TCP, 2);
	CHECK_INT(fire(&p, NULL, "br-lan", "veth-wan", 0), 1);
	CHECK_INT(eng.stats.triggers_not_allowed, 2);
	CHECK_INT(eng.stats.triggers_unmatched, 0);
	CHECK_INT(eng.fwt.n, 2);
	/* a reload whose allow leaves a holder out closes its forwarding */
	config_parse_text(c, "t2.conf", text, strlen(text));
	engine_set_config(&eng, c, 1000, NULL, NULL);
	CHECK_INT(eng.fwt.n, 1);
	CHECK(fwtable_lookup(&eng.fwt, eng.cfg->rules[1], AF_INET, NULL) != NULL);
	engine_fini(&eng);
}

static void test_limits(void)
{
	struct config *c = config_new();
	const char *text = "max-per-host 1\nmax-forwardings 50\n"
			   "rule v trigger 5060/udp forward 10000-10100/udp,10200/udp,10300/udp peer max-per-host 3\n";
	struct nflog_pkt p = pkt("192.168.7.2", IPPROTO_UDP, 5060);
	struct nlbatch b;

	setup("max-per-host 2\nmax-forwardings 1000\n"
	      "rule v trigger 5060/udp forward 10000-10100/udp,10200/udp,10300/udp peer\n"
	      "rule s forward 40/tcp to 192.168.7.9\n");
	/* each peer rule's sets: twice max-forwardings */
	CHECK_INT(engine_fwd_set_size(&eng), 2000);
	CHECK_INT(eng.fwt.max_per_host, 2);
	for (int i = 0; i < 3; i++) {
		p.daddr.v4.s_addr = htonl(0xcb007109 + i);
		fire(&p, NULL, "br-lan", "veth-wan", 0);
	}
	CHECK_INT(last_change, FWD_OVER_HOST_LIMIT);
	CHECK_INT(eng.fwt.n, 3);	/* 2 and the static one */
	/* a reload takes the new limits and the rule's own pool */
	nlbatch_init(&b, 1);
	nlbatch_reset(&b);
	tablewrite_pending(&eng, &b, 0, NULL, NULL);
	nlbatch_reset(&b);
	config_parse_text(c, "t2.conf", text, strlen(text));
	engine_set_config(&eng, c, 1000, NULL, NULL);
	CHECK_INT(eng.fwt.max_per_host, 1);
	CHECK_INT(eng.fwt.max_forwardings, 50);
	{
		struct hostid id;

		hostid_addr(AF_INET, &p.saddr, &id);
		CHECK_INT(fwtable_host_count(&eng.fwt, eng.cfg->rules[0], &id), 2);
	}
	p.daddr.v4.s_addr = htonl(0xcb007120);
	fire(&p, NULL, "br-lan", "veth-wan", 1000);
	CHECK_INT(last_change, FWD_OPENED);
	fire(&p, NULL, "br-lan", "veth-wan", 1000);
	CHECK_INT(last_change, FWD_REFRESHED);
	p.daddr.v4.s_addr = htonl(0xcb007121);
	fire(&p, NULL, "br-lan", "veth-wan", 1000);
	CHECK_INT(last_change, FWD_OVER_HOST_LIMIT);
	/* the kernel's sets follow the new size in the reload's batch */
	CHECK_INT(engine_fwd_set_size(&eng), 1024);
	CHECK(tablewrite_pending(&eng, &b, 1000, NULL, NULL) > 0);
	CHECK_STR(find_op(&b, "set act4p_v"), "create set act4p_v");
	nlbatch_reset(&b);
	/* unchanged, not written again */
	engine_set_config(&eng, config_dup(eng.cfg), 2000, NULL, NULL);
	CHECK(tablewrite_pending(&eng, &b, 2000, NULL, NULL) > 0);
	CHECK(find_op(&b, "set act4p_v") == NULL);
	nlbatch_free(&b);
	engine_fini(&eng);
}

/* A pair's replicated triggers: the same decisions, no interfaces, counted apart */
static void test_replicated(void)
{
	struct nflog_pkt p = pkt("192.168.7.2", IPPROTO_UDP, 7070), q = pkt("192.168.7.3", IPPROTO_UDP, 7070);
	struct fwd *f;

	setup("rule a trigger 7070/udp forward 6970-7170/udp timeout 1m\n"
	      "rule x trigger 7070/udp forward 8000/udp exclusive family ipv6\n"
	      "rule s forward 40/tcp to 192.168.7.9\n");
	CHECK_INT(replicate(&p, 1000), 1);
	CHECK_INT(last_change, FWD_OPENED);
	f = fwtable_lookup(&eng.fwt, eng.cfg->rules[0], AF_INET, NULL);
	CHECK(f && f->replicated && f->timer.deadline == 61000);
	CHECK_INT(engine_n_replicated(&eng), 1);
	/* last host wins, from either router */
	CHECK_INT(replicate(&q, 2000), 1);
	CHECK_INT(last_change, FWD_TAKEN_OVER);
	CHECK_INT(fire(&p, NULL, "br-lan", "veth-wan", 3000), 1);
	CHECK_INT(last_change, FWD_TAKEN_OVER);
	CHECK(!f->replicated);
	CHECK_INT(engine_n_replicated(&eng), 0);
	CHECK_INT(eng.stats.triggers_replicated, 2);
	CHECK_INT(eng.stats.triggers_seen, 3);
	engine_fini(&eng);
}

static int closed_n;
static void on_closed(const struct fwd *f, void *data)
{
	closed_n++;
}

/* A copy of the running configuration with rule NAME switched (1 on, -1 off). */
static struct config *switched(const char *name, int state)
{
	struct config *c = config_dup(eng.cfg);

	config_find_rule(c, name)->switched = state;
	return c;
}

static void test_disabled(void)
{
	setup("rule a trigger 7070/tcp forward 6970-7170/udp\n"
	      "rule b trigger 7070/tcp forward 8000/udp disabled\n"
	      "rule s forward 27015/udp to 192.168.7.20 disabled\n"
	      "rule t forward 27016/udp to 192.168.7.21\n");
	struct nflog_pkt p = pkt("192.168.7.2", IPPROTO_TCP, 7070);
	struct fwelem_decoded el = { .af = AF_INET };
	struct nlbatch b;

	CHECK_INT(eng.fwt.n, 1);	/* t only: a disabled static rule forwards nothing */
	CHECK_INT(fire(&p, NULL, "br-lan", "veth-wan", 1000), 1);	/* a only */
	CHECK(engine_last_trigger(&eng, eng.cfg->rules[0]) == 1000);
	CHECK(engine_last_trigger(&eng, eng.cfg->rules[1]) == 0);
	CHECK_INT(eng.fwt.n, 2);
	inet_pton(AF_INET, "192.168.7.2", &el.host.v4);
	CHECK_INT(engine_adopt(&eng, "b", &el, NULL, 5000, 1000), 0);

	/* only enabled rules' triggers are in the kernel's set */
	nlbatch_init(&b, 1);
	nlbatch_reset(&b);
	CHECK_INT(tablewrite_all(&eng, &b, 1000), 0);
	CHECK_STR(find_op(&b, "in triggers"), "add 1 in triggers");
	nlbatch_free(&b);

	/* switched off: its forwardings close, static or not; the times it fired stay */
	closed_n = 0;
	engine_set_config(&eng, switched("a", -1), 2000, on_closed, NULL);
	CHECK_INT(closed_n, 1);
	CHECK_INT(eng.fwt.n, 1);
	CHECK_INT(fire(&p, NULL, "br-lan", "veth-wan", 2000), 0);
	CHECK(engine_last_trigger(&eng, config_find_rule(eng.cfg, "a")) == 1000);
	engine_set_config(&eng, switched("t", -1), 2000, on_closed, NULL);
	CHECK_INT(closed_n, 2);
	CHECK_INT(eng.fwt.n, 0);

	/* switched on */
	engine_set_config(&eng, switched("b", 1), 3000, on_closed, NULL);
	engine_set_config(&eng, switched("s", 1), 3000, on_closed, NULL);
	CHECK_INT(eng.fwt.n, 1);	/* s */
	CHECK_INT(fire(&p, NULL, "br-lan", "veth-wan", 3000), 1);	/* b */
	CHECK_INT(eng.fwt.n, 2);
	engine_fini(&eng);
}

/* The host (IPv4 map data) of the first element of the batch's message of sequence SEQ. */
static uint32_t elem_data(const struct nlbatch *b, uint32_t seq)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)b->buf;
	int len = b->len;
	uint32_t host = 0;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		struct nftnl_set *s;
		struct nftnl_set_elems_iter *it;
		struct nftnl_set_elem *e;
		uint32_t n;

		if (nlh->nlmsg_seq != seq || !(s = nftnl_set_alloc()))
			continue;
		if (nftnl_set_elems_nlmsg_parse(nlh, s) == 0 && (it = nftnl_set_elems_iter_create(s))) {
			if ((e = nftnl_set_elems_iter_next(it)) && nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_DATA))
				memcpy(&host, nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &n), 4);
			nftnl_set_elems_iter_destroy(it);
		}
		nftnl_set_free(s);
	}
	return host;
}

/*
 * Before Linux 6.3 (no DESTROY): what may be gone is added first, with the
 * data the kernel holds, then deleted, in the same transaction; one delete
 * per key.
 */
static void test_no_destroy(void)
{
	struct nflog_pkt p1 = pkt("192.168.7.2", IPPROTO_TCP, 7070);
	struct nflog_pkt p2 = pkt("192.168.7.3", IPPROTO_TCP, 7070);
	struct nflog_pkt a = { .af = AF_INET6, .proto = IPPROTO_TCP, .dport = 7070 }, c;
	struct nlbatch b;

	setup("rule ra trigger 7070/tcp forward 6970-7170/udp timeout 10s\n");
	eng.caps.has[KCAP_DESTROY] = false;
	nlbatch_init(&b, 1);
	nlbatch_reset(&b);
	CHECK_INT(tablewrite_all(&eng, &b, 0), 0);
	nlbatch_reset(&b);
	fire(&p1, NULL, "br-lan", "veth-wan", 1000);
	CHECK_INT(tablewrite_pending(&eng, &b, 1000, NULL, NULL), 3);
	CHECK_INT(b.ops[0].type, NFT_MSG_NEWSETELEM);
	CHECK_INT(b.ops[1].type, NFT_MSG_DELSETELEM);
	CHECK_STR(b.ops[1].what, "delete 1 in act4_ra");
	CHECK_INT(b.ops[2].type, NFT_MSG_NEWSETELEM);
	/* a takeover: the re-add carries the old host (else EEXIST), the add the new one */
	nlbatch_reset(&b);
	fire(&p2, NULL, "br-lan", "veth-wan", 2000);
	CHECK_INT(tablewrite_pending(&eng, &b, 2000, NULL, NULL), 3);
	CHECK_INT(elem_data(&b, b.ops[0].seq), p1.saddr.v4.s_addr);
	CHECK_INT(elem_data(&b, b.ops[2].seq), p2.saddr.v4.s_addr);
	/* a refresh: the same host three times */
	nlbatch_reset(&b);
	fire(&p2, NULL, "br-lan", "veth-wan", 3000);
	CHECK_INT(tablewrite_pending(&eng, &b, 3000, NULL, NULL), 3);
	CHECK_INT(elem_data(&b, b.ops[0].seq), p2.saddr.v4.s_addr);
	nlbatch_free(&b);
	engine_fini(&eng);

	/* IPv6: the owner key is the same for both hosts: deleted once; both hosts' pinholes */
	inet_pton(AF_INET6, "2001:db8:7::2", &a.saddr.v6);
	inet_pton(AF_INET6, "2001:db8:1::9", &a.daddr.v6);
	c = a;
	inet_pton(AF_INET6, "2001:db8:7::3", &c.saddr.v6);
	setup("rule ra trigger 7070/tcp forward 6970-7170/udp timeout 10s\n");
	eng.caps.has[KCAP_DESTROY] = false;
	nlbatch_init(&b, 1);
	nlbatch_reset(&b);
	CHECK_INT(tablewrite_all(&eng, &b, 0), 0);
	nlbatch_reset(&b);
	fire(&a, NULL, "br-lan", "veth-wan", 1000);
	tablewrite_pending(&eng, &b, 1000, NULL, NULL);
	nlbatch_reset(&b);
	fire(&c, NULL, "br-lan", "veth-wan", 2000);
	CHECK(tablewrite_pending(&eng, &b, 2000, NULL, NULL) > 0);
	CHECK(find_op(&b, "delete 1 in own6_ra") && find_op(&b, "delete 2 in pin6_ra"));
	CHECK(!find_op(&b, "delete 2 in own6_ra"));
	nlbatch_free(&b);
	engine_fini(&eng);
}

TEST_MAIN(T(test_disabled), T(test_replicated), T(test_interfaces), T(test_in_use), T(test_trigger_index), T(test_family), T(test_writes), T(test_guard),
	  T(test_reload_keeps), T(test_kernel_path), T(test_kernel_path_ipv6_race), T(test_rewrite_past_deadline), T(test_allow), T(test_limits),
	  T(test_no_destroy))
