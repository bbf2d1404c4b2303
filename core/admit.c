/* Admission, the pure part: lists parsed, addresses matched, resolution
 * results applied to a name. No libuv call and no logging here, so that the
 * unit tests drive it without a loop. See admit.h. */
#include "admit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* An item of a list is quoted in an error line up to this many bytes. */
#define QUOTE_MAX 80

static const char allow_from_hint[] = "use e.g. 172.18.0.0/16, 10.0.0.5, ::1 or traefik";

/* ---- comma-separated lists ---- */

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

/* The next item of the list at *p, blanks around it trimmed; *p is NULL
 * once the last item is taken. "" is one empty item, "a," two items. */
static bool list_next(const char **p, const char **item, size_t *len)
{
    const char *s = *p;
    if (!s)
        return false;
    const char *comma = strchr(s, ',');
    const char *e = comma ? comma : s + strlen(s);
    while (s < e && is_blank(*s))
        s++;
    while (e > s && is_blank(e[-1]))
        e--;
    *item = s;
    *len = (size_t)(e - s);
    *p = comma ? comma + 1 : NULL;
    return true;
}

static bool all_blank(const char *s)
{
    while (is_blank(*s))
        s++;
    return *s == '\0';
}

/* The error for ",," or a trailing comma: a list template that lost a value
 * (A,${B},C) must not pass unnoticed at a security boundary. */
static int empty_entry(const char *var, const char *list, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: an empty entry in \"%.*s\": separate entries with one comma", var, QUOTE_MAX, list);
    return -1;
}

/* ---- addresses and networks ---- */

static void net_set_v4(admit_net *n, const void *a4, unsigned bits)
{
    memset(n, 0, sizeof(*n));
    n->family = 4;
    n->bits = (uint8_t)bits;
    memcpy(n->addr, a4, 4);
}

/* An IPv6 address as admit_net: IPv4-mapped ones (::ffff:a.b.c.d) become
 * IPv4, so that a client seen on a dual-stack socket is its IPv4 self. A
 * mapped network shorter than /96 reaches outside ::ffff:0:0/96 and stays
 * IPv6. */
static void net_set_v6(admit_net *n, const struct in6_addr *a6, unsigned bits)
{
    if (IN6_IS_ADDR_V4MAPPED(a6) && bits >= 96) {
        net_set_v4(n, a6->s6_addr + 12, bits - 96);
        return;
    }
    memset(n, 0, sizeof(*n));
    n->family = 6;
    n->bits = (uint8_t)bits;
    memcpy(n->addr, a6->s6_addr, 16);
}

bool admit_addr_of(const struct sockaddr *sa, admit_net *out)
{
    if (sa->sa_family == AF_INET) {
        net_set_v4(out, &((const struct sockaddr_in *)sa)->sin_addr, 32);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        net_set_v6(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 128);
        return true;
    }
    return false;
}

bool admit_net_has(const admit_net *net, const admit_net *addr)
{
    if (net->family != addr->family)
        return false;
    unsigned whole = net->bits / 8, rest = net->bits % 8;
    if (memcmp(net->addr, addr->addr, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (net->addr[whole] & mask) == (addr->addr[whole] & mask);
}

static bool same_addr(const admit_net *a, const admit_net *b)
{
    return a->family == b->family && memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16) == 0;
}

/* Byte i of the mask of a /bits prefix. */
static uint8_t prefix_mask(unsigned bits, unsigned i)
{
    unsigned keep = bits >= (i + 1) * 8 ? 8 : bits > i * 8 ? bits - i * 8 : 0;
    return keep ? (uint8_t)(0xff << (8 - keep)) : 0;
}

/* The bits after the prefix are zero: "10.0.0.5/8" is refused rather than
 * read as 10.0.0.0/8, since whoever wrote it may have meant one address. */
static bool host_bits_clear(const admit_net *n)
{
    for (unsigned i = 0; i < (n->family == 4 ? 4u : 16u); i++)
        if (n->addr[i] & (uint8_t)~prefix_mask(n->bits, i))
            return false;
    return true;
}

static void clear_host_bits(admit_net *n)
{
    for (unsigned i = 0; i < (n->family == 4 ? 4u : 16u); i++)
        n->addr[i] &= prefix_mask(n->bits, i);
}

size_t admit_net_text(const admit_net *net, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    inet_ntop(net->family == 4 ? AF_INET : AF_INET6, net->addr, ip, sizeof(ip));
    int n = net->bits == (net->family == 4 ? 32 : 128) ? snprintf(out, cap, "%s", ip)
                                                         : snprintf(out, cap, "%s/%u", ip, net->bits);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* ---- parsing an entry ---- */

/* A prefix length: decimal, no sign, no leading zero, at most max. */
static int parse_bits(const char *s, unsigned max)
{
    size_t n = strlen(s);
    if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    return v <= max ? (int)v : -1;
}

/* "10.0.0.5", "::1", "10.0.0.0/8", "fd00::/8" (len bytes at item) into n.
 * false when it is none of these. */
static bool parse_net(const char *item, size_t len, admit_net *n)
{
    char s[64]; /* the longest IPv6 CIDR text is 49 bytes */
    if (len >= sizeof(s))
        return false;
    memcpy(s, item, len);
    s[len] = '\0';
    char *slash = strchr(s, '/');
    if (slash)
        *slash = '\0';
    struct in_addr a4;
    struct in6_addr a6;
    bool v4 = inet_pton(AF_INET, s, &a4) == 1;
    if (!v4 && inet_pton(AF_INET6, s, &a6) != 1)
        return false;
    int bits = slash ? parse_bits(slash + 1, v4 ? 32 : 128) : v4 ? 32 : 128;
    if (bits < 0)
        return false;
    if (v4)
        net_set_v4(n, &a4, (unsigned)bits);
    else
        net_set_v6(n, &a6, (unsigned)bits);
    return true;
}

/* RFC 1123 host names (labels of letters, digits and hyphens, 1 to 63 long,
 * no hyphen at either end, 253 in all), plus '_': compose's container names
 * (project_service_1) have it and Docker's DNS answers them. The last label
 * must not be all digits (RFC 3696 2), so that a mistyped address such as
 * 10.0.0.256 is an error, not a name to look up. */
static bool is_host_name(const char *s, size_t len)
{
    if (len == 0 || len > 253)
        return false;
    size_t label = 0;
    bool digits = true;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
            digits = true;
            continue;
        }
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && c != '-' && c != '_')
            return false;
        if ((label == 0 && c == '-') || ++label > 63)
            return false;
        if (c < '0' || c > '9')
            digits = false;
    }
    return label > 0 && s[len - 1] != '-' && !digits;
}

static int add_name(admit_set *s, const char *host, size_t len)
{
    for (unsigned i = 0; i < s->n_names; i++)
        if (strlen(s->names[i].host) == len && strncasecmp(s->names[i].host, host, len) == 0)
            return 0;
    admit_name *names = realloc(s->names, (s->n_names + 1) * sizeof(*names));
    if (!names)
        return -1;
    s->names = names;
    admit_name *n = &names[s->n_names++];
    memset(n, 0, sizeof(*n));
    memcpy(n->host, host, len);
    return 0;
}

static int bad_entry(const char *var, const char *item, size_t len, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: \"%.*s\" is not an address, a CIDR or a host name: %s", var,
             (int)(len < QUOTE_MAX ? len : QUOTE_MAX), item, allow_from_hint);
    return -1;
}

/* n was parsed from item with bits set after its prefix (so item has a
 * '/'): the error names both things the user may have meant. */
static int host_bits_set(const char *var, const char *item, size_t len, admit_net *n, char *err, size_t errlen)
{
    char net[64];
    int one = (int)((const char *)memchr(item, '/', len) - item);
    clear_host_bits(n);
    admit_net_text(n, net, sizeof(net));
    snprintf(err, errlen, "%s: \"%.*s\" has bits set after the /%u prefix: write %s for the network or %.*s for one "
             "address", var, (int)len, item, n->bits, net, one, item);
    return -1;
}

/* One non-empty entry: an address, a CIDR or a host name. */
static int parse_entry(admit_set *s, const char *var, const char *item, size_t len, char *err, size_t errlen)
{
    admit_net n;
    if (parse_net(item, len, &n)) {
        if (!host_bits_clear(&n))
            return host_bits_set(var, item, len, &n, err, errlen);
        s->nets[s->n_nets++] = n;
        return 0;
    }
    if (!is_host_name(item, len))
        return bad_entry(var, item, len, err, errlen);
    if (add_name(s, item, len) < 0) {
        snprintf(err, errlen, "%s: out of memory", var);
        return -1;
    }
    return 0;
}

int admit_set_parse(admit_set *s, const char *var, const char *spec, char *err, size_t errlen)
{
    if (all_blank(spec)) {
        snprintf(err, errlen, "%s: no entry: leave it unset to admit anyone, or %s", var, allow_from_hint);
        return -1;
    }
    const char *p = spec, *item;
    size_t len;
    unsigned count = 0;
    while (list_next(&p, &item, &len)) {
        int rc = -1;
        if (len == 0)
            rc = empty_entry(var, spec, err, errlen);
        else if (++count > ADMIT_MAX_ENTRIES)
            snprintf(err, errlen, "%s: more than %d entries: cover addresses with a CIDR such as 172.18.0.0/16", var,
                     ADMIT_MAX_ENTRIES);
        else
            rc = parse_entry(s, var, item, len, err, errlen);
        if (rc < 0) {
            admit_set_free(s);
            return -1;
        }
    }
    return 0;
}

void admit_set_free(admit_set *s)
{
    free(s->names);
    s->names = NULL;
    s->n_names = 0;
}

/* ---- matching ---- */

bool admit_set_match(const admit_set *s, const admit_net *addr)
{
    for (unsigned i = 0; i < s->n_nets; i++)
        if (admit_net_has(&s->nets[i], addr))
            return true;
    for (unsigned i = 0; i < s->n_names; i++)
        for (unsigned k = 0; k < s->names[i].n_addrs; k++)
            if (same_addr(&s->names[i].addrs[k], addr))
                return true;
    return false;
}

const char *admit_set_name_of(const admit_set *s, const admit_net *addr)
{
    for (unsigned i = 0; i < s->n_names; i++)
        for (unsigned k = 0; k < s->names[i].n_addrs; k++)
            if (same_addr(&s->names[i].addrs[k], addr))
                return s->names[i].host;
    return NULL;
}

/* ---- what a resolution does to a name ---- */

unsigned admit_addrs_from(const struct addrinfo *ai, admit_net *out, unsigned cap)
{
    unsigned n = 0;
    for (; ai && n < cap; ai = ai->ai_next) {
        admit_net a;
        if (!ai->ai_addr || !admit_addr_of(ai->ai_addr, &a))
            continue;
        bool seen = false;
        for (unsigned i = 0; i < n && !seen; i++)
            seen = same_addr(&out[i], &a);
        if (!seen)
            out[n++] = a;
    }
    return n;
}

static int addr_cmp(const void *x, const void *y)
{
    const admit_net *a = x, *b = y;
    if (a->family != b->family)
        return a->family - b->family;
    return memcmp(a->addr, b->addr, 16);
}

/* Sorts a[0..n) and drops repeats; returns how many are left. */
static unsigned sort_unique(admit_net *a, unsigned n)
{
    unsigned k = 0;
    qsort(a, n, sizeof(*a), addr_cmp);
    for (unsigned i = 0; i < n; i++)
        if (k == 0 || addr_cmp(&a[k - 1], &a[i]) != 0)
            a[k++] = a[i];
    return k;
}

/* Stale addresses are the danger: after a container is gone, its address
 * may be given to another one, which the list never meant to admit. So:
 * - an answer replaces the addresses whole (a recreated container's old
 *   address is dropped at once);
 * - a definitive "no such name" (NXDOMAIN: EAI_NONAME/EAI_NODATA, what
 *   Docker's DNS says of a stopped container) drops them at once;
 * - a transient failure (EAI_AGAIN: the resolver timed out or failed) keeps
 *   them while their last confirmation is younger than ADMIT_KEEP_MS (two
 *   refresh intervals): one missed refresh does not lock a client out, but
 *   a resolver that stays down does not keep an address admitted for long.
 * Addresses are kept sorted and unique, so that an answer in another order
 * (DNS round robin) is no change and logs nothing. */
bool admit_name_result(admit_name *n, admit_outcome outcome, const admit_net *addrs, unsigned n_addrs,
                       uint64_t now_ms)
{
    admit_name before = *n;
    n->busy = false;
    n->done_ms = now_ms;
    if (outcome == ADMIT_RESOLVED && n_addrs > 0) {
        n->n_addrs = n_addrs < ADMIT_MAX_ADDRS ? n_addrs : ADMIT_MAX_ADDRS;
        memcpy(n->addrs, addrs, n->n_addrs * sizeof(*addrs));
        n->n_addrs = sort_unique(n->addrs, n->n_addrs);
        n->state = ADMIT_NAME_OK;
        n->confirmed_ms = now_ms;
    } else if (outcome == ADMIT_TRANSIENT && n->n_addrs > 0 && now_ms - n->confirmed_ms < ADMIT_KEEP_MS) {
        n->state = ADMIT_NAME_KEPT;
    } else {
        n->n_addrs = 0;
        n->state = ADMIT_NAME_NONE;
    }
    return before.state != n->state || before.n_addrs != n->n_addrs ||
           memcmp(before.addrs, n->addrs, n->n_addrs * sizeof(*addrs)) != 0;
}

uint64_t admit_name_due(const admit_name *n)
{
    return n->state == ADMIT_NAME_NEW ? 0 : n->done_ms + ADMIT_GAP_MS;
}

/* ---- text ---- */

/* Appends s at out + *n, keeping out NUL-terminated within cap. */
static void append(char *out, size_t cap, size_t *n, const char *s)
{
    size_t len = strlen(s);
    if (*n + 1 >= cap)
        return;
    if (len > cap - 1 - *n)
        len = cap - 1 - *n;
    memcpy(out + *n, s, len);
    *n += len;
    out[*n] = '\0';
}

size_t admit_addrs_text(const admit_name *n, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < n->n_addrs; i++) {
        char one[64];
        admit_net_text(&n->addrs[i], one, sizeof(one));
        if (i)
            append(out, cap, &len, ", ");
        append(out, cap, &len, one);
    }
    return len;
}

static void name_text(const admit_name *n, char *out, size_t cap, size_t *len)
{
    char addrs[ADMIT_MAX_ADDRS * 48];
    append(out, cap, len, n->host);
    if (n->state == ADMIT_NAME_NEW)
        return;
    if (n->state == ADMIT_NAME_NONE) {
        append(out, cap, len, " (unresolved)");
        return;
    }
    admit_addrs_text(n, addrs, sizeof(addrs));
    append(out, cap, len, n->state == ADMIT_NAME_KEPT ? " (kept: " : " (");
    append(out, cap, len, addrs);
    append(out, cap, len, ")");
}

size_t admit_set_text(const admit_set *s, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < s->n_nets + s->n_names; i++) {
        if (i)
            append(out, cap, &len, ", ");
        if (i < s->n_nets) {
            char one[64];
            admit_net_text(&s->nets[i], one, sizeof(one));
            append(out, cap, &len, one);
        } else {
            name_text(&s->names[i - s->n_nets], out, cap, &len);
        }
    }
    return len;
}

/* ---- Unix peers ---- */

/* A uid or gid: 1 to 10 digits up to 4294967294 ((uid_t)-1 means "no
 * change" to the kernel and is no one's id). */
static bool parse_id(const char *s, size_t len, uint32_t *out)
{
    if (len == 0 || len > 10)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > 4294967294u)
        return false;
    *out = (uint32_t)v;
    return true;
}

static int parse_ids(uint32_t *ids, unsigned *n, const char *var, const char *list, const char *what, char *err,
                     size_t errlen)
{
    const char *p = list, *item;
    size_t len;
    *n = 0;
    if (!list || !*list)
        return 0;
    while (list_next(&p, &item, &len)) {
        if (len == 0)
            return empty_entry(var, list, err, errlen);
        if (*n == ADMIT_MAX_IDS) {
            snprintf(err, errlen, "%s: more than %d ids", var, ADMIT_MAX_IDS);
            return -1;
        }
        if (!parse_id(item, len, &ids[*n])) {
            snprintf(err, errlen, "%s: \"%.*s\" is not a %s: use numbers from 0 to 4294967294, comma-separated, e.g. 1000,1001",
                     var, (int)(len < QUOTE_MAX ? len : QUOTE_MAX), item, what);
            return -1;
        }
        (*n)++;
    }
    return 0;
}

int admit_ids_parse(admit_ids *a, const char *uid_var, const char *uids, const char *gid_var, const char *gids,
                    char *err, size_t errlen)
{
    memset(a, 0, sizeof(*a));
    if (parse_ids(a->uids, &a->n_uids, uid_var, uids, "user id", err, errlen) < 0 ||
        parse_ids(a->gids, &a->n_gids, gid_var, gids, "group id", err, errlen) < 0) {
        memset(a, 0, sizeof(*a));
        return -1;
    }
    return 0;
}

bool admit_ids_any(const admit_ids *a) { return a->n_uids > 0 || a->n_gids > 0; }

static bool has_id(const uint32_t *ids, unsigned n, uint32_t id)
{
    for (unsigned i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

bool admit_ids_match(const admit_ids *a, uint32_t uid, uint32_t gid)
{
    if (!admit_ids_any(a))
        return true;
    return has_id(a->uids, a->n_uids, uid) || has_id(a->gids, a->n_gids, gid);
}
