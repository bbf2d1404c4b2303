/* Learn mode (SOCKET_PROXY_MODE=learn): what each client did, kept as the
 * variables that covered each request, and reported as the least set of
 * variables per client that would have allowed everything seen, as
 * ready-to-paste compose `environment:` lines (a profile's names prefixed).
 * The same report is computed from a saved access log by `socket-proxy
 * learn LOGFILE`. Bounded: LEARN_MAX_CLIENTS clients per profile (later
 * ones count under "other clients"), LEARN_MAX_NEEDS distinct needs per
 * client, LEARN_EXAMPLES example requests per need. */
#ifndef CORE_LEARN_H
#define CORE_LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rules/rules.h"

#define LEARN_MAX_CLIENTS 64
#define LEARN_MAX_NEEDS 256
#define LEARN_EXAMPLES 3
#define LEARN_MAX_PROFILES 17 /* PROFILES_MAX + the default profile */
#define LEARN_MAX_BINDS 16    /* host paths per client: ALLOW_BINDS holds at most 16 (rules/body.h) */
#define LEARN_LINE_MAX 16384  /* longer access-log lines are skipped */

/* The variables a request body asks for (rules/body.c); ALLOW_BINDS has no
 * bit: it is a list of paths. */
#define LEARN_BODY_VARS                                                                                      \
    (RBIT(RV_ALLOW_PRIVILEGED) | RBIT(RV_ALLOW_HOST_NAMESPACES) | RBIT(RV_ALLOW_CAPABILITIES) |             \
     RBIT(RV_ALLOW_DEVICES))

typedef struct learn learn;

/* prefixes[0..n): each profile's variable prefix ("" for the default
 * profile, "TRAEFIK__"), names[0..n) its name for the report ("" default).
 * n may be 0 (learn_profile then adds profiles as a log names them). NULL
 * when memory is short. */
learn *learn_new(int n, const char *const *names, const char *const *prefixes);
void learn_free(learn *l);

/* The index of the profile an access log calls name ("" or "default": the
 * default profile), added when new with the prefix core/profiles.c derives
 * (upper case, '-' as '_', then "__"). -1 for a name no profile can have,
 * or when LEARN_MAX_PROFILES are known. */
int learn_profile(learn *l, const char *name);

/* That prefix of a profile name into out ("" for "" and "default"); false
 * for a name no profile can have (SOCKET_PROXY_PROFILES's rule) or a short
 * out. */
bool learn_prefix(const char *name, char *out, size_t cap);

/* One request that the path rules decided (allowed, or denied and forwarded
 * in learn mode): it needed all of `need`, or all of `need_alt` when that is
 * non-zero (rules_verdict's need and need_alt; need 0: no variable grants
 * it, listed apart). client: "uid=1000" for a Unix peer, the address for
 * TCP ("10.0.0.5"); cut at 63 bytes. method and target for the examples
 * (escaped and cut in the report; NULL reads "-"). A profile out of range
 * is ignored. */
void learn_note(learn *l, int prof, const char *client, rules_mask need, rules_mask need_alt, const char *method,
                const char *target);

/* The body variables a judged request body used (rules/body.c reports them):
 * bits of RV_ALLOW_PRIVILEGED .. RV_ALLOW_DEVICES in `vars` (other bits are
 * ignored), and the host paths it bound (ALLOW_BINDS), each cleaned.
 * nbinds -1: it bound host paths the caller cannot name (an access log's
 * ALLOW_BINDS refusal); the report says so instead of a path. */
void learn_note_body(learn *l, int prof, const char *client, rules_mask vars, const char *const *binds,
                     int nbinds);

/* The report: per profile and client, the least variables (a greedy set
 * cover, see core/learn.c; those whose default already grants, and
 * tri-state ones that follow a chosen variable, are left out), each with
 * the first requests that needed it. Printable ASCII only: "#" comment
 * lines (a title "# profile traefik, client 10.0.0.5: 152 requests" per
 * block, notes "#   ...") and items "      - TRAEFIK__CONTAINERS=1  # ..."
 * to paste into compose's environment list; a profile with several clients
 * ends with a block for all of them. A malloc'd NUL-terminated text, its
 * length in *len; NULL when memory is short. l NULL: an empty report. */
char *learn_report(const learn *l, size_t *len);

/* Reading a saved access log (core/learn_log.c). */
typedef struct learn_log_stats {
    uint64_t lines;   /* lines read */
    uint64_t noted;   /* requests noted */
    uint64_t skipped; /* non-empty lines that were no request to learn from */
} learn_log_stats;

/* Notes every access line of in (text or JSON lines, as LOG_FORMAT writes
 * them) whose decision is allow, deny or learn-allow and whose rule column
 * is a variables text (rules_need_text) or a body variable's refusal; every
 * other line (bad requests, refusals at admission, other log lines,
 * garbage, lines over LEARN_LINE_MAX) is counted as skipped. Never trusts
 * the log: any bytes are read safely. st may be NULL. Returns 0, or -1
 * when in could not be read or memory is short. */
int learn_read_log(learn *l, FILE *in, learn_log_stats *st);

/* `socket-proxy learn LOGFILE` ("-": standard input): learn_read_log, then
 * the report and one closing line of counts written to out. Returns 0, or
 * -1 with one line in err. */
int learn_from_log(const char *path, FILE *out, char *err, size_t errlen);

#endif
