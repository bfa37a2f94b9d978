/*
 * libFuzzer: OpenWrt's UCI reader and the interface names file. An input
 * with a line "%%" is a names file, then the UCI text; otherwise all UCI.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/config.h"
#include "rules/uci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *sep = memmem(data, size, "\n%%\n", 4);
	struct config *c = config_new();

	if (!c)
		return 0;
	if (sep) {
		uci_parse_names(c, "names", text, sep - text + 1);
		size -= sep + 4 - text;
		text = sep + 4;
	}
	uci_parse_text(c, "ipautofw", text, size);
	for (size_t i = 0; i < c->n_rules; i++) {
		char buf[8192];

		rule_format(c->rules[i], buf, sizeof(buf));
	}
	config_free(config_dup(c));
	config_free(c);
	return 0;
}
