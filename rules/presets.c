/* Presets: the variables an application behind the proxy needs, as
 * defaults that explicit variables override. Each preset is backed by a
 * replay of that application's own calls through the proxy, with the client
 * library it is built on (tests/integration/test_presets.py): every call it
 * makes must pass, and the calls it does not need must be refused. */
#include <stdio.h>
#include <string.h>

#include "rules.h"

typedef struct {
    const char *name;
    const char *what;
    const char *vars; /* "NAME=1 NAME=0 ...": the preset's values */
} preset;

/* Least privilege: a preset grants what its replay needs and no more. Where
 * the application does not read logs, top or changes, ALLOW_LOGS, ALLOW_TOP
 * and ALLOW_CHANGES are 0 (they would follow CONTAINERS); where it does not
 * watch events, EVENTS=0. The README's Presets table lists these values
 * (tests/integration/test_presets.py checks it against this table). */
static const preset presets[] = {
    {"traefik", "Traefik's Docker provider: lists, inspects and watches containers",
     "CONTAINERS=1 ALLOW_LOGS=0 ALLOW_TOP=0 ALLOW_CHANGES=0"},
    {"traefik-swarm", "Traefik's Swarm provider: services, tasks, nodes and networks, polled, read only",
     "SERVICES=1 TASKS=1 NODES=1 NETWORKS=1 EVENTS=0"},
    {"watchtower", "Watchtower: pulls images, recreates containers, removes old images; lifecycle hooks need EXEC=1",
     "CONTAINERS=1 IMAGES=1 NETWORKS=1 POST=1 EVENTS=0 ALLOW_LOGS=0 ALLOW_TOP=0 ALLOW_CHANGES=0"},
    {"dozzle", "Dozzle: containers, logs, stats and events, read only; its actions and shell need more",
     "CONTAINERS=1 INFO=1 ALLOW_TOP=0 ALLOW_CHANGES=0"},
    {"homepage", "Homepage's Docker widget: container status and stats, read only",
     "CONTAINERS=1 EVENTS=0 ALLOW_LOGS=0 ALLOW_TOP=0 ALLOW_CHANGES=0"},
    {"portainer", "Portainer: the whole Docker API it manages, writes, exec, builds and downloads included",
     "CONTAINERS=1 IMAGES=1 NETWORKS=1 VOLUMES=1 INFO=1 POST=1 EXEC=1 SERVICES=1 TASKS=1 NODES=1 SWARM=1 "
     "SECRETS=1 CONFIGS=1 PLUGINS=1 SYSTEM=1 BUILD=1 COMMIT=1 AUTH=1 ALLOW_ARCHIVE=1 ALLOW_EXPORT=1"},
    {"autoheal", "autoheal: lists unhealthy containers and restarts them",
     "CONTAINERS=1 ALLOW_RESTARTS=1 EVENTS=0 ALLOW_LOGS=0 ALLOW_TOP=0 ALLOW_CHANGES=0"},
    {"uptime-kuma", "Uptime Kuma's Docker monitor: container state, read only",
     "CONTAINERS=1 EVENTS=0 ALLOW_LOGS=0 ALLOW_TOP=0 ALLOW_CHANGES=0"},
    {"compose", "docker-compose: up, ps, logs, top, stop, start and down of a project with its networks and "
                "volumes; exec and build need more",
     "CONTAINERS=1 IMAGES=1 NETWORKS=1 VOLUMES=1 INFO=1 POST=1"},
    {"read-only",
     "every Docker API GET except exports, archives, image downloads, secrets, configs and the swarm unlock key",
     "CONTAINERS=1 IMAGES=1 NETWORKS=1 VOLUMES=1 INFO=1 EXEC=1 SERVICES=1 TASKS=1 NODES=1 SWARM=1 PLUGINS=1 "
     "SYSTEM=1 DISTRIBUTION=1 POST=0 ALLOW_ARCHIVE=0 ALLOW_EXPORT=0 SECRETS=0 CONFIGS=0"},
};
#define NPRESETS ((int)(sizeof(presets) / sizeof(presets[0])))

int rules_preset_count(void) { return NPRESETS; }
const char *rules_preset_name(int p) { return p >= 0 && p < NPRESETS ? presets[p].name : NULL; }
const char *rules_preset_what(int p) { return p >= 0 && p < NPRESETS ? presets[p].what : NULL; }
const char *rules_preset_vars(int p) { return p >= 0 && p < NPRESETS ? presets[p].vars : NULL; }

int rules_preset_find(const char *name)
{
    for (int p = 0; p < NPRESETS; p++)
        if (strcmp(presets[p].name, name) == 0)
            return p;
    return -1;
}

int rules_preset_value(int p, int var)
{
    const char *name = rules_var_name(var);
    if (p < 0 || p >= NPRESETS || !name)
        return -1;
    size_t n = strlen(name);
    for (const char *s = presets[p].vars; (s = strstr(s, name)) != NULL; s += n) {
        bool starts = s == presets[p].vars || s[-1] == ' ';
        if (starts && s[n] == '=')
            return s[n + 1] == '1';
    }
    return -1;
}

size_t rules_preset_list(char *out, size_t cap)
{
    size_t n = 0;
    for (int p = 0; p < NPRESETS && cap; p++) {
        int w = snprintf(out + n, cap - n, "%s%s", p ? ", " : "", presets[p].name);
        n += w > 0 ? (size_t)w : 0;
        if (n >= cap) {
            n = cap - 1;
            break;
        }
    }
    return n;
}
