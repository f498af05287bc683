import { runLabel } from './names';
import { RunFinishedParams } from './protocol';
import { formatNumber } from './statsModel';

/**
 * Which training runs are in flight, and which server progress belongs to which run, so that
 * cancelling a progress notification can send `editloop.cancel {runId}`.
 *
 * The server creates the progress token itself (window/workDoneProgress/create), possibly before
 * `editloop.train` has answered with the run id, so a token is bound to a run lazily: the run id
 * named in the progress title or message, else the only run in flight.
 */
export class RunTracker {
    private readonly active: string[] = [];
    private readonly byToken = new Map<string, string>();

    started(runId: string): void {
        if (!this.active.includes(runId)) {
            this.active.push(runId);
        }
    }

    finished(runId: string): void {
        const i = this.active.indexOf(runId);
        if (i >= 0) {
            this.active.splice(i, 1);
        }
        for (const [token, run] of this.byToken) {
            if (run === runId) {
                this.byToken.delete(token);
            }
        }
    }

    list(): readonly string[] {
        return this.active;
    }

    /** The progress tokens bound to a run (to close their notifications when it finishes). */
    tokensOf(runId: string): string[] {
        return [...this.byToken].filter(([, run]) => run === runId).map(([token]) => token);
    }

    runForProgress(token: string, texts: (string | undefined)[]): string | undefined {
        const bound = this.byToken.get(token);
        if (bound !== undefined) {
            return bound;
        }
        const text = texts.filter((t): t is string => typeof t === 'string').join('\n');
        const named = this.active.filter((run) => mentions(text, run));
        // The longest id wins when one id is a prefix of another ("run-1" vs "run-12").
        const run = named.sort((a, b) => b.length - a.length)[0] ?? (this.active.length === 1 ? this.active[0] : undefined);
        if (run !== undefined) {
            this.byToken.set(token, run);
        }
        return run;
    }

    forgetToken(token: string): void {
        this.byToken.delete(token);
    }
}

function mentions(text: string, id: string): boolean {
    let from = 0;
    for (;;) {
        const i = text.indexOf(id, from);
        if (i < 0) {
            return false;
        }
        const before = i === 0 ? '' : text[i - 1];
        const after = text[i + id.length] ?? '';
        if (!/[\w-]/.test(before) && !/[\w-]/.test(after)) {
            return true;
        }
        from = i + 1;
    }
}

/** One line for the user when `editloop/runFinished` arrives. */
export function runFinishedMessage(params: RunFinishedParams): string {
    const m = params.metrics;
    const parts = ['valLoss', 'valSimilarity', 'valValidity']
        .filter((k) => typeof m[k] === 'number' && Number.isFinite(m[k]))
        .map((k) => `${k} ${formatNumber(m[k] as number)}`);
    const promoted = (params.promoted ?? m.promoted === true) ? '; promoted to the active model' : '';
    const details = parts.length ? ` (${parts.join(', ')})` : '';
    const error = params.status === 'failed' && params.error ? `: ${params.error.replace(/[.\s]+$/, '')}` : '';
    return `Editloop: training ${runLabel(params.runId)} ${params.status}${details}${promoted}${error}.`;
}
