// The `ws` package ships without types here (@types/ws is not installed); core/peer-client.ts types
// the few calls the box makes on a client socket (PeerSocket).
declare module 'ws';
