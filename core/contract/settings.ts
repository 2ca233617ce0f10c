// Shared with the renderer: the settings a teacher or technician may change behind the PIN.
export type Language = 'zh-CN' | 'en';

export interface BoxSettings {
  ui: { language: Language; volume: number };
  sync: {
    /** Share of the WAN link sync may use while a live lesson runs (0 pauses sync). */
    lessonSharePercent: number;
    uploadLimitKbps: number | null;
    downloadLimitKbps: number | null;
    /** Only sync inside this daily window (local time, "HH:MM"), or always when null. */
    window: { start: string; end: string } | null;
    lanDiscovery: boolean;
  };
  /** Lesson recording on this box (on by default; off records nothing new). */
  recording: { enabled: boolean };
}

export const defaultSettings: BoxSettings = {
  ui: { language: 'zh-CN', volume: 80 },
  sync: { lessonSharePercent: 10, uploadLimitKbps: null, downloadLimitKbps: null, window: null, lanDiscovery: true },
  recording: { enabled: true },
};
