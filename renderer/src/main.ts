import { createApp } from 'vue';
import { Workbox } from 'workbox-window';
import { App } from './App.js';
import { startHealthPolling } from './api/box.js';
import { language } from './i18n.js';
import { takeTokenFromFragment } from './api/media.js';
import './styles.css';

// Before anything reads it: the kiosk's own token arrives in the fragment and leaves the address bar.
takeTokenFromFragment();
document.documentElement.lang = language.value;
startHealthPolling();
createApp(App).mount('#app');

// The service worker precaches the shell so a reload with the daemon down still shows the app.
if ('serviceWorker' in navigator) {
  void new Workbox('/sw.js', { scope: '/' }).register().catch(() => undefined);
}
