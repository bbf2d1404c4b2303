/* Connections per client (SOCKET_PROXY_MAX_CLIENT_CONNS): a Unix peer is its
 * uid, a TCP peer its address, so one client cannot take every slot. */
#ifndef CORE_CLIENTS_H
#define CORE_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct client_key {
    uint8_t kind;      /* CLIENT_UID, CLIENT_V4, CLIENT_V6 */
    uint8_t addr[16];  /* the uid (4 bytes), or the address */
} client_key;

enum { CLIENT_NONE = 0, CLIENT_UID = 1, CLIENT_V4 = 4, CLIENT_V6 = 6 };

typedef struct client_count client_count;

#define CLIENTS_BUCKETS 1024

typedef struct clients {
    client_count *bucket[CLIENTS_BUCKETS];
} clients;

/* Counts one more connection of k. Returns false (and counts nothing) when k
 * already has `limit` of them (0: no limit) or memory is short. */
bool clients_enter(clients *t, const client_key *k, size_t limit);

/* One connection of k is gone. */
void clients_leave(clients *t, const client_key *k);

/* Frees every entry (at exit). */
void clients_clear(clients *t);

#endif
