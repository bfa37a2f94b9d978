/*
 * The decision about one trigger; see trigger.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trigger.h"

/*
 * The kernel expires an element about when the engine does; a refused
 * trigger in that last moment may have found none and added its own. The
 * holder's element is then written again, with the time it has left.
 */
#define EXPIRY_MARGIN_MS 1000

void trigger_events_free(struct trigger_events *evs)
{
	free(evs->v);
	memset(evs, 0, sizeof(*evs));
}

/* Room for one more event, made before the change it tells of. */
static int reserve(struct trigger_events *evs)
{
	struct trigger_event *v;
	size_t cap;

	if (!evs || evs->n < evs->cap)
		return 0;
	cap = evs->cap ? 2 * evs->cap : 16;
	v = reallocarray(evs->v, cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	evs->v = v;
	evs->cap = cap;
	return 0;
}

/* A rule that triggers, for family AF (whatever the interfaces) */
static bool rule_fires(const struct rule *r, int af)
{
	return !r->is_static && (r->family & (af == AF_INET ? RULE_FAMILY_IPV4 : RULE_FAMILY_IPV6));
}

/*
 * What the kernel's add made for a trigger of rule R from HOST (to PEER)
 * that the engine refused: deleted at the next write. (Only where the
 * engine holds no forwarding for it: otherwise the kernel added nothing.)
 * Returns whether there was something to delete.
 */
static bool undo_kernel(struct engine *e, const struct rule *r, int af, const union inaddr *host,
			const union inaddr *peer)
{
	struct fwd f = { .rule = r, .af = af };

	if (!e->kernel_triggers || fwtable_lookup(&e->fwt, r, af, peer))
		return false;
	memcpy(&f.host, host, fwd_addr_len(af));
	if (r->peer)
		memcpy(&f.peer, peer, fwd_addr_len(af));
	return elemvec_add_fwd(&e->gone, &f, 0) == 0;
}

/*
 * An IPv6 trigger the engine refused (`exclusive`, held by another host):
 * the kernel added nothing if the owner guard was there. But two hosts'
 * first triggers on two CPUs can both pass the guard before either adds
 * to it, and both add a pinhole. The refused host's pinhole (never the
 * guard: that is the holder's) goes at the next write; destroying an
 * element the kernel did not add changes nothing.
 */
static bool undo_kernel_pinhole(struct engine *e, const struct rule *r, const union inaddr *host,
				const union inaddr *peer)
{
	struct fwd f = { .rule = r, .af = AF_INET6 };
	struct fwelem out[2];
	struct elemvec *ev;
	size_t n;

	/* port redirections are static IPv4: only a pinhole and its guard here, two at most */
	if (!e->kernel_triggers || r->to_port)
		return false;
	memcpy(&f.host, host, 16);
	if (r->peer)
		memcpy(&f.peer, peer, 16);
	n = fwelem_build(&f, 0, out);
	/* the pinhole is the last of a forwarding's IPv6 elements */
	if (!n || !(ev = elemvec_for(&e->gone, &out[n - 1].set, 1)))
		return false;
	ev->v[ev->n++] = out[n - 1].e;
	return true;
}

/*
 * A trigger refused for its source, which the kernel's checks passed:
 * what the kernel opened for it goes. Returns for how many rules.
 */
static size_t untrigger(struct engine *e, const struct nflog_pkt *pkt, const char *indev,
			const char *outdev)
{
	size_t n = 0;

	if (!e->kernel_triggers)
		return 0;
	for (size_t i = trigindex_end(&e->index, pkt->proto, pkt->dport); i-- > 0;) {
		const struct trigindex_entry *t = &e->index.v[i];

		if (t->proto != pkt->proto || t->max_hi < pkt->dport)
			break;
		if (t->hi >= pkt->dport && engine_rule_accepts(e, t->rule, pkt->af, indev, outdev) &&
		    engine_rule_allows(e, t->rule, pkt->af, &pkt->saddr))
			n += undo_kernel(e, t->rule, pkt->af, &pkt->saddr, &pkt->daddr);
	}
	return n;
}

/* INDEV NULL: a replicated trigger, whose interfaces the other router checked */
static int fire(struct engine *e, const struct nflog_pkt *pkt, const struct hostid *id,
		const char *indev, const char *outdev, uint64_t now, struct trigger_events *evs,
		struct trigger_result *ret)
{
	bool disallowed = false, served = false;
	int err = 0;

	e->stats.triggers_seen++;
	if (id)
		ret->id = *id;
	else
		hostid_addr(pkt->af, &pkt->saddr, &ret->id);
	for (size_t i = trigindex_end(&e->index, pkt->proto, pkt->dport); i-- > 0;) {
		const struct trigindex_entry *t = &e->index.v[i];
		const struct rule *r = t->rule;
		struct trigger_event ev = { 0 };
		struct fwd *f;
		bool room;
		int c;

		if (t->proto != pkt->proto || t->max_hi < pkt->dport)
			break;
		if (t->hi < pkt->dport || (indev ? !engine_rule_accepts(e, r, pkt->af, indev, outdev) :
		    !rule_fires(r, pkt->af)))
			continue;
		if (!engine_rule_allows(e, r, pkt->af, &pkt->saddr)) {
			disallowed = true;
			continue;
		}
		room = reserve(evs) == 0;
		c = fwtable_trigger(&e->fwt, r, pkt->af, &pkt->saddr, id, &pkt->daddr, now, &f,
				    &ev.old_host);
		if (c < 0) {
			err = c;
			break;
		}
		if (c == FWD_OPENED || c == FWD_REFRESHED || c == FWD_TAKEN_OVER) {
			f->replicated = !indev;
			served = true;
		}
		/* for a replicated trigger this router's kernel added nothing (indev NULL) */
		if (indev && !f && (c == FWD_OVER_HOST_LIMIT || c == FWD_OVER_LIMIT))
			ret->undone += undo_kernel(e, r, pkt->af, &pkt->saddr, &pkt->daddr);
		if (indev && c == FWD_REFUSED && e->kernel_triggers &&
		    f->timer.deadline < now + EXPIRY_MARGIN_MS)
			fwtable_rewrite(&e->fwt, f);
		if (indev && c == FWD_REFUSED && pkt->af == AF_INET6)
			ret->undone += undo_kernel_pinhole(e, r, &pkt->saddr, &pkt->daddr);
		ret->fired++;
		if (e->last_trigger)
			e->last_trigger[t->rule_index] = now;
		ev.change = c;
		ev.fwd = f;
		ev.rule = r;
		ev.af = pkt->af;
		ev.host = pkt->saddr;
		ev.id = ret->id;
		ev.dst = pkt->daddr;
		if (c == FWD_REFUSED)
			memcpy(&ev.old_host, &f->host, sizeof(f->host));
		if (evs && room)
			evs->v[evs->n++] = ev;
		else if (evs)
			ret->untold++;
	}
	if (served)
		ret->verdict = TRIGGER_SERVED;
	else if (ret->fired)
		ret->verdict = TRIGGER_REFUSED;
	else if (disallowed)
		ret->verdict = TRIGGER_NOT_ALLOWED;
	else
		ret->verdict = TRIGGER_UNMATCHED;
	if (err < 0)
		return err;
	e->stats.triggers_not_allowed += ret->verdict == TRIGGER_NOT_ALLOWED;
	e->stats.triggers_unmatched += ret->verdict == TRIGGER_UNMATCHED;
	return 0;
}

int trigger_fire(struct engine *e, const struct nflog_pkt *pkt, const struct hostid *id,
		 const char *indev, const char *outdev, uint64_t now, struct trigger_events *evs,
		 struct trigger_result *ret)
{
	memset(ret, 0, sizeof(*ret));
	return fire(e, pkt, id, indev, outdev, now, evs, ret);
}

int trigger_replicated(struct engine *e, const struct nflog_pkt *pkt, uint64_t now,
		       struct trigger_events *evs, struct trigger_result *ret)
{
	struct hostid id;

	memset(ret, 0, sizeof(*ret));
	e->stats.triggers_replicated++;
	/* the other router knew the machine; this one knows its address */
	hostid_addr(pkt->af, &pkt->saddr, &id);
	return fire(e, pkt, &id, NULL, NULL, now, evs, ret);
}

/*
 * Does the route back to the source leave through the interface it came
 * in on? The kernel's own check where its forward hook can look it up;
 * elsewhere the caller's lookup, per trigger.
 */
static bool route_back_ok(const struct engine *e, const struct trigger_in *in)
{
	const struct nflog_pkt *pkt = in->pkt;

	if (kcaps_rpf_in_kernel(&e->caps))
		return true;
	/* a LAN host on the interface's own prefix: what vouches for the kernel's first add too */
	if (srccheck_onlink(in->src, pkt->indev, pkt->af, &pkt->saddr))
		return true;
	return in->route_back && in->route_back(pkt, in->data);
}

int trigger_decide(struct engine *e, const struct trigger_in *in, struct trigger_events *evs,
		   struct trigger_result *ret)
{
	const struct nflog_pkt *pkt = in->pkt;
	enum srccheck_verdict v = srccheck_source(in->src, pkt->af, &pkt->saddr, pkt->indev,
						  pkt->hwaddr, pkt->hwlen);
	struct hostid id;

	memset(ret, 0, sizeof(*ret));
	/* the kernel's trigger rule found the route back elsewhere, unless the mirror says worse */
	if (!strcmp(pkt->prefix, NFTOBJ_FORGED_PREFIX)) {
		ret->verdict = TRIGGER_FORGED;
		ret->forged = v == SRCCHECK_OK ? SRCCHECK_REVERSE_PATH : v;
		ret->caught = true;
		return 0;
	}
	if (v == SRCCHECK_OK && !route_back_ok(e, in))
		v = SRCCHECK_REVERSE_PATH;
	if (v != SRCCHECK_OK) {
		ret->verdict = TRIGGER_FORGED;
		ret->forged = v;
		/* the kernel's checks passed it, and it may have added (a caught one added nothing) */
		ret->undone = untrigger(e, pkt, in->indev, in->outdev);
		return 0;
	}
	srccheck_host(in->src, pkt->af, &pkt->saddr, pkt->indev, &id);
	return fire(e, pkt, &id, in->indev, in->outdev, in->clock ? in->clock() : in->now, evs, ret);
}
