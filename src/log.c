/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.c: levelled logging to stderr or syslog.
 *
 * Lines on stderr read "2026-11-21T08:47:25.123Z warning: text".  Under
 * systemd (JOURNAL_STREAM set) the timestamp is left to the journal and the
 * line starts with a <N> priority prefix instead, so that journalctl -p
 * works.  log_warn() and fatal() append strerror(errno) like OpenBSD's
 * log_warn(); log_warnx() and fatalx() do not.  Control characters in a
 * message are written as \xNN, so remote input cannot forge a line.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Set by the main thread (at start and on reload), read by every worker:
 * atomic, so that a reload while a worker logs is well defined.  A line
 * is one fprintf() or syslog() call, which the C library makes whole. */
static _Atomic enum log_level log_level = LOG_LEVEL_INFO;
static _Atomic enum log_target log_target = LOG_TARGET_STDERR;
static _Atomic bool log_journal;

static const char *const log_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

static const int log_priorities[] = {
	[LOG_LEVEL_ERROR] = LOG_ERR,
	[LOG_LEVEL_WARNING] = LOG_WARNING,
	[LOG_LEVEL_INFO] = LOG_INFO,
	[LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

/*
 * Whether stderr is the journal's stream: systemd sets JOURNAL_STREAM to
 * "device:inode" of it, which is only meaningful while stderr is still
 * that file (systemd.exec(5)).
 */
static bool
log_stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (env == NULL || sscanf(env, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void
log_init(enum log_level level, enum log_target target, int facility)
{
	if (log_target == LOG_TARGET_SYSLOG && target != LOG_TARGET_SYSLOG)
		closelog();
	log_level = level;
	log_target = target;
	log_journal = log_stderr_is_journal();
	if (target == LOG_TARGET_SYSLOG)
		openlog("turnpiked", LOG_PID | LOG_NDELAY, facility);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

bool
log_enabled(enum log_level level)
{
	return level <= log_level;
}

const char *
log_level_name(enum log_level level)
{
	return log_names[level];
}

/* Copy src into dst, writing control characters and DEL as \xNN. */
static void
log_escape(char *dst, size_t cap, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; *src != '\0' && o + 5 < cap; src++) {
		unsigned char c = (unsigned char)*src;

		if (c < 0x20 || c == 0x7f) {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 0xf];
		} else {
			dst[o++] = (char)c;
		}
	}
	dst[o] = '\0';
}

static void log_emit(enum log_level level, int errnum, const char *fmt,
		     va_list ap) __attribute__((format(printf, 3, 0)));

static void
log_emit(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char raw[1024], line[2048];
	int n;

	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	if (n >= 0 && errnum != 0 && (size_t)n < sizeof(raw)) {
		char why[128];

		snprintf(raw + n, sizeof(raw) - (size_t)n, ": %s",
			 strerror_r(errnum, why, sizeof(why)));
	}
	log_escape(line, sizeof(line), raw);

	if (log_target == LOG_TARGET_SYSLOG) {
		syslog(log_priorities[level], "%s: %s", log_names[level], line);
	} else if (log_journal) {
		fprintf(stderr, "<%d>%s: %s\n", log_priorities[level],
			log_names[level], line);
	} else {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ %s: %s\n", when,
			ts.tv_nsec / 1000000, log_names[level], line);
	}
}

#define LOG_BODY(level, errnum)                                                \
	do {                                                                   \
		va_list ap;                                                    \
		if (!log_enabled(level))                                       \
			return;                                                \
		va_start(ap, fmt);                                             \
		log_emit(level, errnum, fmt, ap);                              \
		va_end(ap);                                                    \
	} while (0)

void
log_error(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERROR, 0);
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;

	LOG_BODY(LOG_LEVEL_WARNING, saved);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARNING, 0);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, 0);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, 0);
}

noreturn void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_ERROR, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

noreturn void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
