/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * privs.h: giving up root once every socket is bound.
 */
#ifndef TURNPIKE_PRIVS_H
#define TURNPIKE_PRIVS_H

#include <stddef.h>

/* privs.c */

/*
 * When running as root and user is not "", switch to user and group
 * (group "" means the user's primary group), dropping supplementary
 * groups, and check that root cannot be regained.  Not running as root,
 * it does nothing.  Returns 0, or -1 with the reason in err.
 */
int privs_drop(const char *user, const char *group, char *err, size_t errlen);

/*
 * Check, without switching, that user and group exist (as "turnpiked -t"
 * does).  Returns 0, or -1 with the reason in err.
 */
int privs_check(const char *user, const char *group, char *err, size_t errlen);

#endif /* TURNPIKE_PRIVS_H */
