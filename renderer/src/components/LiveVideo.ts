// A <video> showing a MediaStream; reports when frames really play (currentTime moves).
import { defineComponent, h, onMounted, ref, watch, type PropType } from 'vue';

export const LiveVideo = defineComponent({
  name: 'LiveVideo',
  props: {
    stream: { type: Object as PropType<MediaStream | null>, default: null },
    label: { type: String, required: true },
    muted: { type: Boolean, default: false },
    volume: { type: Number, default: 80 },
    testid: { type: String, default: undefined },
  },
  emits: ['playing'],
  setup(props, { emit }) {
    const el = ref<HTMLVideoElement | null>(null);
    const attach = () => {
      const v = el.value;
      if (!v) return;
      if (v.srcObject !== props.stream) v.srcObject = props.stream;
      v.volume = Math.min(1, Math.max(0, props.volume / 100));
      if (props.stream) void v.play().catch(() => undefined);
    };
    onMounted(attach);
    watch(() => [props.stream, props.volume], attach);
    return () => h('video', {
      ref: el, class: 'live', autoplay: true, playsinline: true, muted: props.muted, 'aria-label': props.label,
      'data-testid': props.testid, onPlaying: () => emit('playing'), onTimeupdate: () => emit('playing'),
    });
  },
});
