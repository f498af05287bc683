/** Pending tracked regions: a subtle background, a gutter bar and an overview-ruler mark. */
import * as vscode from 'vscode';
import { decorationRanges, RegionStore } from '../common/regions';
import { toVsRange } from './convert';

export class RegionDecorations implements vscode.Disposable {
    private readonly type: vscode.TextEditorDecorationType;
    private readonly disposables: vscode.Disposable[] = [];

    constructor(private readonly store: RegionStore, extensionUri: vscode.Uri) {
        this.type = vscode.window.createTextEditorDecorationType({
            backgroundColor: new vscode.ThemeColor('editloop.pendingRegionBackground'),
            overviewRulerColor: new vscode.ThemeColor('editloop.pendingRegionOverviewRuler'),
            overviewRulerLane: vscode.OverviewRulerLane.Left,
            rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
            light: { gutterIconPath: vscode.Uri.joinPath(extensionUri, 'media', 'gutter-light.svg'), gutterIconSize: 'contain' },
            dark: { gutterIconPath: vscode.Uri.joinPath(extensionUri, 'media', 'gutter-dark.svg'), gutterIconSize: 'contain' },
        });
        this.disposables.push(
            this.type,
            store.onDidChange((uri) => this.refresh(uri)),
            vscode.window.onDidChangeVisibleTextEditors(() => this.refresh()),
        );
        this.refresh();
    }

    /** Redraws the visible editors showing `uri` (all of them when omitted). */
    refresh(uri?: string): void {
        for (const editor of vscode.window.visibleTextEditors) {
            const key = editor.document.uri.toString();
            if (uri === undefined || key === uri) {
                editor.setDecorations(this.type, decorationRanges(this.store.regions(key)).map(toVsRange));
            }
        }
    }

    dispose(): void {
        this.disposables.forEach((d) => d.dispose());
    }
}
