/* socket-proxy: argv dispatch and wiring.
 *   socket-proxy                 serve (the container's entrypoint)
 *   socket-proxy healthcheck     GET /_ping through the proxy
 *   socket-proxy check M TARGET  explain the decision for one request
 *   socket-proxy rules           the effective permissions
 *   socket-proxy vars            every variable and its default (machine-readable)
 *   socket-proxy version
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/server.h"
#include "health/health.h"
#include "rules/rules.h"

/* The version lives in the VERSION file; configure.py hands it to the build. */
#ifndef SOCKET_PROXY_VERSION
#error "SOCKET_PROXY_VERSION is set by the build (VERSION via configure.py): build with ninja"
#endif

extern char **environ;

static const char *env(const char *name) { return getenv(name); }

static void warn_line(void *ctx, const char *line) { log_msg(LOG_WARNING, "%s", line); }

static int usage(FILE *f)
{
    fprintf(f, "usage: socket-proxy [healthcheck [--timeout D] [--socket PATH | --url tcp://HOST:PORT]\n"
               "                    | check METHOD TARGET | rules | vars | version | help]\n"
               "Configuration is read from the environment; see the README.\n");
    return f == stdout ? 0 : 2;
}

static int cmd_check(const rules_set *r, int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: socket-proxy check METHOD TARGET   (e.g. check POST /v1.41/containers/create)\n");
        return 2;
    }
    const char *m = argv[0], *t = argv[1];
    size_t tl = strlen(t);
    char *buf = malloc(tl + 1);
    rules_verdict v;
    rules_decide(r, m, strlen(m), t, tl, buf, tl + 1, &v);
    char need[512];
    rules_need_text(&v, need, sizeof(need));
    const char *what = v.status == RULES_ALLOW ? "allow" : v.status == RULES_DENY ? "deny" : "bad request";
    printf("%s %s %s\n", what, m, t);
    if (v.status == RULES_BAD)
        printf("  400: %s\n", v.why);
    else
        printf("  path %.*s %s %s%s\n", (int)v.path_len, v.path, v.status == RULES_ALLOW ? "granted by" : "needs",
               need, v.status == RULES_ALLOW ? "" : "");
    if (v.status != RULES_BAD) {
        rules_mask all = v.need | v.need_alt;
        for (int i = 0; i < RV_COUNT; i++)
            if (all & RBIT(i))
                printf("  %-16s = %d (%s)\n", rules_var_name(i), (r->granted & RBIT(i)) ? 1 : 0,
                       (r->explicit_ & RBIT(i)) ? "set" : "default");
    }
    free(buf);
    return v.status == RULES_ALLOW ? 0 : 1;
}

static int cmd_rules(const rules_set *r)
{
    printf("%-18s %-5s %-8s %s\n", "VARIABLE", "VALUE", "SOURCE", "GRANTS");
    for (int i = 0; i < RV_COUNT; i++)
        printf("%-18s %-5d %-8s %s\n", rules_var_name(i), (r->granted & RBIT(i)) ? 1 : 0,
               (r->explicit_ & RBIT(i)) ? "env" : (r->preset_ & RBIT(i)) ? "preset" : "default", rules_var_what(i));
    if (r->preset >= 0)
        printf("PRESET             %s (%s)\n", rules_preset_name(r->preset), rules_preset_what(r->preset));
    printf("API_KEY            %s\n", r->api_key ? "set (sent upstream as X-Api-Key)" : "unset");
    if (r->min_api[0] || r->min_api[1])
        printf("SOCKET_PROXY_MIN_API_VERSION %u.%u (requests for older API versions get 400)\n", r->min_api[0], r->min_api[1]);
    else
        printf("SOCKET_PROXY_MIN_API_VERSION off (every API version the daemon accepts)\n");
    return 0;
}

static const char *no_env(const char *name) { return NULL; }

static const char *rules_default_text(int var)
{
    int d = rules_var_default(var);
    return d < 0 ? "unset" : d ? "1" : "0";
}

/* Every variable with its default, one NAME=default a line, from the two
 * tables: the rules variables, API_KEY, then the server variables. The
 * README's tables are tested against this. */
static int cmd_vars(void)
{
    for (int i = 0; i < RV_COUNT; i++)
        printf("%s=%s\n", rules_var_name(i), rules_default_text(i));
    printf("API_KEY=unset\n");
    for (int i = 0; i < CV_COUNT; i++)
        printf("%s=%s\n", config_var_names[i], config_var_default(i));
    /* the defaults must load as they are printed */
    config c;
    char err[256];
    if (config_load(&c, no_env, err, sizeof(err)) < 0) {
        fprintf(stderr, "socket-proxy: a default does not load: %s\n", err);
        return 1;
    }
    return 0;
}

/* compose writes POST=${POST:-}: one notice per variable set but empty. */
static void log_empty(const config *c, const rules_set *r)
{
    for (int i = 0; i < RV_COUNT; i++)
        if (r->empty_ & RBIT(i))
            log_msg(LOG_NOTICE, "%s is set but empty: using its default (%s%s)", rules_var_name(i),
                    rules_default_text(i), rules_var_default(i) < 0 ? ": follows CONTAINERS" : "");
    for (int i = 0; i < CV_COUNT; i++) {
        if (!(c->empty_ & CBIT(i)))
            continue;
        if (i == CV_SOCKET_PROXY_VOLUME)
            log_msg(LOG_NOTICE, "%s is set but empty: off (no Unix socket)", config_var_names[i]);
        else if (i == CV_SOCKET_PROXY_LISTEN)
            log_msg(LOG_NOTICE, "%s is set but empty: off (no TCP listener)", config_var_names[i]);
        else
            log_msg(LOG_NOTICE, "%s is set but empty: using its default (%s)", config_var_names[i],
                    config_var_default(i));
    }
}

/* The proxy adds "X-Api-Key: <key>\r\n" to every forwarded head: a key that
 * cannot fit in the head limit is refused now rather than cut later. */
static int check_api_key(const config *c, const rules_set *r, char *err, size_t errlen)
{
    static const char line[] = "X-Api-Key: \r\n";
    size_t n = r->api_key ? strlen(r->api_key) : 0;
    if (r->api_key && sizeof(line) - 1 + n > c->max_head) {
        snprintf(err, errlen,
                 "API_KEY is %zu bytes: its X-Api-Key header line would not fit in SOCKET_PROXY_MAX_HEAD (%zu bytes): "
                 "use a key of at most %zu bytes or raise SOCKET_PROXY_MAX_HEAD",
                 n, c->max_head, c->max_head - (sizeof(line) - 1));
        return -1;
    }
    return 0;
}

static void log_granted(const rules_set *r)
{
    char line[1024];
    size_t n = 0;
    for (int i = 0; i < RV_COUNT; i++)
        if ((r->granted & RBIT(i)) && n < sizeof(line) - 40)
            n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", n ? " " : "", rules_var_name(i));
    line[n] = '\0';
    log_msg(LOG_INFO, "socket-proxy %s: granted: %s%s", SOCKET_PROXY_VERSION, n ? line : "(nothing)",
            r->api_key ? "; API_KEY set" : "");
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "serve";
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        return usage(stdout);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("socket-proxy %s\n", SOCKET_PROXY_VERSION);
        return 0;
    }
    if (strcmp(cmd, "vars") == 0)
        return cmd_vars();

    char err[512];
    config cfg;
    rules_set rules;
    rules_source src = {.get = env, .preset = getenv("SOCKET_PROXY_PRESET"), .preset_var = "SOCKET_PROXY_PRESET"};
    if (config_load(&cfg, env, err, sizeof(err)) < 0 || rules_compile_source(&rules, &src, err, sizeof(err)) < 0 ||
        check_api_key(&cfg, &rules, err, sizeof(err)) < 0) {
        fprintf(stderr, "socket-proxy: configuration error: %s\n", err);
        return 2;
    }
    rules_set_min_api(&rules, cfg.min_api_major, cfg.min_api_minor);
    log_setup(cfg.log_level, cfg.log_json);

    if (strcmp(cmd, "healthcheck") == 0)
        return health_main(&cfg, argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(&rules, argc - 2, argv + 2);
    if (strcmp(cmd, "rules") == 0)
        return cmd_rules(&rules);
    if (strcmp(cmd, "serve") != 0)
        return usage(stderr);

    rules_lint_env(environ, config_var_names, warn_line, NULL);
    log_empty(&cfg, &rules);
    log_granted(&rules);
    return server_run(&cfg, &rules);
}
