/* Process duties. See sys.h. */
#include "sys.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

#define NOFILE_MAX (1u << 20)

size_t sys_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > NOFILE_MAX ? NOFILE_MAX : rl.rlim_max;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur == RLIM_INFINITY ? NOFILE_MAX : (size_t)rl.rlim_cur;
}

void sys_reap_children(void)
{
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

int sys_drop_privileges(const config *cfg, char *err, size_t errlen)
{
    if (geteuid() == 0 && (cfg->uid != 0 || cfg->gid != 0)) {
        gid_t groups[2];
        int n = 0;
        struct stat st;
        if (stat(cfg->upstream, &st) == 0 && st.st_gid != cfg->gid)
            groups[n++] = st.st_gid;
        groups[n++] = cfg->gid;
        if (setgroups((size_t)n, groups) != 0 || setgid(cfg->gid) != 0 || setuid(cfg->uid) != 0) {
            snprintf(err, errlen, "cannot switch to SOCKET_PROXY_UID=%u SOCKET_PROXY_GID=%u: %s", (unsigned)cfg->uid,
                     (unsigned)cfg->gid, strerror(errno));
            return -1;
        }
        if (n == 2)
            log_msg(LOG_INFO, "running as uid %u gid %u, with group %u of %s", (unsigned)cfg->uid, (unsigned)cfg->gid,
                    (unsigned)groups[0], cfg->upstream);
        else
            log_msg(LOG_INFO, "running as uid %u gid %u", (unsigned)cfg->uid, (unsigned)cfg->gid);
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
        return -1;
    }
    return 0;
}

bool sys_cgroups_v1(void)
{
    /* dockerd asks the same question the same way (a cgroup2 file system at
     * /sys/fs/cgroup means the unified hierarchy; hybrid counts as v1). The
     * daemon's socket is a Unix socket, so its kernel is ours. Unknown: v2,
     * the stricter answer. */
    struct statfs st;
    return statfs("/sys/fs/cgroup", &st) == 0 && st.f_type != 0x63677270 /* CGROUP2_SUPER_MAGIC */;
}

int sys_unix_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int sys_check_upstream(const config *cfg, char *err, size_t errlen)
{
    /* Non-blocking: a daemon with a full backlog must not hang start-up. */
    int fd = sys_unix_connect(cfg->upstream);
    if (fd >= 0)
        close(fd);
    int e = fd >= 0 ? 0 : -fd;
    if (e == 0 || e == EAGAIN)
        return 0;
    if (e != EACCES && e != EPERM) {
        log_msg(LOG_WARNING, "the Docker daemon at %s is not reachable yet (%s); requests get 502 until it is",
                cfg->upstream, strerror(e));
        return 0;
    }
    struct stat st;
    if (stat(cfg->upstream, &st) != 0) {
        snprintf(err, errlen, "cannot open %s: %s", cfg->upstream, strerror(e));
        return -1;
    }
    snprintf(err, errlen,
             "cannot open the Docker socket %s as uid %u gid %u: it is owned by uid %u gid %u with mode %04o; "
             "in compose, add `group_add: [\"%u\"]` to this service (or set `user: \"%u:%u\"`, or SOCKET_PROXY_GID=%u)",
             cfg->upstream, (unsigned)geteuid(), (unsigned)getegid(), (unsigned)st.st_uid, (unsigned)st.st_gid,
             (unsigned)(st.st_mode & 07777), (unsigned)st.st_gid, (unsigned)geteuid(), (unsigned)st.st_gid,
             (unsigned)st.st_gid);
    return -1;
}
