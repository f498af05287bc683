/**
 * A guess of the artifact type of a document, from its languageId and, for Mermaid, the diagram
 * keyword. The server decides what a type means; these are the names it reports in its stats.
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
    { id: 'python', label: 'Python' },
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
