/*
 * The forwardings' file (lib/engine/fwsave.h): what a table flushed while
 * no ipautofwd ran would lose, written whole and renamed over the old one
 * at most every STATE_GAP_MS, read back at start when there is no table
 * to adopt.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/fwsave.h"
#include "log.h"
#include "manager.h"
#include "nft/nftobj.h"

/* The forwardings' file is written at most this often (it stands in only for a flushed table) */
#define STATE_GAP_MS 250
/* ... and read up to this size (16,384 forwardings of the longest lines) */
#define STATE_MAX (16 << 20)

static uint64_t boot_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The forwardings' file (lib/engine/fwsave.h): written whole, then renamed over the old one. */
void statefile_save(struct manager *m, uint64_t now)
{
	struct dynbuf d = { 0 };
	char tmp[PATH_MAX];
	bool ok;
	int fd;

	m->state_dirty = false;
	m->state_next_ms = now + STATE_GAP_MS;
	fwsave_format(&m->eng, now, boot_ms(), &d);
	if (d.oom || snprintf(tmp, sizeof(tmp), "%s.new", m->opt.state_path) >= (int)sizeof(tmp))
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	ok = fd >= 0 && (!d.len || write(fd, d.data, d.len) == (ssize_t)d.len);
	if (fd >= 0 && close(fd) < 0)
		ok = false;
	if (!ok || rename(tmp, m->opt.state_path) < 0) {
		if (!m->state_failed)
			log_warn("cannot keep the forwardings in %s (%m): after a crash and a flush of the "
				 "ruleset they would be lost", m->opt.state_path);
		m->state_failed = true;
		if (fd >= 0)
			unlink(tmp);
	} else {
		m->state_failed = false;
	}
out:
	dynbuf_free(&d);
}

static int read_file(const char *path, char **ret, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	char *buf;
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > STATE_MAX) {
		close(fd);
		return -EINVAL;
	}
	buf = malloc(st.st_size + 1);
	n = buf ? read(fd, buf, st.st_size) : -1;
	close(fd);
	if (n < 0) {
		free(buf);
		return buf ? -EIO : -ENOMEM;
	}
	*ret = buf;
	*ret_len = n;
	return 0;
}

/* A table gone while no daemon ran (a flush): the forwardings the file kept go back. */
void statefile_restore(struct manager *m)
{
	char *buf = NULL;
	size_t len = 0, bad = 0, n;
	int r;

	if (!m->opt.state_path)
		return;
	r = read_file(m->opt.state_path, &buf, &len);
	if (r < 0) {
		if (r != -ENOENT)
			log_warn("cannot read %s: %s", m->opt.state_path, strerror(-r));
		return;
	}
	n = fwsave_restore(&m->eng, buf, len, now_ms(), boot_ms(), &bad);
	if (n || bad)
		log_warn("table inet %s was gone (flushed while no ipautofwd ran?): put back %zu "
			 "forwarding%s from %s%s", NFTOBJ_TABLE, n, n == 1 ? "" : "s", m->opt.state_path,
			 bad ? " (some lines could not be read)" : "");
	free(buf);
}
