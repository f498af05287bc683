/**
 * A hover over a tracked region: the model, the prompt and the similarity to the original so far,
 * from `editloop.region`. Registered only when the server has no hover provider of its own.
 * Stored text goes through `appendText` (escaped), never through markdown or HTML.
 */
import * as vscode from 'vscode';
import { parseRegionDetail, RegionDetail, ServerCommand } from '../common/protocol';
import { RegionStore } from '../common/regions';
import { toLspPosition, toVsRange } from './convert';

export type Execute = (command: string, arg: object, token?: vscode.CancellationToken) => Promise<unknown>;

export class RegionHoverProvider implements vscode.HoverProvider {
    constructor(
        private readonly store: RegionStore,
        private readonly execute: Execute,
    ) {}

    async provideHover(document: vscode.TextDocument, position: vscode.Position, token: vscode.CancellationToken) {
        const region = this.store.regionAt(document.uri.toString(), toLspPosition(position));
        if (!region) {
            return undefined;
        }
        const detail = parseRegionDetail(await this.execute(ServerCommand.region, { regionId: region.id }, token).catch(() => undefined));
        if (!detail) {
            return undefined;
        }
        return new vscode.Hover(hoverMarkdown(detail), toVsRange(region.range));
    }
}

/** The hover's rows as [label, value] pairs; values are stored text. */
export function hoverRows(detail: RegionDetail): [string, string][] {
    const rows: [string, string][] = [
        ['Model', detail.model || 'unknown'],
        ['Artifact', detail.artifactType || 'unknown'],
        ['Similarity to the original', typeof detail.similarity === 'number' ? `${Math.round(detail.similarity * 100)}%` : 'not measured yet'],
        ['Status', detail.status],
    ];
    if (detail.prompt) {
        rows.push(['Prompt', detail.prompt.length > 500 ? detail.prompt.slice(0, 499) + '…' : detail.prompt]);
    }
    return rows;
}

export function hoverMarkdown(detail: RegionDetail): vscode.MarkdownString {
    const md = new vscode.MarkdownString();
    md.isTrusted = false;
    md.supportHtml = false;
    md.appendMarkdown('**Editloop** AI output\n\n');
    for (const [label, value] of hoverRows(detail)) {
        md.appendMarkdown(`${label}: `);
        md.appendText(value);
        md.appendMarkdown('  \n');
    }
    return md;
}
