/* libFuzzer: the body judge (rules/body.c), Docker's bodies and Podman's
 * libpod ones. The first byte picks the kind, the rest is the body. Invariants:
 *  - a verdict is 0, 400 (no variable) or 403 (a variable and a why);
 *  - with every variable open (ALLOW_BINDS=/) only the Docker socket is still
 *    refused, and what default-deny allows stays allowed;
 *  - when the judge allows a body under the default-deny policy, an
 *    independent strict reading finds no refused field set. The strict reader
 *    is deliberately another implementation: it folds every key to a canonical
 *    form (ASCII lower case, ſ -> s, K -> k) and visits EVERY key of each object
 *    (so a repeated or folded key the judge overlooked shows), where the judge
 *    looks each field up by name. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "rules/body.h"

/* ---- the strict reader ---- */

static void canon(const char *k, char *out, size_t cap)
{
    size_t n = 0;
    const unsigned char *s = (const unsigned char *)k;
    while (*s && n + 1 < cap) {
        if (s[0] == 0xC5 && s[1] == 0xBF) {
            out[n++] = 's';
            s += 2;
        } else if (s[0] == 0xE2 && s[1] == 0x84 && s[2] == 0xAA) {
            out[n++] = 'k';
            s += 3;
        } else {
            out[n++] = (char)tolower(*s++);
        }
    }
    out[n] = '\0';
}

static bool named(const cJSON *c, const char *lower_name)
{
    char k[64];
    if (!c->string)
        return false;
    canon(c->string, k, sizeof(k));
    return strcmp(k, lower_name) == 0;
}

static bool nonempty_array(const cJSON *c)
{
    return cJSON_IsArray(c) && c->child;
}

static bool abs_source_mount(const cJSON *mounts)
{
    if (!cJSON_IsArray(mounts))
        return false;
    for (const cJSON *m = mounts->child; m; m = m->next)
        for (const cJSON *f = cJSON_IsObject(m) ? m->child : NULL; f; f = f->next)
            if (named(f, "source") && cJSON_IsString(f) && f->valuestring[0] == '/')
                return true;
    return false;
}

/* seccomp, apparmor or systempaths unconfined; label disabled (key=value or key:value) */
static bool security_opt_bad(const char *opt)
{
    size_t k = strcspn(opt, "=");
    if (!opt[k])
        k = strcspn(opt, ":");
    if (!opt[k])
        return false;
    const char *val = opt + k + 1;
    if (k == 5 && strncasecmp(opt, "label", 5) == 0)
        return strcasecmp(val, "disable") == 0;
    return strcasecmp(val, "unconfined") == 0 &&
           ((k == 7 && strncasecmp(opt, "seccomp", 7) == 0) || (k == 8 && strncasecmp(opt, "apparmor", 8) == 0) ||
            (k == 11 && strncasecmp(opt, "systempaths", 11) == 0));
}

/* A MaskedPaths/ReadonlyPaths list replaces the daemon's defaults: bad
 * unless it still names each of them (the reference counts exact matches). */
static bool drops_a_default(const cJSON *list)
{
    static const char *const defaults[] = {
        "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", /* masked: 10 */
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}; /* read-only: 5 */
    if (!cJSON_IsArray(list))
        return false;
    bool masked = named(list, "maskedpaths");
    size_t from = masked ? 0 : 10, to = masked ? 10 : 15;
    for (size_t i = from; i < to; i++) {
        bool found = false;
        for (const cJSON *e = list->child; e && !found; e = e->next)
            found = cJSON_IsString(e) && strcmp(e->valuestring, defaults[i]) == 0;
        if (!found)
            return true;
    }
    return false;
}

static bool hostconfig_bad(const cJSON *o)
{
    static const char *const modes[] = {"networkmode", "pidmode", "ipcmode", "utsmode", "usernsmode", "cgroupnsmode"};
    static const char *const lists[] = {"capadd", "capabilities", "devices", "devicerequests", "devicecgrouprules",
                                        "volumesfrom"};
    for (const cJSON *c = o->child; c; c = c->next) {
        if (named(c, "privileged") && cJSON_IsTrue(c))
            return true;
        for (size_t i = 0; i < 6; i++)
            if (named(c, modes[i]) && cJSON_IsString(c) &&
                (strcasecmp(c->valuestring, "host") == 0 || (i < 3 && strncasecmp(c->valuestring, "container:", 10) == 0)))
                return true;
        for (size_t i = 0; i < 6; i++)
            if (named(c, lists[i]) && nonempty_array(c))
                return true;
        if (named(c, "sysctls") && cJSON_IsObject(c) && c->child)
            return true;
        if ((named(c, "maskedpaths") || named(c, "readonlypaths")) && drops_a_default(c))
            return true;
        if (named(c, "securityopt") && cJSON_IsArray(c))
            for (const cJSON *e = c->child; e; e = e->next)
                if (cJSON_IsString(e) && security_opt_bad(e->valuestring))
                    return true;
        if (named(c, "binds") && cJSON_IsArray(c))
            for (const cJSON *e = c->child; e; e = e->next)
                if (cJSON_IsString(e) && e->valuestring[0] == '/' && strchr(e->valuestring, ':'))
                    return true;
        if (named(c, "mounts") && abs_source_mount(c))
            return true;
    }
    return false;
}

static bool networks_bad(const cJSON *nets)
{
    if (!cJSON_IsArray(nets))
        return false;
    for (const cJSON *n = nets->child; n; n = n->next)
        for (const cJSON *f = cJSON_IsObject(n) ? n->child : NULL; f; f = f->next)
            if (named(f, "target") && cJSON_IsString(f) && strcasecmp(f->valuestring, "host") == 0)
                return true;
    return false;
}

static bool container_spec_bad(const cJSON *cs)
{
    for (const cJSON *c = cs->child; c; c = c->next) {
        if (named(c, "capabilityadd") && nonempty_array(c))
            return true;
        if (named(c, "sysctls") && cJSON_IsObject(c) && c->child)
            return true;
        if (named(c, "mounts") && abs_source_mount(c))
            return true;
        if (!named(c, "privileges") || !cJSON_IsObject(c))
            continue;
        for (const cJSON *p = c->child; p; p = p->next) {
            if (!cJSON_IsObject(p))
                continue;
            for (const cJSON *f = p->child; f; f = f->next) {
                if ((named(p, "seccomp") || named(p, "apparmor")) && named(f, "mode") && cJSON_IsString(f) &&
                    (strcasecmp(f->valuestring, "unconfined") == 0 || strcasecmp(f->valuestring, "disabled") == 0))
                    return true;
                if (named(p, "selinuxcontext") && named(f, "disable") && cJSON_IsTrue(f))
                    return true;
            }
        }
    }
    return false;
}

static bool service_bad(const cJSON *top)
{
    for (const cJSON *c = top->child; c; c = c->next) {
        if (named(c, "networks") && networks_bad(c))
            return true;
        if (!named(c, "tasktemplate") || !cJSON_IsObject(c))
            continue;
        for (const cJSON *t = c->child; t; t = t->next) {
            if (named(t, "networks") && networks_bad(t))
                return true;
            if (named(t, "containerspec") && cJSON_IsObject(t) && container_spec_bad(t))
                return true;
            if (named(t, "pluginspec") && cJSON_IsObject(t))
                for (const cJSON *f = t->child; f; f = f->next)
                    if (named(f, "privileges") && nonempty_array(f))
                        return true;
        }
    }
    return false;
}

/* mount options: a comma list; bind or rbind among them */
static bool has_bind_option(const char *o)
{
    char copy[512], *save = NULL;
    snprintf(copy, sizeof(copy), "%s", o);
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (strcasecmp(t, "bind") == 0 || strcasecmp(t, "rbind") == 0)
            return true;
    return false;
}

/* field: "driveropts" (Docker's), "options" (podman's) */
static bool volume_bad(const cJSON *top, const char *field)
{
    for (const cJSON *c = top->child; c; c = c->next) {
        if (!named(c, field) || !cJSON_IsObject(c))
            continue;
        bool bind = false, abs = false;
        for (const cJSON *f = c->child; f; f = f->next) {
            if (!cJSON_IsString(f))
                continue;
            if (named(f, "o") && has_bind_option(f->valuestring))
                bind = true;
            if (named(f, "device") && f->valuestring[0] == '/')
                abs = true;
        }
        if (bind && abs)
            return true;
    }
    return false;
}

/* ---- the strict reader for Podman's libpod bodies ---- */

static bool nonempty_object(const cJSON *c)
{
    return cJSON_IsObject(c) && c->child;
}

static bool abs_string(const cJSON *c)
{
    return cJSON_IsString(c) && c->valuestring[0] == '/';
}

/* slirp4netns options: an allow_host_loopback key whose value is not false */
static bool loopback_asked(const char *opts)
{
    char *copy = strdup(opts), *save = NULL;
    bool asked = false;
    for (char *t = strtok_r(copy, ",", &save); t && !asked; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (eq)
            *eq = '\0';
        asked = strcasecmp(t, "allow_host_loopback") == 0 && !(eq && strcasecmp(eq + 1, "false") == 0);
    }
    free(copy);
    return asked;
}

/* a namespace object whose mode is not one of those that stay apart */
static bool namespace_bad(const cJSON *ns)
{
    static const char *const ok[] = {"", "default", "private", "pod", "none", "bridge", "slirp4netns", "pasta",
                                     "shareable", "auto", "keep-id", "no-map"};
    const cJSON *mode = NULL, *value = NULL;
    for (const cJSON *f = cJSON_IsObject(ns) ? ns->child : NULL; f; f = f->next) {
        if (named(f, "nsmode"))
            mode = f;
        if (named(f, "value"))
            value = f;
    }
    if (!cJSON_IsString(mode))
        return false;
    bool known = false;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        known = known || strcmp(mode->valuestring, ok[i]) == 0;
    if (!known)
        return true;
    return strcmp(mode->valuestring, "slirp4netns") == 0 && cJSON_IsString(value) && loopback_asked(value->valuestring);
}

/* mount options naming host directories (overlay's lowerdir, upperdir, workdir) */
static bool overlay_dirs(const cJSON *opts)
{
    bool dirs = false;
    for (const cJSON *e = cJSON_IsArray(opts) ? opts->child : NULL; e && !dirs; e = e->next) {
        char *copy, *save = NULL;
        if (!cJSON_IsString(e))
            continue;
        copy = strdup(e->valuestring);
        for (char *t = strtok_r(copy, ",", &save); t && !dirs; t = strtok_r(NULL, ",", &save))
            dirs = strncasecmp(t, "lowerdir=", 9) == 0 || strncasecmp(t, "upperdir=", 9) == 0 ||
                   strncasecmp(t, "workdir=", 8) == 0;
        free(copy);
    }
    return dirs;
}

/* entries (mounts, overlay_volumes; sources: named volumes have none): an
 * absolute source or overlay directories in the options */
static bool entries_bind(const cJSON *list, bool sources)
{
    for (const cJSON *m = cJSON_IsArray(list) ? list->child : NULL; m; m = m->next)
        for (const cJSON *f = cJSON_IsObject(m) ? m->child : NULL; f; f = f->next)
            if ((sources && named(f, "source") && abs_string(f)) || (named(f, "options") && overlay_dirs(f)))
                return true;
    return false;
}

/* a timezone that climbs out of the zoneinfo directory, resolved as a path */
static bool timezone_leaves(const char *tz)
{
    char path[8192] = "/usr/share/zoneinfo", *copy = strdup(tz), *save = NULL;
    bool leaves = false;
    for (char *t = strtok_r(copy, "/", &save); t && !leaves; t = strtok_r(NULL, "/", &save)) {
        if (strcmp(t, "..") == 0) {
            char *slash = strrchr(path, '/');
            if (slash)
                *slash = '\0';
        } else if (strcmp(t, ".") != 0) {
            strcat(path, "/");
            strcat(path, t);
        }
        leaves = strncmp(path, "/usr/share/zoneinfo", 19) != 0;
    }
    free(copy);
    return leaves;
}

/* an OCI resources object with device cgroup rules in it */
static bool device_rules(const cJSON *resources)
{
    for (const cJSON *f = cJSON_IsObject(resources) ? resources->child : NULL; f; f = f->next)
        if (named(f, "devices") && nonempty_array(f))
            return true;
    return false;
}

/* the fields a container and a pod share (nns: a pod has no cgroupns) */
static bool libpod_common_bad(const cJSON *c, size_t nns)
{
    static const char *const ns[] = {"netns", "pidns", "ipcns", "utsns", "userns", "cgroupns"};
    for (size_t i = 0; i < nns; i++)
        if (named(c, ns[i]) && namespace_bad(c))
            return true;
    if (named(c, "network_options") && cJSON_IsObject(c))
        for (const cJSON *m = c->child; m; m = m->next) {
            if (m->string && strcasecmp(m->string, "pasta") == 0 && nonempty_array(m))
                return true;
            for (const cJSON *e = m->string && strcasecmp(m->string, "slirp4netns") == 0 && cJSON_IsArray(m) ? m->child
                                                                                                             : NULL;
                 e; e = e->next)
                if (cJSON_IsString(e) && loopback_asked(e->valuestring))
                    return true;
        }
    if (named(c, "sysctl") && nonempty_object(c))
        return true;
    if (named(c, "resource_limits") && device_rules(c))
        return true;
    return (named(c, "mounts") && entries_bind(c, true)) || (named(c, "overlay_volumes") && entries_bind(c, true)) ||
           (named(c, "volumes") && entries_bind(c, false)) || (named(c, "volumes_from") && nonempty_array(c));
}

static bool libpod_create_bad(const cJSON *top)
{
    static const char *const lists[] = {"cap_add", "unmask", "devices", "device_cgroup_rule", "devices_from",
                                        "host_device_list", "gpus"};
    static const char *const files[] = {"rootfs", "init_path", "conmon_pid_file", "base_hosts_file"};
    for (const cJSON *c = top->child; c; c = c->next) {
        if (libpod_common_bad(c, 6) || (named(c, "privileged") && cJSON_IsTrue(c)))
            return true;
        if (named(c, "oci_runtime") && cJSON_IsString(c) && strchr(c->valuestring, '/'))
            return true;
        for (size_t i = 0; i < 7; i++)
            if (named(c, lists[i]) && nonempty_array(c))
                return true;
        for (size_t i = 0; i < 4; i++)
            if (named(c, files[i]) && abs_string(c))
                return true;
        if ((named(c, "seccomp_profile_path") || named(c, "apparmor_profile")) && cJSON_IsString(c) &&
            c->valuestring[0])
            return true;
        if (named(c, "seccomp_policy") && cJSON_IsString(c) && c->valuestring[0] &&
            strcasecmp(c->valuestring, "default") != 0)
            return true;
        for (const cJSON *e = named(c, "selinux_opts") && cJSON_IsArray(c) ? c->child : NULL; e; e = e->next)
            if (cJSON_IsString(e) && (strcasecmp(e->valuestring, "disable") == 0 || strncasecmp(e->valuestring, "type:", 5) == 0))
                return true;
        if (named(c, "timezone") && cJSON_IsString(c) && timezone_leaves(c->valuestring))
            return true;
        for (const cJSON *f = named(c, "log_configuration") && cJSON_IsObject(c) ? c->child : NULL; f; f = f->next)
            if (named(f, "path") && abs_string(f))
                return true;
    }
    return false;
}

static bool libpod_pod_bad(const cJSON *top)
{
    for (const cJSON *c = top->child; c; c = c->next) {
        if (libpod_common_bad(c, 5) || (named(c, "pod_devices") && nonempty_array(c)))
            return true;
        if ((named(c, "infra_conmon_pid_file") || named(c, "hostsfile")) && abs_string(c))
            return true;
        for (const cJSON *e = named(c, "security_opt") && cJSON_IsArray(c) ? c->child : NULL; e; e = e->next)
            if (cJSON_IsString(e) && (security_opt_bad(e->valuestring) || strncasecmp(e->valuestring, "unmask=", 7) == 0))
                return true;
    }
    return false;
}

static bool libpod_update_bad(const cJSON *top)
{
    if (device_rules(top))
        return true;
    for (const cJSON *c = top->child; c; c = c->next)
        if (named(c, "resources") && device_rules(c))
            return true;
    return false;
}

static bool strict_refuses(body_kind kind, const cJSON *top)
{
    if (kind == BODY_PLUGIN_PRIVILEGES)
        return nonempty_array(top);
    if (!cJSON_IsObject(top))
        return false;
    switch (kind) {
    case BODY_CONTAINER_CREATE:
        if (hostconfig_bad(top))
            return true;
        for (const cJSON *c = top->child; c; c = c->next) {
            if (named(c, "hostconfig") && cJSON_IsObject(c) && hostconfig_bad(c))
                return true;
            if (named(c, "networkingconfig") && cJSON_IsObject(c))
                for (const cJSON *e = c->child; e; e = e->next)
                    if (named(e, "endpointsconfig") && cJSON_IsObject(e))
                        for (const cJSON *n = e->child; n; n = n->next)
                            if (n->string && strcasecmp(n->string, "host") == 0)
                                return true;
        }
        return false;
    case BODY_CONTAINER_UPDATE:
    case BODY_CONTAINER_START:
        return hostconfig_bad(top);
    case BODY_EXEC_CREATE:
        for (const cJSON *c = top->child; c; c = c->next)
            if (named(c, "privileged") && cJSON_IsTrue(c))
                return true;
        return false;
    case BODY_SERVICE:
        return service_bad(top);
    case BODY_VOLUME_CREATE:
        return volume_bad(top, "driveropts");
    case BODY_LIBPOD_CREATE:
        return libpod_create_bad(top);
    case BODY_LIBPOD_POD:
        return libpod_pod_bad(top);
    case BODY_LIBPOD_UPDATE:
        return libpod_update_bad(top);
    case BODY_LIBPOD_VOLUME:
        return volume_bad(top, "options");
    default:
        return false;
    }
}

/* ---- the target ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* the JSON kinds: BODY_CONTAINER_CREATE .. BODY_LIBPOD_POD (the existing seeds' bytes 0..6 keep their kind) */
    body_kind kind = (body_kind)(1 + data[0] % BODY_LIBPOD_POD);
    const char *body = (const char *)data + 1;
    size_t len = size - 1;

    static body_policy deny, open;
    static bool ready;
    if (!ready) {
        char err[256];
        memset(&deny, 0, sizeof(deny));
        memset(&open, 0, sizeof(open));
        open.privileged = open.host_namespaces = open.capabilities = open.devices = true;
        if (body_policy_binds(&open, "ALLOW_BINDS", "/", err, sizeof(err)) != 0)
            __builtin_trap();
        strcpy(deny.upstream, "/var/run/docker.sock");
        strcpy(open.upstream, "/var/run/docker.sock");
        ready = true;
    }

    body_verdict v;
    body_judge(&open, kind, body, len, &v);
    if (!(v.status == 0 || v.status == 400 || (v.status == 403 && v.var && strcmp(v.var, "ALLOW_BINDS") == 0)))
        __builtin_trap(); /* everything open: only the Docker socket is still refused */
    int open_status = v.status;

    body_judge(&deny, kind, body, len, &v);
    if (v.status != 0 && v.status != 400 && v.status != 403)
        __builtin_trap();
    if ((v.status == 403) != (v.var != NULL) || (v.status != 0 && v.why[0] == '\0'))
        __builtin_trap();
    if (v.status == 0 && open_status != 0)
        __builtin_trap(); /* opening variables never refuses more */
    if (v.status != 0 || len == 0)
        return 0;

    cJSON *top = cJSON_ParseWithLength(body, len);
    if (!top)
        __builtin_trap(); /* the judge allowed what does not parse */
    if (strict_refuses(kind, top))
        __builtin_trap();
    cJSON_Delete(top);
    return 0;
}
