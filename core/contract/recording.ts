// Lesson recordings kept on a box: GET /api/recordings (list), GET /api/recordings/<id> (one),
// GET /api/recordings/<id>/media (Range-capable WebM/Matroska), GET /api/recordings/<id>/timeline (ControlEvent[]).
// Shared by the daemon, the kiosk's recordings screen and the hub console's recording indicator.

/**
 * 'own': recorded on this box; 'master': the hub's master recording, fetched through the resource sync;
 * 'teaching-point' (hub only): a teaching point's own recording, sent up to the hub (see `fromBox`).
 */
export type RecordingSource = 'own' | 'master' | 'teaching-point';

export type RecordingState =
  | 'recording' // segments are being written now
  | 'joining' // lesson ended, segments being joined
  | 'fetching' // a master recording on its way through the sync
  | 'complete' // playable, verified
  | 'stopped' // stopped early (see problem), finished segments kept
  | 'failed';

/** A stretch of the lesson (ms since the lesson's start) that this recording does not hold. */
export interface RecordingGap {
  fromMs: number;
  toMs: number;
  /** Filled from the hub's master recording. */
  filledBy: 'master' | null;
}

export interface RecordingEntry {
  id: string;
  lessonId: string;
  /** Media room recorded: the broadcast `<lesson>` or a classroom `<lesson>~<box>`. */
  room: string;
  source: RecordingSource;
  title: string;
  subject: string | null;
  grade: string | null;
  startedAt: string;
  endedAt: string | null;
  durationSeconds: number | null;
  state: RecordingState;
  bytes: number | null;
  gaps: RecordingGap[];
  /** Range-capable media URL on this box, when playable. */
  mediaUrl: string | null;
  /** Control timeline (page changes, strokes) for replay beside the media. */
  timelineUrl: string | null;
  /** BoxError code when stopped/failed (e.g. E_DISK_FULL). */
  problem: string | null;
  /** The lesson's scheduled start (ISO): the origin of the timeline's `at` and of `gaps`, so a player can place events on the media. */
  lessonStartsAt?: string;
  /** Source 'teaching-point': the box that recorded it. */
  fromBox?: { boxId: string; name: string };
  /** While 'fetching': share of the file received and verified, 0..1. */
  progress?: number;
  /** Teaching point, source 'own': how its copy up to the hub stands ('paused' while a live lesson or the sync window holds the link). */
  upload?: { state: 'waiting' | 'paused' | 'sending' | 'done'; reason: string | null };
}

/** Recording state of the box right now (also in /api/health). */
export interface RecordingStatus {
  enabled: boolean;
  active: { lessonId: string; room: string; since: string; segments: number }[];
  /** Set when recording had to stop or cannot start, e.g. the disk is nearly full. */
  warning: { code: string; message: string } | null;
}

/**
 * A recording moving between boxes (also in /api/health, for `box doctor`): the hub's master down to a
 * teaching point, a teaching point's own recording up to its hub (on the hub: 'download', being received).
 */
export interface RecordingTransfer {
  /** The recording's id in GET /api/recordings. */
  recordingId: string;
  lessonId: string;
  room: string;
  title: string;
  direction: 'download' | 'upload';
  /** 'moving': bytes may flow now; 'paused': held by the link plan (see reason); 'failed': see reason (a BoxError code), tried again. */
  state: 'waiting' | 'moving' | 'paused' | 'done' | 'failed';
  /** Paused: the plan's reason ('lesson-paused', 'outside-window'); failed: a BoxError code; else null. */
  reason: string | null;
  bytes: number;
  /** Verified on the receiving side (for an upload: what the hub last said). */
  doneBytes: number;
  progress: number;
  /** Bytes this box moved over the link for it since it started (received or sent; duplicates included). */
  linkBytes: number;
  /** Rate limit in force for this direction, bytes/s (-1: none). */
  limitBps: number;
}
