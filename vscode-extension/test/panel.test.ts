/**
 * The stats side panel (StatsPanel) with a fake webview view: the HTML shell keeps its nonce CSP,
 * refreshes post what toStatsView makes of the server's stats (kept and unchanged rates, runs), a
 * scheduled refresh (what editloop/statsChanged and editloop/runFinished trigger) fetches again
 * once per burst, and only known webview messages do anything.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as vscode from 'vscode';
import type { ToWebview } from '../src/common/messages';
import { StatsPanel } from '../src/views/statsPanel';
import { sampleStats } from './fixtures';

function fakeView(visible = true) {
    const posted: ToWebview[] = [];
    let receive: (m: unknown) => void = () => undefined;
    const view = {
        visible,
        webview: {
            options: {},
            html: '',
            cspSource: 'https://x.vscode-cdn.net',
            asWebviewUri: (u: vscode.Uri) => u,
            postMessage: async (m: ToWebview) => (posted.push(m), true),
            onDidReceiveMessage: (fn: (m: unknown) => void) => ((receive = fn), new vscode.Disposable(() => undefined)),
        },
        onDidChangeVisibility: () => new vscode.Disposable(() => undefined),
        onDidDispose: () => new vscode.Disposable(() => undefined),
    };
    return { view, posted, send: (m: unknown) => receive(m) };
}

function makePanel(fetch: () => Promise<unknown>, train = vi.fn(async () => undefined)) {
    return { panel: new StatsPanel(vscode.Uri.file('/ext'), fetch, train), train };
}

afterEach(() => vi.useRealTimers());

describe('StatsPanel', () => {
    it('serves a shell whose only script carries a fresh nonce allowed by the CSP, and nothing inline', () => {
        const { panel } = makePanel(async () => ({}));
        const a = fakeView();
        const b = fakeView();
        panel.resolveWebviewView(a.view as never);
        panel.resolveWebviewView(b.view as never);
        const html = a.view.webview.html;
        const nonce = /<script nonce="([A-Za-z0-9]{32})"/.exec(html)?.[1];
        expect(nonce).toBeDefined();
        const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)![1].replace(/&#39;/g, "'");
        expect(csp).toContain(`script-src 'nonce-${nonce}'`);
        expect(csp).toContain("default-src 'none'");
        expect(html).not.toMatch(/unsafe-inline|unsafe-eval|<style|style="| on\w+=/);
        expect(html.match(/<script/g)).toHaveLength(1);
        expect(b.view.webview.html).not.toContain(nonce!);
        expect(a.view.webview.options).toMatchObject({ enableScripts: true, enableCommandUris: false });
    });

    it('posts the stats view: kept and unchanged rates, runs with their reasons', async () => {
        const { panel } = makePanel(async () => sampleStats());
        const { view, posted } = fakeView();
        panel.resolveWebviewView(view as never);
        await panel.refresh();
        const message = posted.at(-1)!;
        expect(message.type).toBe('stats');
        if (message.type === 'stats') {
            expect([message.view.keptRate, message.view.unchangedRate]).toEqual([0.8333, 0.5]);
            expect(message.view.runs[1]).toMatchObject({ name: 'run of 01-02 11:00', status: 'failed' });
            expect(message.view.runs[1].reason).toContain('not enough preference pairs');
        }
    });

    it('refetches once per burst of change notifications, and only while visible', async () => {
        vi.useFakeTimers();
        const fetch = vi.fn(async () => ({ total: 1, counts: { edit: 1 } }));
        const { panel } = makePanel(fetch);
        const { view, posted } = fakeView();
        panel.resolveWebviewView(view as never);
        // editloop/statsChanged, editloop/runFinished and region updates all call scheduleRefresh.
        panel.scheduleRefresh();
        panel.scheduleRefresh();
        panel.scheduleRefresh();
        expect(fetch).not.toHaveBeenCalled();
        await vi.advanceTimersByTimeAsync(1100);
        expect(fetch).toHaveBeenCalledTimes(1);
        expect(posted.at(-1)?.type).toBe('stats');
        view.visible = false;
        panel.scheduleRefresh();
        await vi.advanceTimersByTimeAsync(1100);
        expect(fetch).toHaveBeenCalledTimes(1);
        panel.dispose();
    });

    it('shows server errors as "unavailable", and acts only on known webview messages', async () => {
        const { panel, train } = makePanel(async () => {
            throw new Error('The Editloop server is not running (Stopped).');
        });
        const { view, posted, send } = fakeView();
        panel.resolveWebviewView(view as never);
        await panel.refresh();
        expect(posted.at(-1)).toEqual({ type: 'unavailable', message: 'The Editloop server is not running (Stopped).' });
        send({ type: 'train' });
        send({ type: 'runCommand', command: 'workbench.action.terminal.new' });
        expect(train).toHaveBeenCalledTimes(1);
    });
});
