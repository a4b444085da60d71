/*
 * fuzz_config.c - the config file parser (node/config.h) on arbitrary
 * bytes: it must refuse or accept, never crash or leak.
 */
#include <stdint.h>
#include <string.h>

#include "node/config.h"

#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct node_config cfg;
	char why[256];

	memset(&cfg, 0, sizeof(cfg));
	cfg.log_level = -1;
	(void)config_parse_text(&cfg, (const char *)data, size, why,
	    sizeof(why));
	config_free(&cfg);
	return 0;
}
