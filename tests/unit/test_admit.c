/* Table-driven tests of admission's pure part (core/admit.c): ALLOW_FROM
 * lists parsed (every rejection with its exact line), addresses matched at
 * the CIDR boundaries and across IPv4 / IPv4-mapped IPv6, what resolution
 * results do to a name (the stale-address policy), PEER_UIDS/PEER_GIDS. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "core/admit.h"
#include "peer.h"
#include "unit.h"

#define VAR "SOCKET_PROXY_ALLOW_FROM"
#define HINT "use e.g. 172.18.0.0/16, 10.0.0.5, ::1 or traefik"
#define NOT(x) VAR ": \"" x "\" is not an address, a CIDR or a host name: " HINT

static admit_net addr(const char *text)
{
    struct sockaddr_storage ss;
    admit_net n = {0};
    if (!make_peer(text, &ss) || !admit_addr_of((struct sockaddr *)&ss, &n))
        printf("bad test address %s\n", text);
    return n;
}

/* ---- parsing ---- */

typedef struct {
    const char *spec;
    const char *expect; /* admit_set_text of the result, or the error line */
    bool ok;
} parse_row;

static char label63[64], name253[254], name254[255], label64[65], list64[64 * 12], list65[65 * 12], long_junk[301];

static const parse_row parse_rows[] = {
    {"10.0.0.0/8", "10.0.0.0/8", true},
    {"10.0.0.0/8, traefik", "10.0.0.0/8, traefik", true},
    {"traefik, 10.0.0.0/8", "10.0.0.0/8, traefik", true},
    {" 10.0.0.5 ,::1,\tfd00::/8 ", "10.0.0.5, ::1, fd00::/8", true},
    {"0.0.0.0/0", "0.0.0.0/0", true},
    {"::/0", "::/0", true},
    {"10.0.0.5/32", "10.0.0.5", true},
    {"255.255.255.255", "255.255.255.255", true},
    {"2001:db8::1/128", "2001:db8::1", true},
    {"2001:db8::/127", "2001:db8::/127", true},
    {"2001:DB8::/32", "2001:db8::/32", true},
    {"fe80::/10", "fe80::/10", true},
    {"::ffff:172.18.0.5", "172.18.0.5", true},
    {"::ffff:172.18.0.0/112", "172.18.0.0/16", true},
    {"::ffff:0:0/96", "0.0.0.0/0", true},
    {"::fffe:0:0/95", "::fffe:0:0/95", true}, /* wider than the mapped range: IPv6 */
    {"localhost", "localhost", true},
    {"traefik,TRAEFIK, traefik", "traefik", true},
    {"my_project_traefik_1", "my_project_traefik_1", true},
    {"a-b.example.com", "a-b.example.com", true},
    {"host1.2x", "host1.2x", true},
    {"1host", "1host", true},
    {label63, label63, true},
    {name253, name253, true},
    {list64, NULL, true},

    {"10.0.0.0/33", NOT("10.0.0.0/33"), false},
    {"::/129", NOT("::/129"), false},
    {"10.0.0.0/", NOT("10.0.0.0/"), false},
    {"10.0.0.0/-1", NOT("10.0.0.0/-1"), false},
    {"10.0.0.0/+8", NOT("10.0.0.0/+8"), false},
    {"10.0.0.0/08", NOT("10.0.0.0/08"), false},
    {"10.0.0.0/8/8", NOT("10.0.0.0/8/8"), false},
    {"10.0.0.0/1000", NOT("10.0.0.0/1000"), false},
    {"10.0.0.0 /8", NOT("10.0.0.0 /8"), false},
    {"10.0.0.256", NOT("10.0.0.256"), false},
    {"10.0.0", NOT("10.0.0"), false},
    {"010.0.0.1", NOT("010.0.0.1"), false},
    {"1.2.3.4.5", NOT("1.2.3.4.5"), false},
    {"12345", NOT("12345"), false},
    {"-traefik", NOT("-traefik"), false},
    {"traefik-", NOT("traefik-"), false},
    {"traefik-.x", NOT("traefik-.x"), false},
    {"tra..efik", NOT("tra..efik"), false},
    {".traefik", NOT(".traefik"), false},
    {"traefik.", NOT("traefik."), false},
    {"trae fik", NOT("trae fik"), false},
    {"[::1]", NOT("[::1]"), false},
    {"fe80::1%eth0", NOT("fe80::1%eth0"), false},
    {"host/8", NOT("host/8"), false},
    {"caf\xc3\xa9", NOT("caf\xc3\xa9"), false},
    {"*.example.com", NOT("*.example.com"), false},
    {label64, NULL, false},
    {name254, NULL, false}, /* the quoting is checked in test_parse */
    {long_junk, NULL, false},

    {"10.0.0.5/8", VAR ": \"10.0.0.5/8\" has bits set after the /8 prefix: write 10.0.0.0/8 for the network or "
                   "10.0.0.5 for one address", false},
    {"172.18.0.1/16", VAR ": \"172.18.0.1/16\" has bits set after the /16 prefix: write 172.18.0.0/16 for the "
                      "network or 172.18.0.1 for one address", false},
    {"1.2.3.4/0", VAR ": \"1.2.3.4/0\" has bits set after the /0 prefix: write 0.0.0.0/0 for the network or "
                  "1.2.3.4 for one address", false},
    {"2001:db8::1/127", VAR ": \"2001:db8::1/127\" has bits set after the /127 prefix: write 2001:db8::/127 for "
                        "the network or 2001:db8::1 for one address", false},
    {"fd00::/7", VAR ": \"fd00::/7\" has bits set after the /7 prefix: write fc00::/7 for the network or fd00:: "
                 "for one address", false},

    {"", VAR ": no entry: leave it unset to admit anyone, or " HINT, false},
    {" \t", VAR ": no entry: leave it unset to admit anyone, or " HINT, false},
    {"10.0.0.0/8,,traefik", VAR ": an empty entry in \"10.0.0.0/8,,traefik\": separate entries with one comma", false},
    {"traefik,", VAR ": an empty entry in \"traefik,\": separate entries with one comma", false},
    {",traefik", VAR ": an empty entry in \",traefik\": separate entries with one comma", false},
    {"traefik, ,x", VAR ": an empty entry in \"traefik, ,x\": separate entries with one comma", false},
    {list65, VAR ": more than 64 entries: cover addresses with a CIDR such as 172.18.0.0/16", false},
};

static void make_long_specs(void)
{
    memset(label63, 'a', 63);
    memset(label64, 'a', 64);
    /* 4 labels of 63 and one of 1: 4 * 64 + 1 = 257 > 253, so trim */
    char *p = name253;
    for (int i = 0; i < 3; i++, p += 64) {
        memset(p, 'a', 63);
        p[63] = '.';
    }
    memset(p, 'a', 253 - 192); /* 61 more: 253 in all */
    memcpy(name254, name253, 253);
    name254[253] = 'a';
    memset(long_junk, '!', 300);
    size_t n = 0;
    for (int i = 0; i < 65; i++) {
        n += (size_t)sprintf(list65 + n, "%s10.0.%d.1", i ? "," : "", i);
        if (i == 63)
            memcpy(list64, list65, n);
    }
}

static void test_parse(void)
{
    for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
        const parse_row *r = &parse_rows[i];
        admit_set s = {0};
        char err[512] = "", text[4096] = "";
        int rc = admit_set_parse(&s, VAR, r->spec, err, sizeof(err));
        if (rc == 0)
            admit_set_text(&s, text, sizeof(text));
        CHECK((rc == 0) == r->ok, "row %zu (%.40s): rc %d, err %s", i, r->spec, rc, err);
        if (r->expect && r->ok)
            CHECK(strcmp(text, r->expect) == 0, "row %zu (%.40s): text \"%s\"", i, r->spec, text);
        if (r->expect && !r->ok)
            CHECK(strcmp(err, r->expect) == 0, "row %zu (%.40s): err \"%s\"\n   want \"%s\"", i, r->spec, err,
                  r->expect);
        if (!r->ok)
            CHECK(s.names == NULL && s.n_names == 0, "row %zu: names freed on error", i);
        admit_set_free(&s);
    }
    /* The variable's name is the one given: a profile's. */
    admit_set s = {0};
    char err[512], want[512];
    snprintf(want, sizeof(want), NOT("%.80s"), long_junk);
    CHECK(admit_set_parse(&s, VAR, long_junk, err, sizeof(err)) < 0 && strcmp(err, want) == 0,
          "an entry is quoted up to 80 bytes: %s", err);
    snprintf(want, sizeof(want), NOT("%.80s"), name254);
    CHECK(admit_set_parse(&s, VAR, name254, err, sizeof(err)) < 0 && strcmp(err, want) == 0, "254 bytes: %s", err);
    CHECK(admit_set_parse(&s, "TRAEFIK__ALLOW_FROM", "10.0.0.0/33", err, sizeof(err)) < 0 &&
              strncmp(err, "TRAEFIK__ALLOW_FROM: \"10.0.0.0/33\"", 34) == 0,
          "profile variable named: %s", err);
    CHECK(admit_set_parse(&s, VAR, list64, err, sizeof(err)) == 0 && s.n_nets == 64, "64 entries: %u", s.n_nets);
    admit_set_free(&s);
}

/* ---- matching ---- */

typedef struct {
    const char *spec;
    const char *peer;
    bool yes;
} match_row;

static const match_row match_rows[] = {
    {"10.0.0.0/8", "10.0.0.0", true},
    {"10.0.0.0/8", "10.255.255.255", true},
    {"10.0.0.0/8", "11.0.0.0", false},
    {"10.0.0.0/8", "9.255.255.255", false},
    {"10.0.0.0/8", "::ffff:10.1.2.3", true},
    {"10.0.0.0/8", "::ffff:11.0.0.1", false},
    {"10.0.0.0/8", "::10.0.0.1", false}, /* IPv4-compatible is not IPv4-mapped */
    {"10.0.0.0/8", "::ffff:0:10.0.0.1", false}, /* SIIT's IPv4-translated neither */
    {"10.0.0.0/8", "2001:db8::1", false},
    {"172.16.0.0/12", "172.31.255.255", true},
    {"172.16.0.0/12", "172.32.0.0", false},
    {"172.16.0.0/12", "172.15.255.255", false},
    {"10.0.0.0/31", "10.0.0.0", true},
    {"10.0.0.0/31", "10.0.0.1", true},
    {"10.0.0.0/31", "10.0.0.2", false},
    {"10.0.0.5/32", "10.0.0.5", true},
    {"10.0.0.5/32", "10.0.0.4", false},
    {"10.0.0.5/32", "10.0.0.6", false},
    {"10.0.0.5/32", "::ffff:10.0.0.5", true},
    {"192.168.1.5", "192.168.1.5", true},
    {"192.168.1.5", "::ffff:192.168.1.5", true},
    {"192.168.1.5", "192.168.1.50", false},
    {"0.0.0.0/0", "1.2.3.4", true},
    {"0.0.0.0/0", "255.255.255.255", true},
    {"0.0.0.0/0", "::ffff:1.2.3.4", true},
    {"0.0.0.0/0", "::1", false},
    {"0.0.0.0/0", "::", false},
    {"::/0", "::1", true},
    {"::/0", "2001:db8::1", true},
    {"::/0", "1.2.3.4", false},
    {"::/0", "::ffff:1.2.3.4", false},
    {"::1", "::1", true},
    {"::1", "::2", false},
    {"::1", "127.0.0.1", false},
    {"::ffff:172.18.0.5", "172.18.0.5", true},
    {"::ffff:172.18.0.5", "::ffff:172.18.0.5", true},
    {"::ffff:10.0.0.0/104", "10.1.1.1", true},
    {"::ffff:10.0.0.0/104", "11.1.1.1", false},
    {"::ffff:0:0/96", "8.8.8.8", true},
    {"::ffff:0:0/96", "::1", false},
    {"::fffe:0:0/95", "::fffe:1:2", true},
    {"::fffe:0:0/95", "::ffff:1.2.3.4", false}, /* an IPv4 client: IPv6 networks never match it */
    {"2001:db8::/127", "2001:db8::", true},
    {"2001:db8::/127", "2001:db8::1", true},
    {"2001:db8::/127", "2001:db8::2", false},
    {"2001:db8::1/128", "2001:db8::1", true},
    {"2001:db8::1/128", "2001:db8::", false},
    {"2001:db8::1/128", "2001:db8::1:1", false},
    {"fd00::/8", "fd12:3456::1", true},
    {"fd00::/8", "fe00::1", false},
    {"fd00::/8", "fc00::1", false},
    {"fc00::/7", "fd00::1", true},
    {"fc00::/7", "fc00::1", true},
    {"fc00::/7", "fe00::1", false},
    {"fe80::/10", "febf:ffff::1", true},
    {"fe80::/10", "fec0::1", false},
    {"10.0.0.0/8, fd00::/8, 192.168.1.5", "fd00::5", true},
    {"10.0.0.0/8, fd00::/8, 192.168.1.5", "192.168.1.5", true},
    {"10.0.0.0/8, fd00::/8, 192.168.1.5", "192.168.1.6", false},
    {"traefik", "172.18.0.5", false}, /* a name admits nothing before it resolves */
};

static void test_match(void)
{
    for (size_t i = 0; i < sizeof(match_rows) / sizeof(match_rows[0]); i++) {
        const match_row *r = &match_rows[i];
        admit_set s = {0};
        char err[512] = "";
        if (admit_set_parse(&s, VAR, r->spec, err, sizeof(err)) < 0) {
            CHECK(false, "row %zu: %s", i, err);
            continue;
        }
        admit_net a = addr(r->peer);
        CHECK(admit_set_match(&s, &a) == r->yes, "row %zu: %s admits %s: want %d", i, r->spec, r->peer, r->yes);
        admit_set_free(&s);
    }
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    admit_net a;
    CHECK(!admit_addr_of((struct sockaddr *)&un, &a), "a Unix peer has no address");
}

/* ---- resolution results ---- */

/* addrs: "a, b, c" into out. */
static unsigned addrs_of(const char *list, admit_net *out, unsigned cap)
{
    char buf[1024], *save = NULL;
    unsigned n = 0;
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *t = strtok_r(buf, ", ", &save); t && n < cap; t = strtok_r(NULL, ", ", &save))
        out[n++] = addr(t);
    return n;
}

typedef struct {
    admit_outcome outcome;
    const char *addrs;
    uint64_t now;
    admit_name_state state;
    const char *text; /* admit_addrs_text afterwards */
    bool changed;
} result_row;

#define R ADMIT_RESOLVED
#define T ADMIT_TRANSIENT
#define X ADMIT_NO_SUCH

/* One name's life, a row per resolution. */
static const result_row life[] = {
    {R, "172.18.0.5", 1000, ADMIT_NAME_OK, "172.18.0.5", true},
    {R, "172.18.0.5", 31000, ADMIT_NAME_OK, "172.18.0.5", false},
    {R, "172.18.0.6, 172.18.0.5", 61000, ADMIT_NAME_OK, "172.18.0.5, 172.18.0.6", true},
    {R, "172.18.0.5, 172.18.0.6", 91000, ADMIT_NAME_OK, "172.18.0.5, 172.18.0.6", false}, /* order is no change */
    {R, "fd00::6, 172.18.0.6, 172.18.0.5, 172.18.0.6", 92000, ADMIT_NAME_OK, "172.18.0.5, 172.18.0.6, fd00::6", true},
    {R, "172.18.0.5, 172.18.0.6", 121000, ADMIT_NAME_OK, "172.18.0.5, 172.18.0.6", true},
    {T, "", 150000, ADMIT_NAME_KEPT, "172.18.0.5, 172.18.0.6", true}, /* transient: kept */
    {T, "", 180000, ADMIT_NAME_KEPT, "172.18.0.5, 172.18.0.6", false},
    {T, "", 180999, ADMIT_NAME_KEPT, "172.18.0.5, 172.18.0.6", false}, /* 59.999 s old */
    {T, "", 181000, ADMIT_NAME_NONE, "", true},                        /* 60 s old: dropped */
    {T, "", 211000, ADMIT_NAME_NONE, "", false},
    {X, "", 212000, ADMIT_NAME_NONE, "", false},
    {R, "172.18.0.7", 241000, ADMIT_NAME_OK, "172.18.0.7", true},
    {X, "", 242000, ADMIT_NAME_NONE, "", true}, /* NXDOMAIN: dropped at once */
    {X, "", 243000, ADMIT_NAME_NONE, "", false},
    {R, "", 244000, ADMIT_NAME_NONE, "", false}, /* an answer without addresses */
    {R, "10.0.0.1", 245000, ADMIT_NAME_OK, "10.0.0.1", true},
    {T, "", 246000, ADMIT_NAME_KEPT, "10.0.0.1", true},
    {R, "10.0.0.1", 247000, ADMIT_NAME_OK, "10.0.0.1", true}, /* back: a line says so */
    {T, "", 248000, ADMIT_NAME_KEPT, "10.0.0.1", true},
    {X, "", 249000, ADMIT_NAME_NONE, "", true}, /* kept, then NXDOMAIN: dropped */
    {R, "10.0.0.1", 250000, ADMIT_NAME_OK, "10.0.0.1", true},
    {R, "", 251000, ADMIT_NAME_NONE, "", true},
};

static const result_row first_transient[] = {{T, "", 5000, ADMIT_NAME_NONE, "", true}};
static const result_row first_no_such[] = {{X, "", 5000, ADMIT_NAME_NONE, "", true}};

static void run_life(const char *what, const result_row *rows, size_t n)
{
    admit_name name = {.state = ADMIT_NAME_NEW};
    snprintf(name.host, sizeof(name.host), "traefik");
    CHECK(admit_name_due(&name) == 0, "%s: a new name is due at once", what);
    for (size_t i = 0; i < n; i++) {
        const result_row *r = &rows[i];
        admit_net a[ADMIT_MAX_ADDRS];
        unsigned k = addrs_of(r->addrs, a, ADMIT_MAX_ADDRS);
        char text[1024];
        name.busy = true;
        bool changed = admit_name_result(&name, r->outcome, a, k, r->now);
        admit_addrs_text(&name, text, sizeof(text));
        CHECK(name.state == r->state, "%s row %zu: state %d, want %d", what, i, name.state, r->state);
        CHECK(strcmp(text, r->text) == 0, "%s row %zu: addresses \"%s\", want \"%s\"", what, i, text, r->text);
        CHECK(changed == r->changed, "%s row %zu: changed %d", what, i, changed);
        CHECK(!name.busy && name.done_ms == r->now, "%s row %zu: busy cleared, done_ms set", what, i);
        CHECK(admit_name_due(&name) == r->now + ADMIT_GAP_MS, "%s row %zu: due a gap later", what, i);
    }
}

static void test_results(void)
{
    run_life("life", life, sizeof(life) / sizeof(life[0]));
    run_life("first transient", first_transient, 1);
    run_life("first NXDOMAIN", first_no_such, 1);

    /* More addresses than a name keeps: the first ADMIT_MAX_ADDRS. */
    admit_name name = {.state = ADMIT_NAME_NEW};
    admit_net many[20];
    for (int i = 0; i < 20; i++)
        many[i] = addr(i < 10 ? "10.0.0.1" : "10.0.0.2"), many[i].addr[3] = (uint8_t)(100 - i);
    admit_name_result(&name, ADMIT_RESOLVED, many, 20, 1);
    CHECK(name.n_addrs == ADMIT_MAX_ADDRS && name.addrs[0].addr[3] == 85, "kept %u, first .%u", name.n_addrs,
          name.addrs[0].addr[3]);
}

/* getaddrinfo's answer: every address once per socket type, IPv4-mapped
 * AAAA records, and entries without an address. */
static void test_addrs_from(void)
{
    struct sockaddr_storage ss[5];
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    const char *texts[] = {"127.0.0.1", "127.0.0.1", "::1", "::ffff:127.0.0.1", "172.18.0.5"};
    struct addrinfo ai[7];
    memset(ai, 0, sizeof(ai));
    for (int i = 0; i < 5; i++) {
        ai[i].ai_addrlen = make_peer(texts[i], &ss[i]);
        ai[i].ai_addr = (struct sockaddr *)&ss[i];
        ai[i].ai_family = ss[i].ss_family;
    }
    ai[5].ai_addr = (struct sockaddr *)&un;
    ai[6].ai_addr = NULL;
    int order[] = {0, 5, 1, 2, 6, 3, 4}; /* the chain, with the odd ones inside */
    for (int i = 0; i < 6; i++)
        ai[order[i]].ai_next = &ai[order[i + 1]];
    ai[order[6]].ai_next = NULL;
    admit_net out[ADMIT_MAX_ADDRS];
    unsigned n = admit_addrs_from(&ai[0], out, ADMIT_MAX_ADDRS);
    admit_net a = addr("127.0.0.1"), b = addr("::1"), c = addr("172.18.0.5");
    CHECK(n == 3, "3 distinct addresses, got %u", n);
    CHECK(n == 3 && memcmp(&out[0], &a, sizeof(a)) == 0 && memcmp(&out[1], &b, sizeof(b)) == 0 &&
              memcmp(&out[2], &c, sizeof(c)) == 0,
          "in answer order");
    CHECK(admit_addrs_from(&ai[0], out, 2) == 2, "at most cap");
    CHECK(admit_addrs_from(NULL, out, 2) == 0, "no answer");
}

/* ---- a set as a whole: names in the text and in matching ---- */

static void test_set_names(void)
{
    admit_set s = {0};
    char err[256], text[512];
    int rc = admit_set_parse(&s, VAR, "10.0.0.0/8, traefik, ghost, old, new", err, sizeof(err));
    CHECK(rc == 0 && s.n_nets == 1 && s.n_names == 4, "parsed: %s", rc ? err : "");
    if (rc)
        return;
    admit_net a[2];
    admit_name_result(&s.names[0], ADMIT_RESOLVED, a, addrs_of("172.18.0.5, fd00::5", a, 2), 1000);
    admit_name_result(&s.names[1], ADMIT_NO_SUCH, NULL, 0, 1000);
    admit_name_result(&s.names[2], ADMIT_RESOLVED, a, addrs_of("192.0.2.9", a, 2), 1000);
    admit_name_result(&s.names[2], ADMIT_TRANSIENT, NULL, 0, 31000);
    admit_set_text(&s, text, sizeof(text));
    CHECK(strcmp(text, "10.0.0.0/8, traefik (172.18.0.5, fd00::5), ghost (unresolved), old (kept: 192.0.2.9), new") ==
              0,
          "text: %s", text);
    admit_net p;
    CHECK((p = addr("172.18.0.5"), admit_set_match(&s, &p)), "a name's IPv4 address");
    CHECK((p = addr("::ffff:172.18.0.5"), admit_set_match(&s, &p)), "a name's IPv4 address, mapped");
    CHECK((p = addr("fd00::5"), admit_set_match(&s, &p)), "a name's IPv6 address");
    CHECK((p = addr("fd00::6"), !admit_set_match(&s, &p)), "exact addresses only");
    CHECK((p = addr("192.0.2.9"), admit_set_match(&s, &p)), "a kept address");
    admit_name_result(&s.names[2], ADMIT_TRANSIENT, NULL, 0, 61000);
    CHECK((p = addr("192.0.2.9"), !admit_set_match(&s, &p)), "a kept address, expired");
    CHECK((p = addr("10.9.9.9"), admit_set_match(&s, &p)), "the CIDR still");
    /* the name an address resolves back to (learn mode names clients so) */
    const char *nm;
    CHECK((p = addr("172.18.0.5"), (nm = admit_set_name_of(&s, &p)) && strcmp(nm, "traefik") == 0), "name of");
    CHECK((p = addr("fd00::5"), (nm = admit_set_name_of(&s, &p)) && strcmp(nm, "traefik") == 0), "name of, IPv6");
    CHECK((p = addr("10.9.9.9"), !admit_set_name_of(&s, &p)), "a CIDR has no name");
    CHECK((p = addr("192.0.2.9"), !admit_set_name_of(&s, &p)), "an expired address has no name");

    CHECK(admit_set_text(&s, text, 10) == 9 && strcmp(text, "10.0.0.0/") == 0, "truncated: %s", text);
    CHECK(admit_set_text(&s, text, 1) == 0 && text[0] == '\0', "cap 1");
    admit_set_free(&s);
}

/* ---- Unix peers ---- */

#define UV_ "TRAEFIK__PEER_UIDS"
#define GV_ "TRAEFIK__PEER_GIDS"
#define NOT_UID(x) UV_ ": \"" x "\" is not a user id: use numbers from 0 to 4294967294, comma-separated, e.g. 1000,1001"
#define NOT_GID(x) GV_ ": \"" x "\" is not a group id: use numbers from 0 to 4294967294, comma-separated, e.g. 1000,1001"

typedef struct {
    const char *uids, *gids;
    const char *err; /* NULL: parses */
    unsigned n_uids, n_gids;
} ids_row;

static char ids32[32 * 5], ids33[33 * 5];

static const ids_row ids_rows[] = {
    {NULL, NULL, NULL, 0, 0},
    {"", "", NULL, 0, 0},
    {"1000", NULL, NULL, 1, 0},
    {NULL, "1000,1001", NULL, 0, 2},
    {" 1000 , 1001\t", "0", NULL, 2, 1},
    {"0", "4294967294", NULL, 1, 1},
    {"0001000", NULL, NULL, 1, 0},
    {ids32, NULL, NULL, 32, 0},
    {"4294967295", NULL, NOT_UID("4294967295"), 0, 0},
    {"99999999999", NULL, NOT_UID("99999999999"), 0, 0},
    {"-1", NULL, NOT_UID("-1"), 0, 0},
    {"+5", NULL, NOT_UID("+5"), 0, 0},
    {"1e3", NULL, NOT_UID("1e3"), 0, 0},
    {"0x10", NULL, NOT_UID("0x10"), 0, 0},
    {"root", NULL, NOT_UID("root"), 0, 0},
    {"1000 1001", NULL, NOT_UID("1000 1001"), 0, 0},
    {"1000", "docker", NOT_GID("docker"), 0, 0},
    {"1000,,1001", NULL, UV_ ": an empty entry in \"1000,,1001\": separate entries with one comma", 0, 0},
    {NULL, "1000,", GV_ ": an empty entry in \"1000,\": separate entries with one comma", 0, 0},
    {" ", NULL, UV_ ": an empty entry in \" \": separate entries with one comma", 0, 0},
    {ids33, NULL, UV_ ": more than 32 ids", 0, 0},
};

static void test_ids_parse(void)
{
    size_t n = 0;
    for (int i = 0; i < 33; i++) {
        n += (size_t)sprintf(ids33 + n, "%s%d", i ? "," : "", 1000 + i);
        if (i == 31)
            memcpy(ids32, ids33, n);
    }
    for (size_t i = 0; i < sizeof(ids_rows) / sizeof(ids_rows[0]); i++) {
        const ids_row *r = &ids_rows[i];
        admit_ids a;
        char err[512] = "";
        int rc = admit_ids_parse(&a, UV_, r->uids, GV_, r->gids, err, sizeof(err));
        if (!r->err) {
            CHECK(rc == 0 && a.n_uids == r->n_uids && a.n_gids == r->n_gids, "ids row %zu: rc %d (%s) %u %u", i, rc,
                  err, a.n_uids, a.n_gids);
        } else {
            CHECK(rc < 0 && strcmp(err, r->err) == 0, "ids row %zu: err \"%s\"\n   want \"%s\"", i, err, r->err);
            CHECK(!admit_ids_any(&a), "ids row %zu: nothing kept on error", i);
        }
    }
    admit_ids a;
    char err[64];
    CHECK(admit_ids_parse(&a, UV_, "0,4294967294, 1000", GV_, NULL, err, sizeof(err)) == 0 && a.uids[0] == 0 &&
              a.uids[1] == 4294967294u && a.uids[2] == 1000,
          "values");
}

typedef struct {
    const char *uids, *gids;
    uint32_t uid, gid;
    bool yes;
} ids_match_row;

static const ids_match_row ids_match_rows[] = {
    {NULL, NULL, 0, 0, true},
    {NULL, NULL, 1234, 1234, true},
    {"1000", NULL, 1000, 5, true},
    {"1000", NULL, 1001, 1000, false}, /* only the uid list applies */
    {"1000", NULL, 0, 0, false},       /* not even root */
    {NULL, "1000,1001", 5, 1001, true},
    {NULL, "1000,1001", 1000, 5, false},
    {"1000", "2000", 1000, 1, true},
    {"1000", "2000", 1, 2000, true},
    {"1000", "2000", 2000, 1000, false},
    {"0", NULL, 0, 1000, true},
    {"4294967294", NULL, 4294967294u, 0, true},
    {"4294967294", NULL, 4294967295u, 0, false},
};

static void test_ids_match(void)
{
    for (size_t i = 0; i < sizeof(ids_match_rows) / sizeof(ids_match_rows[0]); i++) {
        const ids_match_row *r = &ids_match_rows[i];
        admit_ids a;
        char err[256];
        if (admit_ids_parse(&a, UV_, r->uids, GV_, r->gids, err, sizeof(err)) < 0) {
            CHECK(false, "ids match row %zu: %s", i, err);
            continue;
        }
        CHECK(admit_ids_any(&a) == (r->uids || r->gids), "ids match row %zu: any", i);
        CHECK(admit_ids_match(&a, r->uid, r->gid) == r->yes, "ids match row %zu: uid %u gid %u, want %d", i, r->uid,
              r->gid, r->yes);
    }
}

int main(void)
{
    make_long_specs();
    test_parse();
    test_match();
    test_results();
    test_addrs_from();
    test_set_names();
    test_ids_parse();
    test_ids_match();
    return unit_summary("test_admit");
}
