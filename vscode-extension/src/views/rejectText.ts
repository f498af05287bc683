/**
 * Reject removes the region's text, as Copilot's "Discard" does (setting
 * `editloop.rejectRemovesText`, on by default): one WorkspaceEdit deleting the region's current
 * range, so Undo brings it back. The range and text come from `editloop.region`, read BEFORE the
 * reject (a rejected region is no longer pending and has no range); nothing is deleted unless the
 * document still holds exactly that text there.
 */
import * as vscode from 'vscode';
import { log } from '../common/logging';
import { RegionDetail } from '../common/protocol';
import { toVsRange } from './convert';

/** Deletes a pending region's text from its open document; true when the edit was applied. */
export async function removeRegionText(detail: RegionDetail): Promise<boolean> {
    if (detail.status !== 'pending' || !detail.current || !detail.uri) {
        return false;
    }
    const key = vscode.Uri.parse(detail.uri).toString();
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
    if (!document) {
        log().info('Reject: the document is not open; its text stays');
        return false;
    }
    const range = toVsRange(detail.range);
    if (document.getText(range) !== detail.current) {
        log().info('Reject: the text at the region changed since it was read; it stays');
        return false;
    }
    const edit = new vscode.WorkspaceEdit();
    edit.delete(document.uri, range);
    return vscode.workspace.applyEdit(edit);
}
