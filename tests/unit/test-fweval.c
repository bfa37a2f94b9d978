/*
 * The firewall check's model and evaluator on their own, on rulesets built
 * by hand through the fwruleset API: the questions asked of the model
 * while it is dumped (which chains, which sets), and the fate of one
 * packet in a base chain, three-valued, with jumps, gotos, returns, loops,
 * sets and verdict maps. The check on real rulesets is test-fwcheck.
 */
#include <netinet/in.h>	/* before the kernel headers, which would redefine in_addr */
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <string.h>

#include "kernel/fweval.h"
#include "kernel/fwruleset.h"
#include "test.h"

#define MARK 0x10000000

static void chain(struct fwruleset *rs, const char *name, bool base, bool policy_drop)
{
	struct fwruleset_chain *c = fwruleset_chain_add(rs, NFPROTO_INET, "t", name);

	CHECK(c);
	c->base = base;
	c->hook = NF_INET_FORWARD;
	c->policy_drop = policy_drop;
}

/* A rule at the end of chain NAME (chains move as they are added: found again each time). */
static struct fwruleset_rule *rule(struct fwruleset *rs, const char *name,
				   enum fwruleset_verdict v, const char *target)
{
	struct fwruleset_chain *c = fwruleset_chain_find(rs, NFPROTO_INET, "t", name);
	struct fwruleset_rule *r = c ? fwruleset_rule_add(c) : NULL;

	CHECK(r);
	r->verdict = v;
	if (target)
		snprintf(r->target, sizeof(r->target), "%s", target);
	return r;
}

static void cond(struct fwruleset_rule *r, enum fwruleset_key k, enum fwruleset_op op,
		 uint32_t mask, uint32_t value)
{
	struct fwruleset_cond c = { .key = k, .op = op, .mask = mask, .value = value };

	CHECK_INT(fwruleset_cond_add(r, &c), 0);
}

/* KEY in (or not in) set SET */
static void lookup(struct fwruleset_rule *r, enum fwruleset_key k, bool in, int set)
{
	struct fwruleset_cond c = { .key = k, .op = in ? FWRULESET_OP_IN : FWRULESET_OP_NOT_IN,
				    .mask = 0xffffffff, .set = set };

	CHECK_INT(fwruleset_cond_add(r, &c), 0);
}

static void elem(struct fwruleset *rs, int set, uint16_t port, bool end,
		 enum fwruleset_verdict v, const char *target)
{
	struct fwruleset_elem e = { .key = { port >> 8, port & 0xff }, .key_end = { port >> 8, port & 0xff },
				    .len = 2, .interval_end = end, .verdict = v };

	if (target)
		snprintf(e.target, sizeof(e.target), "%s", target);
	CHECK_INT(fwruleset_elem_add(rs, set, &e), 0);
}

struct lab {
	struct fwruleset rs;
	struct iflist wan;
	struct fweval_pkt v4, v6;
};

static void lab_init(struct lab *l)
{
	memset(l, 0, sizeof(*l));
	iflist_add(&l->wan, "wan0");
	/* what the check tries: a DNATed IPv4 forwarding, a marked IPv6 pinhole */
	l->v4 = (struct fweval_pkt){ .nfproto = NFPROTO_IPV4, .l4 = IPPROTO_UDP, .lo = 6970,
				     .hi = 7170, .dnat = true, .mark_mask = MARK, .wan = &l->wan };
	l->v6 = l->v4;
	l->v6.nfproto = NFPROTO_IPV6;
	l->v6.dnat = false;
	l->v6.mark = MARK;
}

static void lab_free(struct lab *l)
{
	fwruleset_free(&l->rs);
	iflist_clear(&l->wan);
}

/* The fate of P in base chain "fwd", and whether an accept may have applied. */
static int fate(struct lab *l, const struct fweval_pkt *p, bool *ret_maybe)
{
	return fweval_chain(&l->rs, fwruleset_chain_find(&l->rs, NFPROTO_INET, "t", "fwd"), p,
			    ret_maybe);
}

static void test_model(void)
{
	struct fwruleset rs = { 0 };
	struct fwruleset_chain *c;
	const uint8_t port[2] = { 0x1b, 0x58 };
	bool wanted[6];
	int s[6];

	CHECK_INT(fwruleset_key_len(FWRULESET_KEY_DPORT), 2);
	CHECK_INT(fwruleset_key_value(FWRULESET_KEY_DPORT, port), 7000);
	CHECK_INT(fwruleset_key_len(FWRULESET_KEY_OTHER), 0);

	chain(&rs, "fwd", true, true);
	chain(&rs, "zone", false, false);
	chain(&rs, "unused", false, false);
	chain(&rs, "by-map", false, false);
	CHECK(fwruleset_chain_add(&rs, NFPROTO_INET, "ipautofw", "forward") != NULL);
	rs.chains[rs.n_chains - 1].base = true;
	rs.chains[rs.n_chains - 1].hook = NF_INET_FORWARD;
	for (int i = 0; i < 6; i++) {
		char name[8];

		snprintf(name, sizeof(name), "s%d", i);
		s[i] = fwruleset_set_ref(&rs, NFPROTO_INET, i == 4 ? "ipautofw" : "t", name);
		CHECK_INT(s[i], i);
	}
	CHECK_INT(fwruleset_set_ref(&rs, NFPROTO_INET, "t", "s1"), 1);
	CHECK_INT(fwruleset_set_find(&rs, NFPROTO_INET, "t", "s4"), -ENOENT);
	CHECK_INT(fwruleset_set_find(&rs, NFPROTO_IPV4, "t", "s1"), -ENOENT);

	c = fwruleset_chain_find(&rs, NFPROTO_INET, "ipautofw", "forward");
	CHECK(c && !fwruleset_chain_checked(c, "ipautofw") && fwruleset_chain_checked(c, NULL));
	CHECK(fwruleset_chain_checked(&rs.chains[0], "ipautofw"));
	CHECK(!fwruleset_chain_checked(&rs.chains[1], "ipautofw"));
	lookup(fwruleset_rule_add(c), FWRULESET_KEY_DPORT, true, s[4]);	/* ours: not wanted */

	/* fwd looks up s0 and jumps to zone (s1); map s2 leads to by-map (s3) once loaded */
	lookup(rule(&rs, "fwd", FWRULESET_VERDICT_ACCEPT, NULL), FWRULESET_KEY_DPORT, true, s[0]);
	rule(&rs, "fwd", FWRULESET_VERDICT_JUMP, "zone");
	lookup(rule(&rs, "zone", FWRULESET_VERDICT_DROP, NULL), FWRULESET_KEY_DPORT, false, s[1]);
	rule(&rs, "fwd", FWRULESET_VERDICT_VMAP, NULL)->vmap =
		(struct fwruleset_cond){ .key = FWRULESET_KEY_DPORT, .op = FWRULESET_OP_IN,
					 .mask = 0xffffffff, .set = s[2] };
	lookup(rule(&rs, "by-map", FWRULESET_VERDICT_ACCEPT, NULL), FWRULESET_KEY_DPORT, true, s[3]);
	lookup(rule(&rs, "unused", FWRULESET_VERDICT_ACCEPT, NULL), FWRULESET_KEY_DPORT, true, s[5]);

	CHECK_INT(fwruleset_sets_wanted(&rs, "ipautofw", wanted), 0);
	CHECK(wanted[0] && wanted[1] && wanted[2] && !wanted[3] && !wanted[4] && !wanted[5]);
	elem(&rs, s[2], 7000, false, FWRULESET_VERDICT_GOTO, "by-map");
	CHECK_INT(fwruleset_sets_wanted(&rs, "ipautofw", wanted), 0);
	CHECK(wanted[0] && wanted[1] && wanted[2] && wanted[3] && !wanted[4] && !wanted[5]);
	fwruleset_free(&rs);
	CHECK(!rs.chains && !rs.n_chains && !rs.sets && !rs.n_sets);
}

/* Policies, and the two lines the README asks for */
static void test_verdicts(void)
{
	struct fwruleset_rule *r;
	struct lab l;
	bool maybe;

	lab_init(&l);
	chain(&l.rs, "fwd", true, false);
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_ACCEPT);
	CHECK(!maybe);
	l.rs.chains[0].policy_drop = true;
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_DROP);
	CHECK(!maybe);

	/* ct status dnat accept */
	r = rule(&l.rs, "fwd", FWRULESET_VERDICT_ACCEPT, NULL);
	cond(r, FWRULESET_KEY_CTSTATUS, FWRULESET_OP_NEQ, IPS_DST_NAT, 0);
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_ACCEPT);
	CHECK_INT(fate(&l, &l.v6, &maybe), FWEVAL_FATE_DROP);
	CHECK(!maybe);
	/* meta mark and 0x10000000 == 0x10000000 accept */
	r = rule(&l.rs, "fwd", FWRULESET_VERDICT_ACCEPT, NULL);
	cond(r, FWRULESET_KEY_MARK, FWRULESET_OP_EQ, MARK, MARK);
	CHECK_INT(fate(&l, &l.v6, &maybe), FWEVAL_FATE_ACCEPT);
	l.v6.mark = 0;
	CHECK_INT(fate(&l, &l.v6, &maybe), FWEVAL_FATE_DROP);
	CHECK(!maybe);
	/* a mark on bits the check does not own: may be anything */
	cond(rule(&l.rs, "fwd", FWRULESET_VERDICT_ACCEPT, NULL), FWRULESET_KEY_MARK,
	     FWRULESET_OP_EQ, 0xff, 1);
	CHECK_INT(fate(&l, &l.v6, &maybe), FWEVAL_FATE_DROP);
	CHECK(maybe);
	/* queue: someone else decides */
	rule(&l.rs, "fwd", FWRULESET_VERDICT_UNKNOWN, NULL);
	CHECK_INT(fate(&l, &l.v6, &maybe), FWEVAL_FATE_UNKNOWN);
	CHECK(maybe);
	lab_free(&l);
}

/* Destination ports and protocols: inside, outside, or partly */
static void test_ports(void)
{
	struct fwruleset_rule *r;
	struct lab l;
	bool maybe;
	int set;

	lab_init(&l);
	chain(&l.rs, "fwd", true, true);
	r = rule(&l.rs, "fwd", FWRULESET_VERDICT_ACCEPT, NULL);
	cond(r, FWRULESET_KEY_L4PROTO, FWRULESET_OP_EQ, 0xffffffff, IPPROTO_UDP);
	cond(r, FWRULESET_KEY_DPORT, FWRULESET_OP_GTE, 0xffffffff, 6000);
	cond(r, FWRULESET_KEY_DPORT, FWRULESET_OP_LTE, 0xffffffff, 7000);
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_DROP);
	CHECK(maybe);		/* 6970-7000 pass, 7001-7170 do not */
	l.v4.hi = 6980;
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_ACCEPT);
	l.v4.l4 = 0;		/* tcp or udp: one of them passes */
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_DROP);
	CHECK(maybe);
	l.v4.l4 = IPPROTO_TCP;
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_DROP);
	CHECK(!maybe);

	/* th dport { 7000-7999 } accept, as an interval set: a start and an (exclusive) end */
	set = fwruleset_set_ref(&l.rs, NFPROTO_INET, "t", "ports");
	l.rs.sets[set].interval = true;
	elem(&l.rs, set, 7000, false, FWRULESET_VERDICT_CONTINUE, NULL);
	elem(&l.rs, set, 8000, true, FWRULESET_VERDICT_CONTINUE, NULL);
	lookup(rule(&l.rs, "fwd", FWRULESET_VERDICT_ACCEPT, NULL), FWRULESET_KEY_DPORT, true, set);
	l.v4.lo = 7100;
	l.v4.hi = 7999;
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_ACCEPT);
	l.v4.hi = 8000;
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_DROP);
	CHECK(maybe);
	/* a set whose elements were not read: its lookups may match */
	l.rs.sets[set].has_elems = false;
	l.v4.hi = 7999;
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_DROP);
	CHECK(maybe);
	lab_free(&l);
}

/* Jumps, gotos, returns and loops */
static void test_chains(void)
{
	struct lab l;
	bool maybe;

	lab_init(&l);
	chain(&l.rs, "fwd", true, true);
	chain(&l.rs, "zone", false, false);
	chain(&l.rs, "back", false, false);
	rule(&l.rs, "fwd", FWRULESET_VERDICT_JUMP, "zone");
	rule(&l.rs, "zone", FWRULESET_VERDICT_RETURN, NULL);
	rule(&l.rs, "zone", FWRULESET_VERDICT_ACCEPT, NULL);
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_DROP);	/* returned before the accept */
	CHECK(!maybe);
	l.rs.chains[1].rules[0].verdict = FWRULESET_VERDICT_CONTINUE;
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_ACCEPT);

	/* a return that may happen: a caller may accept what is left */
	l.rs.chains[1].rules[1].verdict = FWRULESET_VERDICT_RETURN;
	cond(&l.rs.chains[1].rules[0], FWRULESET_KEY_OTHER, FWRULESET_OP_MAYBE, 0, 0);
	l.rs.chains[1].rules[0].verdict = FWRULESET_VERDICT_RETURN;
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_DROP);
	CHECK(maybe);

	/* goto: the end of the chain gone to (empty) ends its caller too, down to the policy */
	l.rs.chains[0].rules[0].verdict = FWRULESET_VERDICT_GOTO;
	snprintf(l.rs.chains[0].rules[0].target, FWRULESET_NAME_MAX, "back");
	rule(&l.rs, "fwd", FWRULESET_VERDICT_ACCEPT, NULL);
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_DROP);
	CHECK(!maybe);

	/* a loop (the kernel refuses them) and a missing chain: not known */
	l.rs.chains[0].rules[0].verdict = FWRULESET_VERDICT_JUMP;
	rule(&l.rs, "back", FWRULESET_VERDICT_JUMP, "fwd");
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_UNKNOWN);
	CHECK(maybe);
	snprintf(l.rs.chains[0].rules[0].target, FWRULESET_NAME_MAX, "gone");
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_UNKNOWN);
	lab_free(&l);
}

static void test_vmap(void)
{
	struct lab l;
	bool maybe;
	int map;

	/* th dport vmap { 6970: accept, 7000: drop }: the packet's ports meet both */
	lab_init(&l);
	chain(&l.rs, "fwd", true, true);
	map = fwruleset_set_ref(&l.rs, NFPROTO_INET, "t", "m");
	elem(&l.rs, map, 6970, false, FWRULESET_VERDICT_ACCEPT, NULL);
	elem(&l.rs, map, 7000, false, FWRULESET_VERDICT_DROP, NULL);
	rule(&l.rs, "fwd", FWRULESET_VERDICT_VMAP, NULL)->vmap =
		(struct fwruleset_cond){ .key = FWRULESET_KEY_DPORT, .op = FWRULESET_OP_IN,
					 .mask = 0xffffffff, .set = map };
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_DROP);
	CHECK(maybe);
	l.v4.lo = l.v4.hi = 6970;
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_ACCEPT);
	l.v4.lo = l.v4.hi = 7000;
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_DROP);
	CHECK(!maybe);
	lab_free(&l);
}

/* Interfaces are taken at their best, for the path from a WAN to a LAN interface */
static void test_interfaces(void)
{
	struct fwruleset_cond c = { .key = FWRULESET_KEY_IIFNAME, .op = FWRULESET_OP_EQ };
	struct iflist lan = { 0 };
	struct lab l;
	bool maybe;

	lab_init(&l);
	chain(&l.rs, "fwd", true, true);
	snprintf(c.ifname, sizeof(c.ifname), "lan0");
	CHECK_INT(fwruleset_cond_add(rule(&l.rs, "fwd", FWRULESET_VERDICT_ACCEPT, NULL), &c), 0);
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_DROP);		/* not from the WAN */
	l.rs.chains[0].rules[0].conds[0].key = FWRULESET_KEY_OIFNAME;
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_ACCEPT);	/* any LAN interface */
	iflist_add(&lan, "br-lan");
	l.v4.lan = &lan;
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_DROP);		/* not the LAN in use */
	l.rs.chains[0].rules[0].conds[0].prefix = true;
	snprintf(l.rs.chains[0].rules[0].conds[0].ifname, sizeof(c.ifname), "br");
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_ACCEPT);	/* "br*" */
	/* iifname != "wan0" drop: the one WAN interface there is */
	l.rs.chains[0].policy_drop = false;
	c.op = FWRULESET_OP_NEQ;
	snprintf(c.ifname, sizeof(c.ifname), "wan0");
	CHECK_INT(fwruleset_cond_add(rule(&l.rs, "fwd", FWRULESET_VERDICT_DROP, NULL), &c), 0);
	l.rs.chains[0].rules[0].verdict = FWRULESET_VERDICT_CONTINUE;
	CHECK_INT(fate(&l, &l.v4, &maybe), FWEVAL_FATE_ACCEPT);
	CHECK(!maybe);
	iflist_clear(&lan);
	lab_free(&l);
}

TEST_MAIN(T(test_model), T(test_verdicts), T(test_ports), T(test_chains), T(test_vmap),
	  T(test_interfaces))
