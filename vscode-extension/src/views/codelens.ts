/**
 * "Accept | Reject | Diff" above pending regions.
 *
 * When the server advertises a CodeLens provider, its lenses (Accept, Reject) are shown by
 * vscode-languageclient and `diffLensMiddleware` adds a Diff lens next to each Accept; their commands
 * (`editloop.accept {regionId}`) run the extension's own commands. When the server has none, the
 * lenses are computed here from the region list of `editloop/regions` (regions.lensSpecs).
 */
import * as vscode from 'vscode';
import type { Middleware } from 'vscode-languageclient/node';
import { lensSpecs, RegionStore } from '../common/regions';
import { toVsRange } from './convert';

export class RegionCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
    private readonly changed = new vscode.EventEmitter<void>();
    private readonly subscription: { dispose(): void };
    readonly onDidChangeCodeLenses = this.changed.event;

    constructor(private readonly store: RegionStore) {
        this.subscription = store.onDidChange(() => this.changed.fire());
    }

    provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
        return lensSpecs(this.store.regions(document.uri.toString())).map((spec) => {
            const range = toVsRange({ start: { line: spec.line, character: 0 }, end: { line: spec.line, character: 0 } });
            return new vscode.CodeLens(range, { title: spec.title, tooltip: spec.tooltip, command: spec.command, arguments: spec.args });
        });
    }

    dispose(): void {
        this.subscription.dispose();
        this.changed.dispose();
    }
}

/** The region ids of Accept lenses that have no Diff lens beside them. */
export function regionsNeedingDiff(commands: ({ command: string; arguments?: unknown[] } | undefined)[]): string[] {
    const idOf = (c: { arguments?: unknown[] }) => {
        const arg = c.arguments?.[0] as { regionId?: unknown } | undefined;
        return typeof arg?.regionId === 'string' || typeof arg?.regionId === 'number' ? String(arg.regionId) : undefined;
    };
    const withDiff = new Set(commands.filter((c) => c?.command === 'editloop.diff').map((c) => idOf(c!)));
    const ids = commands.filter((c) => c?.command === 'editloop.accept').map((c) => idOf(c!));
    return [...new Set(ids.filter((id): id is string => id !== undefined && !withDiff.has(id)))];
}

export const diffLensMiddleware: Middleware = {
    async provideCodeLenses(document, token, next) {
        const lenses = (await next(document, token)) ?? [];
        const missing = new Set(regionsNeedingDiff(lenses.map((l) => l.command)));
        const extra = lenses
            .filter((l) => l.command?.command === 'editloop.accept' && missing.delete(String((l.command.arguments?.[0] as { regionId: unknown }).regionId)))
            .map((l) => new vscode.CodeLens(l.range, {
                title: 'Diff',
                tooltip: 'Compare the AI original with the current text',
                command: 'editloop.diff',
                arguments: l.command!.arguments,
            }));
        return [...lenses, ...extra];
    },
};
