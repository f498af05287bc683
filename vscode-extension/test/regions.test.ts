import { describe, expect, it } from 'vitest';
import { parseRegionDetail, parseRegionsParams, rangeContains } from '../src/common/protocol';
import { decorationRanges, lensSpecs, RegionStore, spliceText } from '../src/common/regions';

const r = (sl: number, sc: number, el: number, ec: number) => ({ start: { line: sl, character: sc }, end: { line: el, character: ec } });

describe('parseRegionsParams', () => {
    it('keeps good regions, converts numeric ids, drops malformed ones', () => {
        const p = parseRegionsParams({
            uri: 'file:///a.py',
            regions: [
                { id: 'r1', range: r(1, 0, 3, 4), status: 'pending' },
                { id: 7, range: r(5, 0, 5, 2) },
                { id: 'bad-range', range: r(4, 0, 2, 0) },
                { id: '', range: r(0, 0, 0, 1) },
                { id: 'no-range' },
                null,
                { id: 'neg', range: r(-1, 0, 0, 0) },
            ],
        });
        expect(p?.regions.map((x) => x.id)).toEqual(['r1', '7']);
        expect(p?.regions[1].status).toBe('pending');
        expect(parseRegionsParams({ uri: 3, regions: [] })).toBeUndefined();
        expect(parseRegionsParams('nope')).toBeUndefined();
    });

    it('parses region details defensively', () => {
        const d = parseRegionDetail({ id: 'r1', uri: 'file:///a', range: r(0, 0, 1, 0), status: 'pending', original: 'x', prompt: 5, similarity: 'high' });
        expect(d).toMatchObject({ id: 'r1', original: 'x', prompt: undefined, similarity: null });
        expect(parseRegionDetail({ id: 'r1', range: r(0, 0, 1, 0) })).toBeUndefined();
    });
});

describe('RegionStore', () => {
    it('replaces a document’s regions per notification, normalizing and sorting them', () => {
        const store = new RegionStore((u) => u.toLowerCase());
        const changed: string[] = [];
        store.onDidChange((u) => changed.push(u));
        store.update({ uri: 'FILE:///A.py', regions: [{ id: 'b', range: r(9, 0, 9, 5), status: 'pending' }, { id: 'a', range: r(1, 0, 2, 0), status: 'pending' }] });
        expect(store.regions('file:///a.py').map((x) => x.id)).toEqual(['a', 'b']);
        store.update({ uri: 'file:///a.py', regions: [{ id: 'c', range: r(3, 0, 4, 0), status: 'pending' }] });
        expect(store.regions('file:///a.py').map((x) => x.id)).toEqual(['c']);
        store.update({ uri: 'file:///a.py', regions: [] });
        expect(store.regions('file:///a.py')).toEqual([]);
        expect(changed).toEqual(['file:///a.py', 'file:///a.py', 'file:///a.py']);
    });

    it('finds the pending region at the cursor, ends included, smallest when nested', () => {
        const store = new RegionStore();
        store.update({
            uri: 'u',
            regions: [
                { id: 'outer', range: r(0, 0, 10, 0), status: 'pending' },
                { id: 'inner', range: r(2, 4, 3, 1), status: 'pending' },
                { id: 'done', range: r(20, 0, 21, 0), status: 'accepted' },
            ],
        });
        expect(store.pendingAt('u', { line: 2, character: 5 })?.id).toBe('inner');
        expect(store.pendingAt('u', { line: 3, character: 1 })?.id).toBe('inner');
        expect(store.pendingAt('u', { line: 5, character: 0 })?.id).toBe('outer');
        expect(store.pendingAt('u', { line: 10, character: 1 })).toBeUndefined();
        expect(store.pendingAt('u', { line: 20, character: 3 })).toBeUndefined();
        expect(store.regionAt('u', { line: 20, character: 3 })?.id).toBe('done');
        expect(store.pendingAt('other', { line: 0, character: 0 })).toBeUndefined();
        expect(store.find('inner')?.uri).toBe('u');
        expect(store.find('zzz')).toBeUndefined();
    });

    it('clear() empties every document and tells listeners', () => {
        const store = new RegionStore();
        store.update({ uri: 'a', regions: [{ id: '1', range: r(0, 0, 0, 1), status: 'pending' }] });
        store.update({ uri: 'b', regions: [{ id: '2', range: r(0, 0, 0, 1), status: 'pending' }] });
        const changed: string[] = [];
        store.onDidChange((u) => changed.push(u));
        store.clear();
        expect(changed.sort()).toEqual(['a', 'b']);
        expect(store.regions('a')).toEqual([]);
    });
});

describe('what is drawn', () => {
    const regions = [
        { id: 'p', range: r(1, 2, 4, 0), status: 'pending' },
        { id: 'x', range: r(6, 0, 7, 0), status: 'rejected' },
    ];

    it('decorates pending regions only', () => {
        expect(decorationRanges(regions)).toEqual([r(1, 2, 4, 0)]);
    });

    it('puts Accept, Reject and Diff above each pending region with its id', () => {
        const lenses = lensSpecs(regions);
        expect(lenses.map((l) => l.command)).toEqual(['editloop.accept', 'editloop.reject', 'editloop.diff']);
        expect(lenses.every((l) => l.line === 1 && l.args[0].regionId === 'p')).toBe(true);
        expect(lenses.map((l) => l.title)).toEqual(['$(check) Accept', '$(close) Reject', '$(diff) Diff']);
    });

    it('rebuilds the original document text around a region', () => {
        expect(spliceText('abc NEW def', 4, 7, 'OLD')).toBe('abc OLD def');
        expect(spliceText('abc', 10, 20, 'x')).toBe('abcx');
        expect(spliceText('abc', 2, 1, 'x')).toBe('abxc');
    });

    it('rangeContains includes both ends', () => {
        expect(rangeContains(r(1, 0, 1, 5), { line: 1, character: 5 })).toBe(true);
        expect(rangeContains(r(1, 0, 1, 5), { line: 1, character: 6 })).toBe(false);
    });
});
