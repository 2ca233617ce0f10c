{
  # Why no libraries: Node exports its own OpenSSL 3 symbols to addons, so the addon uses the very
  # OpenSSL Node's crypto uses (headers from Node's include/node/openssl); a system libssl is not linked.
  "targets": [
    {
      "target_name": "tpb_srtp",
      "sources": ["src/srtp.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O2", "-Wall"] }
    }
  ]
}
