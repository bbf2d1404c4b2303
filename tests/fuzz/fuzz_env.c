/* libFuzzer: the environment parsers (rules and server configuration). The
 * input is NAME=value lines; every outcome must be a clean accept or a clean
 * error message naming a variable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "rules/rules.h"

static char *names[64], *values[64];
static int count;

static const char *get(const char *name)
{
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0)
            return values[i];
    return NULL;
}

static void ignore(void *ctx, const char *line) {}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    count = 0;
    for (char *line = text; line && *line && count < 64;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *eq = strchr(line, '=');
        if (eq) {
            *eq = '\0';
            names[count] = line;
            values[count] = eq + 1;
            count++;
        }
        line = nl ? nl + 1 : NULL;
    }
    char err[512];
    rules_set r;
    err[0] = '\0';
    if (rules_compile(&r, get, err, sizeof(err)) < 0 && err[0] == 0)
        __builtin_trap();
    config c;
    err[0] = '\0';
    if (config_load(&c, get, err, sizeof(err)) < 0 && err[0] == '\0')
        __builtin_trap();
    char *env[65];
    for (int i = 0; i < count; i++)
        env[i] = names[i]; /* lint sees NAME only (no '='): must not crash */
    env[count] = NULL;
    rules_lint_env(env, config_var_names, ignore, NULL);
    free(text);
    return 0;
}
