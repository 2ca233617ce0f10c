// The `ws` client ships without types here (@types/ws is not installed); control-uplink.ts wraps the
// few calls it makes behind its own typed interface.
declare module 'ws';
