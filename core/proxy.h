/* One client connection and its upstream: the HTTP/1.1 state machine. */
#ifndef CORE_PROXY_H
#define CORE_PROXY_H

#include "server.h"

/* Accepts one pending connection on l (refusing it with 503 at the limit). */
void proxy_accept(listener *l);

/* Shutdown: close idle connections and long-lived streams now; the others
 * close when their current response ends. */
void proxy_drain(server *s);

/* Grace period over: close everything. */
void proxy_close_all(server *s);

#endif
