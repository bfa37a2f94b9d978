/*
 * The event loop; see loop.h.
 */
#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "base/util.h"

#define EVENTS_PER_WAIT 32

/* The work a deadline stands for is done after the dispatch; here the timer is only drained. */
static void timer_fn(struct watch *w, uint32_t events)
{
	struct loop *l = container_of(w, struct loop, timer_w);
	uint64_t ticks;

	if (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_debug("timerfd: %m");
	l->armed = 0;	/* disarmed now */
}

static void signal_fn(struct watch *w, uint32_t events)
{
	struct loop *l = container_of(w, struct loop, sig_w);
	struct signalfd_siginfo si;

	while (read(w->fd, &si, sizeof(si)) == sizeof(si))
		l->sig_fn(si.ssi_signo, l->sig_data);
}

int loop_signals(struct loop *l, void (*fn)(int signo, void *data), void *data)
{
	sigset_t mask;
	int fd, r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	l->sig_fn = fn;
	l->sig_data = data;
	r = loop_add(l, &l->sig_w, fd, signal_fn, EPOLLIN);
	if (r < 0) {
		close(fd);
		l->sig_w.fd = -1;
	}
	return r;
}

int loop_init(struct loop *l)
{
	*l = (struct loop){ .ep = -1, .timer_fd = -1, .sig_w.fd = -1 };
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0)
		return -errno;
	l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->timer_fd < 0 || loop_add(l, &l->timer_w, l->timer_fd, timer_fn, EPOLLIN) < 0) {
		int err = -errno;

		loop_fini(l);
		return err;
	}
	return 0;
}

static void release_removed(struct loop *l);

void loop_fini(struct loop *l)
{
	/* watches taken out after the last dispatch */
	release_removed(l);
	if (l->sig_w.fd >= 0)
		close(l->sig_w.fd);
	if (l->timer_fd >= 0)
		close(l->timer_fd);
	if (l->ep >= 0)
		close(l->ep);
	l->sig_w.fd = l->timer_fd = l->ep = -1;
}

int loop_add(struct loop *l, struct watch *w, int fd, watch_fn fn, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	*w = (struct watch){ .fd = fd, .fn = fn };
	return epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int loop_mod(struct loop *l, struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(l->ep, EPOLL_CTL_MOD, w->fd, &ev) < 0 ? -errno : 0;
}

void loop_del(struct loop *l, struct watch *w, void (*release)(struct watch *w))
{
	if (w->removed)
		return;
	epoll_ctl(l->ep, EPOLL_CTL_DEL, w->fd, NULL);
	w->removed = true;
	w->release = release;
	w->next_removed = l->removed;
	l->removed = w;
}

static void release_removed(struct loop *l)
{
	while (l->removed) {
		struct watch *w = l->removed;

		l->removed = w->next_removed;
		if (w->release)
			w->release(w);
	}
}

int loop_dispatch(struct loop *l)
{
	struct epoll_event evs[EVENTS_PER_WAIT];
	int n;

	/* what was taken out since the last dispatch goes before the wait */
	release_removed(l);
	n = epoll_wait(l->ep, evs, ARRAY_SIZE(evs), -1);
	if (n < 0 && errno != EINTR)
		return -errno;
	for (int i = 0; i < n; i++) {
		struct watch *w = evs[i].data.ptr;

		if (!w->removed)
			w->fn(w, evs[i].events);
	}
	release_removed(l);
	return 0;
}

void loop_arm(struct loop *l, uint64_t deadline)
{
	struct itimerspec its = { 0 };
	uint64_t now = now_ms();

	/* most turns (a trigger, a refresh) leave the earliest deadline where it was */
	if (deadline == l->armed)
		return;
	l->armed = deadline;
	if (deadline != UINT64_MAX) {
		uint64_t delta = deadline > now ? deadline - now : 1;

		its.it_value.tv_sec = delta / 1000;
		its.it_value.tv_nsec = (delta % 1000) * 1000000;
	}
	timerfd_settime(l->timer_fd, 0, &its, NULL);
}
