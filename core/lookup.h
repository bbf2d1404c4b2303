/* lookup: one small question to the daemon, asked on the loop.
 *
 * The proxy sometimes needs a fact only the daemon knows before it can judge
 * a request: the host network's ID, for a service that names networks by ID
 * (`docker service create --network host` sends the ID), or a container's
 * labels before a scoped request may name it. A lookup is one `GET target`
 * to the daemon's Unix socket, bounded in time (connect, write and read
 * together) and in size, answered through a callback while the caller holds
 * its request. No thread, no blocking call; the answer is read with http1's
 * strict response parser.
 *
 * Lookups share a pool of idle keep-alive connections to the daemon: a
 * scoped profile asks before every request that names a container, and a
 * fresh connection per question (accept, a goroutine, close) costs the
 * daemon more than the question. A connection is kept only after an answer
 * that ended cleanly where its framing said; an idle one that hears anything
 * (EOF included: the daemon restarted) or waits too long is closed. The
 * proxy's own daemon connections come from the same pool and go back to it
 * (lookup_pool_take_pipe and the rest, below): a client that connects for one
 * GET then finds a connection another client, or a lookup, left.
 */
#ifndef CORE_LOOKUP_H
#define CORE_LOOKUP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct lookup lookup;
typedef struct lookup_pool lookup_pool;

/* A pool for lookups to the daemon's Unix socket at upstream (copied),
 * keeping at most max_idle idle connections, each for at most idle_ms. With
 * max_idle 0 nothing is kept and every request says `Connection: close`.
 * Idle connections do not keep the loop alive. NULL when memory runs out. */
lookup_pool *lookup_pool_new(uv_loop_t *loop, const char *upstream, unsigned max_idle, uint64_t idle_ms);

/* Closes the idle connections; lookups in flight stay valid until they end
 * (their connections are then closed, not kept). The memory goes with the
 * last close callback, so the loop must run on. No lookup_start on p after
 * this. NULL is a no-op. */
void lookup_pool_close(lookup_pool *p);

/* Idle connections in the pool now (for tests and metrics). */
unsigned lookup_pool_idle(const lookup_pool *p);

/* The proxy's plain requests share the pool's connections (core/proxy.c).
 * A connection it takes is reading, with data, alloc and read as its
 * pipe's data and read callbacks; it is the proxy's until it gives it back
 * (after an answer that ended cleanly, nothing written or read half) or
 * closes it. take: an idle connection, newest first, or NULL; open: a new
 * one on the connected descriptor fd (closed on failure: NULL, *rc set). */
uv_pipe_t *lookup_pool_take_pipe(lookup_pool *p, void *data, uv_alloc_cb alloc, uv_read_cb read);
uv_pipe_t *lookup_pool_open_pipe(lookup_pool *p, int fd, void *data, uv_alloc_cb alloc, uv_read_cb read, int *rc);
/* Kept as an idle connection when the pool has room (not after
 * lookup_pool_close), closed otherwise. No write may be in flight. */
void lookup_pool_put_pipe(uv_pipe_t *pipe);
/* Closes it; cb(pipe) is called from its close callback, before its memory
 * goes. */
void lookup_pool_close_pipe(uv_pipe_t *pipe, uv_close_cb cb);

/* status: the HTTP status of the final answer (200, 404, ...; 1xx answers
 * are skipped), or a negative libuv error: UV_ETIMEDOUT when the deadline
 * passed (a daemon whose listen backlog stays full included), UV_EPROTO for
 * an answer that is malformed, cut short, a 101, or has a body over max_body,
 * the connect error (UV_ENOENT, UV_ECONNREFUSED, UV_EACCES, UV_ENAMETOOLONG),
 * UV_EINVAL for a target (not "/...") or key that cannot go into a request
 * head, or a read or write error. body[0..len) is the decoded body
 * (Content-Length, chunked or up to the end of the connection),
 * NUL-terminated at body[len]; "" and 0 when there is none or status is an
 * error. It is valid only during the call. */
typedef void (*lookup_cb)(void *arg, int status, const char *body, size_t len);

/* Takes an idle connection from pool, or connects to its Unix socket, and
 * sends
 *   GET <target> HTTP/1.1, Host: docker
 * then `Connection: close` when the pool keeps nothing, and X-Api-Key:
 * <api_key> when api_key is not NULL, nothing else. When an idle connection
 * turns out closed (EOF, ECONNRESET or EPIPE before the answer's first byte:
 * the daemon may close it just as we write), the GET is sent once more on a
 * new connection, within the same deadline. cb is called exactly once, on a
 * later turn of the loop (never from within lookup_start), unless the lookup
 * is cancelled first. Returns NULL, and never calls cb, when memory runs
 * out. */
lookup *lookup_start(lookup_pool *pool, const char *target, const char *api_key, uint64_t timeout_ms,
                     size_t max_body, lookup_cb cb, void *arg);

/* The caller goes away: cb is never called. The handles close and the memory
 * is freed by the loop's close callbacks, so the loop must run on. Allowed
 * at any time before cb is called, and a no-op from within cb; never after cb
 * has returned (l is gone). NULL is a no-op. */
void lookup_cancel(lookup *l);

/* The top-level member `name` of a JSON object body[0..len), when it is a
 * string (matched case-sensitively, as the daemon writes it; the first of
 * duplicates), copied into out with its NUL. Returns 0, or -1 when the body
 * is not a JSON object, the member is missing or not a string, or it does not
 * fit in outlen bytes. The string may be empty. For a network inspect answer:
 * lookup_json_string(body, len, "Id", id, sizeof(id)). */
int lookup_json_string(const char *body, size_t len, const char *name, char *out, size_t outlen);

#endif
