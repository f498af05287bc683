/**
 * Which of vscode-languageclient's built-in features the Editloop client replaces (see client.ts).
 *
 * - `workspace/executeCommand`: the built-in feature registers every command the server advertises
 *   (`editloop.accept`, ...) as a VS Code command of the same id. The extension registers those ids
 *   itself (they take the region under the cursor, ask for a prompt, ...), and VS Code throws when an
 *   id is registered twice, so the built-in must not run.
 * - `window/workDoneProgress/create`: the built-in shows server progress silently in the status bar,
 *   where cancelling only sends `window/workDoneProgress/cancel`; the extension shows training as a
 *   notification with the loss, and cancelling also sends `editloop.cancel {runId}`.
 */
export const REPLACED_METHODS: ReadonlySet<string> = new Set(['workspace/executeCommand', 'window/workDoneProgress/create']);

interface FeatureLike {
    registrationType?: { method: string };
    getState(): { kind: string; id?: string };
}

/** The LSP method a feature handles: its registration type, else the id of its state. */
export function featureMethod(feature: FeatureLike): string | undefined {
    if (feature.registrationType && typeof feature.registrationType.method === 'string') {
        return feature.registrationType.method;
    }
    try {
        const state = feature.getState();
        return 'id' in state && typeof state.id === 'string' ? state.id : undefined;
    } catch {
        return undefined;
    }
}

export function isReplacedBuiltin(feature: FeatureLike): boolean {
    const method = featureMethod(feature);
    return method !== undefined && REPLACED_METHODS.has(method);
}
