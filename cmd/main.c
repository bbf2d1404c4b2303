/* socket-proxy: argv dispatch and wiring.
 *   socket-proxy                 serve (the container's entrypoint)
 *   socket-proxy healthcheck     GET /_ping through the proxy
 *   socket-proxy check M TARGET  explain the decision for one request
 *   socket-proxy rules           the effective permissions
 *   socket-proxy vars            every variable and its default (machine-readable)
 *   socket-proxy learn LOGFILE   the least variables per client, from an access log
 *   socket-proxy version
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/learn.h"
#include "core/log.h"
#include "core/profiles.h"
#include "core/server.h"
#include "core/tls.h"
#include "health/health.h"
#include "rules/body.h"
#include "rules/redact.h"
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
    fprintf(f, "usage: socket-proxy [healthcheck [--timeout D] [--socket PATH | --url tcp://HOST:PORT | --profile NAME]\n"
               "                                 [--cert FILE --key FILE]\n"
               "                    | check [--profile NAME] METHOD TARGET | rules | vars | learn LOGFILE | version | help]\n"
               "Configuration is read from the environment; see the README.\n");
    return f == stdout ? 0 : 2;
}

/* `check [--profile NAME] METHOD TARGET`: the profile's rules, else the default's. */
static const rules_set *check_profile(const profiles *ps, int *argc, char ***argv)
{
    const char *name = NULL;
    if (*argc >= 2 && strcmp((*argv)[0], "--profile") == 0) {
        name = (*argv)[1];
        *argc -= 2;
        *argv += 2;
    } else if (*argc >= 1 && strncmp((*argv)[0], "--profile=", 10) == 0) {
        name = (*argv)[0] + 10;
        (*argc)--;
        (*argv)++;
    }
    const profile *p = profiles_find(ps, name);
    if (!p)
        fprintf(stderr, "socket-proxy: check: no profile %s (SOCKET_PROXY_PROFILES=%s)\n", name, ps->names_text);
    return p ? &p->rules : NULL;
}

/* ALLOW_BINDS as it reads: "unset (no host paths)" or "/srv,/data". */
static const char *binds_text(const body_policy *b, char *out, size_t cap)
{
    if (!b->nbinds)
        return "unset";
    size_t n = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < b->nbinds && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "," : "", b->binds[i]);
    return out;
}

/* What `check` adds for a request whose body or answer the proxy reads:
 * the body switches that apply, or the values an answer would have
 * replaced. */
static void check_body_and_answer(const rules_set *r, const char *m, const rules_verdict *v)
{
    static const int sw[] = {RV_ALLOW_PRIVILEGED, RV_ALLOW_HOST_NAMESPACES, RV_ALLOW_CAPABILITIES, RV_ALLOW_DEVICES};
    body_kind k = body_kind_of(m, strlen(m), v->path, v->path_len);
    if (k != BODY_NONE) {
        char binds[16 * 258];
        printf("  %s judged:", body_kind_on_head(k) ? "head" : "body");
        for (size_t i = 0; i < sizeof(sw) / sizeof(sw[0]); i++)
            printf(" %s%s=%d", r->prefix, rules_var_name(sw[i]), (r->granted & RBIT(sw[i])) ? 1 : 0);
        printf(" %sALLOW_BINDS=%s\n", r->prefix, binds_text(&r->body, binds, sizeof(binds)));
    }
    redact_kind rk = redact_kind_of(m, strlen(m), v->path, v->path_len);
    if (rk == REDACT_SWARM)
        printf("  answer: join tokens %s (%sSECRETS=%d)\n", (r->granted & RBIT(RV_SECRETS)) ? "shown" : "redacted",
               r->prefix, (r->granted & RBIT(RV_SECRETS)) ? 1 : 0);
    else if (rk != REDACT_NONE)
        printf("  answer: Env values %s (%sALLOW_ENV=%d)\n", (r->granted & RBIT(RV_ALLOW_ENV)) ? "shown" : "redacted",
               r->prefix, (r->granted & RBIT(RV_ALLOW_ENV)) ? 1 : 0);
}

static const char *const scope_objects[] = {"", "container", "exec's container", "network", "volume"};

/* What `check` adds for a scoped profile (SCOPE_LABEL): how the request is
 * narrowed. Returns false when scoping refuses it. */
static bool check_scope(const rules_set *r, const scope_route *route)
{
    scope_route sr = *route;
    if (sr.what == SCOPE_PASS)
        return true;
    char labels[SCOPE_MAX_LABELS * (SCOPE_LABEL_MAX + 5)];
    scope_text(&r->scope, labels, sizeof(labels));
    switch (sr.what) {
    case SCOPE_REFUSE: printf("  scope: refused to a profile scoped to %s: %s\n", labels, sr.why); return false;
    case SCOPE_LIST: printf("  scope: lists only what carries %s (added to the filters parameter)\n", labels); break;
    case SCOPE_CHECK:
        if (sr.obj != SCOPE_OBJ_NONE)
            printf("  scope: allow if the %s carries %s (asked of the daemon first; 404 otherwise; forwarded with its "
                   "ID)\n", scope_objects[sr.obj], labels);
        if (sr.body != SCOPE_BODY_NONE)
            printf("  scope: the containers%s%s the body names must carry %s\n", r->scope.volumes ? ", volumes" : "",
                   r->scope.networks ? ", networks" : "", labels);
        if (r->scope.own && sr.body != SCOPE_BODY_NONE && sr.body != SCOPE_BODY_CONNECT &&
            sr.body != SCOPE_BODY_HOSTCONFIG)
            printf("  scope: %sSCOPE_OWN=1: the body gets the labels %s\n", r->prefix, labels);
        break;
    case SCOPE_PASS: break;
    }
    return true;
}

static int cmd_check(const profiles *ps, int argc, char **argv)
{
    const rules_set *r = check_profile(ps, &argc, &argv);
    if (!r)
        return 2;
    if (argc != 2) {
        fprintf(stderr, "usage: socket-proxy check [--profile NAME] METHOD TARGET   (e.g. check POST /v1.41/containers/create)\n");
        return 2;
    }
    const char *m = argv[0], *t = argv[1];
    size_t tl = strlen(t);
    char *buf = malloc(tl + 1);
    rules_verdict v;
    rules_decide(r, m, strlen(m), t, tl, buf, tl + 1, &v);
    char need[512];
    rules_need_text(&v, need, sizeof(need));
    scope_route sr = {.what = SCOPE_PASS};
    if (v.status == RULES_ALLOW)
        scope_route_of(&r->scope, m, strlen(m), v.path, v.path_len, &sr);
    const char *what = v.status == RULES_ALLOW && sr.what != SCOPE_REFUSE ? "allow"
                       : v.status == RULES_BAD                          ? "bad request"
                                                                        : "deny";
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
                printf("  %s%-16s = %d (%s)\n", r->prefix, rules_var_name(i), (r->granted & RBIT(i)) ? 1 : 0,
                       (r->explicit_ & RBIT(i)) ? "set" : (r->preset_ & RBIT(i)) ? "preset" : "default");
    }
    bool scoped_ok = v.status == RULES_ALLOW && check_scope(r, &sr);
    if (scoped_ok)
        check_body_and_answer(r, m, &v);
    free(buf);
    return scoped_ok ? 0 : 1;
}

/* ", tcp:HOST:PORT" for each of a profile's TCP listeners, appended at
 * out[n] (n: what out already holds). Returns the new length. */
static size_t append_tcp(const profile *p, char *out, size_t n, size_t cap)
{
    for (int k = 0; k < p->nlisten && n < cap; k++) {
        char at[80];
        n += (size_t)snprintf(out + n, cap - n, "%stcp:%s", n ? ", " : "",
                              log_hostport(at, sizeof(at), p->listen[k].host, p->listen[k].port));
    }
    return n;
}

/* SCOPE_LABEL as it reads, with the switches: "autoheal=true (SCOPE_OWN=1)"
 * or "unset". */
static const char *scope_setting(const scope_policy *s, char *out, size_t cap)
{
    if (!s->nlabels)
        return "unset";
    size_t n = scope_text(s, out, cap);
    if (n < cap && (s->networks || s->volumes || s->own))
        snprintf(out + n, cap - n, " (%s%s%s)", s->networks ? "SCOPE_NETWORKS=1 " : "",
                 s->volumes ? "SCOPE_VOLUMES=1 " : "", s->own ? "SCOPE_OWN=1" : "");
    return out;
}

/* With profiles: a column per profile, "1" or "0" marked * when the
 * environment set it and + when its preset did. */
static int cmd_rules_profiles(const profiles *ps)
{
    printf("%-18s", "VARIABLE");
    for (int j = 0; j < ps->n; j++)
        printf(" %-12.12s", ps->p[j].name[0] ? ps->p[j].name : "default");
    printf(" GRANTS\n");
    for (int i = 0; i < RV_COUNT; i++) {
        printf("%-18s", rules_var_name(i));
        for (int j = 0; j < ps->n; j++) {
            const rules_set *r = &ps->p[j].rules;
            printf(" %d%-11s", (r->granted & RBIT(i)) ? 1 : 0,
                   (r->explicit_ & RBIT(i)) ? "*" : (r->preset_ & RBIT(i)) ? "+" : "");
        }
        printf(" %s\n", rules_var_what(i));
    }
    printf("%-18s", "PRESET");
    for (int j = 0; j < ps->n; j++)
        printf(" %-12.12s", ps->p[j].rules.preset >= 0 ? rules_preset_name(ps->p[j].rules.preset) : "-");
    printf("\n%-18s", "ALLOW_BINDS");
    for (int j = 0; j < ps->n; j++) {
        char binds[16 * 258];
        printf(" %-12.12s", binds_text(&ps->p[j].rules.body, binds, sizeof(binds)));
    }
    printf("\n%-18s", "SCOPE_LABEL");
    for (int j = 0; j < ps->n; j++) {
        char scope[SCOPE_MAX_LABELS * (SCOPE_LABEL_MAX + 5) + 64];
        printf(" %-12.12s", scope_setting(&ps->p[j].rules.scope, scope, sizeof(scope)));
    }
    printf("\n%-18s", "API_KEY");
    for (int j = 0; j < ps->n; j++)
        printf(" %-12s", ps->p[j].rules.api_key ? "set" : "unset");
    printf("\n(* set by the environment, + by the preset; profile NAME reads NAME__VARIABLE)\n");
    for (int j = 0; j < ps->n; j++) {
        const profile *p = &ps->p[j];
        char line[sizeof(p->unix_path) + 64 + CONFIG_MAX_LISTEN * 64 + sizeof(p->tls_client)];
        size_t n = (size_t)snprintf(line, sizeof(line), "%s: socket %s", p->name[0] ? p->name : "default",
                                    p->unix_path[0] ? p->unix_path : "none");
        n = append_tcp(p, line, n, sizeof(line));
        for (int k = 0; k < p->ntls_client && n < sizeof(line); k++)
            n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", k ? "," : ", TLS client certificates ",
                                  p->tls_client[k]);
        printf("%s\n", line);
    }
    return 0;
}

static int cmd_rules(const profiles *ps)
{
    if (ps->n > 1)
        return cmd_rules_profiles(ps);
    const rules_set *r = &ps->p[0].rules;
    printf("%-18s %-5s %-8s %s\n", "VARIABLE", "VALUE", "SOURCE", "GRANTS");
    for (int i = 0; i < RV_COUNT; i++)
        printf("%-18s %-5d %-8s %s\n", rules_var_name(i), (r->granted & RBIT(i)) ? 1 : 0,
               (r->explicit_ & RBIT(i)) ? "env" : (r->preset_ & RBIT(i)) ? "preset" : "default", rules_var_what(i));
    if (r->preset >= 0)
        printf("PRESET             %s (%s)\n", rules_preset_name(r->preset), rules_preset_what(r->preset));
    char binds[16 * 258];
    printf("ALLOW_BINDS        %s\n", binds_text(&r->body, binds, sizeof(binds)));
    char scope[SCOPE_MAX_LABELS * (SCOPE_LABEL_MAX + 5) + 64];
    printf("SCOPE_LABEL        %s\n", scope_setting(&r->scope, scope, sizeof(scope)));
    printf("API_KEY            %s\n", r->api_key ? "set (sent upstream as X-Api-Key)" : "unset");
    if (r->min_api[0] || r->min_api[1])
        printf("SOCKET_PROXY_MIN_API_VERSION %u.%u (requests for older API versions get 400)\n", r->min_api[0], r->min_api[1]);
    else
        printf("SOCKET_PROXY_MIN_API_VERSION off (every API version the daemon accepts)\n");
    return 0;
}

static const char *no_env(const char *name) { return NULL; }

/* `learn LOGFILE`: reads a log, not the environment, so a saved log can be
 * read anywhere, with any configuration or none. */
static int cmd_learn(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: socket-proxy learn LOGFILE   (an access log as LOG_LEVEL=info writes it, text or json; "
                        "- reads standard input)\n");
        return 2;
    }
    char err[600];
    if (learn_from_log(argv[0], stdout, err, sizeof(err)) < 0) {
        fprintf(stderr, "socket-proxy: learn: %s\n", err);
        return 1;
    }
    return 0;
}

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
    printf("ALLOW_BINDS=unset\nSCOPE_LABEL=unset\nSCOPE_NETWORKS=0\nSCOPE_VOLUMES=0\nSCOPE_OWN=0\nAPI_KEY=unset\n");
    for (int i = 0; i < CV_COUNT; i++)
        printf("%s=%s\n", config_var_names[i], config_var_default(i));
    /* The per-profile forms, after a comment line: what a profile NAME reads
     * (a named profile inherits none of the unprefixed values). */
    printf("# per profile NAME in SOCKET_PROXY_PROFILES:\n");
    for (int i = 0; i < RV_COUNT; i++)
        printf("NAME__%s=%s\n", rules_var_name(i), rules_default_text(i));
    printf("NAME__ALLOW_BINDS=unset\nNAME__SCOPE_LABEL=unset\nNAME__SCOPE_NETWORKS=0\nNAME__SCOPE_VOLUMES=0\n"
           "NAME__SCOPE_OWN=0\nNAME__API_KEY=unset\n");
    static const char *const profile_defaults[] = {
        "$SOCKET_PROXY_VOLUME/name", "off", "$SOCKET_PROXY_UID", "$SOCKET_PROXY_GID", "$SOCKET_PROXY_SOCKET_MODE",
        "", "", "", "", "",
    };
    for (int i = 0; profile_var_names[i]; i++)
        printf("NAME__%s=%s\n", profile_var_names[i], profile_defaults[i]);
    /* the defaults must load as they are printed */
    config c;
    char err[256];
    if (config_load(&c, no_env, err, sizeof(err)) < 0) {
        fprintf(stderr, "socket-proxy: a default does not load: %s\n", err);
        return 1;
    }
    return 0;
}

/* compose writes POST=${POST:-}: one notice per variable set but empty,
 * a profile's (TRAEFIK__POST=) as the default's. */
static void log_empty(const config *c, const profiles *ps)
{
    for (int j = 0; j < ps->n; j++) {
        const rules_set *r = &ps->p[j].rules;
        const char *pre = ps->p[j].prefix;
        for (int i = 0; i < RV_COUNT; i++)
            if (r->empty_ & RBIT(i))
                log_msg(LOG_NOTICE, "%s%s is set but empty: using its default (%s%s%s%s)", pre, rules_var_name(i),
                        rules_default_text(i), rules_var_follows(i) ? ": follows " : "",
                        rules_var_follows(i) ? pre : "", rules_var_follows(i) ? rules_var_follows(i) : "");
    }
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

/* "unix:PATH, tcp:HOST:PORT, ...": where a profile listens. */
/* Where a profile is reached: its socket, its TCP addresses, and the client
 * certificates that choose it on any TLS listener. */
static const char *profile_where(const profile *p, char *out, size_t cap)
{
    size_t n = p->unix_path[0] ? (size_t)snprintf(out, cap, "unix:%s", p->unix_path) : 0;
    out[n] = '\0';
    n = append_tcp(p, out, n, cap);
    for (int k = 0; k < p->ntls_client && n < cap; k++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", k ? "," : n ? ", TLS client certificates " :
                                                                       "TLS client certificates ", p->tls_client[k]);
    return out;
}

/* The start-up lines: what each profile grants, where, and to whom. */
static void log_granted(const profiles *ps)
{
    for (int j = 0; j < ps->n; j++) {
        const profile *p = &ps->p[j];
        const rules_set *r = &p->rules;
        char line[1024], from[512] = "", where[sizeof(p->unix_path) + CONFIG_MAX_LISTEN * 64 + sizeof(p->tls_client)];
        size_t n = 0;
        for (int i = 0; i < RV_COUNT; i++)
            if ((r->granted & RBIT(i)) && n < sizeof(line) - 40)
                n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", n ? " " : "", rules_var_name(i));
        line[n] = '\0';
        if (p->allow_from) {
            size_t k = (size_t)snprintf(from, sizeof(from), "; admits tcp from ");
            admit_from_text(p->allow_from, from + k, sizeof(from) - k);
        }
        const char *preset = r->preset >= 0 ? rules_preset_name(r->preset) : NULL;
        if (j == 0)
            log_msg(LOG_INFO, "socket-proxy %s: granted: %s%s%s%s%s", SOCKET_PROXY_VERSION, n ? line : "(nothing)",
                    preset ? "; preset " : "", preset ? preset : "", r->api_key ? "; API_KEY set" : "", from);
        else
            log_msg(LOG_INFO, "profile %s: %s; granted: %s%s%s%s%s", p->name, profile_where(p, where, sizeof(where)),
                    n ? line : "(nothing)", preset ? "; preset " : "", preset ? preset : "",
                    r->api_key ? "; API_KEY set" : "", from);
    }
}

/* Look-alike warnings, profile variables included. */
static void lint(const profiles *ps)
{
    const char *prefixes[PROFILES_MAX + 1];
    int k = 0;
    for (int i = 1; i < ps->n; i++)
        prefixes[k++] = ps->p[i].prefix;
    prefixes[k] = NULL;
    rules_lint_opts l = {.extra_names = config_var_names,
                         .profile_prefixes = prefixes,
                         .profile_names = profile_var_names,
                         .profiles_text = ps->names_text};
    rules_lint(environ, &l, warn_line, NULL);
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
    if (strcmp(cmd, "learn") == 0)
        return cmd_learn(argc - 2, argv + 2);

    char err[512];
    config cfg;
    profiles ps;
    if (config_load(&cfg, env, err, sizeof(err)) < 0 || profiles_load(&ps, &cfg, env, err, sizeof(err)) < 0) {
        fprintf(stderr, "socket-proxy: configuration error: %s\n", err);
        return 2;
    }
    log_setup(cfg.log_level, cfg.log_json);

    int rc;
    if (strcmp(cmd, "healthcheck") == 0) {
        rc = health_main(&cfg, &ps, argc - 1, argv + 1);
    } else if (strcmp(cmd, "check") == 0) {
        rc = cmd_check(&ps, argc - 2, argv + 2);
    } else if (strcmp(cmd, "rules") == 0) {
        rc = cmd_rules(&ps);
    } else if (strcmp(cmd, "serve") != 0) {
        rc = usage(stderr);
    } else {
        /* The certificate files are read now, as root, before anything binds:
         * a bad one is a configuration error. */
        tls_server *tls = cfg.tls ? tls_server_load(&cfg.tls_files, err, sizeof(err)) : NULL;
        if (cfg.tls && !tls) {
            fprintf(stderr, "socket-proxy: configuration error: %s\n", err);
            profiles_free(&ps);
            return 2;
        }
        lint(&ps);
        log_empty(&cfg, &ps);
        log_granted(&ps);
        return server_run(&cfg, &ps, tls);
    }
    profiles_free(&ps);
    return rc;
}
