/* libFuzzer: learn mode (core/learn.c, core/learn_log.c). The first byte
 * picks the mode:
 *  - even: the rest is an access log for learn_read_log (any bytes: text,
 *    JSON, garbage). Invariants: every line is counted once (noted +
 *    skipped <= lines); the report is printable ASCII and newlines only,
 *    its length as said, and each of its lines is a comment ("#"), empty,
 *    or an item "      - NAME=..." / "      - \"NAME=...\"".
 *  - odd: the rest is 16-byte notes (need, need_alt) of one client.
 *    Invariants: the variables the report lists, with the defaults and the
 *    variables that follow them, cover every request noted, and none of
 *    them can be left out (the set is minimal for inclusion, which the
 *    greedy's last pass promises). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/learn.h"

#define ALL_VARS (RV_COUNT < 64 ? (RBIT(RV_COUNT) - 1) : ~(rules_mask)0)

static void check_text(const char *text, size_t len)
{
    if (!text)
        return; /* memory short: allowed */
    if (strlen(text) != len)
        __builtin_trap();
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        if (!nl)
            __builtin_trap(); /* every line ends */
        for (const char *p = line; p < nl; p++)
            if (*p < 0x20 || *p > 0x7e)
                __builtin_trap();
        if (nl != line && line[0] != '#' && strncmp(line, "      - ", 8) != 0)
            __builtin_trap();
        if (strncmp(line, "      - ", 8) == 0) {
            const char *name = line + 8 + (line[8] == '"');
            size_t n = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
            if (n == 0 || name[n] != '=')
                __builtin_trap();
        }
        line = nl + 1;
    }
}

/* What a proxy with exactly the variables s grants. */
static rules_mask granted(rules_mask s)
{
    rules_mask g = s;
    for (int v = 0; v < RV_COUNT; v++) {
        const char *f = rules_var_follows(v);
        int fv = -1;
        for (int k = 0; f && k < RV_COUNT; k++)
            if (strcmp(rules_var_name(k), f) == 0)
                fv = k;
        if (rules_var_default(v) == 1 || (fv >= 0 && (s & RBIT(fv))))
            g |= RBIT(v);
    }
    return g;
}

/* The variables the report's items name. */
static rules_mask listed(const char *text)
{
    rules_mask m = 0;
    for (const char *p = strstr(text, "      - "); p; p = strstr(p + 1, "      - ")) {
        const char *name = p + 8;
        size_t n = strcspn(name, "=");
        for (int v = 0; v < RV_COUNT; v++)
            if (strlen(rules_var_name(v)) == n && memcmp(rules_var_name(v), name, n) == 0)
                m |= RBIT(v);
    }
    return m;
}

static int covers(rules_mask g, const rules_mask (*notes)[2], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rules_mask need = notes[i][0], alt = notes[i][1];
        if (!need)
            need = alt, alt = 0; /* learn_note's reading of (0, alt) */
        if (need && (need & ~g) && (!alt || (alt & ~g)))
            return 0;
    }
    return 1;
}

static void fuzz_notes(const uint8_t *data, size_t size)
{
    rules_mask notes[128][2];
    size_t n = 0;
    learn *l = learn_new(1, (const char *const[]){""}, (const char *const[]){""});
    for (; size >= 16 && n < 128; data += 16, size -= 16, n++) {
        memcpy(notes[n], data, 16);
        notes[n][0] &= ALL_VARS;
        notes[n][1] &= ALL_VARS;
        learn_note(l, 0, "c", notes[n][0], notes[n][1], "GET", "/");
    }
    size_t len;
    char *text = learn_report(l, &len);
    learn_free(l);
    check_text(text, len);
    if (!text)
        return;
    rules_mask s = listed(text);
    if (!covers(granted(s), (const rules_mask(*)[2])notes, n))
        __builtin_trap(); /* a request the listed variables do not allow */
    for (int v = 0; v < RV_COUNT; v++)
        if ((s & RBIT(v)) && covers(granted(s & ~RBIT(v)), (const rules_mask(*)[2])notes, n))
            __builtin_trap(); /* a listed variable nothing needed */
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    if (data[0] & 1) {
        fuzz_notes(data + 1, size - 1);
        return 0;
    }
    FILE *in = fmemopen((void *)(data + 1), size - 1, "r");
    if (!in)
        return 0;
    learn *l = learn_new(0, NULL, NULL);
    learn_log_stats st;
    learn_read_log(l, in, &st);
    fclose(in);
    if (st.noted + st.skipped > st.lines)
        __builtin_trap();
    size_t len;
    char *text = learn_report(l, &len);
    learn_free(l);
    check_text(text, len);
    free(text);
    return 0;
}
