/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gsoshim.so: an LD_PRELOAD shim around sendmmsg() for test_stun_udp.py,
 * to see and to refuse UDP GSO (a UDP_SEGMENT control message).
 *
 * With $TP_GSOSHIM_REFUSE set, a call whose first message carries
 * UDP_SEGMENT fails with EIO, as on a device without checksum offload.
 * With $TP_GSOSHIM_LOG naming a file, each message with UDP_SEGMENT that
 * is passed on appends a line "segments N" to it.  Anything else goes to
 * the real sendmmsg() untouched.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The UDP_SEGMENT size of h, or 0 when it has none. */
static unsigned int
gsoshim_segment(const struct msghdr *h)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(h); c != NULL;
	     c = CMSG_NXTHDR((struct msghdr *)h, c))
		if (c->cmsg_level == IPPROTO_UDP &&
		    c->cmsg_type == UDP_SEGMENT) {
			unsigned short size;

			memcpy(&size, CMSG_DATA(c), sizeof(size));
			return size;
		}
	return 0;
}

int
sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	static int (*real)(int, struct mmsghdr *, unsigned int, int);
	const char *log = getenv("TP_GSOSHIM_LOG");
	int sent;

	if (real == NULL)
		real = (int (*)(int, struct mmsghdr *, unsigned int, int))dlsym(
			RTLD_NEXT, "sendmmsg");
	if (n > 0 && getenv("TP_GSOSHIM_REFUSE") != NULL &&
	    gsoshim_segment(&v[0].msg_hdr) != 0) {
		errno = EIO;
		return -1;
	}
	sent = real(fd, v, n, flags);
	if (log != NULL && sent > 0) {
		int out = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			       0644);

		for (int i = 0; out != -1 && i < sent; i++) {
			char line[64];
			unsigned int size = gsoshim_segment(&v[i].msg_hdr);
			int len;

			if (size == 0)
				continue;
			len = snprintf(line, sizeof(line), "segments %u\n",
				       (v[i].msg_len + size - 1) / size);
			if (write(out, line, (size_t)len) != len)
				break;
		}
		if (out != -1)
			close(out);
	}
	return sent;
}
