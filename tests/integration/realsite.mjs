// Loads pages of a real site, as served by several servers, in Debian's headless Chromium and
// records what a visitor would notice. Each page gets a fresh browser context (a cold cache),
// a 1280x800 viewport and reduced motion; requests anywhere but 127.0.0.1 are blocked and
// counted apart (both sides of a comparison meet the same ones).
//
//   node realsite.mjs JOB.json RESULTS.json NODE_MODULES
//
// JOB: {"servers": {"name": "http://127.0.0.1:PORT/", ...}, "reference": "name",
//       "pages": ["index.html", ...], "features": {"page": ["feature", ...]}, "shots": "DIR"}
// RESULTS: {"pages": {page: {server: {failed, http_errors, console_errors, broken_images,
//           blocked, bytes, requests, by_type, features, shot, difference}}}}
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const [jobPath, resultsPath, nodeModules] = process.argv.slice(2);
const require = createRequire(nodeModules + '/');
const { chromium } = require('playwright-core');
const job = JSON.parse(fs.readFileSync(jobPath, 'utf8'));

// Script features: each returns a number (results found, rows hidden...) or a string saying
// what went wrong. The same code runs on every server; the comparison wants the same answer.
const features = {
  // Sphinx: the search page given ?q=... lists results once its index loads.
  async search_results(page) {
    const selector = '#search-results li';
    try {
      await page.waitForSelector(selector, { timeout: 10000 });
    } catch {
      return 0;
    }
    return await page.locator(selector).count();
  },
  // MkDocs: the search box of every page (in a modal) lists results from its worker.
  async mkdocs_search(page) {
    await page.evaluate(() => {
      const box = document.getElementById('mkdocs-search-query');
      box.value = 'plugins';
      box.dispatchEvent(new KeyboardEvent('keyup', { key: 's' }));
    });
    try {
      await page.waitForSelector('#mkdocs-search-results article', { state: 'attached', timeout: 10000 });
    } catch {
      return 0;
    }
    return await page.locator('#mkdocs-search-results article').count();
  },
  // Start Bootstrap templates: scripts.js shrinks the navigation bar once the page scrolls,
  // and Bootstrap's ScrollSpy marks the section in view.
  async navbar_shrink(page) {
    // Scroll the section the first in-page menu link names to the top (again before each look:
    // images loading above it move it): the template's script shrinks the menu, and its
    // Bootstrap ScrollSpy is there. (Which link ScrollSpy marks was read before: a fixed offset
    // of 1200 px landed between sections on one load and inside one on the next, as images
    // above it loaded sooner or later.) Read until three looks 500 ms apart agree (at most 10 s).
    const target = await page.evaluate(() => {
      const link = document.querySelector('#mainNav .nav-link[href^="#"]');
      return link ? link.getAttribute('href') : null;
    });
    const look = async () => {
      await page.evaluate((t) => {
        const section = t && document.querySelector(t);
        if (section)
          section.scrollIntoView({ block: 'start', behavior: 'instant' });
        else
          window.scrollTo({ top: 1200, behavior: 'instant' });
      }, target);
      await page.waitForTimeout(500);
      const spy = await page.evaluate(() =>
        typeof bootstrap !== 'undefined' && bootstrap.ScrollSpy.getInstance(document.body) !== null);
      return (await page.locator('#mainNav.navbar-shrink').count()) * 10 + (spy ? 1 : 0);
    };
    let value = await look();
    let same = 0;
    for (let i = 0; i < 20 && same < 2; i++) {
      const again = await look();
      same = again === value ? same + 1 : 0;
      value = again;
    }
    await page.evaluate(() => window.scrollTo({ top: 0, behavior: 'instant' }));
    return value;
  },
  // Sphinx's module index: a toggle image collapses its group (doctools.js slices its src).
  async sphinx_toggle(page) {
    const toggle = page.locator('img.toggler').first();
    if (await toggle.count() === 0)
      return 'no toggle';
    const rows = 'tr[class^="cg-"]:visible';
    const before = await page.locator(rows).count();
    await toggle.click();
    await page.waitForTimeout(300);
    const after = await page.locator(rows).count();
    const ok = await toggle.evaluate((img) => img.complete && img.naturalWidth > 0 && img.src.endsWith('plus.png'));
    return ok ? before - after : `the toggle image is broken after a click (${await toggle.getAttribute('src')})`;
  },
  // Doxygen: the menu menudata.js builds, and a class list whose rows a script folds.
  async doxygen_menu(page) {
    return await page.locator('#main-menu li').count();
  },
  async doxygen_toggle(page) {
    const arrow = page.locator('span.arrow').first();
    if (await arrow.count() === 0)
      return 'no arrow';
    const before = await page.locator('table.directory tr:visible').count();
    await arrow.click();
    await page.waitForTimeout(300);
    return before - await page.locator('table.directory tr:visible').count();
  },
  // Javadoc: the search box suggests from the index the script loads.
  async javadoc_search(page) {
    const input = page.locator('#search-input, #search');
    if (await input.count() === 0)
      return 'no search box';
    await input.first().fill('arg');
    try {
      await page.waitForSelector('.ui-autocomplete li', { timeout: 10000 });
    } catch {
      return 0;
    }
    return await page.locator('.ui-autocomplete li').count();
  },
};

// A CDN URL of an npm package (cdn.jsdelivr.net/npm/NAME@VERSION/PATH) answered from
// NODE_MODULES when that very version is there (the templates name Bootstrap so): the same
// bytes for both sides of a comparison, and no network.
function fromNodeModules(u) {
  const m = /^\/npm\/((?:@[^/]+\/)?[^@/]+)@([^/]+)\/(.+)$/.exec(u.pathname);
  if (u.hostname !== 'cdn.jsdelivr.net' || !m)
    return null;
  const dir = path.join(nodeModules, m[1]);
  try {
    if (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version !== m[2])
      return null;
  } catch {
    return null;
  }
  const file = path.join(dir, m[3]);
  return file.startsWith(dir + path.sep) && fs.existsSync(file) ? file : null;
}

async function visit(browser, base, name, file) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, reducedMotion: 'reduce' });
  const page = await context.newPage();
  const r = { failed: [], http_errors: [], console_errors: [], broken_images: [], blocked: 0, bytes: 0, requests: 0,
              by_type: {}, features: {} };
  await page.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.hostname === '127.0.0.1')
      return route.continue();
    const local = fromNodeModules(u);
    if (local)
      return route.fulfill({ path: local, contentType: local.endsWith('.css') ? 'text/css' : 'text/javascript' });
    r.blocked++;
    return route.abort('blockedbyclient');
  });
  page.on('console', (m) => { if (m.type() === 'error' && !/ERR_BLOCKED_BY_CLIENT/.test(m.text())) r.console_errors.push(m.text()); });
  page.on('pageerror', (e) => r.console_errors.push(`page error: ${e.message}`));
  page.on('requestfailed', (q) => {
    const error = q.failure()?.errorText ?? '';
    if (error.startsWith('net::ERR_BLOCKED_BY_CLIENT'))
      return;
    // Chromium now and then aborts the page's own navigation request and makes it again (seen
    // on one MkDocs page in 40, a different one each run): whether the page loaded is what
    // counts (goto() fails otherwise, and that is recorded).
    if (error === 'net::ERR_ABORTED' && q.isNavigationRequest() && q.frame() === page.mainFrame())
      return;
    r.failed.push(`${new URL(q.url()).pathname} (${error})`);
  });
  page.on('requestfinished', async (q) => {
    const response = await q.response();
    if (!response)
      return;
    const sizes = await q.sizes();
    r.requests++;
    r.bytes += sizes.responseBodySize + sizes.responseHeadersSize;
    if (response.status() >= 400)
      r.http_errors.push(`${response.status()} ${new URL(q.url()).pathname}`);
    const type = ((await response.allHeaders())['content-type'] ?? '').split(';')[0];
    r.by_type[type] = (r.by_type[type] ?? 0) + sizes.responseBodySize;
  });
  const url = new URL(file, base).href;
  try {
    await page.goto(url, { waitUntil: 'networkidle', timeout: 30000 });
    await page.evaluate(async () => { await document.fonts.ready; });
    // Lazy images load as a visitor scrolls.
    await page.evaluate(async () => {
      for (let y = 0; y < document.body.scrollHeight; y += 600) {
        window.scrollTo(0, y);
        await new Promise((done) => setTimeout(done, 20));
      }
      window.scrollTo(0, 0);
    });
    await page.waitForLoadState('networkidle');
    // Some pages render in steps after the network is idle (Sphinx lists search results one
    // by one on a timer): the screenshot waits until the DOM has been quiet for 500 ms (at
    // most 10 s), so a loaded machine compares finished pages, not half-drawn ones.
    await page.evaluate(() => new Promise((done) => {
      let quiet;
      const observer = new MutationObserver(() => { clearTimeout(quiet); quiet = setTimeout(finish, 500); });
      const finish = () => { observer.disconnect(); done(); };
      observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
      quiet = setTimeout(finish, 500);
      setTimeout(finish, 10000);
    }));
    r.broken_images = await page.evaluate(() => [...document.images]
      .filter((i) => i.complete && (i.currentSrc || i.src) && i.naturalWidth === 0 && !/^https?:\/\/(?!127\.0\.0\.1)/.test(i.currentSrc || i.src))
      .map((i) => new URL(i.currentSrc || i.src).pathname));
    r.shot = path.join(job.shots, `${name}-${file.replace(/[^A-Za-z0-9._-]/g, '_')}.png`);
    await page.screenshot({ path: r.shot, fullPage: true, clip: undefined, animations: 'disabled' });
    for (const f of job.features[file] ?? [])
      r.features[f] = await features[f](page);
  } catch (e) {
    r.failed.push(`the page did not load: ${e.message.split('\n')[0]}`);
  }
  await context.close();
  return r;
}

// The share of pixels that differ visibly (any channel by more than 48 of 255) between two
// screenshots, compared in the browser (no image library needed); 1 if their sizes differ by
// more than a row of 16 px.
async function difference(browser, a, b) {
  const page = await browser.newPage();
  const uri = (f) => 'data:image/png;base64,' + fs.readFileSync(f).toString('base64');
  const d = await page.evaluate(async ([x, y]) => {
    const load = (src) => new Promise((done, fail) => { const i = new Image(); i.onload = () => done(i); i.onerror = fail; i.src = src; });
    const [i, j] = await Promise.all([load(x), load(y)]);
    if (i.width !== j.width || Math.abs(i.height - j.height) > 16)
      return { share: 1, size: `${i.width}x${i.height} against ${j.width}x${j.height}` };
    const w = i.width, h = Math.min(i.height, j.height);
    const pixels = (img) => { const c = new OffscreenCanvas(w, h); const g = c.getContext('2d'); g.drawImage(img, 0, 0); return g.getImageData(0, 0, w, h).data; };
    const p = pixels(i), q = pixels(j);
    let differ = 0;
    for (let k = 0; k < p.length; k += 4)
      if (Math.abs(p[k] - q[k]) > 48 || Math.abs(p[k + 1] - q[k + 1]) > 48 || Math.abs(p[k + 2] - q[k + 2]) > 48)
        differ++;
    return { share: differ / (w * h) };
  }, [uri(a), uri(b)]);
  await page.close();
  return d;
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--no-first-run', '--font-render-hinting=none'],
});
const results = { pages: {} };
try {
  for (const file of job.pages) {
    results.pages[file] = {};
    for (const [name, base] of Object.entries(job.servers))
      results.pages[file][name] = await visit(browser, base, name, file);
    const reference = results.pages[file][job.reference];
    for (const [name, r] of Object.entries(results.pages[file]))
      if (name !== job.reference && r.shot && reference.shot)
        r.difference = await difference(browser, reference.shot, r.shot);
  }
} finally {
  await browser.close();
}
fs.writeFileSync(resultsPath, JSON.stringify(results, null, 1));
