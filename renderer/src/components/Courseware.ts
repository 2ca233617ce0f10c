// The courseware pane: the hub's current PDF page (when the item is in this box's library) under the
// live pen strokes. With `pen` on, a finger draws and each finished stroke is emitted.
import { defineAsyncComponent, defineComponent, h, ref, type PropType } from 'vue';
import type { LessonView } from '../api/live.js';
import { t } from '../i18n.js';

const PdfView = defineAsyncComponent(() => import('./PdfView.js').then((m) => m.PdfView));

type Point = [number, number];

function path(points: Point[]): string {
  return points.map(([x, y], i) => `${i ? 'L' : 'M'}${(x * 1000).toFixed(1)} ${(y * 1000).toFixed(1)}`).join(' ');
}

export const Courseware = defineComponent({
  name: 'CoursewarePane',
  props: {
    view: { type: Object as PropType<LessonView>, required: true },
    fileUrl: { type: String as PropType<string | null>, default: null },
    pen: { type: Boolean, default: false },
  },
  emits: { stroke: (_points: Point[]) => true },
  setup(props, { emit }) {
    const drawing = ref<Point[] | null>(null);
    const at = (ev: PointerEvent): Point => {
      const r = (ev.currentTarget as SVGElement).getBoundingClientRect();
      return [Math.min(1, Math.max(0, (ev.clientX - r.left) / r.width)), Math.min(1, Math.max(0, (ev.clientY - r.top) / r.height))];
    };
    return () => {
      const v = props.view;
      const strokes = v.strokes.filter((s) => s.page === v.page);
      return h('div', { class: 'courseware', 'data-testid': 'courseware', role: 'region', 'aria-label': `${t('lesson.courseware')} — ${t('lesson.page', { page: v.page })}` }, [
        props.fileUrl ? h(PdfView, { url: props.fileUrl, title: t('lesson.courseware'), page: v.page })
          : h('div', { class: 'blank-board' }, v.item ? undefined : t('lesson.noCourseware')),
        h('svg', {
          class: ['strokes', props.pen ? 'pen-on' : ''], viewBox: '0 0 1000 1000', preserveAspectRatio: 'none', 'data-testid': 'strokes',
          'data-count': strokes.length, 'aria-hidden': 'true',
          onPointerdown: props.pen ? (ev: PointerEvent) => { (ev.currentTarget as SVGElement).setPointerCapture(ev.pointerId); drawing.value = [at(ev)]; } : undefined,
          onPointermove: props.pen ? (ev: PointerEvent) => { drawing.value?.push(at(ev)); } : undefined,
          onPointerup: props.pen ? () => { const d = drawing.value; drawing.value = null; if (d && d.length > 1) emit('stroke', d); } : undefined,
        }, [
          ...strokes.map((s) => h('path', { d: path(s.points), stroke: s.color, 'stroke-width': s.width * 2, fill: 'none', 'stroke-linecap': 'round', 'stroke-linejoin': 'round' })),
          drawing.value ? h('path', { d: path(drawing.value), stroke: '#d92d20', 'stroke-width': 8, fill: 'none' }) : null,
        ]),
      ]);
    };
  },
});
