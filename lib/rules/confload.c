/*
 * Rule files the systemd way: *.conf in each directory, a name in an
 * earlier directory shadows the same name in a later one, a symlink to
 * /dev/null masks, all read in lexical order of their names.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"

struct dropin {
	char *name;
	char *path;
};

static int cmp_dropin(const void *a, const void *b)
{
	return strcmp(((const struct dropin *)a)->name, ((const struct dropin *)b)->name);
}

static bool is_conf(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".conf");
}

static void file_error(struct config *c, const char *path, const char *what, int err)
{
	struct lexer lx;

	if (config_lexer(c, path, &lx) == 0)
		lex_diag(&lx, NULL, "%s: %s", what, strerror(err));
}

/* A file in a rule directory that is not read for its name: said, so a "ra.cfg" is not a mystery. */
static void skipped(struct config *c, const char *dir, const struct dirent *de)
{
	struct lexer lx;
	struct stat st;
	int r;
	char *path;

	if (de->d_name[0] == '.' || asprintf(&path, "%s/%s", dir, de->d_name) < 0)
		return;
	if (de->d_type == DT_DIR || (de->d_type == DT_UNKNOWN && stat(path, &st) == 0 &&
				     S_ISDIR(st.st_mode))) {
		free(path);
		return;
	}
	r = config_lexer(c, path, &lx);
	free(path);
	if (r == 0)
		lex_warn(&lx, NULL, "not read: only files whose names end in .conf are");
}

static void not_regular(struct config *c, const char *path)
{
	struct lexer lx;

	if (config_lexer(c, path, &lx) == 0)
		lex_diag(&lx, NULL, "not a regular file");
}

int config_load_file(struct config *c, const char *path, config_parse_fn parse)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;
	ssize_t k;

	/*
	 * Opening a FIFO for reading blocks until a writer comes, a device may
	 * do anything: look first, then open without blocking and look again
	 * at what was opened (it may have been swapped in between).
	 */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		not_regular(c, path);
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		file_error(c, path, "cannot open", errno);
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		not_regular(c, path);
		return -EINVAL;
	}
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf)
		return -ENOMEM;
	while ((k = read(fd, buf + len, CONFIG_FILE_MAX + 1 - len)) > 0)
		len += k;
	if (k < 0) {
		file_error(c, path, "cannot read", errno);
		return -errno;
	}
	if (len > CONFIG_FILE_MAX) {
		file_error(c, path, "file larger than 1 MiB", EFBIG);
		return -EFBIG;
	}
	return parse(c, path, buf, len);
}

int config_load_files(struct config *c, const char *const *paths, size_t n_paths)
{
	for (size_t k = 0; k < n_paths; k++)
		if (config_load_file(c, paths[k], config_parse_text) == -ENOMEM)
			return -ENOMEM;
	return c->n_errors ? -EINVAL : 0;
}

int config_load_dirs(struct config *c, const char *const *dirs, size_t n_dirs, bool required)
{
	struct dropin *list = NULL;
	size_t n = 0;
	int r = 0;

	for (size_t d = 0; d < n_dirs; d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *de;

		if (!dir) {
			if (errno != ENOENT || required)
				file_error(c, dirs[d], "cannot open directory", errno);
			continue;
		}
		while ((de = readdir(dir))) {
			bool shadowed = false;
			struct dropin *q;

			if (!is_conf(de->d_name)) {
				skipped(c, dirs[d], de);
				continue;
			}
			for (size_t k = 0; k < n; k++)
				if (!strcmp(list[k].name, de->d_name))
					shadowed = true;
			if (shadowed)
				continue;
			q = realloc(list, (n + 1) * sizeof(*q));
			if (!q) {
				r = -ENOMEM;
				break;
			}
			list = q;
			list[n].name = strdup(de->d_name);
			if (asprintf(&list[n].path, "%s/%s", dirs[d], de->d_name) < 0)
				list[n].path = NULL;
			n++;
			if (!list[n - 1].name || !list[n - 1].path) {
				r = -ENOMEM;
				break;
			}
		}
		closedir(dir);
	}
	if (r == 0 && n) {
		qsort(list, n, sizeof(*list), cmp_dropin);
		for (size_t k = 0; k < n; k++) {
			char real[PATH_MAX];

			if (realpath(list[k].path, real) && !strcmp(real, "/dev/null"))
				continue;
			config_load_file(c, list[k].path, config_parse_text);
		}
	}
	for (size_t k = 0; k < n; k++) {
		free(list[k].name);
		free(list[k].path);
	}
	free(list);
	if (r < 0)
		return r;
	return c->n_errors ? -EINVAL : 0;
}
