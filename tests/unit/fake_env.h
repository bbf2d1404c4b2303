/* A getenv over a string of space-separated "NAME=value" entries, for
 * rules_compile in tests: point fake_env at the string, pass fake_get. */
#ifndef TESTS_FAKE_ENV_H
#define TESTS_FAKE_ENV_H

#include <stdio.h>
#include <string.h>

static const char *fake_env = "";

static const char *fake_get(const char *name)
{
    static char val[256];
    size_t n = strlen(name);
    for (const char *p = fake_env; *p;) {
        const char *sp = strchr(p, ' ');
        size_t len = sp ? (size_t)(sp - p) : strlen(p);
        if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
            snprintf(val, sizeof(val), "%.*s", (int)(len - n - 1), p + n + 1);
            return val;
        }
        p += len;
        while (*p == ' ')
            p++;
    }
    return NULL;
}

#endif
