/**
 * Colour arithmetic for the panel's chart colours: parse the theme's CSS colours, measure WCAG
 * contrast against the panel's background, and darken or lighten a theme colour just enough to
 * reach 3:1 (WCAG 1.4.11, graphical objects). Pure: the tests and the workbench test use it too.
 */

export type Rgba = [number, number, number, number];

/** `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, `rgb(r, g, b)`, `rgba(r, g, b, a)`; else undefined. */
export function parseColor(css: string): Rgba | undefined {
    const s = css.trim().toLowerCase();
    let m = /^#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/.exec(s);
    if (m) {
        let hex = m[1];
        if (hex.length <= 4) {
            hex = [...hex].map((c) => c + c).join('');
        }
        const n = (i: number) => parseInt(hex.slice(i, i + 2), 16);
        return [n(0), n(2), n(4), hex.length === 8 ? n(6) / 255 : 1];
    }
    m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+%?))?\s*\)$/.exec(s);
    if (m) {
        const alpha = m[4] === undefined ? 1 : m[4].endsWith('%') ? parseFloat(m[4]) / 100 : parseFloat(m[4]);
        const c = (v: string) => Math.max(0, Math.min(255, parseFloat(v)));
        return [c(m[1]), c(m[2]), c(m[3]), Math.max(0, Math.min(1, alpha))];
    }
    return undefined;
}

/** `fg` painted over an opaque `bg`. */
export function over(fg: Rgba, bg: Rgba): Rgba {
    const a = fg[3];
    return [0, 1, 2].map((i) => fg[i] * a + bg[i] * (1 - a)).concat(1) as Rgba;
}

function channel(v: number): number {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

export function luminance(c: Rgba): number {
    return 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]);
}

/** WCAG contrast ratio (1..21) of two colours; a translucent `a` is first painted over `b`. */
export function contrast(a: Rgba, b: Rgba): number {
    const la = luminance(over(a, b));
    const lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

export function toHex(c: Rgba): string {
    return '#' + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
}

/**
 * `color` if it already has `min`:1 contrast with `background`; else the same hue mixed towards
 * black (light background) or white (dark background), in small steps, until it has. Colours that
 * cannot be parsed are returned as they are.
 */
export function ensureContrast(color: string, background: string, min = 3): string {
    const c = parseColor(color);
    const bg = parseColor(background);
    if (!c || !bg) {
        return color;
    }
    const base = over(bg, [255, 255, 255, 1]);
    let solid = over(c, base);
    if (contrast(solid, base) >= min) {
        return color;
    }
    const target = luminance(base) > 0.18 ? 0 : 255;
    for (let step = 1; step <= 20 && contrast(solid, base) < min; step++) {
        const t = step / 20;
        const mixed = over(c, base);
        solid = [0, 1, 2].map((i) => mixed[i] * (1 - t) + target * t).concat(1) as Rgba;
    }
    return toHex(solid);
}

/** CIE76 colour difference (ΔE*ab) of two opaque colours: above ~20, clearly different at a glance. */
export function deltaE(a: Rgba, b: Rgba): number {
    const [l1, a1, b1] = lab(a);
    const [l2, a2, b2] = lab(b);
    return Math.hypot(l1 - l2, a1 - a2, b1 - b2);
}

function lab(c: Rgba): [number, number, number] {
    const [r, g, b] = [channel(c[0]), channel(c[1]), channel(c[2])];
    const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
    return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}
