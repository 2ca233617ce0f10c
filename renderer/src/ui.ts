// Small render helpers shared by the screens: big touch buttons, sections, status lines.
import { h, type VNode, type VNodeChild } from 'vue';

export interface ButtonOptions {
  kind?: 'primary' | 'normal' | 'danger' | 'big';
  disabled?: boolean;
  pressed?: boolean;
  label?: string;
  testid?: string;
}

export function button(text: string, onClick: () => void, o: ButtonOptions = {}): VNode {
  return h('button', {
    type: 'button',
    class: ['btn', `btn-${o.kind ?? 'normal'}`],
    disabled: o.disabled ?? false,
    onClick,
    ...(o.pressed !== undefined ? { 'aria-pressed': String(o.pressed) } : {}),
    ...(o.label ? { 'aria-label': o.label } : {}),
    ...(o.testid ? { 'data-testid': o.testid } : {}),
  }, text);
}

export function section(title: string, children: VNodeChild[], testid?: string): VNode {
  const id = `sec-${title.replace(/\W+/g, '') || Math.random().toString(36).slice(2)}`;
  return h('section', { class: 'card', 'aria-labelledby': id, ...(testid ? { 'data-testid': testid } : {}) }, [h('h2', { id }, title), ...children]);
}

/** A message in plain words; `alert` ones are announced by screen readers. */
export function note(text: string, kind: 'info' | 'warn' | 'alert' = 'info', testid?: string): VNode {
  return h('p', { class: ['note', `note-${kind}`], role: kind === 'alert' ? 'alert' : 'status', ...(testid ? { 'data-testid': testid } : {}) }, text);
}

export function formatBytes(n: number | null): string {
  if (n === null) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(v >= 10 || i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatTime(iso: string, lang: string): string {
  return new Date(iso).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit', hour12: false });
}
