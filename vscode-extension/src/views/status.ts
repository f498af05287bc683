/**
 * Two status items: a LanguageStatusItem with the server's state (starting, running, error), and a
 * status bar item with the pending regions and the accept rate from `editloop.stats {}`.
 */
import * as vscode from 'vscode';
import { debounce } from '../common/debounce';
import { ServerState } from '../common/server';
import { percent, statusText } from '../common/statsModel';

export class ServerStatusItem implements vscode.Disposable {
    private readonly item: vscode.LanguageStatusItem;

    constructor() {
        this.item = vscode.languages.createLanguageStatusItem('editloop.server', [{ scheme: 'file' }, { scheme: 'untitled' }]);
        this.item.name = 'Editloop';
        this.show({ kind: 'stopped', detail: 'Not started' });
    }

    show(state: ServerState): void {
        this.item.busy = state.kind === 'starting';
        this.item.severity = state.kind === 'error' ? vscode.LanguageStatusSeverity.Error : vscode.LanguageStatusSeverity.Information;
        this.item.text = state.kind === 'running' ? 'Editloop' : `Editloop: ${state.kind}`;
        this.item.detail = state.detail;
        this.item.command =
            state.kind === 'error'
                ? { title: 'Show Logs', command: 'editloop.showLogs' }
                : { title: 'Restart', command: 'editloop.restart' };
    }

    dispose(): void {
        this.item.dispose();
    }
}

export class StatsStatusBar implements vscode.Disposable {
    private readonly item: vscode.StatusBarItem;
    private readonly refreshSoon = debounce(() => void this.refresh(), 750);

    constructor(private readonly fetchStats: () => Promise<unknown>) {
        this.item = vscode.window.createStatusBarItem('editloop.stats', vscode.StatusBarAlignment.Right, 100);
        this.item.name = 'Editloop';
        this.item.command = 'editloop.stats';
    }

    /** Debounced: region notifications come in bursts while the user types. */
    scheduleRefresh(): void {
        this.refreshSoon.schedule();
    }

    async refresh(): Promise<void> {
        try {
            const { pending, acceptRate } = statusText(await this.fetchStats());
            this.item.text = `$(feedback) ${pending} pending · ${percent(acceptRate)}`;
            this.item.tooltip = `Editloop: ${pending} AI region${pending === 1 ? '' : 's'} awaiting an outcome; accept rate ${percent(acceptRate)}. Click for stats.`;
            this.item.show();
        } catch {
            this.item.hide();
        }
    }

    hide(): void {
        this.item.hide();
    }

    dispose(): void {
        this.refreshSoon.cancel();
        this.item.dispose();
    }
}
