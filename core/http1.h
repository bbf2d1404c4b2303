/* HTTP/1.1 framing: request and response heads, chunked bodies.
 *
 * Pure functions over bytes (no libuv, no allocation), in the style of
 * picohttpparser: results point into the caller's buffer. Strict on requests
 * (anything ambiguous is an error with the status to answer), tolerant only
 * where the daemon's own answers need it (response trailers).
 */
#ifndef CORE_HTTP1_H
#define CORE_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define H1_INCOMPLETE 0  /* need more bytes */
#define H1_ERROR (-1)    /* see ->status and ->error */

#define H1_MAX_HEADERS 128

typedef struct {
    const char *p;
    size_t n;
} h1_str;

typedef struct {
    h1_str method;
    h1_str target;
    int minor;               /* HTTP/1.<minor> */
    int64_t content_length;  /* -1 when absent */
    bool chunked;
    bool conn_close;         /* Connection: close, or HTTP/1.0 without keep-alive */
    bool expect_continue;    /* Expect: 100-continue (the only expectation accepted) */
    h1_str host;
    /* On H1_ERROR: the status to answer (400, 431, 501, 505) and why. */
    int status;
    const char *error;
} h1_request;

/* Parses a request head from buf[0..len). Returns the head length (bytes up to
 * and including the blank line), H1_INCOMPLETE, or H1_ERROR. A head that does
 * not end within max_head bytes is an error with status 431. Errors that are
 * visible before the head ends (bare LF, NUL, a bad request line) are reported
 * as soon as the bytes arrive, so a hostile client cannot park a bad head; the
 * first bad byte decides, so the answer does not depend on where reads end. */
ssize_t h1_parse_request(const char *buf, size_t len, size_t max_head, h1_request *req);

/* How far h1_parse_request_resume has checked an unfinished head, as offsets
 * from the head's first byte (never pointers: the caller may move the bytes).
 * All zero is a fresh start, so a zeroed struct is ready to use. */
typedef struct h1_progress {
    size_t target_seen;  /* request-target bytes known valid, up to here */
    size_t line;         /* start of the head line not yet ended by its LF */
    size_t seen;         /* bytes the head-end scan has checked */
} h1_progress;

/* Starts over: before the first byte of every new head. */
void h1_progress_init(h1_progress *prog);

/* h1_parse_request for a head that arrives in pieces: the same result, req
 * fields, status and error as h1_parse_request(buf, len, max_head, req), but
 * only the bytes added since the last call are examined until the head is
 * complete (then the head is parsed once, in full). buf[0..len) must hold,
 * unchanged, the bytes of the previous call with the same prog (a shorter len
 * starts over). After anything other than H1_INCOMPLETE, call
 * h1_progress_init before the next head. */
ssize_t h1_parse_request_resume(const char *buf, size_t len, size_t max_head, h1_request *req,
                                h1_progress *prog);

typedef struct {
    int status;              /* 100..999 */
    int minor;
    int64_t content_length;  /* -1 when absent */
    bool chunked;
    bool conn_close;
    bool docker_stream;      /* Content-Type: application/vnd.docker.{raw,multiplexed}-stream */
    const char *error;
} h1_response;

ssize_t h1_parse_response(const char *buf, size_t len, size_t max_head, h1_response *res);

/* Chunked transfer coding, tracked byte by byte so the proxy always knows
 * where a body ends. The bytes themselves are forwarded unchanged. */
typedef struct {
    int state;
    int digits;
    uint64_t size;           /* remaining bytes of the current chunk */
    size_t trailer_bytes;
    bool allow_trailers;     /* responses may carry trailers; requests may not */
    const char *error;
} h1_chunked;

void h1_chunked_init(h1_chunked *c, bool allow_trailers);

/* Consumes bytes of a chunked body. Returns how many of the len bytes belong
 * to the body (all of them unless the body ends inside p), or -1 on a framing
 * error (c->error says why). *done is set once the final CRLF is consumed. */
ssize_t h1_chunked_feed(h1_chunked *c, const char *p, size_t len, bool *done);

/* Where a message body ends (RFC 9112 section 6), one type for both
 * directions: the proxy forwards body bytes unchanged and uses this only to
 * know how many of them belong to the current message. */
typedef enum {
    H1_BODY_NONE,    /* no body: the message ended with its head */
    H1_BODY_LENGTH,  /* Content-Length: `left` bytes still to come */
    H1_BODY_CHUNKED, /* chunked transfer coding, tracked by `ch` */
    H1_BODY_CLOSE,   /* to the end of the connection: a response without a
                      * length, or either direction of a tunnel */
} h1_body_mode;

typedef struct {
    h1_body_mode mode;
    uint64_t left;
    h1_chunked ch;
    const char *error;       /* after h1_body_feed returned -1 */
} h1_body;

/* The body that follows a valid request head (never CLOSE: a request body
 * is delimited). */
void h1_body_request(h1_body *b, const h1_request *req);
/* The body that follows a final (>= 200) response head; `to_head` when the
 * request was HEAD (RFC 9110 9.3.2: no body, whatever the head says). 204 and
 * 304 have none either. Interim and switching heads are the caller's. */
void h1_body_response(h1_body *b, const h1_response *res, bool to_head);
/* Bytes to the end of the connection: each direction of a tunnel. */
void h1_body_close(h1_body *b);

/* Consumes body bytes p[0..len). Returns how many belong to the body (all of
 * them unless it ends inside p), or -1 on a framing error (b->error says why;
 * no byte of p may be forwarded, and every later call fails too). *done is set once
 * the body has ended (at once for NONE and for a zero length; never for CLOSE,
 * which ends with the connection). */
ssize_t h1_body_feed(h1_body *b, const char *p, size_t len, bool *done);

/* Counts len bytes of a Content-Length body or of a tunnel that the caller
 * moved without looking at them (never chunked: those bytes are read). */
void h1_body_take(h1_body *b, size_t len, bool *done);

/* h1_body_feed that also copies the body's data to out (room for len
 * bytes), without chunked framing: *outlen bytes. What a judged body or a
 * redacted answer is read whole with, before it is re-framed by length. */
ssize_t h1_body_decode(h1_body *b, const char *p, size_t len, char *out, size_t *outlen, bool *done);

/* Case-insensitive comparison of a token with a NUL-terminated lowercase word. */
bool h1_token_eq(const char *p, size_t n, const char *lower);

#endif
