/**
 * vscode-languageclient is CommonJS and calls require('vscode') itself; hand it the same mock
 * instance the sources get through the vitest alias.
 */
import Module, { createRequire } from 'node:module';
import * as mock from './mocks/vscode';

const require = createRequire(import.meta.url);
type Resolve = (request: string, ...rest: unknown[]) => string;
const moduleInternals = Module as unknown as { _resolveFilename: Resolve };
const original = moduleInternals._resolveFilename;
moduleInternals._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]) {
    return request === 'vscode' ? 'vscode' : original.call(this, request, ...rest);
};
require.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: mock } as unknown as NodeJS.Module;
