// The library: browse by grade/subject/unit, search (typed with the whiteboard's own IME), open items.
// Read-only: the same page serves classroom tablets on the LAN.
import { computed, defineAsyncComponent, defineComponent, h, onMounted, ref, watch } from 'vue';
import { fileUrl, LIBRARY_PAGE, libraryItems, libraryTree, viewKind, type LibraryItem, type LibraryPage, type LibraryQuery, type TreeEntry, type ViewKind } from '../api/library.js';
import type { Loaded } from '../api/http.js';
import { errorWords } from '../errors.js';
import { language, t, type MessageId } from '../i18n.js';
import { go, route } from '../router.js';
import { button, note, section } from '../ui.js';

// pdf.js is large: loaded only when a PDF is opened (still precached for offline use).
const PdfView = defineAsyncComponent(() => import('../components/PdfView.js').then((m) => m.PdfView));

const kindWords: Record<ViewKind, MessageId> = {
  video: 'library.kind.video', pdf: 'library.kind.pdf', image: 'library.kind.image', audio: 'library.kind.audio', other: 'library.kind.other',
};

const zhGrades = ['学前', '一年级', '二年级', '三年级', '四年级', '五年级', '六年级', '七年级', '八年级', '九年级', '高一', '高二', '高三'];
function gradeName(g: number): string {
  return language.value === 'zh-CN' ? zhGrades[g] ?? `${g}` : g === 0 ? 'Pre-school' : `Grade ${g}`;
}

export const Library = defineComponent({
  name: 'LibraryScreen',
  setup() {
    const tree = ref<Loaded<{ entries: TreeEntry[] }>>({ state: 'loading' });
    const shown = ref<Loaded<LibraryPage>>({ state: 'loading' });
    const more = ref(false);
    const opened = ref<LibraryItem | null>(null);
    const filter = ref<{ grade?: number; subject?: string; unit?: string }>({});
    const query = ref('');
    const searched = ref('');

    const currentQuery = (): LibraryQuery => ({ ...filter.value, ...(searched.value ? { q: searched.value } : {}) });
    const refresh = async () => {
      shown.value = await libraryItems(currentQuery());
      const id = route.value.id;
      if (id && !opened.value && shown.value.state === 'ready') opened.value = shown.value.data.items.find((i) => i.id === id) ?? null;
    };
    // The next page appended to what is shown (a whiteboard has no scroll-to-load: a big button).
    const loadMore = async () => {
      const s = shown.value;
      if (s.state !== 'ready' || more.value) return;
      more.value = true;
      const next = await libraryItems(currentQuery(), s.data.items.length).finally(() => { more.value = false; });
      if (next.state === 'ready') shown.value = { state: 'ready', data: { ...next.data, items: [...s.data.items, ...next.data.items] } };
    };
    const hasMore = (p: LibraryPage) => p.items.length < p.total || (!p.totalExact && p.items.length > 0 && p.items.length % LIBRARY_PAGE === 0);
    onMounted(async () => { tree.value = await libraryTree(); await refresh(); });
    watch(filter, () => void refresh(), { deep: true });
    watch(() => route.value.id, async (id) => {
      if (!id) { opened.value = null; return; }
      const pool = shown.value.state === 'ready' ? shown.value.data.items : [];
      opened.value = pool.find((i) => i.id === id) ?? null;
    }, { immediate: true });

    const facets = computed(() => {
      const entries = tree.value.state === 'ready' ? tree.value.data.entries : [];
      const f = filter.value;
      const grades = [...new Set(entries.map((e) => e.grade))].sort((a, b) => a - b);
      const subjects = [...new Set(entries.filter((e) => f.grade === undefined || e.grade === f.grade).map((e) => e.subject))];
      const units = [...new Set(entries.filter((e) => (f.grade === undefined || e.grade === f.grade) && (!f.subject || e.subject === f.subject)).map((e) => e.unit).filter(Boolean))];
      return { grades, subjects, units };
    });

    const facet = <V extends string | number>(label: MessageId, values: V[], current: V | undefined, show: (v: V) => string, set: (v: V | undefined) => void) =>
      values.length === 0 ? null : h('div', { class: 'facet', role: 'group', 'aria-label': t(label) }, [
        h('span', { class: 'facet-label' }, t(label)),
        button(t('library.all'), () => set(undefined), { pressed: current === undefined }),
        ...values.map((v) => button(show(v), () => set(v), { pressed: current === v })),
      ]);

    const viewer = (item: LibraryItem) => {
      const kind = viewKind(item.kind);
      const url = fileUrl(item.id);
      const body = kind === 'video' ? h('video', { class: 'player', src: url, controls: true, preload: 'metadata', 'data-testid': 'video-player', 'aria-label': item.title })
        : kind === 'audio' ? h('audio', { src: url, controls: true, 'aria-label': item.title })
        : kind === 'pdf' ? h(PdfView, { url, title: item.title })
        : kind === 'image' ? h('img', { class: 'picture', src: url, alt: item.title, 'data-testid': 'image-view' })
        : h('a', { href: url, class: 'btn btn-normal', download: '' }, t('library.open'));
      return h('div', { class: 'screen library-item', 'data-testid': 'library-item' }, [
        h('div', { class: 'row' }, [button(t('nav.back'), () => go('library'), { testid: 'library-back' }), h('h1', item.title)]),
        body,
      ]);
    };

    return () => {
      if (opened.value) return viewer(opened.value);
      const s = shown.value;
      const f = facets.value;
      return h('div', { class: 'screen library', 'data-testid': 'screen-library' }, [
        h('h1', t('library.title')),
        h('form', { class: 'search', role: 'search', onSubmit: (e: Event) => { e.preventDefault(); searched.value = query.value.trim(); void refresh(); } }, [
          h('label', { for: 'library-q', class: 'visually-hidden' }, t('library.searchLabel')),
          // A plain input: the whiteboard's own IME (Pinyin, handwriting) types into it.
          h('input', { id: 'library-q', type: 'search', value: query.value, placeholder: t('library.searchPlaceholder'), 'data-testid': 'library-search',
            onInput: (e: Event) => { query.value = (e.target as HTMLInputElement).value; } }),
          h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'library-search-go' }, t('library.search')),
        ]),
        facet('library.grade', f.grades, filter.value.grade, gradeName, (v) => { filter.value = { grade: v }; }),
        facet('library.subject', f.subjects, filter.value.subject, (v) => v, (v) => { filter.value = { grade: filter.value.grade, subject: v }; }),
        facet('library.unit', f.units, filter.value.unit, (v) => v, (v) => { filter.value = { ...filter.value, unit: v }; }),
        s.state === 'loading' ? note(t('app.opening')) : null,
        s.state === 'unavailable' ? note(t('library.unavailable'), 'info', 'library-unavailable') : null,
        s.state === 'error' ? note(errorWords(s.error), 'warn') : null,
        s.state === 'ready' && s.data.items.length === 0 ? note(searched.value ? t('library.noResults') : t('library.empty'), 'info', 'library-empty') : null,
        s.state === 'ready' && s.data.items.length ? section(t('library.title'), [
          h('ul', { class: 'tiles', 'data-testid': 'library-results' }, s.data.items.map((item) => h('li', [
            h('button', { type: 'button', class: 'tile', onClick: () => { opened.value = item; go('library', item.id); }, 'data-testid': `item-${item.id}` }, [
              h('span', { class: 'tile-kind' }, t(kindWords[viewKind(item.kind)])),
              h('span', { class: 'tile-title' }, item.title),
              h('span', { class: 'tile-meta' }, [gradeName(item.grade), item.subject, item.unit].filter(Boolean).join(' · ')),
            ]),
          ]))),
          h('p', { class: 'library-count', 'data-testid': 'library-count' },
            t(s.data.totalExact ? 'library.count' : 'library.countAtLeast', { count: s.data.total })),
          hasMore(s.data) ? button(t(more.value ? 'app.opening' : 'library.more'), () => void loadMore(), { testid: 'library-more', disabled: more.value }) : null,
        ]) : null,
      ]);
    };
  },
});
