/* Profiles: one proxy, a socket and a rule set per client.
 *
 * SOCKET_PROXY_PROFILES=traefik,watchtower names the profiles. Profile
 * `traefik` reads every rules variable, API_KEY and its own server
 * variables with the prefix TRAEFIK__ (upper case, '-' as '_'), never the
 * unprefixed ones, and listens on $SOCKET_PROXY_VOLUME/traefik/docker.sock
 * (or TRAEFIK__SOCKET_PROXY_VOLUME), optionally on TCP too. The unprefixed
 * variables make the default profile: today's socket and TCP listener. */
#ifndef CORE_PROFILES_H
#define CORE_PROFILES_H

#include <string.h>

#include "admit.h"
#include "config.h"
#include "rules/rules.h"

#define PROFILES_MAX 16
#define PROFILE_NAME_MAX 31
#define PROFILE_TLS_CLIENTS 8     /* names in one NAME__TLS_CLIENT */
#define PROFILE_TLS_CLIENT_MAX 127

/* A profile's variable prefix: "traefik" -> "TRAEFIK__" (upper case, '-' as
 * '_'); out holds n + 3 bytes. The names are checked before (a-z 0-9 - _). */
static inline void profile_prefix(const char *name, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = name[i] == '-' ? '_' : (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    memcpy(out + n, "__", 3);
}

/* The variables a profile may set besides the rules variables and API_KEY,
 * without the prefix (NULL-terminated). */
extern const char *const profile_var_names[];

typedef struct profile {
    char name[PROFILE_NAME_MAX + 1]; /* "traefik"; "" for the default profile */
    char prefix[PROFILE_NAME_MAX + 3]; /* "TRAEFIK__"; "" for the default profile */
    char unix_path[108];             /* its socket; "" for none */
    char volume[108];
    config_listen listen[CONFIG_MAX_LISTEN];
    int nlisten;
    uid_t uid;                       /* owner and mode of its socket */
    gid_t gid;
    mode_t socket_mode;
    rules_set rules;
    admit_from *allow_from;          /* TCP peers it admits; NULL: anyone */
    char from_var[PROFILE_NAME_MAX + 48]; /* "TRAEFIK__ALLOW_FROM", for the log */
    admit_ids peers;                 /* Unix peers it admits; none listed: anyone */
    char peers_var[PROFILE_NAME_MAX + 48]; /* "TRAEFIK__PEER_UIDS", for the 403 */
    /* NAME__TLS_CLIENT (SOCKET_PROXY_TLS_CLIENT for the default profile):
     * client certificates (by CN or subject alternative name) that get this
     * profile on any TLS listener; on its own listeners, only they get in */
    char tls_client[PROFILE_TLS_CLIENTS][PROFILE_TLS_CLIENT_MAX + 1];
    int ntls_client;
} profile;

typedef struct profiles {
    profile p[PROFILES_MAX + 1]; /* [0] is the default profile */
    int n;                       /* 1 + the named profiles */
    const char *names_text;      /* SOCKET_PROXY_PROFILES as given, or "" */
} profiles;

/* Reads the default profile (from cfg and the unprefixed variables) and
 * every named profile. Returns 0, or -1 with one line in err naming the
 * variable and what it accepts. */
int profiles_load(profiles *ps, const config *cfg, const char *(*get)(const char *name), char *err, size_t errlen);

/* The profile called name ("" or "default": the default one), or NULL. */
const profile *profiles_find(const profiles *ps, const char *name);

/* The profile a verified client certificate chooses: the one whose
 * TLS_CLIENT (SOCKET_PROXY_TLS_CLIENT for the default profile) lists a name
 * `is` says the certificate bears; NULL for none. A certificate bearing the
 * names of two profiles chooses neither: *also is then the second (and the
 * caller refuses it), else NULL. */
const profile *profiles_by_certificate(const profiles *ps, bool (*is)(const void *cert, const char *name),
                                       const void *cert, const profile **also);

/* The name the logs use: the profile's, "default" for the default profile
 * when there are named ones, NULL when there are none. */
const char *profile_log_name(const profiles *ps, const profile *p);

/* Frees what profiles_load allocated (the admission lists). */
void profiles_free(profiles *ps);

#endif
