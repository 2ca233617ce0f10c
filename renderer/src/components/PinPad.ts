// The settings PIN on an on-screen keypad: the whiteboard has no keyboard to rely on.
import { defineComponent, h, ref } from 'vue';
import { unlock } from '../api/settings.js';
import { ApiError } from '../api/http.js';
import { errorWords } from '../errors.js';
import { t } from '../i18n.js';
import { button, note } from '../ui.js';

export const PinPad = defineComponent({
  name: 'PinPad',
  emits: ['unlocked'],
  setup(_props, { emit }) {
    const digits = ref('');
    const message = ref<{ text: string; kind: 'warn' | 'alert' } | null>(null);
    const busy = ref(false);

    const press = (d: string) => { if (digits.value.length < 12) digits.value += d; };
    const submit = async () => {
      if (busy.value || digits.value.length < 4) return;
      busy.value = true;
      try {
        await unlock(digits.value);
        message.value = null;
        emit('unlocked');
      } catch (e) {
        const locked = e instanceof ApiError && e.code === 'E_PIN_LOCKED';
        message.value = { text: errorWords(e), kind: locked ? 'alert' : 'warn' };
      } finally {
        digits.value = '';
        busy.value = false;
      }
    };

    return () => h('div', { class: 'pinpad', 'data-testid': 'pinpad' }, [
      h('h2', t('settings.pinTitle')),
      h('p', t('settings.pinHint')),
      h('div', { class: 'pin-dots', 'aria-live': 'polite', 'data-testid': 'pin-count' }, [
        h('span', { 'aria-hidden': 'true' }, '●'.repeat(digits.value.length) || ' '),
        h('span', { class: 'visually-hidden' }, t('settings.pinDigits', { count: digits.value.length })),
      ]),
      message.value ? note(message.value.text, message.value.kind, 'pin-message') : null,
      h('div', { class: 'keypad' }, [
        ...['1', '2', '3', '4', '5', '6', '7', '8', '9'].map((d) => button(d, () => press(d), { testid: `key-${d}` })),
        button(t('settings.clear'), () => { digits.value = ''; }, { testid: 'key-clear' }),
        button('0', () => press('0'), { testid: 'key-0' }),
        button('⌫', () => { digits.value = digits.value.slice(0, -1); }, { label: t('settings.delete'), testid: 'key-delete' }),
      ]),
      button(t('settings.ok'), () => void submit(), { kind: 'primary', disabled: busy.value || digits.value.length < 4, testid: 'pin-ok' }),
    ]);
  },
});
