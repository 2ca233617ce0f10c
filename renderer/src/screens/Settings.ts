// Settings behind the PIN: network, hub pairing, storage, self-check (box doctor), log and audit export, language.
import { defineComponent, h, onMounted, ref, watch } from 'vue';
import type { BoxSettings, Language } from '../../../core/contract/settings.js';
import type { DoctorReport } from '../../../core/contract/doctor.js';
import type { MediaScope } from '../../../core/contract/media-scope.js';
import { box, checkHealth } from '../api/box.js';
import { authoriseScreen, mediaToken, revokeScreen } from '../api/media.js';
import { enrolWithHub, exportAudit, getSettings, lock, runDoctor, saveSettings, sessionToken } from '../api/settings.js';
import { PinPad } from '../components/PinPad.js';
import { ScreenTokens } from '../components/ScreenTokens.js';
import { errorWords } from '../errors.js';
import { language, setLanguage, t } from '../i18n.js';
import { button, formatBytes, note, section } from '../ui.js';

export const Settings = defineComponent({
  name: 'SettingsScreen',
  setup() {
    const settings = ref<BoxSettings | null>(null);
    const doctor = ref<DoctorReport | null>(null);
    const doctorBusy = ref(false);
    const enrolCode = ref('');
    const message = ref<{ text: string; kind: 'info' | 'warn' } | null>(null);

    const loadSettings = async () => {
      try {
        settings.value = await getSettings();
      } catch (e) {
        message.value = { text: errorWords(e), kind: 'warn' };
        if (e instanceof Error && 'code' in e && e.code === 'E_UNAUTHORIZED') sessionToken.value = null;
      }
    };
    onMounted(() => { if (sessionToken.value) void loadSettings(); });
    watch(sessionToken, (tok) => { if (tok) void loadSettings(); else settings.value = null; });

    const save = async (patch: { language?: Language; volume?: number }) => {
      try {
        settings.value = await saveSettings({ ui: patch });
        if (patch.language) setLanguage(patch.language);
        box.prefs = settings.value.ui;
        message.value = { text: t('settings.saved'), kind: 'info' };
      } catch (e) {
        message.value = { text: errorWords(e), kind: 'warn' };
      }
    };

    const authorise = (scope: MediaScope) => {
      void authoriseScreen(`screen ${new Date().toISOString().slice(0, 10)}`, scope)
        .catch((e: unknown) => { message.value = { text: errorWords(e), kind: 'warn' }; });
    };

    const doEnrol = async () => {
      try {
        await enrolWithHub(enrolCode.value.trim());
        enrolCode.value = '';
        message.value = { text: t('settings.enrolDone'), kind: 'info' };
        await checkHealth();
      } catch (e) {
        message.value = { text: errorWords(e), kind: 'warn' };
      }
    };

    const doDoctor = async () => {
      doctorBusy.value = true;
      try { doctor.value = await runDoctor(); } catch (e) { message.value = { text: errorWords(e), kind: 'warn' }; }
      doctorBusy.value = false;
    };

    // The session rides in a header, so the file is fetched and handed to the browser as a download.
    const doExport = async (format: 'jsonl' | 'csv') => {
      try {
        const blob = await exportAudit(format);
        const a = document.createElement('a');
        a.href = URL.createObjectURL(blob);
        a.download = `${format === 'csv' ? 'audit' : 'box-log'}-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.${format}`;
        a.click();
        setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      } catch (e) {
        message.value = { text: errorWords(e), kind: 'warn' };
      }
    };

    return () => {
      if (!sessionToken.value) {
        return h('div', { class: 'screen settings', 'data-testid': 'screen-settings-locked' }, [
          h('h1', t('settings.title')),
          h(PinPad, { onUnlocked: () => { void checkHealth(); } }),
        ]);
      }
      const hb = box.health;
      const hub = hb?.hub;
      const hubWords = !hub ? t('settings.hubNone') : !hub.enrolled ? t('settings.hubNotEnrolled')
        : hub.reachable ? t('settings.hubPaired') : t('settings.hubPairedOffline');
      const s = settings.value;
      return h('div', { class: 'screen settings', 'data-testid': 'screen-settings' }, [
        h('div', { class: 'row' }, [h('h1', t('settings.title')), button(t('settings.lock'), () => void lock(), { testid: 'settings-lock' })]),
        message.value ? note(message.value.text, message.value.kind, 'settings-message') : null,
        h('div', { class: 'settings-grid' }, [
          section(t('settings.box'), [
            h('dl', [
              h('dt', t('settings.version')), h('dd', hb?.version ?? '—'),
              h('dt', t('settings.address')), h('dd', { 'data-testid': 'box-address' }, location.host),
            ]),
          ]),
          section(t('settings.screen'), [
            note(mediaToken.value ? t('settings.screenOn') : t('settings.screenOff'), mediaToken.value ? 'info' : 'warn', 'screen-state'),
            mediaToken.value
              ? button(t('settings.screenRevoke'), () => void revokeScreen(), { testid: 'screen-revoke' })
              : h('div', { class: 'row' }, [
                // What this screen is for follows the box: the hub's is the teacher's console, a teaching point's its classroom.
                button(t('settings.screenAuthorise'), () => authorise(hb?.role === 'hub' ? 'console' : 'classroom'), { kind: 'primary', testid: 'screen-authorise' }),
                button(t('settings.screenAuthoriseView'), () => authorise('view'), { testid: 'screen-authorise-view' }),
              ]),
          ]),
          section(t('settings.tokens'), [h(ScreenTokens)]),
          section(t('settings.network'), [
            h('dl', [h('dt', t('settings.address')), h('dd', location.origin)]),
          ]),
          section(t('settings.hub'), [
            note(hubWords, hub && !hub.reachable ? 'warn' : 'info', 'hub-pairing'),
            hub ? h('dl', [h('dt', t('settings.lastContact')), h('dd', hub.lastContactAt ? new Date(hub.lastContactAt).toLocaleString(language.value) : '—')]) : null,
            hub && !hub.enrolled ? h('form', { class: 'search', onSubmit: (e: Event) => { e.preventDefault(); void doEnrol(); } }, [
              h('label', { for: 'enrol-code', class: 'visually-hidden' }, t('settings.enrolCode')),
              h('input', { id: 'enrol-code', value: enrolCode.value, placeholder: 'ABCD-2345', autocomplete: 'off', 'data-testid': 'enrol-code',
                onInput: (e: Event) => { enrolCode.value = (e.target as HTMLInputElement).value; } }),
              h('button', { type: 'submit', class: 'btn btn-primary' }, t('settings.enrolSubmit')),
            ]) : null,
          ]),
          hb?.hardware ? section(t('settings.devices'), [
            h('dl', { 'data-testid': 'devices' }, [
              h('dt', t('settings.cameras')), h('dd', hb.hardware.cameras.names.join('、') || t('settings.none')),
              h('dt', t('settings.microphones')), h('dd', hb.hardware.microphones.names.join('、') || t('settings.none')),
              ...(hb.hardware.cpuTemperatureC !== null ? [h('dt', t('settings.cpuTemp')), h('dd', `${Math.round(hb.hardware.cpuTemperatureC)} °C`)] : []),
            ]),
          ]) : null,
          section(t('settings.storage'), [
            h('p', { 'data-testid': 'storage' }, t('settings.free', { free: formatBytes(hb?.disk.freeBytes ?? null), total: formatBytes(hb?.disk.totalBytes ?? null) })),
          ]),
          section(t('settings.language'), [
            h('div', { class: 'row' }, (['zh-CN', 'en'] as const).map((lang) =>
              button(lang === 'zh-CN' ? '中文' : 'English', () => void save({ language: lang }),
                { pressed: s?.ui.language === lang, testid: `language-${lang}` }))),
            h('p', [t('settings.volume'), ': ', String(s?.ui.volume ?? '—')]),
            h('div', { class: 'row' }, [
              button('−', () => s && void save({ volume: Math.max(0, s.ui.volume - 10) }), { label: t('lesson.volumeDown'), disabled: !s }),
              button('+', () => s && void save({ volume: Math.min(100, s.ui.volume + 10) }), { label: t('lesson.volumeUp'), disabled: !s }),
            ]),
          ]),
          section(t('settings.doctor'), [
            button(doctorBusy.value ? t('settings.doctorRunning') : t('settings.doctorRun'), () => void doDoctor(), { disabled: doctorBusy.value, testid: 'doctor-run' }),
            doctor.value ? h('ul', { class: 'checks', 'data-testid': 'doctor-results' }, doctor.value.checks.map((c) =>
              h('li', { class: `verdict-${c.verdict}` }, [h('strong', `${t(`verdict.${c.verdict}`)} · ${c.title}`), h('span', c.detail)]))) : null,
          ]),
          section(t('settings.logExport'), [
            h('p', t('settings.logExportHint')), button(t('settings.logExport'), () => void doExport('jsonl'), { testid: 'log-export' }),
            h('p', t('settings.auditExportHint')), button(t('settings.auditExport'), () => void doExport('csv'), { kind: 'primary', testid: 'audit-export' }),
          ]),
        ]),
      ]);
    };
  },
});
