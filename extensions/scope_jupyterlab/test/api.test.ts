import { describe, expect, it } from 'vitest';

import {
  actionsFor,
  allTags,
  apiPath,
  canWrite,
  contentText,
  diffLines,
  editorSnippet,
  errorFromResponse,
  formatCost,
  insertSnippet,
  Prompt,
  ScopeClient,
  ScopeError,
  Version
} from '../src/api';

const prompt: Prompt = { name: 'greeting', tags: ['support'], production_version: 1, latest_version: 2 };

function version(number: number, status: Version['status'], variables: string[] = []): Version {
  return { prompt: 'greeting', number, status, content: 'Hi', variables, created_at: '2026-11-26T10:00:00Z' };
}

/** A fetcher that records calls and answers from a table, as the Jupyter server would. */
function fakeServer(answers: Record<string, [number, unknown]>) {
  const calls: { path: string; init?: RequestInit }[] = [];
  const fetcher = async (path: string, init?: RequestInit): Promise<Response> => {
    calls.push({ path, init });
    const [status, body] = answers[path] ?? [404, { error: { code: 'not_found', message: `no ${path}` } }];
    return new Response(body === null ? null : JSON.stringify(body), { status });
  };
  return { calls, client: new ScopeClient(fetcher) };
}

describe('apiPath', () => {
  it('leaves out empty query values and encodes the rest', () => {
    expect(apiPath('prompts', { q: '', tag: 'a b', limit: 200 })).toBe('scope/api/prompts?tag=a+b&limit=200');
    expect(apiPath('/me')).toBe('scope/api/me');
  });
});

describe('ScopeClient', () => {
  it('lists prompts through the proxy with search and tag', async () => {
    const { calls, client } = fakeServer({
      'scope/api/prompts?q=greet&tag=support&limit=200': [200, { data: [prompt], next_cursor: null }]
    });
    expect(await client.prompts('greet', 'support')).toEqual([prompt]);
    expect(calls[0].path).toBe('scope/api/prompts?q=greet&tag=support&limit=200');
  });

  it('POSTs a promotion to the version path', async () => {
    const { calls, client } = fakeServer({
      'scope/api/prompts/greeting/versions/2/promote': [200, version(2, 'published')]
    });
    const result = await client.transition('greeting', 2, 'promote');
    expect(result.status).toBe('published');
    expect(calls[0].init?.method).toBe('POST');
  });

  it("turns a 403 into a message about the role, keeping Scope's reason", async () => {
    const { client } = fakeServer({
      'scope/api/prompts/greeting/versions/2/archive': [403, { error: { code: 'forbidden', message: 'needs prompts:write' } }]
    });
    const failure = client.transition('greeting', 2, 'archive');
    await expect(failure).rejects.toBeInstanceOf(ScopeError);
    await expect(failure).rejects.toThrow(/Not allowed: your role cannot do this \(needs prompts:write\)/);
  });

  it("shows the proxy's message when Scope is unreachable", async () => {
    const { client } = fakeServer({
      'scope/api/me': [502, { error: { code: 'scope_unreachable', message: 'Scope is unreachable at http://x' } }]
    });
    await expect(client.me()).rejects.toMatchObject({ status: 502, code: 'scope_unreachable', message: 'Scope is unreachable at http://x' });
  });

  it('still gives a message when the body is not JSON or the network fails', async () => {
    const html = new ScopeClient(async () => new Response('<html>bad gateway</html>', { status: 504 }));
    await expect(html.me()).rejects.toThrow('Scope answered HTTP 504.');
    const down = new ScopeClient(async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(down.prompts()).rejects.toThrow(/Cannot reach the Jupyter server/);
  });

  it('saves settings with a POST body holding the URL and key', async () => {
    const { calls, client } = fakeServer({ 'scope/settings': [200, { base_url: 'http://s', has_api_key: true }] });
    expect(await client.saveSettings('http://s', 'k')).toEqual({ base_url: 'http://s', has_api_key: true });
    expect(JSON.parse(String(calls[0].init?.body))).toEqual({ base_url: 'http://s', api_key: 'k' });
  });
});

describe('pure helpers', () => {
  it('offers the transitions each status allows', () => {
    expect(actionsFor(version(1, 'draft'))).toEqual(['promote', 'archive']);
    expect(actionsFor(version(1, 'published'))).toEqual(['archive']);
    expect(actionsFor(version(1, 'archived'))).toEqual(['unarchive']);
  });

  it('lets only roles with prompts:write change versions', () => {
    expect(canWrite({ role: 'viewer', permissions: ['prompts:read'] })).toBe(false);
    expect(canWrite({ role: 'editor', permissions: ['prompts:read', 'prompts:write'] })).toBe(true);
  });

  it('collects tags once, sorted', () => {
    expect(allTags([prompt, { ...prompt, name: 'b', tags: ['billing', 'support'] }])).toEqual(['billing', 'support']);
  });

  it('shows chat content as role-labelled text', () => {
    expect(contentText([{ role: 'system', content: 'Be brief' }, { role: 'user', content: 'Hi {{ name }}' }]))
      .toBe('[system]\nBe brief\n\n[user]\nHi {{ name }}');
  });

  it('diffs lines, keeping the common ones', () => {
    expect(diffLines('a\nb\nc', 'a\nc\nd')).toEqual([
      { kind: 'same', text: 'a' },
      { kind: 'removed', text: 'b' },
      { kind: 'same', text: 'c' },
      { kind: 'added', text: 'd' }
    ]);
    expect(diffLines('same', 'same')).toEqual([{ kind: 'same', text: 'same' }]);
  });

  it('writes the SDK cells for insert and editor', () => {
    expect(insertSnippet(prompt)).toBe(
      'from scope_lab import Scope\n\nscope = Scope()\nprompt = scope.prompts.get("greeting")\nprompt.render()'
    );
    expect(insertSnippet(prompt, ['name', 'city'])).toContain(
      'scope.prompts.get("greeting")\n# prompt.render(name=..., city=...)'
    );
    expect(editorSnippet(prompt)).toContain('PromptEditor(Scope(), "greeting")');
  });

  it('formats costs for small and missing amounts', () => {
    expect(formatCost(null)).toBe('—');
    expect(formatCost(0)).toBe('$0');
    expect(formatCost(0.00012)).toBe('$0.00012');
    expect(formatCost(1.5)).toBe('$1.50');
  });

  it('maps errors without a Scope body to the status', () => {
    expect(errorFromResponse(500, null).message).toBe('Scope answered HTTP 500.');
  });
});
