/*
 * The control socket server: non-blocking clients, one request each, a
 * size limit and an idle timeout, a cap on concurrent clients, and
 * SO_PEERCRED to keep changes for root.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "commands.h"
#include "control/ctlproto.h"
#include "control.h"
#include "manager.h"
#include "control/event.h"
#include "log.h"
#include "nft/nfttrace.h"
#include "tracerun.h"

#define CLIENTS_MAX 64
#define CLIENT_IDLE_MS 5000
/*
 * What replies to clients other than root may hold in all, waiting for
 * their readers (who get CLIENT_IDLE_MS to read): a request that would go
 * beyond is answered "busy" before its reply is built, so neither memory
 * nor the loop's time goes to clients that do not read.
 */
#define UNPRIVILEGED_OUT_MAX (8u << 20)
/*
 * What may wait for a monitor beyond its socket buffer before it is
 * dropped, and from what size on it is written at once rather than at the
 * end of the loop turn (a turn can bring a few hundred events).
 */
#define MONITOR_BACKLOG_MAX (256 * 1024)
#define MONITOR_WRITE_AT (32 * 1024)

const char *const control_refusal_names[CONTROL_REFUSED__N] = {
	[CONTROL_REFUSED_PERMISSION] = "permission",
	[CONTROL_REFUSED_BUSY] = "busy",
	[CONTROL_REFUSED_MALFORMED] = "malformed",
	[CONTROL_REFUSED_FULL] = "full",
	[CONTROL_REFUSED_EVICTED] = "evicted",
	[CONTROL_REFUSED_IDLE] = "idle",
	[CONTROL_REFUSED_MONITOR] = "monitor_stalled",
	[CONTROL_REFUSED_NO_FDS] = "no_descriptors",
};

static void client_free(struct control *ctl, struct client *c)
{
	heap_remove(&ctl->client_timers, &c->timer);
	if (c->w.fd >= 0)
		close(c->w.fd);
	ctl->unprivileged_out -= c->charged;
	free(c->in);
	dynbuf_free(&c->out);
	free(c);
}

/* Freed once the loop's dispatch is over: a callback may still hold it. */
static void client_release(struct watch *w)
{
	struct client *c = container_of(w, struct client, w), **pp;
	struct control *ctl = c->ctl;

	for (pp = &ctl->clients; *pp && *pp != c; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = c->next;
	ctl->n_clients--;
	ctl->n_dead--;
	client_free(ctl, c);
}

static void client_kill(struct control *ctl, struct client *c)
{
	if (c->dead)
		return;
	c->dead = true;
	ctl->n_dead++;
	if (c->trace) {
		c->trace = false;
		tracerun_client_gone(ctl);
		manager_set_listeners(ctl->m, ctl->n_monitors);
	} else if (c->monitor) {
		manager_set_listeners(ctl->m, --ctl->n_monitors + (ctl->trace != NULL));
	}
	heap_remove(&ctl->client_timers, &c->timer);
	loop_del(ctl->loop, &c->w, client_release);
}

/* A monitor is watched for its going away (and, while output waits, for room). */
static void monitor_watch(struct control *ctl, struct client *c, bool out)
{
	loop_mod(ctl->loop, &c->w, EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0));
}

static void client_write(struct control *ctl, struct client *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = write(c->w.fd, c->out.data + c->out_off, c->out.len - c->out_off);

		if (n < 0) {
			if (errno == EAGAIN) {
				if (c->monitor)
					monitor_watch(ctl, c, true);
				else
					loop_mod(ctl->loop, &c->w, EPOLLOUT);
				return;
			}
			break;
		}
		c->out_off += n;
	}
	if (c->monitor && c->out_off == c->out.len) {
		c->out.len = c->out_off = 0;
		monitor_watch(ctl, c, false);
		return;
	}
	client_kill(ctl, c);
}

void control_event(const struct event *ev, void *data)
{
	struct control *ctl = data;
	struct dynbuf line[2] = { { 0 } };

	tracerun_event(ctl, ev);
	for (struct client *c = ctl->clients; c; c = c->next) {
		struct dynbuf *l = &line[c->json];

		if (!c->monitor || c->trace || c->dead)
			continue;
		if (!l->len)
			event_format(ev, c->json, l);
		if (l->oom)
			continue;
		if (c->out.len - c->out_off >= MONITOR_WRITE_AT) {
			client_write(ctl, c);
			if (c->dead)
				continue;
		}
		/* the daemon never waits for a monitor: one that stopped reading goes */
		if (c->out.len - c->out_off + l->len > MONITOR_BACKLOG_MAX) {
			log_info("monitor (pid %d) dropped: it stopped reading", c->cred.pid);
			ctl->stats.refused[CONTROL_REFUSED_MONITOR]++;
			client_kill(ctl, c);
			continue;
		}
		if (c->out_off > MONITOR_BACKLOG_MAX) {
			memmove(c->out.data, c->out.data + c->out_off, c->out.len - c->out_off);
			c->out.len -= c->out_off;
			c->out_off = 0;
		}
		dynbuf_append(&c->out, l->data, l->len);
	}
	dynbuf_free(&line[0]);
	dynbuf_free(&line[1]);
}

void control_stream(struct control *ctl, struct client *c, const char *text, size_t len)
{
	if (c->dead)
		return;
	if (c->out.len - c->out_off + len > MONITOR_BACKLOG_MAX) {
		log_info("trace (pid %d) dropped: it stopped reading", c->cred.pid);
		client_kill(ctl, c);
		return;
	}
	dynbuf_append(&c->out, text, len);
	client_write(ctl, c);
}

void control_end_stream(struct control *ctl, struct client *c)
{
	if (c->dead)
		return;
	c->trace = false;
	c->monitor = false;
	manager_set_listeners(ctl->m, ctl->n_monitors);
	client_write(ctl, c);
}

static void reply(struct control *ctl, struct client *c, int status, const char *text, size_t len)
{
	if (ctlproto_encode_reply(&c->out, status, text, len) < 0) {
		dynbuf_free(&c->out);
		ctlproto_encode_reply(&c->out, CTLPROTO_FAILED, "reply too large\n", 16);
	}
	client_write(ctl, c);
}

/* The last reply size of each command: what the next one is likely to need. */
static size_t last_len[COMMANDS_N];

static bool over_budget(const struct control *ctl, const struct client *c, size_t len)
{
	return c->cred.uid != 0 && ctl->unprivileged_out + len > UNPRIVILEGED_OUT_MAX;
}

static void busy(struct control *ctl, struct dynbuf *out)
{
	ctl->stats.refused[CONTROL_REFUSED_BUSY]++;
	dynbuf_free(out);
	dynbuf_printf(out, "busy: %zu KiB of replies wait for their readers; try again\n",
		      ctl->unprivileged_out / 1024);
}

static void handle(struct control *ctl, struct client *c, const struct ctl_request *req)
{
	struct dynbuf out = { 0 };
	int status = CTLPROTO_USAGE;
	char w[WORD_MAX];
	size_t i;
	const struct command *cmd = command_find(req->cmd, &i);

	if (!cmd) {
		ctl->stats.refused[CONTROL_REFUSED_MALFORMED]++;
		dynbuf_printf(&out, "unknown command '%s'\n", word_shown(req->cmd, w));
	} else if (cmd->needs_root && c->cred.uid != 0) {
		ctl->stats.refused[CONTROL_REFUSED_PERMISSION]++;
		dynbuf_printf(&out, "permission denied: %s needs root\n", req->cmd);
		status = CTLPROTO_FAILED;
	} else if (over_budget(ctl, c, last_len[i])) {
		busy(ctl, &out);
		status = CTLPROTO_FAILED;
	} else {
		status = command_call(cmd, ctl, req, &out);
		last_len[i] = out.len;
		if (over_budget(ctl, c, out.len)) {
			busy(ctl, &out);
			status = CTLPROTO_FAILED;
		}
	}
	if (status == CONTROL_MONITOR) {
		/* no idle timeout: it reads until interrupted; written at the end of each turn */
		heap_remove(&ctl->client_timers, &c->timer);
		c->monitor = true;
		c->json = req->flags & CTLPROTO_JSON;
		manager_set_listeners(ctl->m, ++ctl->n_monitors);
		dynbuf_free(&out);
		reply(ctl, c, CTLPROTO_OK, "", 0);
		return;
	}
	if (status == CONTROL_TRACE) {
		dynbuf_free(&out);
		if (tracerun_start(ctl, c, ctl->trace_req.af, &ctl->trace_req.host, ctl->trace_req.secs,
				   req->flags & CTLPROTO_JSON, &out) < 0) {
			reply(ctl, c, CTLPROTO_FAILED, out.data ? out.data : "", out.len);
			dynbuf_free(&out);
			return;
		}
		heap_remove(&ctl->client_timers, &c->timer);
		c->monitor = true;
		c->trace = true;
		c->json = req->flags & CTLPROTO_JSON;
		manager_set_listeners(ctl->m, ctl->n_monitors + 1);
		reply(ctl, c, CTLPROTO_OK, "", 0);
		if (!c->json) {
			char host[INET6_ADDRSTRLEN];

			inet_ntop(ctl->trace_req.af, &ctl->trace_req.host, host, sizeof(host));
			dynbuf_printf(&out, "tracing %s for %us: its new connections, and new inbound "
				      "connections on the rules' forward ports (at most %u a second each)\n",
				      host, ctl->trace_req.secs, NFTTRACE_RATE);
			control_stream(ctl, c, out.data, out.len);
		}
		dynbuf_free(&out);
		return;
	}
	if (status == CONTROL_REPLY_LATER) {
		/* the loop re-executes at the end of this turn */
		heap_remove(&ctl->client_timers, &c->timer);
		ctl->reexec_client = c;
		dynbuf_free(&out);
		return;
	}
	if (out.oom) {
		dynbuf_free(&out);
		dynbuf_printf(&out, "out of memory\n");
		status = CTLPROTO_FAILED;
	}
	reply(ctl, c, status, out.data ? out.data : "", out.len);
	dynbuf_free(&out);
	if (c->cred.uid != 0 && !c->dead) {
		c->charged = c->out.len - c->out_off;
		ctl->unprivileged_out += c->charged;
	}
}

void control_reply(struct control *ctl, struct client *c, int status, const char *text)
{
	reply(ctl, c, status, text, strlen(text));
}

static void client_cb(struct watch *w, uint32_t events)
{
	struct client *c = container_of(w, struct client, w);
	struct control *ctl = c->ctl;
	struct ctl_request req;
	const char *err;
	ssize_t n;
	int r;

	if (c->dead)
		return;
	if (c->monitor) {
		char scratch[256];

		/* it has nothing more to say: anything read is dropped, its end means it went */
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
			n = read(c->w.fd, scratch, sizeof(scratch));
			if (n == 0 || (n < 0 && errno != EAGAIN)) {
				client_kill(ctl, c);
				return;
			}
		}
		if (events & EPOLLOUT)
			client_write(ctl, c);
		return;
	}
	if (events & EPOLLOUT) {
		client_write(ctl, c);
		return;
	}
	n = read(c->w.fd, c->in + c->in_len, CTLPROTO_REQUEST_MAX + 4 - c->in_len);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		client_kill(ctl, c);
		return;
	}
	c->in_len += n;
	r = ctlproto_decode_request(c->in, c->in_len, &req, &err);
	if (r == 0 && c->in_len == CTLPROTO_REQUEST_MAX + 4)
		r = -E2BIG, err = "request too large";
	if (r == 0)
		return;
	/* one request per connection: stop reading */
	loop_mod(ctl->loop, &c->w, 0);
	if (r < 0) {
		char msg[160];
		int len = snprintf(msg, sizeof(msg), "%s\n", err);

		log_debug("control client pid %d: %s", c->cred.pid, err);
		ctl->stats.refused[CONTROL_REFUSED_MALFORMED]++;
		reply(ctl, c, CTLPROTO_USAGE, msg, len);
		return;
	}
	handle(ctl, c, &req);
}

/*
 * All slots taken: the client other than root that has waited longest
 * makes room; only for root may a root client be closed. Returns false
 * when the newcomer (not root) must go instead.
 */
static bool make_room(struct control *ctl, bool for_root)
{
	struct client *oldest = NULL, *oldest_user = NULL, *victim;

	for (struct client *c = ctl->clients; c; c = c->next) {
		if (c->dead)
			continue;
		if (!oldest || c->timer.deadline < oldest->timer.deadline)
			oldest = c;
		if (c->cred.uid != 0 && (!oldest_user || c->timer.deadline < oldest_user->timer.deadline))
			oldest_user = c;
	}
	victim = oldest_user ? oldest_user : for_root ? oldest : NULL;
	if (!victim)
		return false;
	ctl->stats.refused[CONTROL_REFUSED_EVICTED]++;
	client_kill(ctl, victim);
	return true;
}

static void accept_cb(struct watch *w, uint32_t events)
{
	struct control *ctl = container_of(w, struct control, w);

	for (int i = 0; i < 16; i++) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		socklen_t len = sizeof(struct ucred);
		struct client *c;

		if (fd < 0 && (errno == EMFILE || errno == ENFILE) && ctl->spare_fd >= 0) {
			/* out of descriptors: use the spare to take the client off the queue */
			log_warn("control socket: out of file descriptors, refusing a client");
			ctl->stats.refused[CONTROL_REFUSED_NO_FDS]++;
			close(ctl->spare_fd);
			fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd >= 0)
				close(fd);
			ctl->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			continue;
		}
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("control socket: accept: %m");
			return;
		}
		c = calloc(1, sizeof(*c));
		if (c)
			c->in = malloc(CTLPROTO_REQUEST_MAX + 4);
		if (!c || !c->in || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0) {
			if (c)
				free(c->in);
			free(c);
			close(fd);
			continue;
		}
		if (ctl->n_clients - ctl->n_dead >= CLIENTS_MAX && !make_room(ctl, c->cred.uid == 0)) {
			ctl->stats.refused[CONTROL_REFUSED_FULL]++;
			free(c->in);
			free(c);
			close(fd);
			continue;
		}
		c->ctl = ctl;
		heap_node_init(&c->timer);
		if (loop_add(ctl->loop, &c->w, fd, client_cb, EPOLLIN) < 0 ||
		    heap_push(&ctl->client_timers, &c->timer, now_ms() + CLIENT_IDLE_MS) < 0) {
			c->w.fd = -1;
			close(fd);
			client_free(ctl, c);
			continue;
		}
		c->next = ctl->clients;
		ctl->clients = c;
		ctl->n_clients++;
		ctl->stats.clients++;
	}
}

uint64_t control_tick(struct control *ctl, uint64_t now)
{
	struct heap_node *n;
	uint64_t next, trace_next = tracerun_tick(ctl, now);

	while ((n = heap_peek(&ctl->client_timers)) && n->deadline <= now) {
		struct client *c = container_of(n, struct client, timer);

		log_debug("control client pid %d idle too long", c->cred.pid);
		ctl->stats.refused[CONTROL_REFUSED_IDLE]++;
		client_kill(ctl, c);
	}
	for (struct client *c = ctl->clients; c; c = c->next)
		if (c->monitor && !c->dead && c->out_off < c->out.len)
			client_write(ctl, c);
	n = heap_peek(&ctl->client_timers);
	next = n ? n->deadline : UINT64_MAX;
	return trace_next < next ? trace_next : next;
}

int control_listen(struct control *ctl, int fd)
{
	fd = ctlsock_open(ctl, fd);
	if (fd < 0)
		return fd;
	ctl->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return loop_add(ctl->loop, &ctl->w, fd, accept_cb, EPOLLIN);
}

void control_init(struct control *ctl, struct loop *loop, struct manager *m, const char *sockpath,
		  const char *sockgroup)
{
	*ctl = (struct control){ .loop = loop, .m = m, .sockpath = sockpath, .sockgroup = sockgroup,
				 .w.fd = -1, .sock_dfd = -1, .spare_fd = -1 };
	manager_set_event_hook(m, control_event, ctl);
}

void control_close(struct control *ctl)
{
	tracerun_close(ctl);
	for (struct client *c = ctl->clients, *next; c; c = next) {
		next = c->next;
		client_free(ctl, c);
	}
	ctl->clients = NULL;
	heap_free(&ctl->client_timers);
	if (ctl->w.fd >= 0) {
		close(ctl->w.fd);
		ctlsock_remove(ctl);
	}
	if (ctl->spare_fd >= 0)
		close(ctl->spare_fd);
}
