/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * notify.h: telling systemd what the daemon is doing (sd_notify(3)):
 * ready, reloading, stopping, and watchdog pings.  Without libsystemd, or
 * when not started by systemd, every call does nothing.
 */
#ifndef TURNPIKE_NOTIFY_H
#define TURNPIKE_NOTIFY_H

#include <stdint.h>

/* notify.c */
/* READY=1 with a STATUS= line a person reads in systemctl status. */
void notify_ready(const char *status);
void notify_reloading(void);
void notify_stopping(void);
void notify_watchdog(void);
/* The watchdog interval systemd asked for, in microseconds, or 0. */
uint64_t notify_watchdog_usec(void);

#endif /* TURNPIKE_NOTIFY_H */
