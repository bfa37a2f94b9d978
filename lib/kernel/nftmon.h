/*
 * Reading nf_tables events (NFNLGRP_NFTABLES) for changes someone else
 * made to table inet ipautofw: a transaction's messages arrive first and
 * its NFT_MSG_NEWGEN, sent with the netlink port id of the socket that
 * committed it, last.
 */
#pragma once

#include <linux/netlink.h>
#include <stdint.h>

enum nftmon_event {
	NFTMON_OTHER,
	NFTMON_OURS_REMOVED,	/* our table, or something in it, was deleted or flushed */
	NFTMON_GEN,		/* end of a transaction; *ret_portid says whose */
};

enum nftmon_event nftmon_classify(const struct nlmsghdr *nlh, uint32_t *ret_portid);
