/* The proxy's decision as a process, for differential tests written in other
 * languages (tests/routes/routediff.go). Reads lines
 *     ENV <TAB> METHOD <TAB> TARGET
 * where ENV is a space-separated "NAME=value" list (may be empty), compiles a
 * rule set from ENV as if it were the environment, decides METHOD TARGET, and
 * prints one line per input:
 *     status need need_alt flags
 * status in decimal (0 allow, 403 deny, 400 bad), the masks and flags in hex
 * (bit i of a mask is variable i of RULES_VARS in rules/rules.h). A line that
 * is not three fields, or an ENV that does not compile, prints "error <why>".
 * Answers are flushed after each chunk read from stdin, so a caller may pipe
 * thousands of lines through one process or talk line by line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_env.h"
#include "rules/path.h"
#include "rules/rules.h"

/* Decides one input line (NUL-terminated, no newline) and prints the answer. */
static void decide_line(char *line)
{
    static char *last_env, *buf;
    static size_t bufcap;
    static rules_set rs;
    static int env_ok;
    static char err[256];

    char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
    if (!t2) {
        printf("error expected ENV<TAB>METHOD<TAB>TARGET\n");
        return;
    }
    *t1 = *t2 = '\0';
    const char *method = t1 + 1, *target = t2 + 1;
    /* Compiled per line; a line with the previous line's ENV reuses that
     * compilation, which is the same value. */
    if (!last_env || strcmp(last_env, line) != 0) {
        free(last_env);
        last_env = strdup(line);
        fake_env = line;
        env_ok = rules_compile(&rs, fake_get, err, sizeof(err)) == 0;
    }
    if (!env_ok) {
        printf("error %s\n", err);
        return;
    }
    size_t tl = strlen(target);
    if (bufcap < tl + 1) {
        bufcap = tl + 1;
        buf = realloc(buf, bufcap);
    }
    rules_verdict v;
    rules_decide(&rs, method, strlen(method), target, tl, buf, tl + 1, &v);
    printf("%d %llx %llx %x\n", v.status, (unsigned long long)v.need, (unsigned long long)v.need_alt, v.flags);
}

int main(void)
{
    static char out[1 << 16];
    setvbuf(stdout, out, _IOFBF, sizeof(out));
    /* read(2) in chunks; every complete line of a chunk is answered, then the
     * answers are flushed: a batch stays a batch, a line-by-line caller never
     * waits for a buffer to fill. */
    size_t cap = 1 << 16, len = 0;
    char *in = malloc(cap);
    for (;;) {
        if (len == cap)
            in = realloc(in, cap *= 2);
        ssize_t n = read(0, in + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        char *p = in, *end = in + len, *nl;
        while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            *nl = '\0';
            decide_line(p);
            p = nl + 1;
        }
        len = (size_t)(end - p);
        memmove(in, p, len);
        fflush(stdout);
    }
    if (len > 0) { /* a last line without a newline */
        if (len == cap)
            in = realloc(in, cap + 1);
        in[len] = '\0';
        decide_line(in);
    }
    fflush(stdout);
    free(in);
    return 0;
}
