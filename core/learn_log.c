/* Learning from a saved access log (`socket-proxy learn LOGFILE`). See
 * learn.h. Every byte of the log is untrusted (it may be cut, edited,
 * interleaved with other programs' lines): lines are bounded, each field is
 * checked before it is used, and a line that does not read as one of ours
 * is counted as skipped, never guessed at. */
#include "learn.h"

#include <cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The fields of one access line that learning reads. */
typedef struct access {
    const char *client;   /* "127.0.0.1:4711", "[::1]:4711", "uid=1000 pid=42" (or just its first word) */
    const char *profile;  /* "" when the line names none */
    const char *method;
    const char *target;
    const char *decision; /* allow, deny, learn-allow, bad, error */
    const char *rule;     /* the variables text, or the reason */
} access;

/* A client as learn keys it: "127.0.0.1:4711" -> "127.0.0.1", "[::1]:4711"
 * -> "[::1]", "uid=1000 pid=42" -> "uid=1000". False for anything else
 * (spaces, control bytes, too long). */
static bool client_key(const char *s, char *out, size_t cap)
{
    size_t n = strcspn(s, " "), k = n;
    if (s[0] == '[') {
        const char *e = memchr(s, ']', n);
        k = e ? (size_t)(e - s) + 1 : 0;
    } else if (strncmp(s, "uid=", 4) != 0) {
        const char *c = memrchr(s, ':', n);
        k = c ? (size_t)(c - s) : n;
    }
    if (k == 0 || k >= cap)
        return false;
    for (size_t i = 0; i < k; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return false;
    memcpy(out, s, k);
    out[k] = '\0';
    return true;
}

static int var_index(const char *name, size_t n)
{
    for (int v = 0; v < RV_COUNT; v++)
        if (strlen(rules_var_name(v)) == n && memcmp(rules_var_name(v), name, n) == 0)
            return v;
    return -1;
}

/* rules_need_text's "A=1", "A=1 and B=1", "A=1, B=1 and C=1" (s[0..n)),
 * each name with prefix, into *m. */
static bool parse_mask(const char *s, size_t n, const char *prefix, rules_mask *m)
{
    size_t pl = strlen(prefix);
    const char *p = s, *end = s + n;
    *m = 0;
    for (;;) {
        if ((size_t)(end - p) < pl || memcmp(p, prefix, pl) != 0)
            return false;
        p += pl;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        int v = eq ? var_index(p, (size_t)(eq - p)) : -1;
        if (v < 0 || end - eq < 2 || eq[1] != '1')
            return false;
        *m |= RBIT(v);
        p = eq + 2;
        if (p == end)
            return true;
        if (end - p > 5 && memcmp(p, " and ", 5) == 0)
            p += 5;
        else if (end - p > 2 && memcmp(p, ", ", 2) == 0)
            p += 2;
        else
            return false;
    }
}

/* The rule column as rules_need_text writes it: need, ", or " need_alt, or
 * "no variable grants it" (both 0). */
static bool parse_rule(const char *rule, const char *prefix, rules_mask *need, rules_mask *alt)
{
    *need = *alt = 0;
    if (strcmp(rule, "no variable grants it") == 0)
        return true;
    size_t n = strlen(rule);
    const char *or_ = strstr(rule, ", or ");
    if (!or_)
        return parse_mask(rule, n, prefix, need);
    size_t k = (size_t)(or_ - rule);
    return parse_mask(rule, k, prefix, need) && parse_mask(or_ + 5, n - k - 5, prefix, alt);
}

/* A body refusal's rule column: the variable (ALLOW_PRIVILEGED; the head's
 * judge writes it without the profile's prefix), -2 for ALLOW_BINDS, -1
 * for anything else. */
static int body_var(const char *rule, const char *prefix)
{
    size_t pl = strlen(prefix);
    const char *name = strncmp(rule, prefix, pl) == 0 ? rule + pl : rule;
    if (strcmp(name, "ALLOW_BINDS") == 0)
        return -2;
    int v = var_index(name, strlen(name));
    return v >= 0 && (RBIT(v) & LEARN_BODY_VARS) ? v : -1;
}

/* A refused body: the log names the variable, not what the path needed;
 * the path rules say that again (with nothing granted, the need is the
 * same as the proxy logged for the path's own decision). */
static bool note_body_refusal(learn *l, int p, const char *key, const access *a, int bv)
{
    static const rules_set nothing; /* const: rules_decide only reads it */
    size_t tl = strlen(a->target);
    char *buf = malloc(tl + 1);
    if (!buf)
        return false;
    rules_verdict v;
    rules_decide(&nothing, a->method, strlen(a->method), a->target, tl, buf, tl + 1, &v);
    free(buf);
    if (v.status != RULES_BAD && v.need)
        learn_note(l, p, key, v.need, v.need_alt, a->method, a->target);
    learn_note_body(l, p, key, bv >= 0 ? RBIT(bv) : 0, NULL, bv >= 0 ? 0 : -1);
    return true;
}

/* One parsed access line into l. False when it is nothing to learn from. */
static bool note_access(learn *l, const access *a)
{
    const char *d = a->decision;
    if (strcmp(d, "allow") != 0 && strcmp(d, "deny") != 0 && strcmp(d, "learn-allow") != 0)
        return false;
    char key[64], prefix[64];
    if (!client_key(a->client, key, sizeof(key)) || !learn_prefix(a->profile, prefix, sizeof(prefix)))
        return false;
    int p = learn_profile(l, a->profile);
    if (p < 0)
        return false;
    rules_mask need, alt;
    if (parse_rule(a->rule, prefix, &need, &alt)) {
        learn_note(l, p, key, need, alt, a->method, a->target);
        return true;
    }
    int bv = body_var(a->rule, prefix);
    return strcmp(d, "deny") == 0 && bv != -1 && note_body_refusal(l, p, key, a, bv);
}

/* ---- the two formats ---- */

/* The next space-separated word of [*p, end), NUL-terminated in place. */
static char *word(char **p, char *end)
{
    char *w = *p, *sp = memchr(w, ' ', (size_t)(end - w));
    if (!sp || sp == w)
        return NULL;
    *sp = '\0';
    *p = sp + 1;
    return w;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The quoted "METHOD TARGET" at *p, its escapes (\" \\ \xHH, log.c's)
 * undone in place: method and target NUL-terminated. */
static bool quoted(char **p, char *end, access *a)
{
    if (*p == end || **p != '"')
        return false;
    char *start = *p + 1, *r = start, *w = start;
    while (r < end && *r != '"') {
        if (*r != '\\') {
            *w++ = *r++;
        } else if (end - r >= 2 && (r[1] == '"' || r[1] == '\\')) {
            *w++ = r[1];
            r += 2;
        } else if (end - r >= 4 && r[1] == 'x' && hexval(r[2]) >= 0 && hexval(r[3]) >= 0 &&
                   (hexval(r[2]) || hexval(r[3]))) {
            *w++ = (char)(hexval(r[2]) << 4 | hexval(r[3]));
            r += 4;
        } else {
            return false;
        }
    }
    if (r == end)
        return false;
    *w = '\0';
    char *sp = strchr(start, ' ');
    if (!sp || sp == start || !sp[1])
        return false;
    *sp = '\0';
    a->method = start;
    a->target = sp + 1;
    *p = r + 1;
    return true;
}

/* A TLS client's cert="SUBJECT" (log.c's escapes) at *p: skipped. */
static bool skip_cert(char **p, char *end)
{
    char *r = *p + 6;
    while (r < end && *r != '"')
        r += *r == '\\' && r + 1 < end ? 2 : 1;
    if (r + 1 >= end || r[1] != ' ')
        return false;
    *p = r + 2;
    return true;
}

/* log.c's text line: TS CLIENT [cert="SUBJECT"] [PROFILE] "METHOD TARGET"
 * DECISION (RULE) STATUS BYTES MSms. The rule may hold parentheses: it ends
 * at the last ')'. */
static bool parse_text(char *line, size_t n, access *a)
{
    char *p = line, *end = line + n;
    if (!word(&p, end) || !(a->client = word(&p, end)))
        return false;
    if (strncmp(a->client, "uid=", 4) == 0 && (strncmp(p, "pid=", 4) != 0 || !word(&p, end)))
        return false;
    if (end - p > 6 && strncmp(p, "cert=\"", 6) == 0 && !skip_cert(&p, end))
        return false;
    a->profile = "";
    if (*p == '[') {
        char *name = word(&p, end);
        size_t k = name ? strlen(name) : 0;
        if (k < 3 || name[k - 1] != ']')
            return false;
        name[k - 1] = '\0';
        a->profile = name + 1;
    }
    if (!quoted(&p, end, a) || p == end || *p++ != ' ' || !(a->decision = word(&p, end)) || *p != '(')
        return false;
    char *close = memrchr(p, ')', (size_t)(end - p));
    if (!close || end - close < 6 || close[1] != ' ' || close[2] < '0' || close[2] > '9' || memcmp(end - 2, "ms", 2) != 0)
        return false;
    *close = '\0';
    a->rule = p + 1;
    return true;
}

static const char *json_text(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* LOG_FORMAT=json: one object, fields client, profile (optional), method,
 * target, decision, rule. */
static bool parse_json(const cJSON *o, access *a)
{
    const cJSON *prof = cJSON_GetObjectItemCaseSensitive(o, "profile");
    if (prof && !cJSON_IsString(prof))
        return false;
    a->profile = prof ? prof->valuestring : "";
    a->client = json_text(o, "client");
    a->method = json_text(o, "method");
    a->target = json_text(o, "target");
    a->decision = json_text(o, "decision");
    a->rule = json_text(o, "rule");
    return a->client && a->method && a->target && a->decision && a->rule;
}

/* One line (n bytes, NUL-terminated, no NUL inside): true when noted. */
static bool read_access(learn *l, char *line, size_t n)
{
    access a;
    memset(&a, 0, sizeof(a));
    if (line[0] != '{')
        return parse_text(line, n, &a) && note_access(l, &a);
    /* the NUL after the line counted in: only then does cJSON refuse bytes after the value */
    cJSON *o = cJSON_ParseWithLengthOpts(line, n + 1, NULL, 1);
    bool ok = o && parse_json(o, &a) && note_access(l, &a);
    cJSON_Delete(o);
    return ok;
}

/* The next line of in into buf (cap bytes), without its "\n" (or "\r\n").
 * A longer line is read through, *whole false. False at the end of in. */
static bool next_line(FILE *in, char *buf, size_t cap, size_t *len, bool *whole)
{
    int ch;
    size_t n = 0;
    bool any = false;
    *whole = true;
    while ((ch = getc_unlocked(in)) != EOF) {
        any = true;
        if (ch == '\n')
            break;
        if (n < cap - 1)
            buf[n++] = (char)ch;
        else
            *whole = false;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    *len = n;
    return any;
}

int learn_read_log(learn *l, FILE *in, learn_log_stats *st)
{
    learn_log_stats s = {0};
    char *buf = malloc(LEARN_LINE_MAX + 1);
    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    size_t n;
    bool whole;
    while (next_line(in, buf, LEARN_LINE_MAX + 1, &n, &whole)) {
        s.lines++;
        if (n == 0 && whole)
            continue;
        if (whole && !memchr(buf, '\0', n) && read_access(l, buf, n))
            s.noted++;
        else
            s.skipped++;
    }
    free(buf);
    if (st)
        *st = s;
    return ferror(in) ? -1 : 0;
}

int learn_from_log(const char *path, FILE *out, char *err, size_t errlen)
{
    bool std_in = strcmp(path, "-") == 0;
    FILE *in = std_in ? stdin : fopen(path, "r");
    if (!in) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    learn_log_stats st;
    learn *l = learn_new(0, NULL, NULL);
    int rc = l ? learn_read_log(l, in, &st) : -1;
    int e = l ? errno : ENOMEM;
    if (!std_in)
        fclose(in);
    size_t len = 0;
    char *text = rc == 0 ? learn_report(l, &len) : NULL;
    learn_free(l);
    if (!text) {
        snprintf(err, errlen, "cannot read %s: %s", std_in ? "standard input" : path, strerror(rc < 0 ? e : ENOMEM));
        return -1;
    }
    fwrite(text, 1, len, out);
    free(text);
    fprintf(out, "\n# %s: %llu line%s read, %llu request%s noted, %llu line%s skipped (other log lines, bad "
                 "requests, refusals at admission, unreadable lines)\n",
            std_in ? "standard input" : path, (unsigned long long)st.lines, st.lines == 1 ? "" : "s",
            (unsigned long long)st.noted, st.noted == 1 ? "" : "s", (unsigned long long)st.skipped,
            st.skipped == 1 ? "" : "s");
    if (fflush(out) != 0 || ferror(out)) {
        snprintf(err, errlen, "cannot write the report: %s", strerror(errno));
        return -1;
    }
    return 0;
}
