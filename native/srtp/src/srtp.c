/*
 * SRTP protect for the hub's relay send path (media/rtp-send-path.ts).
 *
 * Why: the SFU SRTP-protects every forwarded packet once per subscriber. Done from JS, each packet
 * costs a createCipheriv (a fresh OpenSSL context, a key schedule, GCM's H table) plus the cipher,
 * tag and HMAC objects and buffers for the GC. Here one Protector keeps one OpenSSL EVP context per
 * SRTP session, keyed once; a packet only sets a new IV / re-inits the keyed HMAC, and the result is
 * written straight into the one output buffer (header || ciphertext || tag) that the UDP send takes.
 * index.js wraps this in the `Protector` callers use (output buffers carved from a slab).
 *
 * Profiles (numbers as werift / RFC 5764 use them):
 *   7 AEAD_AES_128_GCM (RFC 7714): IV = salt XOR (00 00 || SSRC || ROC || SEQ), AAD = header, 16-byte tag.
 *   1 AES_CM_128_HMAC_SHA1_80 (RFC 3711): AES-128-CTR with counter
 *     salt XOR (SSRC << 64 | ROC << 32 | SEQ) << 16, tag = HMAC-SHA1(header || ciphertext || ROC BE32)[0..10].
 *
 * OpenSSL is Node's own (Node exports its OpenSSL 3 symbols to addons); nothing else is linked.
 */
#include <node_api.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROFILE_GCM 7
#define PROFILE_CM_SHA1_80 1
#define KEY_LEN 16
#define GCM_SALT_LEN 12
#define CM_SALT_LEN 14
#define CM_AUTH_KEY_LEN 20
#define GCM_TAG_LEN 16
#define CM_TAG_LEN 10
#define SHA1_LEN 20

typedef struct {
  int profile;
  EVP_CIPHER_CTX *cipher; /* keyed once; per packet only the IV changes */
  EVP_MAC_CTX *mac;       /* CM only: HMAC-SHA1 keyed once, re-initialised per packet with the same key */
  uint8_t salt[CM_SALT_LEN];
} Protector;

#define CALL(env, call)                                                          \
  do {                                                                           \
    if ((call) != napi_ok) {                                                     \
      const napi_extended_error_info *info_ = NULL;                              \
      bool pending_ = false;                                                     \
      napi_get_last_error_info((env), &info_);                                   \
      napi_is_exception_pending((env), &pending_);                               \
      if (!pending_)                                                             \
        napi_throw_error((env), NULL,                                            \
                         info_ && info_->error_message ? info_->error_message    \
                                                       : "N-API call failed");   \
      return NULL;                                                               \
    }                                                                            \
  } while (0)

static void protector_free(Protector *p) {
  if (!p) return;
  EVP_CIPHER_CTX_free(p->cipher);
  EVP_MAC_CTX_free(p->mac);
  free(p);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  protector_free((Protector *)data);
}

/* Throws an Error naming what failed with OpenSSL's first queued error, and leaves the queue empty
 * (Node's own crypto reads that queue: a stale entry would show up in an unrelated error there). */
static void throw_openssl(napi_env env, const char *what) {
  char msg[512];
  char reason[256] = "no OpenSSL error queued";
  unsigned long e = ERR_get_error();
  if (e) ERR_error_string_n(e, reason, sizeof reason);
  ERR_clear_error();
  snprintf(msg, sizeof msg, "tpb-srtp: %s failed (%s)", what, reason);
  napi_throw_error(env, "ERR_TPB_SRTP_OPENSSL", msg);
}

static void throw_type(napi_env env, const char *fmt, const char *name, long a, long b) {
  char msg[256];
  snprintf(msg, sizeof msg, fmt, name, a, b);
  napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", msg);
}

/* A Buffer / Uint8Array argument; want_len < 0: any length. False (with a TypeError thrown) if not. */
static bool get_bytes(napi_env env, napi_value v, const char *name, long want_len, const uint8_t **data, size_t *len) {
  bool is_buf = false;
  if (napi_is_buffer(env, v, &is_buf) != napi_ok || !is_buf) {
    throw_type(env, "tpb-srtp: %s must be a Buffer", name, 0, 0);
    return false;
  }
  void *d = NULL;
  if (napi_get_buffer_info(env, v, &d, len) != napi_ok) {
    throw_type(env, "tpb-srtp: %s must be a Buffer", name, 0, 0);
    return false;
  }
  if (want_len >= 0 && (long)*len != want_len) {
    throw_type(env, "tpb-srtp: %s must be %ld bytes, got %ld", name, want_len, (long)*len);
    return false;
  }
  *data = (const uint8_t *)d;
  return true;
}

/* An integer argument in [0, max]. */
static bool get_uint(napi_env env, napi_value v, const char *name, double max, uint32_t *out) {
  napi_valuetype t;
  double d;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number || napi_get_value_double(env, v, &d) != napi_ok ||
      d != d || d < 0 || d > max || d != (double)(uint32_t)d) {
    throw_type(env, "tpb-srtp: %s must be an integer from 0 to %ld", name, (long)max, 0);
    return false;
  }
  *out = (uint32_t)d;
  return true;
}

static inline uint32_t rd32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* new Protector(profile, key, salt, authKey?) */
static napi_value protector_new(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], self, target;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  CALL(env, napi_get_new_target(env, info, &target));
  if (!target) {
    napi_throw_type_error(env, "ERR_CONSTRUCT_CALL_REQUIRED", "tpb-srtp: Protector must be called with new");
    return NULL;
  }
  napi_value undef;
  CALL(env, napi_get_undefined(env, &undef));
  for (size_t i = argc; i < 4; i++) argv[i] = undef;

  uint32_t profile;
  if (!get_uint(env, argv[0], "profile", 0xffffffff, &profile)) return NULL;
  if (profile != PROFILE_GCM && profile != PROFILE_CM_SHA1_80) {
    throw_type(env, "tpb-srtp: %s must be 7 (AEAD_AES_128_GCM) or 1 (AES_CM_128_HMAC_SHA1_80), got %ld", "profile",
               (long)profile, 0);
    return NULL;
  }
  const bool gcm = profile == PROFILE_GCM;
  const uint8_t *key, *salt, *auth = NULL;
  size_t key_len, salt_len, auth_len = 0;
  if (!get_bytes(env, argv[1], "key", KEY_LEN, &key, &key_len)) return NULL;
  /* werift derives a 14-byte session salt for both profiles; GCM uses its first 12 bytes. */
  if (!get_bytes(env, argv[2], "salt", -1, &salt, &salt_len)) return NULL;
  if (salt_len < (gcm ? GCM_SALT_LEN : CM_SALT_LEN) || salt_len > CM_SALT_LEN) {
    throw_type(env, "tpb-srtp: %s must be %ld to 14 bytes for this profile, got %ld", "salt", gcm ? GCM_SALT_LEN : CM_SALT_LEN, (long)salt_len);
    return NULL;
  }
  if (!gcm && !get_bytes(env, argv[3], "authKey", CM_AUTH_KEY_LEN, &auth, &auth_len)) return NULL;

  Protector *p = calloc(1, sizeof *p);
  if (!p) {
    napi_throw_error(env, NULL, "tpb-srtp: out of memory");
    return NULL;
  }
  p->profile = (int)profile;
  memcpy(p->salt, salt, salt_len);

  EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, gcm ? "AES-128-GCM" : "AES-128-CTR", NULL);
  p->cipher = EVP_CIPHER_CTX_new();
  int ok = cipher && p->cipher && EVP_EncryptInit_ex(p->cipher, cipher, NULL, key, NULL) == 1;
  EVP_CIPHER_free(cipher); /* the context holds its own reference */
  if (!ok) {
    protector_free(p);
    throw_openssl(env, gcm ? "AES-128-GCM key setup" : "AES-128-CTR key setup");
    return NULL;
  }
  if (!gcm) {
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    p->mac = mac ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac);
    OSSL_PARAM params[2] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0),
                            OSSL_PARAM_construct_end()};
    if (!p->mac || EVP_MAC_init(p->mac, auth, auth_len, params) != 1) {
      protector_free(p);
      throw_openssl(env, "HMAC-SHA1 key setup");
      return NULL;
    }
  }
  napi_status st = napi_wrap(env, self, p, finalize, NULL, NULL);
  if (st != napi_ok) {
    protector_free(p);
    CALL(env, st);
  }
  return self;
}

/* Writes header || ciphertext || tag to out (hlen + plen + tag length bytes). False: an OpenSSL error was thrown. */
static bool protect_to(napi_env env, Protector *p, const uint8_t *header, size_t hlen, const uint8_t *payload, size_t plen,
                       uint32_t ssrc, uint32_t seq, uint32_t roc, uint8_t *out) {
  uint8_t *enc = out + hlen;
  /* memmove: out may be the caller's slab, which nothing forbids overlapping the header */
  memmove(out, header, hlen);
  const uint8_t *s = p->salt;
  int n = 0;

  if (p->profile == PROFILE_GCM) {
    uint8_t iv[12];
    iv[0] = s[0];
    iv[1] = s[1];
    wr32(iv + 2, ssrc ^ rd32(s + 2));
    wr32(iv + 6, roc ^ rd32(s + 6));
    iv[10] = (uint8_t)((seq >> 8) ^ s[10]);
    iv[11] = (uint8_t)(seq ^ s[11]);
    if (EVP_EncryptInit_ex(p->cipher, NULL, NULL, NULL, iv) != 1 || EVP_EncryptUpdate(p->cipher, NULL, &n, out, (int)hlen) != 1 ||
        (plen > 0 && EVP_EncryptUpdate(p->cipher, enc, &n, payload, (int)plen) != 1) ||
        EVP_EncryptFinal_ex(p->cipher, enc + plen, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(p->cipher, EVP_CTRL_AEAD_GET_TAG, GCM_TAG_LEN, enc + plen) != 1) {
      throw_openssl(env, "AES-128-GCM encrypt");
      return false;
    }
    return true;
  }

  uint8_t ctr[16];
  wr32(ctr, rd32(s));
  wr32(ctr + 4, ssrc ^ rd32(s + 4));
  wr32(ctr + 8, roc ^ rd32(s + 8));
  ctr[12] = (uint8_t)((seq >> 8) ^ s[12]);
  ctr[13] = (uint8_t)(seq ^ s[13]);
  ctr[14] = 0;
  ctr[15] = 0;
  uint8_t rocb[4], mac[SHA1_LEN];
  size_t maclen = 0;
  wr32(rocb, roc);
  /* EVP_MAC_init with no key re-initialises HMAC with the key it already holds (no new key schedule). */
  if (EVP_EncryptInit_ex(p->cipher, NULL, NULL, NULL, ctr) != 1 ||
      (plen > 0 && EVP_EncryptUpdate(p->cipher, enc, &n, payload, (int)plen) != 1) || EVP_MAC_init(p->mac, NULL, 0, NULL) != 1 ||
      EVP_MAC_update(p->mac, out, hlen + plen) != 1 || EVP_MAC_update(p->mac, rocb, 4) != 1 ||
      EVP_MAC_final(p->mac, mac, &maclen, sizeof mac) != 1 || maclen != SHA1_LEN) {
    throw_openssl(env, "AES_CM_128_HMAC_SHA1_80 protect");
    return false;
  }
  memcpy(enc + plen, mac, CM_TAG_LEN);
  return true;
}

typedef struct {
  Protector *p;
  const uint8_t *header, *payload;
  size_t hlen, plen, out_len;
  uint32_t ssrc, seq, roc;
} Args;

/* this + (header, payload, ssrc, seq, roc) from argv[first..first+4]; false with a TypeError thrown. */
static bool get_args(napi_env env, napi_value self, size_t argc, napi_value *argv, size_t first, const char *method, Args *a) {
  if (napi_unwrap(env, self, (void **)&a->p) != napi_ok || !a->p) {
    napi_throw_type_error(env, "ERR_INVALID_THIS", "tpb-srtp: protectInto must be called on a Protector");
    return false;
  }
  if (argc < first + 5) {
    throw_type(env, "tpb-srtp: %s takes %ld arguments, got %ld", method, (long)(first + 5), (long)argc);
    return false;
  }
  napi_value *v = argv + first;
  if (!get_bytes(env, v[0], "header", -1, &a->header, &a->hlen) || !get_bytes(env, v[1], "payload", -1, &a->payload, &a->plen) ||
      !get_uint(env, v[2], "ssrc", 4294967295.0, &a->ssrc) || !get_uint(env, v[3], "seq", 65535, &a->seq) ||
      !get_uint(env, v[4], "roc", 4294967295.0, &a->roc))
    return false;
  if (a->hlen < 12 || a->hlen > 0x7fffffff || a->plen > 0x7fffffff - GCM_TAG_LEN - a->hlen) {
    throw_type(env, "tpb-srtp: %s must be at least 12 bytes (an RTP header), got %ld", "header", (long)a->hlen, 0);
    return false;
  }
  a->out_len = a->hlen + a->plen + (a->p->profile == PROFILE_GCM ? GCM_TAG_LEN : CM_TAG_LEN);
  return true;
}

/* protectInto(out, header, payload, ssrc, seq, roc): header || ciphertext || tag written to out, which must
 * be exactly the packet's size. Returns the bytes written. Why not a new Buffer per packet: the JS side
 * (index.js) hands out slices of a 64 KiB slab, measured cheaper than one napi_create_buffer each. */
static napi_value protector_protect_into(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], self, result;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  Args a;
  if (!get_args(env, self, argc, argv, 1, "protectInto", &a)) return NULL;
  const uint8_t *out;
  size_t out_len;
  if (!get_bytes(env, argv[0], "out", (long)a.out_len, &out, &out_len)) return NULL;
  if (!protect_to(env, a.p, a.header, a.hlen, a.payload, a.plen, a.ssrc, a.seq, a.roc, (uint8_t *)out)) return NULL;
  CALL(env, napi_create_uint32(env, (uint32_t)out_len, &result));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"protectInto", NULL, protector_protect_into, NULL, NULL, NULL, napi_default_method, NULL},
  };
  napi_value cls;
  CALL(env, napi_define_class(env, "Protector", NAPI_AUTO_LENGTH, protector_new, NULL, 1, methods, &cls));
  CALL(env, napi_set_named_property(env, exports, "Protector", cls));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
