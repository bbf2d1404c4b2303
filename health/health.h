/* `socket-proxy healthcheck`: GET /_ping through the proxy, exit 0 on 200. */
#ifndef HEALTH_HEALTH_H
#define HEALTH_HEALTH_H

#include "core/profiles.h"

/* argv[0] is "healthcheck", its options follow (--profile NAME checks
 * through that profile's socket). A TCP address is checked over TLS when
 * cfg has TLS on (SOCKET_PROXY_TLS_*). Returns the process exit code: 0
 * healthy, 1 unhealthy (one line on stderr says why), 2 bad usage. */
int health_main(const config *cfg, const profiles *ps, int argc, char **argv);

#endif
