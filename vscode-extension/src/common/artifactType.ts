/**
 * Artifact types on the extension's side: a guess from the languageId and, for Mermaid, the diagram
 * keyword; whether the server can infer the type itself (then Generate does not ask); and the
 * user's last answer per file, offered first the next time it must ask. The server decides what a
 * type means and accepts aliases (`erd`, `mermaid`, ...); these are the names it reports in its stats.
 */

export interface ArtifactTypeChoice {
    id: string;
    label: string;
}

export const ARTIFACT_TYPES: readonly ArtifactTypeChoice[] = [
    { id: 'mermaid-erd', label: 'Mermaid ER diagram' },
    { id: 'mermaid-flowchart', label: 'Mermaid flowchart' },
    { id: 'mermaid-sequence', label: 'Mermaid sequence diagram' },
    { id: 'mermaid-class', label: 'Mermaid class diagram' },
    { id: 'mermaid', label: 'Another Mermaid diagram' },
    { id: 'python', label: 'Python' },
    { id: 'python-dataclass', label: 'Python dataclass' },
    { id: 'typescript', label: 'TypeScript' },
    { id: 'javascript', label: 'JavaScript' },
    { id: 'sql', label: 'SQL' },
    { id: 'code', label: 'Other code' },
];

const BY_LANGUAGE: Record<string, string> = {
    python: 'python',
    typescript: 'typescript',
    typescriptreact: 'typescript',
    javascript: 'javascript',
    javascriptreact: 'javascript',
    sql: 'sql',
};

const MERMAID_KEYWORDS: [RegExp, string][] = [
    [/^\s*erDiagram\b/m, 'mermaid-erd'],
    [/^\s*(flowchart|graph)\b/m, 'mermaid-flowchart'],
    [/^\s*sequenceDiagram\b/m, 'mermaid-sequence'],
    [/^\s*classDiagram\b/m, 'mermaid-class'],
];

/**
 * The artifact type of a document, or undefined when it cannot be told (the caller asks the user).
 * `text` is the document's (or selection's) text, used for Mermaid files and Markdown fences.
 */
export function guessArtifactType(languageId: string, text: string): string | undefined {
    const byLanguage = BY_LANGUAGE[languageId];
    if (byLanguage) {
        return byLanguage;
    }
    const isMermaid = languageId === 'mermaid' || languageId === 'mmd' || /```mermaid/.test(text);
    if (isMermaid || languageId === 'markdown') {
        for (const [re, type] of MERMAID_KEYWORDS) {
            if (re.test(text)) {
                return type;
            }
        }
    }
    return undefined;
}

/** What the extension knows of a document when it decides whether to ask. */
export interface DocumentFacts {
    languageId: string;
    /** The document's URI path (its file name's extension counts). */
    path: string;
    /** The document's text (its head is enough). */
    text: string;
}

/** Languages whose type the server infers (server: signals/artifacts.py LANGUAGE_TYPES). */
const SERVER_LANGUAGES = new Set(['mermaid', ...Object.keys(BY_LANGUAGE)]);
const MERMAID_FENCE = /^\s*(```|~~~)\s*mermaid\b/m;

function isMermaidFile(doc: DocumentFacts): boolean {
    return doc.languageId === 'mermaid' || /\.(mmd|mermaid)$/i.test(doc.path);
}

/**
 * True when `editloop.generate` without `artifactType` gets the right type from the server: a
 * .mmd/.mermaid file or a mermaid language id (the diagram keyword, or "mermaid" in a new file),
 * Markdown with a ```mermaid fence, or a language the server knows. Otherwise it would guess
 * "code", and the extension asks the user instead.
 */
export function serverInfersType(doc: DocumentFacts): boolean {
    if (isMermaidFile(doc) || SERVER_LANGUAGES.has(doc.languageId)) {
        return true;
    }
    return (doc.languageId === 'markdown' || /\.(md|markdown)$/i.test(doc.path)) && MERMAID_FENCE.test(doc.text.slice(0, 16_000));
}

/**
 * The type to send with `editloop.track` for a selection without asking, or undefined (ask): the
 * guess from the language and the selection's own diagram keyword; in a Mermaid file or Markdown
 * with a mermaid fence, the document's diagram keyword (a selection is often a fragment of the
 * diagram), else `mermaid` (the server refines it from the selected text).
 */
export function trackTypeFor(doc: DocumentFacts, selection: string): string | undefined {
    const languageId = isMermaidFile(doc) ? 'mermaid' : doc.languageId;
    const guess = guessArtifactType(languageId, selection);
    if (guess) {
        return guess;
    }
    return serverInfersType(doc) ? (guessArtifactType(languageId, doc.text.slice(0, 16_000)) ?? 'mermaid') : undefined;
}

/** The part of a vscode.Memento the answers are kept in (the workspace state). */
export interface MementoLike {
    get<T>(key: string): T | undefined;
    update(key: string, value: unknown): Thenable<void>;
}

export const REMEMBERED_KEY = 'editloop.artifactTypeByUri';
/** "Let the server decide", remembered like a type. */
export const SERVER_DECIDES = 'auto';
const MAX_REMEMBERED = 500;

/** The user's last answer for this file: a type id, SERVER_DECIDES, or undefined. */
export function rememberedType(memento: MementoLike, uri: string): string | undefined {
    const all = memento.get<Record<string, unknown>>(REMEMBERED_KEY);
    const value = all && typeof all === 'object' ? all[uri] : undefined;
    return typeof value === 'string' && value ? value : undefined;
}

/** Remembers the answer for this file (the newest MAX_REMEMBERED files are kept). */
export async function rememberType(memento: MementoLike, uri: string, type: string): Promise<void> {
    const stored = memento.get<Record<string, unknown>>(REMEMBERED_KEY);
    const all: Record<string, unknown> = stored && typeof stored === 'object' ? { ...stored } : {};
    delete all[uri]; // re-inserted last: the newest
    all[uri] = type;
    const keys = Object.keys(all);
    for (const old of keys.slice(0, Math.max(0, keys.length - MAX_REMEMBERED))) {
        delete all[old];
    }
    await memento.update(REMEMBERED_KEY, all);
}

export interface TypeChoice {
    label: string;
    description: string;
    /** A type id, or SERVER_DECIDES. */
    id: string;
}

/**
 * The picker's entries: the types (and "Let the server decide" when allowed), with this file's
 * last answer moved first and marked, so Enter repeats it.
 */
export function typeChoices(languageId: string, allowServerChoice: boolean, remembered: string | undefined): TypeChoice[] {
    const items: TypeChoice[] = ARTIFACT_TYPES.map((t) => ({ label: t.label, description: t.id, id: t.id }));
    if (allowServerChoice) {
        items.unshift({ label: 'Let the server decide', description: `from the language (${languageId})`, id: SERVER_DECIDES });
    }
    const i = remembered === undefined ? -1 : items.findIndex((t) => t.id === remembered);
    if (i >= 0) {
        const [last] = items.splice(i, 1);
        items.unshift({ ...last, description: `${last.description} · your last answer for this file` });
    }
    return items;
}
