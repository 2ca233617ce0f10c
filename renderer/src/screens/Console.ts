// The hub console: start and end the lesson (camera sent with WHIP to this box), a grid of the teaching
// points (their classrooms played with WHEP from this box, link state, raised hands), mute and spotlight,
// courseware page control and pen.
import { computed, defineComponent, h, onBeforeUnmount, onMounted, reactive, ref, shallowRef } from 'vue';
import type { Lesson, PointLinkStatus } from '../../../core/contract/lesson.js';
import type { RecordingStatus } from '../../../core/contract/recording.js';
import { broadcastRoom, classroomRoom } from '../../../core/contract/lesson.js';
import { roomMicConstraints } from '../../../core/contract/hardware.js';
import { box } from '../api/box.js';
import { nextLesson, timetable, todays } from '../api/lessons.js';
import { ApiError, load } from '../api/http.js';
import { recordings } from '../api/recordings.js';
import { libraryFileUrl } from '../api/library.js';
import { applyEvent, ControlChannel, emptyView, playRoom, publishRoom, type MediaSession } from '../api/live.js';
import { mediaToken } from '../api/media.js';
import { Courseware } from '../components/Courseware.js';
import { LiveVideo } from '../components/LiveVideo.js';
import { errorWords } from '../errors.js';
import { language, t, type MessageId } from '../i18n.js';
import { button, formatTime, note } from '../ui.js';

interface Tile { stream: MediaStream | null; session: MediaSession | null; playing: boolean }

/** The recording state in /api/health (optional: boxes without the recorder leave it out). */
function healthRecording(): RecordingStatus | null {
  return (box.health as { recording?: RecordingStatus } | null)?.recording ?? null;
}

export const Console = defineComponent({
  name: 'ConsoleScreen',
  setup() {
    const lesson = ref<Lesson | null>(null);
    const state = ref<'loading' | 'unauthorised' | 'none' | 'ready' | 'error'>('loading');
    const problem = ref<string | null>(null);
    const view = reactive(emptyView());
    const tiles = reactive<Record<string, Tile>>({});
    const camera = shallowRef<MediaStream | null>(null);
    const pen = ref(false);
    const fileUrl = ref<string | null>(null);
    /** Why the camera is not on the air: another publisher holds the room, or another console took it over. */
    const blocked = ref<null | 'busy' | 'taken'>(null);
    let publish: MediaSession | null = null;
    let control: ControlChannel | null = null;
    let closed = false;
    const timers: Array<ReturnType<typeof setTimeout>> = [];
    const token = () => mediaToken.value?.token ?? '';
    const me = () => box.health?.boxId ?? 'hub-console';
    const rungs = ref<Record<string, PointLinkStatus>>({});
    /** null: this box says nothing about recording (neither /api/health nor /api/recordings). */
    const recListActive = ref<boolean | null>(null);

    // Each point's ladder rung from the hub (GET /api/lessons/<id>/links), and the recording state when
    // /api/health does not carry it: polled while the console is open.
    const poll = async (l: Lesson) => {
      const links = await load<{ points: PointLinkStatus[] }>(`/api/lessons/${encodeURIComponent(l.id)}/links`, { token: token() });
      if (links.state === 'ready') rungs.value = Object.fromEntries(links.data.points.map((p) => [p.boxId, p]));
      if (!healthRecording()) {
        const recs = await recordings();
        recListActive.value = recs.state === 'ready' ? recs.data.recordings.some((r) => r.lessonId === l.id && r.state === 'recording') : null;
      }
      if (!closed) timers.push(setTimeout(() => void poll(l), 3000));
    };

    const watchTile = async (l: Lesson, tp: string) => {
      const tile = tiles[tp] ?? (tiles[tp] = { stream: null, session: null, playing: false });
      while (!closed && !tile.session) {
        try {
          tile.session = await playRoom(classroomRoom(l.id, tp), token(), (s) => { tile.stream = s; });
          tile.session.pc.addEventListener('connectionstatechange', () => {
            const st = tile.session?.pc.connectionState;
            if (st === 'failed' || st === 'closed') { void tile.session?.close(); tile.session = null; tile.playing = false; if (!closed) void watchTile(l, tp); }
          });
        } catch {
          // The classroom arrives once that teaching point has joined: keep trying.
          await new Promise((r) => timers.push(setTimeout(r, 2000)));
        }
      }
    };

    onMounted(async () => {
      if (!mediaToken.value) { state.value = 'unauthorised'; return; }
      const out = await timetable();
      if (out.state === 'unauthorised') { state.value = 'unauthorised'; return; }
      if (out.state !== 'ready') { state.value = 'error'; problem.value = out.state === 'error' ? errorWords(out.error) : t('console.unavailable'); return; }
      const l = nextLesson(todays(out.data.lessons, new Date()), new Date()) ?? null;
      lesson.value = l;
      state.value = l ? 'ready' : 'none';
      if (!l) return;
      control = new ControlChannel(l.id, token(), me(), (e) => {
        applyEvent(view, e);
        if (e.type === 'page' && typeof e.body.item === 'string') void libraryFileUrl(e.body.item).then((u) => { fileUrl.value = u; });
      });
      for (const tp of l.teachingPoints) void watchTile(l, tp);
      void poll(l);
    });

    // The teacher's camera goes back on the air by itself when its connection to the box fails (a
    // busy or restarted box): every teaching point would otherwise lose the lesson until someone
    // pressed Start again. Stopping (End lesson, leaving the screen) clears the camera first.
    // Another console taking the room over ends this session: that is shown and not fought back.
    const publishCamera = async (l: Lesson, takeover = false): Promise<void> => {
      const cam = camera.value;
      if (!cam || closed) return;
      const session = await publishRoom(broadcastRoom(l.id), token(), cam, { takeover });
      if (camera.value !== cam || closed) { await session.close(); return; }
      publish = session;
      blocked.value = null;
      let lost: ReturnType<typeof setTimeout> | undefined;
      const again = async () => {
        clearTimeout(lost);
        if (publish !== session) return;
        publish = null;
        const why = await session.state();
        void session.close();
        if (why?.reason === 'taken-over') { blocked.value = 'taken'; problem.value = null; return; }
        problem.value = t('console.reconnecting');
        void republish(l);
      };
      session.pc.addEventListener('connectionstatechange', () => {
        const st = session.pc.connectionState;
        if (st === 'failed' || st === 'closed') void again();
        // The box ends a session that stays disconnected for 10 s; Chromium may call it failed only
        // after 30 s of unanswered consent checks: do not wait for that.
        else if (st === 'disconnected') lost ??= setTimeout(() => void again(), 5000);
        else if (st === 'connected') { clearTimeout(lost); lost = undefined; }
      });
    };
    const republish = async (l: Lesson): Promise<void> => {
      while (!closed && camera.value && !publish) {
        try {
          await publishCamera(l);
          problem.value = null;
        } catch (e) {
          if (e instanceof ApiError && e.code === 'E_ROOM_HAS_PUBLISHER') { blocked.value = 'busy'; problem.value = null; return; }
          problem.value = `${t('console.reconnecting')} ${errorWords(e)}`;
          await new Promise((r) => timers.push(setTimeout(r, 2000)));
        }
      }
    };

    const start = async () => {
      const l = lesson.value;
      if (!l) return;
      problem.value = null;
      try {
        camera.value = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 }, audio: roomMicConstraints() });
        await publishCamera(l);
        begin(l);
      } catch (e) {
        if (e instanceof ApiError && e.code === 'E_ROOM_HAS_PUBLISHER') blocked.value = 'busy';
        else problem.value = errorWords(e);
      }
    };

    const begin = (l: Lesson) => {
      if (view.state === 'started') return;
      control?.send('lesson', { state: 'started' });
      const first = l.courseware[0];
      if (first) control?.send('page', { item: first, page: 1 });
    };

    // A lesson already running (started from another console): this one opens its camera and goes on
    // the air if the room is free, else says who holds it and offers the takeover.
    const goOnAir = async () => {
      const l = lesson.value;
      if (!l) return;
      problem.value = null;
      try {
        camera.value ??= await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 }, audio: roomMicConstraints() });
        await publishCamera(l);
      } catch (e) {
        if (e instanceof ApiError && e.code === 'E_ROOM_HAS_PUBLISHER') blocked.value = 'busy';
        else problem.value = errorWords(e);
      }
    };

    // The teacher chose to put this console on the air in place of whoever holds the room.
    const takeOver = async () => {
      const l = lesson.value;
      if (!l || !camera.value) return;
      problem.value = null;
      try {
        await publishCamera(l, true);
        begin(l);
      } catch (e) {
        problem.value = errorWords(e);
      }
    };

    const stopMedia = async () => {
      blocked.value = null;
      camera.value?.getTracks().forEach((tr) => tr.stop());
      camera.value = null;
      await publish?.close();
      publish = null;
    };

    const end = async () => {
      control?.send('lesson', { state: 'ended' });
      await stopMedia();
    };

    onBeforeUnmount(() => {
      closed = true;
      timers.forEach(clearTimeout);
      control?.close();
      void stopMedia();
      for (const tile of Object.values(tiles)) void tile.session?.close();
    });

    const page = (delta: number) => control?.send('page', { item: view.item ?? lesson.value?.courseware[0] ?? null, page: Math.max(1, view.page + delta) });
    const live = computed(() => view.state === 'started');

    const recordingChip = (l: Lesson) => {
      const st = healthRecording();
      const on = st ? st.active.some((a) => a.lessonId === l.id) : recListActive.value;
      if (on === null) return null;
      return [
        h('span', { class: ['chip', on ? 'chip-rec' : 'chip-warn'], role: 'status', 'data-testid': 'recording-indicator', 'data-recording': String(on) },
          on ? `● ${t('console.recording')}` : t('console.notRecording')),
        st?.warning ? note(t('console.recordingWarning', { message: st.warning.message }), 'warn', 'recording-warning') : null,
      ];
    };

    return () => {
      const l = lesson.value;
      if (state.value !== 'ready' || !l) {
        return h('div', { class: 'screen console', 'data-testid': 'screen-console' }, [
          h('h1', t('console.title')),
          state.value === 'unauthorised' ? note(t('home.screenNotAuthorised'), 'warn', 'screen-unauthorised') : null,
          state.value === 'none' ? note(t('console.noLesson'), 'info', 'no-lesson') : null,
          state.value === 'error' && problem.value ? note(problem.value, 'warn') : null,
        ]);
      }
      return h('div', { class: 'screen console', 'data-testid': 'screen-console' }, [
        h('div', { class: 'lesson-top' }, [
          h('h1', `${formatTime(l.startsAt, language.value)} ${l.grade} ${l.subject} · ${l.title}`),
          live.value
            ? button(t('console.end'), () => void end(), { kind: 'danger', testid: 'end-lesson' })
            : button(t('console.start'), () => void start(), { kind: 'primary', testid: 'start-lesson' }),
        ]),
        h('div', { class: 'console-status' }, recordingChip(l) ?? []),
        live.value && !camera.value && !blocked.value ? button(t('console.goOnAir'), () => void goOnAir(), { kind: 'primary', testid: 'go-on-air' }) : null,
        problem.value ? note(problem.value, 'warn', 'console-problem') : null,
        blocked.value ? h('div', { class: 'row', 'data-testid': 'console-blocked', 'data-why': blocked.value }, [
          note(t(blocked.value === 'taken' ? 'console.takenOver' : 'console.roomBusy'), 'warn'),
          button(t('console.takeOver'), () => void takeOver(), { kind: 'primary', testid: 'take-over' }),
        ]) : null,
        h('div', { class: 'console-grid' }, [
          h('div', { class: 'console-main' }, [
            h(Courseware, { view, fileUrl: fileUrl.value, pen: pen.value,
              onStroke: (points: Array<[number, number]>) => control?.send('stroke', { page: view.page, points, color: '#d92d20', width: 4 }) }),
            h('div', { class: 'row' }, [
              button(t('console.prevPage'), () => page(-1), { disabled: view.page <= 1, testid: 'page-prev' }),
              h('span', { 'data-testid': 'console-page' }, t('lesson.page', { page: view.page })),
              button(t('console.nextPage'), () => page(1), { testid: 'page-next' }),
              button(t('console.pen'), () => { pen.value = !pen.value; }, { pressed: pen.value, testid: 'pen' }),
            ]),
            h('div', { class: 'self-view' }, [h(LiveVideo, { stream: camera.value, label: t('lesson.selfView'), muted: true, testid: 'hub-self' })]),
          ]),
          h('section', { class: 'points', 'aria-label': t('console.points') }, [
            h('h2', t('console.points')),
            l.teachingPoints.length === 0 ? note(t('console.noPoints')) : null,
            h('ul', { class: 'point-grid' }, l.teachingPoints.map((tp) => {
              const tile = tiles[tp];
              const hand = view.hands[tp] === true;
              const muted = view.muted[tp] === true;
              return h('li', { class: ['point', view.spotlight === tp ? 'spotlit' : ''], 'data-testid': `point-${tp}`, 'data-hand': String(hand), 'data-playing': String(tile?.playing ?? false) }, [
                h(LiveVideo, { stream: tile?.stream ?? null, label: tp, muted, onPlaying: () => { if (tile) tile.playing = true; } }),
                h('p', { class: 'point-name' }, [
                  h('span', tp.slice(0, 12)),
                  h('span', { class: ['chip', tile?.playing ? 'chip-ok' : 'chip-warn'] }, tile?.playing ? t('status.connected') : t('status.joining')),
                  hand ? h('span', { class: 'chip chip-hand', role: 'status', 'data-testid': `hand-${tp}` }, `✋ ${t('console.handRaised')}`) : null,
                ]),
                rungs.value[tp]?.rung ? h('p', { class: 'point-rung', 'data-testid': `rung-${tp}`, 'data-rung': rungs.value[tp]!.rung }, [
                  h('span', `${t('console.rung')}: `), t(`status.rung.${rungs.value[tp]!.rung!}` as MessageId),
                ]) : null,
                h('div', { class: 'row' }, [
                  button(muted ? t('console.unmute') : t('console.mute'), () => control?.send('mute', { target: tp, muted: !muted }), { pressed: muted }),
                  button(t('console.spotlight'), () => control?.send('spotlight', { target: view.spotlight === tp ? null : tp }), { pressed: view.spotlight === tp }),
                ]),
              ]);
            })),
          ]),
        ]),
      ]);
    };
  },
});
