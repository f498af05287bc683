/**
 * Server work-done progress (training runs) as cancellable VS Code notifications. The server
 * creates the token (window/workDoneProgress/create) and reports `$/progress` begin/report/end; the
 * report message carries the loss. Cancelling sends `window/workDoneProgress/cancel` and, for a
 * training run, `editloop.cancel {runId}`. `editloop/runFinished` closes what is left and says how
 * the run ended.
 */
import * as vscode from 'vscode';
import {
    ProgressToken,
    WorkDoneProgress,
    WorkDoneProgressBegin,
    WorkDoneProgressCancelNotification,
    WorkDoneProgressReport,
} from 'vscode-languageclient/node';
import type { EditloopClient } from '../common/client';
import { log } from '../common/logging';
import { progressText } from '../common/names';
import { RunFinishedParams } from '../common/protocol';
import { runFinishedMessage, RunTracker } from '../common/runs';

interface Part {
    token: ProgressToken;
    title: string;
    message?: string;
    reported: number;
    progress?: vscode.Progress<{ message?: string; increment?: number }>;
    finish(): void;
    listener: vscode.Disposable;
}

export class TrainingProgress implements vscode.Disposable {
    private readonly parts = new Map<string, Part>();

    constructor(
        private readonly runs: RunTracker,
        private readonly cancelRun: (runId: string) => Promise<void>,
    ) {}

    /** A server-created token: listen for its `$/progress` until it ends. */
    create(token: ProgressToken, client: EditloopClient): void {
        const key = String(token);
        const listener = client.onProgress(WorkDoneProgress.type, token, (value) => {
            if (value.kind === 'begin') {
                this.begin(key, value, client);
            } else if (value.kind === 'report') {
                this.report(key, value);
            } else if (value.kind === 'end') {
                this.end(key);
            }
        });
        this.parts.get(key)?.finish();
        this.parts.set(key, { token, title: '', reported: 0, finish: () => listener.dispose(), listener });
    }

    private begin(key: string, value: WorkDoneProgressBegin, client: EditloopClient): void {
        const part = this.parts.get(key);
        if (!part) {
            return;
        }
        part.title = value.title;
        part.message = value.message;
        // Shown with a readable run name in the title, and no run id repeated in the message.
        const shown = progressText(value.title, undefined).title;
        const title = shown.startsWith('Editloop') ? shown : `Editloop: ${shown}`;
        void vscode.window.withProgress(
            { location: vscode.ProgressLocation.Notification, title, cancellable: value.cancellable ?? false },
            (progress, cancellation) =>
                new Promise<void>((resolve) => {
                    part.progress = progress;
                    part.finish = () => {
                        part.listener.dispose();
                        resolve();
                    };
                    cancellation.onCancellationRequested(() => void this.cancel(key, client));
                    this.report(key, value);
                }),
        );
    }

    private report(key: string, value: WorkDoneProgressBegin | WorkDoneProgressReport): void {
        const part = this.parts.get(key);
        if (!part?.progress) {
            return;
        }
        if (value.message !== undefined) {
            part.message = value.message;
        }
        let increment: number | undefined;
        if (typeof value.percentage === 'number') {
            const pct = Math.max(0, Math.min(100, value.percentage));
            increment = Math.max(0, pct - part.reported);
            part.reported += increment;
        }
        part.progress.report({ message: part.message === undefined ? undefined : progressText(part.title, part.message).message, increment });
    }

    private end(key: string): void {
        const part = this.parts.get(key);
        this.parts.delete(key);
        this.runs.forgetToken(key);
        part?.finish();
    }

    private async cancel(key: string, client: EditloopClient): Promise<void> {
        const part = this.parts.get(key);
        if (!part) {
            return;
        }
        const runId = this.runs.runForProgress(key, [part.title, part.message]);
        log().info(`Cancelling progress ${key}${runId ? ` (run ${runId})` : ''}`);
        await client.sendNotification(WorkDoneProgressCancelNotification.type, { token: part.token }).catch(() => undefined);
        if (runId !== undefined) {
            await this.cancelRun(runId);
        }
        this.end(key);
    }

    /** `editloop/runFinished`: close the run's notifications, then tell the user how it went. */
    runFinished(params: RunFinishedParams, showStats: () => void): void {
        for (const token of this.runs.tokensOf(params.runId)) {
            this.end(token);
        }
        this.runs.finished(params.runId);
        const message = runFinishedMessage(params);
        log().info(message);
        if (params.status === 'failed') {
            void vscode.window.showErrorMessage(message, 'Show Logs').then((c) => c && log().show());
        } else {
            void vscode.window.showInformationMessage(message, 'Show Stats').then((c) => c && showStats());
        }
    }

    /** The client stopped: every open notification ends. */
    clear(): void {
        for (const key of [...this.parts.keys()]) {
            this.end(key);
        }
    }

    dispose(): void {
        this.clear();
    }
}
