/* Process duties of an init-style entrypoint: file limits, reaping,
 * privileges, and checking that the daemon's socket is reachable. */
#ifndef CORE_SYS_H
#define CORE_SYS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Raises the soft open-files limit toward the hard one (at most 1 << 20) and
 * returns the resulting soft limit. */
size_t sys_raise_nofile(void);

/* Reaps every exited child (we may be PID 1). */
void sys_reap_children(void);

/* As root: supplementary group of the daemon's socket, setgid, setuid (0 keeps
 * root), then no_new_privs. Returns 0 or -1 with err set. */
int sys_drop_privileges(const config *cfg, char *err, size_t errlen);

/* True when the host's cgroups are v1 (or hybrid), where dockerd's default
 * cgroupns mode is "host"; false on v2 (default "private") or when unknown. */
bool sys_cgroups_v1(void);

/* A non-blocking connection to the Unix socket at path: the descriptor, or
 * -errno (-EAGAIN: its listen backlog is full). A Unix connect completes or
 * fails at once, so this never blocks. */
int sys_unix_connect(const char *path);

/* Tries to connect to the daemon's socket. Returns 0 when it answers (or is
 * merely absent or refusing, which heals when the daemon starts), -1 with a
 * message in err when permissions forbid it: that never heals by itself. */
int sys_check_upstream(const config *cfg, char *err, size_t errlen);

#endif
