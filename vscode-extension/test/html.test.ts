import { describe, expect, it } from 'vitest';
import { buildCsp, buildWebviewHtml, escapeHtml, makeNonce } from '../src/common/html';
import { parseFromWebview } from '../src/common/messages';
import { HOSTILE } from './fixtures';

describe('escapeHtml', () => {
    it('neutralizes markup and attribute breakouts', () => {
        expect(escapeHtml(HOSTILE[0])).toBe('&lt;script&gt;alert(1)&lt;/script&gt;');
        expect(escapeHtml(HOSTILE[1])).toBe('&lt;/style&gt;&lt;img src=x onerror=alert(2)&gt;');
        expect(escapeHtml(`" onload='x' \``)).toBe('&quot; onload=&#39;x&#39; &#96;');
        expect(escapeHtml(null)).toBe('');
    });
});

describe('CSP and shell', () => {
    it('allows scripts only with the nonce, styles and images only from the extension', () => {
        const csp = buildCsp('https://x.vscode-cdn.net', 'abc123');
        expect(csp).toContain("default-src 'none'");
        expect(csp).toContain("script-src 'nonce-abc123'");
        expect(csp).toContain('style-src https://x.vscode-cdn.net');
        expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*;/);
        expect(() => buildCsp('s', "a' 'unsafe-inline")).toThrow();
        expect(buildCsp("evil; script-src *", 'n1')).not.toContain('; script-src *');
        expect(buildCsp("evil; script-src *", 'n1')).not.toMatch(/ \*/);
    });

    it('keeps every source of a multi-source cspSource (VS Code for the Web, code-server)', () => {
        // The browser workbench gives "'self' https://*.vscode-cdn.net"; joining the tokens into
        // "selfhttps://..." blocked the stylesheet there (found by tests/e2e-vscode).
        const csp = buildCsp("'self' https://*.vscode-cdn.net", 'n1');
        expect(csp).toContain("style-src 'self' https://*.vscode-cdn.net;");
        expect(csp).toContain("img-src 'self' https://*.vscode-cdn.net data:;");
        expect(csp).toContain("font-src 'self' https://*.vscode-cdn.net;");
        expect(buildCsp('http://127.0.0.1:8080 vscode-resource:', 'n1')).toContain('style-src http://127.0.0.1:8080 vscode-resource:;');
    });

    it('falls back to no sources when cspSource has none that are well formed', () => {
        const csp = buildCsp("* 'unsafe-inline' a;b", 'n1');
        expect(csp).toContain("style-src 'none';");
        expect(csp).toContain('img-src data:;');
        expect(csp).not.toMatch(/unsafe-inline|\*/);
    });

    it('makes fresh alphanumeric nonces', () => {
        const a = makeNonce();
        expect(a).toMatch(/^[A-Za-z0-9]{32}$/);
        expect(makeNonce()).not.toBe(a);
    });

    it('puts the nonce on the only script and escapes every value', () => {
        const html = buildWebviewHtml({
            cspSource: 'https://x',
            nonce: 'N0nce',
            scriptUri: 'https://x/webview.js?a="b"',
            styleUri: 'https://x/webview.css',
            title: HOSTILE[0],
        });
        expect(html.match(/<script/g)).toHaveLength(1);
        expect(html).toContain('<script nonce="N0nce" src="https://x/webview.js?a=&quot;b&quot;"></script>');
        expect(html).toContain('<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>');
        expect(html).not.toMatch(/<style/);
    });
});

describe('parseFromWebview', () => {
    it('accepts only known messages', () => {
        expect(parseFromWebview({ type: 'train' })).toEqual({ type: 'train' });
        expect(parseFromWebview({ type: 'ready', extra: 1 })).toEqual({ type: 'ready' });
        expect(parseFromWebview({ type: 'runCommand', command: 'workbench.action.terminal.new' })).toBeUndefined();
        expect(parseFromWebview('train')).toBeUndefined();
    });
});
