/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * notify.c: sd_notify(3) messages for a Type=notify service.  RELOADING=1
 * carries MONOTONIC_USEC, as systemd 253 and later want for
 * Type=notify-reload; older ones ignore it.
 */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "notify.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

void
notify_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void
notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		   (unsigned long long)ts.tv_sec * 1000000ULL +
			   (unsigned long long)ts.tv_nsec / 1000ULL);
}

void
notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void
notify_watchdog(void)
{
	sd_notify(0, "WATCHDOG=1");
}

uint64_t
notify_watchdog_usec(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec;
}

#else /* !HAVE_LIBSYSTEMD */

void
notify_ready(const char *status)
{
}

void
notify_reloading(void)
{
}

void
notify_stopping(void)
{
}

void
notify_watchdog(void)
{
}

uint64_t
notify_watchdog_usec(void)
{
	return 0;
}

#endif
