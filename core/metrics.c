/* Metrics: the counters the connection code feeds, and their Prometheus
 * text exposition (format 0.0.4). The listener is core/metrics_listen.c. */
#include "metrics.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The build gives it (VERSION via configure.py), as to cmd/main.c. */
#ifndef SOCKET_PROXY_VERSION
#error "SOCKET_PROXY_VERSION is set by the build (VERSION via configure.py): build with ninja"
#endif

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The label values a request is counted under besides its section: closed
 * sets, so that a client's method cannot mint series; the last is "other". */
static const char *const method_names[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "other"};
static const char *const decision_names[] = {"allow", "deny", "bad", "error", "learn-allow", "other"};
static const char *const class_names[] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
#define NMETHODS COUNT(method_names)
#define NDECISIONS COUNT(decision_names)
#define NCLASSES COUNT(class_names)

/* Upper bounds of the duration buckets; the last bucket is +Inf. */
static const double bucket_le[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
static const char *const bucket_text[] = {"0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                          "0.5",   "1",     "2.5",  "5",     "10",   "+Inf"};
#define NBUCKETS COUNT(bucket_text)
_Static_assert(COUNT(bucket_le) + 1 == COUNT(bucket_text), "a label per bucket, +Inf last");

static const char *const refusal_kinds[] = {"400", "403", "408", "413", "431", "503", "allow_from", "limit", "tls"};
_Static_assert(COUNT(refusal_kinds) == METRICS_EVENTS - METRICS_REFUSED_400, "a kind per refusal event");

/* The section every request beyond METRICS_MAX_SERIES counts under. */
#define FOLD_SECTION "other"

typedef struct series {
    uint64_t count;
    uint32_t hash;
    uint16_t profile;
    uint8_t method, decision, cls;
    char section[METRICS_SECTION_MAX + 1];
} series;

typedef struct histogram {
    uint64_t bucket[NBUCKETS]; /* per bucket, not cumulative: rendering sums */
    uint64_t count;
    double sum;
} histogram;

struct metrics {
    int nprofiles;
    char **names;      /* the profile label of each profile */
    histogram *hist;   /* one per profile */
    series *series;    /* in the order first counted (the rendering's order) */
    size_t nseries, series_cap;
    uint32_t *index;   /* open addressing: 1 + a position in series, 0 empty */
    size_t index_cap;  /* a power of two, at least twice nseries */
    /* section="other", by [profile][method][decision][class]; allocated at
     * the first fold. Kept apart, so the table's cap never refuses it. */
    uint64_t *folded;
    uint64_t bytes_in, bytes_out;
    int64_t gauge[METRICS_GAUGES];
    uint64_t event[METRICS_EVENTS];
};

typedef struct key {
    int profile;
    uint8_t method, decision, cls;
    const char *section;
    size_t section_len;
} key;

metrics *metrics_new(int n, const char *const *names)
{
    metrics *m = calloc(1, sizeof(*m));
    if (!m || n < 0)
        goto fail;
    m->nprofiles = n;
    m->names = calloc(n ? (size_t)n : 1, sizeof(char *));
    m->hist = calloc(n ? (size_t)n : 1, sizeof(histogram));
    if (!m->names || !m->hist)
        goto fail;
    for (int i = 0; i < n; i++)
        if (!(m->names[i] = strdup(names[i] && names[i][0] ? names[i] : "default")))
            goto fail;
    return m;
fail:
    metrics_free(m);
    return NULL;
}

void metrics_free(metrics *m)
{
    if (!m)
        return;
    for (int i = 0; m->names && i < m->nprofiles; i++)
        free(m->names[i]);
    free(m->names);
    free(m->hist);
    free(m->series);
    free(m->index);
    free(m->folded);
    free(m);
}

/* The position of s in names[0..n), or n - 1 ("other") when absent. */
static uint8_t label_index(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; s && i + 1 < n; i++)
        if (strcmp(s, names[i]) == 0)
            return (uint8_t)i;
    return (uint8_t)(n - 1);
}

/* FNV-1a over the key's fields. */
static uint32_t key_hash(const key *k)
{
    uint8_t fixed[5] = {(uint8_t)k->profile, (uint8_t)(k->profile >> 8), k->method, k->decision, k->cls};
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < sizeof(fixed); i++)
        h = (h ^ fixed[i]) * 16777619u;
    for (size_t i = 0; i < k->section_len; i++)
        h = (h ^ (uint8_t)k->section[i]) * 16777619u;
    return h;
}

static bool key_is(const series *s, const key *k, uint32_t h)
{
    return s->hash == h && s->profile == k->profile && s->method == k->method && s->decision == k->decision &&
           s->cls == k->cls && strlen(s->section) == k->section_len && memcmp(s->section, k->section, k->section_len) == 0;
}

/* The slot of the index where the key with hash h is, or the empty one
 * where it would go. */
static size_t index_slot(const metrics *m, const key *k, uint32_t h)
{
    size_t mask = m->index_cap - 1, i = h & mask;
    while (m->index[i] && !key_is(&m->series[m->index[i] - 1], k, h))
        i = (i + 1) & mask;
    return i;
}

/* Room for one more series: the index kept at most half full, the array
 * doubled. false when memory is short. */
static bool make_room(metrics *m)
{
    if (m->nseries == m->series_cap) {
        size_t cap = m->series_cap ? m->series_cap * 2 : 64;
        cap = cap > METRICS_MAX_SERIES ? METRICS_MAX_SERIES : cap;
        series *s = realloc(m->series, cap * sizeof(*s));
        if (!s)
            return false;
        m->series = s;
        m->series_cap = cap;
    }
    if ((m->nseries + 1) * 2 <= m->index_cap)
        return true;
    size_t cap = m->index_cap ? m->index_cap * 2 : 128;
    uint32_t *old = m->index;
    m->index = calloc(cap, sizeof(*m->index));
    if (!m->index) {
        m->index = old;
        return false;
    }
    m->index_cap = cap;
    for (size_t i = 0; i < m->nseries; i++) {
        size_t j = m->series[i].hash & (cap - 1);
        while (m->index[j])
            j = (j + 1) & (cap - 1);
        m->index[j] = (uint32_t)(i + 1);
    }
    free(old);
    return true;
}

/* The key's series, added when new; NULL when the table is full (or memory
 * short): the caller folds. */
static series *find_or_add(metrics *m, const key *k)
{
    uint32_t h = key_hash(k);
    if (m->index_cap) {
        size_t i = index_slot(m, k, h);
        if (m->index[i])
            return &m->series[m->index[i] - 1];
    }
    if (m->nseries == METRICS_MAX_SERIES || !make_room(m))
        return NULL;
    series *s = &m->series[m->nseries];
    memset(s, 0, sizeof(*s));
    s->hash = h;
    s->profile = (uint16_t)k->profile;
    s->method = k->method;
    s->decision = k->decision;
    s->cls = k->cls;
    memcpy(s->section, k->section, k->section_len);
    m->index[index_slot(m, k, h)] = (uint32_t)++m->nseries;
    return s;
}

static size_t fold_at(int profile, size_t method, size_t decision, size_t cls)
{
    return (((size_t)profile * NMETHODS + method) * NDECISIONS + decision) * NCLASSES + cls;
}

static void fold_add(metrics *m, const key *k)
{
    if (!m->folded)
        m->folded = calloc(fold_at(m->nprofiles, 0, 0, 0), sizeof(uint64_t));
    if (m->folded)
        m->folded[fold_at(k->profile, k->method, k->decision, k->cls)]++;
}

static void observe(histogram *hg, double seconds)
{
    if (!(seconds >= 0)) /* a stream (or NaN): never timed */
        return;
    size_t b = 0;
    while (b < COUNT(bucket_le) && seconds > bucket_le[b])
        b++;
    hg->bucket[b]++;
    hg->count++;
    hg->sum += seconds;
}

void metrics_count_request(metrics *m, const metrics_request *r)
{
    if (!m || !r || r->profile < 0 || r->profile >= m->nprofiles)
        return;
    int cls = r->status >= 100 && r->status <= 599 ? r->status / 100 - 1 : (int)NCLASSES - 1;
    key k = {.profile = r->profile,
             .method = label_index(method_names, NMETHODS, r->method),
             .decision = label_index(decision_names, NDECISIONS, r->decision),
             .cls = (uint8_t)cls,
             .section = r->section ? r->section : "none"};
    k.section_len = strlen(k.section);
    /* "other" itself lives among the folded counts only: one series per label set. */
    series *s = k.section_len > METRICS_SECTION_MAX || strcmp(k.section, FOLD_SECTION) == 0 ? NULL : find_or_add(m, &k);
    if (s)
        s->count++;
    else
        fold_add(m, &k);
    observe(&m->hist[r->profile], r->seconds);
}

void metrics_add_bytes(metrics *m, uint64_t in, uint64_t out)
{
    if (!m)
        return;
    m->bytes_in += in;
    m->bytes_out += out;
}

void metrics_gauge_add(metrics *m, metrics_gauge g, int delta)
{
    if (m && g >= 0 && g < METRICS_GAUGES)
        m->gauge[g] += delta;
}

void metrics_event_add(metrics *m, metrics_event e)
{
    if (m && e >= 0 && e < METRICS_EVENTS)
        m->event[e]++;
}

/* ---- rendering ---- */

/* A growing string; after a failed allocation every append is a no-op. */
typedef struct text {
    char *p;
    size_t len, cap;
    bool failed;
} text;

static bool reserve(text *t, size_t more)
{
    if (t->failed)
        return false;
    if (t->len + more + 1 <= t->cap)
        return true;
    size_t cap = t->cap ? t->cap : 4096;
    while (cap < t->len + more + 1)
        cap *= 2;
    char *p = realloc(t->p, cap);
    if (!p) {
        t->failed = true;
        return false;
    }
    t->p = p;
    t->cap = cap;
    return true;
}

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(t, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* A label value as the format escapes it: \\, \" and \n. */
static void put_label_value(text *t, const char *v)
{
    if (!reserve(t, 2 * strlen(v)))
        return;
    for (; *v; v++) {
        if (*v == '\\' || *v == '"' || *v == '\n')
            t->p[t->len++] = '\\';
        t->p[t->len++] = *v == '\n' ? 'n' : *v;
    }
    t->p[t->len] = '\0';
}

static void put_family(text *t, const char *name, const char *type, const char *help)
{
    put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The shortest decimal that reads back as v, written as Go's
 * strconv.FormatFloat(v, 'g', -1, 64) writes it (what Prometheus' own
 * clients print): an exponent below -4 or from 6 up in e-notation. */
static const char *format_double(char *buf, size_t n, double v)
{
    int prec = 1;
    while (prec < 17) {
        snprintf(buf, n, "%.*e", prec - 1, v);
        if (strtod(buf, NULL) == v)
            break;
        prec++;
    }
    snprintf(buf, n, "%.*e", prec - 1, v);
    const char *e = strchr(buf, 'e');
    int exp = e ? atoi(e + 1) : 0;
    if (exp >= -4 && exp < 6)
        snprintf(buf, n, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, v);
    return buf;
}

static void put_request_line(text *t, const metrics *m, int profile, size_t method, const char *section,
                             size_t decision, size_t cls, uint64_t count)
{
    put(t, "socket_proxy_requests_total{profile=\"");
    put_label_value(t, m->names[profile]);
    put(t, "\",method=\"%s\",section=\"", method_names[method]);
    put_label_value(t, section);
    put(t, "\",decision=\"%s\",code=\"%s\"} %" PRIu64 "\n", decision_names[decision], class_names[cls], count);
}

static void render_requests(text *t, const metrics *m)
{
    put_family(t, "socket_proxy_requests_total", "counter",
               "Requests answered, by profile, method, deciding section, decision and status class.");
    for (size_t i = 0; i < m->nseries; i++) {
        const series *s = &m->series[i];
        put_request_line(t, m, s->profile, s->method, s->section, s->decision, s->cls, s->count);
    }
    for (int p = 0; m->folded && p < m->nprofiles; p++)
        for (size_t me = 0; me < NMETHODS; me++)
            for (size_t d = 0; d < NDECISIONS; d++)
                for (size_t c = 0; c < NCLASSES; c++)
                    if (m->folded[fold_at(p, me, d, c)])
                        put_request_line(t, m, p, me, FOLD_SECTION, d, c, m->folded[fold_at(p, me, d, c)]);
}

static void render_durations(text *t, const metrics *m)
{
    const char *name = "socket_proxy_request_duration_seconds";
    put_family(t, name, "histogram", "Time from a request's head to the end of its answer; streams are not timed.");
    for (int p = 0; p < m->nprofiles; p++) {
        const histogram *hg = &m->hist[p];
        uint64_t cumulative = 0;
        for (size_t b = 0; b < NBUCKETS; b++) {
            cumulative += hg->bucket[b];
            put(t, "%s_bucket{profile=\"", name);
            put_label_value(t, m->names[p]);
            put(t, "\",le=\"%s\"} %" PRIu64 "\n", bucket_text[b], cumulative);
        }
        char sum[32];
        put(t, "%s_sum{profile=\"", name);
        put_label_value(t, m->names[p]);
        put(t, "\"} %s\n%s_count{profile=\"", format_double(sum, sizeof(sum), hg->sum), name);
        put_label_value(t, m->names[p]);
        put(t, "\"} %" PRIu64 "\n", hg->count);
    }
}

static void render_totals(text *t, const metrics *m)
{
    put_family(t, "socket_proxy_bytes_total", "counter",
               "Bytes carried: in from clients to the daemon, out from the daemon to clients.");
    put(t, "socket_proxy_bytes_total{direction=\"in\"} %" PRIu64 "\n", m->bytes_in);
    put(t, "socket_proxy_bytes_total{direction=\"out\"} %" PRIu64 "\n", m->bytes_out);
    put_family(t, "socket_proxy_client_connections", "gauge", "Open client connections.");
    put(t, "socket_proxy_client_connections %" PRId64 "\n", m->gauge[METRICS_CLIENT_CONNS]);
    put_family(t, "socket_proxy_streams", "gauge", "Open streams and tunnels (events, logs -f, attach, exec).");
    put(t, "socket_proxy_streams %" PRId64 "\n", m->gauge[METRICS_STREAMS]);
    put_family(t, "socket_proxy_upstream_dial_failures_total", "counter", "Dials to the daemon that failed.");
    put(t, "socket_proxy_upstream_dial_failures_total %" PRIu64 "\n", m->event[METRICS_DIAL_FAILURES]);
    put_family(t, "socket_proxy_bad_gateway_total", "counter", "502 answers.");
    put(t, "socket_proxy_bad_gateway_total %" PRIu64 "\n", m->event[METRICS_BAD_GATEWAY]);
    put_family(t, "socket_proxy_refusals_total", "counter",
               "Requests and connections refused by the proxy itself, by status or reason.");
    for (size_t i = 0; i < COUNT(refusal_kinds); i++)
        put(t, "socket_proxy_refusals_total{kind=\"%s\"} %" PRIu64 "\n", refusal_kinds[i],
            m->event[METRICS_REFUSED_400 + i]);
}

/* Resident memory from /proc/self/statm (pages), -1 when unreadable. */
static long long resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size, resident;
    int got = f ? fscanf(f, "%llu %llu", &size, &resident) : 0;
    if (f)
        fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return got == 2 && page > 0 ? (long long)(resident * (unsigned long long)page) : -1;
}

/* Entries of /proc/self/fd but the one reading it, -1 when unreadable. */
static long long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long long n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1;
}

static void render_process(text *t)
{
    long long rss = resident_bytes(), fds = open_fds();
    if (rss >= 0) {
        put_family(t, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        put(t, "process_resident_memory_bytes %lld\n", rss);
    }
    if (fds >= 0) {
        put_family(t, "process_open_fds", "gauge", "Number of open file descriptors.");
        put(t, "process_open_fds %lld\n", fds);
    }
    put_family(t, "socket_proxy_build_info", "gauge", "The running version; always 1.");
    put(t, "socket_proxy_build_info{version=\"");
    put_label_value(t, SOCKET_PROXY_VERSION);
    put(t, "\"} 1\n");
}

size_t metrics_render(const metrics *m, char **out)
{
    text t = {0};
    *out = NULL;
    if (!m)
        return 0;
    render_requests(&t, m);
    render_durations(&t, m);
    render_totals(&t, m);
    render_process(&t);
    if (t.failed || !t.p) {
        free(t.p);
        return 0;
    }
    *out = t.p;
    return t.len;
}
