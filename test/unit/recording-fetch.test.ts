// The signed list of recordings a hub offers its teaching points: only the hub's key, unchanged, is accepted.
import { describe, it, expect } from 'vitest';
import { generateKeyPair } from '../../core/signing.js';
import { isBoxError } from '../../core/errors.js';
import { signFileList, verifyFileList, type FileList } from '../../sync/recording-fetch.js';
import { recordingGaps } from '../../recordings/gaps.js';

const list: FileList = {
  format: 'tpbox-files/1', boxId: 'box-hub', issuedAt: new Date(0).toISOString(),
  files: [{
    id: 'master.l1', infohash: 'a'.repeat(40), sha256: 'b'.repeat(64), bytes: 10, fileName: 'l1.mkv', torrent: 'AAAA',
    webSeeds: ['http://127.0.0.1:1/recordings/files/x'], trackers: [], peers: [], meta: { lessonId: 'l1' },
  }],
};

function code(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return isBoxError(e) ? e.code : 'not a BoxError';
  }
}

describe('signed recording list', () => {
  const hub = generateKeyPair();
  it('accepts the hub-signed list', () => {
    expect(verifyFileList(signFileList(hub, list), [hub.publicKey]).files[0]!.infohash).toBe('a'.repeat(40));
  });
  it('refuses another key, a changed list, an unsigned one and a malformed one', () => {
    const other = generateKeyPair();
    expect(code(() => verifyFileList(signFileList(other, list), [hub.publicKey]))).toBe('E_MANIFEST_WRONG_KEY');
    const doc = signFileList(hub, list);
    doc.payload.files[0]!.sha256 = 'c'.repeat(64);
    expect(code(() => verifyFileList(doc, [hub.publicKey]))).toBe('E_MANIFEST_TAMPERED');
    expect(code(() => verifyFileList({ payload: list }, [hub.publicKey]))).toBe('E_MANIFEST_UNSIGNED');
    expect(code(() => verifyFileList(signFileList(hub, { ...list, files: [{ ...list.files[0]!, fileName: '../x' }] }), [hub.publicKey]))).toBe('E_VALIDATION');
    expect(code(() => verifyFileList('nope', [hub.publicKey]))).toBe('E_MANIFEST_MALFORMED');
  });
});

describe('recording gaps', () => {
  const seg = (from: number, to: number) => ({ from: from * 1000, to: to * 1000 });
  it('marks holes between segments, silences inside them and missing ends, filled where the master covers them', () => {
    const gaps = recordingGaps({
      segments: [seg(10, 20), seg(20, 30), seg(45, 60)], silences: [seg(50, 55)], lessonStartMs: 0,
      master: { ...seg(5, 62), complete: true },
    });
    expect(gaps).toEqual([
      { fromMs: 5000, toMs: 10_000, filledBy: 'master' },
      { fromMs: 30_000, toMs: 45_000, filledBy: 'master' },
      { fromMs: 50_000, toMs: 55_000, filledBy: 'master' },
      { fromMs: 60_000, toMs: 62_000, filledBy: 'master' },
    ]);
  });
  it('leaves gaps unfilled without a complete master, and ignores sub-second boundary slips', () => {
    const gaps = recordingGaps({ segments: [seg(0, 10), seg(10.5, 20), seg(30, 40)], silences: [], lessonStartMs: 0, master: { ...seg(0, 40), complete: false } });
    expect(gaps).toEqual([{ fromMs: 20_000, toMs: 30_000, filledBy: null }]);
  });
});
