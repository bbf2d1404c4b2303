/* Table-driven tests of the HTTP/1.1 request/response parsers, the chunked
 * framing machine and message bodies: a row per case, every rejection included. */
#include <stdint.h>
#include <stdlib.h>
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
    int chunked, close;
} req_row;

#define H "Host: docker\r\n"

static const req_row req_rows[] = {
    {"simple get", "GET /_ping HTTP/1.1\r\n" H "\r\n", OK_, 0, -1, 0, 0},
    {"head", "HEAD /_ping HTTP/1.1\r\n" H "\r\n", OK_, 0, -1, 0, 0},
    {"http/1.0 closes", "GET /_ping HTTP/1.0\r\n\r\n", OK_, 0, -1, 0, 1},
    {"http/1.0 keep-alive", "GET /_ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", OK_, 0, -1, 0, 0},
    {"connection close", "GET / HTTP/1.1\r\n" H "Connection: close\r\n\r\n", OK_, 0, -1, 0, 1},
    {"connection list", "GET / HTTP/1.1\r\n" H "Connection: keep-alive, Close\r\n\r\n", OK_, 0, -1, 0, 1},
    {"content-length", "POST /x HTTP/1.1\r\n" H "Content-Length: 12\r\n\r\n", OK_, 0, 12, 0, 0},
    {"content-length 0", "POST /x HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n", OK_, 0, 0, 0, 0},
    {"chunked", "POST /x HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n", OK_, 0, -1, 1, 0},
    {"chunked any case", "POST /x HTTP/1.1\r\n" H "transfer-encoding: Chunked\r\n\r\n", OK_, 0, -1, 1, 0},
    {"upgrade", "POST /exec/x/start HTTP/1.1\r\n" H "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n", OK_, 0, -1, 0, 0},
    {"upgrade header without token", "GET / HTTP/1.1\r\n" H "Upgrade: tcp\r\n\r\n", OK_, 0, -1, 0, 0},
    {"ows around value", "GET / HTTP/1.1\r\nHost:   docker  \r\n\r\n", OK_, 0, -1, 0, 0},
    {"empty value", "GET / HTTP/1.1\r\n" H "X-Empty:\r\n\r\n", OK_, 0, -1, 0, 0},
    {"obs-text value", "GET / HTTP/1.1\r\n" H "X-Utf: caf\xc3\xa9\r\n\r\n", OK_, 0, -1, 0, 0},
    {"expect 100", "POST /x HTTP/1.1\r\n" H "Expect: 100-continue\r\nContent-Length: 1\r\n\r\n", OK_, 0, 1, 0, 0},
    {"query", "GET /containers/json?all=1&filters=%7B%7D HTTP/1.1\r\n" H "\r\n", OK_, 0, -1, 0, 0},

    {"partial line", "GET /_pi", MORE, 0, 0, 0, 0},
    {"partial version", "GET / HTTP/1.", MORE, 0, 0, 0, 0},
    {"partial head", "GET / HTTP/1.1\r\nHost: x\r\n", MORE, 0, 0, 0, 0},
    {"partial cr", "GET / HTTP/1.1\r\nHost: x\r\n\r", MORE, 0, 0, 0, 0},

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
    {"NUL before a bare CR", "GET / HTTP/1.1\r\nHost: a\0b\rc\r\n\r\n", ERR, 400},
    {"bare CR before a NUL", "GET / HTTP/1.1\r\nHost: a\rb\0c\r\n\r\n", ERR, 400},
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
    {"method of 32 bytes", "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF /_ping HTTP/1.1\r\n" H "\r\n", ERR, 501},
    {"method of 33 bytes", "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG /_ping HTTP/1.1\r\n" H "\r\n", ERR, 400},
    {"method of 33 bytes, no SP", "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG\r\n" H "\r\n", ERR, 400},
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

/* A head that arrives in several reads: each piece is one read, fed to the
 * resumable parser after the ones before it (NULL ends the list; "" is a read
 * that brought nothing). Every call must agree with a parse from scratch of
 * the same bytes; expect says what each read gives, status the final error. */
typedef struct {
    const char *name;
    const char *pieces[6];
    int expect[6];
    int status;
    size_t max_head;  /* 0: 65536 */
} resume_row;

#define HEAD "GET / HTTP/1.1\r\nHost: x"  /* 23 bytes; with CRLFCRLF, 27 */

static const resume_row resume_rows[] = {
    {"whole", {HEAD "\r\n\r\n"}, {OK_}},
    {"CRLFCRLF: cut before", {HEAD, "\r\n\r\n"}, {MORE, OK_}},
    {"CRLFCRLF: cut after CR 1", {HEAD "\r", "\n\r\n"}, {MORE, OK_}},
    {"CRLFCRLF: cut after LF 1", {HEAD "\r\n", "\r\n"}, {MORE, OK_}},
    {"CRLFCRLF: cut after CR 2", {HEAD "\r\n\r", "\n"}, {MORE, OK_}},
    {"CRLFCRLF: a read per byte", {HEAD, "\r", "\n", "\r", "\n"}, {MORE, MORE, MORE, MORE, OK_}},
    {"CRLFCRLF cut, next head behind", {"GET /a HTTP/1.1\r\nHost: x\r\n\r", "\nGET /b HTTP/1.1\r\n"}, {MORE, OK_}},
    {"CR ends the request line read", {"GET / HTTP/1.1\r", "\nHost: x\r\n\r\n"}, {MORE, OK_}},
    {"CR then LF alone", {"GET / HTTP/1.1\r", "\n", "Host: x\r", "\n", "\r\n"}, {MORE, MORE, MORE, MORE, OK_}},
    {"CR then not LF, request line", {"GET / HTTP/1.1\r", "X"}, {MORE, ERR}, 400},
    {"CR then not LF, header", {HEAD "\r", "y\r\n\r\n"}, {MORE, ERR}, 400},
    {"CR then CR, header", {HEAD "\r", "\r\n\r\n"}, {MORE, ERR}, 400},
    {"CR then not LF, blank line", {HEAD "\r\n\r", "X"}, {MORE, ERR}, 400},
    {"LF alone after a value", {HEAD, "\n"}, {MORE, ERR}, 400},
    {"CR in the target", {"GET /a", "\r"}, {MORE, ERR}, 400},
    {"reads that bring nothing", {"GET / HTTP/1.1\r\n", "", "Host: x\r\n", "", "\r\n"}, {MORE, MORE, MORE, MORE, OK_}},
    {"request line in pieces", {"GE", "T /_p", "ing HTTP/1", ".1\r\nHo", "st: x\r\n\r\n"}, {MORE, MORE, MORE, MORE, OK_}},
    {"fragment in a later read", {"GET /a", "b#c HTTP/1.1\r\n"}, {MORE, ERR}, 400},
    {"not origin-form when the target ends", {"GET h", "ttp://x", " HTTP/1.1\r\n"}, {MORE, MORE, ERR}, 400},
    {"method too long across reads", {"ABCDEFGHIJKLMNOPQRST", "UVWXYZABCDEFG"}, {MORE, ERR}, 400},
    {"unsupported method at its SP", {"FOO", " /"}, {MORE, ERR}, 501},
    {"HTTP/2 in a later read", {"GET / HTTP/", "2"}, {MORE, ERR}, 505},
    {"HTTP/1.2 in a later read", {"GET / HTTP/1.", "2"}, {MORE, ERR}, 505},
    {"bad header only when the head ends", {"GET / HTTP/1.1\r\nX Y: z\r\n", "\r\n"}, {MORE, ERR}, 400},
    {"max_head exactly hit", {HEAD "\r\n\r", "\n"}, {MORE, OK_}, 0, 27},
    {"max_head exactly hit in one read", {HEAD "\r\n\r\n"}, {OK_}, 0, 27},
    {"max_head one short", {HEAD "\r\n", "\r"}, {MORE, ERR}, 431, 26},
    {"max_head passed in one read", {HEAD "\r\n\r\n"}, {ERR}, 431, 20},
    {"max_head ends the request line", {"GET / HTTP/1.1", "\r\n"}, {MORE, ERR}, 431, 16},
    {"max_head one short of the request line", {"GET / HTTP/1.1", "\r\n"}, {MORE, ERR}, 431, 15},
    {"bytes behind the head past max_head", {HEAD "\r\n\r\nGET /b"}, {OK_}, 0, 27},
};

/* Long lines, built at run time: prefix, fill repeated n times, suffix
 * (which may hold a NUL when the name says so). */
typedef struct {
    const char *name;
    const char *prefix;
    const char *fill;
    size_t n;
    const char *suffix;
    int expect;
    int status;
} long_row;

#define LONGV "GET / HTTP/1.1\r\n" H "X-Long: "

static const long_row long_rows[] = {
    {"64 KiB target", "GET /", "a", 65450, " HTTP/1.1\r\n" H "\r\n", OK_, 0},
    {"64 KiB header value", LONGV, "a", 65450, "\r\n\r\n", OK_, 0},
    {"120 short header lines", "GET / HTTP/1.1\r\n" H, "X: y\r\n", 120, "\r\n", OK_, 0},
    {"2000 short header lines", "GET / HTTP/1.1\r\n" H, "X: y\r\n", 2000, "\r\n", ERR, 431},
    {"fragment after a long target", "GET /", "a", 65000, "#x HTTP/1.1\r\n" H "\r\n", ERR, 400},
    {"control byte after a long target", "GET /", "a", 65000, "\x01 HTTP/1.1\r\n" H "\r\n", ERR, 400},
    {"CR after a long target", "GET /", "a", 65000, "\r\n" H "\r\n", ERR, 400},
    {"NUL after a long value", LONGV, "a", 65000, "\0\r\n\r\n", ERR, 400},
    {"bare CR after a long value", LONGV, "a", 65000, "\rb\r\n\r\n", ERR, 400},
    {"bare LF after a long value", LONGV, "a", 65000, "\n\r\n", ERR, 400},
    {"control byte in a long value", LONGV, "a", 65000, "\x01\r\n\r\n", ERR, 400},
    {"long value past max_head", LONGV, "a", 70000, "\r\n\r\n", ERR, 431},
    {"long target past max_head", "GET /", "a", 70000, " HTTP/1.1\r\n" H "\r\n", ERR, 431},
    {"long method", "", "G", 40, " / HTTP/1.1\r\n" H "\r\n", ERR, 400},
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

/* Message bodies (h1_body): how the body is set up, from a head parsed by the
 * project's own parser (or a tunnel), then which of the bytes behind the head
 * belong to it. Each row is fed whole, split in two at every point and byte by
 * byte, as reads arrive: every way must give the same answer. */
enum { B_REQ, B_RES, B_RES_TO_HEAD, B_TUNNEL };

#define ALL (-2)  /* consumed: every input byte */

typedef struct {
    const char *name;
    int kind;           /* B_REQ, B_RES, B_RES_TO_HEAD (the request was HEAD), B_TUNNEL */
    const char *head;   /* the request or response head; NULL for a tunnel */
    const char *in;     /* the bytes behind the head */
    int mode;           /* the h1_body_mode the head gives */
    long consumed;      /* bytes that belong to the body, or ALL */
    int done;
    const char *error;  /* NULL, or the framing error expected (then consumed and done are unused) */
} body_row;

#define GET_HEAD "GET / HTTP/1.1\r\n" H "\r\n"
#define POST_CL(n) "POST /x HTTP/1.1\r\n" H "Content-Length: " #n "\r\n\r\n"
#define POST_TE "POST /x HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n"
#define RES(status, fields) "HTTP/1.1 " #status " X\r\n" fields "\r\n"
#define CL(n) "Content-Length: " #n "\r\n"
#define TE "Transfer-Encoding: chunked\r\n"
#define NEXT_REQ "GET /next HTTP/1.1\r\n" H "\r\n"  /* 34 bytes */
#define NEXT_RES "HTTP/1.1 200 OK\r\n\r\n"

static const body_row body_rows[] = {
    /* requests without a body */
    {"GET, nothing behind", B_REQ, GET_HEAD, "", H1_BODY_NONE, 0, 1},
    {"GET, next request behind", B_REQ, GET_HEAD, NEXT_REQ, H1_BODY_NONE, 0, 1},
    {"HTTP/1.0 GET", B_REQ, "GET / HTTP/1.0\r\n\r\n", "xyz", H1_BODY_NONE, 0, 1},
    {"Content-Length: 0, next request behind", B_REQ, POST_CL(0), NEXT_REQ, H1_BODY_NONE, 0, 1},
    /* requests with Content-Length */
    {"CL 5, nothing yet", B_REQ, POST_CL(5), "", H1_BODY_LENGTH, 0, 0},
    {"CL 5, 3 bytes", B_REQ, POST_CL(5), "abc", H1_BODY_LENGTH, 3, 0},
    {"CL 5, 5 bytes", B_REQ, POST_CL(5), "abcde", H1_BODY_LENGTH, 5, 1},
    {"CL 5, 6 bytes", B_REQ, POST_CL(5), "abcdef", H1_BODY_LENGTH, 5, 1},
    {"CL 5, next request behind", B_REQ, POST_CL(5), "abcde" NEXT_REQ, H1_BODY_LENGTH, 5, 1},
    {"CL 1, next request behind", B_REQ, POST_CL(1), "a" NEXT_REQ, H1_BODY_LENGTH, 1, 1},
    {"CL 5, a body that looks like a head", B_REQ, POST_CL(5), "GET /" NEXT_REQ, H1_BODY_LENGTH, 5, 1},
    {"CL 5, a NUL byte is a body byte", B_REQ, POST_CL(5), "ab\0cde", H1_BODY_LENGTH, 5, 1},
    {"CL beyond 32 bits", B_REQ, POST_CL(99999999999), "abc", H1_BODY_LENGTH, ALL, 0},
    {"CL 5, HTTP/1.0", B_REQ, "POST /x HTTP/1.0\r\nContent-Length: 5\r\n\r\n", "abcde" NEXT_REQ, H1_BODY_LENGTH, 5, 1},
    /* chunked requests: no extensions, no trailers */
    {"chunked request, one chunk", B_REQ, POST_TE, "3\r\nabc\r\n0\r\n\r\n", H1_BODY_CHUNKED, ALL, 1},
    {"chunked request, empty", B_REQ, POST_TE, "0\r\n\r\n", H1_BODY_CHUNKED, ALL, 1},
    {"chunked request, two chunks", B_REQ, POST_TE, "1\r\na\r\nA\r\n0123456789\r\n0\r\n\r\n", H1_BODY_CHUNKED, ALL, 1},
    {"chunked request, next request behind", B_REQ, POST_TE, "3\r\nabc\r\n0\r\n\r\n" NEXT_REQ, H1_BODY_CHUNKED, 13, 1},
    {"chunked request, data that looks like the end", B_REQ, POST_TE, "5\r\n0\r\n\r\n\r\n0\r\n\r\n" NEXT_REQ,
     H1_BODY_CHUNKED, 15, 1},
    {"chunked request, in the size", B_REQ, POST_TE, "1", H1_BODY_CHUNKED, ALL, 0},
    {"chunked request, in the data", B_REQ, POST_TE, "5\r\nab", H1_BODY_CHUNKED, ALL, 0},
    {"chunked request, before the last LF", B_REQ, POST_TE, "3\r\nabc\r\n0\r\n\r", H1_BODY_CHUNKED, ALL, 0},
    {"chunked request, 15 hex digits", B_REQ, POST_TE, "fffffffffffffff\r\nab", H1_BODY_CHUNKED, ALL, 0},
    {"chunked request, size overflow", B_REQ, POST_TE, "10000000000000000\r\nab", H1_BODY_CHUNKED, 0, 0,
     "chunk size too large"},
    {"chunked request, 16 digits even as leading zeros", B_REQ, POST_TE, "0000000000000003\r\nabc\r\n0\r\n\r\n",
     H1_BODY_CHUNKED, 0, 0, "chunk size too large"},
    {"chunked request, extension", B_REQ, POST_TE, "3;x=y\r\nabc\r\n0\r\n\r\n", H1_BODY_CHUNKED, 0, 0,
     "chunk extension"},
    {"chunked request, extension on the last chunk", B_REQ, POST_TE, "3\r\nabc\r\n0;x\r\n\r\n", H1_BODY_CHUNKED, 0, 0,
     "chunk extension"},
    {"chunked request, trailer", B_REQ, POST_TE, "0\r\nX: y\r\n\r\n", H1_BODY_CHUNKED, 0, 0, "trailer fields in request"},
    {"chunked request, bad size", B_REQ, POST_TE, "x\r\n", H1_BODY_CHUNKED, 0, 0, "invalid chunk size"},
    {"chunked request, empty size", B_REQ, POST_TE, "\r\nabc", H1_BODY_CHUNKED, 0, 0, "invalid chunk size"},
    {"chunked request, space after size", B_REQ, POST_TE, "3 \r\nabc\r\n0\r\n\r\n", H1_BODY_CHUNKED, 0, 0,
     "invalid chunk size"},
    {"chunked request, bare LF after size", B_REQ, POST_TE, "3\nabc\r\n0\r\n\r\n", H1_BODY_CHUNKED, 0, 0,
     "invalid chunk size"},
    {"chunked request, bare CR after size", B_REQ, POST_TE, "3\rabc\r\n0\r\n\r\n", H1_BODY_CHUNKED, 0, 0,
     "bare CR after chunk size"},
    {"chunked request, data longer than its size", B_REQ, POST_TE, "3\r\nabcd\r\n0\r\n\r\n", H1_BODY_CHUNKED, 0, 0,
     "chunk data longer than its size"},
    {"chunked request, bare CR after data", B_REQ, POST_TE, "3\r\nabc\rX", H1_BODY_CHUNKED, 0, 0,
     "bare CR after chunk data"},
    {"chunked request, bare CR at the end", B_REQ, POST_TE, "0\r\n\rX", H1_BODY_CHUNKED, 0, 0,
     "bare CR at end of chunked body"},
    {"chunked request, a request instead", B_REQ, POST_TE, NEXT_REQ, H1_BODY_CHUNKED, 0, 0, "invalid chunk size"},

    /* responses with Content-Length */
    {"200 CL 5, 3 bytes", B_RES, RES(200, CL(5)), "abc", H1_BODY_LENGTH, 3, 0},
    {"200 CL 5, 5 bytes", B_RES, RES(200, CL(5)), "abcde", H1_BODY_LENGTH, 5, 1},
    {"200 CL 5, more bytes", B_RES, RES(200, CL(5)), "abcde" NEXT_RES, H1_BODY_LENGTH, 5, 1},
    {"404 CL 5", B_RES, RES(404, CL(5)), "abcde", H1_BODY_LENGTH, 5, 1},
    {"HTTP/1.0 200 CL 5", B_RES, "HTTP/1.0 200 OK\r\n" CL(5) "\r\n", "abcdef", H1_BODY_LENGTH, 5, 1},
    {"200 CL 0, done at once", B_RES, RES(200, CL(0)), "", H1_BODY_NONE, 0, 1},
    {"200 CL 0, next response behind", B_RES, RES(200, CL(0)), NEXT_RES, H1_BODY_NONE, 0, 1},
    /* responses without a body whatever the head says */
    {"HEAD: 200 CL 5", B_RES_TO_HEAD, RES(200, CL(5)), "abcde", H1_BODY_NONE, 0, 1},
    {"HEAD: 200 chunked", B_RES_TO_HEAD, RES(200, TE), "0\r\n\r\n", H1_BODY_NONE, 0, 1},
    {"HEAD: 200 without length", B_RES_TO_HEAD, RES(200, ), "abc", H1_BODY_NONE, 0, 1},
    {"204 CL 5", B_RES, RES(204, CL(5)), "abcde", H1_BODY_NONE, 0, 1},
    {"204 without length", B_RES, RES(204, ), "abc", H1_BODY_NONE, 0, 1},
    {"304 CL 5", B_RES, RES(304, CL(5)), "abcde", H1_BODY_NONE, 0, 1},
    {"304 chunked", B_RES, RES(304, TE), "0\r\n\r\n", H1_BODY_NONE, 0, 1},
    {"304 without length", B_RES, RES(304, ), "", H1_BODY_NONE, 0, 1},
    /* chunked responses: extensions and trailers allowed */
    {"chunked response, one chunk", B_RES, RES(200, TE), "3\r\nabc\r\n0\r\n\r\n", H1_BODY_CHUNKED, ALL, 1},
    {"chunked response, next response behind", B_RES, RES(200, TE), "3\r\nabc\r\n0\r\n\r\n" NEXT_RES,
     H1_BODY_CHUNKED, 13, 1},
    {"chunked response, extensions", B_RES, RES(200, TE), "3;a=b;c\r\nabc\r\n0;last\r\n\r\n", H1_BODY_CHUNKED, ALL, 1},
    {"chunked response, trailers", B_RES, RES(200, TE), "3\r\nabc\r\n0\r\nX: y\r\nZ: \r\n\r\n" NEXT_RES,
     H1_BODY_CHUNKED, 24, 1},
    {"chunked response, in a trailer", B_RES, RES(200, TE), "0\r\nX: y\r\n", H1_BODY_CHUNKED, ALL, 0},
    {"chunked response, size overflow", B_RES, RES(200, TE), "10000000000000000\r\n", H1_BODY_CHUNKED, 0, 0,
     "chunk size too large"},
    {"chunked response, control byte in an extension", B_RES, RES(200, TE), "3;\x01\r\nabc\r\n0\r\n\r\n",
     H1_BODY_CHUNKED, 0, 0, "invalid chunk extension"},
    {"chunked response, trailer starts with a space", B_RES, RES(200, TE), "0\r\n X: y\r\n\r\n", H1_BODY_CHUNKED, 0, 0,
     "malformed trailer"},
    {"chunked response, control byte in a trailer", B_RES, RES(200, TE), "0\r\nX: \x01\r\n\r\n", H1_BODY_CHUNKED, 0,
     0, "control byte in trailer"},
    {"chunked response, bare CR in a trailer", B_RES, RES(200, TE), "0\r\nX: y\rZ\r\n\r\n", H1_BODY_CHUNKED, 0, 0,
     "bare CR in trailer"},
    {"chunked response, data longer than its size", B_RES, RES(200, TE), "1\r\nab\r\n0\r\n\r\n", H1_BODY_CHUNKED, 0,
     0, "chunk data longer than its size"},
    /* responses without a length: to the end of the connection */
    {"200 without length", B_RES, RES(200, ), "abc", H1_BODY_CLOSE, ALL, 0},
    {"200 without length, nothing yet", B_RES, RES(200, ), "", H1_BODY_CLOSE, 0, 0},
    {"200 without length, what looks like the end", B_RES, RES(200, ), "0\r\n\r\n" NEXT_RES "abc", H1_BODY_CLOSE, ALL,
     0},
    {"HTTP/1.0 200 without length, a NUL byte", B_RES, "HTTP/1.0 200 OK\r\n\r\n", "a\0b", H1_BODY_CLOSE, ALL, 0},
    {"docker stream without length", B_RES, RES(200, "Content-Type: application/vnd.docker.raw-stream\r\n"),
     "\x01\x02\x03", H1_BODY_CLOSE, ALL, 0},
    /* tunnels: each direction to the end of the connection */
    {"tunnel, nothing yet", B_TUNNEL, NULL, "", H1_BODY_CLOSE, 0, 0},
    {"tunnel, a request", B_TUNNEL, NULL, NEXT_REQ, H1_BODY_CLOSE, ALL, 0},
    {"tunnel, bytes a chunked body would refuse", B_TUNNEL, NULL, "zz\r\n\x01\x7f\r\r\n\n", H1_BODY_CLOSE, ALL, 0},
    {"tunnel, a NUL byte first", B_TUNNEL, NULL, "\0ab", H1_BODY_CLOSE, ALL, 0},
};

/* Rows may hold NUL bytes (their names say so): measure up to the table's
 * literal end. */
static size_t literal_len(const char *name, const char *raw)
{
    size_t len = strlen(raw);
    if (strstr(name, "NUL"))
        len += 1 + strlen(raw + len + 1);
    return len;
}

/* Two parses agree when every field does; pointers are compared as offsets
 * from the start of their own buffer. */
static bool same_str(h1_str a, const char *abase, h1_str b, const char *bbase)
{
    if (!a.p || !b.p)
        return a.p == b.p && a.n == b.n;
    return a.p - abase == b.p - bbase && a.n == b.n;
}

static bool same_req(const h1_request *a, const char *abase, const h1_request *b, const char *bbase)
{
    bool same_error = a->error == b->error || (a->error && b->error && strcmp(a->error, b->error) == 0);
    return same_str(a->method, abase, b->method, bbase) && same_str(a->target, abase, b->target, bbase) &&
           same_str(a->host, abase, b->host, bbase) && a->minor == b->minor &&
           a->content_length == b->content_length && a->chunked == b->chunked && a->conn_close == b->conn_close &&
           a->status == b->status && same_error;
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random reads of len bytes: half of them 1 to 16 bytes, a quarter up to an
 * eighth of the head, a quarter up to all the rest. Returns how many. */
static size_t random_cuts(size_t len, uint64_t seed, size_t *cuts)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
    size_t n = 0, at = 0;
    while (at < len) {
        uint64_t r = rng_next(&s);
        size_t most = r % 4 == 0 ? len - at : r % 4 == 1 ? len / 8 + 1 : 16;
        size_t step = 1 + (size_t)(r >> 8) % most;
        at = step < len - at ? at + step : len;
        cuts[n++] = at;
    }
    return n;
}

/* Feeds raw[0..len) to the resumable parser in reads ending at cuts[0..ncuts)
 * and checks every answer against a parse from scratch of the same bytes,
 * stopping at the first that is not H1_INCOMPLETE, as a caller would; that
 * last answer must be the whole buffer's (wn, *whole). With moved, the bytes
 * sit elsewhere at every call, as after a memmove: the progress must hold
 * offsets, not pointers. With sparse, reads more than 512 bytes from either
 * end are compared one in 64 (from scratch, a long head fed byte by byte is
 * quadratic). Returns NULL or what went wrong (*at: which bytes). */
static const char *feed(const char *raw, size_t len, size_t max_head, const size_t *cuts, size_t ncuts, bool moved,
                        bool sparse, ssize_t wn, const h1_request *whole, size_t *at)
{
    char *place[2] = {NULL, NULL};
    if (moved && (!(place[0] = malloc(len)) || !(place[1] = malloc(len)))) {
        free(place[0]);
        return "out of memory";
    }
    const char *why = "never answered";
    h1_progress prog;
    h1_progress_init(&prog);
    for (size_t k = 0; k < ncuts; k++) {
        const char *buf = raw;
        if (moved) {
            memcpy(place[k % 2], raw, cuts[k]);
            buf = place[k % 2];
        }
        h1_request a, b;
        *at = cuts[k];
        ssize_t n = h1_parse_request_resume(buf, cuts[k], max_head, &a, &prog);
        bool compare = !sparse || n != H1_INCOMPLETE || k % 64 == 0 || cuts[k] < 512 || cuts[k] + 512 > len;
        ssize_t m = compare ? h1_parse_request(buf, cuts[k], max_head, &b) : n;
        if (compare && (n != m || !same_req(&a, buf, &b, buf))) {
            why = "the resumed parse differs from a parse from scratch";
            break;
        }
        if (n != H1_INCOMPLETE || k + 1 == ncuts) {
            why = n == wn && same_req(&a, buf, whole, raw) ? NULL : "the answer differs from the whole buffer's";
            break;
        }
    }
    free(place[0]);
    free(place[1]);
    return why;
}

/* One head fed whole, byte by byte and in random reads. */
static void check_splits(const char *name, const char *raw, size_t len, size_t max_head, uint64_t seed)
{
    size_t *cuts = malloc(len * sizeof(*cuts));
    if (!cuts) {
        CHECK(false, "%s: out of memory", name);
        return;
    }
    h1_request whole;
    ssize_t wn = h1_parse_request(raw, len, max_head, &whole);
    for (int mode = 0; mode < 10; mode++) {
        size_t ncuts = 0;
        if (mode == 0) {
            cuts[ncuts++] = len;
        } else if (mode == 1) {
            while (ncuts < len) {
                cuts[ncuts] = ncuts + 1;
                ncuts++;
            }
        } else {
            ncuts = random_cuts(len, seed * 16 + (uint64_t)mode, cuts);
        }
        /* Moving the bytes costs len per read: not byte by byte for long heads. */
        bool moved = mode >= 2 || len <= 4096;
        size_t at = 0;
        const char *why = feed(raw, len, max_head, cuts, ncuts, moved, !moved, wn, &whole, &at);
        CHECK(!why, "%s (%s): %s, at %zu of %zu bytes", name,
              mode == 0 ? "whole" : mode == 1 ? "byte by byte" : "random reads", why ? why : "", at, len);
    }
    free(cuts);
}

static void test_requests(void)
{
    for (size_t i = 0; i < sizeof(req_rows) / sizeof(req_rows[0]); i++) {
        const req_row *r = &req_rows[i];
        size_t len = literal_len(r->name, r->raw);
        check_splits(r->name, r->raw, len, 65536, i);
        h1_request req;
        ssize_t n = h1_parse_request(r->raw, len, 65536, &req);
        if (r->expect == OK_) {
            CHECK(n == (ssize_t)len, "%s: expected full head (%zu), got %zd (%s)", r->name, len, n, req.error ? req.error : "");
            if (n > 0) {
                CHECK(req.content_length == r->cl, "%s: content_length %lld != %lld", r->name, (long long)req.content_length, r->cl);
                CHECK(req.chunked == r->chunked, "%s: chunked", r->name);
                CHECK(req.conn_close == r->close, "%s: close", r->name);
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

static void test_resume(void)
{
    for (size_t i = 0; i < sizeof(resume_rows) / sizeof(resume_rows[0]); i++) {
        const resume_row *r = &resume_rows[i];
        size_t max_head = r->max_head ? r->max_head : 65536;
        char buf[256];
        size_t len = 0;
        h1_progress prog;
        h1_progress_init(&prog);
        for (size_t k = 0; k < 6 && r->pieces[k]; k++) {
            size_t n = strlen(r->pieces[k]);
            memcpy(buf + len, r->pieces[k], n);
            len += n;
            h1_request a, b;
            ssize_t got = h1_parse_request_resume(buf, len, max_head, &a, &prog);
            ssize_t want = h1_parse_request(buf, len, max_head, &b);
            CHECK(got == want && same_req(&a, buf, &b, buf), "%s, read %zu: resumed %zd (%s), from scratch %zd (%s)",
                  r->name, k + 1, got, a.error ? a.error : "", want, b.error ? b.error : "");
            int kind = got > 0 ? OK_ : got == H1_INCOMPLETE ? MORE : ERR;
            CHECK(kind == r->expect[k], "%s, read %zu: got %zd (%s)", r->name, k + 1, got, a.error ? a.error : "");
            if (got != H1_INCOMPLETE) {
                CHECK(got > 0 || a.status == r->status, "%s: status %d, not %d", r->name, a.status, r->status);
                CHECK(k + 1 == 6 || !r->pieces[k + 1], "%s: answered before its last read", r->name);
                break;
            }
        }
    }

    /* Fewer bytes than the last call (a caller that did not reset): the
     * progress must not send the scans past them. */
    const char *head = "GET /abcdef HTTP/1.1\r\nHost: x\r\n\r\n";
    h1_progress prog;
    h1_progress_init(&prog);
    h1_request a, b;
    ssize_t n = h1_parse_request_resume(head, 25, 65536, &a, &prog);
    CHECK(n == H1_INCOMPLETE, "shorter read: the first call is incomplete (%zd)", n);
    n = h1_parse_request_resume(head, 8, 65536, &a, &prog);
    ssize_t m = h1_parse_request(head, 8, 65536, &b);
    CHECK(n == m && same_req(&a, head, &b, head), "shorter read: as from scratch (%zd, %zd)", n, m);
    n = h1_parse_request_resume(head, strlen(head), 65536, &a, &prog);
    CHECK(n == (ssize_t)strlen(head), "shorter read, then the whole head (%zd)", n);
}

/* Long lines: a long target and a long header value, many short header lines,
 * and an error after them; each checked at every read (byte by byte: 64 Ki
 * parses from scratch, the old cost the resumable parser removes). */
static void test_long_lines(void)
{
    for (size_t i = 0; i < sizeof(long_rows) / sizeof(long_rows[0]); i++) {
        const long_row *r = &long_rows[i];
        size_t pn = strlen(r->prefix), fn = strlen(r->fill), sn = literal_len(r->name, r->suffix);
        size_t len = pn + fn * r->n + sn;
        char *raw = malloc(len);
        if (!raw) {
            CHECK(false, "%s: out of memory", r->name);
            continue;
        }
        memcpy(raw, r->prefix, pn);
        for (size_t k = 0; k < r->n; k++)
            memcpy(raw + pn + k * fn, r->fill, fn);
        memcpy(raw + pn + fn * r->n, r->suffix, sn);
        h1_request req;
        ssize_t n = h1_parse_request(raw, len, 65536, &req);
        if (r->expect == OK_)
            CHECK(n == (ssize_t)len, "%s: expected the full head (%zu), got %zd (%s)", r->name, len, n,
                  req.error ? req.error : "");
        else
            CHECK(n == H1_ERROR && req.status == r->status, "%s: expected error %d, got %zd status %d (%s)", r->name,
                  r->status, n, req.status, req.error ? req.error : "");
        check_splits(r->name, raw, len, 65536, 1000 + i);
        free(raw);
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

/* Sets up r's body the way the proxy does, from the head parsed by the
 * project's own parser. False when the head does not parse whole. */
static bool body_setup(const body_row *r, h1_body *b)
{
    if (r->kind == B_TUNNEL) {
        h1_body_close(b);
        return true;
    }
    size_t len = strlen(r->head);
    if (r->kind == B_REQ) {
        h1_request req;
        if (h1_parse_request(r->head, len, 65536, &req) != (ssize_t)len)
            return false;
        h1_body_request(b, &req);
    } else {
        h1_response res;
        if (h1_parse_response(r->head, len, 65536, &res) != (ssize_t)len)
            return false;
        h1_body_response(b, &res, r->kind == B_RES_TO_HEAD);
    }
    return true;
}

typedef struct {
    long consumed;
    bool done;
    const char *error;
} body_out;

static bool same_body_out(const body_out *a, const body_out *b)
{
    if (a->error || b->error)
        return a->error && b->error && strcmp(a->error, b->error) == 0;
    return a->consumed == b->consumed && a->done == b->done;
}

/* Feeds in[0..cuts[ncuts-1]) to a fresh body in reads ending at
 * cuts[0..ncuts), as the proxy would: a framing error ends it (the connection
 * closes, and how many bytes of that read were good is not said); once the
 * body has ended, the reads left are the next message's and must give it
 * nothing. Returns NULL, or the h1_body_feed promise a read broke. */
static const char *body_feed(const body_row *r, const char *in, const size_t *cuts, size_t ncuts, body_out *out)
{
    h1_body b;
    out->consumed = 0;
    out->done = false;
    out->error = NULL;
    if (!body_setup(r, &b))
        return "the head does not parse";
    size_t at = 0;
    for (size_t k = 0; k < ncuts; k++) {
        size_t n = cuts[k] - at;
        bool done = false;
        ssize_t got = h1_body_feed(&b, in + at, n, &done);
        if (got < 0) {
            out->error = b.error;
            return !b.error ? "an error without a reason" : out->done ? "an error after the end" : NULL;
        }
        if ((size_t)got > n)
            return "more bytes than the read brought";
        if ((size_t)got < n && !done)
            return "bytes left over before the end";
        if (out->done && (got != 0 || !done))
            return "bytes after the end";
        if (done && b.mode == H1_BODY_CLOSE)
            return "a body to the end of the connection ended";
        out->consumed += (long)got;
        out->done = done;
        at = cuts[k];
    }
    return NULL;
}

static void test_body(void)
{
    static const char *const modes[] = {"NONE", "LENGTH", "CHUNKED", "CLOSE"};
    for (size_t i = 0; i < sizeof(body_rows) / sizeof(body_rows[0]); i++) {
        const body_row *r = &body_rows[i];
        size_t len = literal_len(r->name, r->in);
        size_t cuts[256];
        if (len >= sizeof(cuts) / sizeof(cuts[0])) {
            CHECK(false, "%s: input too long for the test", r->name);
            continue;
        }
        h1_body b;
        bool parsed = body_setup(r, &b);
        CHECK(parsed && b.mode == (h1_body_mode)r->mode, "%s: %s, mode %s, not %s", r->name,
              parsed ? "parsed" : "the head does not parse", modes[b.mode & 3], modes[r->mode]);
        if (!parsed)
            continue;

        body_out whole, want = {r->consumed == ALL ? (long)len : r->consumed, r->done, r->error};
        cuts[0] = len;
        const char *why = body_feed(r, r->in, cuts, 1, &whole);
        CHECK(!why && same_body_out(&whole, &want), "%s: consumed %ld done %d error %s%s%s", r->name, whole.consumed,
              whole.done, whole.error ? whole.error : "none", why ? ": " : "", why ? why : "");

        /* Two reads, cut at every point (an empty first or last read included). */
        size_t split = 0;
        body_out part = {0};
        for (; split <= len; split++) {
            cuts[0] = split;
            cuts[1] = len;
            if ((why = body_feed(r, r->in, cuts, 2, &part)) || !same_body_out(&part, &whole))
                break;
        }
        CHECK(split > len, "%s: cut at %zu: consumed %ld done %d error %s%s%s", r->name, split, part.consumed,
              part.done, part.error ? part.error : "none", why ? ": " : "", why ? why : "");

        /* A read per byte (one empty read when there are none). */
        size_t ncuts = 0;
        do
            cuts[ncuts] = ncuts + (len > 0);
        while (++ncuts < len);
        why = body_feed(r, r->in, cuts, ncuts, &part);
        CHECK(!why && same_body_out(&part, &whole), "%s (byte by byte): consumed %ld done %d error %s%s%s", r->name,
              part.consumed, part.done, part.error ? part.error : "none", why ? ": " : "", why ? why : "");
    }
}

/* h1_body_decode: the data without its chunked framing, whatever the reads;
 * and the same promises as h1_body_feed over every body row. */
static const struct {
    const char *head, *in, *data;
    bool done, error;
} decode_rows[] = {
    {"POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n", "2\r\n{}\r\n0\r\n\r\n", "{}", true, false},
    {"POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n",
     "1\r\n{\r\nb\r\n\"Image\":\"x\"\r\n1\r\n}\r\n0\r\n\r\nGET", "{\"Image\":\"x\"}", true, false},
    {"POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n", "3\r\n0\r\n\r\n0\r\n\r\n", "0\r\n", true, false},
    {"POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n", "1;ext=1\r\n{\r\n0\r\n\r\n", NULL, false, true},
    {"POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n", "0\r\n\r\n", "", true, false},
    {"POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n", "4\r\nab", "ab", false, false},
    {"POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n", "2\r\nabc\r\n0\r\n\r\n", NULL, false, true},
    {"POST / HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\n", "z\r\n", NULL, false, true},
    {"POST / HTTP/1.1\r\nHost: d\r\nContent-Length: 4\r\n\r\n", "abcdEF", "abcd", true, false},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n", "hello", true, false},
    {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", "abc", "abc", true, false},
    {"HTTP/1.1 204 No Content\r\n\r\n", "abc", "", true, false},
};

/* Decodes in[0..len) in reads ending at cuts; false on a framing error. */
static bool decode_cuts(const char *head, const char *in, const size_t *cuts, size_t ncuts, char *out, size_t *outlen,
                        bool *done)
{
    h1_body b;
    size_t hl = strlen(head);
    if (head[0] == 'H') {
        h1_response res;
        h1_parse_response(head, hl, 65536, &res);
        h1_body_response(&b, &res, false);
    } else {
        h1_request req;
        h1_parse_request(head, hl, 65536, &req);
        h1_body_request(&b, &req);
    }
    size_t at = 0;
    *outlen = 0;
    *done = false;
    for (size_t k = 0; k < ncuts && !*done; k++) {
        size_t got;
        ssize_t n = h1_body_decode(&b, in + at, cuts[k] - at, out + *outlen, &got, done);
        if (n < 0)
            return false;
        *outlen += got;
        at += (size_t)n;
        if (at < cuts[k] && !*done)
            return false;
        at = cuts[k] < at ? at : cuts[k];
    }
    return true;
}

static void test_decode(void)
{
    for (size_t i = 0; i < sizeof(decode_rows) / sizeof(decode_rows[0]); i++) {
        const char *in = decode_rows[i].in;
        size_t len = strlen(in), cuts[128], ncuts, outlen;
        char out[128];
        bool done;
        for (size_t mode = 0; mode <= len + 1; mode++) {
            /* mode 0: whole; 1..len: two reads cut at mode-1; len+1: byte by byte */
            if (mode == 0) {
                cuts[0] = len;
                ncuts = 1;
            } else if (mode <= len) {
                cuts[0] = mode - 1;
                cuts[1] = len;
                ncuts = 2;
            } else {
                for (ncuts = 0; ncuts < len; ncuts++)
                    cuts[ncuts] = ncuts + 1;
            }
            bool ok = decode_cuts(decode_rows[i].head, in, cuts, ncuts, out, &outlen, &done);
            if (decode_rows[i].error) {
                CHECK(!ok, "decode row %zu (mode %zu): no framing error", i, mode);
                continue;
            }
            CHECK(ok && done == decode_rows[i].done && outlen == strlen(decode_rows[i].data) &&
                      memcmp(out, decode_rows[i].data, outlen) == 0,
                  "decode row %zu (mode %zu): ok %d done %d data \"%.*s\"", i, mode, ok, done, (int)outlen, out);
        }
    }
}

/* Field values are checked eight bytes at a time (value_bytes_ok): every byte
 * value at every position of values 1 to 24 bytes long (inside a word, across
 * two, in the tail), with the word's other bytes high (obs-text), plain or a
 * tab, must be judged as the byte-by-byte rule judges it: controls but the
 * tab, and DEL, refused in requests and responses alike. */
static void test_value_bytes(void)
{
    static const char fills[] = {'a', (char)0xe9, '\t'};
    int wrong = 0, checked = 0;
    for (size_t len = 1; len <= 24; len++)
        for (size_t at = 0; at < len; at++)
            for (size_t f = 0; f < sizeof(fills); f++)
                for (int b = 1; b < 256; b++) {
                    if (b == '\r' || b == '\n')
                        continue; /* the line's end: the head scan's business */
                    char raw[128];
                    size_t off = (size_t)snprintf(raw, sizeof(raw), "GET /a HTTP/1.1\r\nHost: x\r\nX-V: z");
                    memset(raw + off, fills[f], len);
                    raw[off + at] = (char)b;
                    off += len;
                    off += (size_t)snprintf(raw + off, sizeof(raw) - off, "z\r\n\r\n");
                    bool good = b == '\t' || (b >= 0x20 && b != 0x7f);
                    h1_request req;
                    ssize_t n = h1_parse_request(raw, off, 65536, &req);
                    bool ok = good ? n == (ssize_t)off : (n == H1_ERROR && req.status == 400);
                    h1_response res;
                    memcpy(raw, "HTTP/1.1 200 OK", 15); /* as long as the request line */
                    n = h1_parse_response(raw, off, 65536, &res);
                    ok = ok && (good ? n == (ssize_t)off : n == H1_ERROR);
                    checked++;
                    if (!ok && wrong++ < 5)
                        CHECK(false, "value byte 0x%02x at %zu of %zu (fill 0x%02x): judged wrongly", b, at, len,
                              (unsigned char)fills[f]);
                }
    CHECK(wrong == 0, "field-value bytes: %d of %d judged as byte by byte", checked - wrong, checked);
}

int main(void)
{
    test_requests();
    test_resume();
    test_long_lines();
    test_limits();
    test_responses();
    test_chunked();
    test_body();
    test_decode();
    test_value_bytes();
    return unit_summary("test_http1");
}
