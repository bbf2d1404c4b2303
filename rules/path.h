/* Request-target to the path dockerd routes on. Pure, no allocation. */
#ifndef RULES_PATH_H
#define RULES_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* Turns an origin-form target into the path dockerd's router acts on: the
 * query is dropped, percent-escapes are decoded (Go's URL.Path), and dot
 * segments and repeated slashes are cleaned as gorilla/mux's cleanPath does
 * (the daemon answers an unclean path with a redirect to the clean one, which
 * the client then sends as a new request). A trailing slash is kept.
 *
 * Writes at most `cap` bytes to out (cap >= tlen + 1 always suffices) and
 * NUL-terminates. Returns the length, or -1 with *why set when the target is
 * ambiguous: bad escapes, decoded control bytes, not starting with '/'. */
long path_normalize(const char *target, size_t tlen, char *out, size_t cap, const char **why);

/* Length of an API version prefix "/v[0-9.]+" at the start of path, when a
 * further '/' follows it; 0 otherwise. */
size_t path_version_prefix(const char *path, size_t len);

#endif
