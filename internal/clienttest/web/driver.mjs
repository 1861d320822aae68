// driver.mjs runs Debian's Chromium through playwright-core and takes
// orders, one JSON object a line, on stdin: {"id": N, "op": "...", ...}.
// It answers each on stdout with {"id": N, "value": ...} or
// {"id": N, "error": "..."}. Every op that waits takes "timeout" in ms.
// The browser reaches 127.0.0.1 only: every other host is unresolvable and
// every request to one is aborted. The console goes to argv[2].
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';
import { appendFileSync } from 'node:fs';

const consoleLog = process.argv[2];
const log = (line) => { if (consoleLog) appendFileSync(consoleLog, line + '\n'); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
    '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
await context.route('**/*', (route) => {
  const u = new URL(route.request().url());
  if (['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol) && u.hostname !== '127.0.0.1') {
    log(`blocked: ${u.href}`);
    return route.abort();
  }
  return route.continue();
});
const page = await context.newPage();
page.on('console', (m) => log(`${m.type()}: ${m.text()}`));
page.on('pageerror', (e) => log(`pageerror: ${e.message}`));

// loc is the op's element: the first match of sel, or of sel with text.
const loc = (o) => {
  let l = page.locator(o.sel);
  if (o.text !== undefined) l = l.filter({ hasText: o.text });
  return l.first();
};

const ops = {
  goto: (o) => page.goto(o.url, { timeout: o.timeout }).then(() => null),
  click: (o) => loc(o).click({ timeout: o.timeout }).then(() => null),
  fill: (o) => loc(o).fill(o.value, { timeout: o.timeout }).then(() => null),
  press: (o) => loc(o).press(o.key, { timeout: o.timeout }).then(() => null),
  wait: (o) => loc(o).waitFor({ state: o.state || 'visible', timeout: o.timeout }).then(() => null),
  text: (o) => loc(o).innerText({ timeout: o.timeout }),
  count: (o) => page.locator(o.sel).count(),
  eval: (o) => page.evaluate(o.js),
  screenshot: (o) => page.screenshot({ path: o.path, fullPage: true }).then(() => null),
};

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  let o;
  try {
    o = JSON.parse(line);
  } catch (e) {
    continue;
  }
  let out;
  try {
    const f = ops[o.op];
    if (!f) throw new Error(`unknown op ${o.op}`);
    out = { id: o.id, value: (await f(o)) ?? null };
  } catch (e) {
    out = { id: o.id, error: String(e.message || e).split('\n')[0] };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}
await browser.close();
