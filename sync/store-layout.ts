import { join } from 'node:path';

/** Where a box keeps resources; the same layout is what `box publish` writes and USB bundles carry. */
export function storeLayout(root: string) {
  return {
    root,
    manifest: join(root, 'manifest.json'),
    files: join(root, 'files'),
    partial: join(root, 'partial'),
    torrents: join(root, 'torrents'),
    thumbs: join(root, 'thumbs'),
    staging: join(root, 'staging'),
    /** The accepted catalogue manifest, as received, by version (`accepted/manifest-v<N>.json`, relative to root). */
    accepted: join(root, 'accepted'),
    acceptedManifest: (version: number) => `accepted/manifest-v${version}.json`,
    fileDir: (infohash: string) => join(root, 'files', infohash),
    partialDir: (infohash: string) => join(root, 'partial', infohash),
    torrentFile: (infohash: string) => join(root, 'torrents', `${infohash}.torrent`),
    thumb: (infohash: string) => join(root, 'thumbs', `${infohash}.webp`),
  };
}
export type StoreLayout = ReturnType<typeof storeLayout>;
