/**
 * The client's copy of the tracked regions, replaced per document by every `editloop/regions`
 * notification. The server owns regions; this only answers "which region is at the cursor" and
 * "what to draw", so decorations, CodeLenses, hover and the context key stay in sync.
 */
import { comparePositions, isPending, Position, rangeContains, RegionInfo, RegionsParams } from './protocol';

export class RegionStore {
    private readonly byUri = new Map<string, RegionInfo[]>();
    private readonly listeners = new Set<(uri: string) => void>();

    /** `normalize` maps a URI string to the key used by documents (VS Code's `Uri.toString()`). */
    constructor(private readonly normalize: (uri: string) => string = (u) => u) {}

    update(params: RegionsParams): string {
        const uri = this.normalize(params.uri);
        if (params.regions.length === 0) {
            this.byUri.delete(uri);
        } else {
            this.byUri.set(uri, [...params.regions].sort((a, b) => comparePositions(a.range.start, b.range.start)));
        }
        this.listeners.forEach((l) => l(uri));
        return uri;
    }

    regions(uri: string): readonly RegionInfo[] {
        return this.byUri.get(uri) ?? [];
    }

    pending(uri: string): RegionInfo[] {
        return this.regions(uri).filter(isPending);
    }

    /**
     * The pending region at `position`; when regions nest or touch, the smallest one wins
     * (the most specific thing the user is looking at).
     */
    pendingAt(uri: string, position: Position): RegionInfo | undefined {
        return smallest(this.pending(uri).filter((r) => rangeContains(r.range, position)));
    }

    /** Any region (pending or resolved) at `position`, smallest first. */
    regionAt(uri: string, position: Position): RegionInfo | undefined {
        return smallest(this.regions(uri).filter((r) => rangeContains(r.range, position)));
    }

    find(id: string): { uri: string; region: RegionInfo } | undefined {
        for (const [uri, regions] of this.byUri) {
            const region = regions.find((r) => r.id === id);
            if (region) {
                return { uri, region };
            }
        }
        return undefined;
    }

    clear(): void {
        const uris = [...this.byUri.keys()];
        this.byUri.clear();
        uris.forEach((uri) => this.listeners.forEach((l) => l(uri)));
    }

    onDidChange(listener: (uri: string) => void): { dispose(): void } {
        this.listeners.add(listener);
        return { dispose: () => this.listeners.delete(listener) };
    }
}

function span(r: RegionInfo): [number, number] {
    return [r.range.end.line - r.range.start.line, r.range.end.character - r.range.start.character];
}

function smallest(regions: RegionInfo[]): RegionInfo | undefined {
    return regions.reduce<RegionInfo | undefined>((best, r) => {
        if (!best) {
            return r;
        }
        const [bl, bc] = span(best);
        const [rl, rc] = span(r);
        return rl < bl || (rl === bl && rc < bc) ? r : best;
    }, undefined);
}

/** The ranges to decorate: pending regions only (resolved ones are done and left undecorated). */
export function decorationRanges(regions: readonly RegionInfo[]): RegionInfo['range'][] {
    return regions.filter(isPending).map((r) => r.range);
}

export interface LensSpec {
    line: number;
    title: string;
    tooltip: string;
    command: string;
    args: [{ regionId: string }];
}

/** "Accept | Reject | Diff" above the first line of each pending region. */
export function lensSpecs(regions: readonly RegionInfo[]): LensSpec[] {
    return regions.filter(isPending).flatMap((r) => {
        const args: [{ regionId: string }] = [{ regionId: r.id }];
        const line = r.range.start.line;
        return [
            { line, title: '$(check) Accept', tooltip: 'Keep this AI output as it is now (Editloop)', command: 'editloop.accept', args },
            { line, title: '$(close) Reject', tooltip: 'Mark this AI output as rejected (Editloop)', command: 'editloop.reject', args },
            { line, title: '$(diff) Diff', tooltip: 'Compare the AI original with the current text', command: 'editloop.diff', args },
        ];
    });
}

/** The document text with `range` (as offsets) replaced: the document as the AI wrote it. */
export function spliceText(text: string, start: number, end: number, replacement: string): string {
    const s = Math.max(0, Math.min(start, text.length));
    const e = Math.max(s, Math.min(end, text.length));
    return text.slice(0, s) + replacement + text.slice(e);
}
