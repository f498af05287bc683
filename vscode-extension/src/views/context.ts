/** The `editloop.regionAtCursor` context key, for the Accept/Reject keybindings and menus. */
import * as vscode from 'vscode';
import { RegionStore } from '../common/regions';
import { toLspPosition } from './convert';

export const REGION_AT_CURSOR = 'editloop.regionAtCursor';

export function trackRegionAtCursor(store: RegionStore): vscode.Disposable {
    let last: boolean | undefined;
    const update = () => {
        const editor = vscode.window.activeTextEditor;
        const value = !!editor && store.pendingAt(editor.document.uri.toString(), toLspPosition(editor.selection.active)) !== undefined;
        if (value !== last) {
            last = value;
            void vscode.commands.executeCommand('setContext', REGION_AT_CURSOR, value);
        }
    };
    const subscriptions = [
        vscode.window.onDidChangeTextEditorSelection(update),
        vscode.window.onDidChangeActiveTextEditor(update),
        store.onDidChange(update),
    ];
    update();
    return vscode.Disposable.from(...subscriptions);
}
