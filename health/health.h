/* `socket-proxy healthcheck`: GET /_ping through the proxy, exit 0 on 200. */
#ifndef HEALTH_HEALTH_H
#define HEALTH_HEALTH_H

#include "core/config.h"

/* argv after "healthcheck". Returns the process exit code. */
int health_main(const config *cfg, int argc, char **argv);

#endif
