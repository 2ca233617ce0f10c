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
  {
    version: 7,
    name: 'sync: library search indexes over held items only (trigram, and character pairs for 1–2 character queries)',
    sql: heldSearchIndexes(),
  },
  {
    version: 8,
    name: 'sync: the accepted manifest lives in a file under the store folder (tens of MB do not belong in a row read on every status)',
    sql: `
      ALTER TABLE sync_manifest_state ADD COLUMN manifest_file TEXT;
    `,
  },
  {
    version: 9,
    name: 'core: PIN failures per source address (an IPv6 /64), plus one box-wide ceiling row (source *); pin_state is no longer used',
    sql: `
      CREATE TABLE pin_sources (
        source TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        locked_until INTEGER NOT NULL,
        lockouts INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 10,
    name: 'core: audit log retention (the oldest rows may be dropped, never the newest 1000, never a row in the middle)',
    // Still append-only for everything else: a DELETE passes only row by row from the oldest (SQLite deletes
    // in rowid order, so "DELETE ... WHERE id < ?" does), and the newest 1000 rows are never dropped.
    sql: `
      DROP TRIGGER audit_log_no_delete;
      CREATE TRIGGER audit_log_oldest_only BEFORE DELETE ON audit_log
        WHEN OLD.id > (SELECT MIN(id) FROM audit_log) OR OLD.id > (SELECT MAX(id) FROM audit_log) - 1000
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only: retention drops only the oldest rows, never the newest 1000'); END;
      CREATE INDEX audit_log_at ON audit_log(at);
    `,
  },
  {
    version: 11,
    name: 'media: media tokens carry a scope (view, classroom, console); tokens issued before get view and an expiry',
    // The safe default: a token from before scopes can still watch, but publishes and steers nothing until a
    // technician issues a scoped one; and no token lives for ever (180 days from this migration).
    sql: `
      ALTER TABLE media_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'view' CHECK (scope IN ('view', 'classroom', 'console'));
      UPDATE media_tokens SET expires_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000 + 180 * 86400000
        WHERE expires_at IS NULL AND revoked_at IS NULL;
    `,
  },
];

/**
 * Library search looks only at items held on this box (sync_local state 'complete'), so it gets its own two
 * indexes holding just those: searching the whole catalogue's index made a query walk every catalogue match
 * to find the few held ones. Triggers on sync_local keep them in step as items complete or leave (pure SQL,
 * so a write from any connection keeps them right); whoever rewrites catalog_items rebuilds them, as it does
 * library_fts (CatalogStore.acceptManifest: per-row triggers there made a 100,000-item intake 5× slower).
 *  - library_held_fts: what library_fts indexes (trigram), for queries whose terms are all ≥ 3 characters.
 *  - library_held_pairs: every pair of adjacent characters, and every character, of title, unit, tags (as
 *    stored, JSON) and subject, ASCII-lowercased as LIKE compares: a pair is the hex of its UTF-8 bytes, a
 *    character 'x' and its hex (ASCII tokens). The columns are joined and ended by U+001F. A filter only: the
 *    query still checks LIKE on what it finds. sync/catalog-store.ts builds the same tokens (itemPairs at
 *    intake, pairsQuery for a query); change both together.
 * Both are contentless (rowid = catalog_items.rowid) and allow DELETE by rowid.
 */
function heldSearchIndexes(): string {
  const tags = (c: string) => `(SELECT COALESCE(group_concat(value, ' '), '') FROM json_each(${c}.tags))`;
  // Tokens for each position but the last (the closing U+001F): json_each over length(s) zeros gives them.
  const pairs = (c: string) => {
    // Each column up to a NUL, as far as LIKE and length() look (a NUL in the title would hide the other columns).
    const col = (name: string) => `substr(${c}.${name}, 1, length(${c}.${name}))`;
    const s = `lower(${col('title')} || char(31) || ${col('unit')} || char(31) || ${col('tags')} || char(31) || ${col('subject')} || char(31))`;
    return `(SELECT group_concat(hex(substr(x.s, p.key + 1, 2)) || ' x' || hex(substr(x.s, p.key + 1, 1)), ' ') FROM (SELECT ${s} AS s) x,
      json_each('[' || substr(replace(hex(zeroblob(length(x.s))), '00', ',0'), 2) || ']') p WHERE p.key < length(x.s) - 1)`;
  };
  const dropRowids = (rowids: string) => `
      DELETE FROM library_held_fts WHERE rowid IN (${rowids});
      DELETE FROM library_held_pairs WHERE rowid IN (${rowids});`;
  // Drops first: a rowid inserted twice into a contentless table would keep the old tokens too.
  const addWhere = (where: string) => `${dropRowids(`SELECT c.rowid FROM catalog_items c WHERE ${where}`)}
      INSERT INTO library_held_fts (rowid, title, unit, tags, subject) SELECT c.rowid, c.title, c.unit, ${tags('c')}, c.subject FROM catalog_items c WHERE ${where};
      INSERT INTO library_held_pairs (rowid, pairs) SELECT c.rowid, ${pairs('c')} FROM catalog_items c WHERE ${where};`;
  return `
      CREATE VIRTUAL TABLE library_held_fts USING fts5(title, unit, tags, subject, tokenize = 'trigram', content = '', contentless_delete = 1);
      CREATE VIRTUAL TABLE library_held_pairs USING fts5(pairs, content = '', contentless_delete = 1, detail = 'none');
      CREATE TRIGGER library_held_local_insert AFTER INSERT ON sync_local WHEN new.state = 'complete' BEGIN
        ${addWhere('c.infohash = new.infohash')}
      END;
      CREATE TRIGGER library_held_local_delete AFTER DELETE ON sync_local WHEN old.state = 'complete' BEGIN
        ${dropRowids('SELECT rowid FROM catalog_items WHERE infohash = old.infohash')}
      END;
      CREATE TRIGGER library_held_local_leave AFTER UPDATE OF state, infohash ON sync_local
        WHEN old.state = 'complete' AND NOT (new.state = 'complete' AND new.infohash = old.infohash) BEGIN
        ${dropRowids('SELECT rowid FROM catalog_items WHERE infohash = old.infohash')}
      END;
      CREATE TRIGGER library_held_local_enter AFTER UPDATE OF state, infohash ON sync_local
        WHEN new.state = 'complete' AND NOT (old.state = 'complete' AND new.infohash = old.infohash) BEGIN
        ${addWhere('c.infohash = new.infohash')}
      END;
      ${addWhere(`EXISTS (SELECT 1 FROM sync_local l WHERE l.infohash = c.infohash AND l.state = 'complete')`)}
  `;
}
