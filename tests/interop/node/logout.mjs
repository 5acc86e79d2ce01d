// Single logout in a real browser (Debian's headless Chromium, driven by playwright-core)
// against a running demo OpenID Provider: signs in through a playground flow, follows the
// playground's RP-initiated logout link, confirms on the provider's page, lets the logout page
// frame the clients' front-channel pages and go back to the registered post-logout URI, and
// reads what the playground then shows (signed out; the logout notices it received).
//
// Environment: ISSUER, USERNAME, PASSWORD; CHROMIUM (default /usr/bin/chromium);
// SCREENSHOT_DIR (optional). Prints one JSON line and exits non-zero on any failure.

import { chromium } from 'playwright-core';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`missing environment variable ${name}`);
  return value;
};
const issuer = env('ISSUER');
const shots = process.env.SCREENSHOT_DIR;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const problems = [];
try {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  const frames = [];
  page.on('request', (request) => {
    if (request.url().includes('/playground/frontchannel')) frames.push(request.url());
  });

  // Sign in through a flow.
  await page.goto(`${issuer}/playground`);
  await page.selectOption('#client', 'demo-client');
  await page.selectOption('#response_type', 'code id_token');
  await page.selectOption('#response_mode', 'fragment');
  await page.click('#start');
  for (let i = 0; i < 4; i++) {
    const found = await page.waitForSelector('#summary, input[name=password], button[value=approve]');
    if ((await found.getAttribute('id')) === 'summary') break;
    if ((await found.getAttribute('name')) === 'password') {
      await page.fill('#username', env('USERNAME'));
      await page.fill('#password', env('PASSWORD'));
      await Promise.all([page.waitForNavigation(), page.click('button.primary')]);
    } else {
      await Promise.all([page.waitForNavigation(), page.click('button[value=approve]')]);
    }
  }
  const summary = ((await page.textContent('#summary')) || '').trim();

  // RP-initiated logout from the playground: no id_token_hint, so the provider asks.
  await page.goto(`${issuer}/playground`);
  const signedInBefore = ((await page.textContent('#signed-in')) || '').trim();
  await Promise.all([page.waitForNavigation(), page.click('#rp-logout')]);
  await page.waitForSelector('#confirm-logout');
  if (shots) await page.screenshot({ path: `${shots}/logout-confirm.png` });
  await page.click('#confirm-logout');
  // The logout page frames the front-channel pages, then goes to the post-logout URI.
  await page.waitForURL((url) => url.pathname.endsWith('/playground') && url.search.includes('state=playground'));
  const finalUrl = page.url();
  // The back-channel token arrives on its own; reload until the playground shows it.
  let notices = [];
  for (let i = 0; i < 20; i++) {
    await page.goto(`${issuer}/playground`);
    notices = await page.$$eval('h3.logout-notice', (hs) =>
      hs.map((h) => ({ text: h.textContent, ok: h.getAttribute('data-ok') })));
    if (notices.some((n) => n.text.startsWith('back-channel'))) break;
    await page.waitForTimeout(200);
  }
  if (shots) await page.screenshot({ path: `${shots}/logout-done.png`, fullPage: true });
  const signedInAfter = ((await page.textContent('#signed-in')) || '').trim();
  console.log(JSON.stringify({ summary, signedInBefore, finalUrl, frames, notices, signedInAfter }));
  await context.close();
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
