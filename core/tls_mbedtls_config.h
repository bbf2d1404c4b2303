/* mbed TLS 2.28 configuration of the static build (`ninja static`): what
 * core/tls.c uses and nothing else. tools/static-deps.py compiles Debian's
 * mbedtls source package with -DMBEDTLS_CONFIG_FILE naming this file, and the
 * static build compiles core/tls.c with the same define, so the library and its
 * user agree on every structure. The dynamic builds use Debian's libmbedtls-dev
 * with its stock configuration; core/tls.c sets the protocol version, the
 * cipher suites and the curves at run time, so both builds offer the same.
 *
 * TLS 1.2 only (2.28's TLS 1.3 is an unfinished prototype), server and client
 * (the health check), ECDHE-ECDSA and ECDHE-RSA with AES-GCM or
 * ChaCha20-Poly1305, curves x25519, secp256r1, secp384r1. No CBC, no static RSA
 * key exchange, no DHE, no PSK, no renegotiation, no session tickets or cache,
 * no DTLS, no SSL 3 / TLS 1.0 / 1.1. Certificates: X.509 parsing and chain
 * verification with expiry (HAVE_TIME_DATE) and key usage checks; keys in PEM
 * or DER: PKCS#8, SEC1 EC, PKCS#1 RSA, unencrypted (no PKCS#5 / PKCS#12).
 *
 * mbedtls/check_config.h (included last) rejects an inconsistent set. The
 * guard is mbed TLS's own, so a stray #include "mbedtls/config.h" adds
 * nothing. */
#ifndef MBEDTLS_CONFIG_H
#define MBEDTLS_CONFIG_H

/* --- system ------------------------------------------------------------------ */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE /* certificate validity dates are checked */
#define MBEDTLS_FS_IO          /* mbedtls_x509_crt_parse_file, mbedtls_pk_parse_keyfile */
/* The platform entropy source: getrandom(2), else /dev/urandom
 * (MBEDTLS_NO_PLATFORM_ENTROPY stays undefined). No threading: one loop thread. */

/* --- the protocol ------------------------------------------------------------ */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_CLI_C /* the health check */
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE /* mbedtls_ssl_get_peer_cert after the handshake */
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
/* The default list, in core/tls.c's order (it pins the same six at run time). */
#define MBEDTLS_SSL_CIPHERSUITES                                 \
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,       \
        MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,     \
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,         \
        MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,           \
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,         \
        MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384

/* --- ciphers and hashes ------------------------------------------------------ */
#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
#define MBEDTLS_AESNI_C /* x86-64 only; compiles to nothing elsewhere */
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_MD_C
#define MBEDTLS_SHA1_C   /* certificate signatures still made with SHA-1 */
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA512_C /* and SHA-384 */

/* --- public keys --------------------------------------------------------------- */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDH_LEGACY_CONTEXT /* as the stock configuration */
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDSA_DETERMINISTIC /* RFC 6979: signatures need no good randomness */
#define MBEDTLS_HMAC_DRBG_C         /* for ECDSA_DETERMINISTIC */
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21 /* RSASSA-PSS certificate signatures */
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C

/* --- certificates and key files -------------------------------------------- */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CHECK_KEY_USAGE
#define MBEDTLS_X509_CHECK_EXTENDED_KEY_USAGE
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C /* ECDSA signatures */
#define MBEDTLS_OID_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_BASE64_C

/* --- randomness ---------------------------------------------------------------- */
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C

/* --- the rest -------------------------------------------------------------- */
#define MBEDTLS_VERSION_C /* mbedtls_version_get_string */
#define MBEDTLS_ERROR_C   /* mbedtls_strerror: errors in words, not only codes */

#include "mbedtls/check_config.h"

#endif /* MBEDTLS_CONFIG_H */
