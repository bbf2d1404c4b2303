/* The request-body judge: see body.h. Every judged field is looked up the way
 * Go's encoding/json matches it (bytes.EqualFold: ASCII case, ſ for s, K for
 * k), over EVERY key of the object, so a repeat that Go would take last and
 * cJSON first is seen and refused (400). Wrong types are refused, not guessed. */
#include "rules/body.h"
#include "rules/gojson.h"

#include <cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define V_PRIV "ALLOW_PRIVILEGED"
#define V_NS "ALLOW_HOST_NAMESPACES"
#define V_CAP "ALLOW_CAPABILITIES"
#define V_DEV "ALLOW_DEVICES"
#define V_BINDS "ALLOW_BINDS"

typedef struct judge {
    const body_policy *p;
    body_verdict *v;
} judge;

/* Sets the verdict; returns false so that callers can `return refuse(...)`. */
static bool refuse(judge *j, int status, const char *var, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->v->why, sizeof(j->v->why), fmt, ap);
    va_end(ap);
    j->v->status = status;
    j->v->var = var;
    return false;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static bool ci_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (lower(*a) != lower(*b))
            return false;
    return *a == *b;
}

static bool ci_prefix(const char *s, const char *pre)
{
    for (; *pre; s++, pre++)
        if (lower(*s) != lower(*pre))
            return false;
    return true;
}

/* The value Go decodes into field `name` of the struct object obj, or NULL
 * when absent or null (null leaves a Go field at its zero value). A name that
 * matches two keys is ambiguous (Go takes the last, cJSON the first): 400. */
static bool field(judge *j, const cJSON *obj, const char *where, const char *name, const cJSON **out)
{
    if (gojson_field(obj, name, out) < 0)
        return refuse(j, 400, NULL, "%s%s appears twice (keys match case-insensitively)", where, name);
    return true;
}

static bool wrong(judge *j, const char *where, const char *name, const char *want)
{
    return refuse(j, 400, NULL, "%s%s is not %s", where, name, want);
}

static bool get_bool(judge *j, const cJSON *o, const char *where, const char *name, bool *out)
{
    const cJSON *f;
    *out = false;
    if (!field(j, o, where, name, &f))
        return false;
    if (f && !cJSON_IsBool(f))
        return wrong(j, where, name, "true or false");
    *out = f && cJSON_IsTrue(f);
    return true;
}

static bool get_string(judge *j, const cJSON *o, const char *where, const char *name, const char **out)
{
    const cJSON *f;
    *out = NULL;
    if (!field(j, o, where, name, &f))
        return false;
    if (f && !cJSON_IsString(f))
        return wrong(j, where, name, "a string");
    *out = f ? f->valuestring : NULL;
    return true;
}

static bool get_object(judge *j, const cJSON *o, const char *where, const char *name, const cJSON **out)
{
    if (!field(j, o, where, name, out))
        return false;
    if (*out && !cJSON_IsObject(*out))
        return wrong(j, where, name, "an object");
    return true;
}

/* An array (NULL when absent or null); strings: every element must be a string. */
static bool get_array(judge *j, const cJSON *o, const char *where, const char *name, bool strings, const cJSON **out)
{
    if (!field(j, o, where, name, out))
        return false;
    if (*out && !cJSON_IsArray(*out))
        return wrong(j, where, name, "an array");
    if (*out && strings)
        for (const cJSON *e = (*out)->child; e; e = e->next)
            if (!cJSON_IsString(e))
                return wrong(j, where, name, "an array of strings");
    return true;
}

/* ---- host paths ------------------------------------------------------------ */

/* Go's path.Clean for an absolute path: no ".", "..", "//" or trailing "/".
 * Returns the length, 0 when it does not fit. */
static size_t clean_path(const char *in, size_t n, char *out, size_t cap)
{
    size_t len = 1;
    if (cap < 2)
        return 0;
    out[0] = '/';
    for (size_t i = 0; i < n;) {
        while (i < n && in[i] == '/')
            i++;
        size_t s = i;
        while (i < n && in[i] != '/')
            i++;
        size_t sl = i - s;
        if (sl == 0 || (sl == 1 && in[s] == '.'))
            continue;
        if (sl == 2 && in[s] == '.' && in[s + 1] == '.') {
            while (len > 1 && out[len - 1] != '/')
                len--;
            if (len > 1)
                len--;
            continue;
        }
        if (len + (len > 1) + sl + 1 > cap)
            return 0;
        if (len > 1)
            out[len++] = '/';
        memcpy(out + len, in + s, sl);
        len += sl;
    }
    out[len] = '\0';
    return len;
}

/* The same file for socket comparisons: /var/run is a link to /run. */
static const char *run_alias(const char *path)
{
    if (strncmp(path, "/var/run/", 9) == 0)
        return path + 4;
    return path;
}

/* Docker's socket, rootful podman's, or the one this proxy dials. */
static bool is_docker_socket(const body_policy *p, const char *clean)
{
    const char *c = run_alias(clean);
    if (strcmp(c, "/run/docker.sock") == 0 || strcmp(c, "/run/podman/podman.sock") == 0)
        return true;
    if (p->upstream[0] == '/') {
        char up[sizeof(p->upstream)];
        if (clean_path(p->upstream, strlen(p->upstream), up, sizeof(up)) && strcmp(c, run_alias(up)) == 0)
            return true;
    }
    return false;
}

static bool covers(const char *prefix, const char *path)
{
    if (strcmp(prefix, "/") == 0)
        return true;
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static bool binds_all(const body_policy *p)
{
    for (unsigned i = 0; i < p->nbinds; i++)
        if (strcmp(p->binds[i], "/") == 0)
            return true;
    return false;
}

/* A host path (absolute) about to be mounted into a container. */
static bool host_path(judge *j, const char *what, const char *src)
{
    char c[4096];
    if (!clean_path(src, strlen(src), c, sizeof(c)))
        return refuse(j, 400, NULL, "%s: host path too long", what);
    const body_policy *p = j->p;
    body_verdict *v = j->v;
    bool seen = false;
    for (unsigned i = 0; i < v->nhost && !seen; i++)
        seen = strcmp(v->host[i], c) == 0;
    if (!seen && v->nhost < sizeof(v->host) / sizeof(v->host[0]) && strlen(c) < sizeof(v->host[0]))
        memcpy(v->host[v->nhost++], c, strlen(c) + 1);
    if (is_docker_socket(p, c)) {
        for (unsigned i = 0; i < p->nbinds; i++)
            if (strcmp(run_alias(p->binds[i]), run_alias(c)) == 0)
                return true;
        return refuse(j, 403, V_BINDS, "%s binds the daemon's socket %s (ALLOW_BINDS must name it exactly)", what, c);
    }
    for (unsigned i = 0; i < p->nbinds; i++)
        if (covers(p->binds[i], c))
            return true;
    return refuse(j, 403, V_BINDS, "%s binds host path %s", what, c);
}

int body_policy_binds(body_policy *p, const char *var, const char *value, char *err, size_t errlen)
{
    p->nbinds = 0;
    if (!value || !*value)
        return 0;
    for (const char *s = value;;) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || s[0] != '/') {
            snprintf(err, errlen, "%s=%s: a comma list of absolute host paths (/srv,/data), or / for all; \"%.*s\" is not one",
                     var, value, (int)(n > 64 ? 64 : n), s);
            return -1;
        }
        if (p->nbinds == sizeof(p->binds) / sizeof(p->binds[0])) {
            snprintf(err, errlen, "%s: more than %zu paths", var, sizeof(p->binds) / sizeof(p->binds[0]));
            return -1;
        }
        if (!clean_path(s, n, p->binds[p->nbinds], sizeof(p->binds[0]))) {
            snprintf(err, errlen, "%s: a path longer than %zu bytes", var, sizeof(p->binds[0]) - 1);
            return -1;
        }
        p->nbinds++;
        if (!e)
            return 0;
        s = e + 1;
    }
}

/* ---- the judged structures ----------------------------------------------- */

/* HostConfig.Binds entry: src:dst[:opts]; a src without a leading / is a
 * named volume; a lone path is an anonymous volume. */
static bool judge_bind(judge *j, const char *where, const char *b)
{
    char what[160];
    snprintf(what, sizeof(what), "%sBinds entry \"%.80s\"", where, b);
    size_t parts = 1;
    const char *colon = NULL;
    for (const char *s = b; *s; s++)
        if (*s == ':') {
            if (!colon)
                colon = s;
            parts++;
        }
    /* The destination is an absolute container path: a Windows form
     * ("C:\\:/host") or a relative one does not parse on Linux. */
    if (!*b || parts > 3 || strstr(b, "::") || b[strlen(b) - 1] == ':' || (colon && colon[1] != '/'))
        return refuse(j, 400, NULL, "%s does not parse as src:dst[:opts]", what);
    if (parts == 1 || b[0] != '/')
        return true;
    char src[4096];
    size_t n = (size_t)(colon - b);
    if (n >= sizeof(src))
        return refuse(j, 400, NULL, "%s: host path too long", what);
    memcpy(src, b, n);
    src[n] = '\0';
    return host_path(j, what, src);
}

/* A volume driver's options (map[string]string): the local driver mounts
 * `device` with `type` and `o`; o=bind (or type none/bind) is a bind mount of
 * a host path, and any other absolute device (a disk) is a host path too. */
static bool judge_driver_opts(judge *j, const cJSON *opts, const char *where)
{
    if (!cJSON_IsObject(opts))
        return refuse(j, 400, NULL, "%s is not an object", where);
    for (const cJSON *c = opts->child; c; c = c->next)
        if (!cJSON_IsString(c))
            return refuse(j, 400, NULL, "%s.%.40s is not a string", where, c->string ? c->string : "");
    char w[128];
    snprintf(w, sizeof(w), "%s.", where);
    const char *type, *o, *device;
    if (!get_string(j, opts, w, "type", &type) || !get_string(j, opts, w, "o", &o) ||
        !get_string(j, opts, w, "device", &device))
        return false;
    bool bind = type && (ci_eq(type, "none") || ci_eq(type, "bind") || ci_eq(type, "rbind"));
    for (const char *s = o; s && *s && !bind;) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        bind = (n == 4 && strncasecmp(s, "bind", 4) == 0) || (n == 5 && strncasecmp(s, "rbind", 5) == 0);
        s = e ? e + 1 : s + n;
    }
    if (!device || !*device)
        return true;
    char what[200];
    snprintf(what, sizeof(what), "%s (type=%.20s o=%.40s device=%.60s)", where, type ? type : "", o ? o : "", device);
    if (device[0] == '/') {
        bool unc = type && (ci_eq(type, "cifs") || ci_eq(type, "smb3") || ci_eq(type, "smb"));
        if (bind || !unc)
            return host_path(j, what, device);
        return true;
    }
    if (bind)
        return refuse(j, 400, NULL, "%s: a bind device must be an absolute path", what);
    return true;
}

static bool judge_mounts(judge *j, const cJSON *mounts, const char *where)
{
    char w[128];
    for (const cJSON *m = mounts->child; m; m = m->next) {
        if (!cJSON_IsObject(m))
            return refuse(j, 400, NULL, "%s entry is not an object", where);
        snprintf(w, sizeof(w), "%s[].", where);
        const char *type, *source;
        const cJSON *vo, *dc, *opts;
        if (!get_string(j, m, w, "Type", &type) || !get_string(j, m, w, "Source", &source))
            return false;
        char what[200];
        snprintf(what, sizeof(what), "%s entry (Type %.20s, Source %.80s)", where, type ? type : "", source ? source : "");
        if (source && source[0] == '/') {
            if (!host_path(j, what, source))
                return false;
        } else if (type && ci_eq(type, "bind")) {
            return refuse(j, 400, NULL, "%s: a bind Source must be an absolute path", what);
        }
        if (!get_object(j, m, w, "VolumeOptions", &vo))
            return false;
        if (!vo)
            continue;
        snprintf(w, sizeof(w), "%s[].VolumeOptions.", where);
        if (!get_object(j, vo, w, "DriverConfig", &dc))
            return false;
        if (!dc)
            continue;
        snprintf(w, sizeof(w), "%s[].VolumeOptions.DriverConfig.", where);
        if (!field(j, dc, w, "Options", &opts))
            return false;
        snprintf(w, sizeof(w), "%s[].VolumeOptions.DriverConfig.Options", where);
        if (opts && !judge_driver_opts(j, opts, w))
            return false;
    }
    return true;
}

/* One SecurityOpt entry (key=value or key:value); name: the list's own
 * name for the verdict ("SecurityOpt", podman's pod "security_opt"). */
static bool judge_security_opt(judge *j, const char *where, const char *name, const char *opt)
{
    const char *sep = strchr(opt, '=');
    if (!sep)
        sep = strchr(opt, ':');
    char key[32];
    const char *val = "";
    if (sep) {
        size_t n = (size_t)(sep - opt);
        if (n >= sizeof(key))
            return true; /* no such option: dockerd refuses it */
        memcpy(key, opt, n);
        key[n] = '\0';
        val = sep + 1;
    } else {
        snprintf(key, sizeof(key), "%s", opt);
    }
    bool open = false;
    if (ci_eq(key, "seccomp"))
        open = !ci_eq(val, "builtin"); /* unconfined, or a profile of its own */
    else if (ci_eq(key, "apparmor"))
        open = !ci_eq(val, "docker-default");
    else if (ci_eq(key, "label"))
        open = ci_eq(val, "disable") || ci_prefix(val, "type:");
    else if (ci_eq(key, "disable"))
        open = true;
    else if (ci_eq(key, "systempaths"))
        open = ci_eq(val, "unconfined");
    else if (ci_eq(key, "unmask")) /* podman's: unmask=ALL is systempaths=unconfined */
        open = true;
    else if (ci_eq(key, "writable-cgroups"))
        open = !(ci_eq(val, "false") || ci_eq(val, "0") || ci_eq(val, "f"));
    if (open && !j->p->capabilities)
        return refuse(j, 403, V_CAP, "%s%s %.100s", where, name, opt);
    return true;
}

/* MaskedPaths and ReadonlyPaths replace the daemon's default lists when
 * present (null: the defaults). A list that keeps every default path only adds
 * to them, as the copy of an inspect answer does; one that drops any unmasks
 * something. The defaults are those of every dockerd since 17.06 (newer ones
 * add /sys/devices/virtual/powercap, which older daemons' copies lack). */
static bool judge_path_lists(judge *j, const cJSON *hc, const char *where)
{
    static const char *const masked[] = {"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
                                         "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                                         "/proc/sched_debug", "/proc/scsi", "/sys/firmware", NULL};
    static const char *const readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
                                           NULL};
    static const char *const names[] = {"MaskedPaths", "ReadonlyPaths"};
    const char *const *defaults[] = {masked, readonly};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *a;
        if (!get_array(j, hc, where, names[i], true, &a))
            return false;
        if (!a || j->p->capabilities)
            continue;
        for (const char *const *d = defaults[i]; *d; d++) {
            const cJSON *e = a->child;
            while (e && strcmp(e->valuestring, *d) != 0)
                e = e->next;
            if (!e)
                return refuse(j, 403, V_CAP, "%s%s drops the default %s", where, names[i], *d);
        }
    }
    return true;
}

/* The fields of a HostConfig (also the create body's deprecated top level,
 * the old start body and the update body); where: "HostConfig." or "". */
static bool judge_hostconfig(judge *j, const cJSON *hc, const char *where)
{
    const body_policy *p = j->p;
    bool priv;
    if (!get_bool(j, hc, where, "Privileged", &priv))
        return false;
    if (priv && !p->privileged)
        return refuse(j, 403, V_PRIV, "%sPrivileged is true", where);

    static const char *const modes[] = {"NetworkMode", "PidMode", "IpcMode", "UTSMode", "UsernsMode", "CgroupnsMode"};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        const char *m;
        if (!get_string(j, hc, where, modes[i], &m))
            return false;
        if (!m || p->host_namespaces)
            continue;
        /* On cgroup v1, "host" is the daemon's own default cgroupns mode (and
         * what inspect reports, so Watchtower's copy of a HostConfig says it). */
        if (ci_eq(m, "host") && !(i == 5 && p->cgroupns_host_is_default))
            return refuse(j, 403, V_NS, "%s%s is host", where, modes[i]);
        if (i < 3 && ci_prefix(m, "container:"))
            return refuse(j, 403, V_NS, "%s%s joins another container's namespace (%.80s)", where, modes[i], m);
    }

    const cJSON *a;
    static const char *const caps[] = {"CapAdd", "Capabilities"};
    for (size_t i = 0; i < 2; i++) {
        if (!get_array(j, hc, where, caps[i], true, &a))
            return false;
        if (a && a->child && !p->capabilities)
            return refuse(j, 403, V_CAP, "%s%s adds %.60s", where, caps[i], a->child->valuestring);
    }
    if (!get_array(j, hc, where, "SecurityOpt", true, &a))
        return false;
    for (const cJSON *e = a ? a->child : NULL; e; e = e->next)
        if (!judge_security_opt(j, where, "SecurityOpt", e->valuestring))
            return false;
    if (!get_object(j, hc, where, "Sysctls", &a))
        return false;
    if (a && a->child && !p->capabilities)
        return refuse(j, 403, V_CAP, "%sSysctls sets %.60s", where, a->child->string ? a->child->string : "");
    if (!judge_path_lists(j, hc, where))
        return false;

    static const char *const devs[] = {"Devices", "DeviceRequests", "DeviceCgroupRules"};
    for (size_t i = 0; i < 3; i++) {
        if (!get_array(j, hc, where, devs[i], i == 2, &a))
            return false;
        if (a && a->child && !p->devices)
            return refuse(j, 403, V_DEV, "%s%s is not empty", where, devs[i]);
    }

    if (!get_array(j, hc, where, "Binds", true, &a))
        return false;
    for (const cJSON *e = a ? a->child : NULL; e; e = e->next)
        if (!judge_bind(j, where, e->valuestring))
            return false;
    if (!get_array(j, hc, where, "Mounts", false, &a))
        return false;
    if (a) {
        char w[64];
        snprintf(w, sizeof(w), "%sMounts", where);
        if (!judge_mounts(j, a, w))
            return false;
    }
    if (!get_array(j, hc, where, "VolumesFrom", true, &a))
        return false;
    if (a && a->child && !binds_all(p))
        return refuse(j, 403, V_BINDS, "%sVolumesFrom takes the mounts of %.60s (ALLOW_BINDS=/ opens it)", where,
                      a->child->valuestring);
    return true;
}

/* A network named by a service: "host" by name, or the host network's ID (or
 * a prefix of it, as dockerd resolves them) when the policy knows it. */
static bool is_host_network(const body_policy *p, const char *target)
{
    if (ci_eq(target, "host"))
        return true;
    size_t n = strlen(target);
    return n > 0 && p->hostnet[0] && n <= strlen(p->hostnet) && strncasecmp(p->hostnet, target, n) == 0;
}

static bool judge_networks(judge *j, const cJSON *o, const char *where)
{
    const cJSON *nets;
    if (!get_array(j, o, where, "Networks", false, &nets))
        return false;
    char w[64];
    snprintf(w, sizeof(w), "%sNetworks[].", where);
    for (const cJSON *n = nets ? nets->child : NULL; n; n = n->next) {
        const char *target;
        if (!cJSON_IsObject(n))
            return refuse(j, 400, NULL, "%sNetworks entry is not an object", where);
        if (!get_string(j, n, w, "Target", &target))
            return false;
        if (target && is_host_network(j->p, target) && !j->p->host_namespaces)
            return refuse(j, 403, V_NS, "%sNetworks names the host network (%.80s)", where, target);
    }
    return true;
}

static bool judge_service(judge *j, const cJSON *spec)
{
    const body_policy *p = j->p;
    const cJSON *tt, *cs, *priv, *o, *a;
    if (!judge_networks(j, spec, ""))
        return false;
    if (!get_object(j, spec, "", "TaskTemplate", &tt))
        return false;
    if (!tt)
        return true;
    if (!judge_networks(j, tt, "TaskTemplate."))
        return false;
    if (!get_object(j, tt, "TaskTemplate.", "PluginSpec", &o))
        return false;
    if (o) {
        if (!get_array(j, o, "TaskTemplate.PluginSpec.", "Privileges", false, &a))
            return false;
        if (a && a->child && !p->privileged)
            return refuse(j, 403, V_PRIV, "TaskTemplate.PluginSpec.Privileges grants plugin privileges");
    }
    const char *w = "TaskTemplate.ContainerSpec.";
    if (!get_object(j, tt, "TaskTemplate.", "ContainerSpec", &cs))
        return false;
    if (!cs)
        return true;
    if (!get_array(j, cs, w, "Mounts", false, &a))
        return false;
    if (a && !judge_mounts(j, a, "TaskTemplate.ContainerSpec.Mounts"))
        return false;
    if (!get_array(j, cs, w, "CapabilityAdd", true, &a))
        return false;
    if (a && a->child && !p->capabilities)
        return refuse(j, 403, V_CAP, "%sCapabilityAdd adds %.60s", w, a->child->valuestring);
    if (!get_object(j, cs, w, "Sysctls", &a))
        return false;
    if (a && a->child && !p->capabilities)
        return refuse(j, 403, V_CAP, "%sSysctls sets %.60s", w, a->child->string ? a->child->string : "");
    if (!get_object(j, cs, w, "Privileges", &priv))
        return false;
    if (!priv)
        return true;
    const char *pw = "TaskTemplate.ContainerSpec.Privileges.";
    bool disable;
    const char *s;
    if (!get_object(j, priv, pw, "SELinuxContext", &o))
        return false;
    if (o) {
        if (!get_bool(j, o, "TaskTemplate.ContainerSpec.Privileges.SELinuxContext.", "Disable", &disable) ||
            !get_string(j, o, "TaskTemplate.ContainerSpec.Privileges.SELinuxContext.", "Type", &s))
            return false;
        if ((disable || (s && *s)) && !p->capabilities)
            return refuse(j, 403, V_CAP, "%sSELinuxContext %s", pw, disable ? "disables labels" : "sets a type");
    }
    static const char *const confs[] = {"Seccomp", "AppArmor"};
    for (size_t i = 0; i < 2; i++) {
        char cw[96];
        if (!get_object(j, priv, pw, confs[i], &o))
            return false;
        if (!o)
            continue;
        snprintf(cw, sizeof(cw), "%s%s.", pw, confs[i]);
        if (!get_string(j, o, cw, "Mode", &s))
            return false;
        if (s && *s && !ci_eq(s, "default") && !p->capabilities)
            return refuse(j, 403, V_CAP, "%sMode is %.40s", cw, s);
    }
    return true;
}

static bool judge_create(judge *j, const cJSON *top)
{
    const cJSON *hc, *nc, *ec;
    /* ContainerConfigWrapper embeds *container.HostConfig: its fields at the top level count. */
    if (!judge_hostconfig(j, top, ""))
        return false;
    if (!get_object(j, top, "", "HostConfig", &hc))
        return false;
    if (hc && !judge_hostconfig(j, hc, "HostConfig."))
        return false;
    if (!get_object(j, top, "", "NetworkingConfig", &nc))
        return false;
    if (!nc)
        return true;
    if (!get_object(j, nc, "NetworkingConfig.", "EndpointsConfig", &ec))
        return false;
    for (const cJSON *e = ec ? ec->child : NULL; e; e = e->next)
        if (e->string && is_host_network(j->p, e->string) && !j->p->host_namespaces)
            return refuse(j, 403, V_NS, "NetworkingConfig.EndpointsConfig names the host network");
    return true;
}

/* ---- Podman's libpod API -------------------------------------------------
 * Podman's handlers decode with Go's encoding/json too (json.NewDecoder in
 * pkg/api/handlers/libpod), into its own structures: a container is a
 * SpecGenerator, a pod a PodSpecGenerator (pkg/specgen/specgen.go and
 * podspecgen.go: lower_snake names, matched case-insensitively as Go does);
 * an exec is Docker's ExecOptions (BODY_EXEC_CREATE). The same variables
 * open the same powers. Host files podman reads or writes for a container
 * (its rootfs, init binary, conmon's PID file, the log file, a hosts file, a
 * zoneinfo file outside the zoneinfo directory) count as binds. */

/* A comma list of slirp4netns options asks for allow_host_loopback (podman
 * takes "true" only; anything but "false" is refused, the stricter reading). */
static bool asks_host_loopback(const char *opts)
{
    for (const char *s = opts; *s;) {
        size_t n = strcspn(s, ",");
        if (n >= 19 && strncasecmp(s, "allow_host_loopback", 19) == 0 && (n == 19 || s[19] == '=') &&
            !(n == 25 && strncasecmp(s + 19, "=false", 6) == 0))
            return true;
        s += n + (s[n] == ',');
    }
    return false;
}

/* The namespace modes that keep a container apart (podman compares them
 * exactly, pkg/specgen/namespaces.go). "pod" joins its pod's, judged when
 * the pod was created. Any other mode is refused: "host" is the host's,
 * "path" joins whatever namespace file value names (/proc/1/ns/net is the
 * host's), "container" another container's, which may be privileged or on
 * the host's; and a mode podman may add later is judged before allowed. */
static bool ns_mode_apart(const char *mode)
{
    static const char *const apart[] = {"",            "default", "private",   "pod",  "none",    "bridge",
                                        "slirp4netns", "pasta",   "shareable", "auto", "keep-id", "no-map"};
    for (size_t i = 0; i < sizeof(apart) / sizeof(apart[0]); i++)
        if (strcmp(mode, apart[i]) == 0)
            return true;
    return false;
}

/* One namespace ({"nsmode": ..., "value": ...}); cgroup: a cgroupns, whose
 * "host" is the daemon's own default on cgroup v1. */
static bool judge_namespace(judge *j, const cJSON *o, const char *name, bool cgroup)
{
    const cJSON *ns;
    const char *mode, *value;
    char w[32];
    if (!get_object(j, o, "", name, &ns))
        return false;
    if (!ns)
        return true;
    snprintf(w, sizeof(w), "%s.", name);
    if (!get_string(j, ns, w, "nsmode", &mode) || !get_string(j, ns, w, "value", &value))
        return false;
    if (!mode || j->p->host_namespaces)
        return true;
    if (ns_mode_apart(mode)) {
        if (strcmp(mode, "slirp4netns") == 0 && value && asks_host_loopback(value))
            return refuse(j, 403, V_NS, "%s slirp4netns %.60s reaches the host's loopback", name, value);
        return true;
    }
    if (ci_eq(mode, "host"))
        return (cgroup && j->p->cgroupns_host_is_default) || refuse(j, 403, V_NS, "%s is host", name);
    if (ci_eq(mode, "path"))
        return refuse(j, 403, V_NS, "%s joins the namespace at %.80s", name, value ? value : "");
    if (ci_eq(mode, "container"))
        return refuse(j, 403, V_NS, "%s joins another container's namespace (%.80s)", name, value ? value : "");
    return refuse(j, 403, V_NS, "%s nsmode \"%.40s\" is not one known to keep the container apart", name, mode);
}

/* network_options: per network mode, the options podman hands its helper.
 * slirp4netns's allow_host_loopback reaches the host's 127.0.0.1; pasta's
 * options are pasta's own command line on the host (host ports and
 * loopback it maps, files it writes): both as the host network would. */
static bool judge_network_options(judge *j, const cJSON *o)
{
    const cJSON *opts;
    if (!get_object(j, o, "", "network_options", &opts))
        return false;
    for (const cJSON *c = opts ? opts->child : NULL; c; c = c->next) {
        const char *mode = c->string ? c->string : "";
        if (!cJSON_IsArray(c) && !cJSON_IsNull(c))
            return refuse(j, 400, NULL, "network_options.%.40s is not an array of strings", mode);
        for (const cJSON *e = c->child; e; e = e->next) {
            if (!cJSON_IsString(e))
                return refuse(j, 400, NULL, "network_options.%.40s is not an array of strings", mode);
            if (j->p->host_namespaces)
                continue;
            if (ci_eq(mode, "pasta"))
                return refuse(j, 403, V_NS, "network_options pasta passes %.60s to pasta on the host", e->valuestring);
            if (ci_eq(mode, "slirp4netns") && asks_host_loopback(e->valuestring))
                return refuse(j, 403, V_NS, "network_options slirp4netns %.60s reaches the host's loopback",
                              e->valuestring);
        }
    }
    return true;
}

static bool judge_sysctl(judge *j, const cJSON *o)
{
    const cJSON *m;
    if (!get_object(j, o, "", "sysctl", &m))
        return false;
    if (m && m->child && !j->p->capabilities)
        return refuse(j, 403, V_CAP, "sysctl sets %.60s", m->child->string ? m->child->string : "");
    return true;
}

static bool judge_libpod_privileges(judge *j, const cJSON *o)
{
    const body_policy *p = j->p;
    bool priv;
    const char *rt;
    if (!get_bool(j, o, "", "privileged", &priv))
        return false;
    if (priv && !p->privileged)
        return refuse(j, 403, V_PRIV, "privileged is true");
    /* A runtime named by its path rather than by one of containers.conf's
     * names: podman runs that host file as root (a volume's, say). */
    if (!get_string(j, o, "", "oci_runtime", &rt))
        return false;
    if (rt && strchr(rt, '/') && !p->privileged)
        return refuse(j, 403, V_PRIV, "oci_runtime names a host file (%.80s) that podman would run as root", rt);
    return true;
}

/* Capabilities added, masked paths unmasked (unmask=ALL is Docker's
 * systempaths=unconfined), kernel parameters set. */
static bool judge_libpod_caps(judge *j, const cJSON *o)
{
    const cJSON *a;
    static const char *const lists[] = {"cap_add", "unmask"};
    for (size_t i = 0; i < 2; i++) {
        if (!get_array(j, o, "", lists[i], true, &a))
            return false;
        if (a && a->child && !j->p->capabilities)
            return refuse(j, 403, V_CAP, "%s %s %.60s", lists[i], i ? "unmasks" : "adds", a->child->valuestring);
    }
    return judge_sysctl(j, o);
}

/* Seccomp, AppArmor and SELinux as SpecGenerator names them: the image's
 * own seccomp profile (seccomp_policy "image"), a profile file of the
 * host's or "unconfined", any AppArmor profile, SELinux disabled or given a
 * type (spc_t is unconfined) each loosen the container's confinement. */
static bool judge_libpod_confinement(judge *j, const cJSON *o)
{
    bool open = j->p->capabilities;
    const char *s;
    const cJSON *a;
    if (!get_string(j, o, "", "seccomp_policy", &s))
        return false;
    if (s && *s && !ci_eq(s, "default") && !open)
        return refuse(j, 403, V_CAP, "seccomp_policy is %.40s", s);
    static const char *const named[] = {"seccomp_profile_path", "apparmor_profile"};
    for (size_t i = 0; i < 2; i++) {
        if (!get_string(j, o, "", named[i], &s))
            return false;
        if (s && *s && !open)
            return refuse(j, 403, V_CAP, "%s is %.80s", named[i], s);
    }
    if (!get_array(j, o, "", "selinux_opts", true, &a))
        return false;
    for (const cJSON *e = a ? a->child : NULL; e; e = e->next)
        if ((ci_eq(e->valuestring, "disable") || ci_prefix(e->valuestring, "type:")) && !open)
            return refuse(j, 403, V_CAP, "selinux_opts %.60s", e->valuestring);
    return true;
}

/* "devices" of an OCI resources object: device cgroup rules, each of which
 * may open host devices (an allow rule for all of them: "a"). */
static bool judge_device_rules(judge *j, const cJSON *o, const char *where)
{
    const cJSON *a;
    if (!get_array(j, o, where, "devices", false, &a))
        return false;
    if (a && a->child && !j->p->devices)
        return refuse(j, 403, V_DEV, "%sdevices is not empty (device cgroup rules)", where);
    return true;
}

/* Device lists (names: a SpecGenerator's or a pod's), and resource_limits'
 * device cgroup rules. */
static bool judge_libpod_devices(judge *j, const cJSON *o, const char *const *names, size_t n)
{
    const cJSON *a, *r;
    for (size_t i = 0; i < n; i++) {
        if (!get_array(j, o, "", names[i], false, &a))
            return false;
        if (a && a->child && !j->p->devices)
            return refuse(j, 403, V_DEV, "%s is not empty", names[i]);
    }
    if (!get_object(j, o, "", "resource_limits", &r))
        return false;
    return !r || judge_device_rules(j, r, "resource_limits.");
}

/* One comma-separated piece of mount options: overlay's lowerdir (a colon
 * list), upperdir and workdir name host directories. */
static bool judge_overlay_option(judge *j, const char *what, const char *opt, size_t n)
{
    static const char *const keys[] = {"lowerdir=", "upperdir=", "workdir="};
    for (size_t k = 0; k < 3; k++) {
        size_t kl = strlen(keys[k]);
        if (n < kl || strncasecmp(opt, keys[k], kl) != 0)
            continue;
        for (size_t i = kl; i <= n;) {
            size_t e = i;
            while (e < n && opt[e] != ':')
                e++;
            char dir[4096];
            if (e == i || e - i >= sizeof(dir) || opt[i] != '/')
                return refuse(j, 400, NULL, "%s: %.80s names a directory that is not an absolute host path", what, opt);
            memcpy(dir, opt + i, e - i);
            dir[e - i] = '\0';
            if (!host_path(j, what, dir))
                return false;
            i = e + 1;
        }
    }
    return true;
}

/* Mount options (an array of strings; the runtime joins them with commas,
 * so each is read as a comma list). */
static bool judge_mount_options(judge *j, const char *what, const cJSON *opts)
{
    for (const cJSON *e = opts ? opts->child : NULL; e; e = e->next)
        for (const char *s = e->valuestring; *s;) {
            size_t n = strcspn(s, ",");
            if (!judge_overlay_option(j, what, s, n))
                return false;
            s += n + (s[n] == ',');
        }
    return true;
}

/* One entry of mounts or overlay_volumes (list): an object, its source and
 * its options. */
static bool libpod_entry(judge *j, const cJSON *m, const char *list, const char **source, const cJSON **opts)
{
    char w[32];
    if (!cJSON_IsObject(m))
        return refuse(j, 400, NULL, "%s entry is not an object", list);
    snprintf(w, sizeof(w), "%s[].", list);
    return get_string(j, m, w, "source", source) && get_array(j, m, w, "options", true, opts);
}

/* A SpecGenerator's mounts are OCI runtime-spec mounts, handed to the
 * runtime nearly as they are: any absolute source is a host path (a bind,
 * or a disk under a filesystem type), a relative one with a slash would be
 * found from the runtime's working directory, and overlay options name
 * host directories. Image, volume and artifact mounts' sources are names. */
static bool judge_oci_mounts(judge *j, const cJSON *o)
{
    const cJSON *a;
    if (!get_array(j, o, "", "mounts", false, &a))
        return false;
    for (const cJSON *m = a ? a->child : NULL; m; m = m->next) {
        const char *type, *source;
        const cJSON *opts;
        char what[160];
        if (!libpod_entry(j, m, "mounts", &source, &opts) || !get_string(j, m, "mounts[].", "type", &type))
            return false;
        snprintf(what, sizeof(what), "mounts entry (type %.20s, source %.80s)", type ? type : "", source ? source : "");
        bool named = type && (ci_eq(type, "image") || ci_eq(type, "volume") || ci_eq(type, "artifact"));
        bool bind = type && (ci_eq(type, "bind") || ci_eq(type, "rbind") || ci_eq(type, "glob"));
        for (const cJSON *e = opts ? opts->child : NULL; e; e = e->next)
            bind = bind || ci_eq(e->valuestring, "bind") || ci_eq(e->valuestring, "rbind");
        if (source && source[0] == '/') {
            if (!host_path(j, what, source))
                return false;
        } else if (source && *source && !named && (bind || strchr(source, '/'))) {
            return refuse(j, 400, NULL, "%s: a host source must be an absolute path", what);
        }
        if (!judge_mount_options(j, what, opts))
            return false;
    }
    return true;
}

/* overlay_volumes: a host directory (source) under an overlay, its writes
 * kept apart unless upperdir/workdir options name host directories too. */
static bool judge_overlay_volumes(judge *j, const cJSON *o)
{
    const cJSON *a;
    if (!get_array(j, o, "", "overlay_volumes", false, &a))
        return false;
    for (const cJSON *v = a ? a->child : NULL; v; v = v->next) {
        const char *source;
        const cJSON *opts;
        char what[120];
        if (!libpod_entry(j, v, "overlay_volumes", &source, &opts))
            return false;
        snprintf(what, sizeof(what), "overlay_volumes entry (source %.80s)", source ? source : "");
        if (source && *source && source[0] != '/')
            return refuse(j, 400, NULL, "%s: the source must be an absolute host path", what);
        if ((source && *source && !host_path(j, what, source)) || !judge_mount_options(j, what, opts))
            return false;
    }
    return true;
}

/* mounts, overlay_volumes, named volumes' options, volumes_from: of a
 * container or a pod. */
static bool judge_libpod_storage(judge *j, const cJSON *o)
{
    const cJSON *a;
    if (!judge_oci_mounts(j, o) || !judge_overlay_volumes(j, o) || !get_array(j, o, "", "volumes", false, &a))
        return false;
    for (const cJSON *v = a ? a->child : NULL; v; v = v->next) {
        const cJSON *opts;
        if (!cJSON_IsObject(v))
            return refuse(j, 400, NULL, "volumes entry is not an object");
        if (!get_array(j, v, "volumes[].", "Options", true, &opts) || !judge_mount_options(j, "volumes entry", opts))
            return false;
    }
    if (!get_array(j, o, "", "volumes_from", true, &a))
        return false;
    if (a && a->child && !binds_all(j->p))
        return refuse(j, 403, V_BINDS, "volumes_from takes the mounts of %.60s (ALLOW_BINDS=/ opens it)",
                      a->child->valuestring);
    return true;
}

/* A field naming a host file podman reads or writes for the container
 * (what: what it does with it), judged as a bind; words: "image" and "none"
 * are no file (the hosts file fields). */
static bool judge_host_file(judge *j, const cJSON *o, const char *where, const char *name, const char *what,
                            bool words)
{
    const char *s;
    char w[120];
    if (!get_string(j, o, where, name, &s))
        return false;
    if (!s || !*s || (words && (strcmp(s, "image") == 0 || strcmp(s, "none") == 0)))
        return true;
    snprintf(w, sizeof(w), "%s%s (%s)", where, name, what);
    if (s[0] != '/')
        return refuse(j, 400, NULL, "%s is not an absolute path", w);
    return host_path(j, w, s);
}

/* timezone: podman copies filepath.Join("/usr/share/zoneinfo", timezone)
 * (or $TZDIR's) into the container when the image lacks it, so a name that
 * climbs out of that directory ("../../../etc/shadow") reads a host file,
 * whatever the base. "local" is the host's /etc/localtime, meant to be read. */
static bool judge_timezone(judge *j, const cJSON *o)
{
    const char *tz;
    int depth = 0;
    if (!get_string(j, o, "", "timezone", &tz))
        return false;
    for (const char *s = tz ? tz : ""; *s && depth >= 0;) {
        size_t n = strcspn(s, "/");
        if (n == 2 && s[0] == '.' && s[1] == '.')
            depth--;
        else if (n && !(n == 1 && s[0] == '.'))
            depth++;
        s += n + (s[n] == '/');
    }
    if (depth < 0 && !binds_all(j->p))
        return refuse(j, 403, V_BINDS, "timezone \"%.80s\" leaves the zoneinfo directory: podman would copy that host "
                                       "file into the container (ALLOW_BINDS=/ opens it)", tz);
    return true;
}

static bool judge_libpod_create(judge *j, const cJSON *top)
{
    static const char *const ns[] = {"netns", "pidns", "ipcns", "utsns", "userns", "cgroupns"};
    static const char *const devs[] = {"devices", "device_cgroup_rule", "devices_from", "host_device_list", "gpus"};
    const cJSON *log;
    /* in the order of a HostConfig's: privileges, namespaces, capabilities, devices, binds */
    if (!judge_libpod_privileges(j, top))
        return false;
    for (size_t i = 0; i < 6; i++)
        if (!judge_namespace(j, top, ns[i], i == 5))
            return false;
    if (!judge_network_options(j, top) || !judge_libpod_caps(j, top) || !judge_libpod_confinement(j, top) ||
        !judge_libpod_devices(j, top, devs, 5) || !judge_libpod_storage(j, top))
        return false;
    if (!judge_host_file(j, top, "", "rootfs", "the container's root filesystem", false) ||
        !judge_host_file(j, top, "", "init_path", "mounted as the container's init", false) ||
        !judge_host_file(j, top, "", "conmon_pid_file", "written by conmon", false) ||
        !judge_host_file(j, top, "", "base_hosts_file", "copied into the container's /etc/hosts", true) ||
        !judge_timezone(j, top) || !get_object(j, top, "", "log_configuration", &log))
        return false;
    return !log || judge_host_file(j, log, "log_configuration.", "path", "conmon writes the container's output there",
                                   false);
}

static bool judge_libpod_pod(judge *j, const cJSON *top)
{
    static const char *const ns[] = {"netns", "pidns", "ipcns", "utsns", "userns"};
    static const char *const devs[] = {"pod_devices"};
    const cJSON *a;
    for (size_t i = 0; i < 5; i++)
        if (!judge_namespace(j, top, ns[i], false))
            return false;
    if (!judge_network_options(j, top) || !judge_libpod_devices(j, top, devs, 1) || !judge_libpod_storage(j, top) ||
        !judge_sysctl(j, top) || !get_array(j, top, "", "security_opt", true, &a))
        return false;
    for (const cJSON *e = a ? a->child : NULL; e; e = e->next)
        if (!judge_security_opt(j, "", "security_opt", e->valuestring))
            return false;
    return judge_host_file(j, top, "", "infra_conmon_pid_file", "written by conmon", false) &&
           judge_host_file(j, top, "", "hostsFile", "copied into the pod's /etc/hosts", true);
}

/* The update body: podman 5 embeds specs.LinuxResources (its "devices" at
 * the top), podman 4 nests it under "Resources"; both readings are judged. */
static bool judge_libpod_update(judge *j, const cJSON *top)
{
    const cJSON *r;
    if (!judge_device_rules(j, top, "") || !get_object(j, top, "", "Resources", &r))
        return false;
    return !r || judge_device_rules(j, r, "Resources.");
}

/* ---- the body as a whole ------------------------------------------------- */

bool body_kind_on_head(body_kind kind)
{
    return kind == BODY_BUILD || kind == BODY_PLUGIN_CREATE || kind == BODY_LIBPOD_PLAY ||
           kind == BODY_LIBPOD_RESTORE || kind == BODY_LIBPOD_SECRET;
}

/* The judged routes: a path exactly (suf NULL), or pre, a non-empty name,
 * suf (mux routes capture names with {name:.*}: the path's end decides). */
static const struct body_route {
    const char *pre, *suf;
    body_kind kind;
} body_routes[] = {
    {"/containers/create", NULL, BODY_CONTAINER_CREATE},
    {"/services/create", NULL, BODY_SERVICE},
    {"/volumes/create", NULL, BODY_VOLUME_CREATE},
    {"/plugins/pull", NULL, BODY_PLUGIN_PRIVILEGES},
    {"/containers/", "/update", BODY_CONTAINER_UPDATE},
    {"/containers/", "/start", BODY_CONTAINER_START},
    {"/containers/", "/exec", BODY_EXEC_CREATE},
    {"/services/", "/update", BODY_SERVICE},
    {"/plugins/", "/upgrade", BODY_PLUGIN_PRIVILEGES},
    {"/build", NULL, BODY_BUILD},
    {"/libpod/build", NULL, BODY_BUILD}, /* podman's own: the same query, more of it */
    {"/plugins/create", NULL, BODY_PLUGIN_CREATE},
    {"/libpod/containers/create", NULL, BODY_LIBPOD_CREATE},
    {"/libpod/pods/create", NULL, BODY_LIBPOD_POD},
    {"/libpod/volumes/create", NULL, BODY_LIBPOD_VOLUME},
    {"/libpod/secrets/create", NULL, BODY_LIBPOD_SECRET},
    {"/libpod/containers/", "/exec", BODY_EXEC_CREATE}, /* podman decodes Docker's ExecOptions */
    {"/libpod/containers/", "/update", BODY_LIBPOD_UPDATE},
    {"/libpod/containers/", "/restore", BODY_LIBPOD_RESTORE},
};

body_kind body_kind_of(const char *method, size_t mlen, const char *path, size_t plen)
{
    if (mlen != 4 || strncasecmp(method, "POST", 4) != 0)
        return BODY_NONE;
    /* A router with strict-slash redirects (or another daemon) may read
     * "/containers/create/" as "/containers/create": the stricter reading. */
    if (plen > 1 && path[plen - 1] == '/')
        plen--;
    for (size_t i = 0; i < sizeof(body_routes) / sizeof(body_routes[0]); i++) {
        const struct body_route *r = &body_routes[i];
        size_t pl = strlen(r->pre), sl = r->suf ? strlen(r->suf) : 0;
        if (!r->suf && plen == pl && memcmp(path, r->pre, pl) == 0)
            return r->kind;
        if (r->suf && plen > pl + sl && memcmp(path, r->pre, pl) == 0 && memcmp(path + plen - sl, r->suf, sl) == 0)
            return r->kind;
    }
    /* play/kube, kube/play, kube/apply: all of them take Kubernetes YAML */
    if (plen >= 12 && (memcmp(path, "/libpod/play", 12) == 0 || memcmp(path, "/libpod/kube", 12) == 0) &&
        (plen == 12 || path[12] == '/'))
        return BODY_LIBPOD_PLAY;
    return BODY_NONE;
}

/* Percent-decodes q[0..n) ('+' is a space) into out (cap bytes, NUL-ended)
 * as Go's url.QueryUnescape does. 0, or -1 on a bad escape, -2 when it does
 * not fit. */
static int query_decode(const char *q, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int ch = (unsigned char)q[i];
        if (ch == '%') {
            if (i + 2 >= n || !isxdigit((unsigned char)q[i + 1]) || !isxdigit((unsigned char)q[i + 2]))
                return -1;
            char hex[3] = {q[i + 1], q[i + 2], 0};
            ch = (int)strtol(hex, NULL, 16);
            i += 2;
        } else if (ch == '+') {
            ch = ' ';
        }
        if (o + 1 >= cap)
            return -2;
        out[o++] = (char)ch;
    }
    out[o] = '\0';
    return 0;
}

/* The query keys each head kind reads. Podman's schema decoder matches
 * keys as strings.EqualFold does (gojson_key_is); dockerd's FormValue
 * exactly, so gojson_key_is is the stricter reading there too. */
static bool head_key(body_kind kind, const char *key)
{
    switch (kind) {
    case BODY_BUILD: {
        /* Docker's networkmode, and what podman's /build (and /libpod/build)
         * also reads: build-time binds, devices, capabilities, security
         * options, namespaces, isolation, host files. */
        static const char *const keys[] = {"networkmode", "nsoptions", "isolation", "volume", "devices",
                                           "addcaps", "securityopt", "seccomp", "apparmor", "rusagelogfile",
                                           "additionalbuildcontexts", NULL};
        for (const char *const *k = keys; *k; k++)
            if (gojson_key_is(key, *k))
                return true;
        return false;
    }
    case BODY_LIBPOD_RESTORE:
        return gojson_key_is(key, "import");
    case BODY_LIBPOD_SECRET:
        return gojson_key_is(key, "driver") || gojson_key_is(key, "driveropts");
    default:
        return false;
    }
}

/* strconv.ParseBool's false, or nothing. */
static bool go_false(const char *v)
{
    static const char *const no[] = {"", "0", "f", "F", "false", "FALSE", "False"};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (strcmp(v, no[i]) == 0)
            return true;
    return false;
}

/* driveropts is a JSON object in the query: "{}" and null ask for nothing. */
static bool empty_json_map(const char *v)
{
    if (!*v)
        return true;
    cJSON *m = cJSON_ParseWithOpts(v, NULL, true);
    bool empty = m && (cJSON_IsNull(m) || (cJSON_IsObject(m) && !m->child));
    cJSON_Delete(m);
    return empty;
}

/* One decoded /build parameter (key: one of head_key's). */
static bool judge_build_param(judge *j, const char *key, const char *val)
{
    const body_policy *p = j->p;
    bool set = *val && strcmp(val, "[]") != 0 && strcmp(val, "{}") != 0 && strcmp(val, "null") != 0;
    if (gojson_key_is(key, "networkmode")) {
        if (!p->host_namespaces && ci_eq(val, "host"))
            return refuse(j, 403, V_NS, "networkmode=host builds in the host's network namespace");
        if (!p->host_namespaces && ci_prefix(val, "container:"))
            return refuse(j, 403, V_NS, "networkmode joins another container's namespace (%.80s)", val);
        return true;
    }
    if (gojson_key_is(key, "nsoptions") && set && !p->host_namespaces)
        return refuse(j, 403, V_NS, "nsoptions=%.80s sets the build's namespaces (podman)", val);
    if (gojson_key_is(key, "isolation") && ci_eq(val, "chroot") && !p->host_namespaces)
        return refuse(j, 403, V_NS, "isolation=chroot runs the build's steps in the host's namespaces (podman)");
    if ((gojson_key_is(key, "volume") || gojson_key_is(key, "rusagelogfile") || gojson_key_is(key, "additionalbuildcontexts")) && set &&
        !binds_all(p))
        return refuse(j, 403, V_BINDS, "%s=%.80s reaches host paths from the build (podman; ALLOW_BINDS=/ opens it)",
                      key, val);
    if (gojson_key_is(key, "devices") && set && !p->devices)
        return refuse(j, 403, V_DEV, "devices=%.80s gives the build host devices (podman)", val);
    if ((gojson_key_is(key, "addcaps") || gojson_key_is(key, "securityopt") || gojson_key_is(key, "seccomp") ||
         gojson_key_is(key, "apparmor")) && set && !p->capabilities)
        return refuse(j, 403, V_CAP, "%s=%.80s changes the build's confinement (podman)", key, val);
    return true;
}

/* One decoded parameter of a head kind's query (key: one of head_key's). */
static bool judge_param(judge *j, body_kind kind, const char *key, const char *val)
{
    if (kind == BODY_BUILD)
        return judge_build_param(j, key, val);
    if (kind == BODY_LIBPOD_RESTORE && !go_false(val))
        return refuse(j, 403, V_PRIV, "import=%.20s restores a container from the archive in the body, with "
                                      "whatever configuration (privileges, mounts, namespaces) it carries", val);
    if (kind == BODY_LIBPOD_SECRET && gojson_key_is(key, "driver") && *val && !ci_eq(val, "file"))
        return refuse(j, 403, V_PRIV, "driver=%.40s: podman's shell and pass secret drivers run what their "
                                      "options say on the host", val);
    if (kind == BODY_LIBPOD_SECRET && gojson_key_is(key, "driveropts") && !empty_json_map(val))
        return refuse(j, 403, V_PRIV, "driveropts=%.60s: a secret driver's options are host commands and paths",
                      val);
    return true;
}

/* One key=value pair of the query, decoded as Go's url.ParseQuery does. */
static bool judge_query_pair(judge *j, body_kind kind, const char *pair, size_t n)
{
    const char *eq = memchr(pair, '=', n);
    size_t kl = eq ? (size_t)(eq - pair) : n;
    char key[32], val[512];
    int r = query_decode(pair, kl, key, sizeof(key));
    if (r == -1)
        return refuse(j, 400, NULL, "the query has a bad %%-escape");
    if (r < 0 || !head_key(kind, key)) /* too long to be one of ours */
        return true;
    if (query_decode(eq ? eq + 1 : pair + n, eq ? n - kl - 1 : 0, val, sizeof(val)) < 0)
        return refuse(j, 400, NULL, "the %s parameter has a bad %%-escape or is too long", key);
    return judge_param(j, kind, key, val);
}

void body_judge_head(const body_policy *p, body_kind kind, const char *query, size_t qlen, const char *ctype,
                     size_t ctlen, body_verdict *v)
{
    judge j = {p, v};
    v->status = 0;
    v->var = NULL;
    v->why[0] = '\0';
    v->nhost = 0;
    /* A plugin's config.json and a Kubernetes YAML (privileged, hostNetwork,
     * hostPID, hostPath volumes, capabilities, devices...) may ask for any
     * privilege. The proxy reads no YAML (anchors, merge keys, repeated keys
     * and documents would be a reader of their own to get right), so the one
     * switch that already means root on the host opens them whole. */
    if (kind == BODY_PLUGIN_CREATE || kind == BODY_LIBPOD_PLAY) {
        if (!p->privileged)
            refuse(&j, 403, V_PRIV, "%s may ask for any privilege (host network, mounts, capabilities, devices)",
                   kind == BODY_PLUGIN_CREATE ? "a plugin's config.json" : "a Kubernetes YAML");
        return;
    }
    if (kind != BODY_BUILD && kind != BODY_LIBPOD_RESTORE && kind != BODY_LIBPOD_SECRET)
        return;
    if (kind != BODY_BUILD && p->privileged)
        return;
    if (kind == BODY_BUILD && ctype && ctlen >= 33 && strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0) {
        refuse(&j, 400, NULL, "a form body on /build: dockerd would read its fields before the query's");
        return;
    }
    for (size_t i = 0; i < qlen;) {
        size_t e = i;
        while (e < qlen && query[e] != '&' && query[e] != ';')
            e++;
        if (!judge_query_pair(&j, kind, query + i, e - i))
            return;
        i = e + 1;
    }
}

static bool judge_value(judge *j, body_kind kind, const cJSON *top)
{
    if (kind == BODY_PLUGIN_PRIVILEGES) {
        if (cJSON_IsNull(top))
            return true;
        if (!cJSON_IsArray(top))
            return refuse(j, 400, NULL, "the plugin privileges are not an array");
        if (top->child && !j->p->privileged) {
            const cJSON *name = cJSON_IsObject(top->child) ? top->child->child : NULL;
            for (; name && !gojson_key_is(name->string ? name->string : "", "Name"); name = name->next) {
            }
            return refuse(j, 403, V_PRIV, "the plugin asks for privileges (%.60s)",
                          name && cJSON_IsString(name) ? name->valuestring : "...");
        }
        return true;
    }
    if (cJSON_IsNull(top))
        return true;
    if (!cJSON_IsObject(top))
        return refuse(j, 400, NULL, "the body is not a JSON object");
    const cJSON *opts;
    bool priv;
    switch (kind) {
    case BODY_CONTAINER_CREATE:
        return judge_create(j, top);
    case BODY_CONTAINER_UPDATE:
        return judge_hostconfig(j, top, "");
    case BODY_CONTAINER_START:
        return judge_hostconfig(j, top, "HostConfig.");
    case BODY_EXEC_CREATE:
        if (!get_bool(j, top, "", "Privileged", &priv))
            return false;
        if (priv && !j->p->privileged)
            return refuse(j, 403, V_PRIV, "exec Privileged is true");
        return true;
    case BODY_SERVICE:
        return judge_service(j, top);
    case BODY_VOLUME_CREATE:
        if (!field(j, top, "", "DriverOpts", &opts))
            return false;
        return !opts || judge_driver_opts(j, opts, "DriverOpts");
    case BODY_LIBPOD_CREATE:
        return judge_libpod_create(j, top);
    case BODY_LIBPOD_POD:
        return judge_libpod_pod(j, top);
    case BODY_LIBPOD_UPDATE:
        return judge_libpod_update(j, top);
    case BODY_LIBPOD_VOLUME: /* entities VolumeCreateOptions: the local driver's options, as Docker's */
        if (!field(j, top, "", "Options", &opts))
            return false;
        return !opts || judge_driver_opts(j, opts, "Options");
    default:
        return true;
    }
}

void body_judge(const body_policy *p, body_kind kind, const char *body, size_t len, body_verdict *v)
{
    judge j = {p, v};
    v->status = 0;
    v->var = NULL;
    v->why[0] = '\0';
    v->nhost = 0;
    if (kind == BODY_NONE || body_kind_on_head(kind) || len == 0)
        return; /* body_kind_on_head: judged by body_judge_head */
    const char *why;
    cJSON *top = gojson_parse(body, len, &why);
    if (!top) {
        refuse(&j, 400, NULL, "the body %s", why);
        return;
    }
    judge_value(&j, kind, top);
    cJSON_Delete(top);
}
