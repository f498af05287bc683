import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
    resolve: {
        // Unit tests run without VS Code: `vscode` is a small in-memory stand-in.
        alias: { vscode: fileURLToPath(new URL('./test/mocks/vscode.ts', import.meta.url)) },
    },
    test: {
        include: ['test/**/*.test.ts'],
        environment: 'node',
        setupFiles: ['test/setup.ts'],
    },
});
