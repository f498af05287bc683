/**
 * "3 min ago" for the server's ISO-8601 UTC timestamps (`2026-12-03T14:05:01.123Z`). Pure and
 * DOM-free: the webview shows it with the ISO text in a title attribute and updates it as time passes.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Milliseconds since the epoch, or undefined for anything that is not a date. */
export function parseTime(iso: string): number | undefined {
    if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(iso.trim())) {
        return undefined;
    }
    // A timestamp without a zone is the server's UTC (utcnow_iso always writes "Z").
    const text = /[T ]\d{2}:\d{2}/.test(iso) && !/(Z|[+-]\d{2}:?\d{2})$/.test(iso.trim()) ? `${iso.trim()}Z` : iso.trim();
    const ms = Date.parse(text.replace(' ', 'T'));
    return Number.isFinite(ms) ? ms : undefined;
}

/**
 * How long ago `iso` was, in words: "just now", "1 min ago", "3 h ago", "yesterday", "5 days ago",
 * and the date itself beyond 30 days. A time in the future (clock skew) reads "just now".
 * An unparseable value is returned as it is.
 */
export function relativeTime(iso: string, now: number = Date.now()): string {
    const then = parseTime(iso);
    if (then === undefined) {
        return iso;
    }
    const ago = now - then;
    if (ago < 45_000) {
        return 'just now';
    }
    if (ago < HOUR) {
        return `${Math.max(1, Math.round(ago / MINUTE))} min ago`;
    }
    if (ago < DAY) {
        return `${Math.round(ago / HOUR)} h ago`;
    }
    const days = Math.floor(ago / DAY);
    if (days === 1) {
        return 'yesterday';
    }
    if (days <= 30) {
        return `${days} days ago`;
    }
    return `on ${new Date(then).toISOString().slice(0, 10)}`;
}
