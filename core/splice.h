/* Zero-copy forwarding (Linux splice(2)): bytes go from one socket into a
 * pipe and from the pipe into the other socket without passing through user
 * space. The proxy uses it for the long runs it does not need to see: a
 * Content-Length body past its head, and either direction of a tunnel, in
 * clear text. The pipe is the only buffer: it holds at most `cap` bytes, so
 * a slow reader bounds memory as the proxy's own buffers do.
 *
 * Elsewhere than Linux, splice_pipe_open fails and the caller keeps its
 * read/write path. */
#ifndef CORE_SPLICE_H
#define CORE_SPLICE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
    int rd, wr;  /* the pipe's ends, -1 when closed */
    size_t held; /* bytes in the pipe, taken from the source, not yet given to the sink */
    size_t cap;  /* what the pipe holds at most */
} splice_pipe;

/* Opens a non-blocking pipe of about `want` bytes (the kernel's default when
 * it refuses more). Returns 0 or -errno (-ENOSYS without splice). */
int splice_pipe_open(splice_pipe *p, size_t want);

/* Moves at most `most` bytes (and no more than the pipe has room for) from
 * the socket fd into the pipe. Returns the bytes moved, 0 at the socket's
 * EOF, or -errno (-EAGAIN: nothing to read now, or no room). */
ssize_t splice_fill(splice_pipe *p, int fd, size_t most);

/* Moves what the pipe holds into the socket fd. Returns the bytes moved or
 * -errno (-EAGAIN: the socket takes nothing now). */
ssize_t splice_drain(splice_pipe *p, int fd);

void splice_pipe_close(splice_pipe *p);

#endif
