/*
 * The control socket's file: bound with its mode from the umask and its
 * group set through the directory, never through a path; a socket left
 * by a daemon that is gone removed, one that still answers never; and at
 * the end only our own removed, not one put there since.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "log.h"

/*
 * The socket's directory must be writable by no one but us (or root): then
 * nobody can swap the socket for a symlink between bind and chown, and
 * nothing is done through a path that could lead elsewhere anyway.
 */
static int open_socket_dir(const char *dir)
{
	struct stat st;
	int dfd;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &st) < 0) {
		int err = -errno;

		if (dfd >= 0)
			close(dfd);
		return err;
	}
	if ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(dfd);
		log_err("control socket directory %s is writable by others (owner uid %u, mode %04o): "
			"it must belong to uid %u or root and be writable by its owner only", dir,
			(unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), (unsigned)geteuid());
		return -EPERM;
	}
	return dfd;
}

/* Remove a socket left by a daemon that is gone; never one that still answers. */
static int remove_stale(int dfd, const char *base, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, err;

	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("control socket %s exists and is not a socket; not touching it", sa->sun_path);
		return -EEXIST;
	}
	/* non-blocking: a live daemon with a full backlog says EAGAIN, not nothing */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ? errno : 0;
	close(fd);
	if (err == ECONNREFUSED) {
		log_debug("control socket %s: removing the socket of a daemon that is gone", sa->sun_path);
		return unlinkat(dfd, base, 0) < 0 && errno != ENOENT ? -errno : 0;
	}
	if (!err || err == EAGAIN)
		log_err("control socket %s: another ipautofwd is listening on it; give this one "
			"another -s PATH", sa->sun_path);
	else
		log_err("control socket %s exists and cannot be checked (%s); not removing it",
			sa->sun_path, strerror(err));
	return -EADDRINUSE;
}

int ctlsock_open(struct control *ctl, int fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], *slash;
	const char *base = ctl->sockpath;
	struct group *gr;
	struct stat st;
	mode_t old_umask;
	int dfd, r;

	if (strlen(ctl->sockpath) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, ctl->sockpath);
	strcpy(dir, ctl->sockpath);
	slash = strrchr(dir, '/');
	if (slash) {
		base = ctl->sockpath + (slash - dir) + 1;
		slash[slash == dir ? 1 : 0] = '\0';
	} else {
		strcpy(dir, ".");
	}
	dfd = open_socket_dir(dir);
	if (dfd < 0)
		return dfd;
	if (fd >= 0) {
		/* handed over by a re-exec: bound, listening, clients queued */
		fcntl(fd, F_SETFL, O_NONBLOCK);
		if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			ctl->sock_ino = st.st_ino;
			ctl->sock_dev = st.st_dev;
		}
		goto out;
	}
	r = remove_stale(dfd, base, &sa);
	if (r < 0)
		goto out_dir;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto out_dir;
	}
	/* the mode comes from the umask at bind, never from chmod on the path */
	old_umask = umask(0117);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old_umask);
	if (r < 0)
		goto out_sock;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || listen(fd, 64) < 0) {
		r = -errno;
		goto out_bound;
	}
	ctl->sock_ino = st.st_ino;
	ctl->sock_dev = st.st_dev;
	gr = getgrnam(ctl->sockgroup ? ctl->sockgroup : "ipautofw");
	if (gr && gr->gr_gid != getegid()) {
		if (fchownat(dfd, base, -1, gr->gr_gid, AT_SYMLINK_NOFOLLOW) < 0)
			log_warn("control socket: chown to group '%s': %m", gr->gr_name);
	} else if (ctl->sockgroup && !gr) {
		log_err("control socket: no group '%s'", ctl->sockgroup);
		r = -ENOENT;
		goto out_bound;
	}
out:
	ctl->sock_dfd = dfd;
	ctl->sock_base = base;
	return fd;
out_bound:
	unlinkat(dfd, base, 0);
out_sock:
	close(fd);
out_dir:
	close(dfd);
	return r;
}

void ctlsock_remove(struct control *ctl)
{
	struct stat st;

	if (fstatat(ctl->sock_dfd, ctl->sock_base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_ino == ctl->sock_ino && st.st_dev == ctl->sock_dev)
		unlinkat(ctl->sock_dfd, ctl->sock_base, 0);
	close(ctl->sock_dfd);
}
