/** One SRTP session's keys, with OpenSSL contexts keyed once and reused for every packet. */
interface TpbSrtpProtector {
  /** header ‖ encrypted payload ‖ tag (16 bytes for GCM, 10 for AES-CM), in one new Buffer. */
  protect(header: Uint8Array, payload: Uint8Array, ssrc: number, seq: number, roc: number): Buffer;
}
interface TpbSrtpProtectorClass {
  /**
   * profile 7 = AEAD_AES_128_GCM (key 16, salt 12 bytes), 1 = AES_CM_128_HMAC_SHA1_80 (key 16, salt 14,
   * authKey 20 bytes). Bad types or lengths throw a TypeError.
   */
  new (profile: number, key: Uint8Array, salt: Uint8Array, authKey?: Uint8Array): TpbSrtpProtector;
}
declare const srtp: {
  /** null when the addon could not load (see loadError) or TPB_SRTP_JS=1 asked for the JS path. */
  Protector: TpbSrtpProtectorClass | null;
  loadError: Error | null;
  PROFILE_AEAD_AES_128_GCM: 7;
  PROFILE_AES_CM_128_HMAC_SHA1_80: 1;
};
declare namespace srtp {
  type Protector = TpbSrtpProtector;
}
export = srtp;
