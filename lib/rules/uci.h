/*
 * OpenWrt's configuration: /etc/config/ipautofw in UCI syntax, a
 * `config globals` section and `config rule` sections whose options
 * mirror the rule-file grammar, read into the same struct config as the
 * rule files, through the same checks, with the same FILE:LINE:COL
 * diagnostics. And the interface names file, in which the init script
 * says which devices each OpenWrt logical interface or zone named in
 * `lan` and `wan` stands for at the moment.
 *
 *   config globals
 *           option wan 'wan'                # a zone, a logical interface or a device
 *           option learn '1'
 *   config rule
 *           option name 'realaudio'
 *           list trigger '7070/tcp'
 *           list forward '6970-7170/udp'
 *           option timeout '5m'
 *
 * The UCI syntax read is what `uci` writes and people type: `package`,
 * `config TYPE [NAME]`, `option NAME VALUE`, `list NAME VALUE`, words bare,
 * in 'single' or "double" quotes (backslash escapes in double quotes and
 * bare words), adjacent pieces joined, `#` comments. A value is one word;
 * lists take several values, as `list` lines or space or comma separated.
 */
#pragma once

#include "config.h"

/* Parse one UCI file's text into C (globals and rules). 0, or -EINVAL with errors added. */
int uci_parse_text(struct config *c, const char *file, const char *text, size_t len);

/*
 * The interface names file: one `NAME DEVICE...` a line (`#` comments),
 * each NAME once. From then on NAME in a `lan` or `wan` list, in UCI or in
 * rule files, stands for its devices; a name not in the file is a device.
 */
int uci_parse_names(struct config *c, const char *file, const char *text, size_t len);
