// The top bar: box name, clock, hub link and language switch, in plain words.
import { defineComponent, h, onBeforeUnmount, ref } from 'vue';
import { box } from '../api/box.js';
import { language, setLanguage, t } from '../i18n.js';
import { button } from '../ui.js';

export const StatusBar = defineComponent({
  name: 'StatusBar',
  setup() {
    const now = ref(new Date());
    const tick = setInterval(() => { now.value = new Date(); }, 1000);
    onBeforeUnmount(() => clearInterval(tick));
    return () => {
      const hb = box.health;
      const hub = hb?.hub;
      const link = hub ? (hub.reachable ? t('status.hubConnected') : t('status.offline')) : null;
      return h('header', { class: 'statusbar' }, [
        h('div', { class: 'statusbar-name' }, hb?.name ?? t('app.title')),
        h('time', { class: 'statusbar-clock', 'data-testid': 'clock', datetime: now.value.toISOString(), 'aria-label': t('home.clock') },
          now.value.toLocaleTimeString(language.value, { hour: '2-digit', minute: '2-digit', hour12: false })),
        link ? h('span', { class: ['chip', hub?.reachable ? 'chip-ok' : 'chip-warn'], 'data-testid': 'hub-link' }, link) : null,
        button(t('lang.switch'), () => setLanguage(language.value === 'zh-CN' ? 'en' : 'zh-CN'), { testid: 'lang-switch' }),
      ]);
    };
  },
});
