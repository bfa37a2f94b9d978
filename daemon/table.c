/*
 * table inet ipautofw: created with the whole state in one transaction
 * (owned, and kept by the kernel after a crash where it can), adopted
 * from a daemon that died, removed on a clean stop.
 */
#include <netinet/in.h>	/* before the kernel headers */
#include <errno.h>
#include <malloc.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>

#include "engine/adopt.h"
#include "nft/kcaps.h"
#include "nft/kprobe.h"
#include "control/view.h"
#include "log.h"
#include "manager.h"
#include "nft/nftobj.h"
#include "nft/nftskel.h"

struct adopt_ctx {
	struct manager *m;
	enum nftobj_rset kind;
	const char *rule;
	unsigned adopted;
	unsigned dropped;
};

static void adopt_elem(const struct adopt_elem *e, void *data)
{
	struct adopt_ctx *a = data;

	if (engine_adopt(&a->m->eng, a->rule, &e->fwd, e->has_udata ? e->udata : NULL, e->left_ms,
			 now_ms()) > 0)
		a->adopted++;
	else
		a->dropped++;
}

static int adopt_cb(const struct nlmsghdr *nlh, void *data)
{
	struct adopt_ctx *a = data;
	int bad = adopt_decode(nlh, a->kind, adopt_elem, a);

	if (bad > 0)
		a->dropped += bad;
	return MNL_CB_OK;
}

/*
 * A table left by a daemon that died (kept by PERSIST): take over its
 * forwardings with their remaining time. The table is then replaced in
 * one transaction, so nothing stops forwarding in between.
 */
bool table_adopt(struct manager *m)
{
	static const enum nftobj_rset kinds[] = {
		NFTOBJ_RS_ACT4, NFTOBJ_RS_ACT4P, NFTOBJ_RS_PIN6, NFTOBJ_RS_PIN6P,
	};
	struct adopt_ctx a = { .m = m };
	const struct config *c = view_config(&m->eng);

	if (nft_dump_elems(nftobj_set_name(NFTOBJ_TRIGGERS), NULL, NULL) == -ENOENT)
		return false;	/* no table: a clean start, or one that was flushed */
	/* each rule's own sets, where a rule of that name had them */
	for (size_t i = 0; c && i < c->n_rules; i++)
		for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
			struct nftobj_setref s;

			a.kind = kinds[k];
			a.rule = c->rules[i]->name;
			nftobj_setref_rule(kinds[k], a.rule, &s);
			nft_dump_elems(s.name, adopt_cb, &a);
		}
	if (a.adopted || a.dropped)
		log_info("adopted %u forwarding element%s left by a previous ipautofwd%s", a.adopted,
			 a.adopted == 1 ? "" : "s", a.dropped ? " (and dropped those that no longer fit)" : "");
	return true;
}

/*
 * IPAUTOFWD_KCAPS_LACK=destroy,persist,...: act as if the kernel lacked
 * these, so that the tests run every fallback on any kernel (the kernel
 * matrix runs them on the kernels that really lack them).
 */
static void lack_for_tests(struct kcaps *k)
{
	const char *env = getenv("IPAUTOFWD_KCAPS_LACK");

	for (int c = 0; env && c < KCAP__N; c++) {
		const char *name = kcaps_name(c), *p = env;
		size_t len = strlen(name);

		for (; (p = strstr(p, name)); p += len)
			if ((p == env || p[-1] == ',') && (p[len] == ',' || p[len] == '\0')) {
				k->has[c] = false;
				log_info("IPAUTOFWD_KCAPS_LACK: acting as if the kernel lacked %s", name);
				break;
			}
	}
}

/*
 * What this kernel can do, tried once at start (lib/nft/kcaps.h): each probe
 * batch is checked by the kernel and thrown away, before our table exists.
 * Each facility it lacks is said once, in plain words.
 */
void table_probe(struct manager *m)
{
	struct kcaps caps;
	char table[32];
	struct utsname u;

	snprintf(table, sizeof(table), "ipautofw-probe-%d", (int)getpid());
	kcaps_all(&caps);
	for (int c = KPROBE_FIRST; c < KPROBE_END; c++) {
		const struct nlbatch_op *op = NULL;
		int r;

		nlbatch_reset(&m->batch);
		r = kprobe_batch(&m->batch, c, table);
		if (r == 0)
			r = nftsock_try(&m->nft, &m->batch, &op);
		/* refused for want of privileges is no answer: the table's creation says it */
		caps.has[c] = r == 0 || r == -EPERM || r == -EACCES;
		if (r < 0)
			log_debug("kernel probe %s: %s%s%s", kcaps_name(c), op ? op->what : "",
				  op ? ": " : "", strerror(-r));
	}
	nlbatch_reset(&m->batch);
	lack_for_tests(&caps);
	engine_set_caps(&m->eng, &caps);
	if (uname(&u) < 0)
		u.release[0] = '\0';
	for (int c = 0; c < KCAP__N; c++) {
		struct dynbuf line = { 0 };

		if (!kcaps_missing(&caps, c))
			continue;
		/* (no persistence asked for: no loss to report) */
		if (c == KCAP_PERSIST && (m->opt.no_persist || m->opt.no_owner))
			continue;
		kcaps_describe(&caps, c, u.release, &line);
		log_warn("%s", line.data ? line.data : "");
		dynbuf_free(&line);
	}
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_table *t = nftnl_table_alloc();
	bool *found = data;

	if (t && nftnl_table_nlmsg_parse(nlh, t) == 0 &&
	    nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY) == NFPROTO_INET &&
	    !strcmp(nftnl_table_get_str(t, NFTNL_TABLE_NAME), NFTOBJ_TABLE))
		*found = true;
	if (t)
		nftnl_table_free(t);
	return MNL_CB_OK;
}

/* Is there a table inet ipautofw (left by a daemon that died, or ours)? */
static bool table_exists(void)
{
	bool found = false;

	/* a failed dump: say it exists; a delete of a missing table fails, and is said */
	if (nft_dump(NFT_MSG_GETTABLE, table_cb, &found) < 0)
		return true;
	return found;
}

static int create_table(struct manager *m, uint32_t flags, struct nlbatch_op *ret_failed);

/* The names of what this kernel lacks, for a failure that may come of it. */
static void lacks(const struct kcaps *k, struct dynbuf *out)
{
	for (int c = 0; c < KCAP__N; c++)
		if (!kcaps_has(k, c))
			dynbuf_printf(out, "%s%s", out->len ? ", " : " (this kernel lacks: ", kcaps_name(c));
	if (out->len)
		dynbuf_printf(out, ")");
}

/* The kernel refused FAILED, which C needs, though the probe found C: without it from now on, said once. */
static void lose_facility(struct manager *m, enum kcap c, const struct nlbatch_op *failed, int r)
{
	struct dynbuf line = { 0 };

	engine_lose_cap(&m->eng, c);
	kcaps_describe(view_caps(&m->eng), c, NULL, &line);
	log_warn("%s (refused: %s: %s)", line.data ? line.data : "", failed->what, strerror(-r));
	dynbuf_free(&line);
}

/*
 * The table, with the kernel path where the kernel takes it: a kernel that
 * refuses the packet path's adds (or what they need) gets the table
 * without them, and the daemon opens every forwarding, as it did before.
 */
int table_setup(struct manager *m)
{
	uint32_t flags = kcaps_table_flags(view_caps(&m->eng), m->opt.no_owner, m->opt.no_persist);
	struct nftobj_ctr ctr[NFTOBJ__COUNTERS];
	struct nlbatch_op failed = { 0 };
	int r;

	engine_set_kernel_path(&m->eng, kcaps_has(view_caps(&m->eng), KCAP_KERNEL_PATH) &&
					   !m->opt.no_kernel_path);
	/*
	 * The named counters go on from what the table being replaced counted
	 * (a re-exec's, an adopted one's), so that whoever reads them sees no
	 * restart. Without a table they go on from the last table's start.
	 */
	if (rails_kernel_counters(ctr) == 0)
		engine_set_counters(&m->eng, ctr);
	r = create_table(m, flags, &failed);
	/*
	 * The reverse-path rule refused although the probe found the lookup:
	 * a kernel that checks hooks only when a batch is committed. The
	 * daemon checks the route back itself from now on.
	 */
	if (r < 0 && failed.type == NFT_MSG_NEWRULE && nftskel_rule_is_rpf(failed.what) &&
	    kcaps_has(view_caps(&m->eng), KCAP_FIB_FORWARD)) {
		lose_facility(m, KCAP_FIB_FORWARD, &failed, r);
		r = create_table(m, flags, &failed);
	}
	/* a request past the table itself refused: what the kernel path needs */
	if (r < 0 && view_kernel_path(&m->eng) && failed.type && failed.type != NFT_MSG_NEWTABLE &&
	    failed.type != NFTOBJ_MSG_DESTROYTABLE && failed.type != NFT_MSG_DELTABLE) {
		lose_facility(m, KCAP_KERNEL_PATH, &failed, r);
		engine_set_kernel_path(&m->eng, false);
		r = create_table(m, flags, &failed);
	}
	/* the flags the probe found may still be refused (a new kernel rule) */
	if (r < 0 && flags && failed.type == NFT_MSG_NEWTABLE) {
		log_warn("creating table inet %s with flags 0x%x failed (%s): trying without them",
			 NFTOBJ_TABLE, flags, strerror(-r));
		r = create_table(m, 0, &failed);
	}
	if (r == -EPERM && (failed.type == NFTOBJ_MSG_DESTROYTABLE || failed.type == NFT_MSG_DELTABLE)) {
		log_err("table inet %s belongs to another process (is ipautofwd already running?)",
			NFTOBJ_TABLE);
	} else if (r < 0) {
		struct dynbuf why = { 0 };

		lacks(view_caps(&m->eng), &why);
		/* a re-creation that keeps failing is said once (lib/engine/tsync.h), its retries quietly */
		if (m->sync.failing)
			log_debug("cannot create table inet %s: the kernel refused %s: %s%s", NFTOBJ_TABLE,
				  failed.type ? failed.what : "the transaction", strerror(-r),
				  why.data ? why.data : "");
		else
			log_err("cannot create table inet %s: the kernel refused %s: %s%s", NFTOBJ_TABLE,
				failed.type ? failed.what : "the transaction", strerror(-r),
				why.data ? why.data : "");
		dynbuf_free(&why);
	} else {
		m->table_learn = view_config(&m->eng)->learn;
	}
	nlbatch_reset(&m->batch);
	if (r == 0)
		rails_write_vetted(m, true);
#ifdef __GLIBC__
	/* the whole table in one batch: megabytes for a thousand rules, once */
	malloc_trim(0);
#endif
	return r;
}

/* An event of the table's sync state (lib/engine/tsync.h), and what it says */
static void sync_event(struct manager *m, enum tsync_event ev)
{
	switch (tsync_event(&m->sync, ev, now_ms())) {
	case TSYNC_SAY_FAILING:
		log_err("re-creating table inet %s failed: trying again every second", NFTOBJ_TABLE);
		break;
	case TSYNC_SAY_RECOVERED:
		log_info("table inet %s re-created", NFTOBJ_TABLE);
		break;
	default:
		break;
	}
}

int table_recreate(struct manager *m)
{
	int r = table_setup(m);

	sync_event(m, r < 0 ? TSYNC_EV_CREATE_FAILED : TSYNC_EV_CREATED);
	return r;
}

static int create_table(struct manager *m, uint32_t flags, struct nlbatch_op *ret_failed)
{
	const struct nlbatch_op *op = NULL;
	int r;

	memset(ret_failed, 0, sizeof(*ret_failed));
	nlbatch_reset(&m->batch);
	/* (with DESTROY the kernel deletes a table that may not be there: no need to look) */
	r = tablewrite_table(&m->eng, &m->batch, m->opt.group, flags,
			     !kcaps_has(view_caps(&m->eng), KCAP_DESTROY) && table_exists(), now_ms());
	if (r == 0)
		r = learn_write_all(&m->learn, &m->batch, now_ms());
	if (r == 0)
		r = nftsock_commit(&m->nft, &m->batch, &op);
	if (r == 0) {
		m->table_owned = flags & NFTOBJ_TABLE_F_OWNER;
		m->table_persist = flags & NFTOBJ_TABLE_F_PERSIST;
		log_debug("table inet %s created (%s)", NFTOBJ_TABLE,
			  flags & NFTOBJ_TABLE_F_PERSIST ? "owner, persist" :
			  flags ? "owner" : "not owned: other tools may change it");
	} else if (op) {
		log_debug("creating table with flags 0x%x failed at %s: %s", flags, op->what, strerror(-r));
		*ret_failed = *op;	/* the batch is reset below */
	}
	nlbatch_reset(&m->batch);
	return r;
}

void table_remove(struct manager *m)
{
	const struct nlbatch_op *op;
	int r;

	nlbatch_reset(&m->batch);
	r = nftobj_table(&m->batch, NFT_MSG_DELTABLE, 0);
	if (r == 0)
		r = nftsock_commit(&m->nft, &m->batch, &op);
	if (r < 0)
		log_err("removing table inet %s: %s", NFTOBJ_TABLE, strerror(-r));
}
