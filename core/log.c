/* Logging. See log.h. */
#include "log.h"

#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int log_level = LOG_INFO;
static bool log_json;

const char *const log_level_names[8] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};

const char *log_hostport(char *out, size_t n, const char *host, int port)
{
    snprintf(out, n, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    return out;
}

void log_setup(int level, bool json)
{
    log_level = level;
    log_json = json;
}

bool log_enabled(int level) { return level <= log_level; }

static void timestamp(char *out, size_t cap)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, cap - n, ".%03dZ", (int)(tv.tv_usec / 1000));
}

/* One write(2) per line, so lines from one process never interleave. */
static void emit(const char *line, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, line, n);
        if (w <= 0)
            return;
        line += w;
        n -= (size_t)w;
    }
}

static void emit_json(cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    if (s) {
        size_t n = strlen(s);
        s[n] = '\n'; /* replaces the NUL; emit does not need it */
        emit(s, n + 1);
        cJSON_free(s);
    }
    cJSON_Delete(o);
}

void log_msg(int level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    char msg[1024], ts[40];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    timestamp(ts, sizeof(ts));
    if (log_json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "time", ts);
        cJSON_AddStringToObject(o, "level", log_level_names[level]);
        cJSON_AddStringToObject(o, "msg", msg);
        emit_json(o);
        return;
    }
    char line[1200];
    int n = snprintf(line, sizeof(line), "%s socket-proxy %s: %s\n", ts, log_level_names[level], msg);
    emit(line, n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* For the text format: the quoted "METHOD TARGET" field must read back to
 * exactly what the client sent, so '"' and '\\' are escaped with a backslash
 * and every byte outside printable ASCII as \xHH. */
static void escape(char *out, size_t cap, const char *in)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && n + 5 < cap; p++) {
        if (*p == '"' || *p == '\\') {
            out[n++] = '\\';
            out[n++] = (char)*p;
        } else if (*p < 0x20 || *p > 0x7e) {
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        } else {
            out[n++] = (char)*p;
        }
    }
    out[n] = '\0';
}

void log_access(const log_access_entry *e)
{
    if (!log_enabled(LOG_INFO))
        return;
    char ts[40];
    timestamp(ts, sizeof(ts));
    if (log_json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "time", ts);
        cJSON_AddStringToObject(o, "level", "info");
        cJSON_AddStringToObject(o, "client", e->client);
        if (e->profile)
            cJSON_AddStringToObject(o, "profile", e->profile);
        if (e->cert)
            cJSON_AddStringToObject(o, "cert", e->cert);
        cJSON_AddStringToObject(o, "method", e->method);
        cJSON_AddStringToObject(o, "target", e->target);
        cJSON_AddStringToObject(o, "decision", e->decision);
        cJSON_AddStringToObject(o, "rule", e->rule);
        cJSON_AddNumberToObject(o, "status", e->status);
        cJSON_AddNumberToObject(o, "bytes", (double)e->bytes);
        cJSON_AddNumberToObject(o, "ms", (double)(int64_t)(e->ms * 1000) / 1000.0);
        emit_json(o);
        return;
    }
    char line[2200 + 4 * 256], method[4 * 16], target[4 * 256 + 4], cert[4 * 256 + 16] = "";
    escape(method, sizeof(method), e->method);
    escape(target, sizeof(target), e->target);
    if (e->cert) {
        memcpy(cert, " cert=\"", 7);
        escape(cert + 7, sizeof(cert) - 8, e->cert);
        strcat(cert, "\"");
    }
    int n = snprintf(line, sizeof(line), "%s %s%s%s%s%s \"%s %s\" %s (%s) %d %llu %.3fms\n", ts, e->client, cert,
                     e->profile ? " [" : "", e->profile ? e->profile : "", e->profile ? "]" : "", method, target,
                     e->decision, e->rule, e->status, (unsigned long long)e->bytes, e->ms);
    emit(line, n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1);
}
