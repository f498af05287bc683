/**
 * The only way the webview creates elements: text goes through textContent, attributes through a
 * short allow-list (no event handlers, no URLs), so stored strings can never become markup.
 */
const ALLOWED_ATTRIBUTES = new Set(['class', 'role', 'aria-label', 'aria-live', 'aria-hidden', 'scope', 'title', 'type', 'colspan', 'datetime']);

export type Child = Node | string | number | null | undefined | false;

export function el(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
        if (!ALLOWED_ATTRIBUTES.has(name)) {
            throw new Error(`attribute ${name} is not allowed`);
        }
        node.setAttribute(name, value);
    }
    for (const child of children) {
        if (child === null || child === undefined || child === false) {
            continue;
        }
        node.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
    }
    return node;
}
