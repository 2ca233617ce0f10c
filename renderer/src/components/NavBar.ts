// The bottom bar of big buttons: every screen is one touch away, no keyboard or mouse needed.
import { defineComponent, h, type PropType } from 'vue';
import { go, route, type Screen } from '../router.js';
import { t, type MessageId } from '../i18n.js';

const labels: Record<Screen, MessageId> = {
  home: 'nav.home', lesson: 'nav.lesson', library: 'nav.library', recordings: 'nav.recordings', settings: 'nav.settings', console: 'nav.console',
};

export const NavBar = defineComponent({
  name: 'NavBar',
  props: { screens: { type: Array as PropType<Screen[]>, required: true } },
  setup(props) {
    return () => h('nav', { class: 'navbar', 'aria-label': t('app.title') }, props.screens.map((s) =>
      h('button', {
        type: 'button',
        class: ['btn', 'nav-btn', route.value.screen === s ? 'nav-current' : ''],
        'aria-current': route.value.screen === s ? 'page' : undefined,
        'data-testid': `nav-${s}`,
        onClick: () => go(s),
      }, t(labels[s]))));
  },
});
