/** LSP positions/ranges <-> VS Code's (the negotiated encoding is UTF-16, VS Code's own). */
import * as vscode from 'vscode';
import type { Position, Range } from '../common/protocol';

export function toVsRange(r: Range): vscode.Range {
    return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

export function toLspRange(r: vscode.Range): Range {
    return { start: toLspPosition(r.start), end: toLspPosition(r.end) };
}

export function toLspPosition(p: vscode.Position): Position {
    return { line: p.line, character: p.character };
}
