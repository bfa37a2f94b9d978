#pragma once

#include <libmnl/libmnl.h>
#include <stdint.h>

#include "kernel/nflog.h"
#include "base/nlbatch.h"
#include "rules/rule.h"

/*
 * The daemon's netlink sockets, one file each, named after the lib/ module
 * that gives their messages meaning: nftsock.c, nflogsock.c, nftmonsock.c,
 * rtmonsock.c (srcwatch.c and conntrack.c have theirs), and nlsock.c for
 * what they share. They are built as a static library of their own.
 */

/* nlsock.c: SO_*BUFFORCE where allowed, else the plain option */
void nlsock_set_buf(struct mnl_socket *nl, int opt_force, int opt, int size);

struct nftsock {
	struct mnl_socket *nl;
	int sndbuf;
	int rcvbuf;
};

int nftsock_open(struct nftsock *s);
/* A bound socket FD handed over by a re-exec: it may own the table. */
int nftsock_fdopen(struct nftsock *s, int fd);
void nftsock_close(struct nftsock *s);
/*
 * Finish, send and read every ack of B. On error *RET_OP is the request
 * that failed (NULL when none did, or the batch never went out).
 */
int nftsock_commit(struct nftsock *s, struct nlbatch *b, const struct nlbatch_op **ret_op);
/* The same checked by the kernel and thrown away (no BATCH_END): what it would say. */
int nftsock_try(struct nftsock *s, struct nlbatch *b, const struct nlbatch_op **ret_op);

struct mnl_socket *nflogsock_open(uint16_t group, int *ret_err);
typedef void (*nflog_cb)(const struct nflog_pkt *pkt, int err, void *data);
/* Drain up to MAX_READS datagrams; returns -errno (ENOBUFS: logs were lost). */
int nflogsock_read(struct mnl_socket *nl, unsigned max_reads, nflog_cb cb, void *data);

/* if_indextoname, cached until ifname_cache_flush (call it when links change). */
const char *ifname_cached(unsigned index, char *buf);
void ifname_cache_flush(void);

/* Send dump request REQ on a fresh socket of BUS; CB sees every reply. */
int nl_dump(int bus, const struct nlmsghdr *req, mnl_cb_t cb, void *data);
/*
 * An rtnetlink dump of TYPE (RTM_GETADDR, RTM_GETROUTE, RTM_GETNEIGH) for
 * FAMILY; HDRLEN is the size of the request's family header (ifaddrmsg,
 * rtmsg, ndmsg: each begins with its family byte).
 */
int nl_route_dump(uint16_t type, size_t hdrlen, uint8_t family, mnl_cb_t cb, void *data);

/* A dump of chains or rules (NFT_MSG_GETCHAIN/GETRULE) of every table. */
int nft_dump(uint16_t msg_type, int (*cb)(const struct nlmsghdr *nlh, void *data), void *data);
/* The same for one table (chains, rules or sets: the table attribute is the first of each). */
int nft_dump_table(uint16_t msg_type, int family, const char *table,
		   int (*cb)(const struct nlmsghdr *nlh, void *data), void *data);

/* Every element of set NAME in table inet ipautofw; -ENOENT if there is none. */
int nft_dump_elems(const char *set, int (*cb)(const struct nlmsghdr *nlh, void *data), void *data);
/* Every element of set NAME (anonymous ones too) of table FAMILY TABLE. */
int nft_dump_set_elems(int family, const char *table, const char *set,
		       int (*cb)(const struct nlmsghdr *nlh, void *data), void *data);

struct mnl_socket *monsock_open(void);
/*
 * Read nf_tables events; returns 1 when someone else changed our table (or
 * events were lost). Our own transactions are those committed through the
 * netlink socket with port id OWN_PORTID.
 */
int monsock_read(struct mnl_socket *nl, uint32_t own_portid, bool *foreign);

struct mnl_socket *rtnlsock_open(void);
enum {
	RTNL_ROUTES = 1,	/* default routes changed */
	RTNL_LINKS = 2,		/* interfaces appeared, changed or went away */
};
/* Read route and link events: what they concerned (RTNL_*), or -errno. */
int rtnlsock_read(struct mnl_socket *nl);
/* The names of interfaces that carry a default route right now. */
int rtnl_default_wan(struct iflist *ret);

/* pairsock.c: conntrack events, and marks of trigger connections (a router pair) */
struct mnl_socket *pairsock_open(void);
int pairsock_send(struct mnl_socket *nl, const void *buf, size_t len);
/* Only conntrack events of entries with the MASK bits of their mark at MARK (and errors) */
int pairsock_filter(struct mnl_socket *nl, uint32_t mark, uint32_t mask);
/* An event (NLH), or an error for request SEQ (NLH NULL, ERR -errno; 0 never comes: no acks asked) */
typedef void (*pairsock_cb)(const struct nlmsghdr *nlh, uint32_t seq, int err, void *data);
/* Up to MAX_READS datagrams: 0 when all is read, 1 when more may wait, -errno (ENOBUFS: events lost) */
int pairsock_read(struct mnl_socket *nl, unsigned max_reads, pairsock_cb cb, void *data);
