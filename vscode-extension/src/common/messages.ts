/** Messages between the extension and the stats webview (both sides import this module). */
import type { StatsView } from './statsModel';

export type ToWebview =
    | { type: 'stats'; view: StatsView }
    | { type: 'unavailable'; message: string };

export type FromWebview = { type: 'ready' } | { type: 'refresh' } | { type: 'train' };

/** Accepts only the known message types from the webview; anything else is ignored. */
export function parseFromWebview(v: unknown): FromWebview | undefined {
    if (typeof v !== 'object' || v === null) {
        return undefined;
    }
    const type = (v as { type?: unknown }).type;
    return type === 'ready' || type === 'refresh' || type === 'train' ? { type } : undefined;
}
