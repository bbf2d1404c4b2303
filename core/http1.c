/* HTTP/1.1 framing. See http1.h for the contract. */
#include "http1.h"

#include <string.h>

/* tchar from RFC 9110: the characters of methods and header names. A table:
 * this is the innermost loop of header parsing. */
static const unsigned char tchar_tab[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
    ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1,
    ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
};

static inline bool is_tchar(unsigned char c) { return tchar_tab[c]; }

/* Field-value bytes: visible ASCII, space, tab and obs-text; no controls. */
static bool is_vchar_or_ws(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* h1_token_eq against a literal, its length compared first: most header
 * names are not the one asked about, and this is asked for every field. */
#define TOKEN_IS(s, lit) ((s).n == sizeof(lit) - 1 && h1_token_eq((s).p, (s).n, (lit)))

/* Whether p[0..e) holds only field-value bytes (is_vchar_or_ws), eight at a
 * time: a word with no byte below 0x20 and none equal to 0x7f is all good
 * (the tests are exact for whether such a byte exists, whatever the others
 * hold); any other word, a tab say, and the tail go byte by byte. */
static bool value_bytes_ok(const char *p, const char *e)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    while (e - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t del = x ^ (ones * 0x7f);
        if ((((x - ones * 0x20) & ~x) | ((del - ones) & ~del)) & highs)
            break;
        p += 8;
    }
    for (; p < e; p++)
        if (!is_vchar_or_ws((unsigned char)*p))
            return false;
    return true;
}

bool h1_token_eq(const char *p, size_t n, const char *lower)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        if (lower[i] == '\0' || c != (unsigned char)lower[i])
            return false;
    }
    return lower[n] == '\0';
}

/* Walks a comma-separated header value and reports whether it holds `word`. */
static bool list_has(const char *p, size_t n, const char *word)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
            i++;
        size_t s = i;
        while (i < n && p[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t'))
            e--;
        if (e > s && h1_token_eq(p + s, e - s, word))
            return true;
    }
    return false;
}

/* Content-Length: 1 to 18 digits, nothing else (no sign, no spaces, no list). */
static int64_t parse_length(const char *p, size_t n)
{
    int64_t v = 0;
    if (n == 0 || n > 18)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* Finds the blank line that ends a head, refusing bytes that no valid head
 * holds. Returns the head length, 0 when not there yet, -1 on a bad byte.
 * Line by line with memchr: within a line (up to its LF) the only CR allowed
 * is the one right before the LF; an unfinished line may end in a CR.
 * Resumable, so that a head fed in small reads is scanned once: *line (the
 * start of the unfinished line) and *seen (how far an earlier call checked)
 * are 0 at first and kept when the head is not there yet. Before *seen - 1
 * that line holds no CR, LF or NUL; the scan picks up at *seen - 1, which may
 * be the CR of a CRLF cut in two by a read. */
static ssize_t find_head_end(const char *buf, size_t len, size_t *line, size_t *seen, const char **why)
{
    size_t i = *line;
    size_t from = *seen > i ? *seen - 1 : i;
    while (i < len) {
        const char *nl = memchr(buf + from, '\n', len - from);
        size_t end = nl ? (size_t)(nl - buf) : len;
        const char *cr = memchr(buf + from, '\r', end - from);
        const char *nul = memchr(buf + from, 0, end - from);
        /* The first bad byte names the error, as it would if it ended a read. */
        if (cr && (size_t)(cr - buf) + 1 < end && (!nul || cr < nul)) {
            *why = "bare CR in head";
            return -1;
        }
        if (nul) {
            *why = "NUL byte in head";
            return -1;
        }
        if (!nl)
            break;
        if (!cr) {
            *why = "bare LF in head";
            return -1;
        }
        if (end >= 3 && buf[end - 2] == '\n' && buf[end - 3] == '\r')
            return (ssize_t)(end + 1);
        i = from = end + 1;
    }
    *line = i;
    *seen = len;
    return 0;
}

static ssize_t req_fail(h1_request *req, int status, const char *why)
{
    req->status = status;
    req->error = why;
    return H1_ERROR;
}

static const char *const known_methods[] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", NULL,
};

/* The method and the SP after it. Returns the method's length, 0 when more
 * bytes are needed, -1 on error. */
static ssize_t request_method(const char *buf, size_t len, h1_request *req)
{
    size_t i = 0;
    while (i < len && i <= 32 && is_tchar((unsigned char)buf[i]))
        i++;
    /* Judged on its first 33 bytes, whatever follows: a read may end there. */
    if (i > 32)
        return req_fail(req, 400, "method too long");
    if (i == len)
        return 0;
    if (i == 0)
        return req_fail(req, 400, buf[0] == '\r' ? "empty line before request line" : "malformed request line");
    if (buf[i] != ' ')
        return req_fail(req, 400, "malformed request line");
    req->method.p = buf;
    req->method.n = i;
    bool known = false;
    for (const char *const *m = known_methods; *m; m++)
        if (strlen(*m) == i && memcmp(*m, buf, i) == 0)
            known = true;
    if (!known)
        return req_fail(req, 501, "unsupported method");
    return (ssize_t)i;
}

/* The target starting at buf[t] and the SP after it. Returns the offset of
 * that SP, 0 when more bytes are needed, -1 on error. The check resumes at
 * *target_seen and leaves it where it stopped. */
static ssize_t request_target(const char *buf, size_t len, size_t t, h1_request *req, size_t *target_seen)
{
    size_t i = t;
    if (*target_seen > i)
        i = *target_seen;
    while (i < len && (unsigned char)buf[i] > 0x20 && (unsigned char)buf[i] < 0x7f) {
        if (buf[i] == '#')
            return req_fail(req, 400, "fragment in request target");
        i++;
    }
    *target_seen = i;
    if (i == len)
        return 0;
    if (i == t)
        return req_fail(req, 400, "empty request target");
    if (buf[t] != '/')
        return req_fail(req, 400, "request target is not origin-form");
    if (buf[i] != ' ')
        return req_fail(req, 400, "invalid byte in request target");
    req->target.p = buf + t;
    req->target.n = i - t;
    return (ssize_t)i;
}

/* "HTTP/1.0" or "HTTP/1.1" starting at buf[i], then CRLF. Returns the length
 * of the whole line, 0 when more bytes are needed, -1 on error. */
static ssize_t request_version(const char *buf, size_t len, size_t i, h1_request *req)
{
    static const char proto[] = "HTTP/1.";
    for (size_t k = 0; k < 7; k++, i++) {
        if (i == len)
            return 0;
        if (buf[i] != proto[k]) {
            if (k >= 5 && buf[i] >= '0' && buf[i] <= '9')
                return req_fail(req, 505, "HTTP version not supported");
            return req_fail(req, 400, "malformed HTTP version");
        }
    }
    if (i == len)
        return 0;
    if (buf[i] != '0' && buf[i] != '1')
        return req_fail(req, buf[i] >= '0' && buf[i] <= '9' ? 505 : 400, "HTTP version not supported");
    req->minor = buf[i] - '0';
    i++;
    if (i == len || (buf[i] == '\r' && i + 1 == len))
        return 0;
    if (buf[i] != '\r' || buf[i + 1] != '\n')
        return req_fail(req, 400, "malformed request line");
    return (ssize_t)(i + 2);
}

/* Request line, possibly partial: returns its length with CRLF, 0 when more
 * bytes are needed, -1 on error (req->status/error set). Only the target can
 * be long (the method is at most 32 bytes, the version 10): *target_seen
 * (0 at first) is where its check stopped, and where the next call resumes. */
static ssize_t parse_request_line(const char *buf, size_t len, h1_request *req, size_t *target_seen)
{
    ssize_t method = request_method(buf, len, req);
    if (method <= 0)
        return method;
    ssize_t sp = request_target(buf, len, (size_t)method + 1, req, target_seen);
    if (sp <= 0)
        return sp;
    return request_version(buf, len, (size_t)sp + 1, req);
}

/* One header line starting at p (within a complete head). Returns the line
 * length with CRLF, or -1 with *why set. name/value point into p. */
static ssize_t parse_field(const char *p, const char *end, h1_str *name, h1_str *value, const char **why)
{
    const char *q = p;
    if (*q == ' ' || *q == '\t') {
        *why = "obsolete line folding";
        return -1;
    }
    while (q < end && is_tchar((unsigned char)*q))
        q++;
    if (q == p || q == end || *q != ':') {
        *why = "malformed header field";
        return -1;
    }
    name->p = p;
    name->n = (size_t)(q - p);
    q++;
    while (q < end && (*q == ' ' || *q == '\t'))
        q++;
    const char *v = q;
    /* find_head_end let no NUL, bare CR or bare LF into a complete head: the
     * line ends at its first CR. */
    const char *cr = memchr(q, '\r', (size_t)(end - q));
    q = cr ? cr : end;
    if (!value_bytes_ok(v, q)) {
        *why = "control byte in header value";
        return -1;
    }
    if (q + 1 >= end || q[1] != '\n') {
        *why = "malformed header line";
        return -1;
    }
    const char *ve = q;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
    value->p = v;
    value->n = (size_t)(ve - v);
    return (ssize_t)(q + 2 - p);
}

/* The header fields of a complete request head, from p (after the request
 * line) to end (after the blank line). Returns 0, or H1_ERROR with
 * req->status/error set. *keep_alive: a Connection field says keep-alive. */
static ssize_t request_fields(const char *p, const char *end, h1_request *req, bool *keep_alive)
{
    const char *why = NULL;
    bool has_te = false;
    int nfields = 0;
    while (p < end - 2) {
        h1_str name, value;
        ssize_t n = parse_field(p, end, &name, &value, &why);
        if (n < 0)
            return req_fail(req, 400, why);
        p += n;
        if (++nfields > H1_MAX_HEADERS)
            return req_fail(req, 431, "too many header fields");

        if (TOKEN_IS(name, "content-length")) {
            if (req->content_length >= 0)
                return req_fail(req, 400, "duplicate Content-Length");
            req->content_length = parse_length(value.p, value.n);
            if (req->content_length < 0)
                return req_fail(req, 400, "invalid Content-Length");
        } else if (TOKEN_IS(name, "transfer-encoding")) {
            if (has_te)
                return req_fail(req, 400, "duplicate Transfer-Encoding");
            has_te = true;
            if (!TOKEN_IS(value, "chunked"))
                return req_fail(req, 400, "Transfer-Encoding other than chunked");
            req->chunked = true;
        } else if (TOKEN_IS(name, "connection")) {
            if (list_has(value.p, value.n, "close"))
                req->conn_close = true;
            if (list_has(value.p, value.n, "keep-alive"))
                *keep_alive = true;
        } else if (TOKEN_IS(name, "host")) {
            if (req->host.p)
                return req_fail(req, 400, "duplicate Host");
            req->host = value;
        } else if (TOKEN_IS(name, "expect")) {
            if (!TOKEN_IS(value, "100-continue"))
                return req_fail(req, 417, "unsupported Expect");
            req->expect_continue = true;
        }
    }
    return 0;
}

void h1_progress_init(h1_progress *prog)
{
    memset(prog, 0, sizeof(*prog));
}

ssize_t h1_parse_request(const char *buf, size_t len, size_t max_head, h1_request *req)
{
    h1_progress fresh;
    h1_progress_init(&fresh);
    return h1_parse_request_resume(buf, len, max_head, req, &fresh);
}

/* The checks run in the same order as on a whole buffer: the ones that can
 * meet many bytes (the target, the head lines) pick up where they stopped, the
 * short ones (method, version) run again; so until the head is complete a call
 * costs its new bytes and a constant. */
ssize_t h1_parse_request_resume(const char *buf, size_t len, size_t max_head, h1_request *req, h1_progress *prog)
{
    memset(req, 0, sizeof(*req));
    req->content_length = -1;

    size_t scan = len < max_head ? len : max_head;
    /* A progress that does not fit these bytes (fewer of them than last
     * time) would send the scans past the end: start over. */
    if (prog->seen > scan || prog->target_seen > scan || prog->line > prog->seen)
        h1_progress_init(prog);
    ssize_t line = parse_request_line(buf, scan, req, &prog->target_seen);
    if (line < 0)
        return H1_ERROR;
    const char *why = NULL;
    ssize_t head = find_head_end(buf, scan, &prog->line, &prog->seen, &why);
    if (head < 0)
        return req_fail(req, 400, why);
    if (line == 0 || head == 0) {
        if (len >= max_head)
            return req_fail(req, 431, line == 0 ? "request line too long" : "request head too large");
        return H1_INCOMPLETE;
    }

    bool keep_alive = false;
    if (request_fields(buf + line, buf + head, req, &keep_alive) < 0)
        return H1_ERROR;
    if (req->chunked && req->content_length >= 0)
        return req_fail(req, 400, "both Content-Length and Transfer-Encoding");
    if (req->chunked && req->minor == 0)
        return req_fail(req, 400, "Transfer-Encoding in HTTP/1.0");
    if (req->minor == 1 && !req->host.p)
        return req_fail(req, 400, "missing Host header");
    if (req->minor == 0 && !keep_alive)
        req->conn_close = true;
    return head;
}

/* The header fields of a complete response head, from p (after the status
 * line) to end (after the blank line). Returns 0, or H1_ERROR with
 * res->error set. */
static ssize_t response_fields(const char *p, const char *end, h1_response *res)
{
    const char *why = NULL;
    bool has_te = false;
    int nfields = 0;
    while (p < end - 2) {
        h1_str name, value;
        ssize_t n = parse_field(p, end, &name, &value, &why);
        if (n < 0) {
            res->error = why;
            return H1_ERROR;
        }
        p += n;
        if (++nfields > H1_MAX_HEADERS) {
            res->error = "too many header fields in response";
            return H1_ERROR;
        }
        if (TOKEN_IS(name, "content-length")) {
            int64_t v = parse_length(value.p, value.n);
            if (v < 0 || (res->content_length >= 0 && v != res->content_length)) {
                res->error = "invalid Content-Length in response";
                return H1_ERROR;
            }
            res->content_length = v;
        } else if (TOKEN_IS(name, "transfer-encoding")) {
            if (has_te || !TOKEN_IS(value, "chunked")) {
                res->error = "unsupported Transfer-Encoding in response";
                return H1_ERROR;
            }
            has_te = true;
            res->chunked = true;
        } else if (TOKEN_IS(name, "connection")) {
            if (list_has(value.p, value.n, "close"))
                res->conn_close = true;
        } else if (TOKEN_IS(name, "content-type")) {
            if (TOKEN_IS(value, "application/vnd.docker.raw-stream") ||
                TOKEN_IS(value, "application/vnd.docker.multiplexed-stream"))
                res->docker_stream = true;
        }
    }
    return 0;
}

ssize_t h1_parse_response(const char *buf, size_t len, size_t max_head, h1_response *res)
{
    memset(res, 0, sizeof(*res));
    res->content_length = -1;
    size_t scan = len < max_head ? len : max_head;
    const char *why = NULL;
    size_t line = 0, seen = 0;
    ssize_t head = find_head_end(buf, scan, &line, &seen, &why);
    if (head < 0) {
        res->error = why;
        return H1_ERROR;
    }
    if (head == 0) {
        if (len >= max_head) {
            res->error = "response head too large";
            return H1_ERROR;
        }
        return H1_INCOMPLETE;
    }
    /* "HTTP/1.x DDD" then SP reason or CRLF */
    if (head < 16 || memcmp(buf, "HTTP/1.", 7) != 0 || (buf[7] != '0' && buf[7] != '1') || buf[8] != ' ' ||
        buf[9] < '1' || buf[9] > '9' || buf[10] < '0' || buf[10] > '9' || buf[11] < '0' || buf[11] > '9' ||
        (buf[12] != ' ' && buf[12] != '\r')) {
        res->error = "malformed status line";
        return H1_ERROR;
    }
    res->minor = buf[7] - '0';
    res->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    const char *p = memchr(buf, '\n', (size_t)head) + 1;
    if (response_fields(p, buf + head, res) < 0)
        return H1_ERROR;
    if (res->chunked && res->content_length >= 0) {
        res->error = "both Content-Length and Transfer-Encoding in response";
        return H1_ERROR;
    }
    if (res->minor == 0)
        res->conn_close = true;
    return head;
}

enum {
    CH_SIZE_FIRST, CH_SIZE, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF,
    CH_TRAILER_START, CH_TRAILER_LINE, CH_TRAILER_LF, CH_END_LF, CH_DONE,
};

#define MAX_TRAILER_BYTES 16384

void h1_chunked_init(h1_chunked *c, bool allow_trailers)
{
    memset(c, 0, sizeof(*c));
    c->allow_trailers = allow_trailers;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static ssize_t chunk_fail(h1_chunked *c, const char *why)
{
    c->error = why;
    return -1;
}

/* The chunk-size line: hex digits, an extension (responses only), CRLF.
 * Consumes bytes of p[0..len) while in CH_SIZE_FIRST .. CH_SIZE_LF, up to the
 * LF that ends the line; -1 on error. */
static inline ssize_t chunk_size_line(h1_chunked *c, const char *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char ch = (unsigned char)p[i++];
        switch (c->state) {
        case CH_SIZE_FIRST:
        case CH_SIZE: {
            int v = hexval(ch);
            if (v >= 0) {
                if (++c->digits > 15)
                    return chunk_fail(c, "chunk size too large");
                c->size = c->size * 16 + (uint64_t)v;
                c->state = CH_SIZE;
            } else if (c->state == CH_SIZE && ch == '\r') {
                c->state = CH_SIZE_LF;
            } else if (c->state == CH_SIZE && ch == ';' && c->allow_trailers) {
                c->state = CH_EXT;
            } else {
                return chunk_fail(c, ch == ';' ? "chunk extension" : "invalid chunk size");
            }
            break;
        }
        case CH_EXT:
            if (ch == '\r')
                c->state = CH_SIZE_LF;
            else if (!is_vchar_or_ws(ch))
                return chunk_fail(c, "invalid chunk extension");
            break;
        case CH_SIZE_LF:
            if (ch != '\n')
                return chunk_fail(c, "bare CR after chunk size");
            c->digits = 0;
            c->state = c->size ? CH_DATA : CH_TRAILER_START;
            return (ssize_t)i;
        }
    }
    return (ssize_t)i;
}

/* A chunk's data, taken whole, and the CRLF after it: CH_DATA .. CH_DATA_LF,
 * up to that LF; -1 on error. */
static inline ssize_t chunk_data(h1_chunked *c, const char *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        switch (c->state) {
        case CH_DATA: {
            size_t n = len - i;
            if ((uint64_t)n > c->size)
                n = (size_t)c->size;
            c->size -= n;
            i += n;
            if (c->size == 0)
                c->state = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR:
            if (p[i++] != '\r')
                return chunk_fail(c, "chunk data longer than its size");
            c->state = CH_DATA_LF;
            break;
        case CH_DATA_LF:
            if (p[i++] != '\n')
                return chunk_fail(c, "bare CR after chunk data");
            c->state = CH_SIZE_FIRST;
            return (ssize_t)i;
        }
    }
    return (ssize_t)i;
}

/* After the last chunk: trailer fields (never in a request) and the final
 * CRLF, CH_TRAILER_START .. CH_END_LF, up to CH_DONE; -1 on error. */
static inline ssize_t chunk_trailers(h1_chunked *c, const char *p, size_t len)
{
    size_t i = 0;
    while (i < len && c->state != CH_DONE) {
        unsigned char ch = (unsigned char)p[i++];
        switch (c->state) {
        case CH_TRAILER_START:
            if (ch == '\r') {
                c->state = CH_END_LF;
            } else if (!c->allow_trailers) {
                return chunk_fail(c, "trailer fields in request");
            } else if (ch == ' ' || ch == '\t' || !is_tchar(ch)) {
                return chunk_fail(c, "malformed trailer");
            } else {
                c->state = CH_TRAILER_LINE;
            }
            break;
        case CH_TRAILER_LINE:
            if (++c->trailer_bytes > MAX_TRAILER_BYTES)
                return chunk_fail(c, "trailers too large");
            if (ch == '\r')
                c->state = CH_TRAILER_LF;
            else if (!is_vchar_or_ws(ch))
                return chunk_fail(c, "control byte in trailer");
            break;
        case CH_TRAILER_LF:
            if (ch != '\n')
                return chunk_fail(c, "bare CR in trailer");
            c->state = CH_TRAILER_START;
            break;
        case CH_END_LF:
            if (ch != '\n')
                return chunk_fail(c, "bare CR at end of chunked body");
            c->state = CH_DONE;
            break;
        }
    }
    return (ssize_t)i;
}

/* Hands the bytes to the part of the body the state is in: a size line, a
 * chunk's data, or the trailers after the last chunk. */
ssize_t h1_chunked_feed(h1_chunked *c, const char *p, size_t len, bool *done)
{
    size_t i = 0;
    *done = c->state == CH_DONE;
    while (i < len && c->state != CH_DONE) {
        ssize_t n;
        switch (c->state) {
        case CH_SIZE_FIRST:
        case CH_SIZE:
        case CH_EXT:
        case CH_SIZE_LF:
            n = chunk_size_line(c, p + i, len - i);
            break;
        case CH_DATA:
        case CH_DATA_CR:
        case CH_DATA_LF:
            n = chunk_data(c, p + i, len - i);
            break;
        default:
            n = chunk_trailers(c, p + i, len - i);
            break;
        }
        if (n < 0)
            return -1;
        i += (size_t)n;
    }
    *done = c->state == CH_DONE;
    return (ssize_t)i;
}

/* ---- message bodies ---- */

void h1_body_request(h1_body *b, const h1_request *req)
{
    memset(b, 0, sizeof(*b));
    if (req->chunked) {
        b->mode = H1_BODY_CHUNKED;
        h1_chunked_init(&b->ch, false);
    } else if (req->content_length > 0) {
        b->mode = H1_BODY_LENGTH;
        b->left = (uint64_t)req->content_length;
    } else {
        b->mode = H1_BODY_NONE;
    }
}

void h1_body_response(h1_body *b, const h1_response *res, bool to_head)
{
    memset(b, 0, sizeof(*b));
    if (to_head || res->status == 204 || res->status == 304) {
        b->mode = H1_BODY_NONE;
    } else if (res->chunked) {
        b->mode = H1_BODY_CHUNKED;
        h1_chunked_init(&b->ch, true);
    } else if (res->content_length >= 0) {
        b->mode = res->content_length > 0 ? H1_BODY_LENGTH : H1_BODY_NONE;
        b->left = (uint64_t)res->content_length;
    } else {
        b->mode = H1_BODY_CLOSE;
    }
}

void h1_body_close(h1_body *b)
{
    memset(b, 0, sizeof(*b));
    b->mode = H1_BODY_CLOSE;
}

ssize_t h1_body_decode(h1_body *b, const char *p, size_t len, char *out, size_t *outlen, bool *done)
{
    *outlen = 0;
    if (b->mode != H1_BODY_CHUNKED || b->error) {
        ssize_t k = h1_body_feed(b, p, len, done);
        if (k > 0 && b->mode != H1_BODY_NONE) {
            memcpy(out, p, (size_t)k);
            *outlen = (size_t)k;
        }
        return k;
    }
    /* Chunk data is copied in runs; the framing around it (size lines,
     * CRLFs, the last chunk) is fed a byte at a time, so each data run
     * starts exactly where the tracker says. */
    size_t i = 0;
    *done = b->ch.state == CH_DONE;
    while (i < len && !*done) {
        size_t n = 1;
        if (b->ch.state == CH_DATA) {
            n = (uint64_t)(len - i) < b->ch.size ? len - i : (size_t)b->ch.size;
            memcpy(out + *outlen, p + i, n);
            *outlen += n;
        }
        ssize_t k = h1_chunked_feed(&b->ch, p + i, n, done);
        if (k < 0) {
            b->error = b->ch.error;
            return -1;
        }
        i += (size_t)k;
    }
    return (ssize_t)i;
}

ssize_t h1_body_feed(h1_body *b, const char *p, size_t len, bool *done)
{
    *done = false;
    if (b->error)
        return -1; /* an error sticks: nothing after it belongs to the body */
    switch (b->mode) {
    case H1_BODY_CHUNKED: {
        ssize_t k = h1_chunked_feed(&b->ch, p, len, done);
        if (k < 0)
            b->error = b->ch.error;
        return k;
    }
    case H1_BODY_LENGTH: {
        size_t k = len < b->left ? len : (size_t)b->left;
        b->left -= k;
        *done = b->left == 0;
        return (ssize_t)k;
    }
    case H1_BODY_CLOSE:
        *done = false;
        return (ssize_t)len;
    case H1_BODY_NONE:
    default:
        *done = true;
        return 0;
    }
}

void h1_body_take(h1_body *b, size_t len, bool *done)
{
    /* LENGTH and CLOSE count bytes and never read them. */
    (void)h1_body_feed(b, NULL, len, done);
}
