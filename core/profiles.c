/* Profiles from the environment. See profiles.h. */
#include "profiles.h"
#include "sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const profile_var_names[] = {
    "SOCKET_PROXY_VOLUME", "SOCKET_PROXY_LISTEN", "SOCKET_PROXY_UID", "SOCKET_PROXY_GID", "SOCKET_PROXY_SOCKET_MODE",
    "PRESET", "ALLOW_FROM", "PEER_UIDS", "PEER_GIDS", "TLS_CLIENT", NULL,
};

/* Where a profile's variables are read: get(prefix + name), "" as unset. */
typedef struct reader {
    const char *(*get)(const char *name);
    const char *prefix;
    char name[PROFILE_NAME_MAX + 40]; /* the last name read, for errors */
} reader;

static const char *read_var(reader *r, const char *name)
{
    snprintf(r->name, sizeof(r->name), "%s%s", r->prefix, name);
    const char *v = r->get(r->name);
    return v && *v ? v : NULL;
}

/* The proxy adds "X-Api-Key: <key>\r\n" to every forwarded head: a key that
 * cannot fit in the head limit is refused now rather than cut later. */
static int check_api_key(const profile *p, size_t max_head, char *err, size_t errlen)
{
    static const char line[] = "X-Api-Key: \r\n";
    size_t n = p->rules.api_key ? strlen(p->rules.api_key) : 0;
    if (p->rules.api_key && sizeof(line) - 1 + n > max_head) {
        snprintf(err, errlen,
                 "%sAPI_KEY is %zu bytes: its X-Api-Key header line would not fit in SOCKET_PROXY_MAX_HEAD (%zu bytes): "
                 "use a key of at most %zu bytes or raise SOCKET_PROXY_MAX_HEAD",
                 p->prefix, n, max_head, max_head - (sizeof(line) - 1));
        return -1;
    }
    return 0;
}

/* Rules and admission: the same for the default profile and named ones,
 * with the default profile's admission variables named SOCKET_PROXY_*. */
static int load_rules_and_admission(profile *p, reader *r, const config *cfg, char *err, size_t errlen)
{
    const char *var_prefix = p->name[0] ? p->prefix : "SOCKET_PROXY_";
    reader adm = {.get = r->get, .prefix = var_prefix};
    char preset_var[sizeof(r->name)];
    const char *preset = read_var(&adm, "PRESET");
    snprintf(preset_var, sizeof(preset_var), "%s", adm.name);
    rules_source src = {.get = r->get, .prefix = p->prefix, .preset = preset, .preset_var = preset_var};
    if (rules_compile_source(&p->rules, &src, err, errlen) < 0 || check_api_key(p, cfg->max_head, err, errlen) < 0)
        return -1;
    rules_set_min_api(&p->rules, cfg->min_api_major, cfg->min_api_minor);
    memcpy(p->rules.body.upstream, cfg->upstream, sizeof(p->rules.body.upstream));
    p->rules.body.cgroupns_host_is_default = sys_cgroups_v1();
    const char *from = read_var(&adm, "ALLOW_FROM");
    snprintf(p->from_var, sizeof(p->from_var), "%s", adm.name);
    if (from && !(p->allow_from = admit_from_parse(adm.name, from, err, errlen)))
        return -1;
    char uid_var[sizeof(r->name)];
    const char *uids = read_var(&adm, "PEER_UIDS");
    snprintf(uid_var, sizeof(uid_var), "%s", adm.name);
    snprintf(p->peers_var, sizeof(p->peers_var), "%s", uid_var);
    const char *gids = read_var(&adm, "PEER_GIDS");
    return admit_ids_parse(&p->peers, uid_var, uids, adm.name, gids, err, errlen);
}

/* A named profile's socket: NAME__SOCKET_PROXY_VOLUME, else a directory
 * named after it in SOCKET_PROXY_VOLUME (or in its default when that is
 * off); set but empty: no socket. */
static int load_socket(profile *p, reader *r, const config *cfg, char *err, size_t errlen)
{
    const char *v = read_var(r, "SOCKET_PROXY_VOLUME");
    if (v)
        return config_parse_volume(r->name, v, p->volume, p->unix_path, err, errlen);
    const char *raw = r->get(r->name);
    if (raw && !*raw)
        return 0;
    char dir[160], why[160];
    snprintf(dir, sizeof(dir), "%s/%s", cfg->volume[0] ? cfg->volume : config_var_default(CV_SOCKET_PROXY_VOLUME),
             p->name);
    /* Not set by the user: the error names where the path came from. */
    snprintf(why, sizeof(why), "SOCKET_PROXY_VOLUME/%s (set %s to choose another)", p->name, r->name);
    return config_parse_volume(why, dir, p->volume, p->unix_path, err, errlen);
}

/* A named profile's TCP listeners (none by default), socket owner and mode. */
static int load_listen_and_owner(profile *p, reader *r, const config *cfg, char *err, size_t errlen)
{
    const char *v = read_var(r, "SOCKET_PROXY_LISTEN");
    if (v && strcasecmp(v, "off") != 0 &&
        config_parse_listen_list(r->name, v, p->listen, &p->nlisten, err, errlen) < 0)
        return -1;
    /* A profile chosen by client certificates is reached on any TLS listener. */
    if (!p->unix_path[0] && p->nlisten == 0 && !read_var(r, "TLS_CLIENT")) {
        snprintf(err, errlen, "profile %s has nothing to listen on: %sSOCKET_PROXY_VOLUME is empty, %sSOCKET_PROXY_LISTEN "
                 "is off and %sTLS_CLIENT is unset", p->name, p->prefix, p->prefix, p->prefix);
        return -1;
    }
    static const char *const names[] = {"SOCKET_PROXY_UID", "SOCKET_PROXY_GID", "SOCKET_PROXY_SOCKET_MODE"};
    static const char *const accepted[] = {"use a numeric user id", "use a numeric group id",
                                           "use an octal mode such as 0660"};
    unsigned long val[3] = {cfg->uid, cfg->gid, cfg->socket_mode};
    for (int i = 0; i < 3; i++) {
        v = read_var(r, names[i]);
        if (v && config_parse_uint(r->name, v, 0, i == 2 ? 0777 : 0x7fffffff, i == 2 ? 8 : 10, &val[i], err, errlen,
                                   accepted[i]) < 0)
            return -1;
    }
    p->uid = (uid_t)val[0];
    p->gid = (gid_t)val[1];
    p->socket_mode = (mode_t)val[2];
    return 0;
}

/* NAME__TLS_CLIENT=name[,name]: certificate names (CN or subject alternative
 * name, matched exactly) that choose this profile. Needs TLS with a CA. */
static int load_tls_client(profile *p, reader *r, const config *cfg, char *err, size_t errlen)
{
    const char *v = read_var(r, "TLS_CLIENT");
    if (!v)
        return 0;
    if (!cfg->tls || !cfg->tls_files.ca[0]) {
        snprintf(err, errlen, "%s=\"%s\" needs TLS with client certificates: set SOCKET_PROXY_TLS_DIR with a ca.pem "
                 "(or SOCKET_PROXY_TLS_CERT, _KEY and _CA)", r->name, v);
        return -1;
    }
    for (const char *s = v; *s;) {
        while (*s == ',' || *s == ' ')
            s++;
        size_t n = strcspn(s, ",");
        while (n && s[n - 1] == ' ')
            n--;
        if (n == 0)
            break;
        if (p->ntls_client == PROFILE_TLS_CLIENTS || n > PROFILE_TLS_CLIENT_MAX)
            return config_fail(err, errlen, r->name, v, "use at most 8 certificate names (CN or subject alternative "
                               "names) of at most 127 bytes, comma-separated");
        memcpy(p->tls_client[p->ntls_client], s, n);
        p->tls_client[p->ntls_client++][n] = '\0';
        s += n;
        while (*s == ' ')
            s++;
    }
    return 0;
}

/* One certificate name chooses one profile. */
static int check_tls_clients_distinct(const profiles *ps, char *err, size_t errlen)
{
    for (int i = 0; i < ps->n; i++)
        for (int a = 0; a < ps->p[i].ntls_client; a++)
            for (int j = i; j < ps->n; j++)
                for (int b = j == i ? a + 1 : 0; b < ps->p[j].ntls_client; b++)
                    if (strcmp(ps->p[i].tls_client[a], ps->p[j].tls_client[b]) == 0) {
                        snprintf(err, errlen, "%sTLS_CLIENT and %sTLS_CLIENT both name \"%s\": a certificate name "
                                 "chooses one profile", ps->p[i].name[0] ? ps->p[i].prefix : "SOCKET_PROXY_",
                                 ps->p[j].prefix, ps->p[i].tls_client[a]);
                        return -1;
                    }
    return 0;
}

const profile *profiles_by_certificate(const profiles *ps, bool (*is)(const void *cert, const char *name),
                                       const void *cert, const profile **also)
{
    const profile *found = NULL;
    *also = NULL;
    for (int i = 0; i < ps->n; i++)
        for (int k = 0; k < ps->p[i].ntls_client; k++)
            if (is(cert, ps->p[i].tls_client[k])) {
                if (found && found != &ps->p[i]) {
                    *also = &ps->p[i];
                    return found;
                }
                found = &ps->p[i];
            }
    return found;
}

/* "traefik" -> "TRAEFIK__"; a bad name is an error. */
static int set_name(profile *p, const char *s, size_t n, const char *spec, char *err, size_t errlen)
{
    bool ok = n > 0 && n <= PROFILE_NAME_MAX && strncmp(s, "default", n) != 0;
    for (size_t i = 0; i < n && ok; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_';
    if (!ok) {
        snprintf(err, errlen,
                 "SOCKET_PROXY_PROFILES=\"%s\": \"%.*s\" is not a profile name: use 1 to %d lowercase letters, digits, - "
                 "and _ (not \"default\"), comma-separated",
                 spec, (int)(n < 64 ? n : 64), s, PROFILE_NAME_MAX);
        return -1;
    }
    memcpy(p->name, s, n);
    p->name[n] = '\0';
    profile_prefix(s, n, p->prefix);
    return 0;
}

/* The names in SOCKET_PROXY_PROFILES, each once (by prefix: a-b and a_b
 * would read the same variables). */
static int load_names(profiles *ps, const char *spec, char *err, size_t errlen)
{
    for (const char *s = spec; *s;) {
        while (*s == ' ' || *s == ',')
            s++;
        size_t n = strcspn(s, ", ");
        if (n == 0)
            break;
        if (ps->n == PROFILES_MAX + 1) {
            snprintf(err, errlen, "SOCKET_PROXY_PROFILES=\"%s\": at most %d profiles", spec, PROFILES_MAX);
            return -1;
        }
        profile *p = &ps->p[ps->n];
        if (set_name(p, s, n, spec, err, errlen) < 0)
            return -1;
        for (int i = 1; i < ps->n; i++)
            if (strcmp(ps->p[i].prefix, p->prefix) == 0) {
                snprintf(err, errlen, "SOCKET_PROXY_PROFILES=\"%s\": %s and %s are the same profile (both read %s "
                         "variables): name each profile once", spec, ps->p[i].name, p->name, p->prefix);
                return -1;
            }
        ps->n++;
        s += n;
    }
    return 0;
}

static int check_sockets_distinct(const profiles *ps, char *err, size_t errlen)
{
    for (int i = 0; i < ps->n; i++)
        for (int j = i + 1; j < ps->n; j++)
            if (ps->p[i].unix_path[0] && strcmp(ps->p[i].unix_path, ps->p[j].unix_path) == 0) {
                snprintf(err, errlen, "profiles %s and %s would share the socket %s: give one its own %sSOCKET_PROXY_VOLUME",
                         ps->p[i].name[0] ? ps->p[i].name : "default", ps->p[j].name, ps->p[j].unix_path,
                         ps->p[j].prefix);
                return -1;
            }
    return 0;
}

int profiles_load(profiles *ps, const config *cfg, const char *(*get)(const char *name), char *err, size_t errlen)
{
    memset(ps, 0, sizeof(*ps));
    ps->names_text = cfg->profiles_spec ? cfg->profiles_spec : "";
    profile *def = &ps->p[0];
    memcpy(def->unix_path, cfg->unix_path, sizeof(def->unix_path));
    memcpy(def->volume, cfg->volume, sizeof(def->volume));
    memcpy(def->listen, cfg->listen, sizeof(def->listen));
    def->nlisten = cfg->nlisten;
    def->uid = cfg->uid;
    def->gid = cfg->gid;
    def->socket_mode = cfg->socket_mode;
    ps->n = 1;
    reader r = {.get = get, .prefix = ""};
    reader def_tls = {.get = get, .prefix = "SOCKET_PROXY_"};
    if (load_rules_and_admission(def, &r, cfg, err, errlen) < 0 || load_tls_client(def, &def_tls, cfg, err, errlen) < 0 ||
        load_names(ps, ps->names_text, err, errlen) < 0)
        goto fail;
    for (int i = 1; i < ps->n; i++) {
        profile *p = &ps->p[i];
        r.prefix = p->prefix;
        if (load_socket(p, &r, cfg, err, errlen) < 0 || load_listen_and_owner(p, &r, cfg, err, errlen) < 0 ||
            load_rules_and_admission(p, &r, cfg, err, errlen) < 0 || load_tls_client(p, &r, cfg, err, errlen) < 0)
            goto fail;
    }
    if (check_sockets_distinct(ps, err, errlen) == 0 && check_tls_clients_distinct(ps, err, errlen) == 0)
        return 0;
fail:
    profiles_free(ps);
    return -1;
}

const profile *profiles_find(const profiles *ps, const char *name)
{
    if (!name || !*name || strcmp(name, "default") == 0)
        return &ps->p[0];
    for (int i = 1; i < ps->n; i++)
        if (strcmp(ps->p[i].name, name) == 0)
            return &ps->p[i];
    return NULL;
}

const char *profile_log_name(const profiles *ps, const profile *p)
{
    if (ps->n == 1)
        return NULL;
    return p->name[0] ? p->name : "default";
}

void profiles_free(profiles *ps)
{
    for (int i = 0; i < ps->n; i++) {
        admit_from_close(ps->p[i].allow_from);
        ps->p[i].allow_from = NULL;
    }
}
