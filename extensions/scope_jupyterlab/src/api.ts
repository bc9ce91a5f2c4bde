/**
 * The panel's data layer: typed calls to the Jupyter server extension's proxy
 * (`/scope/...`), and the pure functions the view is built from. Nothing here touches
 * the DOM or JupyterLab, so it is unit-tested in plain Node (see test/api.test.ts).
 */

/** One chat message of a chat prompt. */
export interface ChatMessage {
  role: string;
  content: string;
}

export interface Prompt {
  name: string;
  description?: string | null;
  tags: string[];
  production_version: number | null;
  latest_version: number | null;
}

export type VersionStatus = 'draft' | 'published' | 'archived';

export interface Version {
  prompt: string;
  number: number;
  status: VersionStatus;
  content: string | ChatMessage[];
  variables: string[];
  message?: string | null;
  created_by?: string | null;
  created_at: string;
}

export interface Me {
  role: string;
  permissions: string[];
  tenant?: string;
}

export interface Execution {
  id: string;
  prompt: string;
  version: number;
  model: string;
  status: string;
  cost_usd: number | null;
  created_at: string;
}

export interface Run {
  id: string;
  status: string;
  golden_set?: string;
  prompt?: string;
  progress?: { done: number; total: number; failed: number };
  spent_usd?: number | null;
  created_at?: string;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** What the server extension tells about its connection; never the key itself. */
export interface ConnectionSettings {
  base_url: string | null;
  has_api_key: boolean;
}

/** A failed call, with a message fit to show a person. */
export class ScopeError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string = 'error'
  ) {
    super(message);
    this.name = 'ScopeError';
  }
}

/** Sends a request to the Jupyter server (path relative to the server's base URL). */
export type Fetcher = (path: string, init?: RequestInit) => Promise<Response>;

/** Turn a non-2xx answer into a message a person can act on. */
export function errorFromResponse(status: number, body: unknown): ScopeError {
  const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
  const message = error?.message;
  const code = error?.code ?? 'error';
  if (status === 403) {
    return new ScopeError(
      status,
      `Not allowed: your role cannot do this${message ? ` (${message})` : ''}.`,
      code
    );
  }
  if (message) {
    return new ScopeError(status, message, code);
  }
  return new ScopeError(status, `Scope answered HTTP ${status}.`, code);
}

/** The proxy's path for an API path and query (empty values left out). */
export function apiPath(
  path: string,
  query: Record<string, string | number | undefined | null> = {}
): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') {
      params.set(key, String(value));
    }
  }
  const search = params.toString();
  return `scope/api/${path.replace(/^\/+/, '')}${search ? `?${search}` : ''}`;
}

/** Calls to Scope through the Jupyter server extension. */
export class ScopeClient {
  constructor(private readonly fetcher: Fetcher) {}

  private async request<T>(path: string, init?: RequestInit): Promise<T> {
    let response: Response;
    try {
      response = await this.fetcher(path, init);
    } catch (err) {
      throw new ScopeError(0, `Cannot reach the Jupyter server: ${String(err)}`);
    }
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (!response.ok) {
      throw errorFromResponse(response.status, body);
    }
    return body as T;
  }

  /** The server extension's connection settings. */
  settings(): Promise<ConnectionSettings> {
    return this.request('scope/settings');
  }

  /** Set the Scope URL and key for this Jupyter server session. */
  saveSettings(baseUrl: string, apiKey: string): Promise<ConnectionSettings> {
    return this.request('scope/settings', {
      method: 'POST',
      body: JSON.stringify({ base_url: baseUrl, api_key: apiKey })
    });
  }

  me(): Promise<Me> {
    return this.request(apiPath('me'));
  }

  async prompts(q = '', tag = ''): Promise<Prompt[]> {
    const page = await this.request<Page<Prompt>>(apiPath('prompts', { q, tag, limit: 200 }));
    return page.data;
  }

  async versions(name: string): Promise<Version[]> {
    const page = await this.request<Page<Version>>(
      apiPath(`prompts/${encodeURIComponent(name)}/versions`, { limit: 200 })
    );
    return page.data;
  }

  /** Promote, archive or unarchive one version. */
  transition(name: string, number: number, action: VersionAction): Promise<Version> {
    return this.request(
      apiPath(`prompts/${encodeURIComponent(name)}/versions/${number}/${action}`),
      { method: 'POST', body: '{}' }
    );
  }

  async executions(limit = 10): Promise<Execution[]> {
    return (await this.request<Page<Execution>>(apiPath('executions', { limit }))).data;
  }

  async runs(limit = 10): Promise<Run[]> {
    return (await this.request<Page<Run>>(apiPath('runs', { limit }))).data;
  }
}

export type VersionAction = 'promote' | 'archive' | 'unarchive';

/** The actions a version's status allows (the server enforces the same transitions). */
export function actionsFor(version: Version): VersionAction[] {
  switch (version.status) {
    case 'draft':
      return ['promote', 'archive'];
    case 'published':
      return ['archive'];
    case 'archived':
      return ['unarchive'];
  }
}

/** Whether the signed-in role may change versions (unknown: let the server decide). */
export function canWrite(me: Me | null): boolean {
  return me === null || me.permissions.includes('prompts:write');
}

/** Every tag used by the prompts, sorted, once each. */
export function allTags(prompts: Prompt[]): string[] {
  return [...new Set(prompts.flatMap(p => p.tags))].sort();
}

/** A prompt's or version's content as plain text (chat messages one after another). */
export function contentText(content: string | ChatMessage[]): string {
  if (typeof content === 'string') {
    return content;
  }
  return content.map(m => `[${m.role}]\n${m.content}`).join('\n\n');
}

export interface DiffLine {
  kind: 'same' | 'added' | 'removed';
  text: string;
}

/** A line diff from `before` to `after` (longest common subsequence). */
export function diffLines(before: string, after: string): DiffLine[] {
  const a = before.split('\n');
  const b = after.split('\n');
  // lcs[i][j]: length of the longest common subsequence of a[i:] and b[j:].
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push({ kind: 'same', text: a[i] });
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
      out.push({ kind: 'removed', text: a[i++] });
    } else {
      out.push({ kind: 'added', text: b[j++] });
    }
  }
  a.slice(i).forEach(text => out.push({ kind: 'removed', text }));
  b.slice(j).forEach(text => out.push({ kind: 'added', text }));
  return out;
}

/** Python string literal for a prompt name (names are `[a-z0-9._-]`, but be safe). */
function pyString(value: string): string {
  return JSON.stringify(value);
}

/**
 * The code cell "Insert into notebook" adds: fetch the production version with the SDK
 * and render it. With variables the render line is left for the user to fill in, so the
 * inserted cell always runs as it is.
 */
export function insertSnippet(prompt: Prompt, variables: string[] = []): string {
  const args = variables.map(v => `${v}=...`).join(', ');
  return [
    'from scope_lab import Scope',
    '',
    'scope = Scope()',
    `prompt = scope.prompts.get(${pyString(prompt.name)})`,
    variables.length ? `# prompt.render(${args})` : 'prompt.render()'
  ].join('\n');
}

/** The code cell "Open in editor" adds: the PromptEditor widget on this prompt. */
export function editorSnippet(prompt: Prompt): string {
  return [
    'from scope_lab import Scope',
    'from scope_lab.widgets import PromptEditor',
    '',
    `PromptEditor(Scope(), ${pyString(prompt.name)})`
  ].join('\n');
}

/** A cost in USD for a list: small amounts keep their precision. */
export function formatCost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) {
    return '—';
  }
  if (usd === 0) {
    return '$0';
  }
  return usd < 0.01 ? `$${usd.toPrecision(2)}` : `$${usd.toFixed(2)}`;
}
