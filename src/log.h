/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.h: levelled logging to stderr or syslog.
 *
 * Decide once, log once: the layer that makes a decision logs it.  Anything
 * a remote party can trigger per packet logs at debug level only, and every
 * message is escaped so that remote bytes cannot forge log lines.
 */
#ifndef TURNPIKE_LOG_H
#define TURNPIKE_LOG_H

#include <stdbool.h>
#include <stdnoreturn.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

enum log_target {
	LOG_TARGET_STDERR = 0,
	LOG_TARGET_SYSLOG,
};

/* log.c */
void log_init(enum log_level level, enum log_target target, int facility);
void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);
const char *log_level_name(enum log_level level);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Cheap guard for debug lines whose arguments cost something to format. */
#define log_debug_enabled() log_enabled(LOG_LEVEL_DEBUG)

#endif /* TURNPIKE_LOG_H */
