#!/usr/bin/env node
// Renders dashboard definitions (their data sources already ds.test) with Splunk's dashboard
// framework in headless Chromium, reports what each visualization shows, and optionally saves a
// full-page screenshot of each.
//
//   node render.js <request.json>
//   request: {"pages": {"<name>": <definition>}, "screenshotDir": "<dir>" | null,
//             "schemaCheck": {"<name>": <definition as shipped>}}
//   stdout:  {"pages": {"<name>": {"visualizations": {"<viz id>": {...state}}, "validationErrors": [...],
//                                  "pageErrors": [...]}},
//             "splunkdCalls": [<REST paths the framework asked for>],
//             "presetSchemaErrors": {"<name>": [...]}}
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const esbuild = require('esbuild');
const { chromium } = require('playwright-core');

const HERE = __dirname;
const BUILD = path.join(HERE, 'build');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// The flags that work on this machine kind (no GPU, no sandbox as root, no network side channels).
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WIDTH = 1440;
// The page is served from a made-up origin through Playwright's router: nothing leaves the machine,
// and calls the framework makes to splunkd's REST API are answered as a splunkd without the
// endpoint would (404), and counted.
const ORIGIN = 'http://dashboards.test';
const CONTENT_TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
const SETTLE_MS = 1500;
const MIN_PANEL_WIDTH = 200;
const INPUTS_HEIGHT = 140;         // the inputs bar above the grid       // the narrowest panel in the shipped layouts is 288 px
const PAGE_TIMEOUT_MS = 120000;    // generous: six engineers share the 2 cores

// esbuild the page once per change of page.jsx or the lock file (a bundle takes ~20 s here).
async function bundle() {
    const digest = crypto.createHash('sha256');
    for (const name of ['page.jsx', 'package-lock.json']) digest.update(fs.readFileSync(path.join(HERE, name)));
    const fingerprint = digest.digest('hex');
    const marker = path.join(BUILD, 'fingerprint');
    if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === fingerprint) return;
    fs.mkdirSync(BUILD, { recursive: true });
    await esbuild.build({
        entryPoints: [path.join(HERE, 'page.jsx')], bundle: true, outfile: path.join(BUILD, 'page.js'),
        loader: { '.js': 'jsx' }, define: { 'process.env.NODE_ENV': '"production"' }, logLevel: 'error',
    });
    fs.writeFileSync(path.join(BUILD, 'index.html'),
        '<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="page.css">' +
                '</head><body style="margin:0;background:#171d21"><div id="root"></div>' +
        '<script src="page.js"></script></body></html>');
    fs.writeFileSync(marker, fingerprint);
}

// What a person would see in each visualization: the framework's status icon (Error/Warning) and
// message, the "no data" placeholder, table rows, the single value, chart marks.
function describeVisualizations() {
    const states = {};
    for (const item of document.querySelectorAll('[data-test="viz-item"]')) {
        const icon = item.querySelector('[data-test="status-icon-container"] svg[aria-label]');
        const message = item.querySelector('[data-test="viz-waiting-for-input-message"]');
        const major = item.querySelector('[data-test="majorValue"]');
        states[item.getAttribute('data-id')] = {
            type: item.getAttribute('data-viz-type'),
            status: icon ? icon.getAttribute('aria-label') : null,
            message: message ? message.textContent : null,
            placeholder: Boolean(item.querySelector('[data-test="placeholder-icon"], [data-test="viz-waiting-for-input"]')),
            tableRows: item.querySelectorAll('[data-test="row"]').length,
            singleValue: major ? major.textContent : null,
            chartMarks: item.querySelectorAll('canvas, svg path, svg rect').length,
            title: (item.querySelector('[data-test="viz-title"]') || {}).textContent || null,
            width: Math.round(item.getBoundingClientRect().width),
            contentWidth: Math.round(Math.max(0, ...[...item.querySelectorAll('[data-test="SingleValueWrapper"], ' +
                '[data-test="table-container"], [data-test="main-table"], canvas, svg')]
                .map((element) => element.getBoundingClientRect().width))),
            height: Math.round(item.getBoundingClientRect().height),
        };
    }
    return states;
}

async function serve(context, splunkdCalls) {
    await context.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (url.origin !== ORIGIN) return route.abort();
        const file = path.join(BUILD, path.basename(url.pathname));
        if (path.dirname(url.pathname) === '/' && fs.existsSync(file)) {
            return route.fulfill({ body: fs.readFileSync(file), contentType: CONTENT_TYPES[path.extname(file)] });
        }
        splunkdCalls.push(url.pathname);
        return route.fulfill({ status: 404, contentType: 'application/json', body: '{"messages": []}' });
    });
}

async function renderPage(context, name, definition, screenshotDir) {
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
        // the 404s the router answers for splunkd's REST API are expected here
        if (message.type() === 'error' && !message.text().includes('404')) pageErrors.push(message.text());
    });
    // A window as tall as the page: a full-page screenshot of a shorter one resizes it, and the grid
    // re-measures and redraws every panel while the picture is taken.
    const layoutHeight = ((definition.layout || {}).options || {}).height || 900;
    await page.setViewportSize({ width: WIDTH, height: layoutHeight + INPUTS_HEIGHT });
    await page.goto(ORIGIN + '/index.html', { timeout: PAGE_TIMEOUT_MS });
    await page.evaluate((d) => window.renderDashboard(d), definition);
    // Wait until the grid has sized every panel (it measures the page first: until then they are a
    // few pixels wide) and each visualization has drawn at its panel's width (a chart first shows a
    // half-width placeholder) or shows its status icon (no results, error). Then time to settle.
    const expected = Object.keys(definition.visualizations).length;
    await page.waitForFunction(({ n, minWidth }) => {
        const items = [...document.querySelectorAll('[data-test="viz-item"]')];
        const drawn = (item) => {
            const width = item.getBoundingClientRect().width;
            if (width < minWidth) return false;
            if (item.querySelector('[data-test="status-icon-container"] svg[aria-label]')) return true;
            const content = item.querySelectorAll('[data-test="SingleValueWrapper"], [data-test="table-container"], ' +
                '[data-test="main-table"], canvas, svg');
            return [...content].some((element) => element.getBoundingClientRect().width >= 0.8 * width);
        };
        return items.length >= n && items.every(drawn);
    }, { n: expected, minWidth: MIN_PANEL_WIDTH }, { timeout: PAGE_TIMEOUT_MS, polling: 250 })
        .catch(() => null);   // the report then shows what is missing
    await page.waitForTimeout(SETTLE_MS);
    const visualizations = await page.evaluate(describeVisualizations);
    const validationErrors = await page.evaluate(() => window.dashboardValidationErrors);
    if (screenshotDir) {
        await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
    }
    await page.close();
    return { visualizations, validationErrors, pageErrors };
}

async function main() {
    const request = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
    await bundle();
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboards-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
        viewport: { width: WIDTH, height: 900 },
    });
    const splunkdCalls = [];
    await serve(context, splunkdCalls);
    const report = {};
    const presetSchemaErrors = {};
    try {
        for (const [name, definition] of Object.entries(request.pages)) {
            report[name] = await renderPage(context, name, definition, request.screenshotDir);
        }
        const page = await context.newPage();
        await page.goto(ORIGIN + '/index.html', { timeout: PAGE_TIMEOUT_MS });
        for (const [name, definition] of Object.entries(request.schemaCheck || {})) {
            presetSchemaErrors[name] = await page.evaluate((d) => window.presetSchemaErrors(d), definition);
        }
    } finally {
        await context.close();
        fs.rmSync(profile, { recursive: true, force: true });
    }
    process.stdout.write(JSON.stringify({ pages: report, splunkdCalls: [...new Set(splunkdCalls)], presetSchemaErrors }));
}

main().catch((error) => { console.error(error.stack || String(error)); process.exit(1); });
