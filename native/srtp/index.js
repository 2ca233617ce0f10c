'use strict';
// Loads the native SRTP protector. Never throws: when the addon is missing, was built for another
// runtime (e.g. Electron's BoringSSL has no OpenSSL 3 symbols) or TPB_SRTP_JS=1 asks for the JS path
// (to compare the two), `Protector` is null and `loadError` says why; callers then use their JS code.
let Native = null;
let loadError = null;
if (process.env.TPB_SRTP_JS === '1') {
  loadError = new Error('tpb-srtp: disabled by TPB_SRTP_JS=1');
} else {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a .node addon loads only through require
    Native = require('./build/Release/tpb_srtp.node').Protector;
  } catch (err) {
    loadError = err instanceof Error ? err : new Error(String(err));
  }
}

// Output buffers are slices of a 64 KiB slab, never reused (a full slab is replaced and freed by the GC
// once the sends holding its slices are done): one ArrayBuffer per ~50 packets instead of one per
// packet, which measured ~0.3-0.5 µs/packet cheaper than a napi_create_buffer each.
const SLAB_SIZE = 64 * 1024;
let slab = Buffer.alloc(0);
let used = 0;
function take(n) {
  if (n > SLAB_SIZE / 8) return Buffer.allocUnsafeSlow(n);
  if (used + n > slab.length) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
    used = 0;
  }
  const out = slab.subarray(used, used + n);
  used += (n + 7) & ~7;
  return out;
}

class Protector {
  #native;
  #tagLength;
  /** profile 7 = AEAD_AES_128_GCM, 1 = AES_CM_128_HMAC_SHA1_80 (the native side checks every argument). */
  constructor(profile, key, salt, authKey) {
    this.#native = new Native(profile, key, salt, authKey);
    this.#tagLength = profile === 7 ? 16 : 10;
  }

  /** header ‖ encrypted payload ‖ tag in one Buffer. */
  protect(header, payload, ssrc, seq, roc) {
    // Not both byte arrays: a zero-length out, and protectInto throws its TypeError about them.
    const n = ArrayBuffer.isView(header) && ArrayBuffer.isView(payload) ? header.byteLength + payload.byteLength + this.#tagLength : 0;
    const out = take(n);
    this.#native.protectInto(out, header, payload, ssrc, seq, roc);
    return out;
  }
}

module.exports = {
  Protector: Native ? Protector : null,
  loadError,
  PROFILE_AEAD_AES_128_GCM: 7,
  PROFILE_AES_CM_128_HMAC_SHA1_80: 1,
};
