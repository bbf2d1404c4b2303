/* Table-driven tests of learn mode (core/learn.c, core/learn_log.c): rows
 * of notes and the exact report they give (defaults left out, ALLOW_LOGS
 * folded into CONTAINERS, the alternative that adds less, prefixes, body
 * variables and binds, examples, the caps); one access-log line per row,
 * noted or skipped; whole text and JSON logs through learn_from_log. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/learn.h"
#include "unit.h"

#define B(v) RBIT(RV_##v)
#define HEAD                                                                                                   \
    "# socket-proxy learn: the least variables that allow what each client did\n"                             \
    "# Paste a block's \"- NAME=1\" lines into the socket-proxy service's environment list.\n"                    \
    "# Built-in defaults assumed: a variable they grant, or one that follows a listed\n"                         \
    "# one (ALLOW_LOGS follows CONTAINERS), is left out.\n"

typedef struct note {
    int prof;
    const char *client; /* NULL ends the list */
    rules_mask need, alt;
    const char *method, *target;
} note;

typedef struct body {
    int prof;
    const char *client; /* NULL ends the list */
    rules_mask vars;
    const char *binds[4];
    int nbinds;
} body;

typedef struct report_row {
    const char *what;
    int nprof; /* 0: the default profile alone */
    const char *names[3], *prefixes[3];
    note notes[8];
    body bodies[4];
    const char *expect; /* the report after HEAD */
} report_row;

#define CREATE "POST", "/v1.41/containers/create"
#define START "POST", "/v1.41/containers/abc/start"

static const report_row report_rows[] = {
    {"nothing noted", .expect = "\n# no requests seen\n"},
    {"defaults are left out",
     .notes = {{0, "uid=0", B(PING), 0, "GET", "/_ping"},
               {0, "uid=0", B(VERSION), 0, "GET", "/v1.41/version"},
               {0, "uid=0", B(EVENTS), 0, "GET", "/v1.41/events"}},
     .expect = "\n# client uid=0: 3 requests\n#   nothing to add: the defaults allowed every request\n"},
    {"ALLOW_LOGS alone is kept",
     .notes = {{0, "10.0.0.5", B(ALLOW_LOGS), 0, "GET", "/v1.41/containers/abc/logs?follow=1"}},
     .expect = "\n# client 10.0.0.5: 1 request\n"
               "      - ALLOW_LOGS=1  # 1 request: GET /v1.41/containers/abc/logs?follow=1\n"},
    {"ALLOW_LOGS follows CONTAINERS: left out, its requests counted there",
     .notes = {{0, "10.0.0.5", B(ALLOW_LOGS), 0, "GET", "/v1.41/containers/abc/logs"},
               {0, "10.0.0.5", B(CONTAINERS), 0, "GET", "/v1.41/containers/json"}},
     .expect = "\n# client 10.0.0.5: 2 requests\n"
               "      - CONTAINERS=1  # 2 requests: GET /v1.41/containers/abc/logs, GET /v1.41/containers/json\n"},
    {"an alternative already covered adds nothing",
     .notes = {{0, "uid=0", B(ALLOW_START), B(CONTAINERS) | B(POST), START},
               {0, "uid=0", B(CONTAINERS) | B(POST), 0, CREATE}},
     .expect = "\n# client uid=0: 2 requests\n"
               "      - CONTAINERS=1  # 2 requests: POST /v1.41/containers/abc/start, POST /v1.41/containers/create\n"
               "      - POST=1        # 2 requests: POST /v1.41/containers/abc/start, POST /v1.41/containers/create\n"},
    {"a tie takes need, the action variable",
     .notes = {{0, "uid=0", B(CONTAINERS), 0, "GET", "/v1.41/containers/json"},
               {0, "uid=0", B(ALLOW_START), B(CONTAINERS) | B(POST), START}},
     .expect = "\n# client uid=0: 2 requests\n"
               "      - CONTAINERS=1   # 1 request: GET /v1.41/containers/json\n"
               "      - ALLOW_START=1  # 1 request: POST /v1.41/containers/abc/start\n"},
    {"need_alt when it adds fewer variables",
     .notes = {{0, "uid=0", B(CONTAINERS), 0, "GET", "/v1.41/containers/json"},
               {0, "uid=0", B(ALLOW_START) | B(ALLOW_PAUSE), B(CONTAINERS) | B(POST), START}},
     .expect = "\n# client uid=0: 2 requests\n"
               "      - CONTAINERS=1  # 2 requests: GET /v1.41/containers/json, POST /v1.41/containers/abc/start\n"
               "      - POST=1        # 1 request: POST /v1.41/containers/abc/start\n"},
    {"a variable chosen early that a later one makes needless is dropped",
     .notes = {{0, "uid=0", B(ALLOW_LOGS), 0, "GET", "/v1.41/containers/a/logs"},
               {0, "uid=0", B(ALLOW_START), B(CONTAINERS) | B(POST), START},
               {0, "uid=0", B(CONTAINERS) | B(POST), 0, CREATE}},
     .expect = "\n# client uid=0: 3 requests\n"
               "      - CONTAINERS=1  # 3 requests: GET /v1.41/containers/a/logs, POST /v1.41/containers/abc/start, "
               "POST /v1.41/containers/create\n"
               "      - POST=1        # 2 requests: POST /v1.41/containers/abc/start, POST /v1.41/containers/create\n"},
    {"nested alternatives: the weaker decides",
     .notes = {{0, "uid=0", B(CONTAINERS) | B(ALLOW_EXPORT), B(CONTAINERS), "GET", "/x"}},
     .expect = "\n# client uid=0: 1 request\n      - CONTAINERS=1  # 1 request: GET /x\n"},
    {"prefixes, and the default profile named beside others",
     .nprof = 2,
     .names = {"", "traefik"},
     .prefixes = {"", "TRAEFIK__"},
     .notes = {{1, "10.0.0.5", B(CONTAINERS), 0, "GET", "/v1.41/containers/json"},
               {1, "10.0.0.5", B(EVENTS), 0, "GET", "/v1.41/events"},
               {0, "uid=0", B(INFO), 0, "GET", "/v1.41/info"},
               {2, "uid=0", B(INFO), 0, "GET", "/out/of/range"},
               {-1, "uid=0", B(INFO), 0, "GET", "/out/of/range"}},
     .expect = "\n# profile default, client uid=0: 1 request\n"
               "      - INFO=1  # 1 request: GET /v1.41/info\n"
               "\n# profile traefik, client 10.0.0.5: 2 requests\n"
               "      - TRAEFIK__CONTAINERS=1  # 1 request: GET /v1.41/containers/json\n"},
    {"several clients: a block each, then all together",
     .notes = {{0, "uid=0", B(ALLOW_START), B(CONTAINERS) | B(POST), START},
               {0, "uid=1000", B(CONTAINERS) | B(POST), 0, CREATE},
               {0, "uid=1000", B(INFO), 0, "GET", "/info"}},
     .expect = "\n# client uid=0: 1 request\n"
               "      - ALLOW_START=1  # 1 request: POST /v1.41/containers/abc/start\n"
               "\n# client uid=1000: 2 requests\n"
               "      - CONTAINERS=1  # 1 request: POST /v1.41/containers/create\n"
               "      - INFO=1        # 1 request: GET /info\n"
               "      - POST=1        # 1 request: POST /v1.41/containers/create\n"
               "\n# all 2 clients together: 3 requests\n"
               "      - CONTAINERS=1  # 2 requests: POST /v1.41/containers/abc/start, POST /v1.41/containers/create\n"
               "      - INFO=1        # 1 request: GET /info\n"
               "      - POST=1        # 2 requests: POST /v1.41/containers/abc/start, POST /v1.41/containers/create\n"},
    {"body variables and binds",
     .notes = {{0, "uid=0", B(CONTAINERS) | B(POST), 0, CREATE}},
     .bodies = {{0, "uid=0", B(ALLOW_PRIVILEGED) | B(ALLOW_DEVICES) | B(SECRETS), {"/srv/x", "/srv/app/data"}, 2},
                {0, "uid=0", B(ALLOW_PRIVILEGED), {"/srv/app/data"}, 1},
                {0, "uid=0", 0, {"named-volume"}, 1}},
     .expect = "\n# client uid=0: 1 request\n"
               "      - CONTAINERS=1        # 1 request: POST /v1.41/containers/create\n"
               "      - POST=1              # 1 request: POST /v1.41/containers/create\n"
               "      - ALLOW_PRIVILEGED=1  # 2 request bodies asked for it\n"
               "      - ALLOW_DEVICES=1     # 1 request body asked for it\n"
               "      - ALLOW_BINDS=/srv/app/data,/srv/x  # 2 request bodies bound these host paths\n"},
    {"binds YAML must quote, a path ALLOW_BINDS cannot hold, paths the log does not name",
     .nprof = 1,
     .names = {"web-app"},
     .prefixes = {"WEB_APP__"},
     .bodies = {{0, "uid=0", 0, {"/srv/my dir", "/data/a,b/c", "/q\"x\\"}, 3}, {0, "uid=0", 0, {NULL}, -1}},
     .expect = "\n# profile web-app, client uid=0: 0 requests\n"
               "      - \"WEB_APP__ALLOW_BINDS=/data,/q\\\"x\\\\,/srv/my dir\"  # 1 request body bound these host paths\n"
               "#   1 request body was refused for host paths the log does not name: add them to "
               "WEB_APP__ALLOW_BINDS (each 403 names its path)\n"
               "#   a path ALLOW_BINDS cannot hold exactly (a comma, a byte outside printable ASCII, over 255 bytes) "
               "is listed as its parent directory\n"},
    {"examples: distinct, at most LEARN_EXAMPLES, escaped",
     .notes = {{0, "uid=0", B(IMAGES), 0, "GET", "/images/a"},
               {0, "uid=0", B(IMAGES), 0, "GET", "/images/a"},
               {0, "uid=0", B(IMAGES), 0, "GET", "/images/\x01\xff\\"},
               {0, "uid=0", B(IMAGES), 0, NULL, NULL},
               {0, "uid=0", B(IMAGES), 0, "GET", "/images/d"}},
     .expect = "\n# client uid=0: 5 requests\n"
               "      - IMAGES=1  # 5 requests: GET /images/a, GET /images/\\x01\\xff\\\\, - -\n"},
    {"requests no variable grants",
     .notes = {{0, "uid=0", 0, 0, "GET", "/foo"}, {0, "uid=0", 0, 0, "GET", "/foo"}, {0, "uid=0", 0, 0, "GET", "/bar"}},
     .expect = "\n# client uid=0: 3 requests\n"
               "#   nothing to add: the defaults allowed every request a variable can grant\n"
               "#   3 requests that no variable grants (refused whatever is set): GET /foo, GET /bar\n"},
    {"a client's key is escaped, an empty one is ?",
     .notes = {{0, "a\nb", B(INFO), 0, "GET", "/info"}, {0, "", B(INFO), 0, "GET", "/info"}},
     .expect = "\n# client a\\x0ab: 1 request\n      - INFO=1  # 1 request: GET /info\n"
               "\n# client ?: 1 request\n      - INFO=1  # 1 request: GET /info\n"
               "\n# all 2 clients together: 2 requests\n      - INFO=1  # 2 requests: GET /info\n"},
};

static char *report_of(const report_row *r)
{
    learn *l = learn_new(r->nprof ? r->nprof : 1, r->nprof ? r->names : (const char *const[]){""},
                         r->nprof ? r->prefixes : (const char *const[]){""});
    for (const note *n = r->notes; n->client; n++)
        learn_note(l, n->prof, n->client, n->need, n->alt, n->method, n->target);
    for (const body *b = r->bodies; b->client; b++)
        learn_note_body(l, b->prof, b->client, b->vars, b->binds, b->nbinds);
    size_t len = 0;
    char *text = learn_report(l, &len);
    learn_free(l);
    if (text && strlen(text) != len) {
        free(text);
        return NULL;
    }
    return text;
}

static void test_reports(void)
{
    for (size_t i = 0; i < sizeof(report_rows) / sizeof(report_rows[0]); i++) {
        const report_row *r = &report_rows[i];
        char *text = report_of(r);
        size_t hl = strlen(HEAD);
        bool ok = text && strncmp(text, HEAD, hl) == 0 && strcmp(text + hl, r->expect) == 0;
        CHECK(ok, "%s: got\n%s\nwant\n%s", r->what, text ? text + (strlen(text) > hl ? hl : 0) : "(null)", r->expect);
        free(text);
    }
}

static char *report(learn *l)
{
    size_t len;
    char *text = learn_report(l, &len);
    learn_free(l);
    return text;
}

/* Past LEARN_MAX_CLIENTS, clients fold into one "other clients" block. */
static void test_client_cap(void)
{
    learn *l = learn_new(1, (const char *const[]){"traefik"}, (const char *const[]){"TRAEFIK__"});
    char key[32];
    for (int i = 0; i < LEARN_MAX_CLIENTS + 2; i++) {
        snprintf(key, sizeof(key), "10.0.0.%d", i);
        learn_note(l, 0, key, i < LEARN_MAX_CLIENTS ? B(INFO) : B(IMAGES), 0, "GET", i < LEARN_MAX_CLIENTS ? "/info" : "/images/json");
    }
    char *text = report(l);
    CHECK(text && strstr(text, "\n# profile traefik, client 10.0.0.63: 1 request\n      - TRAEFIK__INFO=1  # 1 request: GET /info\n"),
          "the 64th client has its block");
    CHECK(text && !strstr(text, "client 10.0.0.64"), "the 65th has none");
    CHECK(text && strstr(text, "\n# profile traefik, other clients (past the first 64): 2 requests\n"
                               "      - TRAEFIK__IMAGES=1  # 2 requests: GET /images/json\n"),
          "the rest fold into other clients");
    CHECK(text && strstr(text, "\n# profile traefik, all clients together: 66 requests\n"
                               "      - TRAEFIK__IMAGES=1  # 2 requests: GET /images/json\n"
                               "      - TRAEFIK__INFO=1    # 64 requests: GET /info\n"),
          "all together");
    free(text);
}

/* Past LEARN_MAX_NEEDS kinds, requests are counted, not kept; past
 * LEARN_MAX_BINDS paths, the report says how many more. */
static void test_needs_and_binds_caps(void)
{
    learn *l = learn_new(0, NULL, NULL);
    int p = learn_profile(l, "");
    for (int i = 0; i < LEARN_MAX_NEEDS + 44; i++)
        learn_note(l, p, "uid=0", (rules_mask)i + 1, 0, "GET", "/x");
    for (int i = 0; i < LEARN_MAX_BINDS + 3; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/srv/%02d", i);
        learn_note_body(l, p, "uid=0", 0, (const char *const[]){path}, 1);
    }
    char *text = report(l);
    CHECK(text && strstr(text, "#   44 requests of kinds past the first 256 were not kept: the lines above may miss "
                               "what they needed\n"),
          "kinds past the cap");
    CHECK(text && strstr(text, "ALLOW_BINDS=/srv/00,/srv/01,") && strstr(text, ",/srv/15  # 19 request bodies"),
          "16 paths listed");
    CHECK(text && strstr(text, "#   3 more host paths were bound than ALLOW_BINDS lists (16): name a directory"),
          "paths past the cap");
    free(text);
}

/* ---- profiles as a log names them ---- */

typedef struct prefix_row {
    const char *name, *prefix; /* NULL: no profile can be called that */
} prefix_row;

static const prefix_row prefix_rows[] = {
    {"", ""},
    {"default", ""},
    {"traefik", "TRAEFIK__"},
    {"web-app_2", "WEB_APP_2__"},
    {"abcdefghijklmnopqrstuvwxyz01234", "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234__"},
    {"abcdefghijklmnopqrstuvwxyz012345", NULL},
    {"Traefik", NULL},
    {"a b", NULL},
    {"a.b", NULL},
    {"\xc3\xa9", NULL},
};

static void test_prefixes(void)
{
    for (size_t i = 0; i < sizeof(prefix_rows) / sizeof(prefix_rows[0]); i++) {
        const prefix_row *r = &prefix_rows[i];
        char out[64] = "unchanged";
        bool ok = learn_prefix(r->name, out, sizeof(out));
        CHECK(ok == (r->prefix != NULL) && (!ok || strcmp(out, r->prefix) == 0), "learn_prefix(\"%s\") = %d \"%s\"",
              r->name, ok, out);
    }
    learn *l = learn_new(0, NULL, NULL);
    CHECK(learn_profile(l, "a-b") == 0 && learn_profile(l, "a_b") == 0, "a-b and a_b are one prefix");
    CHECK(learn_profile(l, "") == 1 && learn_profile(l, "default") == 1, "\"\" and default are the default");
    CHECK(learn_profile(l, "A") == -1, "a bad name has no profile");
    char name[16];
    for (int i = 2; i < LEARN_MAX_PROFILES; i++) {
        snprintf(name, sizeof(name), "p%d", i);
        learn_profile(l, name);
    }
    CHECK(learn_profile(l, "one-more") == -1 && learn_profile(l, "p2") == 2, "at most LEARN_MAX_PROFILES");
    learn_free(l);
}

/* ---- access-log lines ---- */

#define TS "2024-05-01T10:00:00.000Z "
#define TAIL " 200 12 0.100ms"

typedef struct line_row {
    const char *line;
    size_t len; /* 0: strlen */
    int noted;  /* 1 noted, 0 skipped */
} line_row;

static const line_row line_rows[] = {
    {TS "127.0.0.1:4711 \"GET /v1.41/containers/json\" allow (CONTAINERS=1)" TAIL, 0, 1},
    {TS "[::1]:4711 \"GET /v1.41/containers/json\" deny (CONTAINERS=1)" TAIL, 0, 1},
    {TS "uid=1000 pid=42 \"POST /v1.41/containers/a/start\" learn-allow (ALLOW_START=1, or CONTAINERS=1 and POST=1)" TAIL,
     0, 1},
    {TS "uid=0 pid=1 [traefik] \"GET /v1.41/events\" allow (TRAEFIK__EVENTS=1)" TAIL, 0, 1},
    {TS "uid=0 pid=1 [default] \"GET /v1.41/events\" allow (EVENTS=1)" TAIL, 0, 1},
    {TS "uid=0 pid=1 \"GET /foo\" deny (no variable grants it)" TAIL, 0, 1},
    {TS "uid=0 pid=1 \"GET /a\\x20b\\\"\\\\\" allow (CONTAINERS=1, IMAGES=1 and POST=1)" TAIL, 0, 1},
    {TS "uid=0 pid=1 \"GET /a\" allow (CONTAINERS=1)" TAIL "\r", 0, 1},
    {TS "uid=0 pid=1 \"POST /v1.41/containers/create\" deny (ALLOW_PRIVILEGED)" TAIL, 0, 1},
    {TS "uid=0 pid=1 [w] \"POST /v1.41/containers/create\" deny (W__ALLOW_BINDS)" TAIL, 0, 1},
    {TS "uid=0 pid=1 [w] \"POST /v1.41/build?networkmode=host\" deny (ALLOW_HOST_NAMESPACES)" TAIL, 0, 1},
    {"{\"client\":\"uid=0 pid=1\",\"method\":\"GET\",\"target\":\"/_ping\",\"decision\":\"allow\",\"rule\":\"PING=1\"}", 0,
     1},
    {"{\"client\":\"10.0.0.5:80\",\"profile\":\"traefik\",\"method\":\"GET\",\"target\":\"/v1.41/info\","
     "\"decision\":\"deny\",\"rule\":\"TRAEFIK__INFO=1\",\"status\":403}",
     0, 1},

    /* skipped */
    {TS "socket-proxy info: socket-proxy 0.1.0: granted: EVENTS PING VERSION", 0, 0},
    {TS "socket-proxy warning: FOO is not a socket-proxy variable", 0, 0},
    {TS "10.0.0.9:4711 \"- -\" deny (not admitted by SOCKET_PROXY_ALLOW_FROM)" TAIL, 0, 0},
    {TS "uid=5 pid=1 \"- -\" deny (uid 5 not admitted by SOCKET_PROXY_PEER_UIDS)" TAIL, 0, 0},
    {TS "uid=0 pid=1 \"GET /%zz\" bad (bad percent-escape)" TAIL, 0, 0},
    {TS "uid=0 pid=1 \"GET /v1.41/containers/json\" bad (CONTAINERS=1)" TAIL, 0, 0},
    {TS "uid=0 pid=1 \"GET /v1.41/containers/json\" error (the daemon did not answer)" TAIL, 0, 0},
    {TS "uid=0 pid=1 \"POST /v1.41/containers/create\" bad (ALLOW_PRIVILEGED)" TAIL, 0, 0},
    {TS "uid=0 pid=1 \"POST /v1.41/containers/create\" deny (ALLOW_ENV)" TAIL, 0, 0},
    {TS "uid=0 pid=1 [traefik] \"GET /v1.41/events\" allow (EVENTS=1)" TAIL, 0, 0},
    {TS "uid=0 pid=1 [Traefik] \"GET /v1.41/events\" allow (TRAEFIK__EVENTS=1)" TAIL, 0, 0},
    {TS "uid=0 pid=1 [] \"GET /v1.41/events\" allow (EVENTS=1)" TAIL, 0, 0},
    {TS "uid=0 pid=1 \"GET /a\" allow (CONTAINER=1)" TAIL, 0, 0},
    {TS "uid=0 pid=1 \"GET /a\" allow (CONTAINERS=2)" TAIL, 0, 0},
    {TS "uid=0 pid=1 \"GET /a\" allow (CONTAINERS=1 and)" TAIL, 0, 0},
    {TS "uid=0 pid=1 \"GET /a\" allow (CONTAINERS=1, or )" TAIL, 0, 0},
    {TS "uid=0 pid=1 \"GET /a\" allow (CONTAINERS=1, or POST=1, or IMAGES=1)" TAIL, 0, 0},
    {TS "uid=0 pid=1 \"GET /a\" allow ()" TAIL, 0, 0},
    {TS "uid=0 pid=1 \"GET /a\" allow (CONTAINERS=1)", 0, 0},
    {TS "uid=0 pid=1 \"GET /a\" allow (CONTAINERS=1) 200", 0, 0},
    {TS "uid=0 pid=1 \"GET /a\\q\" allow (CONTAINERS=1)" TAIL, 0, 0},
    {TS "uid=0 pid=1 \"GET /a\\x00\" allow (CONTAINERS=1)" TAIL, 0, 0},
    {TS "uid=0 pid=1 \"GET /a\\x4\" allow (CONTAINERS=1)" TAIL, 0, 0},
    {TS "uid=0 pid=1 \"GET\" allow (CONTAINERS=1)" TAIL, 0, 0},
    {TS "uid=0 pid=1 \"GET /a allow (CONTAINERS=1)" TAIL, 0, 0},
    {TS "uid=0 \"GET /a\" allow (CONTAINERS=1)" TAIL, 0, 0},
    {TS "10.0.0.5:1  \"GET /a\" allow (CONTAINERS=1)" TAIL, 0, 0},
    {TS "10.0.0.5\x01:1 \"GET /a\" allow (CONTAINERS=1)" TAIL, 0, 0},
    {TS "[::1:1 \"GET /a\" allow (CONTAINERS=1)" TAIL, 0, 0},
    {TS "uid=0 pid=1 \"GET /a\0\" allow (CONTAINERS=1)" TAIL, sizeof(TS "uid=0 pid=1 \"GET /a\0\" allow (CONTAINERS=1)" TAIL) - 1, 0},
    {"hello", 0, 0},
    {"(((((((((())))))))))", 0, 0},
    {"\"\"\"\"", 0, 0},
    {"{", 0, 0},
    {"{\"client\":", 0, 0},
    {"{}", 0, 0},
    {"[1,2]", 0, 0},
    {"{\"time\":\"x\",\"level\":\"info\",\"msg\":\"socket-proxy 0.1.0: granted: EVENTS\"}", 0, 0},
    {"{\"client\":\"uid=0 pid=1\",\"method\":\"GET\",\"target\":\"/_ping\",\"decision\":\"allow\"}", 0, 0},
    {"{\"client\":\"uid=0 pid=1\",\"profile\":7,\"method\":\"GET\",\"target\":\"/_ping\",\"decision\":\"allow\","
     "\"rule\":\"PING=1\"}",
     0, 0},
    {"{\"client\":1,\"method\":\"GET\",\"target\":\"/_ping\",\"decision\":\"allow\",\"rule\":\"PING=1\"}", 0, 0},
    {"{\"client\":\"uid=0 pid=1\",\"method\":\"GET\",\"target\":\"/_ping\",\"decision\":\"allow\",\"rule\":\"PING=1\"} x",
     0, 0},
};

static void test_lines(void)
{
    for (size_t i = 0; i < sizeof(line_rows) / sizeof(line_rows[0]); i++) {
        const line_row *r = &line_rows[i];
        size_t len = r->len ? r->len : strlen(r->line);
        FILE *in = fmemopen((void *)r->line, len, "r");
        learn *l = learn_new(0, NULL, NULL);
        learn_log_stats st = {0};
        int rc = learn_read_log(l, in, &st);
        fclose(in);
        learn_free(l);
        CHECK(rc == 0 && st.lines == 1 && st.noted == (uint64_t)r->noted && st.skipped == (uint64_t)!r->noted,
              "line %zu (%.60s...): rc %d, %llu lines, %llu noted, %llu skipped", i, r->line, rc,
              (unsigned long long)st.lines, (unsigned long long)st.noted, (unsigned long long)st.skipped);
    }
}

/* ---- whole logs through learn_from_log ---- */

/* The text learn_from_log writes for a log file holding `log`. */
static char *learn_file(const char *log, size_t len, char *path, size_t pathcap)
{
    snprintf(path, pathcap, "/tmp/test_learn_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, log, len) != (ssize_t)len) {
        printf("cannot write %s\n", path);
        return NULL;
    }
    close(fd);
    char *out = NULL, err[256] = "";
    size_t outlen = 0;
    FILE *f = open_memstream(&out, &outlen);
    int rc = learn_from_log(path, f, err, sizeof(err));
    fclose(f);
    unlink(path);
    if (rc != 0) {
        printf("learn_from_log: %s\n", err);
        free(out);
        return NULL;
    }
    return out;
}

static void check_log(const char *what, const char *log, size_t len, const char *expect_fmt)
{
    char path[64], expect[4096];
    char *out = learn_file(log, len, path, sizeof(path));
    snprintf(expect, sizeof(expect), expect_fmt, path);
    CHECK(out && strcmp(out, expect) == 0, "%s: got\n%s\nwant\n%s", what, out ? out : "(null)", expect);
    free(out);
}

static void test_text_log(void)
{
    static const char log[] =
        TS "socket-proxy info: socket-proxy 0.1.0: granted: EVENTS PING VERSION\n"
        TS "uid=0 pid=42 \"GET /v1.41/containers/json?all=1\" deny (CONTAINERS=1) 403 120 0.100ms\n"
        TS "uid=0 pid=42 \"GET /v1.41/containers/abc/logs?follow=1\" deny (ALLOW_LOGS=1) 403 120 0.100ms\n"
        TS "uid=0 pid=43 \"POST /v1.41/containers/abc/start\" learn-allow (ALLOW_START=1, or CONTAINERS=1 and POST=1) 204 0 1.5ms\n"
        TS "uid=0 pid=43 \"GET /_ping\" allow (PING=1) 200 2 0.100ms\n"
        TS "uid=0 pid=44 \"POST /v1.41/containers/create\" deny (ALLOW_PRIVILEGED) 403 90 0.100ms\n"
        TS "uid=0 pid=44 \"POST /v1.41/containers/create\" deny (ALLOW_BINDS) 403 90 0.100ms\n"
        TS "uid=0 pid=44 \"GET /v1.41/%zz\" bad (bad percent-escape) 400 90 0.100ms\n"
        TS "10.0.0.9:4711 \"- -\" deny (not admitted by SOCKET_PROXY_ALLOW_FROM) 0 0 0.100ms\n"
        "garbage \x01\x02\xff ((( \"\n"
        "\n"
        TS "uid=0 pid=4";
    check_log("text log", log, sizeof(log) - 1,
              HEAD "\n# client uid=0: 6 requests\n"
                   "      - CONTAINERS=1        # 5 requests: GET /v1.41/containers/json?all=1, "
                   "GET /v1.41/containers/abc/logs?follow=1, POST /v1.41/containers/abc/start\n"
                   "      - POST=1              # 3 requests: POST /v1.41/containers/abc/start, POST /v1.41/containers/create\n"
                   "      - ALLOW_PRIVILEGED=1  # 1 request body asked for it\n"
                   "#   1 request body was refused for host paths the log does not name: add them to ALLOW_BINDS "
                   "(each 403 names its path)\n"
                   "\n# %s: 12 lines read, 6 requests noted, 5 lines skipped (other log lines, bad requests, refusals "
                   "at admission, unreadable lines)\n");
}

static void test_json_log(void)
{
    /* a 10 KB line (a long target: kept, its example cut), a line past
     * LEARN_LINE_MAX (skipped whole, the next line read) */
    size_t big = 10 * 1024, huge = LEARN_LINE_MAX + 100;
    char *log = malloc(big + huge + 2048), *p = log;
    p += sprintf(p, "{\"client\":\"[::1]:5\",\"profile\":\"web-app\",\"method\":\"GET\",\"target\":\"/v1.41/images/");
    memset(p, 'a', big);
    p += big;
    p += sprintf(p, "/json\",\"decision\":\"deny\",\"rule\":\"WEB_APP__IMAGES=1\",\"status\":403}\n{\"target\":\"");
    memset(p, 'b', huge);
    p += huge;
    p += sprintf(p, "\"}\n"
                    "{\"time\":\"t\",\"level\":\"warning\",\"msg\":\"starting\"}\n"
                    "{\"client\":\"[::1]:6\",\"profile\":\"web-app\",\"method\":\"POST\",\"target\":\"/v1.41/containers/a/"
                    "restart\",\"decision\":\"learn-allow\",\"rule\":\"WEB_APP__ALLOW_RESTARTS=1, or WEB_APP__CONTAINERS=1 "
                    "and WEB_APP__POST=1\",\"status\":204}\n"
                    "{\"client\":\"uid=0 pid=1\",\"profile\":\"default\",\"method\":\"GET\",\"target\":\"/v1.41/info\","
                    "\"decision\":\"allow\",\"rule\":\"INFO=1\"}\n"
                    "{\"client\":\"10.0.0.9:1\",\"profile\":\"web-app\",\"method\":\"-\",\"target\":\"-\",\"decision\":"
                    "\"deny\",\"rule\":\"not admitted by WEB_APP__ALLOW_FROM\"}\n"
                    "{\"client\":\"uid=0 pid=1\",\"method\":\"GET\",\"target\":\"/x\",\"decision\":\"bad\",\"rule\":\"x\"}\n"
                    "{\"client\": \"uid=0 pid=1\", \"method\": \"GET\", \"target\": \"/v1.41/version\", \"decision\": "
                    "\"allow\", \"rule\": \"VERSION=1\", \"profile\": \"default\"}\n");
    char example[256];
    snprintf(example, sizeof(example), "GET /v1.41/images/%.*s...", 96 - 18, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    char expect[2048];
    snprintf(expect, sizeof(expect),
             HEAD "\n# profile web-app, client [::1]: 2 requests\n"
                  "      - WEB_APP__IMAGES=1          # 1 request: %s\n"
                  "      - WEB_APP__ALLOW_RESTARTS=1  # 1 request: POST /v1.41/containers/a/restart\n"
                  "\n# profile default, client uid=0: 2 requests\n"
                  "      - INFO=1  # 1 request: GET /v1.41/info\n"
                  "\n# %%s: 8 lines read, 4 requests noted, 4 lines skipped (other log lines, bad requests, refusals "
                  "at admission, unreadable lines)\n",
             example);
    check_log("json log", log, (size_t)(p - log), expect);
    free(log);
}

static void test_unreadable(void)
{
    char err[256] = "";
    FILE *out = fopen("/dev/null", "w");
    CHECK(learn_from_log("/nonexistent/access.log", out, err, sizeof(err)) == -1 &&
              strcmp(err, "cannot read /nonexistent/access.log: No such file or directory") == 0,
          "missing file: %s", err);
    CHECK(learn_from_log("/", out, err, sizeof(err)) == -1 && strcmp(err, "cannot read /: Is a directory") == 0,
          "a directory: %s", err);
    fclose(out);
    size_t len = 1;
    char *text = learn_report(NULL, &len);
    CHECK(text && strcmp(text, HEAD "\n# no requests seen\n") == 0 && len == strlen(text), "report of NULL");
    free(text);
    learn_note(NULL, 0, "x", 1, 0, "GET", "/");
    learn_note_body(NULL, 0, "x", 1, NULL, 0);
    learn_free(NULL);
}

int main(void)
{
    test_reports();
    test_client_cap();
    test_needs_and_binds_caps();
    test_prefixes();
    test_lines();
    test_text_log();
    test_json_log();
    test_unreadable();
    return unit_summary("test_learn");
}
