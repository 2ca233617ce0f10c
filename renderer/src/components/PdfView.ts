// One PDF page at a time on a canvas (pdf.js), with big page buttons. No text layer: no injected styles.
import { defineComponent, h, onBeforeUnmount, onMounted, ref, shallowRef, watch } from 'vue';
import * as pdfjs from 'pdfjs-dist';
import workerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url';
import { t } from '../i18n.js';
import { button, note } from '../ui.js';

pdfjs.GlobalWorkerOptions.workerSrc = workerUrl;

export const PdfView = defineComponent({
  name: 'PdfView',
  props: {
    url: { type: String, required: true },
    title: { type: String, required: true },
    /** When set, the page follows this (the hub teacher turns pages) and the page buttons are hidden. */
    page: { type: Number, default: null },
  },
  setup(props) {
    const canvas = ref<HTMLCanvasElement | null>(null);
    const doc = shallowRef<pdfjs.PDFDocumentProxy | null>(null);
    const page = ref(props.page ?? 1);
    const failed = ref(false);
    const rendered = ref(0);
    let task: pdfjs.RenderTask | null = null;

    const render = async () => {
      const d = doc.value;
      const c = canvas.value;
      if (!d || !c) return;
      task?.cancel();
      const p = await d.getPage(page.value);
      const base = p.getViewport({ scale: 1 });
      // Fit the page between the status bar, the page buttons and the bottom bar (the pane's CSS shrinks it further).
      const viewport = p.getViewport({ scale: Math.min(1600 / base.width, Math.max(400, window.innerHeight - 440) / base.height) });
      c.width = Math.floor(viewport.width);
      c.height = Math.floor(viewport.height);
      task = p.render({ canvas: c, viewport });
      try { await task.promise; rendered.value = page.value; } catch { /* cancelled by a newer page */ }
    };

    onMounted(async () => {
      try {
        // CMaps and standard fonts come from this box (copied in at build): Chinese PDFs without embedded fonts.
        doc.value = await pdfjs.getDocument({
          url: props.url, isEvalSupported: false, cMapUrl: '/pdfjs/cmaps/', cMapPacked: true, standardFontDataUrl: '/pdfjs/standard_fonts/',
        }).promise;
        await render();
      } catch {
        failed.value = true;
      }
    });
    onBeforeUnmount(() => { task?.cancel(); void doc.value?.destroy(); });
    watch(() => props.page, (p) => {
      const d = doc.value;
      if (p === null || !d) return;
      page.value = Math.min(d.numPages, Math.max(1, p));
      void render();
    });

    const turn = (delta: number) => {
      const d = doc.value;
      if (!d) return;
      const next = Math.min(d.numPages, Math.max(1, page.value + delta));
      if (next !== page.value) { page.value = next; void render(); }
    };

    return () => failed.value ? note(t('library.pdfError'), 'warn', 'pdf-error') : h('div', { class: 'pdfview' }, [
      h('canvas', { ref: canvas, role: 'img', 'aria-label': `${props.title} — ${t('lesson.page', { page: page.value })}`, 'data-testid': 'pdf-canvas', 'data-rendered-page': rendered.value }),
      props.page !== null ? null : h('div', { class: 'row' }, [
        button(t('library.prevPage'), () => turn(-1), { disabled: page.value <= 1, testid: 'pdf-prev' }),
        h('span', { 'data-testid': 'pdf-page', 'aria-live': 'polite' }, t('library.pdfPage', { page: page.value, pages: doc.value?.numPages ?? '…' })),
        button(t('library.nextPage'), () => turn(1), { disabled: !doc.value || page.value >= doc.value.numPages, testid: 'pdf-next' }),
      ]),
    ]);
  },
});
