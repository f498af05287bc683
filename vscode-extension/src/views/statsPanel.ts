/**
 * The stats side panel: a webview view in Editloop's activity-bar container. The extension fetches
 * `editloop.stats {}`, turns it into a StatsView (statsModel.ts) and posts it; the bundled webview
 * script (src/webview/) draws it with Chart.js. The HTML shell has a strict CSP with a fresh nonce.
 */
import * as vscode from 'vscode';
import { debounce } from '../common/debounce';
import { buildWebviewHtml, makeNonce } from '../common/html';
import { parseFromWebview, ToWebview } from '../common/messages';
import { errorMessage } from '../common/server';
import { toStatsView } from '../common/statsModel';

export class StatsPanel implements vscode.WebviewViewProvider, vscode.Disposable {
    static readonly viewId = 'editloop.statsView';
    private view: vscode.WebviewView | undefined;
    private readonly refreshSoon = debounce(() => void this.refresh(), 1000);
    private readonly disposables: vscode.Disposable[] = [];

    constructor(
        private readonly extensionUri: vscode.Uri,
        private readonly fetchStats: () => Promise<unknown>,
        private readonly train: () => Thenable<unknown>,
    ) {}

    resolveWebviewView(view: vscode.WebviewView): void {
        this.view = view;
        const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
        view.webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: [dist] };
        view.webview.html = buildWebviewHtml({
            cspSource: view.webview.cspSource,
            nonce: makeNonce(),
            scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
            styleUri: view.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css')).toString(),
            title: 'Editloop stats',
        });
        this.disposables.push(
            view.webview.onDidReceiveMessage((raw) => {
                const message = parseFromWebview(raw);
                if (message?.type === 'train') {
                    void this.train();
                } else if (message) {
                    void this.refresh();
                }
            }),
            view.onDidChangeVisibility(() => view.visible && void this.refresh()),
            view.onDidDispose(() => (this.view = undefined)),
        );
    }

    /** Debounced refresh, for bursts of region notifications. */
    scheduleRefresh(): void {
        if (this.view?.visible) {
            this.refreshSoon.schedule();
        }
    }

    async refresh(): Promise<void> {
        if (!this.view) {
            return;
        }
        let message: ToWebview;
        try {
            message = { type: 'stats', view: toStatsView(await this.fetchStats()) };
        } catch (err) {
            message = { type: 'unavailable', message: errorMessage(err) };
        }
        await this.view?.webview.postMessage(message);
    }

    async reveal(): Promise<void> {
        await vscode.commands.executeCommand(`${StatsPanel.viewId}.focus`);
        await this.refresh();
    }

    dispose(): void {
        this.refreshSoon.cancel();
        this.disposables.forEach((d) => d.dispose());
    }
}
