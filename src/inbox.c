/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * inbox.c: datagrams handed to one event loop by other threads (see
 * inbox.h).  The slots are a ring: producers fill the slot at tail under
 * the lock while tail - head is below the number of slots; the owner
 * takes [head, tail) under the lock, delivers those slots without it
 * (no producer writes a slot before head has passed it), then moves head.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "addr.h"
#include "inbox.h"

struct inbox_slot {
	struct addr_key to, from;
	size_t len;
};

struct inbox {
	pthread_mutex_t lock;
	unsigned int head, tail; /* free-running; tail - head is the fill */
	bool woken;              /* an eventfd write is on its way */
	unsigned int nslots;
	size_t headroom, stride; /* bytes of data[] per slot */
	int fd;                  /* eventfd */
	struct event *ev;
	inbox_fn *fn;
	void *arg;
	struct inbox_slot *slot;
	uint8_t *data;
};

static void
inbox_cb(evutil_socket_t fd, short what, void *arg)
{
	struct inbox *in = arg;
	unsigned int head, tail;
	eventfd_t count;

	if (eventfd_read(fd, &count) == -1 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&in->lock);
	head = in->head;
	tail = in->tail;
	in->woken = false;
	pthread_mutex_unlock(&in->lock);
	for (unsigned int i = head; i != tail; i++) {
		unsigned int k = i % in->nslots;

		in->fn(in->arg, &in->slot[k].to, &in->slot[k].from,
		       in->data + k * in->stride + in->headroom,
		       in->slot[k].len);
	}
	pthread_mutex_lock(&in->lock);
	in->head = tail;
	pthread_mutex_unlock(&in->lock);
}

struct inbox *
inbox_new(struct event_base *base, unsigned int slots, size_t headroom,
	  size_t max_len, inbox_fn *fn, void *arg)
{
	struct inbox *in;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		return NULL;
	in->fd = -1;
	if (pthread_mutex_init(&in->lock, NULL) != 0) {
		free(in);
		errno = ENOMEM;
		return NULL;
	}
	in->nslots = slots;
	in->headroom = headroom;
	in->stride = headroom + max_len + 4;
	in->fn = fn;
	in->arg = arg;
	in->slot = calloc(slots, sizeof(*in->slot));
	in->data = calloc(slots, in->stride);
	if (in->slot == NULL || in->data == NULL ||
	    (in->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    (in->ev = event_new(base, in->fd, EV_READ | EV_PERSIST, inbox_cb,
				in)) == NULL ||
	    event_add(in->ev, NULL) == -1) {
		int saved = errno;

		inbox_free(in);
		errno = saved;
		return NULL;
	}
	return in;
}

void
inbox_free(struct inbox *in)
{
	if (in == NULL)
		return;
	if (in->ev != NULL)
		event_free(in->ev);
	if (in->fd != -1)
		close(in->fd);
	pthread_mutex_destroy(&in->lock);
	free(in->slot);
	free(in->data);
	free(in);
}

bool
inbox_put(struct inbox *in, const struct addr_key *to,
	  const struct addr_key *from, const uint8_t *data, size_t len)
{
	unsigned int k;
	bool wake;

	pthread_mutex_lock(&in->lock);
	if (in->tail - in->head == in->nslots) {
		pthread_mutex_unlock(&in->lock);
		return false;
	}
	k = in->tail % in->nslots;
	in->slot[k].to = *to;
	in->slot[k].from = *from;
	in->slot[k].len = len;
	memcpy(in->data + k * in->stride + in->headroom, data, len);
	in->tail++;
	wake = !in->woken;
	in->woken = true;
	pthread_mutex_unlock(&in->lock);
	if (wake)
		(void)eventfd_write(in->fd, 1);
	return true;
}
