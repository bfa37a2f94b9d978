#include <errno.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "rules/config.h"
#include "test.h"
#include "kernel/trace.h"

/* An IPv4 header (20 bytes) and the first 8 of UDP/TCP, as the kernel's trace carries them. */
static void headers(struct trace_event *ev, uint8_t proto, const char *src, const char *dst,
		    uint16_t sport, uint16_t dport, uint16_t ipid)
{
	memset(ev->nh, 0, sizeof(ev->nh));
	ev->nh[0] = 0x45;
	ev->nh[4] = ipid >> 8;
	ev->nh[5] = ipid & 0xff;
	ev->nh[9] = proto;
	inet_pton(AF_INET, src, ev->nh + 12);
	inet_pton(AF_INET, dst, ev->nh + 16);
	ev->nh_len = 20;
	ev->th[0] = sport >> 8;
	ev->th[1] = sport & 0xff;
	ev->th[2] = dport >> 8;
	ev->th[3] = dport & 0xff;
	ev->th_len = 8;
}

static struct trace_event ev_of(uint32_t id, uint32_t type, const char *table, const char *chain,
				uint64_t handle, int32_t verdict, const char *oif)
{
	struct trace_event ev = { .id = id, .type = type, .family = NFPROTO_INET, .handle = handle,
				  .verdict = verdict, .has_verdict = true };

	snprintf(ev.table, sizeof(ev.table), "%s", table);
	snprintf(ev.chain, sizeof(ev.chain), "%s", chain);
	if (oif) {
		ev.oif = 3;
		snprintf(ev.oifname, sizeof(ev.oifname), "%s", oif);
	}
	ev.iif = 2;
	snprintf(ev.iifname, sizeof(ev.iifname), "%s", "br-lan");
	return ev;
}

static struct config *cfg(void)
{
	static const char text[] = "rule rtsp trigger 554/tcp forward 6970-7170/udp timeout 10m\n";
	struct config *c = config_new();

	config_parse_text(c, "t.conf", text, strlen(text));
	return c;
}

/* The line without its time. */
static const char *words(const struct dynbuf *out)
{
	const char *sp = out->data ? strchr(out->data, ' ') : NULL;

	return sp ? sp + 1 : "";
}

static void rule_reject(uint32_t family, const char *table, const char *chain, uint64_t handle,
			char *buf, size_t size, void *data)
{
	snprintf(buf, size, "%s", handle == 5 ? "reject" : "");
}

static void setup(struct tracer *t, struct config *c, struct iflist *wan)
{
	union inaddr host;

	inet_pton(AF_INET, "192.168.7.2", &host.v4);
	CHECK_INT(tracer_init(t, AF_INET, &host), 0);
	t->cfg = c;
	t->own_table = "ipautofw";
	iflist_add(wan, "veth-wan");
	t->wan = wan;
}

static void test_decode(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;
	struct nlattr *nest;
	struct trace_event ev;
	uint8_t nh[20] = { 0x45, [9] = IPPROTO_TCP, [12] = 192, 168, 7, 2, 203, 0, 113, 9 };

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = NFPROTO_INET;
	mnl_attr_put_strz(nlh, NFTA_TRACE_TABLE, "admin");
	mnl_attr_put_strz(nlh, NFTA_TRACE_CHAIN, "forward");
	mnl_attr_put_u32(nlh, NFTA_TRACE_ID, htonl(0xabcd));
	mnl_attr_put_u32(nlh, NFTA_TRACE_TYPE, htonl(NFT_TRACETYPE_RULE));
	mnl_attr_put_u64(nlh, NFTA_TRACE_RULE_HANDLE, htobe64(5));
	nest = mnl_attr_nest_start(nlh, NFTA_TRACE_VERDICT);
	mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl(NF_DROP));
	mnl_attr_nest_end(nlh, nest);
	mnl_attr_put_u32(nlh, NFTA_TRACE_IIF, htonl(2));
	mnl_attr_put_u32(nlh, NFTA_TRACE_OIF, htonl(3));
	mnl_attr_put(nlh, NFTA_TRACE_NETWORK_HEADER, sizeof(nh), nh);
	CHECK_INT(trace_decode(nlh, &ev), 0);
	CHECK_STR(ev.table, "admin");
	CHECK_STR(ev.chain, "forward");
	CHECK_INT(ev.id, 0xabcd);
	CHECK_INT(ev.type, NFT_TRACETYPE_RULE);
	CHECK_INT(ev.handle, 5);
	CHECK(ev.has_verdict && ev.verdict == NF_DROP);
	CHECK_INT(ev.iif, 2);
	CHECK_INT(ev.oif, 3);
	CHECK_INT(ev.nh_len, 20);
	CHECK_INT(ev.nh[12], 192);
	/* another nf_tables message is not a trace */
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE;
	CHECK_INT(trace_decode(nlh, &ev), -EINVAL);
	/* a jump without its chain, a verdict without its code: refused, not an abort in libnftnl */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE;
	mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	mnl_attr_put_strz(nlh, NFTA_TRACE_TABLE, "admin");
	mnl_attr_put_strz(nlh, NFTA_TRACE_CHAIN, "forward");
	mnl_attr_put_u32(nlh, NFTA_TRACE_ID, htonl(1));
	mnl_attr_put_u32(nlh, NFTA_TRACE_TYPE, htonl(NFT_TRACETYPE_RULE));
	nest = mnl_attr_nest_start(nlh, NFTA_TRACE_VERDICT);
	mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl((uint32_t)NFT_JUMP));
	mnl_attr_nest_end(nlh, nest);
	CHECK_INT(trace_decode(nlh, &ev), -EINVAL);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE;
	mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	mnl_attr_put_strz(nlh, NFTA_TRACE_TABLE, "admin");
	mnl_attr_put_strz(nlh, NFTA_TRACE_CHAIN, "forward");
	mnl_attr_put_u32(nlh, NFTA_TRACE_ID, htonl(1));
	mnl_attr_put_u32(nlh, NFTA_TRACE_TYPE, htonl(NFT_TRACETYPE_RULE));
	nest = mnl_attr_nest_start(nlh, NFTA_TRACE_VERDICT);
	mnl_attr_nest_end(nlh, nest);
	CHECK_INT(trace_decode(nlh, &ev), -EINVAL);
	/* a trace without a table or chain is refused */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE;
	mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	mnl_attr_put_u32(nlh, NFTA_TRACE_ID, htonl(1));
	CHECK_INT(trace_decode(nlh, &ev), -EINVAL);
}

/* A trigger the administrator's forward chain rejects; its rule named by handle and what it does. */
static void test_dropped_trigger(void)
{
	struct config *c = cfg();
	struct iflist wan = { 0 };
	struct tracer t;
	struct dynbuf out = { 0 };
	struct trace_event ev;

	setup(&t, c, &wan);
	ev = ev_of(7, NFT_TRACETYPE_RULE, "ipautofw", "trace", 1, NFT_CONTINUE, NULL);
	headers(&ev, IPPROTO_TCP, "192.168.7.2", "203.0.113.9", 40000, 554, 11);
	tracer_feed(&t, &ev, 1000, 0);
	ev = ev_of(8, NFT_TRACETYPE_RULE, "admin", "forward", 5, NF_DROP, "veth-wan");
	ev.family = NFPROTO_INET;
	headers(&ev, IPPROTO_TCP, "192.168.7.2", "203.0.113.9", 40000, 554, 11);
	tracer_feed(&t, &ev, 1001, 0);
	/* nothing is due before it has been quiet a while */
	CHECK_INT(tracer_due(&t, 1050, false, rule_reject, NULL, &out), 1101);
	CHECK_INT(out.len, 0);
	CHECK_INT(tracer_due(&t, 1101, false, rule_reject, NULL, &out), UINT64_MAX);
	CHECK_STR(words(&out), "out 192.168.7.2 -> 203.0.113.9 554/tcp on br-lan: dropped by table inet "
		  "admin, chain forward, rule handle 5 (reject): a connection the firewall drops triggers "
		  "nothing (trigger of rtsp)\n");
	CHECK_INT(t.shown, 1);
	dynbuf_free(&out);
	tracer_fini(&t);
	iflist_clear(&wan);
	config_free(c);
}

/* A trigger that passes: what ipautofwd said about it goes on its line. */
static void test_trigger_opened(void)
{
	struct config *c = cfg();
	struct iflist wan = { 0 };
	struct tracer t;
	struct dynbuf out = { 0 };
	struct trace_event ev;

	setup(&t, c, &wan);
	ev = ev_of(9, NFT_TRACETYPE_RULE, "ipautofw", "trigger", 20, NFT_JUMP, "veth-wan");
	headers(&ev, IPPROTO_TCP, "192.168.7.2", "203.0.113.9", 40001, 554, 12);
	tracer_feed(&t, &ev, 1000, 0);
	ev = ev_of(9, NFT_TRACETYPE_RULE, "ipautofw", "trig_log", 21, NFT_CONTINUE, "veth-wan");
	ev.nh_len = 0;
	tracer_feed(&t, &ev, 1000, 0);
	tracer_note(&t, AF_INET, &t.host, "opened rtsp: 6970-7170/udp to 192.168.7.2, 10m");
	tracer_due(&t, 2000, false, NULL, NULL, &out);
	CHECK_STR(words(&out), "out 192.168.7.2 -> 203.0.113.9 554/tcp on br-lan: accepted, left by "
		  "veth-wan (WAN); trigger of rtsp: ipautofwd opened rtsp: 6970-7170/udp to 192.168.7.2, 10m\n");
	dynbuf_free(&out);

	/* left by an interface that is not WAN */
	ev = ev_of(10, NFT_TRACETYPE_POLICY, "admin", "forward", 0, NF_ACCEPT, "veth-dmz");
	headers(&ev, IPPROTO_TCP, "192.168.7.2", "198.51.100.2", 40002, 554, 13);
	tracer_feed(&t, &ev, 3000, 0);
	tracer_due(&t, 4000, false, NULL, NULL, &out);
	CHECK_STR(words(&out), "out 192.168.7.2 -> 198.51.100.2 554/tcp on br-lan: accepted, left by "
		  "veth-dmz, which is not a WAN interface: triggers nothing\n");
	dynbuf_free(&out);

	/* rate-limited, and forged */
	ev = ev_of(11, NFT_TRACETYPE_RULE, "ipautofw", "trigger4", 30, NFT_RETURN, "veth-wan");
	headers(&ev, IPPROTO_TCP, "192.168.7.2", "203.0.113.9", 40003, 554, 14);
	tracer_feed(&t, &ev, 5000, 0);
	tracer_due(&t, 6000, false, NULL, NULL, &out);
	CHECK(strstr(words(&out), "trigger of rtsp: rate-limited, this host sends more than 200 triggers a second"));
	dynbuf_free(&out);
	ev = ev_of(12, NFT_TRACETYPE_RULE, "ipautofw", "trig_forged", 31, NFT_CONTINUE, "veth-wan");
	headers(&ev, IPPROTO_TCP, "192.168.7.2", "203.0.113.9", 40004, 554, 15);
	tracer_feed(&t, &ev, 7000, 0);
	tracer_due(&t, 8000, false, NULL, NULL, &out);
	CHECK(strstr(words(&out), "trigger of rtsp: forged, the kernel's source check refused it"));
	dynbuf_free(&out);
	tracer_fini(&t);
	iflist_clear(&wan);
	config_free(c);
}

/* Inbound: DNATed by our chain, then dropped by the administrator's forward chain's policy. */
static void test_inbound_dnat_dropped(void)
{
	struct config *c = cfg();
	struct iflist wan = { 0 };
	struct tracer t;
	struct dynbuf out = { 0 };
	struct trace_event ev;

	setup(&t, c, &wan);
	ev = ev_of(20, NFT_TRACETYPE_RULE, "ipautofw", "prerouting", 40, NFT_JUMP, NULL);
	headers(&ev, IPPROTO_UDP, "203.0.113.9", "203.0.113.1", 5000, 7000, 99);
	snprintf(ev.iifname, sizeof(ev.iifname), "veth-wan");
	tracer_feed(&t, &ev, 1000, 0);
	ev = ev_of(20, NFT_TRACETYPE_RULE, "ipautofw", "d4_udp_6970", 41, NF_ACCEPT, NULL);
	ev.nh_len = 0;
	tracer_feed(&t, &ev, 1000, 0);
	/* the forward hook: same id or another, the headers show the new destination */
	ev = ev_of(21, NFT_TRACETYPE_POLICY, "admin", "forward", 0, NF_DROP, "br-lan");
	headers(&ev, IPPROTO_UDP, "203.0.113.9", "192.168.7.2", 5000, 7000, 99);
	tracer_feed(&t, &ev, 1001, 0);
	tracer_due(&t, 2000, false, NULL, NULL, &out);
	CHECK_STR(words(&out), "in 203.0.113.9 -> 203.0.113.1 7000/udp on veth-wan: DNATed to 192.168.7.2 "
		  "by ipautofw (rule rtsp), then dropped by table inet admin, chain forward (its policy): "
		  "that chain needs 'ct status dnat accept' before the drop\n");
	dynbuf_free(&out);

	/* the same again as JSON */
	ev = ev_of(22, NFT_TRACETYPE_RULE, "ipautofw", "prerouting", 40, NFT_JUMP, NULL);
	headers(&ev, IPPROTO_UDP, "203.0.113.9", "203.0.113.1", 5001, 7001, 100);
	tracer_feed(&t, &ev, 3000, 1764619480017);
	ev = ev_of(22, NFT_TRACETYPE_RULE, "ipautofw", "d4_udp_6970", 41, NF_ACCEPT, NULL);
	ev.nh_len = 0;
	tracer_feed(&t, &ev, 3000, 0);
	ev = ev_of(22, NFT_TRACETYPE_POLICY, "admin", "forward", 0, NF_DROP, "br-lan");
	headers(&ev, IPPROTO_UDP, "203.0.113.9", "192.168.7.2", 5001, 7001, 100);
	tracer_feed(&t, &ev, 3001, 0);
	tracer_due(&t, 4000, true, NULL, NULL, &out);
	CHECK(out.data && !strncmp(out.data, "{\"time\": 1764619480.017, \"direction\": \"in\", \"family\": "
				   "\"ipv4\", \"proto\": \"udp\", \"src\": \"203.0.113.9\", \"sport\": 5001", 110));
	CHECK(out.data && strstr(out.data, "\"verdict\": \"dropped\", \"table\": \"inet admin\", \"chain\": "
				 "\"forward\", \"handle\": null, \"policy\": true, \"rule\": null, "
				 "\"dnat\": \"192.168.7.2\""));
	CHECK(out.data && out.data[out.len - 1] == '\n' && !strchr(out.data, '\n')[1]);
	dynbuf_free(&out);
	tracer_fini(&t);
	iflist_clear(&wan);
	config_free(c);
}

/* The kernel may give a later packet the id of an earlier one: the headers tell them apart. */
static void test_reused_id_and_bound(void)
{
	struct config *c = cfg();
	struct iflist wan = { 0 };
	struct tracer t;
	struct dynbuf out = { 0 };
	struct trace_event ev;
	size_t lines = 0;

	setup(&t, c, &wan);
	ev = ev_of(30, NFT_TRACETYPE_POLICY, "admin", "forward", 0, NF_ACCEPT, "veth-wan");
	headers(&ev, IPPROTO_TCP, "192.168.7.2", "203.0.113.9", 41000, 443, 1);
	tracer_feed(&t, &ev, 1000, 0);
	headers(&ev, IPPROTO_TCP, "192.168.7.2", "203.0.113.9", 41001, 80, 2);
	tracer_feed(&t, &ev, 1000, 0);
	tracer_due(&t, 2000, false, NULL, NULL, &out);
	for (size_t i = 0; i < out.len; i++)
		lines += out.data[i] == '\n';
	CHECK_INT(lines, 2);
	dynbuf_free(&out);
	/* more packets at once than it follows: the rest are counted, not told */
	for (unsigned i = 0; i < TRACE_PENDING_MAX + 3; i++) {
		ev = ev_of(100 + i, NFT_TRACETYPE_POLICY, "admin", "forward", 0, NF_ACCEPT, "veth-wan");
		headers(&ev, IPPROTO_UDP, "192.168.7.2", "203.0.113.9", 42000 + i, 5000, i);
		tracer_feed(&t, &ev, 3000, 0);
	}
	CHECK_INT(t.not_shown, 3);
	tracer_due(&t, 4000, false, NULL, NULL, &out);
	CHECK_INT(t.shown, 2 + TRACE_PENDING_MAX);
	dynbuf_free(&out);
	tracer_fini(&t);
	iflist_clear(&wan);
	config_free(c);
}

TEST_MAIN(T(test_decode), T(test_dropped_trigger), T(test_trigger_opened), T(test_inbound_dnat_dropped),
	  T(test_reused_id_and_bound))
