#include <errno.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

#include "nft/kcaps.h"
#include "nft/kprobe.h"
#include "nft/nftobj.h"
#include "test.h"

/* Every combination of the facilities: the table's flags, the checks, the lines. */
static void test_combinations(void)
{
	for (unsigned m = 0; m < 1u << KCAP__N; m++) {
		struct kcaps k;
		uint32_t f;

		for (int c = 0; c < KCAP__N; c++)
			k.has[c] = m & (1u << c);
		f = kcaps_table_flags(&k, false, false);
		/* owned only where the table also outlives a crash (DESIGN §2.8) */
		CHECK_INT(f, k.has[KCAP_OWNER] && k.has[KCAP_PERSIST] ?
			  NFTOBJ_TABLE_F_OWNER | NFTOBJ_TABLE_F_PERSIST : 0);
		CHECK_INT(kcaps_table_flags(&k, true, false), 0);
		CHECK_INT(kcaps_table_flags(&k, false, true), k.has[KCAP_OWNER] ? NFTOBJ_TABLE_F_OWNER : 0);
		CHECK_INT(kcaps_rpf_in_kernel(&k), k.has[KCAP_FIB_FORWARD]);
		for (int c = 0; c < KCAP__N; c++) {
			struct dynbuf d = { 0 };
			bool missing = kcaps_missing(&k, c);

			/* persistence is not said where ownership is missing: that line says it */
			CHECK_INT(missing, !k.has[c] && !(c == KCAP_PERSIST && !k.has[KCAP_OWNER]));
			kcaps_describe(&k, c, "6.1.0-test", &d);
			CHECK(d.data && !strncmp(d.data, "this kernel (6.1.0-test) cannot ", 32));
			CHECK(d.data && strstr(d.data, "Linux "));
			CHECK(d.data && !strchr(d.data, '\n'));
			dynbuf_free(&d);
		}
	}
}

static void test_lines(void)
{
	struct kcaps k;
	struct dynbuf d = { 0 };

	kcaps_all(&k);
	k.has[KCAP_PERSIST] = false;
	kcaps_describe(&k, KCAP_PERSIST, "6.1.0-44-amd64", &d);
	CHECK_STR(d.data, "this kernel (6.1.0-44-amd64) cannot keep an owned table after its owner exits "
			  "(NFT_TABLE_F_PERSIST) (Linux 6.9 and later can): the table is not owned, so "
			  "that forwardings outlive a crash of the daemon as they should; other programs "
			  "can change it and `nft flush ruleset` removes it: the daemon re-creates it "
			  "with every forwarding within milliseconds, but while the daemon is not running "
			  "a flush ends every forwarding");
	dynbuf_free(&d);
	kcaps_describe(&k, KCAP_DESTROY, NULL, &d);
	CHECK(d.data && !strncmp(d.data, "this kernel cannot delete a table or set element", 48));
	dynbuf_free(&d);
	CHECK_STR(kcaps_name(KCAP_FIB_FORWARD), "fib-forward");
}

static int count_type(const struct nlbatch *b, uint16_t type)
{
	int n = 0;

	for (size_t i = 0; i < b->n_ops; i++)
		n += b->ops[i].type == type;
	return n;
}

/* The probe batches: what each one tries, on a table of its own name. */
static void test_probe_batches(void)
{
	struct nlbatch b;

	nlbatch_init(&b, 1);
	nlbatch_reset(&b);
	CHECK_INT(kprobe_batch(&b, KCAP_DESTROY, "ipautofw-probe-1"), 0);
	CHECK_INT(b.n_ops, 4);
	CHECK_INT(count_type(&b, NFTOBJ_MSG_DESTROYTABLE), 1);
	CHECK_INT(count_type(&b, NFTOBJ_MSG_DESTROYSETELEM), 1);
	nlbatch_reset(&b);
	CHECK_INT(kprobe_batch(&b, KCAP_OWNER, "ipautofw-probe-1"), 0);
	CHECK_INT(b.n_ops, 1);
	CHECK_INT(count_type(&b, NFT_MSG_NEWTABLE), 1);
	nlbatch_reset(&b);
	CHECK_INT(kprobe_batch(&b, KCAP_FIB_FORWARD, "ipautofw-probe-1"), 0);
	CHECK_INT(count_type(&b, NFT_MSG_NEWCHAIN), 1);
	CHECK_INT(count_type(&b, NFT_MSG_NEWRULE), 1);
	nlbatch_reset(&b);
	CHECK_INT(kprobe_batch(&b, KCAP_KERNEL_PATH, "ipautofw-probe-1"), -EINVAL);
	/* never our own table */
	for (int c = KPROBE_FIRST; c < KPROBE_END; c++) {
		nlbatch_reset(&b);
		CHECK_INT(kprobe_batch(&b, c, "ipautofw-probe-1"), 0);
		CHECK(b.len > 0 && !memmem(b.buf, b.len, "ipautofw\0", 9));
	}
	nlbatch_free(&b);
}

TEST_MAIN(T(test_combinations), T(test_lines), T(test_probe_batches))
