/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf_table.h: the row of the key table, shared by the table itself
 * (conf_keys.c) and the reader that walks it (conf.c).  Not for other
 * modules: they see struct conf only.
 */
#ifndef TURNPIKE_CONF_TABLE_H
#define TURNPIKE_CONF_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

enum conf_type {
	CONF_BOOL,
	CONF_INT,
	CONF_STRING,
	CONF_ENUM,
	CONF_ADDRS,   /* struct conf_addrs of "ip:port" */
	CONF_IPS,     /* struct conf_addrs of bare IPs, port 0 */
	CONF_STRLIST, /* struct conf_strlist */
	CONF_CIDRS,   /* struct conf_cidrs */
};

struct conf_key {
	const char *name;
	enum conf_type type;
	long min, max; /* CONF_INT bounds */
	/* CONF_INT: a word that may be written instead, standing for 0
	 * (which is then outside min..max), or NULL. */
	const char *word0;
	const char *const
		*choices; /* CONF_ENUM names; the value is the index */
	const char *def;  /* default, in libconfig syntax */
	size_t offset;    /* of the field in struct conf */
	bool restart;     /* a change needs a restart, not a reload */
	const char *help;
	bool secret; /* never printed; wiped when freed */
	/* CONF_STRLIST: checks the whole list, or NULL. */
	int (*check)(const struct conf_strlist *l, char *err, size_t errlen);
};

/* conf_keys.c */
extern const struct conf_key conf_keys[];
extern const size_t conf_nkeys;
extern const int conf_facility_values[];

#endif /* TURNPIKE_CONF_TABLE_H */
