/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * alloc.c: the TURN allocation table.
 *
 * One struct alloc per allocation, owned by the table from alloc_new()
 * until alloc_free() or alloc_expire().  Permissions and channels are
 * owned by their allocation, linked into its lists and into the table's
 * hashes, and freed with it.  Usernames are shared per user, with a count
 * that enforces allocations per user; the counts live in a struct
 * alloc_quota, which the tables of every worker share under its mutex (a
 * table made alone has a quota of its own).  Nothing here opens a socket
 * or reads a clock.
 */
#include "config.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

struct alloc_user {
	struct hnode node; /* quota->users, by name */
	unsigned int count;
	size_t len;
	char name[]; /* NUL-terminated; fixed while count > 0 */
};

/* Allocations per user and in total, over every table that shares it.
 * Only alloc_new() and alloc_free() take the lock: not the packet path. */
struct alloc_quota {
	pthread_mutex_t lock;
	uint8_t hkey[HTAB_KEY_SIZE];
	struct htab users;
	unsigned int count;
	unsigned int max_total, max_per_user;
};

struct alloc_table {
	uint8_t hkey[HTAB_KEY_SIZE];
	struct htab by_tuple;
	struct htab perms;
	struct htab chans_by_number;
	struct htab chans_by_peer;
	struct alloc_quota *quota;
	bool own_quota; /* made by alloc_table_new(), freed with the table */
	LIST_HEAD(, alloc) all;
	unsigned int count;
	struct alloc_limits limits;
};

#define CONTAINER(ptr, type, member)                                           \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* Hash keys: the allocation's address stands for the allocation. */
struct perm_key {
	const struct alloc *alloc;
	uint8_t family;
	uint8_t ip[16];
};

struct chan_number_key {
	const struct alloc *alloc;
	uint16_t number;
};

struct chan_peer_key {
	const struct alloc *alloc;
	struct addr_key peer;
};

static uint64_t
hash_perm(const struct alloc_table *t, const struct alloc *a,
	  const struct addr_key *peer)
{
	struct perm_key k;

	memset(&k, 0, sizeof(k));
	k.alloc = a;
	k.family = peer->family;
	memcpy(k.ip, peer->ip, sizeof(k.ip));
	return htab_hash(t->hkey, &k, sizeof(k));
}

static uint64_t
hash_chan_number(const struct alloc_table *t, const struct alloc *a,
		 uint16_t number)
{
	struct chan_number_key k;

	memset(&k, 0, sizeof(k));
	k.alloc = a;
	k.number = number;
	return htab_hash(t->hkey, &k, sizeof(k));
}

static uint64_t
hash_chan_peer(const struct alloc_table *t, const struct alloc *a,
	       const struct addr_key *peer)
{
	struct chan_peer_key k;

	memset(&k, 0, sizeof(k));
	k.alloc = a;
	k.peer = *peer;
	return htab_hash(t->hkey, &k, sizeof(k));
}

struct alloc_quota *
alloc_quota_new(const uint8_t hkey[HTAB_KEY_SIZE])
{
	struct alloc_quota *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	if (htab_init(&q->users, 64) == -1 ||
	    pthread_mutex_init(&q->lock, NULL) != 0) {
		htab_release(&q->users);
		free(q);
		return NULL;
	}
	memcpy(q->hkey, hkey, HTAB_KEY_SIZE);
	return q;
}

void
alloc_quota_free(struct alloc_quota *q)
{
	if (q == NULL)
		return;
	htab_release(&q->users);
	pthread_mutex_destroy(&q->lock);
	OPENSSL_cleanse(q->hkey, sizeof(q->hkey));
	free(q);
}

unsigned int
alloc_quota_count(struct alloc_quota *q)
{
	unsigned int n;

	pthread_mutex_lock(&q->lock);
	n = q->count;
	pthread_mutex_unlock(&q->lock);
	return n;
}

struct alloc_table *
alloc_table_new_shared(const uint8_t hkey[HTAB_KEY_SIZE],
		       struct alloc_quota *quota)
{
	struct alloc_table *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	memcpy(t->hkey, hkey, HTAB_KEY_SIZE);
	LIST_INIT(&t->all);
	if (quota == NULL) {
		quota = alloc_quota_new(hkey);
		t->own_quota = true;
	}
	t->quota = quota;
	if (quota == NULL || htab_init(&t->by_tuple, 64) == -1 ||
	    htab_init(&t->perms, 64) == -1 ||
	    htab_init(&t->chans_by_number, 64) == -1 ||
	    htab_init(&t->chans_by_peer, 64) == -1) {
		alloc_table_free(t, NULL, NULL);
		return NULL;
	}
	return t;
}

struct alloc_table *
alloc_table_new(const uint8_t hkey[HTAB_KEY_SIZE])
{
	return alloc_table_new_shared(hkey, NULL);
}

void
alloc_table_free(struct alloc_table *t, void (*gone)(struct alloc *, void *),
		 void *arg)
{
	if (t == NULL)
		return;
	while (!LIST_EMPTY(&t->all)) {
		struct alloc *a = LIST_FIRST(&t->all);

		if (gone != NULL)
			gone(a, arg);
		alloc_free(t, a);
	}
	htab_release(&t->by_tuple);
	htab_release(&t->perms);
	htab_release(&t->chans_by_number);
	htab_release(&t->chans_by_peer);
	if (t->own_quota)
		alloc_quota_free(t->quota);
	OPENSSL_cleanse(t->hkey, sizeof(t->hkey));
	free(t);
}

void
alloc_set_limits(struct alloc_table *t, const struct alloc_limits *l)
{
	t->limits = *l;
	pthread_mutex_lock(&t->quota->lock);
	t->quota->max_total = l->max_total;
	t->quota->max_per_user = l->max_per_user;
	pthread_mutex_unlock(&t->quota->lock);
}

unsigned int
alloc_count(const struct alloc_table *t)
{
	return t->count;
}

void
alloc_totals(const struct alloc_table *t, struct alloc_totals *out)
{
	out->allocations = t->count;
	out->permissions = t->perms.count;
	out->channels = t->chans_by_number.count;
}

struct alloc *
alloc_find(const struct alloc_table *t, const struct alloc_tuple *tuple)
{
	uint64_t h = htab_hash(t->hkey, tuple, sizeof(*tuple));

	for (struct hnode *n = htab_bucket(&t->by_tuple, h); n; n = n->next) {
		struct alloc *a = CONTAINER(n, struct alloc, node);

		if (n->hash == h &&
		    memcmp(&a->tuple, tuple, sizeof(*tuple)) == 0)
			return a;
	}
	return NULL;
}

static struct alloc_user *
user_find(const struct alloc_quota *q, const char *name, size_t len, uint64_t h)
{
	for (struct hnode *n = htab_bucket(&q->users, h); n; n = n->next) {
		struct alloc_user *u = CONTAINER(n, struct alloc_user, node);

		if (n->hash == h && u->len == len &&
		    memcmp(u->name, name, len) == 0)
			return u;
	}
	return NULL;
}

/*
 * Count one more allocation for username in q, under its lock.  Returns
 * 0 with *out set, 486 or 508 (see alloc_new()).
 */
static int
quota_take(struct alloc_quota *q, const char *username, struct alloc_user **out)
{
	size_t len = strlen(username);
	uint64_t uh = htab_hash(q->hkey, username, len);
	struct alloc_user *u;
	int rc = 0;

	pthread_mutex_lock(&q->lock);
	u = user_find(q, username, len, uh);
	if (q->max_total != 0 && q->count >= q->max_total)
		rc = 508;
	else if (u != NULL && q->max_per_user != 0 &&
		 u->count >= q->max_per_user)
		rc = 486;
	else if (u == NULL) {
		if ((u = calloc(1, sizeof(*u) + len + 1)) == NULL) {
			rc = 508;
		} else {
			u->len = len;
			memcpy(u->name, username, len + 1);
			htab_insert(&q->users, &u->node, uh);
		}
	}
	if (rc == 0) {
		u->count++;
		q->count++;
		*out = u;
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

/* The allocation of u has gone: count it out of q, under its lock. */
static void
quota_give(struct alloc_quota *q, struct alloc_user *u)
{
	pthread_mutex_lock(&q->lock);
	q->count--;
	if (--u->count == 0) {
		htab_remove(&q->users, &u->node);
		free(u);
	}
	pthread_mutex_unlock(&q->lock);
}

int
alloc_new(struct alloc_table *t, const struct alloc_tuple *tuple,
	  const char *username, const uint8_t key[ALLOC_KEY_SIZE],
	  const uint8_t tid[12], uint64_t now_ms, uint64_t lifetime_ms,
	  struct alloc **out)
{
	struct alloc_user *u;
	struct alloc *a;
	int rc;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return 508;
	if ((rc = quota_take(t->quota, username, &u)) != 0) {
		free(a);
		return rc;
	}
	a->user = u;
	a->tuple = *tuple;
	memcpy(a->key, key, ALLOC_KEY_SIZE);
	memcpy(a->tid, tid, sizeof(a->tid));
	a->created_ms = now_ms;
	a->expires_ms = now_ms + lifetime_ms;
	LIST_INIT(&a->perms);
	LIST_INIT(&a->chans);
	htab_insert(&t->by_tuple, &a->node,
		    htab_hash(t->hkey, tuple, sizeof(*tuple)));
	LIST_INSERT_HEAD(&t->all, a, entry);
	t->count++;
	*out = a;
	return 0;
}

const char *
alloc_username(const struct alloc *a)
{
	return a->user->name;
}

static void
perm_free(struct alloc_table *t, struct alloc_perm *p)
{
	htab_remove(&t->perms, &p->node);
	LIST_REMOVE(p, entry);
	p->alloc->nperms--;
	free(p);
}

static void
chan_free(struct alloc_table *t, struct alloc_chan *c)
{
	htab_remove(&t->chans_by_number, &c->by_number);
	htab_remove(&t->chans_by_peer, &c->by_peer);
	LIST_REMOVE(c, entry);
	c->alloc->nchans--;
	free(c);
}

void
alloc_free(struct alloc_table *t, struct alloc *a)
{
	struct alloc_user *u = a->user;

	while (!LIST_EMPTY(&a->perms))
		perm_free(t, LIST_FIRST(&a->perms));
	while (!LIST_EMPTY(&a->chans))
		chan_free(t, LIST_FIRST(&a->chans));
	htab_remove(&t->by_tuple, &a->node);
	LIST_REMOVE(a, entry);
	t->count--;
	quota_give(t->quota, u);
	OPENSSL_cleanse(a->key, sizeof(a->key));
	free(a);
}

/* The permission of a for peer's IP, live or not. */
static struct alloc_perm *
perm_find(const struct alloc_table *t, const struct alloc *a,
	  const struct addr_key *peer)
{
	uint64_t h = hash_perm(t, a, peer);

	for (struct hnode *n = htab_bucket(&t->perms, h); n; n = n->next) {
		struct alloc_perm *p = CONTAINER(n, struct alloc_perm, node);

		if (n->hash == h && p->alloc == a &&
		    p->family == peer->family &&
		    memcmp(p->ip, peer->ip, sizeof(p->ip)) == 0)
			return p;
	}
	return NULL;
}

int
alloc_perm_add(struct alloc_table *t, struct alloc *a,
	       const struct addr_key *peer, uint64_t now_ms)
{
	struct alloc_perm *p = perm_find(t, a, peer);

	if (p == NULL) {
		if (t->limits.max_permissions != 0 &&
		    a->nperms >= t->limits.max_permissions)
			return 508;
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return 508;
		p->alloc = a;
		p->family = peer->family;
		memcpy(p->ip, peer->ip, sizeof(p->ip));
		htab_insert(&t->perms, &p->node, hash_perm(t, a, peer));
		LIST_INSERT_HEAD(&a->perms, p, entry);
		a->nperms++;
	}
	p->expires_ms = now_ms + ALLOC_PERMISSION_LIFETIME_MS;
	return 0;
}

bool
alloc_perm_ok(const struct alloc_table *t, const struct alloc *a,
	      const struct addr_key *peer, uint64_t now_ms)
{
	const struct alloc_perm *p = perm_find(t, a, peer);

	return p != NULL && p->expires_ms > now_ms;
}

static struct alloc_chan *
chan_find_number(const struct alloc_table *t, const struct alloc *a,
		 uint16_t number)
{
	uint64_t h = hash_chan_number(t, a, number);

	for (struct hnode *n = htab_bucket(&t->chans_by_number, h); n;
	     n = n->next) {
		struct alloc_chan *c =
			CONTAINER(n, struct alloc_chan, by_number);

		if (n->hash == h && c->alloc == a && c->number == number)
			return c;
	}
	return NULL;
}

static struct alloc_chan *
chan_find_peer(const struct alloc_table *t, const struct alloc *a,
	       const struct addr_key *peer)
{
	uint64_t h = hash_chan_peer(t, a, peer);

	for (struct hnode *n = htab_bucket(&t->chans_by_peer, h); n;
	     n = n->next) {
		struct alloc_chan *c = CONTAINER(n, struct alloc_chan, by_peer);

		if (n->hash == h && c->alloc == a &&
		    memcmp(&c->peer, peer, sizeof(*peer)) == 0)
			return c;
	}
	return NULL;
}

int
alloc_chan_bind(struct alloc_table *t, struct alloc *a, uint16_t number,
		const struct addr_key *peer, uint64_t now_ms)
{
	struct alloc_chan *byn = chan_find_number(t, a, number);
	struct alloc_chan *byp = chan_find_peer(t, a, peer);
	struct alloc_perm *p;
	int rc;

	/* RFC 8656 section 11.2: the number must not be bound to another
	 * peer, nor the peer to another number.  An expired binding no
	 * longer counts: it is freed and the new one takes its place. */
	if (byn != NULL && byn->expires_ms <= now_ms && byn != byp) {
		chan_free(t, byn);
		byn = NULL;
	}
	if (byp != NULL && byp->expires_ms <= now_ms && byp != byn) {
		chan_free(t, byp);
		byp = NULL;
	}
	if (byn != byp)
		return 400;

	/* The permission comes with the binding; check room for it first so
	 * that a refused bind leaves nothing behind. */
	p = perm_find(t, a, peer);
	if (p == NULL && t->limits.max_permissions != 0 &&
	    a->nperms >= t->limits.max_permissions)
		return 508;
	if (byn == NULL) {
		if (t->limits.max_channels != 0 &&
		    a->nchans >= t->limits.max_channels)
			return 508;
		if ((byn = calloc(1, sizeof(*byn))) == NULL)
			return 508;
		byn->alloc = a;
		byn->number = number;
		byn->peer = *peer;
		htab_insert(&t->chans_by_number, &byn->by_number,
			    hash_chan_number(t, a, number));
		htab_insert(&t->chans_by_peer, &byn->by_peer,
			    hash_chan_peer(t, a, peer));
		LIST_INSERT_HEAD(&a->chans, byn, entry);
		a->nchans++;
	}
	byn->expires_ms = now_ms + ALLOC_CHANNEL_LIFETIME_MS;
	if ((rc = alloc_perm_add(t, a, peer, now_ms)) != 0)
		return rc;
	return 0;
}

const struct alloc_chan *
alloc_chan_by_number(const struct alloc_table *t, const struct alloc *a,
		     uint16_t number, uint64_t now_ms)
{
	const struct alloc_chan *c = chan_find_number(t, a, number);

	return c != NULL && c->expires_ms > now_ms ? c : NULL;
}

const struct alloc_chan *
alloc_chan_by_peer(const struct alloc_table *t, const struct alloc *a,
		   const struct addr_key *peer, uint64_t now_ms)
{
	const struct alloc_chan *c = chan_find_peer(t, a, peer);

	return c != NULL && c->expires_ms > now_ms ? c : NULL;
}

unsigned int
alloc_expire(struct alloc_table *t, uint64_t now_ms,
	     void (*gone)(struct alloc *, void *), void *arg)
{
	struct alloc *a, *anext;
	unsigned int n = 0;

	for (a = LIST_FIRST(&t->all); a != NULL; a = anext) {
		struct alloc_perm *p, *pnext;
		struct alloc_chan *c, *cnext;

		anext = LIST_NEXT(a, entry);
		if (a->expires_ms <= now_ms) {
			if (gone != NULL)
				gone(a, arg);
			alloc_free(t, a);
			n++;
			continue;
		}
		for (p = LIST_FIRST(&a->perms); p != NULL; p = pnext) {
			pnext = LIST_NEXT(p, entry);
			if (p->expires_ms <= now_ms)
				perm_free(t, p);
		}
		for (c = LIST_FIRST(&a->chans); c != NULL; c = cnext) {
			cnext = LIST_NEXT(c, entry);
			if (c->expires_ms <= now_ms)
				chan_free(t, c);
		}
	}
	return n;
}

unsigned int
alloc_prune(struct alloc_table *t,
	    bool (*keep_ip)(const struct addr_key *ip, void *arg),
	    bool (*keep_peer)(const struct addr_key *peer, void *arg),
	    void *arg)
{
	struct alloc *a;
	unsigned int n = 0;

	LIST_FOREACH(a, &t->all, entry)
	{
		struct alloc_perm *p, *pnext;
		struct alloc_chan *c, *cnext;

		for (c = LIST_FIRST(&a->chans); c != NULL; c = cnext) {
			cnext = LIST_NEXT(c, entry);
			if (!keep_peer(&c->peer, arg)) {
				chan_free(t, c);
				n++;
			}
		}
		for (p = LIST_FIRST(&a->perms); p != NULL; p = pnext) {
			struct addr_key ip;

			pnext = LIST_NEXT(p, entry);
			memset(&ip, 0, sizeof(ip));
			ip.family = p->family;
			memcpy(ip.ip, p->ip, sizeof(ip.ip));
			if (!keep_ip(&ip, arg)) {
				perm_free(t, p);
				n++;
			}
		}
	}
	return n;
}

bool
alloc_bw_take(struct alloc *a, size_t len, uint64_t rate, uint64_t now_ms)
{
	if (rate == 0)
		return true;
	if (now_ms > a->bw_last_ms) {
		a->bw_tokens += (now_ms - a->bw_last_ms) * rate / 1000;
		if (a->bw_tokens > rate)
			a->bw_tokens = rate; /* a burst of one second at most */
		a->bw_last_ms = now_ms;
	}
	if (a->bw_tokens < len)
		return false;
	a->bw_tokens -= len;
	return true;
}
