/**
 * The Python extension's active environment, through its public API when ms-python.python is
 * installed. Only the two calls used here are typed (the full API is @vscode/python-extension).
 */
import * as vscode from 'vscode';

interface EnvironmentPath {
    id: string;
    path: string;
}

interface PythonApi {
    environments: {
        getActiveEnvironmentPath(resource?: vscode.Uri): EnvironmentPath;
        resolveEnvironment(env: EnvironmentPath | string): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
        onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
    };
}

export const PYTHON_EXTENSION_ID = 'ms-python.python';

async function api(): Promise<PythonApi | undefined> {
    const extension = vscode.extensions.getExtension<PythonApi>(PYTHON_EXTENSION_ID);
    if (!extension) {
        return undefined;
    }
    const exports = extension.isActive ? extension.exports : await extension.activate();
    return exports?.environments ? exports : undefined;
}

/** The interpreter of the active environment for `resource`, or undefined. */
export async function activeInterpreter(resource?: vscode.Uri): Promise<string | undefined> {
    const python = await api();
    if (!python) {
        return undefined;
    }
    const envPath = python.environments.getActiveEnvironmentPath(resource);
    const resolved = await python.environments.resolveEnvironment(envPath);
    return resolved?.executable.uri?.fsPath;
}

/** Calls `listener` when the user picks another environment in the Python extension. */
export async function onDidChangeInterpreter(listener: () => void): Promise<vscode.Disposable | undefined> {
    const python = await api();
    return python?.environments.onDidChangeActiveEnvironmentPath(listener);
}
