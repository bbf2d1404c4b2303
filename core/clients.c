/* Per-client connection counts. See clients.h. A chained hash table: entries
 * live only while their client has a connection, so it never holds more
 * entries than there are connections. */
#include "clients.h"

#include <stdlib.h>
#include <string.h>

struct client_count {
    client_key key;
    size_t n;
    client_count *next;
};

static size_t bucket_of(const client_key *k)
{
    uint32_t h = 2166136261u ^ k->kind; /* FNV-1a */
    for (size_t i = 0; i < sizeof(k->addr); i++)
        h = (h ^ k->addr[i]) * 16777619u;
    return h % CLIENTS_BUCKETS;
}

static client_count **find(clients *t, const client_key *k)
{
    client_count **pp = &t->bucket[bucket_of(k)];
    while (*pp && memcmp(&(*pp)->key, k, sizeof(*k)) != 0)
        pp = &(*pp)->next;
    return pp;
}

bool clients_enter(clients *t, const client_key *k, size_t limit)
{
    client_count **pp = find(t, k);
    if (*pp) {
        if (limit && (*pp)->n >= limit)
            return false;
        (*pp)->n++;
        return true;
    }
    client_count *e = calloc(1, sizeof(*e));
    if (!e)
        return false;
    e->key = *k;
    e->n = 1;
    *pp = e;
    return true;
}

void clients_leave(clients *t, const client_key *k)
{
    client_count **pp = find(t, k), *e = *pp;
    if (!e)
        return;
    if (--e->n == 0) {
        *pp = e->next;
        free(e);
    }
}

void clients_clear(clients *t)
{
    for (size_t i = 0; i < CLIENTS_BUCKETS; i++) {
        while (t->bucket[i]) {
            client_count *e = t->bucket[i];
            t->bucket[i] = e->next;
            free(e);
        }
    }
}
