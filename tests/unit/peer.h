/* A peer's socket address from its text ("10.0.0.5", "::ffff:10.0.0.5"),
 * as accept would give it, for the admission tests. */
#ifndef TESTS_PEER_H
#define TESTS_PEER_H

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

/* Fills ss; returns its length, 0 when text is no address. IPv6 when text
 * has a colon. */
static inline socklen_t make_peer(const char *text, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (strchr(text, ':')) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(4711);
        return inet_pton(AF_INET6, text, &a6->sin6_addr) == 1 ? sizeof(*a6) : 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons(4711);
    return inet_pton(AF_INET, text, &a4->sin_addr) == 1 ? sizeof(*a4) : 0;
}

#endif
