// The lesson on the whiteboard: hub video full screen (WHEP from this box), courseware with live strokes,
// self-view (sent to the hub via this box with WHIP), hand-raise, volume, and the link in plain words.
import { computed, defineComponent, h, onBeforeUnmount, onMounted, reactive, ref, shallowRef, watch } from 'vue';
import type { Lesson } from '../../../core/contract/lesson.js';
import { broadcastRoom, classroomRoom } from '../../../core/contract/lesson.js';
import { hardwareMessage, type MessageKey } from '../../../core/contract/hardware.js';
import { HowlingGuard } from '../../howling-guard/guard.js';
import { box } from '../api/box.js';
import { lesson as fetchLesson, timetable, type LinkStatus } from '../api/lessons.js';
import { libraryFileUrl } from '../api/library.js';
import { applyEvent, ControlChannel, emptyView, openClassroom, playRoom, publishRoom, type MediaSession } from '../api/live.js';
import { mediaToken } from '../api/media.js';
import { Courseware } from '../components/Courseware.js';
import { LiveVideo } from '../components/LiveVideo.js';
import { errorWords } from '../errors.js';
import { language, t, type MessageId } from '../i18n.js';
import { go, route } from '../router.js';
import { button, note } from '../ui.js';

export const LessonScreen = defineComponent({
  name: 'LessonScreen',
  setup() {
    const lesson = ref<Lesson | null>(null);
    const problem = ref<string | null>(null);
    const hubStream = shallowRef<MediaStream | null>(null);
    const selfStream = shallowRef<MediaStream | null>(null);
    const playing = ref(false);
    const handUp = ref(false);
    const volume = ref(box.prefs?.volume ?? 80);
    const view = reactive(emptyView());
    const link = ref<LinkStatus | null>(null);
    const cameraWords = ref<string | null>(null);
    const fileUrl = ref<string | null>(null);
    let play: MediaSession | null = null;
    let publish: MediaSession | null = null;
    let control: ControlChannel | null = null;
    let left = false;
    // The hub's sound goes through WebAudio so the howling guard can turn the loudspeaker down.
    let audio: AudioContext | null = null;
    let speakerGain: GainNode | null = null;
    let hubSound: MediaStreamAudioSourceNode | null = null;
    let guard: HowlingGuard | null = null;
    let capture: MediaStream | null = null;
    const soundRouted = ref(false);
    const deviceProblems = ref<MessageKey[]>([]);
    const howl = ref<{ key: MessageKey; phase: string } | null>(null);
    let howlClear: ReturnType<typeof setTimeout> | undefined;
    let timers: Array<ReturnType<typeof setTimeout>> = [];

    const token = () => mediaToken.value?.token ?? '';
    const me = () => box.health?.boxId ?? 'kiosk';

    const startPlay = async (l: Lesson) => {
      while (!left && !play) {
        try {
          play = await playRoom(broadcastRoom(l.id), token(), (s) => { hubStream.value = s; routeHubSound(s); });
          play.pc.addEventListener('connectionstatechange', () => {
            if (play && (play.pc.connectionState === 'failed' || play.pc.connectionState === 'closed')) {
              void play.close(); play = null; playing.value = false; if (!left) void startPlay(l);
            }
          });
        } catch (e) {
          // The hub's picture reaches this box a moment after the lesson starts: keep trying quietly.
          problem.value = errorWords(e);
          await new Promise((r) => timers.push(setTimeout(r, 2000)));
        }
      }
      problem.value = null;
    };

    const setUpSound = () => {
      try {
        audio = new AudioContext();
        void audio.resume().catch(() => undefined);
        speakerGain = audio.createGain();
        speakerGain.gain.value = volume.value / 100;
        speakerGain.connect(audio.destination);
        soundRouted.value = true;
      } catch {
        audio = null; // no WebAudio: the video element plays the sound, without the guard
      }
    };

    const routeHubSound = (s: MediaStream) => {
      if (!audio || !speakerGain || s.getAudioTracks().length === 0) return;
      hubSound?.disconnect();
      hubSound = audio.createMediaStreamSource(s);
      hubSound.connect(speakerGain);
    };

    const onHowl = (key: MessageKey, phase: string) => {
      howl.value = { key, phase };
      clearTimeout(howlClear);
      if (phase === 'normal') howlClear = setTimeout(() => { howl.value = null; }, 8000);
    };

    const startSelf = async (l: Lesson) => {
      try {
        const cap = await openClassroom();
        if (left) { cap.stream.getTracks().forEach((tr) => tr.stop()); return; }
        capture = cap.stream;
        deviceProblems.value = cap.problems;
        let sent = cap.stream;
        const mic = cap.stream.getAudioTracks();
        if (audio && speakerGain && mic.length > 0) {
          // The guard hears the raw room microphone; the classroom sends what the guard lets through.
          guard = new HowlingGuard({ context: audio, microphone: new MediaStream(mic), speakerGain, onNotice: (n) => onHowl(n.messageKey, n.phase) });
          guard.start();
          sent = new MediaStream([...cap.stream.getVideoTracks(), ...guard.sendStream.getAudioTracks()]);
        }
        selfStream.value = sent;
        sent.getAudioTracks().forEach((tr) => { tr.enabled = view.muted[me()] !== true; });
        publish = await publishRoom(classroomRoom(l.id, me()), token(), sent);
      } catch (e) {
        cameraWords.value = e instanceof DOMException ? hardwareMessage('camera.none', language.value) : errorWords(e);
      }
    };

    const pollLink = async () => {
      const out = await timetable();
      if (out.state === 'ready' && lesson.value) link.value = out.data.links?.find((x) => x.lessonId === lesson.value?.id) ?? null;
      if (!left) timers.push(setTimeout(() => void pollLink(), 3000));
    };

    onMounted(async () => {
      const id = route.value.id;
      if (!id || !mediaToken.value) { problem.value = t('lesson.unavailable'); return; }
      const out = await fetchLesson(id);
      if (out.state !== 'ready') { problem.value = out.state === 'error' ? errorWords(out.error) : t('lesson.unavailable'); return; }
      lesson.value = out.data;
      setUpSound();
      control = new ControlChannel(id, token(), me(), (e) => {
        applyEvent(view, e);
        if (e.type === 'hand' && e.sender === me()) handUp.value = e.body.raised === true;
        // The hub teacher's mute switches this classroom's microphone off at the source.
        if (e.type === 'mute' && e.body.target === me()) selfStream.value?.getAudioTracks().forEach((tr) => { tr.enabled = e.body.muted !== true; });
        if (e.type === 'page' && typeof e.body.item === 'string') void libraryFileUrl(e.body.item).then((u) => { fileUrl.value = u; });
      });
      void startPlay(out.data);
      void startSelf(out.data);
      void pollLink();
    });

    const leave = async () => {
      left = true;
      timers.forEach(clearTimeout);
      timers = [];
      control?.close();
      clearTimeout(howlClear);
      guard?.stop();
      guard = null;
      capture?.getTracks().forEach((tr) => tr.stop());
      selfStream.value?.getTracks().forEach((tr) => tr.stop());
      void audio?.close().catch(() => undefined);
      audio = null;
      await Promise.all([play?.close(), publish?.close()]);
      play = null;
      publish = null;
    };
    onBeforeUnmount(() => void leave());
    // The teacher's volume sets the loudspeaker; while the guard has it turned down, the guard decides.
    watch(volume, (v) => {
      if (speakerGain && audio && (!guard || guard.phase === 'normal')) speakerGain.gain.setTargetAtTime(v / 100, audio.currentTime, 0.05);
    });

    const statusWords = computed(() => {
      const rung = link.value?.rung;
      if (rung) return t(`status.rung.${rung}` as MessageId);
      if (link.value && link.value.pull.state === 'retrying') return t('status.rung.offline');
      return playing.value ? t('status.connected') : t('status.joining');
    });

    return () => {
      const l = lesson.value;
      return h('div', { class: 'screen lesson', 'data-testid': 'screen-lesson' }, [
        h('div', { class: 'lesson-top' }, [
          h('h1', l ? `${l.grade} ${l.subject} · ${l.title}` : t('lesson.title')),
          h('p', { class: 'chip chip-ok', role: 'status', 'data-testid': 'lesson-status', 'data-playing': String(playing.value) }, statusWords.value),
          button(t('lesson.leave'), () => { void leave().then(() => go('home')); }, { kind: 'danger', testid: 'leave' }),
        ]),
        problem.value && !playing.value ? note(problem.value, 'warn', 'lesson-problem') : null,
        view.muted[me()] ? note(t('lesson.mutedByHub'), 'warn', 'muted-by-hub') : null,
        howl.value ? h('div', { 'data-phase': howl.value.phase }, [note(hardwareMessage(howl.value.key, language.value), howl.value.phase === 'normal' ? 'info' : 'warn', 'howl-notice')]) : null,
        ...deviceProblems.value.map((k) => note(hardwareMessage(k, language.value), 'warn', `device-${k.replace('.', '-')}`)),
        view.state === 'ended' ? note(t('lesson.ended'), 'info', 'lesson-ended') : null,
        h('div', { class: 'lesson-grid' }, [
          h('div', { class: 'hub-video' }, [
            h(LiveVideo, { stream: hubStream.value, label: t('lesson.hubVideo'), volume: volume.value, muted: soundRouted.value, testid: 'hub-video', onPlaying: () => { playing.value = true; } }),
            playing.value ? null : h('p', { class: 'video-wait' }, t('lesson.waitingVideo')),
          ]),
          h('div', { class: 'lesson-side' }, [
            h(Courseware, { view, fileUrl: fileUrl.value }),
            h('div', { class: 'self-view' }, [
              h(LiveVideo, { stream: selfStream.value, label: t('lesson.selfView'), muted: true, testid: 'self-view' }),
              cameraWords.value ? note(cameraWords.value, 'warn') : null,
            ]),
            h('div', { class: 'row' }, [
              button(handUp.value ? t('lesson.lowerHand') : t('lesson.raiseHand'), () => control?.send('hand', { raised: !handUp.value }),
                { kind: 'primary', pressed: handUp.value, testid: 'hand' }),
              button('−', () => { volume.value = Math.max(0, volume.value - 10); }, { label: t('lesson.volumeDown'), testid: 'volume-down' }),
              h('span', { 'data-testid': 'volume' }, `${t('lesson.volume')} ${volume.value}`),
              button('+', () => { volume.value = Math.min(100, volume.value + 10); }, { label: t('lesson.volumeUp'), testid: 'volume-up' }),
            ]),
            handUp.value ? note(t('lesson.handRaised'), 'info', 'hand-raised') : null,
          ]),
        ]),
      ]);
    };
  },
});
