/* libFuzzer: the rule-file parser, on a file and as a runtime rule line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = config_new();
	char *line;

	if (!c)
		return 0;
	config_parse_text(c, "fuzz.conf", (const char *)data, size);
	for (size_t i = 0; i < c->n_rules; i++) {
		char buf[8192];

		rule_format(c->rules[i], buf, sizeof(buf));
	}
	config_free(config_dup(c));
	config_free(c);
	line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	c = config_new();
	if (c)
		config_parse_rule_line(c, "add", line);
	config_free(c);
	free(line);
	return 0;
}
