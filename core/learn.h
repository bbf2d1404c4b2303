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

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rules/rules.h"

#define LEARN_MAX_CLIENTS 64
#define LEARN_MAX_NEEDS 256
#define LEARN_EXAMPLES 3

typedef struct learn learn;

/* prefixes[0..n): each profile's variable prefix ("" for the default
 * profile, "TRAEFIK__"), names[0..n) its name for the report ("" default). */
learn *learn_new(int n, const char *const *names, const char *const *prefixes);
void learn_free(learn *l);

/* One request that the path rules decided (allowed, or denied and forwarded
 * in learn mode): it needed all of `need`, or all of `need_alt` when that is
 * non-zero (rules_verdict's need and need_alt). client: "uid=1000" for a
 * Unix peer, the address for TCP ("10.0.0.5"). method and target for the
 * examples. */
void learn_note(learn *l, int profile, const char *client, rules_mask need, rules_mask need_alt, const char *method,
                const char *target);

/* The body variables a judged request body used (rules/body.c reports them):
 * bits of RV_ALLOW_PRIVILEGED .. RV_ALLOW_DEVICES in `vars`, and the host
 * paths it bound (ALLOW_BINDS), each cleaned. */
void learn_note_body(learn *l, int profile, const char *client, rules_mask vars, const char *const *binds,
                     int nbinds);

/* The report: per profile and client, the least variables (those whose
 * default already grants, and tri-state ones that follow a chosen
 * variable, are left out), each with the first requests that needed it. A
 * malloc'd NUL-terminated text, its length in *len; NULL when memory is
 * short. */
char *learn_report(const learn *l, size_t *len);

/* `socket-proxy learn LOGFILE`: reads an access log (text or JSON lines, as
 * LOG_FORMAT writes them; other lines are skipped), notes each request's
 * rule column, and writes the report to out. Returns 0, or -1 with one
 * line in err. */
int learn_from_log(const char *path, FILE *out, char *err, size_t errlen);

#endif
