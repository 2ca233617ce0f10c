#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLogger } from '../core/log.js';
import { BoxError, isBoxError } from '../core/errors.js';
import { systemClock } from '../core/clock.js';
import { generateKeyPair, isPublicKey, type KeyPair } from '../core/signing.js';
import { writeFileAtomic } from '../core/atomic-file.js';
import { openDatabase, databasePath } from '../core/store/database.js';
import { AuditStore } from '../core/store/audit-store.js';
import { silentLogger } from '../core/log.js';
import { DEFAULT_CONFIG_PATH, loadConfigFile, type ConfigOverrides } from './config-file.js';
import { applyBundle, loadProvisioning } from './provisioning-store.js';
import { makeBundle, type BundleDraft } from './bundle-maker.js';
import { startBox } from './box.js';
import { startDemo, demoSummary } from './demo/run.js';
import { runDoctor, doctorText } from './doctor.js';
import { readStatus, statusText } from './status.js';
import { EnrolmentCodes } from './security/enrolment-codes.js';

const USAGE = `box — 教学点盒子 teaching-point box

  box start      [--config FILE] [--data DIR] [--port N]   run the box daemon
  box demo       [--data DIR]                              seed + hub + teaching point on 127.0.0.1
  box provision  BUNDLE.json [--config FILE] [--data DIR]  apply a county IT bundle
  box doctor     [--json] [--config FILE] [--data DIR]     check the box before leaving the school
  box status     [--json] [--config FILE] [--data DIR]     identity, provisioning, enrolment
  box enrolment-code --label NAME [--hours N]              (hub) one-time code for a teaching point
  box keygen     --out FILE                                county IT / publisher key pair
  box bundle     --key FILE --in DRAFT.json --out BUNDLE.json   sign a provisioning bundle
  box kiosk      [--url URL] [--data PROFILE_DIR]          open the kiosk in Chromium (Linux images)
  box publish    FOLDER --meta META.json --key PUBLISHER_KEY.json [--out DIR] [--web-seed URL]... [--tracker URL]... [--version N] [--days N]
                                                           (seed) build torrents + the signed catalogue
  box export     --to DIR [--config FILE] [--data DIR]     copy the catalogue and held items to a USB folder
  box import     DIR [--json] [--config FILE] [--data DIR] fill the box from a USB folder (each item verified)

The config file defaults to $BOX_CONFIG or ${DEFAULT_CONFIG_PATH}.`;

const options = {
  config: { type: 'string' },
  data: { type: 'string' },
  port: { type: 'string' },
  json: { type: 'boolean', default: false },
  out: { type: 'string' },
  key: { type: 'string' },
  in: { type: 'string' },
  label: { type: 'string' },
  hours: { type: 'string' },
  url: { type: 'string' },
  meta: { type: 'string' },
  to: { type: 'string' },
  'web-seed': { type: 'string', multiple: true },
  tracker: { type: 'string', multiple: true },
  version: { type: 'string' },
  days: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

function configFrom(v: Values) {
  const overrides: ConfigOverrides = {};
  if (v.data) overrides.dataDir = resolve(v.data);
  if (v.port !== undefined) {
    const port = Number(v.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new BoxError('E_CONFIG', `--port: got "${v.port}", expected a port number 0–65535`);
    overrides.port = port;
  }
  return loadConfigFile(resolve(v.config ?? process.env.BOX_CONFIG ?? DEFAULT_CONFIG_PATH), overrides);
}

function readKey(path: string): KeyPair {
  const k = JSON.parse(readFileSync(path, 'utf8')) as Partial<KeyPair>;
  if (!isPublicKey(k.publicKey) || typeof k.privateKey !== 'string') throw new BoxError('E_CONFIG', `${path} is not a key file made by \`box keygen\`.`);
  return k as KeyPair;
}

function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    stop().then(() => process.exit(0), (e: unknown) => {
      console.error(e);
      process.exit(1);
    });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

async function main(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  const [command, ...rest] = positionals;
  if (v.help || !command) {
    console.log(USAGE);
    return command || v.help ? 0 : 2;
  }
  switch (command) {
    case 'start': {
      const config = configFrom(v);
      const log = createLogger({ level: config.log.level, ...(config.log.file ? { destination: config.log.file } : {}) });
      const box = await startBox({ config, log });
      onSignals(() => box.close());
      return -1;
    }
    case 'demo': {
      // Ctrl-C during start-up must still stop what has started and remove the temporary folder.
      const starting = startDemo(v.data ? { dataDir: v.data } : {});
      let interrupted = false;
      onSignals(async () => {
        interrupted = true;
        const started = await starting.catch(() => undefined);
        await started?.close();
      });
      const demo = await starting;
      if (interrupted) return -1;
      console.log(JSON.stringify(demo.ready));
      console.log(demoSummary(demo));
      return -1;
    }
    case 'provision': {
      const file = rest[0];
      if (!file) throw new BoxError('E_CONFIG', 'Usage: box provision BUNDLE.json');
      const config = configFrom(v);
      const raw = readFileSync(resolve(file), 'utf8');
      const { payload, previous } = applyBundle(config.dataDir, raw, config.trust.countyKeys, systemClock, config.security.clockToleranceSeconds * 1000);
      // The audit row is written after the bundle: a refused bundle leaves the folder untouched.
      const db = openDatabase(databasePath(config.dataDir), silentLogger());
      try {
        new AuditStore(db, systemClock, silentLogger()).append({
          actor: 'cli', action: 'provision.apply', target: payload.bundleId, outcome: 'ok',
          details: { role: payload.role, name: payload.name, schoolId: payload.schoolId, previousBundleId: previous?.bundleId ?? null },
        });
      } finally {
        db.close();
      }
      console.log(`已应用配置包 Applied bundle ${payload.bundleId}: ${payload.name}（${payload.role}，${payload.schoolId}）.`);
      console.log('请重启盒子服务使其生效 / Restart the box service for it to take effect.');
      return 0;
    }
    case 'doctor': {
      const config = configFrom(v);
      const provisioning = loadProvisioning(config.dataDir, config.trust.countyKeys, systemClock);
      const status = await readStatus(config);
      const report = await runDoctor({ config, provisioning, ownHealth: status.running ? status.health ?? undefined : undefined });
      console.log(v.json ? JSON.stringify(report, null, 2) : doctorText(report));
      return report.ok ? 0 : 1;
    }
    case 'status': {
      const s = await readStatus(configFrom(v));
      console.log(v.json ? JSON.stringify(s, null, 2) : statusText(s));
      return 0;
    }
    case 'enrolment-code': {
      const config = configFrom(v);
      const prov = loadProvisioning(config.dataDir, config.trust.countyKeys, systemClock);
      if (prov?.role !== 'hub') throw new BoxError('E_WRONG_ROLE', 'Enrolment codes are made on a hub box.');
      if (!v.label) throw new BoxError('E_VALIDATION', '--label NAME is required (the teaching point the code is for).');
      const hours = v.hours ? Number(v.hours) : 24 * 7;
      if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 90) throw new BoxError('E_VALIDATION', `--hours: got "${v.hours}", expected 1–2160`);
      const db = openDatabase(databasePath(config.dataDir), silentLogger());
      try {
        const c = new EnrolmentCodes(db, systemClock).create(v.label, hours);
        new AuditStore(db, systemClock, silentLogger()).append({ actor: 'cli', action: 'enrolment.code.create', target: v.label, outcome: 'ok', details: { expiresAt: c.expiresAt } });
        console.log(v.json ? JSON.stringify({ code: c.code, expiresAt: new Date(c.expiresAt).toISOString() }) : `注册码 Enrolment code for ${v.label}: ${c.code}  (valid until ${new Date(c.expiresAt).toISOString()})`);
      } finally {
        db.close();
      }
      return 0;
    }
    case 'keygen': {
      if (!v.out) throw new BoxError('E_VALIDATION', '--out FILE is required.');
      if (existsSync(v.out)) throw new BoxError('E_CONFLICT', `${v.out} exists; refusing to overwrite a key.`);
      const pair = generateKeyPair();
      writeFileAtomic(resolve(v.out), JSON.stringify(pair, null, 2) + '\n', 0o600);
      console.log(v.json ? JSON.stringify({ publicKey: pair.publicKey }) : `公钥 Public key: ${pair.publicKey}\n私钥已写入 private key written to ${v.out} (keep it off the boxes).`);
      return 0;
    }
    case 'bundle': {
      if (!v.key || !v.in || !v.out) throw new BoxError('E_VALIDATION', 'Usage: box bundle --key COUNTY_KEY.json --in DRAFT.json --out BUNDLE.json');
      const draft = JSON.parse(readFileSync(v.in, 'utf8')) as BundleDraft;
      const bundle = makeBundle(readKey(v.key), draft);
      writeFileSync(v.out, JSON.stringify(bundle, null, 2) + '\n', { mode: 0o600 });
      console.log(`已签名 Signed bundle ${bundle.payload.bundleId} for ${bundle.payload.name} (${bundle.payload.role}), expires ${bundle.payload.expires}.`);
      return 0;
    }
    case 'kiosk': {
      const { launchChromiumKiosk } = await import('./kiosk/chromium-kiosk.js');
      const url = v.url ?? process.env.BOX_URL ?? 'http://127.0.0.1:8420/';
      const userDataDir = resolve(v.data ?? process.env.BOX_KIOSK_PROFILE ?? '/var/lib/teaching-point-box/kiosk-profile');
      // The box's own whiteboard needs no PIN: it opens with a kiosk media token in the URL fragment.
      const { kioskLaunchUrl } = await import('./kiosk/kiosk-token.js');
      const kioskLog = (msg: string, fields?: Record<string, unknown>) => console.error(msg, fields ?? '');
      const launchUrl = kioskLaunchUrl(url, resolve(v.config ?? process.env.BOX_CONFIG ?? DEFAULT_CONFIG_PATH), kioskLog);
      const kiosk = launchChromiumKiosk({ url: launchUrl, userDataDir, log: kioskLog });
      onSignals(() => kiosk.stop());
      return -1;
    }
    case 'publish': {
      const folder = rest[0];
      if (!folder || !v.meta || !v.key) throw new BoxError('E_VALIDATION', 'Usage: box publish FOLDER --meta META.json --key PUBLISHER_KEY.json [--out DIR]');
      const { runPublish } = await import('./sync-cli.js');
      const num = (name: string, s: string | undefined) => {
        if (s === undefined) return undefined;
        const n = Number(s);
        if (!Number.isInteger(n) || n < 1) throw new BoxError('E_VALIDATION', `--${name}: got "${s}", expected a whole number ≥ 1`);
        return n;
      };
      const version = num('version', v.version);
      const validDays = num('days', v.days);
      const outDir = v.out ?? join(configFrom(v).dataDir, 'sync');
      console.log(await runPublish({
        folder: resolve(folder), metaFile: v.meta, key: readKey(v.key), outDir, webSeedBases: v['web-seed'] ?? [], trackers: v.tracker ?? [],
        ...(version !== undefined ? { version } : {}), ...(validDays !== undefined ? { validDays } : {}),
      }));
      return 0;
    }
    case 'export': {
      if (!v.to) throw new BoxError('E_VALIDATION', 'Usage: box export --to DIR');
      const { runExport } = await import('./sync-cli.js');
      console.log(await runExport(configFrom(v), v.to));
      return 0;
    }
    case 'import': {
      const from = rest[0];
      if (!from) throw new BoxError('E_VALIDATION', 'Usage: box import DIR');
      const { runImport } = await import('./sync-cli.js');
      const r = await runImport(configFrom(v), from);
      console.log(v.json ? JSON.stringify({ results: r.results }) : r.text);
      return r.refused > 0 ? 4 : 0;
    }
    default:
      console.error(`Unknown command "${command}".\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (e: unknown) => {
    if (isBoxError(e)) {
      console.error(`✖ ${e.message} [${e.code}]`);
      process.exitCode = e.code.startsWith('E_BUNDLE') ? 3 : 1;
    } else if (e instanceof Error && 'code' in e && String((e as { code: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
      console.error(`✖ ${e.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      console.error(e);
      process.exitCode = 1;
    }
  },
);
