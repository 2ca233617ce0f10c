// Whether an RTP payload starts a keyframe, so a new subscriber (or a layer switch) can wait for one
// instead of showing garbage; the SFU never decodes, it only reads the payload headers.

/** VP8 (RFC 7741): the payload descriptor, then the VP8 frame header whose P bit is 0 on keyframes. */
export function isVp8Keyframe(payload: Uint8Array): boolean {
  if (payload.length < 1) return false;
  const b0 = payload[0]!;
  const extended = (b0 & 0x80) !== 0;
  const start = (b0 & 0x10) !== 0;
  const partition = b0 & 0x07;
  if (!start || partition !== 0) return false;
  let i = 1;
  if (extended) {
    if (payload.length < 2) return false;
    const x = payload[1]!;
    i = 2;
    if (x & 0x80) {
      if (payload.length <= i) return false;
      i += payload[i]! & 0x80 ? 2 : 1; // picture id, 7 or 15 bits
    }
    if (x & 0x40) i += 1; // TL0PICIDX
    if (x & 0x30) i += 1; // TID / KEYIDX
  }
  if (payload.length <= i) return false;
  return (payload[i]! & 0x01) === 0;
}

/** H.264 (RFC 6184): an IDR slice or SPS, alone, in a STAP-A, or at the start of a FU-A. */
export function isH264Keyframe(payload: Uint8Array): boolean {
  if (payload.length < 1) return false;
  const type = payload[0]! & 0x1f;
  if (type === 5 || type === 7) return true;
  if (type === 24) {
    let i = 1;
    while (i + 2 < payload.length) {
      const size = (payload[i]! << 8) | payload[i + 1]!;
      const nal = payload[i + 2]! & 0x1f;
      if (nal === 5 || nal === 7) return true;
      i += 2 + size;
    }
    return false;
  }
  if (type === 28 && payload.length > 1) {
    const fu = payload[1]!;
    return (fu & 0x80) !== 0 && ((fu & 0x1f) === 5 || (fu & 0x1f) === 7);
  }
  return false;
}

export function isKeyframe(mimeType: string, payload: Uint8Array): boolean {
  const m = mimeType.toLowerCase();
  if (m === 'video/vp8') return isVp8Keyframe(payload);
  if (m === 'video/h264') return isH264Keyframe(payload);
  return false;
}
