/* Table-driven tests of the HTTP/1.1 request/response parsers and the
 * chunked framing machine: a row per case, every rejection included. */
#include <string.h>

#include "core/http1.h"
#include "unit.h"

#define OK_ 1     /* complete head */
#define MORE 0    /* incomplete */
#define ERR (-1)

typedef struct {
    const char *name;
    const char *raw;
    int expect;       /* OK_, MORE, ERR */
    int status;       /* for ERR */
    long long cl;     /* for OK_: expected content_length */
    int chunked, close, upgrade;
} req_row;

#define H "Host: docker\r\n"

static const req_row req_rows[] = {
    {"simple get", "GET /_ping HTTP/1.1\r\n" H "\r\n", OK_, 0, -1, 0, 0, 0},
    {"head", "HEAD /_ping HTTP/1.1\r\n" H "\r\n", OK_, 0, -1, 0, 0, 0},
    {"http/1.0 closes", "GET /_ping HTTP/1.0\r\n\r\n", OK_, 0, -1, 0, 1, 0},
    {"http/1.0 keep-alive", "GET /_ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", OK_, 0, -1, 0, 0, 0},
    {"connection close", "GET / HTTP/1.1\r\n" H "Connection: close\r\n\r\n", OK_, 0, -1, 0, 1, 0},
    {"connection list", "GET / HTTP/1.1\r\n" H "Connection: keep-alive, Close\r\n\r\n", OK_, 0, -1, 0, 1, 0},
    {"content-length", "POST /x HTTP/1.1\r\n" H "Content-Length: 12\r\n\r\n", OK_, 0, 12, 0, 0, 0},
    {"content-length 0", "POST /x HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n", OK_, 0, 0, 0, 0, 0},
    {"chunked", "POST /x HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n", OK_, 0, -1, 1, 0, 0},
    {"chunked any case", "POST /x HTTP/1.1\r\n" H "transfer-encoding: Chunked\r\n\r\n", OK_, 0, -1, 1, 0, 0},
    {"upgrade", "POST /exec/x/start HTTP/1.1\r\n" H "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n", OK_, 0, -1, 0, 0, 1},
    {"upgrade header without token", "GET / HTTP/1.1\r\n" H "Upgrade: tcp\r\n\r\n", OK_, 0, -1, 0, 0, 0},
    {"ows around value", "GET / HTTP/1.1\r\nHost:   docker  \r\n\r\n", OK_, 0, -1, 0, 0, 0},
    {"empty value", "GET / HTTP/1.1\r\n" H "X-Empty:\r\n\r\n", OK_, 0, -1, 0, 0, 0},
    {"obs-text value", "GET / HTTP/1.1\r\n" H "X-Utf: caf\xc3\xa9\r\n\r\n", OK_, 0, -1, 0, 0, 0},
    {"expect 100", "POST /x HTTP/1.1\r\n" H "Expect: 100-continue\r\nContent-Length: 1\r\n\r\n", OK_, 0, 1, 0, 0, 0},
    {"query", "GET /containers/json?all=1&filters=%7B%7D HTTP/1.1\r\n" H "\r\n", OK_, 0, -1, 0, 0, 0},

    {"partial line", "GET /_pi", MORE, 0, 0, 0, 0, 0},
    {"partial version", "GET / HTTP/1.", MORE, 0, 0, 0, 0, 0},
    {"partial head", "GET / HTTP/1.1\r\nHost: x\r\n", MORE, 0, 0, 0, 0, 0},
    {"partial cr", "GET / HTTP/1.1\r\nHost: x\r\n\r", MORE, 0, 0, 0, 0, 0},

    {"CL and TE", "POST /x HTTP/1.1\r\n" H "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", ERR, 400},
    {"TE and CL", "POST /x HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", ERR, 400},
    {"duplicate CL same", "POST /x HTTP/1.1\r\n" H "Content-Length: 3\r\nContent-Length: 3\r\n\r\n", ERR, 400},
    {"duplicate CL differ", "POST /x HTTP/1.1\r\n" H "Content-Length: 3\r\nContent-Length: 4\r\n\r\n", ERR, 400},
    {"CL list", "POST /x HTTP/1.1\r\n" H "Content-Length: 3, 3\r\n\r\n", ERR, 400},
    {"CL plus sign", "POST /x HTTP/1.1\r\n" H "Content-Length: +3\r\n\r\n", ERR, 400},
    {"CL minus", "POST /x HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n", ERR, 400},
    {"CL inner space", "POST /x HTTP/1.1\r\n" H "Content-Length: 1 2\r\n\r\n", ERR, 400},
    {"CL hex", "POST /x HTTP/1.1\r\n" H "Content-Length: 0x10\r\n\r\n", ERR, 400},
    {"CL empty", "POST /x HTTP/1.1\r\n" H "Content-Length:\r\n\r\n", ERR, 400},
    {"CL overflow", "POST /x HTTP/1.1\r\n" H "Content-Length: 99999999999999999999\r\n\r\n", ERR, 400},
    {"TE gzip", "POST /x HTTP/1.1\r\n" H "Transfer-Encoding: gzip, chunked\r\n\r\n", ERR, 400},
    {"TE identity", "POST /x HTTP/1.1\r\n" H "Transfer-Encoding: identity\r\n\r\n", ERR, 400},
    {"TE chunked twice in list", "POST /x HTTP/1.1\r\n" H "Transfer-Encoding: chunked, chunked\r\n\r\n", ERR, 400},
    {"TE duplicate header", "POST /x HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", ERR, 400},
    {"TE with vertical tab", "POST /x HTTP/1.1\r\n" H "Transfer-Encoding: \x0b" "chunked\r\n\r\n", ERR, 400},
    {"TE space before colon", "POST /x HTTP/1.1\r\n" H "Transfer-Encoding : chunked\r\n\r\n", ERR, 400},
    {"TE in HTTP/1.0", "POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", ERR, 400},
    {"obs-fold", "GET / HTTP/1.1\r\n" H "X-A: a\r\n b\r\n\r\n", ERR, 400},
    {"obs-fold tab", "GET / HTTP/1.1\r\n" H "X-A: a\r\n\tb\r\n\r\n", ERR, 400},
    {"bare LF head", "GET / HTTP/1.1\n" H "\r\n", ERR, 400},
    {"bare LF in header", "GET / HTTP/1.1\r\nHost: x\n\r\n", ERR, 400},
    {"bare LF end", "GET / HTTP/1.1\r\nHost: x\r\n\n", ERR, 400},
    {"bare CR", "GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", ERR, 400},
    {"bare CR early", "GET / HTTP/1.1\rX", ERR, 400},
    {"NUL in value", "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", ERR, 400},
    {"control in value", "GET / HTTP/1.1\r\nHost: a\x01" "b\r\n\r\n", ERR, 400},
    {"DEL in value", "GET / HTTP/1.1\r\nHost: a\x7f" "b\r\n\r\n", ERR, 400},
    {"space in name", "GET / HTTP/1.1\r\n" H "X A: b\r\n\r\n", ERR, 400},
    {"no colon", "GET / HTTP/1.1\r\n" H "Xab\r\n\r\n", ERR, 400},
    {"empty name", "GET / HTTP/1.1\r\n" H ": b\r\n\r\n", ERR, 400},
    {"missing host 1.1", "GET / HTTP/1.1\r\n\r\n", ERR, 400},
    {"duplicate host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", ERR, 400},
    {"absolute-form", "GET http://docker/containers/json HTTP/1.1\r\n" H "\r\n", ERR, 400},
    {"authority-form", "CONNECT docker:2375 HTTP/1.1\r\n" H "\r\n", ERR, 501},
    {"asterisk", "OPTIONS * HTTP/1.1\r\n" H "\r\n", ERR, 400},
    {"fragment", "GET /_ping#x HTTP/1.1\r\n" H "\r\n", ERR, 400},
    {"lowercase method", "get /_ping HTTP/1.1\r\n" H "\r\n", ERR, 501},
    {"unknown method", "FOO /_ping HTTP/1.1\r\n" H "\r\n", ERR, 501},
    {"trace", "TRACE / HTTP/1.1\r\n" H "\r\n", ERR, 501},
    {"leading space", " GET / HTTP/1.1\r\n" H "\r\n", ERR, 400},
    {"leading CRLF", "\r\nGET / HTTP/1.1\r\n" H "\r\n", ERR, 400},
    {"two spaces", "GET  / HTTP/1.1\r\n" H "\r\n", ERR, 400},
    {"tab separator", "GET\t/ HTTP/1.1\r\n" H "\r\n", ERR, 400},
    {"space in target", "GET /a b HTTP/1.1\r\n" H "\r\n", ERR, 400},
    {"8-bit in target", "GET /\xff HTTP/1.1\r\n" H "\r\n", ERR, 400},
    {"NUL in target", "GET /\0 HTTP/1.1\r\n" H "\r\n", ERR, 400},
    {"http/0.9", "GET /\r\n\r\n", ERR, 400},
    {"http/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", ERR, 501},
    {"http/2.0 version", "GET / HTTP/2.0\r\n" H "\r\n", ERR, 505},
    {"http/1.2", "GET / HTTP/1.2\r\n" H "\r\n", ERR, 505},
    {"lowercase http", "GET / http/1.1\r\n" H "\r\n", ERR, 400},
    {"trailing junk after version", "GET / HTTP/1.1x\r\n" H "\r\n", ERR, 400},
    {"expect other", "POST /x HTTP/1.1\r\n" H "Expect: 200-ok\r\n\r\n", ERR, 417},
};

typedef struct {
    const char *name;
    const char *raw;
    int expect;
    int status;
    long long cl;
    int chunked, close, docker_stream;
} res_row;

static const res_row res_rows[] = {
    {"ok cl", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", OK_, 200, 3, 0, 0, 0},
    {"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", OK_, 200, -1, 1, 0, 0},
    {"no framing", "HTTP/1.1 200 OK\r\n\r\n", OK_, 200, -1, 0, 0, 0},
    {"101", "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", OK_, 101, -1, 0, 0, 1},
    {"multiplexed", "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n\r\n", OK_, 200, -1, 0, 0, 1},
    {"close", "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", OK_, 204, -1, 0, 1, 0},
    {"1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", OK_, 200, 1, 0, 1, 0},
    {"no reason", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", OK_, 200, 0, 0, 0, 0},
    {"100 continue", "HTTP/1.1 100 Continue\r\n\r\n", OK_, 100, -1, 0, 0, 0},
    {"partial", "HTTP/1.1 200 OK\r\nContent-", MORE, 0, 0, 0, 0, 0},
    {"CL+TE", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", ERR, 0},
    {"CL differ", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", ERR, 0},
    {"TE gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", ERR, 0},
    {"bad status", "HTTP/1.1 2x0 OK\r\n\r\n", ERR, 0},
    {"not http", "SSH-2.0-OpenSSH\r\n\r\n", ERR, 0},
    {"bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", ERR, 0},
    {"obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", ERR, 0},
};

typedef struct {
    const char *name;
    const char *in;
    int allow_trailers;
    long consumed;   /* -1: error */
    int done;
} chunk_row;

static const chunk_row chunk_rows[] = {
    {"one chunk", "3\r\nabc\r\n0\r\n\r\n", 0, 13, 1},
    {"two chunks", "1\r\na\r\n2\r\nbc\r\n0\r\n\r\n", 0, 18, 1},
    {"hex upper", "A\r\n0123456789\r\n0\r\n\r\n", 0, 20, 1},
    {"hex lower", "a\r\n0123456789\r\n0\r\n\r\n", 0, 20, 1},
    {"leading zeros", "0003\r\nabc\r\n0\r\n\r\n", 0, 16, 1},
    {"stops at end", "0\r\n\r\nGET / HTTP/1.1\r\n", 0, 5, 1},
    {"partial size", "1", 0, 1, 0},
    {"partial data", "5\r\nab", 0, 5, 0},
    {"empty chunked", "0\r\n\r\n", 0, 5, 1},
    {"chunk ext in request", "3;x=y\r\nabc\r\n0\r\n\r\n", 0, -1, 0},
    {"chunk ext in response", "3;x=y\r\nabc\r\n0\r\n\r\n", 1, 17, 1},
    {"trailer in request", "0\r\nX: y\r\n\r\n", 0, -1, 0},
    {"trailer in response", "0\r\nX: y\r\n\r\n", 1, 11, 1},
    {"size overflow", "10000000000000000\r\n", 0, -1, 0},
    {"negative size", "-1\r\n", 0, -1, 0},
    {"space before size", " 3\r\nabc\r\n0\r\n\r\n", 0, -1, 0},
    {"space after size", "3 \r\nabc\r\n0\r\n\r\n", 0, -1, 0},
    {"0x prefix", "0x3\r\nabc\r\n0\r\n\r\n", 0, -1, 0},
    {"bare LF after size", "3\nabc\r\n0\r\n\r\n", 0, -1, 0},
    {"data too long", "3\r\nabcd\r\n0\r\n\r\n", 0, -1, 0},
    {"bare LF after data", "3\r\nabc\n0\r\n\r\n", 0, -1, 0},
    {"missing final CRLF LF", "0\r\n\rX", 0, -1, 0},
    {"empty size", "\r\nabc", 0, -1, 0},
};

static void test_requests(void)
{
    for (size_t i = 0; i < sizeof(req_rows) / sizeof(req_rows[0]); i++) {
        const req_row *r = &req_rows[i];
        /* Rows may hold NUL bytes: measure up to the table's literal end. */
        size_t len = strlen(r->raw);
        if (strstr(r->name, "NUL"))
            len += 1 + strlen(r->raw + len + 1);
        h1_request req;
        ssize_t n = h1_parse_request(r->raw, len, 65536, &req);
        if (r->expect == OK_) {
            CHECK(n == (ssize_t)len, "%s: expected full head (%zu), got %zd (%s)", r->name, len, n, req.error ? req.error : "");
            if (n > 0) {
                CHECK(req.content_length == r->cl, "%s: content_length %lld != %lld", r->name, (long long)req.content_length, r->cl);
                CHECK(req.chunked == r->chunked, "%s: chunked", r->name);
                CHECK(req.conn_close == r->close, "%s: close", r->name);
                CHECK(req.conn_upgrade == r->upgrade, "%s: upgrade", r->name);
            }
        } else if (r->expect == MORE) {
            CHECK(n == H1_INCOMPLETE, "%s: expected incomplete, got %zd (%s)", r->name, n, req.error ? req.error : "");
        } else {
            CHECK(n == H1_ERROR && req.status == r->status, "%s: expected error %d, got %zd status %d", r->name,
                  r->status, n, req.status);
            CHECK(n != H1_ERROR || req.error != NULL, "%s: error without a reason", r->name);
        }
    }
}

static void test_limits(void)
{
    static char big[70000];
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    memset(big + 19, 'a', sizeof(big) - 19);
    h1_request req;
    ssize_t n = h1_parse_request(big, sizeof(big), 65536, &req);
    CHECK(n == H1_ERROR && req.status == 431, "oversized head: 431 (got %zd %d)", n, req.status);
    n = h1_parse_request(big, 1000, 65536, &req);
    CHECK(n == H1_INCOMPLETE, "head under the limit is incomplete");
    memcpy(big, "GET /", 5);
    memset(big + 5, 'a', sizeof(big) - 5);
    n = h1_parse_request(big, sizeof(big), 65536, &req);
    CHECK(n == H1_ERROR && req.status == 431, "oversized request line: 431 (got %zd %d)", n, req.status);

    /* too many fields */
    char many[8192];
    size_t off = (size_t)snprintf(many, sizeof(many), "GET / HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 200; i++)
        off += (size_t)snprintf(many + off, sizeof(many) - off, "X%d: y\r\n", i);
    off += (size_t)snprintf(many + off, sizeof(many) - off, "\r\n");
    n = h1_parse_request(many, off, 65536, &req);
    CHECK(n == H1_ERROR && req.status == 431, "too many fields: 431 (got %zd %d)", n, req.status);

    /* pipelined: the parser returns the first head only */
    const char *two = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    n = h1_parse_request(two, strlen(two), 65536, &req);
    CHECK(n == 28 && req.target.n == 2 && memcmp(req.target.p, "/a", 2) == 0, "pipelined: first head only");
    n = h1_parse_request(two + 28, strlen(two) - 28, 65536, &req);
    CHECK(n == 28 && memcmp(req.target.p, "/b", 2) == 0, "pipelined: second head");
}

static void test_responses(void)
{
    for (size_t i = 0; i < sizeof(res_rows) / sizeof(res_rows[0]); i++) {
        const res_row *r = &res_rows[i];
        size_t len = strlen(r->raw);
        h1_response res;
        ssize_t n = h1_parse_response(r->raw, len, 65536, &res);
        if (r->expect == OK_) {
            CHECK(n == (ssize_t)len, "%s: expected full head, got %zd (%s)", r->name, n, res.error ? res.error : "");
            CHECK(res.status == r->status, "%s: status %d", r->name, res.status);
            CHECK(res.content_length == r->cl, "%s: content_length", r->name);
            CHECK(res.chunked == r->chunked, "%s: chunked", r->name);
            CHECK(res.conn_close == r->close, "%s: close", r->name);
            CHECK(res.docker_stream == r->docker_stream, "%s: docker_stream", r->name);
        } else if (r->expect == MORE) {
            CHECK(n == H1_INCOMPLETE, "%s: incomplete", r->name);
        } else {
            CHECK(n == H1_ERROR && res.error, "%s: expected error, got %zd", r->name, n);
        }
    }
}

static void test_chunked(void)
{
    for (size_t i = 0; i < sizeof(chunk_rows) / sizeof(chunk_rows[0]); i++) {
        const chunk_row *r = &chunk_rows[i];
        size_t len = strlen(r->in);
        /* Whole, then byte by byte: the machine must agree with itself. */
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            h1_chunked c;
            h1_chunked_init(&c, r->allow_trailers);
            bool done = false;
            long total = 0;
            int err = 0;
            if (!bytewise) {
                ssize_t k = h1_chunked_feed(&c, r->in, len, &done);
                if (k < 0)
                    err = 1;
                else
                    total = k;
            } else {
                for (size_t j = 0; j < len && !done; j++) {
                    ssize_t k = h1_chunked_feed(&c, r->in + j, 1, &done);
                    if (k < 0) {
                        err = 1;
                        break;
                    }
                    total += k;
                }
            }
            if (r->consumed < 0) {
                CHECK(err && c.error, "%s (%s): expected a framing error", r->name, bytewise ? "bytewise" : "whole");
            } else {
                CHECK(!err && total == r->consumed && done == r->done, "%s (%s): consumed %ld done %d err %d (%s)",
                      r->name, bytewise ? "bytewise" : "whole", total, done, err, c.error ? c.error : "");
            }
        }
    }
}

int main(void)
{
    test_requests();
    test_limits();
    test_responses();
    test_chunked();
    return unit_summary("test_http1");
}
