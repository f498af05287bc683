/**
 * The stats panel's HTML shell: a strict Content-Security-Policy (scripts only with a fresh nonce,
 * styles and images only from the extension) and escaping for everything put into markup.
 * The shell carries no stored data; the webview script renders data with textContent only.
 */
import { randomBytes } from 'node:crypto';

const ENTITIES: Record<string, string> = {
    '&': '&amp;',
    '<': '&lt;',
    '>': '&gt;',
    '"': '&quot;',
    "'": '&#39;',
    '`': '&#96;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
    return String(value ?? '').replace(/[&<>"'`]/g, (c) => ENTITIES[c]);
}

/** 32 alphanumeric characters from a CSPRNG, fresh for each rendering of the webview. */
export function makeNonce(): string {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    return [...randomBytes(32)].map((b) => alphabet[b % alphabet.length]).join('');
}

/**
 * The well-formed source expressions of a webview's `cspSource`. VS Code gives one source on the
 * desktop ("https://*.vscode-cdn.net") but several in the browser (VS Code for the Web,
 * code-server: "'self' https://*.vscode-cdn.net"); anything else (a bare "*", a ";", other
 * keywords) is dropped.
 */
export function cspSources(cspSource: string): string[] {
    const source = /^(?:'self'|[a-z][a-z0-9+.-]*:\/\/(?:\*\.)?[a-z0-9.+-]+(?::\d+)?|[a-z][a-z0-9+.-]*:)$/i;
    return cspSource.split(/\s+/).filter((token) => source.test(token));
}

export function buildCsp(cspSource: string, nonce: string): string {
    if (!/^[A-Za-z0-9]+$/.test(nonce)) {
        throw new Error('nonce must be alphanumeric');
    }
    const sources = cspSources(cspSource).join(' ');
    return [
        "default-src 'none'",
        `img-src ${sources ? `${sources} ` : ''}data:`,
        `style-src ${sources || "'none'"}`,
        `font-src ${sources || "'none'"}`,
        `script-src 'nonce-${nonce}'`,
        "base-uri 'none'",
        "form-action 'none'",
    ].join('; ');
}

export interface ShellOptions {
    cspSource: string;
    nonce: string;
    scriptUri: string;
    styleUri: string;
    title: string;
}

export function buildWebviewHtml(o: ShellOptions): string {
    const csp = buildCsp(o.cspSource, o.nonce);
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(o.styleUri)}">
<title>${escapeHtml(o.title)}</title>
</head>
<body>
<main id="root" aria-live="polite"></main>
<script nonce="${escapeHtml(o.nonce)}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>`;
}
