// Settings: every screen that holds a working media token on this box, what it may do and until when,
// each with a big button to take it away (a lost tablet, a screen moved to another room).
import { defineComponent, h, onMounted, ref, watch } from 'vue';
import type { MediaTokenEntry } from '../../../core/contract/media-scope.js';
import { mediaToken, revokeToken, screenTokens } from '../api/media.js';
import { errorWords } from '../errors.js';
import { language, t, type MessageId } from '../i18n.js';
import { button, note } from '../ui.js';

export const ScreenTokens = defineComponent({
  name: 'ScreenTokens',
  setup() {
    const list = ref<MediaTokenEntry[] | null>(null);
    const problem = ref<string | null>(null);
    const refresh = async () => {
      try {
        list.value = await screenTokens();
        problem.value = null;
      } catch (e) {
        problem.value = errorWords(e);
      }
    };
    onMounted(() => void refresh());
    // This screen set itself up or dropped its token: the list changed.
    watch(mediaToken, () => void refresh());
    const revoke = async (id: string) => {
      try { await revokeToken(id); } catch (e) { problem.value = errorWords(e); }
      await refresh();
    };
    const until = (at: number | null) => (at === null ? '—' : new Date(at).toLocaleDateString(language.value));

    return () => h('div', { 'data-testid': 'screen-tokens' }, [
      h('p', t('settings.tokensHint')),
      problem.value ? note(problem.value, 'warn', 'screen-tokens-problem') : null,
      list.value?.length === 0 ? note(t('settings.tokensNone')) : null,
      h('ul', { class: 'list' }, (list.value ?? []).map((tk) => h('li', { 'data-testid': `token-${tk.id}`, 'data-scope': tk.scope }, [
        h('span', [
          h('strong', tk.label), tk.id === mediaToken.value?.id ? ` ${t('settings.tokenThis')}` : '', h('br'),
          t(`scope.${tk.scope}` as MessageId), ' · ', t('settings.tokenExpires', { date: until(tk.expiresAt) }),
        ]),
        button(t('settings.tokenRevoke'), () => void revoke(tk.id), { kind: 'danger', label: t('settings.tokenRevokeLabel', { label: tk.label }), testid: `token-revoke-${tk.id}` }),
      ]))),
    ]);
  },
});
