// Loads a page in Debian's headless Chromium through playwright-core and checks it. Always: no
// console error (a failed integrity check is one), no failed request, no HTTP error, and
// nothing requested from anywhere but 127.0.0.1.
// - test-page (default): cachet's browser test page: every image decoded (naturalWidth > 0),
//   each <picture> showing its first source (its AVIF, where cachet kept one), every
//   subresource integrity check passed;
// - site: a page of fixtures/refs as cachet rewrote it: every image decoded, its script (with
//   integrity) ran, its stylesheet (with integrity) applied with its @import, background
//   images and web font loaded.
//
// - fixture: fixtures/site as `cachet build` writes it with the defaults, behind nginx with the
//   default (negotiating) export: its script ran (it fetched data/products.json and loaded
//   img/hero.jpg by URLs it builds), the `.card > img` rule still matches, every image decoded,
//   and the images came as AVIF where cachet made one.
//
// - report: the page `cachet report` writes: one request (the page: its images are data: URIs),
//   every image decoded, a section per image with its figures, the totals and the texts'
//   table shown; a screenshot of the whole page goes to $REPORT_SCREENSHOT.
//
//   node chromium.mjs URL PROFILE_DIR NODE_MODULES [test-page|site|fixture|report]
import { createRequire } from 'node:module';

const [url, profile, nodeModules, mode = 'test-page'] = process.argv.slice(2);
const require = createRequire(nodeModules + '/');
const { chromium } = require('playwright-core');

const failures = [];
// Prints the verdict on the page (where: its URL, or "" for the test page) and sets the exit code.
const report = (where, summary) => {
  if (failures.length) {
    console.error(`chromium: ${where}${failures.length} failures (${summary}):`);
    for (const f of failures.slice(0, 40))
      console.error('  ' + f);
    process.exitCode = 1;
  } else {
    console.log(`chromium: ${where}all checks passed: ${summary}`);
  }
};
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--no-first-run'],
});
try {
  const page = context.pages()[0] ?? await context.newPage();
  await page.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1')
      return route.continue();
    failures.push(`request to ${route.request().url()} blocked: only 127.0.0.1 may be reached`);
    return route.abort();
  });
  page.on('console', (m) => { if (m.type() === 'error') failures.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => failures.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  const encodings = new Map();
  const types = new Map();
  page.on('response', async (r) => {
    if (r.status() >= 400)
      failures.push(`HTTP ${r.status()} for ${r.url()}`);
    const headers = await r.allHeaders();
    const e = headers['content-encoding'] ?? 'identity';
    encodings.set(e, (encodings.get(e) ?? 0) + 1);
    const t = (headers['content-type'] ?? '').split(';')[0];
    types.set(t, (types.get(t) ?? 0) + 1);
  });

  const requests = [];
  page.on('request', (r) => { if (!r.url().startsWith('data:')) requests.push(r.url()); });
  if (mode === 'report') {
    await page.goto(url, { waitUntil: 'load' });
    const shown = await page.evaluate(() => ({
      images: [...document.images].map((img) => ({ alt: img.alt, width: img.naturalWidth, complete: img.complete })),
      sections: document.querySelectorAll('section.image').length,
      distances: [...document.querySelectorAll('.distance')].map((d) => Number(d.textContent)),
      totals: document.querySelector('#totals')?.textContent ?? '',
      texts: document.querySelectorAll('#texts tr').length - 1,
      visible: document.body.getBoundingClientRect().height,
    }));
    for (const img of shown.images)
      if (!img.complete || img.width === 0)
        failures.push(`image "${img.alt}" not decoded`);
    if (requests.length !== 1)
      failures.push(`${requests.length} requests, not 1 (the page is not self-contained): ${requests.slice(0, 5)}`);
    if (shown.distances.some((d) => !Number.isFinite(d)))
      failures.push('a Butteraugli distance is not a number');
    if (process.env.REPORT_SCREENSHOT)
      await page.screenshot({ path: process.env.REPORT_SCREENSHOT, fullPage: true });
    console.log(JSON.stringify(shown.images.length ? { ...shown, images: shown.images.length } : shown));
    report(`${url}: `, `${shown.images.length} images decoded in ${shown.sections} sections, ` +
                       `${shown.distances.length} distances, ${shown.texts} texts, ${Math.round(shown.visible)} px tall`);
  } else if (mode === 'fixture') {
    await page.goto(url, { waitUntil: 'networkidle' });
    try {
      await page.waitForFunction(() => document.documentElement.dataset.app === 'ran', null, { timeout: 15000 });
    } catch {
      failures.push('the page\'s script did not finish: products and the picture it builds a URL for');
    }
    const site = await page.evaluate(() => ({
      images: [...document.images].map((img) => ({ src: img.currentSrc || img.src, width: img.naturalWidth })),
      products: document.querySelectorAll('.grid .product').length,
      card: (() => { const i = document.querySelector('.card > img'); return i ? getComputedStyle(i).outlineColor : null; })(),
    }));
    for (const img of site.images)
      if (img.width <= 0)
        failures.push(`image not decoded: ${img.src}`);
    if (site.products === 0)
      failures.push('no product from data/products.json on the page');
    if (site.card !== 'rgb(1, 2, 3)')
      failures.push(`the .card > img rule does not apply any more (outline ${site.card})`);
    const avif = types.get('image/avif') ?? 0;
    if (avif === 0)
      failures.push('no image came as AVIF');
    const summary = `${site.images.length} images decoded (${avif} responses AVIF), ${site.products} products, ` +
                    `.card > img outline ${site.card}`;
    report(`${url}: `, summary);
  } else if (mode === 'site') {
    await page.goto(url, { waitUntil: 'networkidle' });
    const site = await page.evaluate(async () => {
      await document.fonts.ready;
      const fonts = [...document.fonts].map((f) => `${f.family}:${f.status}`);
      const background = (id) => {
        const e = document.getElementById(id);
        return e ? getComputedStyle(e).backgroundImage : null;
      };
      const loaded = performance.getEntriesByType('resource').map((r) => r.name);
      return {
        images: [...document.images].map((img) => ({ src: img.currentSrc || img.src, width: img.naturalWidth })),
        scriptRan: document.documentElement.dataset.app === 'ran' || !document.querySelector('script[src]'),
        integrity: document.querySelectorAll('link[integrity], script[integrity]').length,
        sheets: [...document.styleSheets].length,
        imported: [...document.styleSheets].some((s) => [...s.cssRules].some((r) => r.styleSheet)),
        backgrounds: [background('a-bg'), background('aa-bg'), getComputedStyle(document.body).backgroundImage],
        fonts, loaded,
      };
    });
    for (const img of site.images)
      if (img.width <= 0)
        failures.push(`image not decoded: ${img.src}`);
    if (!site.scriptRan)
      failures.push('the page\'s <script> did not run');
    if (site.sheets === 0 || !site.imported)
      failures.push(`stylesheet or its @import not applied (${site.sheets} sheets)`);
    for (const b of site.backgrounds) {
      if (b === null)
        continue;
      const m = /url\("([^"]+)"\)/.exec(b);
      if (!m)
        failures.push(`no background image applied: ${b}`);
      else if (!site.loaded.includes(m[1]))
        failures.push(`background image not loaded: ${m[1]}`);
    }
    if (!site.fonts.some((f) => f.endsWith(':loaded')))
      failures.push(`no web font loaded: ${site.fonts.join(' ')}`);
    const summary = `${site.images.length} images decoded, ${site.integrity} <script>/<link> with integrity, ` +
                    `${site.sheets} stylesheets (@import applied), backgrounds ${site.backgrounds.filter((b) => b).length}, ` +
                    `fonts ${site.fonts.join(' ')}, ${site.loaded.length} resources`;
    report(`${url}: `, summary);
  } else {
    await page.goto(url, { waitUntil: 'load' });
    const result = await page.evaluate(async () => {
      const images = [...document.images].map((img) => ({
        src: img.currentSrc || img.src, width: img.naturalWidth, inPicture: img.parentElement.tagName === 'PICTURE',
        format: img.dataset.format ?? null,
        // What the <picture> should show: its first <source> (AVIF when cachet kept one), else the <img>.
        expected: (() => {
          const source = img.parentElement.tagName === 'PICTURE' ? img.parentElement.querySelector('source') : null;
          const srcset = source ? source.srcset : img.srcset || img.src;
          return srcset.split(',').map((c) => new URL(c.trim().split(/\s+/)[0], document.baseURI).href);
        })(),
        type: img.parentElement.querySelector('source')?.type ?? null,
      }));
      const fetches = await Promise.all(window.cachetFetches.map(async ({ url, integrity }) => {
        try {
          const r = await fetch(url, { integrity, cache: 'no-store' });
          await r.arrayBuffer();
          return { url, ok: r.ok, error: r.ok ? null : `HTTP ${r.status}` };
        } catch (e) {
          return { url, ok: false, error: String(e) };
        }
      }));
      const sheets = [...document.styleSheets].map((s) => s.href);
      return { images, fetches, sheets, links: document.querySelectorAll('link[integrity], script[integrity]').length,
               scriptRan: window.cachetScriptRan ?? 0,
               styled: getComputedStyle(document.body).outlineColor === 'rgb(1, 2, 3)' };
    });

    let pictures = 0, pictureAvif = 0, avif = 0, webp = 0;
    for (const img of result.images) {
      if (img.width <= 0)
        failures.push(`image not decoded: ${img.src}`);
      if (img.inPicture) {
        pictures++;
        if (!img.expected.includes(img.src))
          failures.push(`<picture> chose ${img.src}, not its first source (${img.type}): ${img.expected.join(' ')}`);
        if (img.type === 'image/avif') pictureAvif++;
      }
      if (img.format === 'avif') avif++;
      if (img.format === 'webp') webp++;
    }
    if (result.scriptRan !== 1)
      failures.push(`the <script> with integrity ran ${result.scriptRan} times, not once`);
    if (!result.styled)
      failures.push('the <link rel="stylesheet"> with integrity was not applied');
    for (const f of result.fetches)
      if (!f.ok)
        failures.push(`fetch with integrity failed: ${f.url}: ${f.error}`);
    if (pictures === 0 || pictureAvif === 0 || avif === 0 || webp === 0 || result.fetches.length === 0)
      failures.push(`the page is missing its subjects: ${pictures} pictures, ${avif} AVIF, ${webp} WebP, ` +
                    `${result.fetches.length} fetches`);
    const summary = `${result.images.length} images (${pictures} pictures, ${pictureAvif} showing AVIF; ${avif} AVIF and ${webp} WebP on their own), ` +
                    `${result.fetches.length} integrity fetches, ${result.links} <script>/<link> with integrity (script ran, ` +
                    `stylesheet applied), ` +
                    `responses by Content-Encoding ${JSON.stringify(Object.fromEntries(encodings))}`;
    report('', summary);
  }
} finally {
  await context.close();
}
