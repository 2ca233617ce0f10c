// Recordings kept on this box (its own and the hub's master recordings), with playback: the video plays
// from the box's Range URL and the courseware pane replays page turns and pen strokes at their moments,
// recomputed from the timeline on every time update, so it is right after any seek.
import { computed, defineComponent, h, onMounted, reactive, ref, shallowRef, watch } from 'vue';
import type { ControlEvent } from '../../../core/contract/lesson.js';
import type { Loaded } from '../api/http.js';
import { libraryFileUrl } from '../api/library.js';
import { applyEvent, emptyView, type LessonView } from '../api/live.js';
import { lessonOffsetMs, mediaMs, playableUrl, recordings, timeline, type RecordingEntry } from '../api/recordings.js';
import { Courseware } from '../components/Courseware.js';
import { errorWords } from '../errors.js';
import { language, t, type MessageId } from '../i18n.js';
import { go, route } from '../router.js';
import { button, note } from '../ui.js';

function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const mm = String(Math.floor(s / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm.slice(-2)}:${ss}` : `${mm}:${ss}`;
}

const Player = defineComponent({
  name: 'RecordingPlayer',
  props: { rec: { type: Object as () => RecordingEntry, required: true } },
  setup(props) {
    const video = ref<HTMLVideoElement | null>(null);
    const events = shallowRef<Array<{ ms: number; e: ControlEvent }>>([]);
    const view = reactive<LessonView>(emptyView());
    const now = ref(0);
    const duration = ref(props.rec.durationSeconds ?? 0);
    const paused = ref(true);
    const fileUrl = ref<string | null>(null);
    const problem = ref<string | null>(null);
    const src = ref<string | null>(null);
    let renewedAt = 0;
    // A ticket lapses after a long pause (or a box restart): a new one, and the player goes on where it was.
    const renew = async () => {
      if (Date.now() - renewedAt < 10_000) return;
      renewedAt = Date.now();
      const at = video.value?.currentTime ?? 0;
      const u = await playableUrl(props.rec);
      if (!u) return;
      video.value?.addEventListener('loadedmetadata', () => { if (video.value) video.value.currentTime = at; }, { once: true });
      src.value = u;
    };

    onMounted(async () => {
      void playableUrl(props.rec).then((u) => { src.value = u; });
      try {
        const [list, offset] = await Promise.all([timeline(props.rec), lessonOffsetMs(props.rec)]);
        events.value = list.map((e) => ({ ms: mediaMs(e.at, offset, props.rec.gaps), e }));
        replay();
      } catch (e) {
        problem.value = errorWords(e);
      }
    });

    // The pane shows what the timeline says at the video's current time: rebuilt from the start each time.
    const replay = () => {
      const at = now.value * 1000;
      const next = emptyView();
      for (const { ms, e } of events.value) {
        if (ms > at) break;
        applyEvent(next, e);
      }
      Object.assign(view, next);
    };
    watch(() => view.item, (item) => {
      fileUrl.value = null;
      if (item) void libraryFileUrl(item).then((u) => { if (view.item === item) fileUrl.value = u; });
    });

    const onTime = () => {
      const v = video.value;
      if (!v) return;
      now.value = v.currentTime;
      if (Number.isFinite(v.duration) && v.duration > 0) duration.value = v.duration;
      paused.value = v.paused;
      replay();
    };
    const seekBy = (delta: number) => {
      const v = video.value;
      if (!v) return;
      v.currentTime = Math.max(0, Math.min(duration.value || v.currentTime + delta, v.currentTime + delta));
    };
    const toggle = () => {
      const v = video.value;
      if (!v) return;
      if (v.paused) void v.play().catch(() => undefined);
      else v.pause();
    };

    return () => h('div', { class: 'recording-player', 'data-testid': 'recording-player' }, [
      h('div', { class: 'recording-grid' }, [
        h('div', { class: 'recording-media' }, [
          h('video', {
            ref: video, class: 'player', src: src.value ?? undefined, preload: 'metadata', playsinline: true,
            'aria-label': props.rec.title, 'data-testid': 'recording-video',
            onTimeupdate: onTime, onSeeked: onTime, onPlay: onTime, onPause: onTime, onLoadedmetadata: onTime, onError: () => void renew(),
          }),
          h('div', { class: 'row' }, [
            button(t('recordings.back10'), () => seekBy(-10), { testid: 'recording-back10' }),
            button(paused.value ? t('recordings.play') : t('recordings.pause'), toggle, { kind: 'primary', testid: 'recording-toggle' }),
            button(t('recordings.forward10'), () => seekBy(10), { testid: 'recording-forward10' }),
            h('span', { class: 'recording-time', 'data-testid': 'recording-time', 'aria-live': 'off' }, `${clock(now.value)} / ${clock(duration.value)}`),
          ]),
          h('input', {
            type: 'range', class: 'seek', min: 0, max: Math.max(1, Math.floor(duration.value)), step: 1, value: Math.floor(now.value),
            'aria-label': t('recordings.seek'), 'data-testid': 'recording-seek',
            onChange: (ev: Event) => { const v = video.value; if (v) v.currentTime = Number((ev.target as HTMLInputElement).value); },
          }),
        ]),
        h('div', { class: 'recording-side' }, [
          h(Courseware, { view, fileUrl: fileUrl.value }),
          problem.value ? note(problem.value, 'warn', 'recording-timeline-problem') : null,
        ]),
      ]),
    ]);
  },
});

export const Recordings = defineComponent({
  name: 'RecordingsScreen',
  setup() {
    const list = ref<Loaded<{ recordings: RecordingEntry[] }>>({ state: 'loading' });
    onMounted(async () => { list.value = await recordings(); });
    const opened = computed(() => {
      const l = list.value;
      return l.state === 'ready' && route.value.id ? l.data.recordings.find((r) => r.id === route.value.id) ?? null : null;
    });

    const line = (r: RecordingEntry) => [
      new Date(r.startedAt).toLocaleString(language.value, { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false }),
      [r.grade, r.subject].filter(Boolean).join(' '),
      r.title,
      r.durationSeconds !== null ? clock(r.durationSeconds) : null,
    ].filter(Boolean).join(' · ');

    return () => {
      const l = list.value;
      const p = opened.value;
      if (p) {
        return h('div', { class: 'screen recordings', 'data-testid': 'screen-recordings' }, [
          h('div', { class: 'lesson-top' }, [
            button(t('nav.back'), () => go('recordings'), { testid: 'recordings-back' }),
            h('h1', line(p)),
          ]),
          p.mediaUrl ? h(Player, { rec: p, key: p.id }) : note(t(`recordings.state.${p.state}` as MessageId), 'info', 'recording-not-playable'),
        ]);
      }
      return h('div', { class: 'screen recordings', 'data-testid': 'screen-recordings' }, [
        h('h1', t('recordings.title')),
        l.state === 'loading' ? note(t('app.opening')) : null,
        l.state === 'unavailable' ? note(t('recordings.unavailable'), 'info', 'recordings-unavailable') : null,
        l.state === 'error' && l.error.code === 'E_UNAUTHORIZED' ? note(t('home.screenNotAuthorised'), 'warn', 'screen-unauthorised') : null,
        l.state === 'error' && l.error.code !== 'E_UNAUTHORIZED' ? note(errorWords(l.error), 'warn', 'recordings-error') : null,
        l.state === 'ready' && l.data.recordings.length === 0 ? note(t('recordings.empty'), 'info', 'recordings-empty') : null,
        l.state === 'ready' && l.data.recordings.length ? h('ul', { class: 'list recordings-list', 'data-testid': 'recordings-list' }, l.data.recordings.map((r) =>
          h('li', { 'data-testid': `recording-${r.id}`, 'data-state': r.state }, [
            h('span', { class: 'recording-line' }, [
              h('strong', line(r)),
              h('span', { class: ['chip', r.state === 'complete' ? 'chip-ok' : 'chip-warn'] }, t(`recordings.state.${r.state}` as MessageId)),
              h('span', { class: 'tile-meta' }, r.source === 'teaching-point'
                ? t('recordings.source.teachingPoint', { name: r.fromBox?.name ?? r.fromBox?.boxId ?? '' })
                : t(r.source === 'master' ? 'recordings.source.master' : 'recordings.source.own')),
              r.gaps.some((g) => g.filledBy === null) ? h('span', { class: 'tile-meta' }, t('recordings.hasGaps')) : null,
            ]),
            button(t('recordings.play'), () => go('recordings', r.id), { kind: 'primary', disabled: !r.mediaUrl, testid: `play-${r.id}` }),
          ]))) : null,
      ]);
    };
  },
});
