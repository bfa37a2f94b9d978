/*
 * The forwardings' file; see fwsave.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwsave.h"
#include "fwelem.h"

void fwsave_format(const struct engine *e, uint64_t now, uint64_t boot_now, struct dynbuf *out)
{
	struct fwd **all = fwtable_sorted(&e->fwt);

	if (!all) {
		out->oom = true;
		return;
	}
	for (size_t i = 0; all[i]; i++) {
		const struct fwd *f = all[i];
		char host[INET6_ADDRSTRLEN], peer[INET6_ADDRSTRLEN] = "-";
		char digest[sizeof(((struct nftelem *)0)->udata)];

		if (f->rule->is_static || f->timer.deadline <= now)
			continue;
		inet_ntop(f->af, &f->host, host, sizeof(host));
		if (f->rule->peer)
			inet_ntop(f->af, &f->peer, peer, sizeof(peer));
		fwelem_udata(f->rule, digest, sizeof(digest));
		dynbuf_printf(out, "fwd %s %s %s %s %s %" PRIu64 "\n", f->rule->name,
			      f->af == AF_INET ? "ipv4" : "ipv6", host, peer, digest[0] ? digest : "-",
			      boot_now + (f->timer.deadline - now));
	}
	free(all);
}

/* One line; 1 taken, 0 no longer fits or no time left, -EINVAL unreadable. */
static int restore_line(struct engine *e, char *line, uint64_t now, uint64_t boot_now)
{
	char *w[7], *save = NULL, *end;
	struct fwelem_decoded el = { 0 };
	unsigned long long until;
	size_t n = 0;
	int r;

	for (char *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (n == 7)
			return -EINVAL;
		w[n++] = t;
	}
	if (n != 7 || strcmp(w[0], "fwd"))
		return -EINVAL;
	if (!strcmp(w[2], "ipv4"))
		el.af = AF_INET;
	else if (!strcmp(w[2], "ipv6"))
		el.af = AF_INET6;
	else
		return -EINVAL;
	if (inet_pton(el.af, w[3], &el.host) != 1)
		return -EINVAL;
	el.has_peer = strcmp(w[4], "-") != 0;
	if (el.has_peer && inet_pton(el.af, w[4], &el.peer) != 1)
		return -EINVAL;
	errno = 0;
	until = strtoull(w[6], &end, 10);
	if (errno || *end || end == w[6])
		return -EINVAL;
	if (until <= boot_now)
		return 0;
	r = engine_adopt(e, w[1], &el, strcmp(w[5], "-") ? w[5] : NULL, until - boot_now, now);
	return r < 0 ? r : r > 0;
}

size_t fwsave_restore(struct engine *e, const char *buf, size_t len, uint64_t now, uint64_t boot_now,
		      size_t *ret_bad)
{
	size_t taken = 0;

	*ret_bad = 0;
	while (len) {
		const char *nl = memchr(buf, '\n', len);
		size_t l = nl ? (size_t)(nl - buf) : len;
		char line[512];
		int r = -EINVAL;

		if (l && l < sizeof(line)) {
			memcpy(line, buf, l);
			line[l] = '\0';
			r = memchr(line, '\0', l) ? -EINVAL : restore_line(e, line, now, boot_now);
		}
		if (r > 0)
			taken++;
		else if (r < 0 && l)
			(*ret_bad)++;
		buf += nl ? l + 1 : l;
		len -= nl ? l + 1 : l;
	}
	return taken;
}
