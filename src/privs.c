/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * privs.c: switching from root to the configured user and group.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "privs.h"

int
privs_check(const char *user, const char *group, char *err, size_t errlen)
{
	if (user[0] != '\0' && getpwnam(user) == NULL) {
		snprintf(err, errlen,
			 "daemon.user \"%s\" does not exist; create it or "
			 "set daemon.user",
			 user);
		return -1;
	}
	if (user[0] != '\0' && group[0] != '\0' && getgrnam(group) == NULL) {
		snprintf(err, errlen, "daemon.group \"%s\" does not exist",
			 group);
		return -1;
	}
	return 0;
}

int
privs_drop(const char *user, const char *group, char *err, size_t errlen)
{
	struct passwd *pw;
	struct group *gr;
	gid_t gid;

	if (geteuid() != 0 || user[0] == '\0')
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen,
			 "daemon.user \"%s\" does not exist; create it or "
			 "set daemon.user",
			 user);
		return -1;
	}
	gid = pw->pw_gid;
	if (group[0] != '\0') {
		if ((gr = getgrnam(group)) == NULL) {
			snprintf(err, errlen,
				 "daemon.group \"%s\" does not exist", group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		snprintf(err, errlen, "cannot switch to user %s: %s", user,
			 strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		snprintf(err, errlen,
			 "root could be regained after "
			 "switching to %s",
			 user);
		return -1;
	}
	return 0;
}
