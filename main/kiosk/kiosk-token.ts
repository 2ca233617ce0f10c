// The box's own whiteboard starts lessons with one tap, no PIN: when the box opens its kiosk it issues a
// media token for it (stored hashed, like every media token) and hands it over in the URL fragment, which
// never reaches a server log; the page moves it into its storage and drops it from the address bar.
// Other screens on the LAN (tablets) still get theirs behind the PIN in settings. Its scope follows the
// box's role: the hub's screen is the teacher's console, a teaching point's whiteboard its classroom.
import { systemClock, type Clock } from '../../core/clock.js';
import type { Role } from '../../core/config.js';
import type { MediaScope } from '../../core/contract/media-scope.js';
import { openDatabase, type Db, databasePath } from '../../core/store/database.js';
import { AuditStore } from '../../core/store/audit-store.js';
import { silentLogger, type Logger } from '../../core/log.js';
import { MediaTokens } from '../../media/media-tokens.js';

import { loadConfigFile } from '../config-file.js';
import { loadProvisioning } from '../provisioning-store.js';
import type { KioskLog } from './chromium-kiosk.js';

/** What the token list in settings calls the box's own screen. */
export const KIOSK_TOKEN_LABEL = '本机白板';

export interface KioskToken {
  token: string;
  id: string;
}

/** What the box's own screen may do: console on a hub, classroom on a teaching point, else only watch. */
export function kioskScope(role: Role | null | undefined): MediaScope {
  return role === 'hub' ? 'console' : role === 'teaching-point' ? 'classroom' : 'view';
}

/**
 * Issues the kiosk's token and revokes the ones issued at earlier kiosk starts, so only the running
 * kiosk holds a working one.
 */
export function issueKioskToken(db: Db, clock: Clock, log: Logger = silentLogger(), scope: MediaScope = 'view'): KioskToken {
  const tokens = new MediaTokens(db, clock);
  const revokeOld = db.prepare('UPDATE media_tokens SET revoked_at = ? WHERE label = ? AND revoked_at IS NULL');
  const out = db.transaction(() => {
    revokeOld.run(clock.now(), KIOSK_TOKEN_LABEL);
    return tokens.issue(KIOSK_TOKEN_LABEL, undefined, scope);
  })();
  new AuditStore(db, clock, log).append({ actor: 'kiosk', action: 'media-token.issue', target: out.info.id, outcome: 'ok', details: { label: KIOSK_TOKEN_LABEL, scope } });
  return { token: out.token, id: out.info.id };
}

/** The kiosk URL carrying its token in the fragment (`#mt=…&mtid=…`), on `path` of the box. */
export function kioskUrl(boxUrl: string, token: KioskToken, path = '/'): string {
  const u = new URL(path, boxUrl);
  u.hash = new URLSearchParams({ mt: token.token, mtid: token.id }).toString();
  return u.href;
}

/**
 * For a kiosk launched beside the daemon (`box kiosk`, the Electron shell): issues the token in the
 * box's own database (the same file the daemon uses; SQLite WAL lets both write) and returns the
 * kiosk URL. Null when the database cannot be opened (e.g. the kiosk user may not read it): the
 * kiosk then opens without a token and a technician sets the screen up behind the PIN as before.
 */
export function kioskUrlFromDataDir(boxUrl: string, dataDir: string, clock: Clock, log: Logger = silentLogger(), path = '/', scope: MediaScope = 'view'): string | null {
  let db: Db | undefined;
  try {
    db = openDatabase(databasePath(dataDir), log);
    return kioskUrl(boxUrl, issueKioskToken(db, clock, log, scope), path);
  } catch (e) {
    log.warn({ err: (e as Error).message, dataDir }, 'kiosk token not issued: the kiosk opens without one');
    return null;
  } finally {
    db?.close();
  }
}

/**
 * The URL a kiosk launcher opens: `boxUrl` with a fresh kiosk token when the box's config (and so its
 * database) is readable from here, else `boxUrl` unchanged (logged).
 */
export function kioskLaunchUrl(boxUrl: string, configPath: string, log: KioskLog = () => {}, clock: Clock = systemClock): string {
  let dataDir: string;
  let scope: MediaScope;
  try {
    const config = loadConfigFile(configPath);
    dataDir = config.dataDir;
    scope = kioskScope(roleOf(config.dataDir, config.trust.countyKeys, clock));
  } catch (e) {
    log('kiosk token not issued: no box config here; the screen is set up behind the PIN instead', { error: (e as Error).message });
    return boxUrl;
  }
  const url = kioskUrlFromDataDir(boxUrl, dataDir, clock, silentLogger(), new URL(boxUrl).pathname, scope);
  if (!url) log('kiosk token not issued: the box database cannot be opened from here; the screen is set up behind the PIN instead', { dataDir });
  return url ?? boxUrl;
}


/** The role of the box whose data folder this is (verified provisioning), or null when it has none yet. */
function roleOf(dataDir: string, countyKeys: readonly string[], clock: Clock): Role | null {
  try {
    return loadProvisioning(dataDir, countyKeys, clock)?.role ?? null;
  } catch {
    return null; // a provisioning that no longer verifies: the daemon will say so; the screen only watches
  }
}
