/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_alloc.c: the allocation table with time passed in: 5-tuples,
 * quotas (also shared by two tables, and by two threads), permissions, the channel rules of RFC 8656 section 11.2,
 * lifetimes and expiry, the bandwidth bucket, and the keyed hash.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>

#include "alloc.h"
#include "htab.h"
#include "unit.h"

static const uint8_t hkey[HTAB_KEY_SIZE] = { 7, 7, 7 };
static const uint8_t key[ALLOC_KEY_SIZE] = { 1 };
static const uint8_t tid[12] = { 2 };

static struct addr_key
addr(const char *ip, unsigned int port)
{
	struct sockaddr_storage ss = { 0 };
	struct addr_key k;

	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, ip, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, ip, &s4->sin_addr);
	}
	addr_key_from(&k, (struct sockaddr *)&ss);
	return k;
}

static struct alloc_tuple
tuple(const char *client, unsigned int port, uint8_t transport)
{
	struct alloc_tuple t;

	memset(&t, 0, sizeof(t));
	t.client = addr(client, port);
	t.server = addr("198.51.100.1", 3478);
	t.transport = transport;
	return t;
}

static int gone_calls;

static void
gone_cb(struct alloc *a, void *arg)
{
	gone_calls++;
	CHECK(a != NULL);
}

static void
test_tuples_and_quotas(void)
{
	struct alloc_table *t = alloc_table_new(hkey);
	struct alloc_limits lim = { .max_total = 3, .max_per_user = 2 };
	struct alloc_tuple t1 = tuple("192.0.2.1", 1000, 0);
	struct alloc_tuple t2 = tuple("192.0.2.1", 1001, 0);
	struct alloc_tuple t3 = tuple("192.0.2.1", 1000, 1); /* TCP */
	struct alloc_tuple t4 = tuple("2001:db8::1", 1000, 0);
	struct alloc *a1, *a2, *a3, *a4;

	alloc_set_limits(t, &lim);
	CHECK(alloc_find(t, &t1) == NULL);
	CHECK_INT(alloc_new(t, &t1, "alice", key, tid, 0, 600000, &a1), 0);
	CHECK(alloc_find(t, &t1) == a1);
	/* Another port, another transport: other 5-tuples. */
	CHECK(alloc_find(t, &t2) == NULL);
	CHECK(alloc_find(t, &t3) == NULL);
	CHECK_INT(alloc_new(t, &t2, "alice", key, tid, 0, 600000, &a2), 0);
	/* Allocations per user: 486. */
	CHECK_INT(alloc_new(t, &t3, "alice", key, tid, 0, 600000, &a3), 486);
	CHECK_INT(alloc_new(t, &t3, "bob", key, tid, 0, 600000, &a3), 0);
	CHECK_STR(alloc_username(a3), "bob");
	/* Allocations in total: 508. */
	CHECK_INT(alloc_new(t, &t4, "carol", key, tid, 0, 600000, &a4), 508);
	CHECK_INT(alloc_count(t), 3);
	/* Freeing one gives the user's quota back. */
	alloc_free(t, a2);
	CHECK(alloc_find(t, &t2) == NULL);
	CHECK_INT(alloc_new(t, &t4, "alice", key, tid, 0, 600000, &a4), 0);
	CHECK(alloc_find(t, &t4) == a4);
	CHECK(alloc_find(t, &t1) == a1);
	gone_calls = 0;
	alloc_table_free(t, gone_cb, NULL);
	CHECK_INT(gone_calls, 3);
}

/*
 * Two tables sharing one quota, as two workers do: the per-user and total
 * bounds hold over both, each table counts and finds only its own, and a
 * thread on each table taking and giving back at once loses no count.
 */
static void
test_shared_quota(void)
{
	struct alloc_quota *q = alloc_quota_new(hkey);
	struct alloc_table *w0 = alloc_table_new_shared(hkey, q);
	struct alloc_table *w1 = alloc_table_new_shared(hkey, q);
	struct alloc_limits lim = { .max_total = 4, .max_per_user = 2 };
	struct alloc_tuple t1 = tuple("192.0.2.1", 1000, 0);
	struct alloc_tuple t2 = tuple("192.0.2.1", 1001, 0);
	struct alloc_tuple t3 = tuple("192.0.2.1", 1002, 0);
	struct alloc *a1, *a2, *a3, *a4, *a5;

	CHECK(q != NULL && w0 != NULL && w1 != NULL);
	alloc_set_limits(w0, &lim);
	alloc_set_limits(w1, &lim);
	CHECK_INT(alloc_new(w0, &t1, "alice", key, tid, 0, 600000, &a1), 0);
	CHECK_INT(alloc_new(w1, &t2, "alice", key, tid, 0, 600000, &a2), 0);
	/* alice's third, on either table: 486. */
	CHECK_INT(alloc_new(w0, &t3, "alice", key, tid, 0, 600000, &a3), 486);
	CHECK_INT(alloc_new(w1, &t3, "alice", key, tid, 0, 600000, &a3), 486);
	CHECK(alloc_find(w0, &t2) == NULL && alloc_find(w1, &t2) == a2);
	CHECK_INT(alloc_count(w0), 1);
	CHECK_INT(alloc_count(w1), 1);
	CHECK_INT(alloc_quota_count(q), 2);
	/* Four in all over both tables, then 508. */
	CHECK_INT(alloc_new(w0, &t3, "bob", key, tid, 0, 600000, &a3), 0);
	CHECK_INT(alloc_new(w1, &t3, "carol", key, tid, 0, 600000, &a4), 0);
	CHECK_INT(alloc_new(w1, &t1, "dave", key, tid, 0, 600000, &a5), 508);
	/* Freed on one table, alice's quota is back for the other. */
	alloc_free(w1, a2);
	CHECK_INT(alloc_new(w0, &t2, "alice", key, tid, 0, 600000, &a2), 0);
	CHECK_STR(alloc_username(a2), "alice");
	alloc_table_free(w0, NULL, NULL);
	CHECK_INT(alloc_quota_count(q), 1);
	alloc_table_free(w1, NULL, NULL);
	CHECK_INT(alloc_quota_count(q), 0);
	alloc_quota_free(q);
}

struct churn {
	struct alloc_table *t;
	unsigned int base, failed;
};

static void *
churn_main(void *arg)
{
	struct churn *c = arg;

	for (unsigned int i = 0; i < 20000; i++) {
		struct alloc_tuple tu = tuple("192.0.2.9", c->base + i % 50, 0);
		struct alloc *a;

		if (alloc_new(c->t, &tu, i % 2 ? "alice" : "bob", key, tid, 0,
			      1000, &a) != 0) {
			c->failed++;
			continue;
		}
		alloc_free(c->t, a);
	}
	return NULL;
}

static void
test_shared_quota_threads(void)
{
	struct alloc_quota *q = alloc_quota_new(hkey);
	struct alloc_limits lim = { 0 };
	struct churn c[2] = { { NULL, 1000, 0 }, { NULL, 2000, 0 } };
	pthread_t th[2];

	for (int i = 0; i < 2; i++) {
		c[i].t = alloc_table_new_shared(hkey, q);
		alloc_set_limits(c[i].t, &lim);
		CHECK_INT(pthread_create(&th[i], NULL, churn_main, &c[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(c[i].failed, 0);
		alloc_table_free(c[i].t, NULL, NULL);
	}
	CHECK_INT(alloc_quota_count(q), 0);
	alloc_quota_free(q);
}

static void
test_permissions(void)
{
	struct alloc_table *t = alloc_table_new(hkey);
	struct alloc_limits lim = { .max_permissions = 2 };
	struct alloc_tuple t1 = tuple("192.0.2.1", 1000, 0);
	struct alloc_tuple t2 = tuple("192.0.2.2", 1000, 0);
	struct addr_key p1 = addr("203.0.113.5", 5000);
	struct addr_key p1other = addr("203.0.113.5", 6000);
	struct addr_key p2 = addr("2001:db8::5", 5000);
	struct addr_key p3 = addr("203.0.113.6", 5000);
	struct alloc *a, *b;

	alloc_set_limits(t, &lim);
	alloc_new(t, &t1, "alice", key, tid, 0, 3600000, &a);
	alloc_new(t, &t2, "bob", key, tid, 0, 3600000, &b);
	CHECK(!alloc_perm_ok(t, a, &p1, 0));
	CHECK_INT(alloc_perm_add(t, a, &p1, 1000), 0);
	/* Permissions are by IP, any port; and per allocation. */
	CHECK(alloc_perm_ok(t, a, &p1, 1000));
	CHECK(alloc_perm_ok(t, a, &p1other, 1000));
	CHECK(!alloc_perm_ok(t, b, &p1, 1000));
	CHECK_INT(alloc_perm_add(t, a, &p2, 1000), 0);
	CHECK(alloc_perm_ok(t, a, &p2, 1000));
	/* The third is over max_permissions; refreshing one is not. */
	CHECK_INT(alloc_perm_add(t, a, &p3, 1000), 508);
	CHECK_INT(alloc_perm_add(t, a, &p1, 200000), 0);
	/* 300 s lifetime, from the last refresh. */
	CHECK(alloc_perm_ok(t, a, &p2, 300999));
	CHECK(!alloc_perm_ok(t, a, &p2, 301000));
	CHECK(alloc_perm_ok(t, a, &p1, 499999));
	CHECK(!alloc_perm_ok(t, a, &p1, 500000));
	/* Expiry frees them and makes room. */
	CHECK_INT(alloc_expire(t, 301000, gone_cb, NULL), 0);
	CHECK_INT(a->nperms, 1);
	CHECK_INT(alloc_perm_add(t, a, &p3, 301000), 0);
	alloc_table_free(t, NULL, NULL);
}

static void
test_channels(void)
{
	struct alloc_table *t = alloc_table_new(hkey);
	struct alloc_limits lim = { .max_channels = 2, .max_permissions = 3 };
	struct alloc_tuple t1 = tuple("192.0.2.1", 1000, 0);
	struct addr_key p1 = addr("203.0.113.5", 5000);
	struct addr_key p1b = addr("203.0.113.5", 5001);
	struct addr_key p2 = addr("203.0.113.7", 5000);
	struct addr_key p3 = addr("203.0.113.8", 5000);
	const struct alloc_chan *c;
	struct alloc *a;

	alloc_set_limits(t, &lim);
	alloc_new(t, &t1, "alice", key, tid, 0, 3600000, &a);
	CHECK_INT(alloc_chan_bind(t, a, 0x4000, &p1, 0), 0);
	/* The binding installs a permission for the peer's IP. */
	CHECK(alloc_perm_ok(t, a, &p1, 0));
	c = alloc_chan_by_number(t, a, 0x4000, 0);
	CHECK(c != NULL && memcmp(&c->peer, &p1, sizeof(p1)) == 0);
	CHECK(alloc_chan_by_peer(t, a, &p1, 0) == c);
	/* A channel is bound to a transport address: another port of the
	 * same IP is another peer. */
	CHECK(alloc_chan_by_peer(t, a, &p1b, 0) == NULL);
	/* Rebinding the same pair refreshes it. */
	CHECK_INT(alloc_chan_bind(t, a, 0x4000, &p1, 500000), 0);
	/* The number bound to another peer: 400. */
	CHECK_INT(alloc_chan_bind(t, a, 0x4000, &p2, 500000), 400);
	/* The peer bound to another number: 400. */
	CHECK_INT(alloc_chan_bind(t, a, 0x4001, &p1, 500000), 400);
	CHECK_INT(a->nchans, 1);
	CHECK_INT(alloc_chan_bind(t, a, 0x4001, &p2, 500000), 0);
	/* max_channels. */
	CHECK_INT(alloc_chan_bind(t, a, 0x4002, &p3, 500000), 508);
	CHECK_INT(a->nperms, 2);
	/* 600 s lifetime from the last refresh. */
	CHECK(alloc_chan_by_number(t, a, 0x4000, 1099999) != NULL);
	CHECK(alloc_chan_by_number(t, a, 0x4000, 1100000) == NULL);
	CHECK(alloc_chan_by_peer(t, a, &p1, 1100000) == NULL);
	/* Once expired, the number can go to another peer, even before the
	 * sweep has freed the old binding. */
	CHECK_INT(alloc_chan_bind(t, a, 0x4000, &p3, 1100000), 0);
	c = alloc_chan_by_number(t, a, 0x4000, 1100000);
	CHECK(c != NULL && memcmp(&c->peer, &p3, sizeof(p3)) == 0);
	CHECK_INT(a->nchans, 2);
	alloc_expire(t, 1100001, NULL, NULL); /* 0x4001 expired too */
	CHECK_INT(a->nchans, 1);
	alloc_table_free(t, NULL, NULL);
}

static void
test_lifetimes(void)
{
	struct alloc_table *t = alloc_table_new(hkey);
	struct alloc_limits lim = { 0 };
	struct alloc_tuple t1 = tuple("192.0.2.1", 1000, 0);
	struct alloc_tuple t2 = tuple("192.0.2.1", 1001, 0);
	struct alloc *a, *b;

	alloc_set_limits(t, &lim);
	alloc_new(t, &t1, "alice", key, tid, 1000, 600000, &a);
	alloc_new(t, &t2, "alice", key, tid, 1000, 60000, &b);
	CHECK_INT(a->expires_ms, 601000);
	gone_calls = 0;
	CHECK_INT(alloc_expire(t, 60999, gone_cb, NULL), 0);
	CHECK_INT(alloc_expire(t, 61000, gone_cb, NULL), 1);
	CHECK_INT(gone_calls, 1);
	CHECK(alloc_find(t, &t2) == NULL);
	CHECK(alloc_find(t, &t1) == a);
	CHECK_INT(alloc_count(t), 1);
	alloc_table_free(t, NULL, NULL);
}

static void
test_bandwidth(void)
{
	struct alloc a;

	memset(&a, 0, sizeof(a));
	/* 1000 bytes/s: a second's burst, then refill with time. */
	CHECK(alloc_bw_take(&a, 600, 1000, 10000));
	CHECK(alloc_bw_take(&a, 400, 1000, 10000));
	CHECK(!alloc_bw_take(&a, 1, 1000, 10000));
	CHECK(!alloc_bw_take(&a, 200, 1000, 10100));
	CHECK(alloc_bw_take(&a, 200, 1000, 10200));
	CHECK(alloc_bw_take(&a, 99999, 0, 10200)); /* 0: no limit */
}

static void
test_hash(void)
{
	const uint8_t k1[HTAB_KEY_SIZE] = { 1 }, k2[HTAB_KEY_SIZE] = { 2 };
	unsigned int buckets[64] = { 0 }, max = 0;

	CHECK(htab_hash(k1, "abc", 3) == htab_hash(k1, "abc", 3));
	CHECK(htab_hash(k1, "abc", 3) != htab_hash(k2, "abc", 3));
	CHECK(htab_hash(k1, "abc", 3) != htab_hash(k1, "abd", 3));
	CHECK(htab_hash(k1, "", 0) != htab_hash(k1, "\0", 1));
	/* Sequential ports spread over the buckets. */
	for (unsigned int port = 0; port < 6400; port++) {
		struct alloc_tuple tp = tuple("192.0.2.1", port, 0);

		buckets[htab_hash(k1, &tp, sizeof(tp)) & 63]++;
	}
	for (int i = 0; i < 64; i++)
		max = buckets[i] > max ? buckets[i] : max;
	CHECK(max < 160);
}

static void
test_many(void)
{
	struct alloc_table *t = alloc_table_new(hkey);
	struct alloc_limits lim = { 0 };
	struct alloc *a;
	char ip[32];
	int found = 0;

	/* Growth keeps every entry findable. */
	alloc_set_limits(t, &lim);
	for (int i = 0; i < 5000; i++) {
		struct alloc_tuple tp;

		snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 256, i % 256);
		tp = tuple(ip, 1000, 0);
		alloc_new(t, &tp, i % 2 ? "odd" : "even", key, tid, 0, 1000,
			  &a);
		alloc_perm_add(t, a, &tp.client, 0);
	}
	for (int i = 0; i < 5000; i++) {
		struct alloc_tuple tp;

		snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 256, i % 256);
		tp = tuple(ip, 1000, 0);
		a = alloc_find(t, &tp);
		found += a != NULL && alloc_perm_ok(t, a, &tp.client, 0);
	}
	CHECK_INT(found, 5000);
	CHECK_INT(alloc_expire(t, 1000, NULL, NULL), 5000);
	CHECK_INT(alloc_count(t), 0);
	alloc_table_free(t, NULL, NULL);
}

int
main(void)
{
	test_tuples_and_quotas();
	test_shared_quota();
	test_shared_quota_threads();
	test_permissions();
	test_channels();
	test_lifetimes();
	test_bandwidth();
	test_hash();
	test_many();
	return unit_done("test_alloc");
}
