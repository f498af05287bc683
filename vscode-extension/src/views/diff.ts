/**
 * "Diff": VS Code's diff editor with the document as the AI wrote it (left, read-only, scheme
 * `editloop-original`) against the live document (right). The original region text comes from
 * `editloop.region {regionId}`; the rest of the left side is the current document.
 */
import * as vscode from 'vscode';
import { parseRegionDetail, ServerCommand } from '../common/protocol';
import { spliceText } from '../common/regions';
import type { Execute } from './hover';

export const ORIGINAL_SCHEME = 'editloop-original';

export class OriginalContentProvider implements vscode.TextDocumentContentProvider {
    constructor(private readonly execute: Execute) {}

    async provideTextDocumentContent(uri: vscode.Uri, token: vscode.CancellationToken): Promise<string> {
        const { regionId, source } = parseOriginalUri(uri);
        const detail = parseRegionDetail(await this.execute(ServerCommand.region, { regionId }, token));
        if (!detail) {
            throw new Error('Editloop: this AI region is no longer tracked');
        }
        const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === source);
        if (!document) {
            return detail.original;
        }
        const r = detail.range;
        const start = document.offsetAt(new vscode.Position(r.start.line, r.start.character));
        const end = document.offsetAt(new vscode.Position(r.end.line, r.end.character));
        return spliceText(document.getText(), start, end, detail.original);
    }
}

export function originalUri(document: vscode.Uri, regionId: string): vscode.Uri {
    const name = document.path.split('/').pop() || 'document';
    const query = new URLSearchParams({ region: regionId, source: document.toString() }).toString();
    return vscode.Uri.from({ scheme: ORIGINAL_SCHEME, path: `/${name}`, query });
}

export function parseOriginalUri(uri: vscode.Uri): { regionId: string; source: string } {
    const q = new URLSearchParams(uri.query);
    return { regionId: q.get('region') ?? '', source: q.get('source') ?? '' };
}

export async function showDiff(document: vscode.Uri, regionId: string): Promise<void> {
    const name = document.path.split('/').pop() || 'document';
    await vscode.commands.executeCommand('vscode.diff', originalUri(document, regionId), document, `${name}: AI original ↔ current`);
}
