/* Admission: who may connect to a listener.
 *
 * TCP listeners: SOCKET_PROXY_ALLOW_FROM (or <NAME>__ALLOW_FROM), a list of
 * addresses, CIDRs and host names; a name admits whatever it resolves to now,
 * resolved on the loop at start, every 30 s and when a client misses.
 * Unix listeners: <NAME>__PEER_UIDS / <NAME>__PEER_GIDS (SOCKET_PROXY_PEER_UIDS
 * / _GIDS for the default socket), matched against the peer's credentials.
 *
 * Two files: core/admit.c is pure (parsing, matching, what a resolution
 * result does to a name: unit-tested without a loop), core/admit_resolve.c
 * holds admit_from, the libuv part (resolutions, timers, waiting clients). */
#ifndef CORE_ADMIT_H
#define CORE_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netdb.h>
#include <sys/socket.h>
#include <uv.h>

/* ==== TCP sources: admit_from (core/admit_resolve.c) ==================== */

typedef struct admit_from admit_from;

/* Parses spec, the value of the variable var ("SOCKET_PROXY_ALLOW_FROM",
 * "TRAEFIK__ALLOW_FROM"): addresses, CIDRs and host names, comma-separated.
 * An unset or empty variable means anyone: the caller creates no admit_from
 * then (an empty spec is an error here, since a list without entries would
 * admit no one). Returns NULL with one line in err on a mistake or when
 * memory is short. Needs no loop: config can call it at load time. */
admit_from *admit_from_parse(const char *var, const char *spec, char *err, size_t errlen);

/* Starts resolving the host names (if any) on loop, now and every 30 s.
 * Until it is called, admit_from_check answers from the addresses and CIDRs
 * alone (a name admits nothing before its first resolution). */
void admit_from_start(admit_from *a, uv_loop_t *loop);

typedef enum { ADMIT_YES, ADMIT_NO, ADMIT_WAIT } admit_result;

/* Decides the peer sa (AF_INET, or AF_INET6; an IPv4-mapped IPv6 peer, as
 * a dual-stack [::] socket sees IPv4 clients, is its IPv4 address).
 * ADMIT_YES/ADMIT_NO: decided now, done is not called. ADMIT_WAIT: a miss
 * while host names exist; a re-resolution of the names runs (rate-limited)
 * and done(data, yes) is called exactly once, from the loop and never from
 * within this call, when the names that were asked for are resolved, or
 * with yes = false after 2 s at the most, unless admit_from_cancel(a, data)
 * comes first. The connection behind data must stay alive until then. */
admit_result admit_from_check(admit_from *a, const struct sockaddr *sa, void (*done)(void *data, bool yes), void *data);

/* Whether the peer sa is admitted by a's entries as they stand, without
 * resolving or waiting: for a refusal at accept, which must tell a peer
 * that ALLOW_FROM would not admit nothing (not even that a limit is hit). */
bool admit_from_admits(const admit_from *a, const struct sockaddr *sa);

/* Forgets every pending check made with data: its done is not called.
 * A no-op when there is none (the check already answered). */
void admit_from_cancel(admit_from *a, void *data);

/* The ALLOW_FROM name the peer's address resolves back to as things stand
 * (learn mode names its clients so), or NULL. */
const char *admit_from_name_of(const admit_from *a, const struct sockaddr *sa);

/* Stops the timers, cancels the resolutions not yet running and answers
 * every pending check with done(data, false); a itself is freed once libuv
 * has finished with its handles and requests (a resolution already running
 * in libuv's thread pool is waited for). Call it before anything that
 * closes every handle of the loop (server_run's uv_walk): a handle closed
 * there would never tell a it is closed. Safe to call from within done.
 * NULL is allowed; a never started is freed at once. */
void admit_from_close(admit_from *a);

/* For the start-up line: "10.0.0.0/8, ::1, traefik (172.18.0.5)": the
 * addresses and CIDRs, then the names with what they resolve to now.
 * Returns the length written (at most cap - 1; cap > 0). */
size_t admit_from_text(const admit_from *a, char *out, size_t cap);

/* ==== Unix peers: admit_ids (core/admit.c) ============================== */

#define ADMIT_MAX_IDS 32

typedef struct admit_ids {
    unsigned n_uids, n_gids;
    uint32_t uids[ADMIT_MAX_IDS], gids[ADMIT_MAX_IDS];
} admit_ids;

/* Parses the two lists (NULL or "" when unset): numbers 0..4294967294,
 * comma-separated. Returns 0, or -1 with one line in err naming the
 * variable. */
int admit_ids_parse(admit_ids *a, const char *uid_var, const char *uids, const char *gid_var, const char *gids,
                    char *err, size_t errlen);

/* false: neither list is set, anyone may connect. */
bool admit_ids_any(const admit_ids *a);

/* The peer (SO_PEERCRED: its effective uid and gid when it connected;
 * supplementary groups are not seen) matches when its uid is in the uid
 * list or its gid in the gid list; a list that is not set matches no one,
 * and with neither set everyone matches. */
bool admit_ids_match(const admit_ids *a, uint32_t uid, uint32_t gid);

/* ==== The pure part of admit_from (core/admit.c), for admit_resolve.c and
 * the unit tests ========================================================= */

#define ADMIT_MAX_ENTRIES 64   /* a list's entries: addresses, CIDRs and names */
#define ADMIT_MAX_ADDRS 16     /* addresses kept per name */
#define ADMIT_REFRESH_MS 30000 /* every name is resolved again this often */
#define ADMIT_GAP_MS 1000      /* a miss resolves a name at most this often */
#define ADMIT_WAIT_MS 2000     /* a check waits at most this long */
#define ADMIT_KEEP_MS 60000    /* a transient failure keeps addresses younger than this */

/* An address (bits = 32 or 128) or a network. IPv4 is family 4 with the
 * address in addr[0..3]; an IPv4-mapped IPv6 address is always made family
 * 4, so "::ffff:10.0.0.5" and "10.0.0.5" are one address, and IPv6
 * networks (even ::/0) never match IPv4 clients. */
typedef struct admit_net {
    uint8_t family; /* 4 or 6 */
    uint8_t bits;   /* the prefix length */
    uint8_t addr[16];
} admit_net;

typedef enum {
    ADMIT_NAME_NEW,  /* not resolved yet: admits nothing */
    ADMIT_NAME_OK,   /* the last resolution gave addrs */
    ADMIT_NAME_KEPT, /* a transient failure since: addrs kept, confirmed_ms is their age */
    ADMIT_NAME_NONE, /* does not resolve (or only stale addresses were left): admits nothing */
} admit_name_state;

typedef struct admit_name {
    char host[254];
    admit_name_state state;
    unsigned n_addrs;
    admit_net addrs[ADMIT_MAX_ADDRS];
    uint64_t confirmed_ms; /* when addrs were last resolved */
    uint64_t done_ms;      /* when the last resolution finished (the miss gap) */
    bool busy;             /* a resolution is in flight */
    bool wanted;           /* one is asked for and waits for the gap */
} admit_name;

typedef struct admit_set {
    unsigned n_nets, n_names;
    admit_net nets[ADMIT_MAX_ENTRIES];
    admit_name *names; /* n_names of them */
} admit_set;

/* Fills s (which the caller zeroes); -1 with one line in err on a mistake.
 * A name listed twice is kept once. admit_set_free frees s->names. */
int admit_set_parse(admit_set *s, const char *var, const char *spec, char *err, size_t errlen);
void admit_set_free(admit_set *s);

/* The address of a peer; false for a family other than AF_INET/AF_INET6. */
bool admit_addr_of(const struct sockaddr *sa, admit_net *out);

/* addr (a full-length address) lies in net. */
bool admit_net_has(const admit_net *net, const admit_net *addr);

/* addr is admitted by s as it stands: one of its networks or one of the
 * current addresses of its names holds it. */
bool admit_set_match(const admit_set *s, const admit_net *addr);

/* The first name of s whose current addresses hold addr, or NULL. */
const char *admit_set_name_of(const admit_set *s, const admit_net *addr);

/* The addresses of a getaddrinfo answer, duplicates dropped, at most cap. */
unsigned admit_addrs_from(const struct addrinfo *ai, admit_net *out, unsigned cap);

typedef enum {
    ADMIT_RESOLVED,  /* addrs hold what the name is now (n may be 0) */
    ADMIT_NO_SUCH,   /* a definitive answer: the name does not exist or has no address */
    ADMIT_TRANSIENT, /* no answer (the resolver failed or timed out) */
} admit_outcome;

/* A resolution of n finished at now_ms: clears busy, records done_ms and
 * applies the stale-address policy (see admit.c). Returns true when the
 * state or the addresses changed: a log line is due. */
bool admit_name_result(admit_name *n, admit_outcome outcome, const admit_net *addrs, unsigned n_addrs,
                       uint64_t now_ms);

/* When a miss may next start a resolution of n (the ADMIT_GAP_MS rate limit):
 * 0 for a name never resolved. */
uint64_t admit_name_due(const admit_name *n);

/* "172.18.0.5, fd00::5" (the name's addresses) or "10.0.0.0/8" (one net).
 * Both return the length written, at most cap - 1 (cap > 0). */
size_t admit_addrs_text(const admit_name *n, char *out, size_t cap);
size_t admit_net_text(const admit_net *net, char *out, size_t cap);

/* See admit_from_text. */
size_t admit_set_text(const admit_set *s, char *out, size_t cap);

#endif
