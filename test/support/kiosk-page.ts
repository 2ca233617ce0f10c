// Steps a teacher or technician takes on the kiosk, by touch (tap), as the tests drive them.
import type { Page } from 'playwright-core';

export async function openSettings(page: Page): Promise<void> {
  await page.getByTestId('nav-settings').tap();
  await page.getByTestId('pinpad').or(page.getByTestId('screen-settings')).first().waitFor();
}

export async function typePin(page: Page, pin: string): Promise<void> {
  for (const d of pin) await page.getByTestId(`key-${d}`).tap();
  await page.getByTestId('pin-ok').tap();
}

/** PIN → "set up this screen for lessons" → leave settings: what a technician does once per screen. */
export async function authoriseScreen(page: Page, pin: string): Promise<void> {
  await openSettings(page);
  await typePin(page, pin);
  await page.getByTestId('screen-settings').waitFor();
  await page.getByTestId('screen-authorise').tap();
  await page.getByTestId('screen-revoke').waitFor();
  await page.getByTestId('settings-lock').tap();
}
