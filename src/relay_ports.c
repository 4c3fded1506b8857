/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * relay_ports.c: the relay ports held, their reservations and owners,
 * shared by every worker's relay set (see relay_ports.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "relay_ports.h"

struct relay_ports *
relay_ports_new(unsigned int nworkers)
{
	struct relay_ports *ports;

	if ((ports = calloc(1, sizeof(*ports))) == NULL)
		return NULL;
	if (pthread_mutex_init(&ports->lock, NULL) != 0) {
		free(ports);
		return NULL;
	}
	ports->nworkers = nworkers;
	return ports;
}

void
relay_ports_free(struct relay_ports *ports)
{
	if (ports == NULL)
		return;
	relay_ports_expire(ports, UINT64_MAX);
	pthread_mutex_destroy(&ports->lock);
	free(ports);
}

unsigned int
relay_ports_join(struct relay_ports *ports, struct inbox *inbox)
{
	unsigned int id;

	pthread_mutex_lock(&ports->lock);
	id = ports->nsets++;
	if (id < CONF_MAX_WORKERS)
		ports->inbox[id] = inbox;
	pthread_mutex_unlock(&ports->lock);
	return id;
}

bool
relay_ports_reserve(struct relay_ports *ports,
		    const struct relay_reservation *r)
{
	bool kept = false;

	pthread_mutex_lock(&ports->lock);
	if (ports->nreservations < RELAY_MAX_RESERVATIONS) {
		ports->reservations[ports->nreservations++] = *r;
		kept = true;
	}
	pthread_mutex_unlock(&ports->lock);
	return kept;
}

bool
relay_ports_take(struct relay_ports *ports, const uint8_t token[8],
		 uint64_t now_ms, struct relay_reservation *out)
{
	bool found = false;

	pthread_mutex_lock(&ports->lock);
	for (unsigned int i = 0; i < ports->nreservations; i++) {
		struct relay_reservation *r = &ports->reservations[i];

		if (memcmp(r->token, token, 8) != 0)
			continue;
		if (r->expires_ms > now_ms) {
			*out = *r;
			found = true;
			*r = ports->reservations[--ports->nreservations];
		}
		break;
	}
	pthread_mutex_unlock(&ports->lock);
	return found;
}

void
relay_ports_expire(struct relay_ports *ports, uint64_t now_ms)
{
	pthread_mutex_lock(&ports->lock);
	for (unsigned int i = 0; i < ports->nreservations;) {
		struct relay_reservation *r = &ports->reservations[i];

		if (r->expires_ms <= now_ms) {
			relay_ports_mark(ports, alloc_family_index(r->family),
					 r->port, false);
			close(r->fd);
			*r = ports->reservations[--ports->nreservations];
		} else {
			i++;
		}
	}
	pthread_mutex_unlock(&ports->lock);
}
