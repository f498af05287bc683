/** A small Uri for tests: parse/file/from/joinPath/toString, enough for region keys and paths. */
export class URI {
    private constructor(
        readonly scheme: string,
        readonly authority: string,
        readonly path: string,
        readonly query: string,
        readonly fragment: string,
    ) {}

    static parse(value: string): URI {
        const m = /^([a-zA-Z][\w+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(value);
        if (!m) {
            throw new Error(`not a URI: ${value}`);
        }
        return new URI(m[1], m[2] ?? '', decodeURIComponent(m[3]), m[4] ?? '', m[5] ?? '');
    }

    static file(path: string): URI {
        return new URI('file', '', path, '', '');
    }

    static from(c: { scheme: string; authority?: string; path?: string; query?: string; fragment?: string }): URI {
        return new URI(c.scheme, c.authority ?? '', c.path ?? '', c.query ?? '', c.fragment ?? '');
    }

    static joinPath(base: URI, ...parts: string[]): URI {
        return new URI(base.scheme, base.authority, [base.path.replace(/\/$/, ''), ...parts].join('/'), base.query, base.fragment);
    }

    get fsPath(): string {
        return this.path;
    }

    with(change: Partial<{ scheme: string; path: string; query: string }>): URI {
        return new URI(change.scheme ?? this.scheme, this.authority, change.path ?? this.path, change.query ?? this.query, this.fragment);
    }

    toString(): string {
        const path = this.path.split('/').map(encodeURIComponent).join('/');
        return `${this.scheme}:${this.scheme === 'file' || this.authority ? '//' + this.authority : ''}${path}${this.query ? '?' + this.query : ''}${this.fragment ? '#' + this.fragment : ''}`;
    }

    toJSON() {
        return this.toString();
    }
}
