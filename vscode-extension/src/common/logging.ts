/** The extension's one LogOutputChannel; the language client writes its traces there too. */
import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

export function createLog(): vscode.LogOutputChannel {
    channel ??= vscode.window.createOutputChannel('Editloop', { log: true });
    return channel;
}

export function log(): vscode.LogOutputChannel {
    return createLog();
}

/** An error for the user, with a "Show Logs" button that opens the channel. */
export async function showError(message: string, ...extra: string[]): Promise<string | undefined> {
    log().error(message);
    const choice = await vscode.window.showErrorMessage(message, ...extra, 'Show Logs');
    if (choice === 'Show Logs') {
        log().show();
        return undefined;
    }
    return choice;
}
