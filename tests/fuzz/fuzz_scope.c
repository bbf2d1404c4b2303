/* libFuzzer: label scoping (rules/scope.c). The first byte picks what is
 * fuzzed (% 6) and the policy's switches (/ 6: networks, volumes, own); the
 * second the kind, object or method; the rest is the input. Invariants:
 *  - list targets: 0 or 400 (a why given); a query Go refuses (';', a bad
 *    escape) or with two filters parameters is 400; an accepted target
 *    keeps the prefix and path, holds exactly one filters parameter whose
 *    value is a JSON object with every scope label in "label", and is a
 *    fixed point: rewriting it again gives the same bytes;
 *  - bodies: 0, 400 or 403 with a why; on a refusal no reference; at most
 *    SCOPE_MAX_REFS, each named once, none empty; an accepted create body of
 *    an own profile gets its labels (scope_add_labels), and what comes back
 *    is a JSON object to cJSON that holds every input byte in order, that
 *    scope_body accepts again with the same references, and whose last
 *    member is our Labels;
 *  - scope_add_labels on anything: 0 only for what cJSON reads as an
 *    object, then the same checks;
 *  - inspect answers: -1, 0 or 1; an ID when not -1; an exec is never 0;
 *  - query parameters, routes and object targets: results within bounds, a
 *    refusal has a why, an object route names a part of the path (dockerd's
 *    {name:.*} spans slashes) that does not start with one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "rules/scope.h"

#define CHECK(c)                                                                                                    \
    do {                                                                                                            \
        if (!(c))                                                                                                   \
            __builtin_trap();                                                                                       \
    } while (0)

static const char *env_labels = "autoheal=true,team=a\"b\\,k=v=w";
static const char *env_sw[3];

static const char *get(const char *name)
{
    if (strcmp(name, "SCOPE_LABEL") == 0)
        return env_labels;
    if (strcmp(name, "SCOPE_NETWORKS") == 0)
        return env_sw[0];
    if (strcmp(name, "SCOPE_VOLUMES") == 0)
        return env_sw[1];
    if (strcmp(name, "SCOPE_OWN") == 0)
        return env_sw[2];
    return NULL;
}

/* Every byte of in, in order, in out. */
static bool subsequence(const char *in, size_t n, const char *out, size_t m)
{
    size_t j = 0;
    for (size_t i = 0; i < m && j < n; i++)
        if (out[i] == in[j])
            j++;
    return j == n;
}

/* out (from scope_add_labels on in) is what the invariants say. */
static void check_labelled(const scope_policy *p, const char *in, size_t n, const char *out, size_t m)
{
    CHECK(m > n && strlen(out) == m && subsequence(in, n, out, m));
    cJSON *top = cJSON_ParseWithLength(out, m);
    CHECK(cJSON_IsObject(top));
    const cJSON *last = top->child;
    while (last && last->next)
        last = last->next;
    CHECK(last && strcmp(last->string, "Labels") == 0 && cJSON_IsObject(last));
    for (unsigned i = 0; i < p->nlabels; i++) {
        char key[SCOPE_LABEL_MAX];
        memcpy(key, p->label[i], p->keylen[i]);
        key[p->keylen[i]] = '\0';
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(last, key);
        CHECK(cJSON_IsString(v) && strcmp(v->valuestring, p->label[i] + p->keylen[i] + 1) == 0);
    }
    cJSON_Delete(top);
}

static void fuzz_list(const scope_policy *p, bool libpod, const char *q, size_t n)
{
    char *out, *again, why[200];
    size_t outlen, againlen;
    const char *path = libpod ? "/libpod/containers/json" : "/containers/json";
    size_t plen = strlen(path);
    char *probe = malloc(n + 1);
    CHECK(probe != NULL);
    int rc = scope_list_target(p, libpod, "/v1.4", 5, path, plen, q, n, &out, &outlen, why, sizeof(why));
    int fp = scope_query_param(q, n, "filters", probe, n + 1);
    free(probe);
    CHECK(rc == 0 || rc == 400);
    CHECK(fp != -1 || rc == 400); /* Go refuses the query, or two filters */
    if (rc == 400) {
        CHECK(out == NULL && why[0]);
        return;
    }
    CHECK(memchr(q, ';', n) == NULL);
    CHECK(out[outlen] == '\0' && memcmp(out, "/v1.4", 5) == 0 && memcmp(out + 5, path, plen) == 0 &&
          out[5 + plen] == '?');
    const char *oq = out + 6 + plen;
    size_t oqlen = outlen - 6 - plen;
    size_t cap = oqlen + 1;
    char *f = malloc(cap);
    CHECK(f && scope_query_param(oq, oqlen, "filters", f, cap) == 1);
    cJSON *top = cJSON_Parse(f);
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(top, "label");
    CHECK(cJSON_IsObject(top) && (libpod ? cJSON_IsArray(label) : cJSON_IsObject(label)));
    for (unsigned i = 0; i < p->nlabels; i++) {
        bool seen = false;
        for (const cJSON *e = label->child; e; e = e->next)
            seen = seen || strcmp(libpod ? e->valuestring : e->string, p->label[i]) == 0;
        CHECK(seen);
    }
    cJSON_Delete(top);
    free(f);
    CHECK(scope_list_target(p, libpod, "/v1.4", 5, path, plen, oq, oqlen, &again, &againlen, why, sizeof(why)) == 0);
    CHECK(againlen == outlen && memcmp(again, out, outlen) == 0);
    free(again);
    free(out);
}

static void fuzz_body(const scope_policy *p, scope_body_kind k, const char *b, size_t n)
{
    scope_refs refs, again;
    char why[256] = "";
    int rc = scope_body(p, k, b, n, &refs, why, sizeof(why));
    CHECK(rc == 0 || rc == 400 || rc == 403);
    CHECK(rc == 0 ? refs.n <= SCOPE_MAX_REFS : refs.n == 0 && why[0]);
    for (unsigned i = 0; i < refs.n; i++) {
        CHECK(refs.ref[i].name[0] && strlen(refs.ref[i].name) < sizeof(refs.ref[i].name) && refs.ref[i].where);
        CHECK(refs.ref[i].obj >= SCOPE_OBJ_CONTAINER && refs.ref[i].obj <= SCOPE_OBJ_VOLUME);
        for (unsigned j = 0; j < i; j++)
            CHECK(refs.ref[j].obj != refs.ref[i].obj || strcmp(refs.ref[j].name, refs.ref[i].name) != 0);
    }
    bool create = k == SCOPE_BODY_CREATE_CONTAINER || k == SCOPE_BODY_CREATE_NETWORK || k == SCOPE_BODY_CREATE_VOLUME;
    if (rc != 0 || !p->own || !create || n == 0)
        return;
    char *out;
    size_t outlen;
    cJSON *top = cJSON_ParseWithLength(b, n);
    bool object = cJSON_IsObject(top);
    cJSON_Delete(top);
    int arc = scope_add_labels(p, b, n, &out, &outlen);
    CHECK(object ? arc == 0 : arc == -1);
    if (arc)
        return;
    check_labelled(p, b, n, out, outlen);
    CHECK(scope_body(p, k, out, outlen, &again, why, sizeof(why)) == 0 && again.n == refs.n);
    for (unsigned i = 0; i < refs.n; i++)
        CHECK(again.ref[i].obj == refs.ref[i].obj && strcmp(again.ref[i].name, refs.ref[i].name) == 0);
    free(out);
}

static void fuzz_add(const scope_policy *p, const char *b, size_t n)
{
    char *out;
    size_t outlen;
    if (scope_add_labels(p, b, n, &out, &outlen) != 0)
        return;
    cJSON *top = cJSON_ParseWithLength(b, n);
    CHECK(cJSON_IsObject(top));
    cJSON_Delete(top);
    check_labelled(p, b, n, out, outlen);
    free(out);
}

static void fuzz_answer(const scope_policy *p, scope_object obj, const char *b, size_t n)
{
    char id[80];
    int rc = scope_answer(p, obj, b, n, id, sizeof(id));
    CHECK(rc >= -1 && rc <= 1);
    CHECK(rc == -1 || (id[0] && strlen(id) < sizeof(id)));
    CHECK(obj != SCOPE_OBJ_EXEC || rc != 0);
    CHECK(obj != SCOPE_OBJ_NONE || rc == -1);
}

static void fuzz_route(const scope_policy *p, uint8_t sel, const char *d, size_t n)
{
    static const char *const methods[] = {"GET", "HEAD", "POST", "DELETE", "PUT", "post"};
    const char *m = methods[sel % 6];
    const char *qm = memchr(d, '?', n);
    size_t plen = qm ? (size_t)(qm - d) : n, qlen = qm ? n - plen - 1 : 0;
    const char *q = qm ? qm + 1 : "";
    char *path = malloc(plen + 2);
    CHECK(path != NULL);
    path[0] = '/';
    memcpy(path + 1, d, plen);
    path[++plen] = '\0';

    char value[16];
    int qp = scope_query_param(q, qlen, "container", value, sizeof(value));
    CHECK(qp >= -1 && qp <= 1 && (qp != 1 || strlen(value) < sizeof(value)));
    CHECK(!scope_form_body(m, strlen(m), q, qlen) || sel % 6 == 2 || sel % 6 == 4 || sel % 6 == 5);

    scope_route r;
    scope_route_of(p, m, strlen(m), path, plen, &r);
    CHECK((r.what == SCOPE_REFUSE) == (r.why != NULL));
    CHECK(r.seg_off + r.seg_len <= plen);
    CHECK(!r.libpod || r.what == SCOPE_LIST);
    if (r.what == SCOPE_CHECK && r.obj != SCOPE_OBJ_NONE && !r.query_key)
        CHECK(r.seg_len > 0 && path[r.seg_off] != '/');
    if (r.what == SCOPE_CHECK && r.obj != SCOPE_OBJ_NONE) {
        char *out;
        size_t outlen;
        CHECK(scope_object_target(&r, "/v9", 3, path, plen, q, qlen, "0123abcd", &out, &outlen) == 0);
        CHECK(out[outlen] == '\0' && memcmp(out, "/v9/", 4) == 0); /* the query is copied as it is, NULs too */
        CHECK(r.query_key || qlen || strchr(out, '?') == NULL);
        if (!r.query_key && qlen)
            CHECK(outlen > qlen && memcmp(out + outlen - qlen, q, qlen) == 0 && out[outlen - qlen - 1] == '?');
        if (r.query_key)
            CHECK(memmem(out, outlen, "=0123abcd", 9) != NULL);
        else
            CHECK(memmem(out, outlen, "/0123abcd", 9) != NULL);
        free(out);
        char lk[600];
        int ln = scope_lookup_target(r.obj, path + r.seg_off, r.seg_len, lk, sizeof(lk));
        CHECK(r.query_key || ln == -1 || (ln > 0 && (size_t)ln == strlen(lk) && lk[0] == '/'));
    }
    free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static scope_policy policies[8];
    static bool ready;
    if (!ready) {
        char err[256];
        for (int i = 0; i < 8; i++) {
            for (int b = 0; b < 3; b++)
                env_sw[b] = i & (1 << b) ? "1" : "0";
            CHECK(scope_policy_compile(&policies[i], "", get, err, sizeof(err)) == 0 && policies[i].nlabels == 3);
        }
        ready = true;
    }
    const scope_policy *p = &policies[(data[0] / 6) % 8];
    const char *d = (const char *)data + 2;
    size_t n = size - 2;
    switch (data[0] % 6) {
    case 0:
    case 1:
        fuzz_list(p, data[0] % 6 == 1, d, n);
        break;
    case 2:
        fuzz_body(p, (scope_body_kind)(data[1] % 6), d, n);
        break;
    case 3:
        fuzz_add(p, d, n);
        break;
    case 4:
        fuzz_answer(p, (scope_object)(data[1] % 5), d, n);
        break;
    default:
        fuzz_route(p, data[1], d, n);
        break;
    }
    return 0;
}
