/* Reading JSON the way Go's encoding/json reads it: see gojson.h. */
#include "rules/gojson.h"

#include <stdint.h>
#include <string.h>

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

bool gojson_key_is(const char *key, const char *name)
{
    const unsigned char *k = (const unsigned char *)key;
    for (; *name; name++) {
        char n = lower(*name);
        if (*k < 0x80 && *k && lower((char)*k) == n) {
            k++;
        } else if (n == 's' && k[0] == 0xC5 && k[1] == 0xBF) {
            k += 2;
        } else if (n == 'k' && k[0] == 0xE2 && k[1] == 0x84 && k[2] == 0xAA) {
            k += 3;
        } else {
            return false;
        }
    }
    return *k == 0;
}

bool gojson_clean_bytes(const unsigned char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101u;
    for (size_t i = 0; i < n;) {
        if (n - i >= 8) {
            /* Eight bytes at a time while none is past 0x7F (w's high bits)
             * or below 0x20 (w - 0x20 in each byte borrows: the lowest such
             * byte comes out with its high bit set): a judged body is mostly
             * printable ASCII, and the byte loop below reads it 8 times slower
             * (issue 15). A word with anything else goes to the loop. */
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (((w | (w - ones * 0x20)) & ones * 0x80) == 0) {
                i += 8;
                continue;
            }
        }
        unsigned c = s[i];
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                return false;
            i++;
            continue;
        }
        size_t len;
        unsigned cp, min;
        if (c >= 0xC2 && c <= 0xDF)
            len = 2, cp = c & 0x1F, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF)
            len = 3, cp = c & 0x0F, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4)
            len = 4, cp = c & 0x07, min = 0x10000;
        else
            return false;
        if (i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

int gojson_field(const cJSON *obj, const char *name, const cJSON **out)
{
    const cJSON *found = NULL;
    *out = NULL;
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (!c->string || !gojson_key_is(c->string, name))
            continue;
        if (found)
            return -1;
        found = c;
    }
    if (found && !cJSON_IsNull(found))
        *out = found;
    return 0;
}

cJSON *gojson_parse(const char *text, size_t len, const char **why)
{
    if (!gojson_clean_bytes((const unsigned char *)text, len)) {
        *why = "is not valid UTF-8 JSON text";
        return NULL;
    }
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        *why = "starts with a byte order mark";
        return NULL;
    }
    if (memmem(text, len, "\\u0000", 6)) {
        *why = "holds a \\u0000 escape";
        return NULL;
    }
    const char *end = NULL;
    cJSON *top = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!top) {
        *why = "is not JSON";
        return NULL;
    }
    for (const char *e = end; e && e < text + len; e++)
        if (*e != ' ' && *e != '\t' && *e != '\n' && *e != '\r') {
            cJSON_Delete(top);
            *why = "holds more than one JSON value";
            return NULL;
        }
    return top;
}
