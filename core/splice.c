/* Zero-copy forwarding through a pipe. See splice.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "splice.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#ifdef __linux__

int splice_pipe_open(splice_pipe *p, size_t want)
{
    int fds[2];
    p->rd = p->wr = -1;
    p->held = 0;
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
        return -errno;
    p->rd = fds[0];
    p->wr = fds[1];
    /* A larger pipe moves more per call; past the per-user pipe budget the
     * kernel refuses, and the default size (64 KiB) serves. */
    int cap = fcntl(p->wr, F_SETPIPE_SZ, (int)want);
    if (cap < 0)
        cap = fcntl(p->wr, F_GETPIPE_SZ);
    /* Past that budget a new pipe may hold a single page. */
    p->cap = cap > 0 ? (size_t)cap : 4096;
    return 0;
}

ssize_t splice_fill(splice_pipe *p, int fd, size_t most)
{
    size_t room = p->cap - p->held;
    size_t n = most < room ? most : room;
    if (n == 0)
        return -EAGAIN;
    ssize_t k = splice(fd, NULL, p->wr, NULL, n, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (k < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    p->held += (size_t)k;
    return k;
}

ssize_t splice_drain(splice_pipe *p, int fd)
{
    if (p->held == 0)
        return 0;
    ssize_t k = splice(p->rd, NULL, fd, NULL, p->held, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (k < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    p->held -= (size_t)k;
    return k;
}

#else

int splice_pipe_open(splice_pipe *p, size_t want)
{
    (void)want;
    p->rd = p->wr = -1;
    p->held = p->cap = 0;
    return -ENOSYS;
}

ssize_t splice_fill(splice_pipe *p, int fd, size_t most)
{
    (void)p, (void)fd, (void)most;
    return -ENOSYS;
}

ssize_t splice_drain(splice_pipe *p, int fd)
{
    (void)p, (void)fd;
    return -ENOSYS;
}

#endif

void splice_pipe_close(splice_pipe *p)
{
    if (p->rd >= 0)
        close(p->rd);
    if (p->wr >= 0)
        close(p->wr);
    p->rd = p->wr = -1;
    p->held = 0;
}
