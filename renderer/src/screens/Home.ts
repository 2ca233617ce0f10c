// Teaching-point home: clock, today's lessons, the next lesson with the big 加入课堂 button, link and sync.
import { defineComponent, h, onBeforeUnmount, onMounted, ref } from 'vue';
import type { Lesson } from '../../../core/contract/lesson.js';
import { box } from '../api/box.js';
import { nextLesson, timetable, todays, type LessonsReply } from '../api/lessons.js';
import { syncProgress, syncStatus, type SyncStatus } from '../api/library.js';
import type { Loaded } from '../api/http.js';
import { errorWords } from '../errors.js';
import { language, t, type MessageId } from '../i18n.js';
import { go } from '../router.js';
import { button, formatTime, note, section } from '../ui.js';

const planWords = { 'lesson-share': 'status.syncLessonShare', 'lesson-paused': 'status.syncLessonPaused', 'outside-window': 'status.syncOutsideWindow' } as const;

function syncLines(s: Loaded<SyncStatus>) {
  if (s.state !== 'ready') return [note(t('status.syncUnknown'), 'info', 'sync-state')];
  const reason = s.data.plan?.reason;
  const plan = reason && reason !== 'open' ? note(t(planWords[reason]), 'info', 'sync-plan') : null;
  const p = syncProgress(s.data);
  if (p === null) return [note(t('status.syncIdle'), 'info', 'sync-state'), plan];
  const percent = Math.round(p * 100);
  return [note(t('status.syncing', { percent }), 'info', 'sync-state'), h('progress', { max: 100, value: percent, 'aria-label': t('home.sync') }), plan];
}

export const Home = defineComponent({
  name: 'HomeScreen',
  setup() {
    const lessons = ref<Loaded<LessonsReply> | { state: 'unauthorised' }>({ state: 'loading' });
    const sync = ref<Loaded<SyncStatus>>({ state: 'loading' });
    const now = ref(new Date());
    const refresh = async () => {
      now.value = new Date();
      [lessons.value, sync.value] = await Promise.all([timetable(), syncStatus()]);
    };
    let timer: ReturnType<typeof setInterval> | undefined;
    onMounted(() => { void refresh(); timer = setInterval(() => void refresh(), 5000); });
    onBeforeUnmount(() => clearInterval(timer));

    const lessonLine = (l: Lesson) => `${formatTime(l.startsAt, language.value)}–${formatTime(l.endsAt, language.value)}  ${l.grade} ${l.subject} · ${l.title}`;

    return () => {
      const l = lessons.value;
      const today = l.state === 'ready' ? todays(l.data.lessons, now.value) : [];
      const next = l.state === 'ready' ? nextLesson(today, now.value) : undefined;
      const hub = box.health?.hub;
      const links = l.state === 'ready' ? l.data.links ?? [] : [];
      const live = links.find((x) => x.lessonId === next?.id);

      const nextCard = section(t('home.next'), [
        next ? h('p', { class: 'lesson-next', 'data-testid': 'next-lesson' }, lessonLine(next)) : null,
        button(next ? t('home.join') : t('home.joinDisabled'), () => { if (next) go('lesson', next.id); },
          { kind: 'big', disabled: !next, testid: 'join' }),
      ], 'next-card');

      const todayCard = section(t('home.today'), [
        l.state === 'loading' ? note(t('app.opening')) : null,
        l.state === 'unauthorised' ? note(t('home.screenNotAuthorised'), 'warn', 'screen-unauthorised') : null,
        l.state === 'unavailable' ? note(t('home.timetableUnavailable'), 'info', 'timetable-unavailable') : null,
        l.state === 'error' ? note(errorWords(l.error), 'warn') : null,
        l.state === 'ready' && today.length === 0 ? note(t('home.noLessons'), 'info', 'no-lessons') : null,
        today.length ? h('ol', { class: 'timetable', 'data-testid': 'timetable' }, today.map((x) =>
          h('li', { class: x.status === 'live' ? 'live' : '' }, lessonLine(x)))) : null,
      ]);

      const linkWords = live?.rung ? t(`status.rung.${live.rung}` as MessageId)
        : live ? (live.pull.state === 'connected' ? t('status.connected') : live.pull.state === 'retrying' ? t('status.rung.offline') : t('status.joining'))
          : hub ? (hub.reachable ? t('status.hubConnected') : t('status.offline')) : t('status.linkUnknown');
      const linkCard = section(t('home.link'), [note(linkWords, hub && !hub.reachable ? 'warn' : 'info', 'link-state')]);

      return h('div', { class: 'screen home', 'data-testid': 'screen-home' }, [
        h('h1', { class: 'visually-hidden' }, t('nav.home')),
        h('div', { class: 'home-grid' }, [
          h('div', { class: 'col' }, [nextCard, todayCard]),
          h('div', { class: 'col' }, [linkCard, section(t('home.sync'), syncLines(sync.value))]),
        ]),
      ]);
    };
  },
});
