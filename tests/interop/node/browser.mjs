// A real browser (Debian's headless Chromium, driven by playwright-core) against a running demo
// OpenID Provider: opens the playground, starts hybrid flows, logs in on the login page, approves
// on the consent page, and reads what the playground's result page shows.
//
// Environment: ISSUER, USERNAME, PASSWORD; CHROMIUM (default /usr/bin/chromium);
// SCREENSHOT_DIR (optional: PNGs of the playground, login, consent and result pages).
// Prints one JSON line per flow and exits non-zero with the reason on any failure.

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
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

const problems = [];
try {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  // CSP violations and script errors show up here; none is expected.
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));

  const flows = [
    { client: 'demo-client', responseType: 'code id_token', mode: 'fragment', shot: true },
    { client: 'demo-client-es256', responseType: 'code id_token token', mode: 'form_post' },
    { client: 'demo-client', responseType: 'code id_token', mode: 'form_post' },
    { client: 'demo-client', responseType: 'code', mode: 'query' },
    // Key-based client authentication, a signed request object, PAR.
    { client: 'demo-client-jwt', responseType: 'code id_token', mode: 'fragment', par: true, requestObject: true },
    { client: 'demo-client-hs256', responseType: 'code id_token', mode: 'form_post', par: true },
    { client: 'demo-client-jwt', responseType: 'code id_token', mode: 'form_post', requestObject: true },
  ];
  for (const flow of flows) {
    await page.goto(`${issuer}/playground`);
    if (shots && flow.shot) await page.screenshot({ path: `${shots}/playground.png` });
    await page.selectOption('#client', flow.client);
    await page.selectOption('#response_type', flow.responseType);
    await page.selectOption('#response_mode', flow.mode);
    if (flow.par) await page.check('input[name=par]');
    if (flow.requestObject) await page.check('input[name=request_object]');
    await page.click('#start');
    const steps = [];
    for (let i = 0; i < 6; i++) {
      const found = await page.waitForSelector(
        '#summary, input[name=password], button[value=approve]',
      );
      const id = await found.getAttribute('id');
      if (id === 'summary') break;
      if ((await found.getAttribute('name')) === 'password') {
        steps.push('login');
        if (shots && flow.shot) await page.screenshot({ path: `${shots}/login.png` });
        await page.fill('#username', env('USERNAME'));
        await page.fill('#password', env('PASSWORD'));
        await Promise.all([page.waitForNavigation(), page.click('button.primary')]);
      } else {
        steps.push('consent');
        if (shots && flow.shot) await page.screenshot({ path: `${shots}/consent.png` });
        await Promise.all([page.waitForNavigation(), page.click('button[value=approve]')]);
      }
    }
    await page.waitForSelector('#summary');
    const text = async (selector) => ((await page.textContent(selector)) || '').trim();
    const cHash = (await page.$('[data-check="front.c_hash"]'))
      ? await page.getAttribute('[data-check="front.c_hash"]', 'class')
      : null;
    const result = {
      ...flow,
      steps,
      url: page.url(),
      summary: await text('#summary'),
      consistency: await text('#consistency'),
      c_hash: cHash,
      userinfo_sub: await text('#userinfo-sub'),
      response_mode_shown: await text('#response-mode'),
      failed_checks: await page.$$eval('li.fail', (items) => items.map((li) => li.textContent)),
      token_method: await page.$$eval('h2', (hs) =>
        hs.map((h) => h.textContent).find((t) => t.includes('Token response')) || ''),
    };
    if (shots && flow.shot) await page.screenshot({ path: `${shots}/result.png`, fullPage: true });
    console.log(JSON.stringify(result));
  }
  await context.close();
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
