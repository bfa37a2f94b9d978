/*
 * table inet ipautofw: created with the whole state in one transaction
 * (owned, and kept by the kernel after a crash where it can), adopted
 * from a daemon that died, removed on a clean stop.
 */
#include <errno.h>
#include <malloc.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

#include "adopt.h"
#include "log.h"
#include "manager.h"
#include "nftobj.h"

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
void table_adopt(struct manager *m)
{
	static const enum nftobj_rset kinds[] = {
		NFTOBJ_RS_ACT4, NFTOBJ_RS_ACT4P, NFTOBJ_RS_PIN6, NFTOBJ_RS_PIN6P,
	};
	struct adopt_ctx a = { .m = m };
	const struct config *c = m->eng.cfg;

	if (nft_dump_elems(nftobj_set_name(NFTOBJ_TRIGGERS), NULL, NULL) == -ENOENT)
		return;	/* no table: a clean start */
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
}

static int create_table(struct manager *m, struct nlbatch_op *ret_failed);

/*
 * The table, with the kernel path where the kernel takes it: a kernel that
 * refuses the packet path's adds (or what they need) gets the table
 * without them, and the daemon opens every forwarding, as it did before.
 */
int table_setup(struct manager *m)
{
	struct nlbatch_op failed = { 0 };
	int r;

	m->eng.kernel_triggers = !m->opt.no_kernel_path && !m->kernel_path_failed;
	/*
	 * The named counters go on from what the table being replaced counted
	 * (a re-exec's, an adopted one's), so that whoever reads them sees no
	 * restart. Without a table they go on from the last table's start.
	 */
	rails_kernel_counters(m->eng.counters);
	r = create_table(m, &failed);
	/* a request past the table itself refused: what the kernel path needs */
	if (r < 0 && m->eng.kernel_triggers && failed.type && failed.type != NFT_MSG_NEWTABLE &&
	    failed.type != NFTOBJ_MSG_DESTROYTABLE) {
		m->kernel_path_failed = true;
		log_warn("this kernel refused the packet path's forwardings (%s: %s): the daemon "
			 "opens every forwarding itself, about 100 us after the trigger", failed.what,
			 strerror(-r));
		m->eng.kernel_triggers = false;
		m->eng.layout_stale = true;
		r = create_table(m, &failed);
	}
	if (r < 0)
		log_err("cannot create table inet %s: %s", NFTOBJ_TABLE, strerror(-r));
	else
		m->table_learn = m->eng.cfg->learn;
	nlbatch_reset(&m->batch);
	if (r == 0)
		rails_write_vetted(m, true);
#ifdef __GLIBC__
	/* the whole table in one batch: megabytes for a thousand rules, once */
	malloc_trim(0);
#endif
	return r;
}

static int create_table(struct manager *m, struct nlbatch_op *ret_failed)
{
	uint32_t flags[] = { NFTOBJ_TABLE_F_OWNER | NFTOBJ_TABLE_F_PERSIST, NFTOBJ_TABLE_F_OWNER };
	size_t n_flags = ARRAY_SIZE(flags);
	int r = -EINVAL;

	if (m->opt.no_owner || m->opt.no_persist) {
		flags[0] = m->opt.no_owner ? 0 : NFTOBJ_TABLE_F_OWNER;
		n_flags = 1;
	}
	for (size_t i = 0; i < n_flags; i++) {
		const struct nlbatch_op *op;

		nlbatch_reset(&m->batch);
		r = engine_write_table(&m->eng, &m->batch, m->opt.group, flags[i], now_ms());
		if (r == 0)
			r = learn_write_all(&m->learn, &m->batch, now_ms());
		if (r < 0)
			break;
		r = nftsock_commit(&m->nft, &m->batch, &op);
		if (r == 0) {
			m->table_owned = flags[i] & NFTOBJ_TABLE_F_OWNER;
			m->table_persist = flags[i] & NFTOBJ_TABLE_F_PERSIST;
			log_debug("table inet %s created (%s)", NFTOBJ_TABLE,
				  flags[i] & NFTOBJ_TABLE_F_PERSIST ? "owner, persist" :
				  flags[i] ? "owner" : "not owned: other tools may change it");
			if (flags[i] && !(flags[i] & NFTOBJ_TABLE_F_PERSIST) && !m->opt.no_persist)
				log_warn("this kernel cannot keep a table after its owner exits "
					 "(NFT_TABLE_F_PERSIST, Linux 6.9); forwardings end with the daemon");
			break;
		}
		if (r == -EPERM && op && op->type == NFTOBJ_MSG_DESTROYTABLE) {
			log_err("table inet %s belongs to another process (is ipautofwd already running?)",
				NFTOBJ_TABLE);
			break;
		}
		log_debug("creating table with flags 0x%x failed at %s: %s", flags[i],
			  op ? op->what : "?", strerror(-r));
		if (op)
			*ret_failed = *op;	/* the batch is reset below */
		/* only the table's flags may be what this kernel refuses: try fewer */
		if (!op || op->type != NFT_MSG_NEWTABLE)
			break;
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
