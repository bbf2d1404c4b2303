/* Reading JSON the way Go's encoding/json reads it, for the request-body judge
 * (body.c) and scoping (scope.c): struct field names matched with Go's case
 * folding, a name matching two keys refused (Go takes the last, cJSON the
 * first), and one JSON text parsed only where Go and cJSON read it alike.
 *
 * Pure: no libuv, no I/O, no globals; cJSON for the parse. */
#ifndef RULES_GOJSON_H
#define RULES_GOJSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

/* bytes.EqualFold(key, name) for an ASCII name: each name letter matches
 * itself in either case; s also matches ſ (U+017F), k the Kelvin sign (U+212A). */
bool gojson_key_is(const char *key, const char *name);

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF) and no
 * control bytes but JSON's whitespace (JSON allows them nowhere else). */
bool gojson_clean_bytes(const unsigned char *s, size_t n);

/* The member Go decodes into struct field `name` of obj: *out is it, or NULL
 * when absent or null (null leaves a Go field at its zero value). Returns 0,
 * or -1 (*out NULL) when the name matches two keys. */
int gojson_field(const cJSON *obj, const char *name, const cJSON **out);

/* Parses text[0..len) (not empty) as exactly one JSON value that Go and cJSON
 * read alike: valid UTF-8, no byte order mark (Go refuses it, cJSON skips
 * it), no "\u0000" escape (cJSON ends the string there, Go keeps it), nothing
 * after the value but whitespace. Returns the tree (cJSON_Delete it), or NULL
 * with *why set to the end of a sentence about the text: "is not JSON",
 * "holds more than one JSON value", ... */
cJSON *gojson_parse(const char *text, size_t len, const char **why);

#endif
