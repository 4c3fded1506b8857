/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * forwarder.c: the ceiling for turnpike-bench's relay figures.  A UDP
 * forwarder with no TURN in it: no parsing, no permissions, no tables; it
 * makes each datagram cross the kernel as often as a TURN server relaying
 * client to client does, and nothing more.
 *
 * A client sends to the listening socket a datagram whose first two bytes
 * are the port, on the forwarder's own IP, of the client to deliver it to
 * (turnpike-bench relay --raw writes them).  The forwarder receives it on
 * the listening socket and sends it from its hop socket to the hop socket
 * itself (what a TURN server does from one relay address to another);
 * received on the hop socket, it leaves from the listening socket for the
 * port in its first two bytes (what a TURN server does from the relay
 * socket to the client).  Two receives and two sends per datagram, in
 * batches of 64 with recvmmsg() and sendmmsg(), one thread, no copies.
 * With -1 it skips the hop: what comes in on the listening socket leaves
 * from it at once for the port in its first two bytes, one receive and
 * one send, the least a relay between two of its own clients can do (the
 * ceiling for a server that delivers from one allocation to another in
 * memory, as turnpiked does).
 *
 * With -b it is the ceiling for STUN Binding instead: each datagram of 20
 * bytes or more is answered to its sender, from the listening socket, with
 * a Binding success response written over it in place (the request's
 * transaction ID, one XOR-MAPPED-ADDRESS: 32 bytes, turnpiked's answer
 * size), with no check of what came in.
 *
 * Not for anything but a benchmark on loopback: it forwards whatever it is
 * sent to any port of its own IP.
 *
 * usage: forwarder [-1 | -b] [-t seconds] ip:port
 */
#define _GNU_SOURCE /* recvmmsg, sendmmsg */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FWD_BATCH 64
#define FWD_SLOT  2048

static struct {
	unsigned char buf[FWD_BATCH][FWD_SLOT];
	struct iovec iov[FWD_BATCH];
	struct mmsghdr msg[FWD_BATCH];
	struct sockaddr_storage to[FWD_BATCH];
} fwd;

static volatile sig_atomic_t fwd_stop;

static void
fwd_signal_cb(int sig)
{
	(void)sig;
	fwd_stop = 1;
}

/* Parse "ip:port" or "[ipv6]:port" into ss; returns 0 or -1. */
static int
fwd_parse(const char *s, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t n;
	long port;
	char *end;

	if (colon == NULL)
		return -1;
	n = (size_t)(colon - s);
	if (n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		host[n - 1] = '\0';
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
		return inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) == 1
			       ? 0
			       : -1;
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
		return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
	}
}

static socklen_t
fwd_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					 : sizeof(struct sockaddr_in);
}

static void
fwd_set_port(struct sockaddr_storage *ss, unsigned short port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
}

/* The destination port in the first two bytes of datagram i. */
static unsigned short
fwd_port(int i)
{
	if (fwd.msg[i].msg_len < 2)
		return 0; /* sendmmsg refuses port 0: dropped */
	return (unsigned short)(fwd.buf[i][0] << 8 | fwd.buf[i][1]);
}

/* A bound non-blocking UDP socket with 4 MiB buffers, or -1. */
static int
fwd_socket(const struct sockaddr_storage *ss)
{
	int fd, buf = 4 << 20, on = 1;

	fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (ss->ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
				 sizeof(on));
	if (bind(fd, (const struct sockaddr *)ss, fwd_len(ss)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Receive one batch on from, each sender's address into fwd.to[i];
 * returns how many datagrams, 0 if none. */
static int
fwd_recv(int from)
{
	int got;

	for (int i = 0; i < FWD_BATCH; i++) {
		fwd.iov[i].iov_base = fwd.buf[i];
		fwd.iov[i].iov_len = FWD_SLOT;
		memset(&fwd.msg[i].msg_hdr, 0, sizeof(fwd.msg[i].msg_hdr));
		fwd.msg[i].msg_hdr.msg_iov = &fwd.iov[i];
		fwd.msg[i].msg_hdr.msg_iovlen = 1;
		fwd.msg[i].msg_hdr.msg_name = &fwd.to[i];
		fwd.msg[i].msg_hdr.msg_namelen = sizeof(fwd.to[i]);
	}
	got = recvmmsg(from, fwd.msg, FWD_BATCH, MSG_DONTWAIT, NULL);
	return got > 0 ? got : 0;
}

/*
 * Write a Binding success response over request i, for its sender in
 * fwd.to[i] (IPv4 only); returns false to drop it.
 */
static bool
fwd_binding_answer(int i)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&fwd.to[i];
	unsigned char *m = fwd.buf[i];
	uint16_t port = (uint16_t)(ntohs(sin->sin_port) ^ 0x2112);
	uint32_t ip = ntohl(sin->sin_addr.s_addr) ^ 0x2112A442u;

	if (fwd.msg[i].msg_len < 20 || sin->sin_family != AF_INET)
		return false;
	m[0] = 0x01, m[1] = 0x01, m[2] = 0, m[3] = 12; /* bytes 4-19 stay */
	m[20] = 0x00, m[21] = 0x20, m[22] = 0, m[23] = 8;
	m[24] = 0, m[25] = 0x01, m[26] = (unsigned char)(port >> 8);
	m[27] = (unsigned char)port;
	m[28] = (unsigned char)(ip >> 24), m[29] = (unsigned char)(ip >> 16);
	m[30] = (unsigned char)(ip >> 8), m[31] = (unsigned char)ip;
	fwd.msg[i].msg_len = 32;
	return true;
}

/* Send the n datagrams of the batch from fd, each to fwd.to[i]. */
static void
fwd_send(int fd, int n, unsigned long long *dropped)
{
	for (int i = 0; i < n; i++) {
		fwd.iov[i].iov_len = fwd.msg[i].msg_len;
		fwd.msg[i].msg_hdr.msg_name = &fwd.to[i];
		fwd.msg[i].msg_hdr.msg_namelen = fwd_len(&fwd.to[i]);
	}
	for (int done = 0, sent; done < n; done += sent) {
		sent = sendmmsg(fd, fwd.msg + done, (unsigned int)(n - done),
				MSG_DONTWAIT);
		if (sent <= 0) {
			(*dropped)++;
			sent = 1;
		}
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage listen_addr, hop_addr;
	struct epoll_event ev, evs[2];
	socklen_t len = sizeof(hop_addr);
	unsigned long long forwarded = 0, dropped = 0;
	long seconds = 1800;
	bool one_hop = false, binding = false;
	time_t end;
	int ch, ep, lfd, hfd;

	while ((ch = getopt(argc, argv, "1bt:")) != -1) {
		if (ch == '1' || ch == 'b') {
			*(ch == '1' ? &one_hop : &binding) = true;
			continue;
		}
		if (ch != 't')
			goto usage;
		seconds = strtol(optarg, NULL, 10);
		if (seconds < 1 || seconds > 86400)
			goto usage;
	}
	if (optind != argc - 1 || fwd_parse(argv[optind], &listen_addr) == -1)
		goto usage;

	hop_addr = listen_addr;
	fwd_set_port(&hop_addr, 0);
	if ((lfd = fwd_socket(&listen_addr)) == -1 ||
	    (hfd = fwd_socket(&hop_addr)) == -1 ||
	    getsockname(hfd, (struct sockaddr *)&hop_addr, &len) == -1) {
		fprintf(stderr, "forwarder: %s: %s\n", argv[optind],
			strerror(errno));
		return 1;
	}
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return 1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	(void)epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.fd = hfd;
	(void)epoll_ctl(ep, EPOLL_CTL_ADD, hfd, &ev);
	signal(SIGTERM, fwd_signal_cb);
	signal(SIGINT, fwd_signal_cb);
	/* Bounded: it stops by itself after -t seconds. */
	end = time(NULL) + seconds;

	while (!fwd_stop && time(NULL) < end) {
		int n = epoll_wait(ep, evs, 2, 1000);

		for (int e = 0; e < n; e++) {
			int fd = evs[e].data.fd, got;

			/* A few batches per wake-up, then the other socket. */
			for (int round = 0; round < 4; round++) {
				if ((got = fwd_recv(fd)) == 0)
					break;
				/* Client in: on to the hop (or with -1 out
				 * to the client).  Hop in: out to the
				 * client, from the listening socket. */
				bool out = fd == hfd || one_hop;

				if (binding) {
					/* sendmmsg refuses port 0: dropped */
					for (int i = 0; i < got; i++)
						if (!fwd_binding_answer(i))
							fwd_set_port(&fwd.to[i],
								     0);
					fwd_send(lfd, got, &dropped);
					forwarded += (unsigned long long)got;
					if (got < FWD_BATCH)
						break;
					continue;
				}
				for (int i = 0; i < got; i++) {
					fwd.to[i] = hop_addr;
					if (out)
						fwd_set_port(&fwd.to[i],
							     fwd_port(i));
				}
				fwd_send(out ? lfd : hfd, got, &dropped);
				if (out)
					forwarded += (unsigned long long)got;
				if (got < FWD_BATCH)
					break;
			}
		}
	}
	fprintf(stderr, "forwarder: %llu forwarded, %llu send errors\n",
		forwarded, dropped);
	return 0;
usage:
	fprintf(stderr, "usage: forwarder [-1 | -b] [-t seconds] ip:port\n");
	return 2;
}
