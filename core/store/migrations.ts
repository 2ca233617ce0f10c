// Numbered, append-only: never edit a migration that has shipped; add the next number.
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'core: settings, audit log, peers, enrolment, tokens, PIN, sessions, identity history',
    sql: `
      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE box_state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT,
        outcome TEXT NOT NULL,
        details TEXT
      );
      CREATE INDEX audit_log_action ON audit_log(action, at);
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
      CREATE TABLE peers (
        box_id TEXT PRIMARY KEY,
        public_key TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        school_id TEXT NOT NULL,
        role TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
        enrolled_at INTEGER NOT NULL,
        revoked_at INTEGER,
        last_seen_at INTEGER
      );
      CREATE TABLE enrolment_codes (
        code_hash TEXT PRIMARY KEY,
        label TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER,
        used_by TEXT
      );
      CREATE TABLE seen_tokens (
        jti TEXT PRIMARY KEY,
        issuer TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX seen_tokens_expiry ON seen_tokens(expires_at);
      CREATE TABLE pin_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        failures INTEGER NOT NULL,
        locked_until INTEGER NOT NULL,
        lockouts INTEGER NOT NULL
      );
      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE TABLE identity_history (
        box_id TEXT NOT NULL,
        public_key TEXT NOT NULL,
        replaced_at INTEGER NOT NULL,
        reason TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'sync: catalogue manifest state, catalogue items, local downloads, library search index',
    sql: `
      CREATE TABLE sync_manifest_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        highest_version INTEGER NOT NULL,
        manifest TEXT,
        source TEXT,
        accepted_at INTEGER
      );
      CREATE TABLE catalog_items (
        id TEXT PRIMARY KEY,
        infohash TEXT NOT NULL,
        title TEXT NOT NULL,
        subject TEXT NOT NULL,
        grade INTEGER NOT NULL,
        edition TEXT NOT NULL,
        unit TEXT NOT NULL,
        kind TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        file_name TEXT NOT NULL,
        tags TEXT NOT NULL,
        web_seeds TEXT NOT NULL
      );
      CREATE INDEX catalog_items_browse ON catalog_items(grade, subject, unit);
      CREATE INDEX catalog_items_infohash ON catalog_items(infohash);
      CREATE TABLE sync_local (
        infohash TEXT PRIMARY KEY,
        state TEXT NOT NULL CHECK (state IN ('downloading', 'complete', 'failed')),
        bitfield BLOB,
        verified_pieces INTEGER NOT NULL DEFAULT 0,
        size INTEGER NOT NULL,
        pinned INTEGER NOT NULL DEFAULT 0,
        last_used_at INTEGER NOT NULL,
        completed_at INTEGER,
        error_code TEXT,
        error_message TEXT
      );
      CREATE TABLE sync_torrents (
        infohash TEXT PRIMARY KEY,
        torrent BLOB NOT NULL
      );
      CREATE VIRTUAL TABLE library_fts USING fts5(item_id UNINDEXED, title, unit, tags, subject, tokenize = 'trigram');
    `,
  },
  {
    version: 3,
    name: 'media: lessons (timetable), media tokens, lesson control timeline',
    sql: `
      CREATE TABLE lessons (
        id TEXT PRIMARY KEY,
        subject TEXT NOT NULL,
        grade TEXT NOT NULL,
        title TEXT NOT NULL,
        hub_teacher TEXT NOT NULL,
        teaching_points TEXT NOT NULL,
        starts_at INTEGER NOT NULL,
        ends_at INTEGER NOT NULL,
        courseware TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('scheduled', 'live', 'ended')),
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX lessons_start ON lessons(starts_at);
      CREATE TABLE media_tokens (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        label TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        revoked_at INTEGER
      );
      CREATE TABLE lesson_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        lesson_id TEXT NOT NULL,
        sender TEXT NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        body TEXT NOT NULL,
        at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        UNIQUE (lesson_id, sender, seq)
      );
      CREATE INDEX lesson_events_lesson ON lesson_events(lesson_id, id);
      CREATE TABLE lesson_outbox (
        lesson_id TEXT NOT NULL,
        sender TEXT NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (lesson_id, sender, seq)
      );
    `,
  },
  {
    version: 4,
    name: 'hardware: disk space samples, boots (clean or not)',
    sql: `
      CREATE TABLE hardware_disk_samples (
        at INTEGER PRIMARY KEY,
        free_bytes INTEGER NOT NULL,
        total_bytes INTEGER NOT NULL
      );
      CREATE TABLE hardware_boots (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at INTEGER NOT NULL,
        previous_clean INTEGER NOT NULL CHECK (previous_clean IN (0, 1)),
        previous_started_at INTEGER,
        previous_pid INTEGER
      );
    `,
  },
  {
    version: 5,
    name: 'media: lesson recordings in segments (resumed after a power cut)',
    sql: `
      CREATE TABLE recordings (
        lesson_id TEXT NOT NULL,
        room TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('recording', 'stopped', 'joined', 'failed')),
        dir TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        ffmpeg_pid INTEGER,
        warning TEXT,
        joined_file TEXT,
        runs INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (lesson_id, room)
      );
      CREATE TABLE recording_segments (
        lesson_id TEXT NOT NULL,
        room TEXT NOT NULL,
        idx INTEGER NOT NULL,
        file TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        finished_at INTEGER NOT NULL,
        PRIMARY KEY (lesson_id, room, idx)
      );
    `,
  },
  {
    version: 6,
    name: 'sync: folder items (file count of a digital textbook or exercise set)',
    sql: `
      ALTER TABLE catalog_items ADD COLUMN file_count INTEGER;
    `,
  },
];
