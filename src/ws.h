/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ws.h: WebSocket connections (RFC 6455) after libmicrohttpd has handed
 * over the upgraded socket: framing by wslay, I/O by libevent, messages to
 * the signaling hub (sig.c).
 */
#ifndef TURNPIKE_WS_H
#define TURNPIKE_WS_H

#include <stddef.h>
#include <stdint.h>

struct MHD_UpgradeResponseHandle;
struct conf;
struct event_base;
struct sig_hub;
struct ws_set;

/* ws.c */

/*
 * The WebSocket side of the daemon: connections and the ping timer.
 * conf points to the daemon's current config pointer (swapped on reload);
 * kick(kick_arg) is called after a connection is handed back to
 * libmicrohttpd, which must then run.  NULL after logging why.
 */
struct ws_set *ws_set_new(struct event_base *base, const struct conf **conf,
			  void (*kick)(void *), void *kick_arg);
/* Close every connection (going away, 1001) and free the set. */
void ws_set_free(struct ws_set *set);
/* The hub, once it exists (it needs ws_ops from this set). */
void ws_set_hub(struct ws_set *set, struct sig_hub *hub);
unsigned int ws_count(const struct ws_set *set);

/*
 * Take over an upgraded socket: extra[0..extra_len) was read by
 * libmicrohttpd past the handshake; host is the Host the browser asked
 * for (for ICE server URLs).  On failure the socket is handed back.
 */
void ws_open(struct ws_set *set, int fd, struct MHD_UpgradeResponseHandle *urh,
	     const char *extra, size_t extra_len, const char *host);

/* The Host a connection was opened with. */
const char *ws_host(const void *conn);

/* For the hub's struct sig_ops (ctx is the ws_set). */
int ws_send_text(void *ctx, void *conn, const char *text, size_t len);
void ws_close_code(void *ctx, void *conn, int code, const char *reason);

/*
 * Whether buf[0..len) is well-formed UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF), as RFC 6455 section 8.1 asks
 * of text frames.
 */
int ws_utf8_valid(const uint8_t *buf, size_t len);

#endif /* TURNPIKE_WS_H */
